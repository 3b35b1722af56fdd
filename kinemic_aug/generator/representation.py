"""Motion representations: joint positions ↔ the per-frame feature vectors the denoiser sees.

A :class:`MotionRepresentation` turns one clip ``joints[T, V, 3]`` (metres, y-up) into features
``[T', D]`` and back, and owns the per-dimension normalisation (mean/std fitted on a corpus). The
statistics travel with the generator checkpoint (:meth:`MotionRepresentation.state_dict`), because
a model is meaningless without the exact scaling it was trained on.

Built in:

* :class:`XYZRepresentation` (``"xyz"``): for one layout (default ``smpl22``, D = 3 + 3·(V−1) = 66).
  The clip is first put in a canonical frame: translated so the root starts at x = z = 0 and rotated
  about the vertical (y) axis so the body faces +z at frame 0. Features per frame are the root
  position (x, z relative to frame 0; y = height, kept absolute because the floor is y = 0 in the
  corpus) followed by the root-relative positions of the other joints, all in that one frame-0
  heading frame (no per-frame heading removal, so decoding needs no integration and cannot drift).
  ``decode(encode(j))`` returns the canonicalised clip exactly.
* :class:`HML263Representation` (``"hml263"``): HumanML3D's 263-d vector through
  :mod:`kinemic_aug.data.hml_vec` (``T`` joint frames give ``T-1`` feature frames; decoding reads only
  the root and ``ric`` channels). Its std is averaged per feature block as HumanML3D's ``Std.npy``
  is, and :meth:`MotionRepresentation.set_stats` accepts the official ``Mean.npy``/``Std.npy``, which
  the official MDM checkpoint needs.
"""
from __future__ import annotations

import copy
from typing import Dict, Iterable, Optional, Sequence, Union

import numpy as np
import torch

from ..errors import DataError
from ..skeleton.layout import SkeletonLayout, get_layout, axis_end_indices


