"""HumanML3D features ``[..., T, 263]`` back to SMPL-22 joints, as HumanML3D's decoder does.

The inverse of :func:`~kinemic_aug.data.hml_vec.joints_to_hml_vec` (steps and conventions in the
docstring of :mod:`.hml_vec`, which re-exports these functions). It lives apart from the encoder
because it needs none of the encoder's inverse kinematics or skeleton tables, and it accepts torch
tensors as well as numpy arrays (a generator decodes its own outputs with gradients).
"""
from __future__ import annotations

from typing import Any, Tuple

import numpy as np

from ..errors import DataError
from .hml_vec_layout import HML_DIM, HML_SLICES, NUM_JOINTS
from .quaternions import qrot, yaw_quat


def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def _check_feats(feats: Any, joints_num: int = NUM_JOINTS) -> Tuple[Any, bool]:
    shape = tuple(feats.shape)
    if len(shape) < 2 or shape[-1] != HML_DIM or joints_num != NUM_JOINTS:
        raise DataError(f"expected features [..., T, {HML_DIM}] for {NUM_JOINTS} joints, got shape {shape}",
                        field="feats")
    if _is_torch(feats):
        return feats, True
    f = np.asarray(feats)
    if not (np.issubdtype(f.dtype, np.floating) or np.issubdtype(f.dtype, np.integer)):
        raise DataError(f"expected real-valued features, got dtype {f.dtype}", field="feats")
    if not np.all(np.isfinite(f)):
        raise DataError("features contain NaN or inf", field="feats")
    return f.astype(np.float64), False


def _ops(torch_in: bool):
    if torch_in:
        import torch

        return (torch, lambda v: torch.cumsum(v, dim=-1), lambda s: torch.cat(s, dim=-1),
                lambda s, ax: torch.stack(s, dim=ax))
    return (np, lambda v: np.cumsum(v, axis=-1), lambda s: np.concatenate(s, axis=-1),
            lambda s, ax: np.stack(s, axis=ax))


def recover_root_rot_pos(feats: Any) -> Tuple[Any, Any]:
    """Root heading ``yaw[..., T]`` (rad: the rotation about +y that turned frame t to face +z, 0 at
    frame 0) and root position ``[..., T, 3]`` integrated from the first four channels.

    As HumanML3D's decoder: ``yaw[t] = 2 * sum(rot_vel[:t])`` and the step from t to t+1 is the
    stored velocity rotated back by ``yaw[t+1]`` (the next-frame convention of the encoder)."""
    xp, cumsum, cat, stack = _ops(_is_torch(feats))
    rot_vel = feats[..., 0]
    zero = rot_vel[..., :1] * 0
    yaw = 2.0 * cumsum(cat([zero, rot_vel[..., :-1]]))             # [..., T]
    lx, lz = feats[..., :-1, 1], feats[..., :-1, 2]
    c, s = xp.cos(-yaw[..., 1:]), xp.sin(-yaw[..., 1:])
    vx, vz = c * lx + s * lz, -s * lx + c * lz
    px, pz = cumsum(cat([zero, vx])), cumsum(cat([zero, vz]))
    return yaw, stack([px, feats[..., 3], pz], -1)


def recover_from_ric(feats: Any, joints_num: int = NUM_JOINTS) -> Any:
    """HumanML3D features ``[..., T, 263]`` → joint positions ``[..., T, 22, 3]`` (numpy or torch in,
    same type out; torch keeps device, dtype and gradients), as HumanML3D's ``recover_from_ric``.

    Uses only the root channels [0:4] and ``ric`` [4:67]: the root path is integrated by
    :func:`recover_root_rot_pos` from the origin facing +z, and each joint is ``ric`` rotated back by
    the root heading and shifted by the root's ground position.

    Raises:
        DataError: the last axis is not 263 wide, there is no time axis, or values are NaN/inf.
    """
    feats_in = feats
    feats, torch_in = _check_feats(feats, joints_num)
    xp, _, _, stack = _ops(torch_in)
    yaw, root = recover_root_rot_pos(feats)
    shape = tuple(feats.shape)
    ric = feats[..., 4:4 + (NUM_JOINTS - 1) * 3].reshape(shape[:-1] + (NUM_JOINTS - 1, 3))
    c, s = xp.cos(-yaw)[..., None], xp.sin(-yaw)[..., None]
    x, y, z = ric[..., 0], ric[..., 1], ric[..., 2]
    wx = c * x + s * z + root[..., None, 0]
    wz = -s * x + c * z + root[..., None, 2]
    joints = stack([wx, y, wz], -1)
    if torch_in:
        return xp.cat([root[..., None, :], joints], dim=-2)
    out = np.concatenate([root[..., None, :], joints], axis=-2)
    src = np.asarray(feats_in).dtype
    return out.astype(src if np.issubdtype(src, np.floating) else np.float32)


def recover_with_last_frame(feats: Any) -> np.ndarray:
    """All ``T+1`` joint frames of the clip that ``feats`` ``[T, 263]`` were made from (numpy).

    :func:`recover_from_ric` gives frames 0..T-1; the last one follows from the joint velocities of
    the last feature frame (rotated back by its heading). Re-encoding this with
    :func:`joints_to_hml_vec` gives ``feats`` back, whereas re-encoding ``recover_from_ric(feats)``
    changes the last ~80 frames slightly: the heading smoothing sees one frame less at the end.
    """
    f, torch_in = _check_feats(feats)
    if torch_in:
        f = f.detach().cpu().double().numpy()
    if f.ndim != 2:
        raise DataError(f"expected one clip [T, {HML_DIM}], got shape {f.shape}", field="feats")
    joints = recover_from_ric(f)
    yaw, _ = recover_root_rot_pos(f)
    vel = f[-1, HML_SLICES["local_vel"]].reshape(NUM_JOINTS, 3)
    last = joints[-1] + qrot(yaw_quat(-yaw[-1]), vel)
    return np.concatenate([joints, last[None]], axis=0)
