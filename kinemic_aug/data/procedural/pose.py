"""Anatomical degrees of freedom and their mapping to SMPL-22 joint rotations.

Actions are authored as *anatomical angles* (hip flexion, shoulder abduction, trunk twist ...)
in degrees, not as raw rotation matrices: those angles have natural ranges, mirror between
left and right by swapping names, and can be blended linearly during transitions without the
artefacts of interpolating matrices. One track is a ``[T, C]`` float array with one column per
:data:`CHANNELS` entry; the last three columns are not angles but root hints for the ground
solver (``air``: height above the floor in metres, ``vfwd``/``vlat``: commanded horizontal
velocity in the body's heading frame while no limb touches the floor, ``c_l``/``c_r``: which
foot is in stance, trusted in proportion to ``hint_on``; gait cycles know their stance phases
better than a height test does during double support).

Sign conventions are the person's, for both sides: positive flexion brings a limb forward
(knee: bends it), abduction moves it away from the midline, ``*_rot`` of a hip is internal
rotation, of a shoulder external rotation, ``sh_hadd`` is horizontal adduction (across the
chest), ``ankle`` positive is dorsiflexion (toes up). Trunk and root: ``*_flex`` forward,
``*_lat`` bends toward the person's left, ``*_rot``/``root_yaw`` turn toward the left.
"""
from __future__ import annotations

from typing import Dict, List, Mapping, Optional

import numpy as np

from .body import J, NUM_JOINTS, Subject

_SIDE_DOFS = ("hip_flex", "hip_abd", "hip_rot", "knee", "ankle",
              "clav_elev", "clav_prot", "sh_flex", "sh_abd", "sh_hadd", "sh_rot", "elbow")
ANGLE_CHANNELS: List[str] = (
    ["root_yaw", "root_pitch", "root_roll", "spine_flex", "spine_lat", "spine_rot",
     "neck_flex", "neck_lat", "neck_rot"]
    + [f"l_{d}" for d in _SIDE_DOFS] + [f"r_{d}" for d in _SIDE_DOFS]
)
ROOT_CHANNELS: List[str] = ["air", "vfwd", "vlat", "hint_on", "c_l", "c_r"]
CHANNELS: List[str] = ANGLE_CHANNELS + ROOT_CHANNELS
CH = {name: i for i, name in enumerate(CHANNELS)}
NUM_CHANNELS = len(CHANNELS)
NUM_ANGLES = len(ANGLE_CHANNELS)

# Spine flexion/bend/twist is spread over the three spine joints like a real vertebral column.
_SPINE_SHARE = {"spine1": 0.30, "spine2": 0.35, "spine3": 0.35}

# Low-frequency "alive" variation (degrees, 1 sd) per channel group; see :func:`smooth_noise`.
NOISE_DEG = {"root_": 0.6, "spine_": 1.5, "neck_": 3.0, "hip_": 1.2, "knee": 1.5, "ankle": 1.0,
             "clav_": 1.0, "sh_": 2.5, "elbow": 3.0}


def resolve(name: str, side: Optional[str]) -> str:
    """Map side-relative names to channels: ``s_`` = the action's side, ``o_`` = the other side.

    ``side`` is ``'left'``/``'right'``; side-free actions use ``'right'`` as their reference.
    """
    if name[:2] in ("s_", "o_"):
        own = "l" if side == "left" else "r"
        other = "r" if own == "l" else "l"
        return (own if name[0] == "s" else other) + name[1:]
    return name


def side_sign(side: Optional[str]) -> float:
    """+1 for the left side, -1 for the right: multiplies lateral/twist angles (``~`` keys)."""
    return 1.0 if side == "left" else -1.0


def neutral_pose(subject: Optional[Subject] = None) -> np.ndarray:
    """``[C]`` relaxed standing pose of ``subject`` (degrees, hint channels zero)."""
    s = subject or Subject()
    p = np.zeros(NUM_CHANNELS)
    for side in ("l", "r"):
        p[CH[f"{side}_sh_abd"]] = 6.0 + 0.4 * s.arm_carriage
        p[CH[f"{side}_sh_flex"]] = 2.0
        p[CH[f"{side}_elbow"]] = 10.0 + s.arm_carriage
        p[CH[f"{side}_sh_rot"]] = -5.0
        p[CH[f"{side}_knee"]] = 3.0
        p[CH[f"{side}_hip_flex"]] = 1.0
        p[CH[f"{side}_ankle"]] = 1.0
        p[CH[f"{side}_hip_abd"]] = 2.0 + s.stance
        p[CH[f"{side}_hip_rot"]] = -s.toe_out
    p[CH["spine_flex"]] = s.posture
    p[CH["neck_flex"]] = -0.6 * s.posture
    return p


