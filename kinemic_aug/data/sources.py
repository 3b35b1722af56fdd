"""Name a motion corpus with one string: a ``.npz`` path, ``seed``, or ``procedural:N[:SEED]``.

Tools and configs take corpus *specs* so that the generalist's training data is reproducible from
a command line: ``seed+procedural:4000:0`` is the shipped real seed clips plus 4000 procedural
(synthetic) clips drawn with seed 0, identical on every machine.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

from ..errors import DataError
from .corpus import MotionCorpus

DEFAULT_GENERALIST_CORPUS = "seed+procedural:4000:0"


def load_corpus(spec: str) -> MotionCorpus:
    """Load one spec or several joined by ``+`` (concatenated in order)."""
    parts: List[MotionCorpus] = []
    for item in [s.strip() for s in str(spec).split("+") if s.strip()]:
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
    out.name = str(spec)
    return out
