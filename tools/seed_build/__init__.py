"""The steps of ``tools/build_seed_corpus.py``, one module each.

:mod:`.recorded` pins the downloads, source files, licences and output format; :mod:`.clips` is the
authored clip table; :mod:`.fetch` downloads and checks the sources; :mod:`.geometry` and
:mod:`.convert` turn source files into SMPL-22 clips; :mod:`.outputs` writes the shipped assets.
The script assembles them and re-exports their names.
"""

