"""Caption vectors and their cosine scores: the numeric half of soft pairing.

A clip is the re-normalised mean of its caption vectors, a class is its captions' vectors, and a
score is a cosine; :mod:`.soft` turns the scores into top-k neighbours and a coverage report.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import DataError
from ..text.base import TextEncoder, l2_normalize
from ..text.labels import LabelSet

def clip_embeddings(captions: Sequence[Sequence[str]], encoder: TextEncoder) -> Tuple[np.ndarray, np.ndarray]:
    """(``[N, D]`` unit vectors, ``[N]`` bool has-caption) for per-clip caption lists.

    Every distinct caption is encoded once; a clip's vector is the re-normalised mean of its caption
    vectors; a clip with no caption gets a zero row and ``False``.
    """
    unique: Dict[str, int] = {}
    for i, caps in enumerate(captions):
        if isinstance(caps, str):
            raise DataError("expected a list of captions, got a str", sample=i, field="captions")
        for c in caps:
            if not isinstance(c, str):
                raise DataError(f"caption is {type(c).__name__}, expected str", sample=i, field="captions")
            if c.strip():
                unique.setdefault(c, len(unique))
    emb = encoder.encode(list(unique)) if unique else np.zeros((0, encoder.dim), np.float32)
    out = np.zeros((len(captions), encoder.dim), dtype=np.float32)
    valid = np.zeros(len(captions), dtype=bool)
    for i, caps in enumerate(captions):
        rows = [unique[c] for c in caps if c.strip()]
        if rows:
            out[i] = emb[rows].mean(0)
            valid[i] = True
    return l2_normalize(out), valid


def class_caption_embeddings(labels: LabelSet, encoder: TextEncoder) -> List[np.ndarray]:
    """Per class, the ``[n_captions, D]`` unit vectors of its captions (one batched encode call)."""
    flat = [c for e in labels for c in e.captions]
    emb = encoder.encode(flat)
    out, off = [], 0
    for e in labels:
        out.append(emb[off:off + len(e.captions)])
        off += len(e.captions)
    return out


def similarity_matrix(class_emb: Sequence[np.ndarray], clip_emb: np.ndarray, class_reduce: str = "mean",
                      class_names: Optional[Sequence[str]] = None) -> np.ndarray:
    """``[C, N]`` cosine between classes (per-class caption vectors) and unit clip vectors.

    ``mean``: one query per class, the re-normalised mean caption vector; ``max``: the best caption per clip.
    """
    dim = clip_emb.shape[1]
    blocks = []
    for r, ce in enumerate(class_emb):
        ce = np.asarray(ce, dtype=np.float32)
        ce = ce[None] if ce.ndim == 1 else ce
        if ce.ndim != 2 or ce.shape[1] != dim or ce.shape[0] == 0:
            name = class_names[r] if class_names is not None else r
            raise DataError(f"expected [n_captions, {dim}], got {ce.shape}", sample=name, field="class_emb")
        blocks.append(ce)
    if class_reduce == "mean":
        return np.stack([l2_normalize(b.mean(0)) for b in blocks]) @ clip_emb.T
    if class_reduce == "max":
        offsets = np.cumsum([0] + [len(b) for b in blocks[:-1]])
        return np.maximum.reduceat(np.concatenate(blocks) @ clip_emb.T, offsets, axis=0)
    raise ValueError(f"class_reduce must be 'mean' or 'max', got {class_reduce!r}")


def top_k_stable(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` largest scores, best first, ties broken by lower index.

    Same result as ``np.argsort(-scores, kind='stable')[:k]`` at O(N + k log k): a partition finds the
    k-th value, every score >= it (ties included) is a candidate, and the candidates are sorted exactly.
    """
    n = scores.shape[0]
    if k >= n:
        return np.argsort(-scores, kind="stable")
    kth = np.partition(scores, n - k)[n - k]
    cand = np.flatnonzero(scores >= kth)
    order = np.lexsort((cand, -scores[cand]))
    return cand[order[:k]]
