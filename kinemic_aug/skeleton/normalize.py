"""PreNormalize3D-style body-frame normalisation, computed from each layout's own joints.

PYSKL's ``PreNormalize3D`` hard-codes NTU joint indices (centre 1, spine 0→1, shoulders 8/4); applied
to another layout it silently picks wrong joints (KineMIC's SMPL-22 pipeline centred on the right
wrist). Here the centre joint and both axes come from the :class:`SkeletonLayout`, so every
registered layout is normalised correctly, and an unknown layout is an error, not a guess.

Steps (all from the first valid frame of person 0, applied to every frame and person):
1. drop frames where person 0 (or, for two persons, the person with more valid frames, which is
   moved first) is all zero;
2. subtract the layout's centre joint; all-zero joints stay zero (missing joints are not moved);
3. rotate so the spine (``layout.zaxis`` bottom→top) points to +z;
4. rotate about +z-aligned frame so ``kp[right shoulder] - kp[left shoulder]`` points to +x.
"""
from __future__ import annotations

from typing import Tuple, Union

import numpy as np

from ..errors import DataError
from .layout import SkeletonLayout, axis_end_indices, get_layout


def _axis_point(frame: np.ndarray, end) -> np.ndarray:
    return frame[list(axis_end_indices(end))].mean(axis=0)


def rotation_matrix(axis: np.ndarray, theta: float) -> np.ndarray:
    """Rotation matrix for a counter-clockwise rotation by ``theta`` about ``axis`` (Rodrigues)."""
    axis = np.asarray(axis, dtype=np.float64)
    n = np.linalg.norm(axis)
    if n < 1e-8 or abs(theta) < 1e-8:
        return np.eye(3)
    axis = axis / n
    a = np.cos(theta / 2.0)
    b, c, d = -axis * np.sin(theta / 2.0)
    aa, bb, cc, dd = a * a, b * b, c * c, d * d
    bc, ad, ac, ab, bd, cd = b * c, a * d, a * c, a * b, b * d, c * d
    return np.array([[aa + bb - cc - dd, 2 * (bc + ad), 2 * (bd - ac)],
                     [2 * (bc - ad), aa + cc - bb - dd, 2 * (cd + ab)],
                     [2 * (bd + ac), 2 * (cd - ab), aa + dd - bb - cc]])


def _angle_between(v1: np.ndarray, v2: np.ndarray) -> float:
    n1, n2 = np.linalg.norm(v1), np.linalg.norm(v2)
    if n1 < 1e-8 or n2 < 1e-8:
        return 0.0
    return float(np.arccos(np.clip(np.dot(v1 / n1, v2 / n2), -1.0, 1.0)))


def _align(vec: np.ndarray, target: np.ndarray) -> np.ndarray:
    """Matrix R (row-vector convention ``x @ R.T``) that rotates ``vec`` onto ``target``."""
    axis = np.cross(vec, target)
    angle = _angle_between(vec, target)
    if np.linalg.norm(axis) < 1e-8 and angle > np.pi / 2:  # anti-parallel: any perpendicular axis
        axis = np.cross(vec, [1.0, 0.0, 0.0] if abs(vec[0]) < 0.9 else [0.0, 1.0, 0.0])
    return rotation_matrix(axis, angle)


def prenormalize_3d(keypoint: np.ndarray, layout: Union[str, SkeletonLayout], *, align_center: bool = True,
                    align_spine: bool = True, align_shoulder: bool = True,
                    sample: str = None) -> Tuple[np.ndarray, dict]:
    """Normalise a ``[M, T, V, 3]`` skeleton sequence into the layout's body frame.

    Returns the normalised keypoints (float32, frames without person 0 removed) and an info dict
    with ``body_center`` ([3]), ``rotation`` ([3, 3]) and ``kept_frames`` (indices into the input).
    """
    layout = get_layout(layout)
    kp = np.asarray(keypoint)
    if kp.ndim != 4 or kp.shape[-1] != 3:
        raise DataError(f"expected [M, T, V, 3], got shape {kp.shape}", sample=sample, field="keypoint")
    m, t, v, _ = kp.shape
    if v != layout.num_joints:
        raise DataError(f"layout {layout.name!r} has {layout.num_joints} joints, data has {v}",
                        sample=sample, field="keypoint")
    if m not in (1, 2):
        raise DataError(f"PreNormalize3D handles 1 or 2 persons, got M={m}", sample=sample, field="keypoint")
    if not np.all(np.isfinite(kp)):
        raise DataError("contains NaN or inf", sample=sample, field="keypoint")
    kp = kp.astype(np.float32, copy=True)
    info = {"body_center": np.zeros(3, np.float32), "rotation": np.eye(3, dtype=np.float32),
            "kept_frames": np.arange(t)}
    if t == 0 or not np.any(kp):
        return kp, info

    valid = ~np.all(np.isclose(kp, 0), axis=(2, 3))  # [M, T]
    main = 0
    if m == 2 and valid[1].sum() > valid[0].sum():
        main = 1
        kp = kp[[1, 0]]
    keep = np.nonzero(valid[main])[0]
    kp = kp[:, keep]
    info["kept_frames"] = keep
    mask = (kp != 0).any(-1, keepdims=True)

    if align_center:
        center = kp[0, 0, layout.center].copy()
        kp = (kp - center) * mask
        info["body_center"] = center
    rot = np.eye(3)
    if align_spine:
        spine = _axis_point(kp[0, 0], layout.zaxis[1]) - _axis_point(kp[0, 0], layout.zaxis[0])
        r = _align(spine, np.array([0.0, 0.0, 1.0]))
        kp = kp @ r.T.astype(np.float32)
        rot = r @ rot
    if align_shoulder:
        across = _axis_point(kp[0, 0], layout.xaxis[0]) - _axis_point(kp[0, 0], layout.xaxis[1])
        # rotate about z only, so the spine stays on +z
        ang = np.arctan2(across[1], across[0])
        c, s_ = np.cos(ang), np.sin(ang)
        r = np.array([[c, s_, 0.0], [-s_, c, 0.0], [0.0, 0.0, 1.0]])  # rotation by -ang about z
        kp = kp @ r.T.astype(np.float32)
        rot = r @ rot
    info["rotation"] = rot.astype(np.float32)
    return (kp * mask).astype(np.float32), info