def _rx(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    r = np.zeros(a.shape + (3, 3))
    r[..., 0, 0] = 1.0
    r[..., 1, 1], r[..., 1, 2], r[..., 2, 1], r[..., 2, 2] = c, -s, s, c
    return r


def _ry(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    r = np.zeros(a.shape + (3, 3))
    r[..., 1, 1] = 1.0
    r[..., 0, 0], r[..., 0, 2], r[..., 2, 0], r[..., 2, 2] = c, s, -s, c
    return r


def _rz(a: np.ndarray) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    r = np.zeros(a.shape + (3, 3))
    r[..., 2, 2] = 1.0
    r[..., 0, 0], r[..., 0, 1], r[..., 1, 0], r[..., 1, 1] = c, -s, s, c
    return r


def channels_to_rotations(track: np.ndarray) -> np.ndarray:
    """``[T, C]`` track (degrees) -> ``[T, 22, 3, 3]`` local joint rotations for FK.

    The right side uses the mirror image (about the x = 0 plane) of the left-side mapping, which
    for Euler angles means negating the y- and z-axis components.
    """
    a = np.deg2rad(np.asarray(track, dtype=np.float64)[:, :NUM_ANGLES])
    t = a.shape[0]
    rot = np.broadcast_to(np.eye(3), (t, NUM_JOINTS, 3, 3)).copy()

    def ch(name: str) -> np.ndarray:
        return a[:, CH[name]]

    rot[:, J["pelvis"]] = _ry(ch("root_yaw")) @ _rx(ch("root_pitch")) @ _rz(-ch("root_roll"))
    for joint, w in _SPINE_SHARE.items():
        rot[:, J[joint]] = _ry(w * ch("spine_rot")) @ _rz(-w * ch("spine_lat")) @ _rx(w * ch("spine_flex"))
    rot[:, J["neck"]] = _ry(ch("neck_rot")) @ _rz(-ch("neck_lat")) @ _rx(ch("neck_flex"))
    for side, prefix, m in (("l", "L_", 1.0), ("r", "R_", -1.0)):
        c = lambda d: ch(f"{side}_{d}")  # noqa: E731
        rot[:, J[prefix + "hip"]] = _rz(m * c("hip_abd")) @ _rx(-c("hip_flex")) @ _ry(-m * c("hip_rot"))
        rot[:, J[prefix + "knee"]] = _rx(c("knee"))
        rot[:, J[prefix + "ankle"]] = _rx(-c("ankle"))
        rot[:, J[prefix + "collar"]] = _ry(-m * c("clav_prot")) @ _rz(m * c("clav_elev"))
        rot[:, J[prefix + "shoulder"]] = (_ry(-m * c("sh_hadd")) @ _rz(m * c("sh_abd"))
                                          @ _rx(-c("sh_flex")) @ _ry(m * c("sh_rot")))
        rot[:, J[prefix + "elbow"]] = _rx(-c("elbow"))
    return rot


def apply_delta(base: np.ndarray, delta: Mapping[str, float], side: Optional[str]) -> np.ndarray:
    """``base`` ``[C]`` plus side-resolved deltas (see :func:`expand_key`); e.g.
    ``{'s_sh_flex': 90, 'spine_rot~': -20}`` raises the action-side arm and twists away from it."""
    out = np.array(base, dtype=np.float64, copy=True)
    for k, v in delta.items():
        for idx, val in expand_key(k, v, side):
            out[idx] += val
    return out


def expand_key(key: str, value, side: Optional[str]):
    """``[(channel index, value)]`` for one authored key: resolves ``s_``/``o_`` (action side /
    other side), ``b_`` (both sides) and a trailing ``~`` (times :func:`side_sign`)."""
    if key.endswith("~"):
        key, value = key[:-1], side_sign(side) * value
    if key.startswith("b_"):
        return [(CH["l" + key[1:]], value), (CH["r" + key[1:]], value)]
    return [(CH[resolve(key, side)], value)]


def noise_scale() -> np.ndarray:
    """Per-channel sd (degrees) of the smooth pose noise; zero for the root hint channels."""
    sd = np.zeros(NUM_CHANNELS)
    for i, name in enumerate(ANGLE_CHANNELS):
        bare = name[2:] if name[:2] in ("l_", "r_") else name
        for prefix, v in NOISE_DEG.items():
            if bare.startswith(prefix):
                sd[i] = v
                break
    sd[CH["root_yaw"]] = 2.0
    return sd


def smooth_noise(rng: np.random.Generator, n: int, dims: int, fps: float, knot_seconds: float = 0.7) -> np.ndarray:
    """``[n, dims]`` unit-sd noise that varies slowly (random knots every ``knot_seconds``,
    cubic interpolation): posture drifts like a living person's, never frame-to-frame jitter."""
    from scipy.interpolate import CubicSpline

    dur = n / fps
    k = int(np.ceil(dur / knot_seconds)) + 3
    kt = (np.arange(k) - 1) * knot_seconds - rng.uniform(0, knot_seconds)
    vals = rng.standard_normal((k, dims))
    return CubicSpline(kt, vals, axis=0)(np.arange(n) / fps)


def channel_dict(track: np.ndarray, frame: int) -> Dict[str, float]:
    """One frame of a track as ``{channel: value}`` (debugging and tests)."""
    return {name: float(track[frame, i]) for i, name in enumerate(CHANNELS)}