class MotionRepresentation:
    """Base class: encode/decode one clip, fit and apply normalisation, serialise the statistics."""

    name: str = "base"

    def __init__(self, layout: Union[str, SkeletonLayout], std_floor: float = 1e-2):
        self.layout = get_layout(layout)
        self.std_floor = float(std_floor)
        self.mean: Optional[np.ndarray] = None
        self.std: Optional[np.ndarray] = None

    # ------------------------------------------------------------------ to implement
    @property
    def dim(self) -> int:
        raise NotImplementedError

    def encode(self, joints: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        """Raw (un-normalised) features ``[T', dim]`` float32 of one clip."""
        raise NotImplementedError

    def decode(self, feats: np.ndarray) -> np.ndarray:
        """Joint positions ``[T', V, 3]`` from raw features."""
        raise NotImplementedError

    # ------------------------------------------------------------------ shared
    def check_joints(self, joints: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        j = np.asarray(joints, dtype=np.float64)
        v = self.layout.num_joints
        if j.ndim != 3 or j.shape[1:] != (v, 3):
            raise DataError(f"expected [T, {v}, 3] for layout {self.layout.name!r}, got {j.shape}",
                            sample=sample, field="joints")
        if j.shape[0] < 1 or not np.all(np.isfinite(j)):
            raise DataError("empty or contains NaN/inf", sample=sample, field="joints")
        return j

    @property
    def fitted(self) -> bool:
        return self.mean is not None

    def fit(self, clips: Iterable[np.ndarray], names: Optional[Sequence[str]] = None) -> "MotionRepresentation":
        """Per-dimension mean/std over all frames of ``clips`` (joint arrays). The std is floored at
        ``std_floor`` so near-constant dimensions are not blown up."""
        n, s1, s2 = 0, np.zeros(self.dim), np.zeros(self.dim)
        for i, j in enumerate(clips):
            f = self.encode(j, sample=names[i] if names else None).astype(np.float64)
            n += len(f)
            s1 += f.sum(0)
            s2 += (f * f).sum(0)
        if n == 0:
            raise DataError("cannot fit normalisation on an empty corpus", field="joints")
        mean = s1 / n
        var = np.maximum(s2 / n - mean * mean, 0.0)
        self.mean = mean.astype(np.float32)
        self.std = np.maximum(np.sqrt(var), self.std_floor).astype(np.float32)
        return self

    def set_stats(self, mean: np.ndarray, std: np.ndarray) -> "MotionRepresentation":
        """Use given statistics (e.g. HumanML3D's ``Mean.npy`` / ``Std.npy``) instead of fitting."""
        mean, std = np.asarray(mean, np.float32).reshape(-1), np.asarray(std, np.float32).reshape(-1)
        if mean.shape != (self.dim,) or std.shape != (self.dim,) or np.any(std <= 0):
            raise DataError(f"need mean/std of shape ({self.dim},) with std > 0, got {mean.shape}/{std.shape}",
                            field="representation")
        self.mean, self.std = mean, std
        return self

    def matched_to(self, clips: Sequence[np.ndarray], names: Optional[Sequence[str]] = None) -> "MotionRepresentation":
        """A copy normalising with the statistics of ``clips`` (a target domain's motion) instead of the corpus's.

        Why: a few real shots from another capture system sit far outside the corpus statistics in the
        dimensions the corpus barely varies (MSR Action3D's Kinect hips, retargeted to SMPL-22, are 5-7 corpus
        std from the corpus mean), and a denoiser fed such input rewrites the whole motion, not just those
        dimensions. With the target's own per-dimension mean, and ``max(target std, corpus std)`` as scale
        (never amplifying a dimension), target motion reaches the denoiser at the scale it was trained on;
        denormalising with the same statistics is the exact inverse, so decoded samples come back in the
        target's statistics. This is first-order moment matching, done once per target dataset.
        """
        self._need_stats()
        clips = list(clips)
        if not clips:
            raise DataError("matched_to needs at least one clip", field="joints")
        feats = np.concatenate([self.encode(j, sample=names[i] if names else None).astype(np.float64)
                                for i, j in enumerate(clips)])
        out = copy.copy(self)
        out.mean = feats.mean(0).astype(np.float32)
        out.std = np.maximum(feats.std(0), self.std).astype(np.float32)
        return out

    def _need_stats(self) -> None:
        if not self.fitted:
            raise RuntimeError(f"{type(self).__name__}: normalisation not fitted; call fit() or load_state_dict()")

    def normalize(self, feats):
        self._need_stats()
        if isinstance(feats, torch.Tensor):
            return (feats - torch.as_tensor(self.mean).to(feats)) / torch.as_tensor(self.std).to(feats)
        return ((feats - self.mean) / self.std).astype(np.float32)

    def denormalize(self, feats):
        self._need_stats()
        if isinstance(feats, torch.Tensor):
            return feats * torch.as_tensor(self.std).to(feats) + torch.as_tensor(self.mean).to(feats)
        return (feats * self.std + self.mean).astype(np.float32)

    def state_dict(self) -> Dict:
        """Plain types and tensors only (loads with ``torch.load(weights_only=True)``)."""
        self._need_stats()
        return {"name": self.name, "layout": self.layout.name, "std_floor": self.std_floor,
                "mean": torch.from_numpy(self.mean.copy()), "std": torch.from_numpy(self.std.copy())}

    def load_state_dict(self, d: Dict) -> "MotionRepresentation":
        if d.get("name") != self.name:
            raise DataError(f"statistics are for representation {d.get('name')!r}, not {self.name!r}",
                            field="representation")
        mean, std = np.asarray(d["mean"], np.float32), np.asarray(d["std"], np.float32)
        if mean.shape != (self.dim,) or std.shape != (self.dim,):
            raise DataError(f"statistics have shape {mean.shape}/{std.shape}, expected ({self.dim},)",
                            field="representation")
        self.mean, self.std = mean, std
        return self


def heading_rotation(frame: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
    """3×3 rotation about +y (row-vector convention ``x @ R.T``) that makes the body in ``frame``
    ``[V, 3]`` face +z. The across-body direction is right-minus-left shoulder (``layout.xaxis``)
    plus right-minus-left hip when the layout names both hips; forward = up × across."""
    def end(e):
        return frame[list(axis_end_indices(e))].mean(0)

    across = end(layout.xaxis[0]) - end(layout.xaxis[1])
    names = [n.lower() for n in layout.joint_names]
    for a, b in layout.flip_pairs():
        if "hip" in names[a] and "hip" in names[b] and layout.side(a) == "left":
            across = across + frame[b] - frame[a]
            break
    fwd = np.cross(np.array([0.0, 1.0, 0.0]), across)
    fwd[1] = 0.0
    norm = np.linalg.norm(fwd)
    if norm < 1e-8:
        return np.eye(3)
    fwd /= norm
    ang = np.arctan2(fwd[0], fwd[2])  # angle of forward from +z, about +y
    c, s = np.cos(-ang), np.sin(-ang)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


class XYZRepresentation(MotionRepresentation):
    """Canonicalised joint positions; see the module docstring for the exact feature layout."""

    name = "xyz"

    @property
    def dim(self) -> int:
        return 3 * self.layout.num_joints

    def canonicalize(self, joints: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        """Translate (x, z) so the root starts at the origin and rotate to face +z at frame 0."""
        j = self.check_joints(joints, sample)
        root = self.layout.root
        off = j[0, root].copy()
        off[1] = 0.0
        r = heading_rotation(j[0] - off, self.layout)
        return ((j - off) @ r.T).astype(np.float32)

    def encode(self, joints: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        c = self.canonicalize(joints, sample).astype(np.float64)
        root = self.layout.root
        rel = np.delete(c - c[:, root:root + 1], root, axis=1)
        return np.concatenate([c[:, root], rel.reshape(len(c), -1)], axis=1).astype(np.float32)

    def decode(self, feats: np.ndarray) -> np.ndarray:
        f = np.asarray(feats, dtype=np.float64)
        if f.ndim != 2 or f.shape[1] != self.dim:
            raise DataError(f"expected [T, {self.dim}], got {f.shape}", field="feats")
        v, root = self.layout.num_joints, self.layout.root
        rel = f[:, 3:].reshape(len(f), v - 1, 3)
        out = np.insert(rel, root, 0.0, axis=1) + f[:, None, :3]
        return out.astype(np.float32)


class HML263Representation(MotionRepresentation):
    """HumanML3D ``hml_vec`` (layout ``smpl22`` only); the slice layout is documented in
    :mod:`kinemic_aug.data.hml_vec`."""

    name = "hml263"

    def __init__(self, layout: Union[str, SkeletonLayout] = "smpl22", std_floor: float = 1e-2):
        super().__init__(layout, std_floor)
        if self.layout.name != "smpl22":
            raise DataError(f"hml263 needs layout 'smpl22', got {self.layout.name!r}", field="layout")

    @property
    def dim(self) -> int:
        return 263

    def encode(self, joints: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        from ..data.hml_vec import joints_to_hml_vec

        j = self.check_joints(joints, sample)
        if len(j) < 2:
            raise DataError("hml263 needs at least 2 frames", sample=sample, field="joints")
        try:
            return np.asarray(joints_to_hml_vec(j.astype(np.float32)), np.float32)
        except DataError as e:
            if e.sample is None and sample is not None:
                raise DataError(str(e), sample=sample, field=e.field) from e
            raise

    def decode(self, feats: np.ndarray) -> np.ndarray:
        from ..data.hml_vec import recover_from_ric

        return np.asarray(recover_from_ric(np.asarray(feats, np.float32)), np.float32)

    def fit(self, clips: Iterable[np.ndarray], names: Optional[Sequence[str]] = None) -> "MotionRepresentation":
        super().fit(clips, names)
        from ..data.hml_vec import HML_SLICES

        for sl in HML_SLICES.values():  # HumanML3D averages the std within each feature block
            self.std[sl] = max(float(self.std[sl].mean()), self.std_floor)
        return self


_REGISTRY = {"xyz": XYZRepresentation, "hml263": HML263Representation}


def register_representation(name: str, cls: type) -> None:
    """Make a user representation available to checkpoints and :func:`get_representation`."""
    _REGISTRY[name] = cls


def get_representation(name: str, layout: Union[str, SkeletonLayout] = "smpl22", **kwargs) -> MotionRepresentation:
    """A fresh (unfitted) representation by name: ``"xyz"`` (any layout), ``"hml263"`` (smpl22) or a
    registered one."""
    if name not in _REGISTRY:
        raise DataError(f"unknown motion representation {name!r}; known: {sorted(_REGISTRY)}", field="representation")
    return _REGISTRY[name](layout, **kwargs)


def representation_from_state_dict(d: Dict) -> MotionRepresentation:
    rep = get_representation(d["name"], d["layout"], std_floor=float(d.get("std_floor", 1e-2)))
    return rep.load_state_dict(d)
