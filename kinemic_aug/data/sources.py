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

from pathlib import Path
from typing import List

from ..errors import DataError
from .corpus import MotionCorpus

DEFAULT_GENERALIST_CORPUS = "seed+procedural:4000:0+segments"
SEGMENTS = "segments"


def load_corpus(spec: str) -> MotionCorpus:
    """Load one spec or several joined by ``+`` (concatenated in order); a last item ``segments``
    expands the whole concatenation into chained clips plus their segment sub-clips."""
    parts: List[MotionCorpus] = []
    items = [s.strip() for s in str(spec).split("+") if s.strip()]
    segments = bool(items) and items[-1] == SEGMENTS
    if segments:
        items = items[:-1]
    for item in items:
        if item == SEGMENTS:
            raise DataError(f"'{SEGMENTS}' expands the whole corpus and must come last in the spec, got {spec!r}",
                            field="corpus")
        if item == "seed":
            from .seed import load_seed_corpus
            parts.append(load_seed_corpus())
        elif item.startswith("procedural"):
            from .procedural import generate_corpus
            bits = item.split(":")
            try:
                n = int(bits[1]) if len(bits) > 1 else 2000
                seed = int(bits[2]) if len(bits) > 2 else 0
            except ValueError:
                raise DataError(f"expected 'procedural:N[:SEED]', got {item!r}", field="corpus") from None
            parts.append(generate_corpus(n, seed))
        else:
            p = Path(item)
            if not p.exists():
                raise DataError(f"corpus file not found: {p} (or use 'seed' / 'procedural:N:SEED')", field="corpus")
            parts.append(MotionCorpus.load(p))
    if not parts:
        raise DataError(f"empty corpus spec {spec!r}", field="corpus")
    out = parts[0]
    for p in parts[1:]:
        out = out.concat(p)
    if segments:
        from .procedural import expand_segments
        out = expand_segments(out)
    out.name = str(spec)
    return out
