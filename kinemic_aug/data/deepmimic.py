"""DeepMimic motion files (``pybullet_data/data/motions/humanoid3d_*.txt``) to joint positions.

DeepMimic stores a motion as JSON ``{"Loop": "wrap"|"none", "Frames": [[44 floats], ...]}``. Each frame
holds the joint *rotations* of the DeepMimic humanoid (a 13-joint character defined by
``pybullet_data/humanoid/humanoid.urdf``), not positions, so positions come from forward kinematics
with that character's link offsets. The pybullet wheel is the only registry package that carries
real human motion clips (walk, run, jump, kick, ...), which is why the seed corpus starts here.

Frame layout (44 floats; y-up, metres; quaternions ``w, x, y, z`` relative to the parent link)::

    [0]      frame duration dt (s) to the next frame
    [1:4]    root position          [4:8]    root rotation
    [8:12]   chest rotation          [12:16]  neck rotation
    [16:20]  right hip rotation      [20]     right knee angle (rad, about the local z axis)
    [21:25]  right ankle rotation    [25:29]  right shoulder rotation   [29] right elbow angle
    [30:34]  left hip rotation       [34]     left knee angle
    [35:39]  left ankle rotation     [39:43]  left shoulder rotation    [43] left elbow angle

The URDF offsets are in the character's model units; pybullet loads the URDF with a global scale of
0.25, so offsets are multiplied by :data:`URDF_SCALE` to get metres (root positions in the files are
already metres). The character faces +x at rest, with its right side at +z: the URDF puts
``right_hip`` at +z and the knee limits (−π..0 about z) bend the shin towards −x, i.e. backwards
for a character facing +x. The data agree: ``humanoid3d_run`` advances along +x and the
``walker/turn_left*`` clips drift towards −z, the character's left.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Dict, Union

import numpy as np

from ..errors import DataError

PathLike = Union[str, os.PathLike]

#: Floats per frame in a DeepMimic humanoid motion file.
FRAME_SIZE = 44
#: URDF model units to metres (pybullet loads ``humanoid.urdf`` with ``globalScaling=0.25``).
URDF_SCALE = 0.25

#: Link offsets from ``humanoid.urdf`` (model units), child ← parent.
URDF_OFFSETS: Dict[str, tuple] = {
    "chest": (0.0, 0.944604, 0.0),
    "neck": (0.0, 0.895576, 0.0),
    "right_hip": (0.0, 0.0, 0.339548),
    "left_hip": (0.0, 0.0, -0.339548),
    "knee": (0.0, -1.686184, 0.0),
    "ankle": (0.0, -1.639480, 0.0),
    "right_shoulder": (-0.0962, 0.974, 0.73244),
    "left_shoulder": (-0.0962, 0.974, -0.73244),
    "elbow": (0.0, -1.099152, 0.0),
    "wrist": (0.0, -1.035788, 0.0),
}

#: Column slices of one frame (see the module docstring).
COLUMNS: Dict[str, Union[slice, int]] = {
    "dt": 0, "root_pos": slice(1, 4), "root_rot": slice(4, 8), "chest": slice(8, 12), "neck": slice(12, 16),
    "right_hip": slice(16, 20), "right_knee": 20, "right_ankle": slice(21, 25), "right_shoulder": slice(25, 29),
    "right_elbow": 29, "left_hip": slice(30, 34), "left_knee": 34, "left_ankle": slice(35, 39),
    "left_shoulder": slice(39, 43), "left_elbow": 43,
}


def read_deepmimic(path: PathLike) -> dict:
    """Read a DeepMimic motion file.

    Returns ``dict(frames=[T, 44] float64, dt=[T] float64, loop=str, fps=float, source=str)``. ``dt[i]``
    is the time from frame ``i`` to ``i + 1`` (the last entry is often 0); ``fps`` is ``1 / median``
    of the positive durations. Malformed files raise :class:`DataError` naming the file, the frame
    (as ``sample``) and the field.
    """
    path = Path(path)
    src = str(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise DataError(f"cannot read: {e}", source=src, field="file") from e
    except json.JSONDecodeError as e:
        raise DataError(f"not JSON (line {e.lineno}, column {e.colno}: {e.msg})", source=src, field="file") from e
    if not isinstance(doc, dict) or "Frames" not in doc:
        raise DataError("expected a JSON object with a 'Frames' list", source=src, field="Frames")
    raw = doc["Frames"]
    if not isinstance(raw, list) or not raw:
        raise DataError("'Frames' must be a non-empty list", source=src, field="Frames")
    for i, fr in enumerate(raw):
        if not isinstance(fr, list) or len(fr) != FRAME_SIZE:
            n = len(fr) if isinstance(fr, list) else type(fr).__name__
            raise DataError(f"expected {FRAME_SIZE} floats per frame, got {n}", source=src, sample=f"frame {i}",
                            field="Frames")
    try:
        frames = np.asarray(raw, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise DataError(f"non-numeric value ({e})", source=src, field="Frames") from e
    bad = ~np.all(np.isfinite(frames), axis=1)
    if bad.any():
        raise DataError("NaN or inf", source=src, sample=f"frame {int(np.nonzero(bad)[0][0])}", field="Frames")
    dt = frames[:, 0].copy()
    if np.any(dt < 0):
        raise DataError("negative frame duration", source=src, sample=f"frame {int(np.nonzero(dt < 0)[0][0])}",
                        field="dt")
    pos = dt[dt > 0]
    if pos.size == 0:
        raise DataError("all frame durations are zero", source=src, field="dt")
    loop = doc.get("Loop", "none")
    if not isinstance(loop, str):
        raise DataError(f"'Loop' must be a string, got {loop!r}", source=src, field="Loop")
    return {"frames": frames, "dt": dt, "loop": loop, "fps": float(1.0 / np.median(pos)), "source": src}


def quat_to_matrix(q: np.ndarray, *, source: str = None, field: str = "quaternion") -> np.ndarray:
    """``[..., 4]`` quaternions (w, x, y, z) to ``[..., 3, 3]`` rotation matrices.

    Quaternions are normalised first (the files round to 6 decimals, and a few frames drift by
    0.5 %); a zero quaternion is a :class:`DataError`.
    """
    q = np.asarray(q, dtype=np.float64)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    if np.any(n < 1e-8):
        raise DataError("zero-length quaternion", source=source, field=field)
    w, x, y, z = np.moveaxis(q / n, -1, 0)
    return np.stack([
        np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)], -1),
        np.stack([2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)], -1),
        np.stack([2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)], -1),
    ], -2)


def _rot_z(angle: np.ndarray) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    o, z = np.ones_like(angle), np.zeros_like(angle)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def deepmimic_to_joints(frames: np.ndarray, *, scale: float = URDF_SCALE, source: str = None) -> np.ndarray:
    """Forward kinematics: ``[T, 44]`` DeepMimic frames to ``[T, 15, 3]`` float32 positions (metres).

    Joint order is layout ``'deepmimic15'``: root, chest, neck, right_hip, right_knee, right_ankle,
    right_shoulder, right_elbow, right_wrist, left_hip, left_knee, left_ankle, left_shoulder,
    left_elbow, left_wrist. The neck and ankle rotations move no output point (there is no head or
    toe point in the character) and are not used.
    """
    f = np.asarray(frames, dtype=np.float64)
    if f.ndim != 2 or f.shape[1] != FRAME_SIZE:
        raise DataError(f"expected [T, {FRAME_SIZE}] frames, got shape {f.shape}", source=source, field="frames")
    if not np.all(np.isfinite(f)):
        raise DataError("NaN or inf in frames", source=source, field="frames")
    for name, sl in COLUMNS.items():  # unused rotations too: a zero quaternion means a corrupt frame
        if isinstance(sl, slice) and sl.stop - sl.start == 4:
            bad = np.linalg.norm(f[:, sl], axis=1) < 1e-8
            if bad.any():
                raise DataError(f"zero-length quaternion in frame {int(np.nonzero(bad)[0][0])}", source=source,
                                field=name)
    off = {k: np.asarray(v) * scale for k, v in URDF_OFFSETS.items()}

    def rot(name: str) -> np.ndarray:
        return quat_to_matrix(f[:, COLUMNS[name]], source=source, field=name)

    def apply(r: np.ndarray, v: np.ndarray) -> np.ndarray:
        return np.einsum("tij,j->ti", r, v)

    root_p = f[:, COLUMNS["root_pos"]]
    r_root = rot("root_rot")
    chest_p = root_p + apply(r_root, off["chest"])
    r_chest = r_root @ rot("chest")
    neck_p = chest_p + apply(r_chest, off["neck"])
    out = [root_p, chest_p, neck_p]
    for side in ("right", "left"):
        hip_p = root_p + apply(r_root, off[f"{side}_hip"])
        r_hip = r_root @ rot(f"{side}_hip")
        knee_p = hip_p + apply(r_hip, off["knee"])
        r_knee = r_hip @ _rot_z(f[:, COLUMNS[f"{side}_knee"]])
        ankle_p = knee_p + apply(r_knee, off["ankle"])
        sh_p = chest_p + apply(r_chest, off[f"{side}_shoulder"])
        r_sh = r_chest @ rot(f"{side}_shoulder")
        elbow_p = sh_p + apply(r_sh, off["elbow"])
        r_elbow = r_sh @ _rot_z(f[:, COLUMNS[f"{side}_elbow"]])
        wrist_p = elbow_p + apply(r_elbow, off["wrist"])
        out += [hip_p, knee_p, ankle_p, sh_p, elbow_p, wrist_p]
    return np.stack(out, axis=1).astype(np.float32)


def frame_times(dt: np.ndarray) -> np.ndarray:
    """Timestamps (s) of each frame from the per-frame durations: ``t[0] = 0, t[i] = sum(dt[:i])``."""
    dt = np.asarray(dt, dtype=np.float64)
    return np.concatenate([[0.0], np.cumsum(dt[:-1])])
