"""Orthographic projection of skeleton clips for :mod:`.render`: turn each clip to face the viewer,
apply the named or given camera, and record screen coordinates, depth and bounds.

Kept apart from the drawing so the geometry (which way is front, what is up) can be tested and changed
without touching pixels. Conventions are the ones :mod:`.render` documents.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional, Tuple, Union

import numpy as np

from ..errors import DataError
from .layout import SkeletonLayout, axis_end_indices, get_layout

LayoutLike = Union[str, SkeletonLayout]
View = Union[str, Tuple[float, float]]

#: named cameras as (elevation, azimuth) in degrees, relative to the body's facing direction
VIEWS = {"front": (0.0, 0.0), "side": (0.0, -90.0), "top": (90.0, 0.0), "oblique": (20.0, -35.0)}


@dataclass
class _Clip:
    """One sequence projected to screen coordinates (metres, v up) with its drawing metadata."""

    uv: np.ndarray        # [M, T, V, 2]
    depth: np.ndarray     # [M, T, V], larger = closer to the viewer
    valid: np.ndarray     # [M, T, V]
    layout: SkeletonLayout
    bounds: Tuple[float, float, float, float]  # umin, umax, vmin, vmax over the clip
    floor_v: Optional[float]
    title: str
    label: str
    synthetic: bool

    @property
    def num_frames(self) -> int:
        return int(self.uv.shape[1])


def _rot_y(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _rot_x(deg: float) -> np.ndarray:
    a = math.radians(deg)
    c, s = math.cos(a), math.sin(a)
    return np.array([[1.0, 0.0, 0.0], [0.0, c, -s], [0.0, s, c]])


def _to_y_up(up_axis: int) -> np.ndarray:
    """Proper rotation taking the data's vertical axis onto +y."""
    if up_axis == 1:
        return np.eye(3)
    if up_axis == 2:  # (x, y, z) -> (x, z, -y)
        return np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])
    if up_axis == 0:  # (x, y, z) -> (y, x, -z)
        return np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]])
    raise DataError(f"up_axis must be 0, 1 or 2, got {up_axis!r}", field="up_axis")


def _parse_view(view: View) -> Tuple[float, float]:
    if isinstance(view, str):
        if view not in VIEWS:
            raise DataError(f"unknown view {view!r}; use one of {sorted(VIEWS)} or (elev, azim)", field="view")
        return VIEWS[view]
    try:
        elev, azim = (float(v) for v in view)
    except (TypeError, ValueError):
        raise DataError(f"view must be a name or (elev, azim) in degrees, got {view!r}", field="view") from None
    return elev, azim


def _facing_yaw(kp: np.ndarray, valid: np.ndarray, layout: SkeletonLayout) -> float:
    """Yaw (degrees about +y) of the body's forward direction in the first frame where the
    shoulder-axis joints are present; 0 if none is."""
    right = list(axis_end_indices(layout.xaxis[0]))
    left = list(axis_end_indices(layout.xaxis[1]))
    person = kp[0]
    ok = valid[0][:, right + left].all(axis=1)
    if not ok.any():
        return 0.0
    t = int(np.argmax(ok))
    across = person[t, left].mean(axis=0) - person[t, right].mean(axis=0)  # right -> left
    forward = np.array([-across[2], 0.0, across[0]])  # across x up
    if np.linalg.norm(forward) < 1e-9:
        return 0.0
    return math.degrees(math.atan2(forward[0], forward[2]))


def _as_persons(seq: np.ndarray, layout: SkeletonLayout, name: str) -> np.ndarray:
    x = np.asarray(seq)
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[-1] != 3:
        raise DataError(f"expected [T, V, 3] or [M, T, V, 3], got shape {np.shape(seq)}", sample=name, field="seqs")
    if x.shape[1] == 0:
        raise DataError("zero frames", sample=name, field="seqs")
    if x.shape[2] != layout.num_joints:
        raise DataError(f"layout {layout.name!r} has {layout.num_joints} joints, data has {x.shape[2]}",
                        sample=name, field="seqs")
    if not np.issubdtype(x.dtype, np.number) or not np.all(np.isfinite(x)):
        raise DataError("must be finite numbers (NaN/inf found or non-numeric dtype)", sample=name, field="seqs")
    return x.astype(np.float64)


def _prepare(seq: np.ndarray, layout: LayoutLike, view: View, up_axis: Optional[int], face_viewer: bool,
             title: str, label: str, synthetic: bool) -> _Clip:
    lay = get_layout(layout)
    kp = _as_persons(seq, lay, title)
    valid = np.any(kp != 0, axis=-1)
    kp = kp @ _to_y_up(lay.up_axis if up_axis is None else int(up_axis)).T
    elev, azim = _parse_view(view)
    yaw = _facing_yaw(kp, valid, lay) if face_viewer else 0.0
    rot = _rot_x(elev) @ _rot_y(-azim) @ _rot_y(-yaw)
    cam = kp @ rot.T
    uv, depth = cam[..., :2], cam[..., 2]
    if valid.any():
        pts = uv[valid]
        bounds = (float(pts[:, 0].min()), float(pts[:, 0].max()), float(pts[:, 1].min()), float(pts[:, 1].max()))
    else:
        bounds = (-1.0, 1.0, -1.0, 1.0)
    # a floor line only makes sense for a level camera; from above, depth would shift it
    floor_v = bounds[2] if abs(elev) < 5 and valid.any() else None
    return _Clip(uv, depth, valid, lay, bounds, floor_v, title, label, bool(synthetic))
