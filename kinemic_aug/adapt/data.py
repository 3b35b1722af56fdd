"""What one adaptation trains on: target shots and soft-paired source clips, as padded tensors.

Everything here is already in the generator's space: SMPL-22 joints at the generator's frame rate,
encoded and normalised by the generator's representation. Converting a user's dataset (layout,
fps) into that space is the augmenter's job, so this module never guesses a layout.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..errors import DataError


@dataclass
class TargetShots:
    """The real shots of the classes being adapted.

    Attributes:
        feats: one normalised feature array ``[T_i, D]`` per shot.
        labels: class index of each shot (0..C-1 within this adaptation).
        text_emb: ``[C, E]`` one caption embedding per class (the class prompt), or ``[C, P, E]``
            several prompts per class (one is drawn per sample).
        names: sample ids (for errors and cache keys).
    """

    feats: List[np.ndarray]
    labels: np.ndarray
    text_emb: np.ndarray
    names: List[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.labels = np.asarray(self.labels, dtype=np.int64)
        if len(self.labels) and self.labels.min() < 0:
            raise DataError(f"labels must be >= 0, got {int(self.labels.min())}", field="labels")
        if not self.names:
            self.names = [f"shot{i}" for i in range(len(self.feats))]
        if len(self.feats) == 0:
            raise DataError("no target shots", field="feats")
        if len(self.labels) != len(self.feats) or len(self.names) != len(self.feats):
            raise DataError(f"{len(self.feats)} shots, {len(self.labels)} labels, {len(self.names)} names",
                            field="labels")
        d = self.feats[0].shape[-1]
        for f, n in zip(self.feats, self.names):
            if f.ndim != 2 or f.shape[-1] != d or len(f) < 2:
                raise DataError(f"expected [T>=2, {d}], got {f.shape}", sample=n, field="feats")
            if not np.all(np.isfinite(f)):
                raise DataError("contains NaN or inf", sample=n, field="feats")
        te = np.asarray(self.text_emb, dtype=np.float32)
        if te.ndim == 2:
            te = te[:, None, :]
        if te.ndim != 3 or te.shape[0] <= int(self.labels.max()):
            raise DataError(f"need one text embedding row per class (>= {int(self.labels.max()) + 1}), got {te.shape}",
                            field="text_emb")
        self.text_emb = te

    @property
    def num_classes(self) -> int:
        return int(self.text_emb.shape[0])

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for f, y, n in zip(self.feats, self.labels, self.names):
            h.update(n.encode())
            h.update(np.int64(y).tobytes())
            h.update(np.ascontiguousarray(f, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.text_emb, dtype=np.float32).tobytes())
        return h.hexdigest()


@dataclass
class SourcePool:
    """Soft-paired source clips.

    Attributes:
        feats: normalised features ``[T_j, D]`` of every source clip that any class uses.
        text_emb: ``[N, E]`` caption embedding of each source clip (its own caption: the prior
            stream is conditioned on it, as it was in pretraining).
        positives: class index -> source indices (its top-k soft positives).
        weights: class index -> sampling probabilities over ``positives[c]`` (uniform if absent).
        negatives: class index -> source indices used as contrastive negatives for that class
            (per-class mode; other classes' positives and clips poorly matching the class).
        window_scale, window_shift: ``[D]`` per-dimension map from the clips' normalisation to the
            shots' (``window = feats * scale + shift``), applied to every mined window before the target
            stream reconstructs it. Why: the prior stream must see the clips in the statistics it was
            trained on, but the target stream learns to produce motion in the shots' normalisation (and
            its samples are decoded with it); a window left in the corpus statistics would teach it the
            corpus's scale in those units, off by up to several std in some dimensions. ``None`` (both):
            the shots use the corpus statistics too, nothing to map.
    """

    feats: List[np.ndarray]
    text_emb: np.ndarray
    positives: Dict[int, np.ndarray]
    weights: Dict[int, np.ndarray] = field(default_factory=dict)
    negatives: Dict[int, np.ndarray] = field(default_factory=dict)
    window_scale: Optional[np.ndarray] = None
    window_shift: Optional[np.ndarray] = None

    def __post_init__(self) -> None:
        n = len(self.feats)
        if n == 0:
            raise DataError("empty source pool", field="feats")
        d = self.feats[0].shape[-1] if np.ndim(self.feats[0]) == 2 else None
        for j, f in enumerate(self.feats):
            if np.ndim(f) != 2 or f.shape[-1] != d or len(f) < 2:
                raise DataError(f"expected [T>=2, {d}], got {np.shape(f)}", sample=f"source {j}", field="feats")
            if not np.all(np.isfinite(f)):
                raise DataError("contains NaN or inf", sample=f"source {j}", field="feats")
        self.text_emb = np.asarray(self.text_emb, dtype=np.float32)
        if self.text_emb.shape[0] != n:
            raise DataError(f"{self.text_emb.shape[0]} caption embeddings for {n} clips", field="text_emb")
        for c, idx in list(self.positives.items()):
            idx = np.asarray(idx, dtype=np.int64)
            if len(idx) == 0:
                raise DataError("class has no soft-positive source clip", sample=f"class {c}", field="positives")
            if idx.min() < 0 or idx.max() >= n:
                raise DataError(f"source index out of range 0..{n - 1}", sample=f"class {c}", field="positives")
            self.positives[c] = idx
            w = self.weights.get(c)
            if w is not None:
                w = np.asarray(w, dtype=np.float64)
                if w.shape != idx.shape or np.any(w < 0) or w.sum() <= 0:
                    raise DataError("weights must be non-negative, one per positive", sample=f"class {c}",
                                    field="weights")
                self.weights[c] = w / w.sum()
        for c, idx in list(self.negatives.items()):
            idx = np.asarray(idx, dtype=np.int64)
            if len(idx) and (idx.min() < 0 or idx.max() >= n):
                raise DataError(f"source index out of range 0..{n - 1}", sample=f"class {c}", field="negatives")
            self.negatives[c] = idx
        if (self.window_scale is None) != (self.window_shift is None):
            raise DataError("give both window_scale and window_shift, or neither", field="window_scale")
        if self.window_scale is not None:
            for name in ("window_scale", "window_shift"):
                v = np.asarray(getattr(self, name), dtype=np.float32)
                if v.shape != (d,) or not np.all(np.isfinite(v)):
                    raise DataError(f"expected a finite [{d}] vector, got shape {v.shape}", field=name)
                setattr(self, name, v)

    @classmethod
    def window_map(cls, clip_rep: Any, target_rep: Any) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """``(scale, shift)`` taking features normalised by ``clip_rep`` to features normalised by
        ``target_rep`` (both ``MotionRepresentation`` with statistics), or ``(None, None)`` when the two
        statistics are the same."""
        if np.array_equal(clip_rep.mean, target_rep.mean) and np.array_equal(clip_rep.std, target_rep.std):
            return None, None
        scale = (clip_rep.std / target_rep.std).astype(np.float32)
        shift = ((clip_rep.mean - target_rep.mean) / target_rep.std).astype(np.float32)
        return scale, shift

    def draw(self, cls: int, n: int, rng: np.random.Generator) -> np.ndarray:
        idx = self.positives[cls]
        return rng.choice(idx, size=n, replace=True, p=self.weights.get(cls))

    def draw_negatives(self, cls: int, n: int, rng: np.random.Generator) -> np.ndarray:
        idx = self.negatives.get(cls)
        if idx is None or len(idx) == 0 or n <= 0:
            return np.zeros(0, dtype=np.int64)
        return rng.choice(np.asarray(idx), size=n, replace=len(idx) < n)

    def fingerprint(self) -> str:
        h = hashlib.sha256()
        for f in self.feats:
            h.update(np.ascontiguousarray(f, dtype=np.float32).tobytes())
        h.update(np.ascontiguousarray(self.text_emb, dtype=np.float32).tobytes())
        for store in (self.positives, self.weights, self.negatives):
            for c in sorted(store):
                h.update(np.int64(c).tobytes())
                h.update(np.ascontiguousarray(store[c]).tobytes())
        if self.window_scale is not None:  # absent: the same fingerprint as before the map existed
            h.update(b"window-map")
            h.update(self.window_scale.tobytes())
            h.update(self.window_shift.tobytes())
        return h.hexdigest()


def pad_batch(arrays: Sequence[np.ndarray], max_len: Optional[int] = None, rng: Optional[np.random.Generator] = None,
              device: Optional[torch.device] = None):
    """Stack ``[T_i, D]`` arrays into ``x [B, T, D]`` + valid ``lengths [B]``; longer clips are cropped
    at a random start (``rng``) or from the start (no ``rng``)."""
    lens = [len(a) for a in arrays]
    t = max(lens) if max_len is None else min(max(lens), max_len)
    d = arrays[0].shape[-1]
    x = np.zeros((len(arrays), t, d), dtype=np.float32)
    out_lens = np.zeros(len(arrays), dtype=np.int64)
    for i, a in enumerate(arrays):
        n = len(a)
        if n > t:
            s = int(rng.integers(0, n - t + 1)) if rng is not None else 0
            a, n = a[s:s + t], t
        x[i, :n] = a
        out_lens[i] = n
    xt = torch.from_numpy(x)
    lt = torch.from_numpy(out_lens)
    if device is not None:
        xt, lt = xt.to(device), lt.to(device)
    return xt, lt
