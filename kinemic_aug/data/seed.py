"""The shipped seed motion corpus: real human motion in SMPL-22 at 20 fps, with authored captions.

No text-annotated motion dataset can be downloaded from a package registry (HumanML3D, AMASS and
KIT-ML need licence agreements), yet adapting and testing a text-to-motion generator needs *some*
real motion with descriptions. The seed corpus is the real motion that registries do carry: the
DeepMimic clips in the ``pybullet`` wheel (zlib/MIT) and two CMU mocap takes in Debian's
``assimp-testmodels`` (CMU: free to use with acknowledgement), converted to the canonical layout
by ``tools/build_seed_corpus.py``. Only the derived arrays are shipped (``assets/seed``); the
captions were written by this project (``meta['caption_origin'] == 'authored'``), not taken from
any dataset. See ``assets/seed/NOTICE.md`` for licences and how to rebuild.

The corpus file is verified against ``manifest.json`` on every load, so an edited or truncated
asset fails loudly with :class:`~kinemic_aug.errors.CacheError` instead of feeding altered motion to
training.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Optional, Union

from ..errors import CacheError
from ..utils.io import sha256_file
from .corpus import MotionCorpus

#: Folder of the shipped seed assets (``seed_corpus.npz``, ``manifest.json``, ``NOTICE.md``).
SEED_ASSET_DIR: Path = Path(__file__).resolve().parent.parent / "assets" / "seed"
SEED_CORPUS_FILE = "seed_corpus.npz"
SEED_MANIFEST_FILE = "manifest.json"

REBUILD_HINT = ("rebuild it with `python tools/build_seed_corpus.py` (downloads the pybullet wheel and "
                "Debian's assimp-testmodels, checks their sha256) or restore the file from the package")


def default_workdir() -> Path:
    """Where ``tools/build_seed_corpus.py`` keeps its downloads: ``$KINEMIC_SEED_WORKDIR`` or
    ``$XDG_CACHE_HOME/kinemic_aug/seed_sources`` (``~/.cache/...``)."""
    env = os.environ.get("KINEMIC_SEED_WORKDIR")
    if env:
        return Path(env)
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "kinemic_aug" / "seed_sources"


def read_seed_manifest(asset_dir: Optional[Union[str, Path]] = None) -> dict:
    """The manifest that records the corpus checksum and per-clip frame counts."""
    d = Path(asset_dir) if asset_dir is not None else SEED_ASSET_DIR
    path = d / SEED_MANIFEST_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CacheError(f"{path}: seed manifest missing; {REBUILD_HINT}") from None
    except (OSError, ValueError) as e:
        raise CacheError(f"{path}: unreadable seed manifest ({e}); {REBUILD_HINT}") from e


def load_seed_corpus(asset_dir: Optional[Union[str, Path]] = None, *, verify: bool = True) -> MotionCorpus:
    """Load the seed corpus (SMPL-22, 20 fps, ``synthetic=False``).

    Args:
        asset_dir: folder holding ``seed_corpus.npz`` and ``manifest.json``; defaults to the
            package's :data:`SEED_ASSET_DIR`.
        verify: compare the file's sha256 and clip frame counts with the manifest.

    Raises:
        CacheError: the file is missing, altered or corrupt (the message says how to rebuild).
    """
    d = Path(asset_dir) if asset_dir is not None else SEED_ASSET_DIR
    path = d / SEED_CORPUS_FILE
    if not path.is_file():
        raise CacheError(f"{path}: seed corpus missing; {REBUILD_HINT}")
    if verify:
        manifest = read_seed_manifest(d)
        want = manifest.get("sha256")
        got = sha256_file(path)
        if got != want:
            raise CacheError(f"{path}: sha256 {got} does not match manifest.json ({want}); the file was altered "
                             f"or truncated; {REBUILD_HINT}")
    corpus = MotionCorpus.load(path)
    if verify:
        frames = {c["name"]: int(c["frames"]) for c in manifest.get("clips", [])}
        actual = {c.name: c.num_frames for c in corpus}
        if frames != actual:
            raise CacheError(f"{path}: clip names or frame counts differ from manifest.json; {REBUILD_HINT}")
    corpus.name = "seed"
    return corpus
