"""Skeleton pipeline steps with the semantics of PYSKL's pose pipeline, registered in MMEngine's ``TRANSFORMS``.

Each step takes and returns the PYSKL results dict (``keypoint [M, T, V, C]``, ``total_frames``,
``label``, ...). Steps that need the skeleton (normalisation, bone features) read the layout from
their own ``layout`` argument or from ``results['layout']``, which :class:`har.datasets.PoseDataset`
sets from its ``layout`` argument, so a non-NTU dataset is never normalised with NTU joint indices.

Order used by the configs::

    PreNormalize3D → [RandomRot, RandomScale, RandomShear, RandomGaussianNoise] → GenSkeFeat
    → UniformSample → PoseDecode → FormatGCNInput → PackGCNInputs

Random steps draw from numpy's global generator, which MMEngine seeds per run and per worker
(``randomness=dict(seed=...)``), so a seeded run is reproducible. ``UniformSample(test_mode=True)``
uses its own fixed-seed generator and is deterministic whatever the global state.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from kinemic_aug.errors import DataError
from kinemic_aug.skeleton import SkeletonLayout, get_layout
from kinemic_aug.skeleton.normalize import prenormalize_3d, rotation_matrix

from ..registry import TRANSFORMS

Results = Dict[str, Any]
FEATS = ("j", "b", "jm", "bm")


def _sample_id(results: Results) -> Any:
    return results.get("frame_dir", results.get("filename", results.get("sample_idx")))


def _keypoint(results: Results, step: str, ndim: int = 4) -> np.ndarray:
    if "keypoint" not in results:
        raise DataError(f"{step}: results have no 'keypoint'", sample=_sample_id(results), field="keypoint")
    kp = results["keypoint"]
    if not isinstance(kp, np.ndarray) or kp.ndim != ndim:
        shape = getattr(kp, "shape", type(kp).__name__)
        raise DataError(f"{step}: expected a {ndim}-d array [M, T, V, C], got {shape}",
                        sample=_sample_id(results), field="keypoint")
    return kp


def _layout(own: Optional[Union[str, SkeletonLayout, dict]], results: Results, step: str) -> SkeletonLayout:
    lay = own if own is not None else results.get("layout")
    if lay is None:
        raise DataError(f"{step}: no skeleton layout; pass layout=... to the step or set it on the dataset "
                        "(PoseDataset(layout=...)) - there is deliberately no NTU default",
                        sample=_sample_id(results), field="layout")
    return get_layout(lay)


class PoseTransform:
    """Base class: ``__call__`` → :meth:`transform`; ``__repr__`` lists the constructor arguments."""

    def __call__(self, results: Results) -> Results:
        return self.transform(results)

    def transform(self, results: Results) -> Results:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


# ---------------------------------------------------------------------- normalisation
@TRANSFORMS.register_module()
class PreNormalize3D(PoseTransform):
    """PYSKL's PreNormalize3D with the layout's own centre / spine / shoulder joints.

    Wraps :func:`kinemic_aug.skeleton.normalize.prenormalize_3d`: drops frames without person 0,
    centres on the layout centre joint of frame 0, rotates the spine to +z and the shoulders to +x.
    Rewrites ``keypoint`` and ``total_frames`` and adds ``body_center``; ``keypoint_score`` (if
    any) is cut to the kept frames.
    """

    def __init__(self, layout: Optional[Union[str, dict]] = None, align_center: bool = True, align_spine: bool = True,
                 align_shoulder: bool = True) -> None:
        self.layout = layout
        self.align_center, self.align_spine, self.align_shoulder = align_center, align_spine, align_shoulder

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "PreNormalize3D")
        layout = _layout(self.layout, results, "PreNormalize3D")
        out, info = prenormalize_3d(kp, layout, align_center=self.align_center, align_spine=self.align_spine,
                                    align_shoulder=self.align_shoulder, sample=_sample_id(results))
        if out.shape[1] == 0:
            raise DataError("PreNormalize3D: no frame has person 0", sample=_sample_id(results), field="keypoint")
        results["keypoint"] = out
        results["total_frames"] = out.shape[1]
        results["body_center"] = info["body_center"]
        if "keypoint_score" in results:
            score = np.asarray(results["keypoint_score"])
            if len(info["kept_frames"]) != score.shape[1]:
                score = score[:, info["kept_frames"]]
            results["keypoint_score"] = score
        return results


# ---------------------------------------------------------------------- spatial augmentation
def _apply_linear(kp: np.ndarray, mat: np.ndarray) -> np.ndarray:
    """``kp @ mat.T`` on the xyz channels, keeping missing (all-zero) joints at zero."""
    mask = np.any(kp != 0, axis=-1, keepdims=True)
    out = kp.copy()
    out[..., :3] = (kp[..., :3] @ mat.T.astype(np.float32)) * mask
    return out


def _require_3d(kp: np.ndarray, results: Results, step: str) -> None:
    if kp.shape[-1] < 3:
        raise DataError(f"{step}: needs 3D coordinates, got C={kp.shape[-1]}", sample=_sample_id(results),
                        field="keypoint")


@TRANSFORMS.register_module()
class RandomRot(PoseTransform):
    """Rotate the whole sequence by random angles ``U(-theta, theta)`` about x, y and z (radians).

    A rigid rotation: bone lengths are unchanged; the classifier learns view invariance.
    """

    def __init__(self, theta: float = 0.3) -> None:
        self.theta = float(theta)

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "RandomRot")
        _require_3d(kp, results, "RandomRot")
        ang = np.random.uniform(-self.theta, self.theta, size=3)
        rot = np.eye(3)
        for axis, a in zip(np.eye(3), ang):
            rot = rotation_matrix(axis, a) @ rot
        results["keypoint"] = _apply_linear(kp, rot)
        return results


@TRANSFORMS.register_module()
class RandomScale(PoseTransform):
    """Scale coordinates by ``1 + U(-scale, scale)``, one factor per axis (``anisotropic=True``, as
    PYSKL) or one for all axes (a bigger or smaller person, same proportions)."""

    def __init__(self, scale: float = 0.2, anisotropic: bool = True) -> None:
        if not 0 <= scale < 1:
            raise ValueError(f"scale must be in [0, 1), got {scale}")
        self.scale, self.anisotropic = float(scale), bool(anisotropic)

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "RandomScale")
        c = kp.shape[-1]
        n = c if self.anisotropic else 1
        factor = 1.0 + np.random.uniform(-self.scale, self.scale, size=n)
        results["keypoint"] = (kp * np.broadcast_to(factor, (c,))).astype(kp.dtype)
        results["scale_factor"] = np.broadcast_to(factor, (c,)).astype(np.float32).copy()
        return results


@TRANSFORMS.register_module()
class RandomShear(PoseTransform):
    """Shear: ``x' = S x`` with ``S = I + off-diagonal U(-shear, shear)`` (AimCLR uses 0.5).

    Mimics body-shape and camera-skew variation that a rotation cannot produce.
    """

    def __init__(self, shear: float = 0.3) -> None:
        self.shear = float(shear)

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "RandomShear")
        _require_3d(kp, results, "RandomShear")
        s = np.random.uniform(-self.shear, self.shear, size=(3, 3))
        mat = np.eye(3) + s * (1 - np.eye(3))
        results["keypoint"] = _apply_linear(kp, mat)
        return results


@TRANSFORMS.register_module()
class RandomGaussianNoise(PoseTransform):
    """Add ``N(0, (sigma · extent)^2)`` jitter, where extent is the skeleton's per-axis range.

    Args:
        sigma: noise relative to the skeleton extent (0.01 = 1 %).
        base: ``'frame'`` (extent of each frame) or ``'video'`` (extent of the whole sequence).
        shared: one noise draw per joint for the whole sequence (a fixed offset, like a marker
            misplacement) instead of independent noise per frame.
    """

    def __init__(self, sigma: float = 0.01, base: str = "frame", shared: bool = False) -> None:
        if base not in ("frame", "video"):
            raise ValueError(f"base must be 'frame' or 'video', got {base!r}")
        self.sigma, self.base, self.shared = float(sigma), base, bool(shared)

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "RandomGaussianNoise")
        m, t, v, c = kp.shape
        mask = np.any(kp != 0, axis=-1, keepdims=True)
        big, small = np.where(mask, kp, -np.inf), np.where(mask, kp, np.inf)
        if self.base == "frame":
            extent = big.max(axis=2, keepdims=True) - small.min(axis=2, keepdims=True)  # [M, T, 1, C]
        else:
            extent = big.max(axis=(1, 2), keepdims=True) - small.min(axis=(1, 2), keepdims=True)  # [M, 1, 1, C]
        extent = np.where(np.isfinite(extent), extent, 0.0)
        shape = (m, 1, v, c) if self.shared else (m, t, v, c)
        noise = np.random.randn(*shape) * self.sigma * extent
        results["keypoint"] = ((kp + noise) * mask).astype(kp.dtype)
        return results


# ---------------------------------------------------------------------- features
@TRANSFORMS.register_module()
class GenSkeFeat(PoseTransform):
    """Joint (``j``), bone (``b``), joint-motion (``jm``) and bone-motion (``bm``) features, concatenated
    on the channel axis (C → C·len(feats)).

    Bones are ``kp[j] - kp[partner]`` for the layout's ``bones()`` pairs (the root pairs with itself,
    a zero bone); motion is the difference to the next frame, zero at the last frame.
    """

    def __init__(self, feats: Sequence[str] = ("j",), layout: Optional[Union[str, dict]] = None, axis: int = -1) -> None:
        bad = [f for f in feats if f not in FEATS]
        if bad or not feats:
            raise ValueError(f"feats must be a non-empty subset of {FEATS}, got {list(feats)}")
        self.feats, self.layout, self.axis = list(feats), layout, axis

    @staticmethod
    def bones(kp: np.ndarray, layout: SkeletonLayout) -> np.ndarray:
        out = np.zeros_like(kp)
        for j, p in layout.bones():
            out[..., j, :] = kp[..., j, :] - kp[..., p, :]
        return out

    @staticmethod
    def motion(kp: np.ndarray) -> np.ndarray:
        out = np.zeros_like(kp)
        out[:, :-1] = kp[:, 1:] - kp[:, :-1]
        return out

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "GenSkeFeat")
        need_layout = any(f in ("b", "bm") for f in self.feats)
        layout = _layout(self.layout, results, "GenSkeFeat") if need_layout else None
        if layout is not None and kp.shape[2] != layout.num_joints:
            raise DataError(f"GenSkeFeat: layout {layout.name!r} has {layout.num_joints} joints, data has {kp.shape[2]}",
                            sample=_sample_id(results), field="keypoint")
        cache: Dict[str, np.ndarray] = {"j": kp}
        if need_layout:
            cache["b"] = self.bones(kp, layout)
        if "jm" in self.feats:
            cache["jm"] = self.motion(kp)
        if "bm" in self.feats:
            cache["bm"] = self.motion(cache["b"])
        results["keypoint"] = np.concatenate([cache[f] for f in self.feats], axis=self.axis).astype(np.float32)
        results["feats"] = list(self.feats)
        return results


# ---------------------------------------------------------------------- temporal sampling
@TRANSFORMS.register_module(name="UniformSampleFrames")
@TRANSFORMS.register_module()
class UniformSample(PoseTransform):
    """Pick ``clip_len`` frame indices per clip, spread uniformly over the (optionally cropped) sequence.

    The sequence is cut into ``clip_len`` equal segments and one frame is drawn from each; a sequence
    shorter than ``clip_len`` is looped from a random start. ``p_interval=(a, b)`` first keeps a random
    contiguous fraction ``U(a, b)`` of the frames (temporal-crop augmentation).

    Train mode draws from numpy's global generator. Test mode (``test_mode=True``) draws
    ``num_clips`` clips from a private generator seeded with ``seed``, so the same sample always gives
    the same clips (multi-clip testing averages them).

    Writes ``frame_inds`` (flat, ``num_clips · clip_len``), ``clip_len`` and ``num_clips``.
    """

    def __init__(self, clip_len: int, num_clips: int = 1, p_interval: Union[float, Tuple[float, float]] = 1.0,
                 test_mode: bool = False, seed: int = 255) -> None:
        if clip_len < 1 or num_clips < 1:
            raise ValueError("clip_len and num_clips must be >= 1")
        if isinstance(p_interval, (int, float)):
            p_interval = (float(p_interval), float(p_interval))
        lo, hi = p_interval
        if not 0 < lo <= hi <= 1:
            raise ValueError(f"p_interval must satisfy 0 < a <= b <= 1, got {p_interval}")
        self.clip_len, self.num_clips = int(clip_len), int(num_clips)
        self.p_interval = (float(lo), float(hi))
        self.test_mode, self.seed = bool(test_mode), int(seed)

    def _one_clip(self, num_frames: int, rng) -> np.ndarray:
        lo, hi = self.p_interval
        ratio = rng.uniform(lo, hi) if hi > lo else lo
        length = max(1, min(num_frames, int(round(ratio * num_frames))))
        offset = rng.randint(0, num_frames - length + 1)
        n = self.clip_len
        if length < n:
            start = rng.randint(0, length)
            inds = (start + np.arange(n)) % length
        else:
            edges = np.floor(np.arange(n + 1) * length / n).astype(np.int64)
            widths = np.maximum(edges[1:] - edges[:-1], 1)
            inds = edges[:-1] + (rng.random_sample(n) * widths).astype(np.int64)
            inds = np.minimum(inds, length - 1)
        return inds + offset

    def transform(self, results: Results) -> Results:
        num_frames = int(results.get("total_frames", 0))
        kp = results.get("keypoint")
        if kp is not None and num_frames != kp.shape[1]:
            raise DataError(f"UniformSample: total_frames={num_frames} but keypoint has {kp.shape[1]} frames",
                            sample=_sample_id(results), field="total_frames")
        if num_frames < 1:
            raise DataError("UniformSample: the sequence has no frames", sample=_sample_id(results),
                            field="total_frames")
        rng = np.random.RandomState(self.seed) if self.test_mode else np.random.mtrand._rand
        inds = np.concatenate([self._one_clip(num_frames, rng) for _ in range(self.num_clips)])
        results["frame_inds"] = inds.astype(np.int64)
        results["clip_len"] = self.clip_len
        results["num_clips"] = self.num_clips
        return results


@TRANSFORMS.register_module()
class PoseDecode(PoseTransform):
    """Gather ``frame_inds`` along T for ``keypoint`` (and ``keypoint_score``), as float32."""

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "PoseDecode")
        inds = results.get("frame_inds")
        if inds is None:
            inds = np.arange(kp.shape[1])
        inds = np.asarray(inds, dtype=np.int64)
        if inds.size and (inds.min() < 0 or inds.max() >= kp.shape[1]):
            raise DataError(f"PoseDecode: frame index outside 0..{kp.shape[1] - 1}", sample=_sample_id(results),
                            field="frame_inds")
        results["keypoint"] = kp[:, inds].astype(np.float32)
        if "keypoint_score" in results:
            results["keypoint_score"] = np.asarray(results["keypoint_score"])[:, inds].astype(np.float32)
        return results


@TRANSFORMS.register_module()
class FormatGCNInput(PoseTransform):
    """Pad or truncate persons to ``num_person`` and split clips: ``[M, nc·L, V, C]`` → ``[nc, M', L, V, C]``.

    ``mode='zero'`` pads with all-zero persons; ``'loop'`` repeats the existing persons.
    """

    def __init__(self, num_person: int = 2, mode: str = "zero") -> None:
        if mode not in ("zero", "loop"):
            raise ValueError(f"mode must be 'zero' or 'loop', got {mode!r}")
        if num_person < 1:
            raise ValueError("num_person must be >= 1")
        self.num_person, self.mode = int(num_person), mode

    def transform(self, results: Results) -> Results:
        kp = _keypoint(results, "FormatGCNInput")
        m, t, v, c = kp.shape
        if m == 0:
            raise DataError("FormatGCNInput: no person", sample=_sample_id(results), field="keypoint")
        if m < self.num_person:
            if self.mode == "zero":
                pad = np.zeros((self.num_person - m, t, v, c), dtype=kp.dtype)
            else:
                pad = kp[np.arange(self.num_person - m) % m]
            kp = np.concatenate([kp, pad], axis=0)
        elif m > self.num_person:
            kp = kp[: self.num_person]
        nc = int(results.get("num_clips", 1))
        if t % nc:
            raise DataError(f"FormatGCNInput: {t} frames do not split into {nc} clips", sample=_sample_id(results),
                            field="keypoint")
        kp = kp.reshape(self.num_person, nc, t // nc, v, c).transpose(1, 0, 2, 3, 4)
        results["keypoint"] = np.ascontiguousarray(kp, dtype=np.float32)
        return results


@TRANSFORMS.register_module()
class PackGCNInputs(PoseTransform):
    """Final step: ``{'inputs': Tensor[nc, M, T, V, C], 'data_samples': BaseDataElement}``.

    The data sample carries ``gt_label`` and, as metainfo, ``frame_dir`` and ``is_synthetic`` (so
    metrics and hooks can tell synthetic training samples from real ones) plus any ``meta_keys``.
    """

    def __init__(self, meta_keys: Sequence[str] = ("frame_dir", "is_synthetic")) -> None:
        self.meta_keys = list(meta_keys)

    def transform(self, results: Results) -> Results:
        import torch
        from mmengine.structures import BaseDataElement

        kp = _keypoint(results, "PackGCNInputs", ndim=5)
        meta = {k: results[k] for k in self.meta_keys if k in results}
        ds = BaseDataElement(metainfo=meta)
        if "label" in results:
            ds.gt_label = torch.tensor(int(results["label"]), dtype=torch.long)
        return {"inputs": torch.from_numpy(np.ascontiguousarray(kp, dtype=np.float32)), "data_samples": ds}


def classic_augmentation(theta: float = 0.3, scale: float = 0.2, shear: float = 0.3, sigma: float = 0.01) -> List[dict]:
    """The 'classic' spatial augmentation block for configs: rotation, scaling, shear, jitter.

    Temporal crop is ``UniformSample(p_interval=...)`` and is set on the sampling step.
    """
    out: List[dict] = []
    if theta > 0:
        out.append(dict(type="RandomRot", theta=theta))
    if scale > 0:
        out.append(dict(type="RandomScale", scale=scale))
    if shear > 0:
        out.append(dict(type="RandomShear", shear=shear))
    if sigma > 0:
        out.append(dict(type="RandomGaussianNoise", sigma=sigma))
    return out
