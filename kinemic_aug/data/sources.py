"""Name a motion corpus with one string: a ``.npz`` path, ``seed``, ``procedural:N[:SEED]``, a real
source (``bandai``, ``msrc12``, ``kinder_gator``, ``nw_ucla``, or the groups ``mocap`` = all four
and ``kinect`` = the three Kinect v1 ones), or ``humanml3d:<root>``.

A real source takes an optional part and data root: ``msrc12`` is its training part,
``msrc12:heldout`` the held-out subjects (the generator's validation set, never trained on),
``msrc12:all`` both; ``mocap@/data`` reads the datasets from ``/data`` instead of the default root
(``$KINEMIC_DATA_ROOT`` or ``../shared/data`` beside the checkout). The identity of a real source is
the sha256 of its pickle, its loader's code and the authored captions, so a cache key changes when
the data or the way it is read does; :func:`describe_corpus` records root, files and hashes.

Tools and configs take corpus *specs* so that the generalist's training data is reproducible from
a command line: ``seed+procedural:4000:0`` is the shipped real seed clips plus 4000 procedural
(synthetic) clips drawn with seed 0, identical on every machine. A trailing ``+segments``
(``seed+procedural:4000:0+segments``) adds every chained clip's single-action sub-clips with their
own captions (:func:`~kinemic_aug.data.procedural.expand_segments`), so the recipe stays one string.
The shipped generalist was trained on ``DEFAULT_GENERALIST_CORPUS`` (its last 3000 steps; the first 5000 on the
corpus without segments), and the augmenter pairs against it by default.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from ..errors import DataError
from .corpus import MotionCorpus

DEFAULT_GENERALIST_CORPUS = "seed+procedural:4000:0+segments"
SEGMENTS = "segments"


def _parse(spec: str) -> Tuple[List[Tuple[str, Any]], bool]:
    """``spec`` -> [(kind, arg)] with kind ``seed`` | ``procedural`` (arg ``(n, seed)``) | ``file``
    (arg a path), and whether ``segments`` ends it. Raises :class:`DataError` naming a bad item."""
    items = [s.strip() for s in str(spec).split("+") if s.strip()]
    segments = bool(items) and items[-1] == SEGMENTS
    if segments:
        items = items[:-1]
    out: List[Tuple[str, Any]] = []
    for item in items:
        if item == SEGMENTS:
            raise DataError(f"'{SEGMENTS}' expands the whole corpus and must come last in the spec, got {spec!r}",
                            field="corpus")
        if item == "seed":
            out.append(("seed", None))
        elif item.startswith("humanml3d:"):
            root = Path(item.split(":", 1)[1])
            if not root.is_dir():
                raise DataError(f"HumanML3D folder not found: {root}", field="corpus")
            out.append(("humanml3d", root))
        elif item.startswith("procedural"):
            bits = item.split(":")
            try:
                n = int(bits[1]) if len(bits) > 1 else 2000
                seed = int(bits[2]) if len(bits) > 2 else 0
            except ValueError:
                raise DataError(f"expected 'procedural:N[:SEED]', got {item!r}", field="corpus") from None
            out.append(("procedural", (n, seed)))
        elif (real := _real_item(item)) is not None:
            out.append(("real", real))
        else:
            p = Path(item)
            if not p.exists():
                raise DataError(f"corpus file not found: {p} (or use 'seed' / 'procedural:N:SEED')", field="corpus")
            out.append(("file", p))
    if not out:
        raise DataError(f"empty corpus spec {spec!r}", field="corpus")
    return out, segments


def _real_item(item: str) -> Optional[Tuple[Tuple[str, ...], str, Optional[str]]]:
    """``name[:part][@root]`` of a real source or group -> ``(sources, part, root)``; None otherwise."""
    from .corpora import GROUPS, PARTS, SOURCES, TARGET_DATASETS

    body, _, root = item.partition("@")
    name, _, part = body.partition(":")
    if name in TARGET_DATASETS:
        raise DataError(f"{name!r} is a benchmark target and never enters a corpus", field="corpus")
    if name not in SOURCES and name not in GROUPS:
        return None
    part = part or "train"
    if part not in PARTS:
        raise DataError(f"unknown part {part!r} in {item!r}; use one of {PARTS}", field="corpus")
    return GROUPS.get(name, (name,)), part, (root or None)


def load_corpus(spec: str) -> MotionCorpus:
    """Load one spec or several joined by ``+`` (concatenated in order); a last item ``segments``
    expands the whole concatenation into chained clips plus their segment sub-clips."""
    items, segments = _parse(spec)
    parts: List[MotionCorpus] = []
    for kind, arg in items:
        if kind == "seed":
            from .seed import load_seed_corpus
            parts.append(load_seed_corpus())
        elif kind == "procedural":
            from .procedural import generate_corpus
            parts.append(generate_corpus(*arg))
        elif kind == "real":
            from .corpora import load_source
            names, part, root = arg
            for n in names:
                parts.append(load_source(n, root, part))
        elif kind == "humanml3d":
            from .humanml3d import load_humanml3d_corpus
            parts.append(load_humanml3d_corpus(arg))
        else:
            parts.append(MotionCorpus.load(arg))
    out = parts[0]
    for p in parts[1:]:
        out = out.concat(p)
    if segments:
        from .procedural import expand_segments
        out = expand_segments(out)
    out.name = str(spec)
    return out


def corpus_identity(spec: str) -> str:
    """sha256 of what a spec's clips are made from, without making them: the seed and corpus files'
    bytes, the procedural items' ``(N, SEED)`` and the procedural generator's source code.

    :meth:`MotionCorpus.fingerprint` hashes the clips' floats, and procedural clips are computed
    (trigonometry, interpolation), so their last bits can differ between CPUs and numpy builds. Cache
    keys use this identity instead, so a cache built on one machine is found on another.
    """
    from ..utils.io import sha256_file

    items, segments = _parse(spec)
    h = hashlib.sha256()
    procedural = segments
    for kind, arg in items:
        if kind == "seed":
            from .seed import SEED_ASSET_DIR, SEED_CORPUS_FILE
            h.update(b"seed:" + sha256_file(Path(SEED_ASSET_DIR) / SEED_CORPUS_FILE).encode())
        elif kind == "procedural":
            h.update(f"procedural:{arg[0]}:{arg[1]}".encode())
            procedural = True
        elif kind == "real":
            for n in arg[0]:
                h.update(f"real:{n}:{arg[1]}:".encode() + _source_identity(n, arg[2]).encode())
        elif kind == "humanml3d":
            from .humanml3d import humanml3d_identity
            h.update(b"humanml3d:" + humanml3d_identity(arg).encode())
        else:
            h.update(b"file:" + sha256_file(arg).encode())
    if segments:
        h.update(b"+segments")
    if procedural:
        code = Path(__file__).resolve().parent / "procedural"
        for f in sorted(code.glob("*.py")):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


_FILE_HASHES: Dict[Tuple[str, int, int], str] = {}


def _hash_file_cached(path: Path) -> str:
    """sha256 of a (large) source file, memoised per path, size and mtime within the process."""
    from ..utils.io import sha256_file

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _FILE_HASHES:
        _FILE_HASHES[key] = sha256_file(path)
    return _FILE_HASHES[key]


def _source_identity(name: str, root: Optional[str]) -> str:
    """sha256 of a real source's pickle, its loader module (named like the source), the shared loader
    code and the captions."""
    from .corpora import SOURCE_INFO
    from .corpora import common

    info = SOURCE_INFO[name]
    path = info.path(root)
    if not path.is_file():
        raise DataError("source file not found", source=str(path), field="file")
    h = hashlib.sha256(_hash_file_cached(path).encode())
    code = Path(common.__file__).resolve().parent
    for f in (code / "common.py", code / f"{name}.py", common.CAPTIONS_FILE):
        h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()


def describe_corpus(spec: str) -> Dict[str, Any]:
    """Provenance of a spec without building it: for each real source its data root, file, sha256,
    part, held-out rule and terms; the spec's identity (:func:`corpus_identity`)."""
    items, segments = _parse(spec)
    out: Dict[str, Any] = {"spec": str(spec), "identity": corpus_identity(spec), "segments": segments, "sources": []}
    from .corpora import SOURCE_INFO, resolve_data_root
    for kind, arg in items:
        if kind != "real":
            out["sources"].append({"kind": kind, "arg": str(arg) if arg is not None else None})
            continue
        names, part, root = arg
        for n in names:
            info = SOURCE_INFO[n]
            path = info.path(root)
            out["sources"].append({"kind": "real", "source": info.name, "part": part,
                                   "root": str(resolve_data_root(root)), "file": str(path),
                                   "sha256": _hash_file_cached(path), "heldout": info.heldout,
                                   "licence": info.licence})
    return out


def heldout_spec(spec: str) -> str:
    """The held-out counterpart of a spec: every real item's ``:heldout`` part (other items dropped),
    e.g. ``mocap+seed`` -> ``mocap:heldout``. Raises :class:`DataError` when the spec has no real item."""
    out = []
    for item in [s.strip() for s in str(spec).split("+") if s.strip()]:
        real = _real_item(item) if item != SEGMENTS else None
        if real is None:
            continue
        body, _, root = item.partition("@")
        name = body.partition(":")[0]
        out.append(f"{name}:heldout" + (f"@{root}" if root else ""))
    if not out:
        raise DataError(f"spec {spec!r} has no real source with a held-out part", field="corpus")
    return "+".join(out)
