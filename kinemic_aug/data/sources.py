"""Name a motion corpus with one string: a ``.npz`` path, ``seed``, or ``procedural:N[:SEED]``.

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
from typing import Any, List, Tuple

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
        elif item.startswith("procedural"):
            bits = item.split(":")
            try:
                n = int(bits[1]) if len(bits) > 1 else 2000
                seed = int(bits[2]) if len(bits) > 2 else 0
            except ValueError:
                raise DataError(f"expected 'procedural:N[:SEED]', got {item!r}", field="corpus") from None
            out.append(("procedural", (n, seed)))
        else:
            p = Path(item)
            if not p.exists():
                raise DataError(f"corpus file not found: {p} (or use 'seed' / 'procedural:N:SEED')", field="corpus")
            out.append(("file", p))
    if not out:
        raise DataError(f"empty corpus spec {spec!r}", field="corpus")
    return out, segments


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
        else:
            h.update(b"file:" + sha256_file(arg).encode())
    if segments:
        h.update(b"+segments")
    if procedural:
        code = Path(__file__).resolve().parent / "procedural"
        for f in sorted(code.glob("*.py")):
            h.update(f.name.encode() + f.read_bytes())
    return h.hexdigest()
