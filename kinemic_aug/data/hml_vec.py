"""The 263-d HumanML3D motion feature ("hml_vec"), both ways, following HumanML3D's own process.

Text-to-motion diffusion models (MDM and KineMIC's fine-tuned copy) read and write motion in this
representation, and a pretrained MDM only understands features made exactly the way HumanML3D made
its ``new_joint_vecs``. So :func:`joints_to_hml_vec` reproduces HumanML3D's
``motion_representation`` step (``process_file``) and :func:`recover_from_ric` its decoder: the
reference clip ``new_joints/012314.npy`` encodes to ``new_joint_vecs/012314.npy`` and back (see
``tests/test_hml_vec.py`` for the tolerances).

Input: SMPL-22 joint positions ``[T, 22, 3]`` (metres, y-up, 20 fps, layout ``smpl22``). Output:
``[T-1, 263]``; feature frame ``t`` describes input frames ``t`` and ``t+1``::

    [0]        1   root angular velocity about +y: arcsin of the y part of the quaternion
                   r[t+1] * r[t]^-1, i.e. HALF the heading change (rad), see (6) below
    [1:3]      2   root linear velocity (x, z) from t to t+1, rotated by the heading of frame t+1 (4)
    [3]        1   root (pelvis) height above the floor at t
    [4:67]    63   "ric": joints 1..21 at t relative to the root's ground point, rotated by the
                   heading of t (body faces +z); y stays the absolute height
    [67:193] 126   "rot": joints 1..21, 6D rotations (first two columns of the rotation matrix) of
                   the inverse-kinematics fit, see (5)
    [193:259] 66   velocities of all 22 joints from t to t+1, rotated by the heading of frame t
    [259:263]  4   foot contacts (1 = planted): L_ankle, L_foot, R_ankle, R_foot

:data:`HML_SLICES` names these slices.

The steps, in HumanML3D's order, and the conventions it uses (some of them odd; they are followed
here because a pretrained model learned them):

1. Optionally (``uniform_skeleton=True``) rescale every bone to the HumanML3D target skeleton
   (:data:`HUMANML3D_BONE_LENGTHS`) along its own direction, scaling the root path by the ratio of
   right-leg lengths (thigh + shin, measured on the first frame). HumanML3D always does this; it is
   off by default here because retargeting is the domain code's job and keeping a subject's bones
   keeps :func:`recover_from_ric` an exact inverse.
2. Floor: subtract the lowest y over all joints and frames.
3. Origin: move the root's first-frame ground point to x = z = 0.
4. Face +z: rotate about y so that the first frame's forward direction, up x across with
   across = (R_hip - L_hip) + (R_shoulder - L_shoulder), points along +z (raw, unsmoothed).
5. Per-frame heading ("root rotation") for every later step: forward = up x across with
   **across = (L_hip - R_hip) + (R_shoulder - L_shoulder)**. The hip term has the opposite sign of
   step 4 because HumanML3D's inverse kinematics unpacks the same face-joint list in another order;
   shoulders are wider than hips, so the direction still points roughly forward, but hips and
   shoulders partly cancel instead of adding. The forward vectors are smoothed over time with a
   Gaussian (sigma 20 frames, edges repeated) and the **first frame's rotation is replaced by the
   identity**. The root linear velocity of frame t is rotated by the heading of frame **t+1**
   (HumanML3D's off-by-one), the joint velocities by that of frame t.
6. Angular velocity: arcsin of the y component of r[t+1] r[t]^-1, with each r the w >= 0
   quaternion of its heading. When the heading crosses +-180 degrees this picks the antipodal
   quaternion and the value changes sign; HumanML3D's files have that glitch and so does this.
7. ``rot``: for each kinematic chain of :data:`KINEMATIC_CHAINS`, the rotation that turns the
   bone's rest direction (:data:`REST_DIRECTIONS`: legs and arms point down, feet and head forward)
   into its current direction, made local to the rotations before it on the chain. Each chain
   starts from the heading rotation, so the arm chains do not inherit the spine's rotation.
8. Foot contacts: squared displacement of the foot joint between frames (after step 4) below
   ``feet_thre`` (0.002 m^2 at 20 fps).

Where HumanML3D would produce NaN (a zero-length bone, a bone exactly opposite its rest direction,
a forward vector exactly along -z) the rotations here are the identity or the 180-degree turn.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Dict, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError
from ..skeleton.layout import get_layout
# the decoder and the slice table are re-exported: callers import them from here
from .hml_vec_decode import recover_from_ric, recover_root_rot_pos, recover_with_last_frame  # noqa: F401
from .hml_vec_layout import HML_DIM, HML_SLICES, NUM_JOINTS  # noqa: F401
from .quaternions import qbetween, qinv, qmul, qrot, quat_to_cont6d, yaw_quat

_SMPL = get_layout("smpl22")
PARENTS: Tuple[int, ...] = _SMPL.parents
R_HIP, L_HIP, R_SHOULDER, L_SHOULDER = (_SMPL.index(n) for n in ("R_hip", "L_hip", "R_shoulder", "L_shoulder"))
FOOT_L = (_SMPL.index("L_ankle"), _SMPL.index("L_foot"))
FOOT_R = (_SMPL.index("R_ankle"), _SMPL.index("R_foot"))
#: right thigh and shin (child joints): their lengths set the root scale of the uniform skeleton
LEG = (_SMPL.index("R_knee"), _SMPL.index("R_ankle"))

#: HumanML3D's kinematic chains (``t2m_kinematic_chain``): right leg, left leg, spine, right arm, left arm.
KINEMATIC_CHAINS: Tuple[Tuple[int, ...], ...] = (
    (0, 2, 5, 8, 11), (0, 1, 4, 7, 10), (0, 3, 6, 9, 12, 15), (9, 14, 17, 19, 21), (9, 13, 16, 18, 20))

#: Rest direction of each bone (child - parent) in the body frame, HumanML3D's ``t2m_raw_offsets``:
#: facing +z, y up, the body's left at +x; hips and collars sideways, legs, arms and hands down,
#: spine and neck up, feet and head forward.
REST_DIRECTIONS = np.array([
    [0, 0, 0], [1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0], [0, 1, 0], [0, -1, 0], [0, -1, 0],
    [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 1, 0], [1, 0, 0], [-1, 0, 0], [0, 0, 1], [0, -1, 0], [0, -1, 0],
    [0, -1, 0], [0, -1, 0], [0, -1, 0], [0, -1, 0]], dtype=np.float64)

#: Bone lengths (m, indexed by child joint; 0 for the root) of the skeleton every HumanML3D clip is
#: retargeted to (the first frame of clip ``000021``). Measured on the official reference clip
#: ``new_joints/012314.npy``, whose bones are constant to 1.3e-6 m over its 170 frames.
HUMANML3D_BONE_LENGTHS = np.array([
    0.0, 0.103074, 0.109883, 0.131568, 0.393623, 0.390188, 0.143190, 0.432433, 0.425643, 0.057365, 0.143382,
    0.149419, 0.219360, 0.137487, 0.143383, 0.103039, 0.131614, 0.122984, 0.256840, 0.263092, 0.266012,
    0.269876], dtype=np.float64)


@dataclass
class HmlVecConfig:
    """Encoding knobs (defaults: HumanML3D's, except ``uniform_skeleton``).

    Attributes:
        feet_thre: a foot joint is in contact when its squared displacement between consecutive
            frames is below this (m^2; HumanML3D: 0.002 at 20 fps).
        heading_sigma: Gaussian smoothing of the per-frame forward direction, in frames (HumanML3D: 20;
            0 = off).
        floor: ``"clip"`` (lowest joint over the whole clip at y = 0, as HumanML3D), ``"first"``
            (lowest joint of the first frame) or ``"none"``.
        uniform_skeleton: rescale bones to ``bone_lengths`` first (HumanML3D always does).
        bone_lengths: target lengths for ``uniform_skeleton`` (default :data:`HUMANML3D_BONE_LENGTHS`).
    """

    feet_thre: float = 0.002
    heading_sigma: float = 20.0
    floor: str = "clip"
    uniform_skeleton: bool = False
    bone_lengths: Optional[Sequence[float]] = None


# ------------------------------------------------------------------------- encoding
def _check_joints(joints: Any) -> np.ndarray:
    j = np.asarray(joints)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise DataError(f"expected SMPL-22 joints [T, 22, 3], got shape {j.shape}", field="joints")
    if j.shape[0] < 2:
        raise DataError(f"need at least 2 frames (features are per frame pair), got {j.shape[0]}", field="joints")
    if not (np.issubdtype(j.dtype, np.floating) or np.issubdtype(j.dtype, np.integer)):
        raise DataError(f"expected a real-valued array, got dtype {j.dtype}", field="joints")
    if not np.all(np.isfinite(j)):
        raise DataError("contains NaN or inf", field="joints")
    return j.astype(np.float64)


def _forward(joints: np.ndarray, across: np.ndarray, what: str) -> np.ndarray:
    """Horizontal unit forward directions ``up x across`` ([..., 3]); degenerate frames raise."""
    across = np.array(across, dtype=np.float64)
    n = np.linalg.norm(across, axis=-1, keepdims=True)
    if np.any(n < 1e-9):
        bad = int(np.argmax(n.reshape(-1) < 1e-9))
        raise DataError(f"frame {bad}: hips and shoulders give no left-right direction, cannot compute the {what}",
                        field="joints")
    return np.cross(np.array([0.0, 1.0, 0.0]), across / n)


def heading_forward(joints: np.ndarray, sigma: float = 20.0) -> np.ndarray:
    """HumanML3D's per-frame forward vectors ``[T, 3]`` (step 5 of the module docstring): hip term
    L_hip - R_hip, Gaussian-smoothed over ``sigma`` frames, unit length."""
    j = np.asarray(joints, dtype=np.float64)
    fwd = _forward(j, (j[:, L_HIP] - j[:, R_HIP]) + (j[:, R_SHOULDER] - j[:, L_SHOULDER]), "heading")
    if sigma > 0 and len(fwd) > 1:
        from scipy.ndimage import gaussian_filter1d

        fwd = gaussian_filter1d(fwd, sigma, axis=0, mode="nearest")
    n = np.linalg.norm(fwd, axis=-1, keepdims=True)
    if np.any(n < 1e-9):
        raise DataError(f"frame {int(np.argmax(n[:, 0] < 1e-9))}: smoothed forward direction vanishes", field="joints")
    return fwd / n


def heading_angles(joints: np.ndarray, sigma: float = 20.0) -> np.ndarray:
    """Per-frame heading ``phi[T]`` (rad; 0 = facing +z, positive towards +x), unwrapped in time,
    from :func:`heading_forward`."""
    f = heading_forward(joints, sigma)
    return np.unwrap(np.arctan2(f[:, 0], f[:, 2]))


def root_rotations(joints: np.ndarray, sigma: float = 20.0) -> np.ndarray:
    """The heading quaternions ``r[T, 4]`` that turn each frame to face +z, frame 0 the identity
    (HumanML3D's root rotations)."""
    f = heading_forward(joints, sigma)
    r = qbetween(f, np.array([0.0, 0.0, 1.0]))
    r[0] = (1.0, 0.0, 0.0, 0.0)
    return r


def inverse_kinematics(joints: np.ndarray, root_rot: np.ndarray) -> np.ndarray:
    """Local joint rotations ``[T, 22, 4]`` (root = ``root_rot``) along :data:`KINEMATIC_CHAINS`
    from :data:`REST_DIRECTIONS` (step 7 of the module docstring)."""
    j = np.asarray(joints, dtype=np.float64)
    q = np.zeros(j.shape[:-1] + (4,))
    q[:, 0] = root_rot
    for chain in KINEMATIC_CHAINS:
        acc = root_rot
        for a, b in zip(chain[:-1], chain[1:]):
            glob = qbetween(REST_DIRECTIONS[b], j[:, b] - j[:, a])
            local = qmul(qinv(acc), glob)
            q[:, b] = local
            acc = qmul(acc, local)
    return q


def uniform_skeleton(joints: np.ndarray, bone_lengths: Optional[Sequence[float]] = None) -> np.ndarray:
    """Rescale each bone of ``joints`` ``[T, 22, 3]`` to ``bone_lengths`` (default the HumanML3D target
    skeleton) along its current direction, the root path scaled by the ratio of right-leg lengths
    (thigh + shin) on the first frame, as HumanML3D's ``uniform_skeleton``."""
    j = _check_joints(joints)
    tgt = np.asarray(HUMANML3D_BONE_LENGTHS if bone_lengths is None else bone_lengths, dtype=np.float64)
    if tgt.shape != (NUM_JOINTS,) or not np.all(np.isfinite(tgt)) or np.any(tgt[1:] <= 0):
        raise DataError(f"bone_lengths must be 22 positive lengths (index 0 unused), got shape {tgt.shape}",
                        field="bone_lengths")
    src_leg = sum(float(np.linalg.norm(j[0, c] - j[0, PARENTS[c]])) for c in LEG)
    if src_leg < 1e-9:
        raise DataError("frame 0: the right leg has zero length, cannot scale the skeleton", field="joints")
    out = np.zeros_like(j)
    out[:, 0] = j[:, 0] * (float(tgt[list(LEG)].sum()) / src_leg)
    for chain in KINEMATIC_CHAINS:
        for a, b in zip(chain[:-1], chain[1:]):
            d = j[:, b] - j[:, a]
            n = np.linalg.norm(d, axis=-1, keepdims=True)
            unit = np.where(n > 1e-9, d / np.maximum(n, 1e-12), REST_DIRECTIONS[b])
            out[:, b] = out[:, a] + unit * tgt[b]
    return out


def canonical_info(joints: np.ndarray, config: Optional[HmlVecConfig] = None) -> Dict[str, Any]:
    """Floor height, origin and first-frame facing angle that :func:`to_canonical` removes (steps 2-4),
    measured after the optional uniform skeleton."""
    config = config or HmlVecConfig()
    j = _check_joints(joints)
    if config.uniform_skeleton:
        j = uniform_skeleton(j, config.bone_lengths)
    return _canonical_info(j, config)


def _canonical_info(j: np.ndarray, config: HmlVecConfig) -> Dict[str, Any]:
    if config.floor == "clip":
        floor = float(j[..., 1].min())
    elif config.floor == "first":
        floor = float(j[0, :, 1].min())
    elif config.floor == "none":
        floor = 0.0
    else:
        raise DataError(f"floor must be 'clip', 'first' or 'none', got {config.floor!r}", field="floor")
    f0 = j[0]
    fwd = _forward(f0, (f0[R_HIP] - f0[L_HIP]) + (f0[R_SHOULDER] - f0[L_SHOULDER]), "facing of frame 0")
    return {"floor": floor, "origin_xz": [float(j[0, 0, 0]), float(j[0, 0, 2])],
            "heading0": float(np.arctan2(fwd[0], fwd[2])), "uniform_skeleton": bool(config.uniform_skeleton)}


def to_canonical(joints: np.ndarray, info: Dict[str, Any]) -> np.ndarray:
    """Apply the floor / origin / facing transform described by ``info`` (from :func:`canonical_info`)
    to joints that are already on the target skeleton when ``info['uniform_skeleton']``."""
    j = np.asarray(joints, dtype=np.float64)
    shift = np.array([info["origin_xz"][0], info["floor"], info["origin_xz"][1]])
    return qrot(yaw_quat(-info["heading0"]), j - shift)


def from_canonical(joints: np.ndarray, info: Dict[str, Any]) -> np.ndarray:
    """Undo :func:`to_canonical`: put canonical (or recovered) joints back where the input was."""
    j = np.asarray(joints, dtype=np.float64)
    shift = np.array([info["origin_xz"][0], info["floor"], info["origin_xz"][1]])
    return qrot(yaw_quat(info["heading0"]), j) + shift


def joints_to_hml_vec(joints: np.ndarray, feet_thre: float = 0.002, *, config: Optional[HmlVecConfig] = None,
                      return_info: bool = False) -> Union[np.ndarray, Tuple[np.ndarray, Dict[str, Any]]]:
    """SMPL-22 joint positions ``[T, 22, 3]`` → HumanML3D features ``[T-1, 263]`` (float32).

    Args:
        joints: metres, y-up, layout ``smpl22``, 20 fps for the velocities to match pretrained models.
        feet_thre: foot-contact threshold (squared displacement per frame, m^2).
        config: further options (:class:`HmlVecConfig`); its ``feet_thre`` is overridden by the argument.
        return_info: also return the canonicalisation (floor, origin, facing) so that
            :func:`from_canonical` can put recovered joints back in the input's frame.

    Raises:
        DataError: wrong shape, fewer than 2 frames, NaN/inf, or degenerate hips/shoulders.
    """
    cfg = replace(config or HmlVecConfig(), feet_thre=float(feet_thre))
    j = _check_joints(joints)
    if cfg.uniform_skeleton:
        j = uniform_skeleton(j, cfg.bone_lengths)
    info = _canonical_info(j, cfg)
    x = to_canonical(j, info)                                      # [T, 22, 3], faced +z at frame 0
    t = x.shape[0]

    disp2 = np.sum((x[1:] - x[:-1]) ** 2, axis=-1)                 # [T-1, 22]
    feet_l = (disp2[:, list(FOOT_L)] < cfg.feet_thre).astype(np.float64)
    feet_r = (disp2[:, list(FOOT_R)] < cfg.feet_thre).astype(np.float64)

    r = root_rotations(x, cfg.heading_sigma)                       # [T, 4]
    rot6 = quat_to_cont6d(inverse_kinematics(x, r))[:, 1:]        # [T, 21, 6]
    root = x[:, 0]
    lin = qrot(r[1:], root[1:] - root[:-1])[:, [0, 2]]            # next frame's heading (step 5)
    rot_vel = np.arcsin(np.clip(qmul(r[1:], qinv(r[:-1]))[:, 2], -1.0, 1.0))
    ground = x - root[:, None] * np.array([1.0, 0.0, 1.0])
    ric = qrot(r[:, None], ground)                                # [T, 22, 3]
    local_vel = qrot(r[:-1, None], x[1:] - x[:-1])                # current frame's heading

    feats = np.concatenate([
        rot_vel[:, None], lin, root[:-1, 1:2],
        ric[:-1, 1:].reshape(t - 1, -1), rot6[:-1].reshape(t - 1, -1),
        local_vel.reshape(t - 1, -1), feet_l, feet_r,
    ], axis=-1).astype(np.float32)
    assert feats.shape == (t - 1, HML_DIM)
    return (feats, info) if return_info else feats

