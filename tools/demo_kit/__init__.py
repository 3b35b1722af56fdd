"""The parts of ``tools/demo.py`` (``make demo``), one job per module.

- :mod:`.settings`: repository paths and the demo's fixed choices (classes, prompts, default config);
- :mod:`.cli`: the command line and the synthesis overrides it carries;
- :mod:`.target`: loading and checking the target data, choosing the class subset;
- :mod:`.data_layer`: the ``--data-only`` drawings (MSR summary, grid, retargeting, seed corpus);
- :mod:`.previews`: GIFs of generated samples (zero-shot preview, real shots next to synthetic ones);
- :mod:`.classifier`: the MMEngine plumbing of the two classifier arms (in-memory dataset, progress hook);
- :mod:`.report`: the results dict, its markdown and the console table;
- :mod:`.pipeline`: the full run, steps 2-5 of ``tools/demo.py``'s docstring.

It lives next to the tool rather than in ``kinemic_aug``: it is demo code (it wires ``har`` and MMEngine
to the augmenter for one fixed comparison), not library code, and it is not installed.
"""
