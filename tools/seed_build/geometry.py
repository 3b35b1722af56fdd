"""Ground-plane geometry of SMPL-22 takes: facing, floor, canonical start and looping cyclic clips."""
from __future__ import annotations

from typing import Tuple

import numpy as np

from kinemic_aug.skeleton.layout import get_layout

from .recorded import LAYOUT

_SMPL = get_layout(LAYOUT)
_L_HIP, _R_HIP = _SMPL.index("L_hip"), _SMPL.index("R_hip")
_L_SH, _R_SH = _SMPL.index("L_shoulder"), _SMPL.index("R_shoulder")


def facing_angle(frame: np.ndarray) -> float:
    """Heading (radians about +y) of the body in one ``[22, 3]`` frame, measured from +z.

    The across-body vector is right minus left (hips plus shoulders, as HumanML3D does);
    forward = up × across.
    """
    across = (frame[_R_HIP] - frame[_L_HIP]) + (frame[_R_SH] - frame[_L_SH])
    fwd = np.cross([0.0, 1.0, 0.0], across)
    return float(np.arctan2(fwd[0], fwd[2]))


def rot_y(angle: float) -> np.ndarray:
    """3x3 rotation by ``angle`` (radians) about +y."""
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def canonicalise(x: np.ndarray) -> np.ndarray:
    """Root at the origin (x, z) in the first frame, facing +z; heights untouched."""
    x = x.astype(np.float64)
    origin = x[0, 0].copy()
    origin[1] = 0.0
    r = rot_y(-facing_angle(x[0]))
    return ((x - origin) @ r.T).astype(np.float32)


def to_floor(x: np.ndarray) -> np.ndarray:
    """Shift so the lowest joint of the whole take is at y = 0 (HumanML3D's rule: usually a foot;
    the knees while crawling, the hands in a roll)."""
    x = x.copy()
    x[..., 1] -= x[..., 1].min()
    return x


def ground_motion(a: np.ndarray, b: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best yaw rotation about +y plus x/z shift taking pose ``a [V, 3]`` onto pose ``b`` (least squares).

    Returns ``(R, ca, cb)`` so that ``(y - ca) @ R.T + cb`` moves any pose like ``a`` to ``b``.
    Fitting all joints at once is far steadier than comparing one body-heading estimate per frame,
    which swings with the pelvis and shoulder twist of a gait.
    """
    ca, cb = a.mean(0) * [1, 0, 1], b.mean(0) * [1, 0, 1]
    pa, pb = a - ca, b - cb
    theta = np.arctan2(np.sum(pa[:, 2] * pb[:, 0] - pa[:, 0] * pb[:, 2]), np.sum(pa[:, 0] * pb[:, 0] + pa[:, 2] * pb[:, 2]))
    return rot_y(float(theta)), ca, cb


def loop_cycles(x: np.ndarray, min_frames: int, blend: float = 0.25) -> Tuple[np.ndarray, int, float]:
    """Repeat a cyclic clip (its last frame is the first pose again) whole cycles until it has
    ``min_frames``.

    Each repeat is the previous cycle moved by the ground-plane motion (yaw + x/z shift) that takes
    the first frame onto the last, so a walk keeps walking and a curve keeps curving. The source
    cycles do not close exactly (a few cm at the hands); the mismatch at each seam is faded out over
    the first ``blend`` of the new cycle so no joint jumps. Returns the frames, the number of cycles
    and the closure error (m, largest joint distance between the last frame and the moved first one).
    """
    r, ca, cb = ground_motion(x[0], x[-1])

    def move(y: np.ndarray) -> np.ndarray:
        return (y - ca) @ r.T + cb

    closure = float(np.linalg.norm(move(x[0]) - x[-1], axis=-1).max())
    k = max(2, int(round(blend * (len(x) - 1))))
    fade = np.clip(1.0 - np.arange(len(x)) / k, 0.0, 1.0)[:, None, None]
    out, cycle, n = [x], x, 1
    while sum(len(o) for o in out) < min_frames:
        nxt = move(cycle)
        nxt = nxt + fade * (cycle[-1] - nxt[0])  # start exactly where the previous cycle ended
        out.append(nxt[1:])
        cycle, n = nxt, n + 1
    return np.concatenate(out).astype(np.float32), n, closure
