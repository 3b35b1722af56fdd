"""The 263-d HumanML3D motion feature ("hml_vec"), both ways.

Text-to-motion diffusion models (MDM and KineMIC's fine-tuned copy) read and write motion in this
representation, not as joint positions. :func:`joints_to_hml_vec` turns SMPL-22 joint positions
``[T, 22, 3]`` (metres, y-up, 20 fps) into features ``[T-1, 263]``; :func:`recover_from_ric`
turns features back into positions. The layout is easy to get wrong, so here it is slice by slice
(frame ``t`` of the features describes input frames ``t`` and ``t+1``)::

    [0]        1   root angular velocity about +y, stored as HALF the yaw change from t to t+1 (rad)
    [1:3]      2   root linear velocity (x, z) from t to t+1, in the body-heading frame of frame t
    [3]        1   root (pelvis) height above the floor at t
    [4:67]    63   "ric": joints 1..21 at t, relative to the root's ground projection, rotated so the
                   body faces +z (heading-invariant); the y component stays absolute height
    [67:193] 126   "rot": joints 1..21, 6D rotations (first two columns of the rotation matrix)
    [193:259] 66   local velocities of all 22 joints from t to t+1, in the heading frame of frame t
    [259:263]  4   foot contacts (1 = planted): L_ankle, L_foot, R_ankle, R_foot

:data:`HML_SLICES` names these slices. Before encoding, the clip is put in a canonical frame as
HumanML3D does: the lowest joint over the clip touches the floor (y = 0), the root's first-frame
ground position is the origin and the first frame faces +z.

Heading. The body's forward direction is the horizontal perpendicular of the "across" vector
(right hip − left hip) + (right shoulder − left shoulder), smoothed over time with a Gaussian
(sigma 20 frames, as in HumanML3D) so that torso sway does not read as turning.

Differences from HumanML3D's own script, on purpose:

* No retargeting to a reference skeleton first (that needs per-joint IK on a template body); the
  features keep the input's bone lengths.
* ``rot`` is an approximation: SMPL joint rotations need an IK fit that is not available here. For
  each joint we store the local rotation of the minimal (swing-only, no twist) rotation that turns
  the bone's T-pose direction into its current direction, relative to the parent's swing, in the
  heading frame. Nothing in :func:`recover_from_ric` reads it.
* Root linear velocity is rotated into the heading frame of the *current* frame by default, which
  is exactly what :func:`recover_from_ric` undoes, so positions survive a round trip. HumanML3D's
  script uses the *next* frame's heading (a known off-by-one); pass
  ``root_velocity_frame="next"`` to reproduce its files bit-for-bit in that slice.
* The first frame is turned to face +z using the *smoothed* heading, so the first recovered frame
  coincides with the canonical input (HumanML3D uses the raw first-frame heading, which leaves a
  small constant yaw between input and recovery).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, Optional, Tuple, Union

import numpy as np

from ..errors import DataError
from ..skeleton.layout import get_layout

NUM_JOINTS = 22
HML_DIM = 263

#: Named slices of the 263-d vector (see the module docstring for what each one holds).
HML_SLICES: Dict[str, slice] = {
    "root_rot_vel": slice(0, 1),
    "root_lin_vel": slice(1, 3),
    "root_y": slice(3, 4),
    "ric": slice(4, 4 + (NUM_JOINTS - 1) * 3),                      # 4:67
    "rot": slice(67, 67 + (NUM_JOINTS - 1) * 6),                    # 67:193
    "local_vel": slice(193, 193 + NUM_JOINTS * 3),                  # 193:259
    "foot_contact": slice(259, 263),
}
assert HML_SLICES["foot_contact"].stop == HML_DIM

_SMPL = get_layout("smpl22")
PARENTS: Tuple[int, ...] = _SMPL.parents
# joints that define the heading: right hip, left hip, right shoulder, left shoulder
R_HIP, L_HIP, R_SHOULDER, L_SHOULDER = (_SMPL.index(n) for n in ("R_hip", "L_hip", "R_shoulder", "L_shoulder"))
FOOT_L = (_SMPL.index("L_ankle"), _SMPL.index("L_foot"))
FOOT_R = (_SMPL.index("R_ankle"), _SMPL.index("R_foot"))

# T-pose bone directions (child − parent) in the body frame: facing +z, y up, the body's left at +x.
_REST_DIRS = np.zeros((NUM_JOINTS, 3))
for _name, _d in {
    "L_hip": (1, 0, 0), "R_hip": (-1, 0, 0), "spine1": (0, 1, 0), "L_knee": (0, -1, 0), "R_knee": (0, -1, 0),
    "spine2": (0, 1, 0), "L_ankle": (0, -1, 0), "R_ankle": (0, -1, 0), "spine3": (0, 1, 0), "L_foot": (0, 0, 1),
    "R_foot": (0, 0, 1), "neck": (0, 1, 0), "L_collar": (1, 0, 0), "R_collar": (-1, 0, 0), "head": (0, 1, 0),
    "L_shoulder": (1, 0, 0), "R_shoulder": (-1, 0, 0), "L_elbow": (1, 0, 0), "R_elbow": (-1, 0, 0),
    "L_wrist": (1, 0, 0), "R_wrist": (-1, 0, 0),
}.items():
    _REST_DIRS[_SMPL.index(_name)] = _d


@dataclass
class HmlVecConfig:
    """Encoding knobs.

    Attributes:
        feet_thre: a foot point is in contact when its squared displacement between consecutive
            frames is below this (m², HumanML3D's 0.002 at 20 fps).
        heading_sigma: Gaussian smoothing of the forward direction over time, in frames (0 = off).
        floor: ``"clip"`` (lowest joint over the whole clip at y = 0, as HumanML3D), ``"first"``
            (lowest joint of the first frame) or ``"none"``.
        root_velocity_frame: ``"current"`` (exactly invertible) or ``"next"`` (HumanML3D's files).
    """

    feet_thre: float = 0.002
    heading_sigma: float = 20.0
    floor: str = "clip"
    root_velocity_frame: str = "current"


# ------------------------------------------------------------------------- small rotation helpers
def _roty(v: np.ndarray, ang: np.ndarray) -> np.ndarray:
    """Rotate vectors ``v[..., 3]`` about +y by ``ang`` (broadcast over leading dims)."""
    c, s = np.cos(ang), np.sin(ang)
    x, y, z = v[..., 0], v[..., 1], v[..., 2]
    return np.stack([c * x + s * z, y, -s * x + c * z], axis=-1)


def _qmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    aw, ax, ay, az = np.moveaxis(a, -1, 0)
    bw, bx, by, bz = np.moveaxis(b, -1, 0)
    return np.stack([aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw], axis=-1)


def _qconj(q: np.ndarray) -> np.ndarray:
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def _qbetween(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Unit quaternion (w, x, y, z) of the minimal rotation taking direction ``u`` to ``v``.
    Zero-length ``v`` gives the identity; opposite directions turn about an axis normal to ``u``."""
    un = u / np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-12)
    vlen = np.linalg.norm(v, axis=-1, keepdims=True)
    vn = np.where(vlen > 1e-9, v / np.maximum(vlen, 1e-12), un)
    w = 1.0 + np.sum(un * vn, axis=-1, keepdims=True)
    axis = np.cross(un, vn)
    q = np.concatenate([w, axis], axis=-1)
    opposite = w[..., 0] < 1e-9
    if np.any(opposite):
        # any axis normal to u: u × x, or u × z when u is along x
        alt = np.cross(un, np.array([1.0, 0.0, 0.0]))
        small = np.linalg.norm(alt, axis=-1, keepdims=True) < 1e-6
        alt = np.where(small, np.cross(un, np.array([0.0, 0.0, 1.0])), alt)
        q = np.where(opposite[..., None], np.concatenate([np.zeros_like(w), alt], axis=-1), q)
    return q / np.linalg.norm(q, axis=-1, keepdims=True)


def _quat_to_cont6d(q: np.ndarray) -> np.ndarray:
    """First two columns of the rotation matrix of ``q``, concatenated: [..., 6]."""
    w, x, y, z = np.moveaxis(q, -1, 0)
    col0 = np.stack([1 - 2 * (y * y + z * z), 2 * (x * y + w * z), 2 * (x * z - w * y)], axis=-1)
    col1 = np.stack([2 * (x * y - w * z), 1 - 2 * (x * x + z * z), 2 * (y * z + w * x)], axis=-1)
    return np.concatenate([col0, col1], axis=-1)


# ------------------------------------------------------------------------- encoding
def _check_joints(joints: Any) -> np.ndarray:
    j = np.asarray(joints)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise DataError(f"expected SMPL-22 joints [T, 22, 3], got shape {j.shape}", field="joints")
    if j.shape[0] < 2:
        raise DataError(f"need at least 2 frames (features are per frame pair), got {j.shape[0]}", field="joints")
    if not np.issubdtype(j.dtype, np.number):
        raise DataError(f"expected a numeric array, got dtype {j.dtype}", field="joints")
    if not np.all(np.isfinite(j)):
        raise DataError("contains NaN or inf", field="joints")
    return j.astype(np.float64)


def heading_angles(joints: np.ndarray, sigma: float = 20.0) -> np.ndarray:
    """Per-frame heading ``phi[T]`` (rad; 0 = facing +z, positive towards +x), unwrapped in time.

    The forward direction is up × across, across = (R_hip − L_hip) + (R_shoulder − L_shoulder),
    projected on the ground and smoothed with a Gaussian of ``sigma`` frames.
    """
    j = np.asarray(joints, dtype=np.float64)
    across = (j[:, R_HIP] - j[:, L_HIP]) + (j[:, R_SHOULDER] - j[:, L_SHOULDER])
    across[:, 1] = 0.0
    n = np.linalg.norm(across, axis=-1, keepdims=True)
    if np.any(n < 1e-9):
        bad = int(np.argmax(n[:, 0] < 1e-9))
        raise DataError(f"frame {bad}: hips and shoulders are degenerate (no left-right direction), cannot "
                        "compute the heading", field="joints")
    across /= n
    forward = np.cross(np.array([0.0, 1.0, 0.0]), across)  # [T, 3], horizontal
    if sigma > 0 and len(forward) > 1:
        from scipy.ndimage import gaussian_filter1d

        forward = gaussian_filter1d(forward, sigma, axis=0, mode="nearest")
    phi = np.arctan2(forward[:, 0], forward[:, 2])
    return np.unwrap(phi)


def canonical_info(joints: np.ndarray, config: Optional[HmlVecConfig] = None) -> Dict[str, Any]:
    """Floor height, origin and initial heading that :func:`to_canonical` removes."""
    config = config or HmlVecConfig()
    j = _check_joints(joints)
    if config.floor == "clip":
        floor = float(j[..., 1].min())
    elif config.floor == "first":
        floor = float(j[0, :, 1].min())
    elif config.floor == "none":
        floor = 0.0
    else:
        raise DataError(f"floor must be 'clip', 'first' or 'none', got {config.floor!r}", field="floor")
    phi = heading_angles(j, config.heading_sigma)
    return {"floor": floor, "origin_xz": [float(j[0, 0, 0]), float(j[0, 0, 2])], "heading0": float(phi[0]),
            "heading": phi}


def to_canonical(joints: np.ndarray, info: Dict[str, Any]) -> np.ndarray:
    """Apply the floor / origin / facing transform described by ``info`` (from :func:`canonical_info`)."""
    j = np.asarray(joints, dtype=np.float64)
    shift = np.array([info["origin_xz"][0], info["floor"], info["origin_xz"][1]])
    return _roty(j - shift, -info["heading0"])


def from_canonical(joints: np.ndarray, info: Dict[str, Any]) -> np.ndarray:
    """Undo :func:`to_canonical`: put canonical (or recovered) joints back where the input was."""
    j = np.asarray(joints, dtype=np.float64)
    shift = np.array([info["origin_xz"][0], info["floor"], info["origin_xz"][1]])
    return _roty(j, info["heading0"]) + shift


def joints_to_hml_vec(joints: np.ndarray, feet_thre: float = 0.002, *, config: Optional[HmlVecConfig] = None,
                      return_info: bool = False) -> Union[np.ndarray, Tuple[np.ndarray, Dict[str, Any]]]:
    """SMPL-22 joint positions ``[T, 22, 3]`` → 263-d features ``[T-1, 263]`` (float32).

    Args:
        joints: metres, y-up, HumanML3D joint order (layout ``smpl22``), 20 fps for the velocities
            to match pretrained models.
        feet_thre: foot-contact threshold (squared displacement per frame, m²).
        config: further options (:class:`HmlVecConfig`); its ``feet_thre`` is overridden by the argument.
        return_info: also return the canonicalisation (floor, origin, heading) so that
            :func:`from_canonical` can put recovered joints back in the input's frame.

    Raises:
        DataError: wrong shape, fewer than 2 frames, NaN/inf, or degenerate hips/shoulders.
    """
    cfg = replace(config or HmlVecConfig(), feet_thre=float(feet_thre))
    if cfg.root_velocity_frame not in ("current", "next"):
        raise DataError(f"root_velocity_frame must be 'current' or 'next', got {cfg.root_velocity_frame!r}",
                        field="root_velocity_frame")
    info = canonical_info(joints, cfg)
    x = to_canonical(joints, info)  # [T, 22, 3]
    t = x.shape[0]
    # yaw that turns frame t's facing onto +z; 0 at the first frame by construction
    a = -(info["heading"] - info["heading"][0])

    root = x[:, 0]
    rot_vel = (a[1:] - a[:-1]) / 2.0
    dv = root[1:] - root[:-1]
    lin = _roty(dv, a[:-1] if cfg.root_velocity_frame == "current" else a[1:])[:, [0, 2]]
    root_y = root[:-1, 1:2]

    ground = x - np.stack([root[:, 0], np.zeros(t), root[:, 2]], axis=-1)[:, None]
    ric = _roty(ground, a[:, None])  # [T, 22, 3]; heading-invariant

    bones = ric[:, 1:] - ric[:, np.asarray(PARENTS[1:])]          # [T, 21, 3] in the heading frame
    swing = np.concatenate([np.tile([1.0, 0.0, 0.0, 0.0], (t, 1, 1)), _qbetween(_REST_DIRS[1:][None], bones)], axis=1)
    local = _qmul(_qconj(swing[:, np.asarray(PARENTS[1:])]), swing[:, 1:])  # [T, 21, 4]
    rot6 = _quat_to_cont6d(local)

    local_vel = _roty(x[1:] - x[:-1], a[:-1, None])               # [T-1, 22, 3]
    disp2 = np.sum((x[1:] - x[:-1]) ** 2, axis=-1)                # [T-1, 22]
    feet_l = (disp2[:, list(FOOT_L)] < cfg.feet_thre).astype(np.float64)
    feet_r = (disp2[:, list(FOOT_R)] < cfg.feet_thre).astype(np.float64)

    feats = np.concatenate([
        rot_vel[:, None], lin, root_y,
        ric[:-1, 1:].reshape(t - 1, -1), rot6[:-1].reshape(t - 1, -1),
        local_vel.reshape(t - 1, -1), feet_l, feet_r,
    ], axis=-1).astype(np.float32)
    assert feats.shape == (t - 1, HML_DIM)
    if return_info:
        info = dict(info, heading=info["heading"].tolist())
        return feats, info
    return feats


# ------------------------------------------------------------------------- decoding
def _is_torch(x: Any) -> bool:
    return type(x).__module__.startswith("torch")


def recover_root_rot_pos(feats: Any) -> Tuple[Any, Any]:
    """Root yaw angle ``[..., T]`` (rad, the rotation that turns the body to face +z) and root
    position ``[..., T, 3]`` integrated from the first four feature channels."""
    if _is_torch(feats):
        import torch as xp

        cumsum = lambda v: xp.cumsum(v, dim=-1)  # noqa: E731
        cat = lambda seq: xp.cat(seq, dim=-1)  # noqa: E731
        stack = lambda seq: xp.stack(seq, dim=-1)  # noqa: E731
    else:
        xp = np
        cumsum = lambda v: np.cumsum(v, axis=-1)  # noqa: E731
        cat = lambda seq: np.concatenate(seq, axis=-1)  # noqa: E731
        stack = lambda seq: np.stack(seq, axis=-1)  # noqa: E731
    rot_vel = feats[..., 0]
    zero = rot_vel[..., :1] * 0
    yaw = 2.0 * cumsum(cat([zero, rot_vel[..., :-1]]))             # [..., T]
    lx, lz = feats[..., :-1, 1], feats[..., :-1, 2]
    c, s = xp.cos(-yaw[..., :-1]), xp.sin(-yaw[..., :-1])
    vx, vz = c * lx + s * lz, -s * lx + c * lz
    px, pz = cumsum(cat([zero, vx])), cumsum(cat([zero, vz]))
    return yaw, stack([px, feats[..., 3], pz])


def recover_from_ric(feats: Any, joints_num: int = NUM_JOINTS) -> Any:
    """263-d features ``[..., T, 263]`` → joint positions ``[..., T, 22, 3]`` (numpy or torch in,
    same type out; torch keeps device and gradients).

    Uses only the root channels [0:4] and ``ric`` [4:67]: the root path is integrated from the
    angular and linear velocities starting at the origin facing +z, and each joint is ``ric``
    rotated back by the root yaw and shifted by the root's ground position.

    Raises:
        DataError: the last axis is not 263 wide or there is no time axis.
    """
    shape = tuple(feats.shape)
    if len(shape) < 2 or shape[-1] != HML_DIM or joints_num != NUM_JOINTS:
        raise DataError(f"expected features [..., T, {HML_DIM}] for {NUM_JOINTS} joints, got shape {shape}",
                        field="feats")
    torch_in = _is_torch(feats)
    if not torch_in:
        feats = np.asarray(feats)
        if not np.all(np.isfinite(feats)):
            raise DataError("features contain NaN or inf", field="feats")
        out_dtype = feats.dtype if np.issubdtype(feats.dtype, np.floating) else np.float32
        feats = feats.astype(np.float64)
    yaw, root = recover_root_rot_pos(feats)
    ric = feats[..., 4:4 + (NUM_JOINTS - 1) * 3].reshape(shape[:-1] + (NUM_JOINTS - 1, 3))
    if torch_in:
        import torch as xp

        c, s = xp.cos(-yaw)[..., None], xp.sin(-yaw)[..., None]
    else:
        xp = np
        c, s = np.cos(-yaw)[..., None], np.sin(-yaw)[..., None]
    x, y, z = ric[..., 0], ric[..., 1], ric[..., 2]
    wx = c * x + s * z + root[..., None, 0]
    wz = -s * x + c * z + root[..., None, 2]
    joints = xp.stack([wx, y, wz], **({"dim": -1} if torch_in else {"axis": -1}))
    joints = xp.cat([root[..., None, :], joints], dim=-2) if torch_in else np.concatenate([root[..., None, :], joints],
                                                                                           axis=-2)
    return joints if torch_in else joints.astype(out_dtype)
