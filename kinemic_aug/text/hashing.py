"""``HashingTextEncoder``: a deterministic bag of hashed words and character n-grams. FOR UNIT TESTS ONLY.

It has no notion of meaning ("kick" and "punch" are as far apart as "kick" and "sofa"); it exists so
that cache, pairing and tool tests run in milliseconds without model weights. Its identifier starts
with ``hashing-test-only`` so that a result produced with it can never be mistaken for a real one.
"""
from __future__ import annotations

import hashlib
import re
from typing import List

import numpy as np

from .base import TextEncoder

_WORD = re.compile(r"[a-z0-9]+")


class HashingTextEncoder(TextEncoder):
    """Signed feature hashing of lower-cased words (weight 1) and character n-grams (weight
    ``ngram_weight``) into ``dim`` buckets. Deterministic across processes and platforms (blake2b,
    not Python's salted ``hash``). Test-only: see the module docstring."""

    name = "hashing"
    coverage_floor = 0.2

    def __init__(self, dim: int = 256, ngram: int = 3, ngram_weight: float = 0.5, batch_size: int = 256,
                 device: str = "cpu", **kw):
        super().__init__(batch_size=batch_size, **kw)  # device: taken like the network encoders' (no network here)
        if dim < 8 or ngram < 1:
            raise ValueError("dim must be >= 8 and ngram >= 1")
        self._dim = int(dim)
        self.ngram = int(ngram)
        self.ngram_weight = float(ngram_weight)

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def identifier(self) -> str:
        return f"hashing-test-only:v1:dim={self._dim}:ngram={self.ngram}:w={self.ngram_weight:g}"

    def _features(self, text: str) -> List[tuple]:
        feats = []
        for w in _WORD.findall(text.lower()):
            feats.append(("w:" + w, 1.0))
            padded = f"<{w}>"
            for i in range(max(1, len(padded) - self.ngram + 1)):
                feats.append(("g:" + padded[i:i + self.ngram], self.ngram_weight))
        return feats

    def _encode_batch(self, texts: List[str]) -> np.ndarray:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for r, t in enumerate(texts):
            for feat, weight in self._features(t):
                h = int.from_bytes(hashlib.blake2b(feat.encode("utf-8"), digest_size=8).digest(), "little")
                sign = 1.0 if (h >> 63) & 1 else -1.0
                out[r, h % self._dim] += sign * weight
        return out
