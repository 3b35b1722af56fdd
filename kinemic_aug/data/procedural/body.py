"""A parametric SMPL-22 body: rest offsets for a subject and forward kinematics.

The procedural corpus needs joint positions that behave like a real skeleton: bone lengths that
never change within a clip, proportions that differ between people, and poses reached only
through joint rotations. This module owns that geometry and nothing else; *what* the joints do
lives in :mod:`.pose` (anatomical angles) and :mod:`.actions`.

Conventions (same as the ``'smpl22'`` layout): y up, metres, the person faces +z at rest and
their LEFT side is +x. The rest pose is a neutral standing pose with the arms hanging straight
down (not SMPL's T-pose): hanging arms make "zero rotation" mean "relaxed", so most action
angles are small offsets from it.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, Optional

import numpy as np

from ...skeleton.layout import SMPL22

PARENTS = np.asarray(SMPL22.parents, dtype=np.int64)
NUM_JOINTS = len(PARENTS)
J = {name: i for i, name in enumerate(SMPL22.joint_names)}

# Average adult (1.70 m) rest offsets from each joint's parent, LEFT side (+x); right mirrors x.
# Derived from textbook segment-length ratios (hip ~0.52 H, knee ~0.28 H, shoulder ~0.83 H,
# upper arm ~0.17 H, forearm ~0.15 H) and the usual placement of SMPL joint centres.
_REST_LEFT = {
    "pelvis": (0.0, 0.0, 0.0),
    "spine1": (0.0, 0.100, -0.010),
    "spine2": (0.0, 0.130, 0.005),
    "spine3": (0.0, 0.055, 0.010),
    "neck": (0.0, 0.215, -0.020),
    "head": (0.0, 0.095, 0.035),
    "hip": (0.065, -0.075, 0.000),
    "knee": (0.000, -0.400, 0.005),
    "ankle": (0.000, -0.400, -0.030),
    "foot": (0.000, -0.050, 0.130),
    "collar": (0.075, 0.145, -0.015),
    "shoulder": (0.105, 0.030, -0.010),
    "elbow": (0.000, -0.290, 0.000),
    "wrist": (0.000, -0.250, 0.010),
}
HEAD_TOP = 0.155  # head joint to the top of the skull, for the subject's standing height
PELVIS_HEIGHT_REST = 0.950


@dataclass
class Subject:
    """Body proportions and movement style of one synthetic person.

    Proportions are ratios around the average adult so that a subject is a few numbers that
    can be stored in clip metadata; style values bias the neutral pose and scale every action
    so that two people doing "the same" action still move differently.
    """

    height: float = 1.70          # standing height in metres (1.50 - 1.95)
    leg_ratio: float = 1.0        # thigh + shank length factor
    arm_ratio: float = 1.0        # upper arm + forearm length factor
    torso_ratio: float = 1.0      # pelvis-to-neck length factor
    shoulder_width: float = 1.0   # collar + shoulder lateral offset factor
    hip_width: float = 1.0        # hip joint lateral offset factor
    energy: float = 1.0           # amplitude multiplier for actions (0.8 - 1.2)
    tempo: float = 1.0            # speed multiplier for actions (0.85 - 1.15)
    posture: float = 0.0          # trunk flexion bias in degrees (slouch > 0)
    arm_carriage: float = 0.0     # extra elbow flexion / abduction at rest, degrees
    stance: float = 0.0           # extra hip abduction at rest (wider feet), degrees
    toe_out: float = 6.0          # hip external rotation at rest, degrees

    def to_dict(self) -> Dict[str, float]:
        return {k: round(float(v), 4) for k, v in asdict(self).items()}


def sample_subject(rng: np.random.Generator) -> Subject:
    """Draw a plausible adult: heights 1.50-1.95 m, proportions within a few percent of average."""
    return Subject(
        height=float(np.clip(rng.normal(1.71, 0.09), 1.50, 1.95)),
        leg_ratio=float(rng.uniform(0.95, 1.05)),
        arm_ratio=float(rng.uniform(0.95, 1.05)),
        torso_ratio=float(rng.uniform(0.95, 1.05)),
        shoulder_width=float(rng.uniform(0.90, 1.12)),
        hip_width=float(rng.uniform(0.90, 1.12)),
        energy=float(rng.uniform(0.85, 1.15)),
        tempo=float(rng.uniform(0.88, 1.12)),
        posture=float(rng.uniform(-2.0, 7.0)),
        arm_carriage=float(rng.uniform(0.0, 10.0)),
        stance=float(rng.uniform(0.0, 3.0)),
        toe_out=float(rng.uniform(2.0, 12.0)),
    )


def rest_offsets(subject: Optional[Subject] = None) -> np.ndarray:
    """``[22, 3]`` offsets of each joint from its parent for ``subject`` (row 0 is zero).

    Segment groups are scaled by the subject's ratios, then the whole body is scaled so that
    head top height equals ``subject.height``.
    """
    s = subject or Subject()
    off = np.zeros((NUM_JOINTS, 3), dtype=np.float64)
    for side, sign in (("L_", 1.0), ("R_", -1.0)):
        for part in ("hip", "knee", "ankle", "foot", "collar", "shoulder", "elbow", "wrist"):
            v = np.array(_REST_LEFT[part], dtype=np.float64)
            v[0] *= sign
            off[J[side + part]] = v
    for name in ("spine1", "spine2", "spine3", "neck", "head"):
        off[J[name]] = _REST_LEFT[name]
    for name in ("spine1", "spine2", "spine3", "neck"):
        off[J[name]] *= s.torso_ratio
    for side in ("L_", "R_"):
        off[J[side + "knee"]] *= s.leg_ratio
        off[J[side + "ankle"]] *= s.leg_ratio
        off[J[side + "elbow"]] *= s.arm_ratio
        off[J[side + "wrist"]] *= s.arm_ratio
        off[J[side + "hip"], 0] *= s.hip_width
        off[J[side + "collar"], 0] *= s.shoulder_width
        off[J[side + "shoulder"], 0] *= s.shoulder_width
    return off * (s.height / _standing_height(off))


def _standing_height(off: np.ndarray) -> float:
    """Head-top height of the rest pose standing on the floor (lowest foot joint at its sole)."""
    pos = _rest_positions(off)
    floor = min(pos[J["L_ankle"], 1] - ANKLE_CLEARANCE_REST, pos[J["L_foot"], 1] - FOOT_CLEARANCE_REST)
    return float(pos[J["head"], 1] + HEAD_TOP - floor)


def _rest_positions(off: np.ndarray) -> np.ndarray:
    pos = np.zeros_like(off)
    for j in range(1, NUM_JOINTS):
        pos[j] = pos[PARENTS[j]] + off[j]
    return pos


# Distance from a joint centre to the skin that touches the floor when that joint supports the
# body (for a 1.70 m adult; scaled with the subject). Ankle/foot values put the sole on y = 0.
ANKLE_CLEARANCE_REST = 0.075
FOOT_CLEARANCE_REST = 0.025
SUPPORT_CLEARANCE = {
    "L_ankle": ANKLE_CLEARANCE_REST, "R_ankle": ANKLE_CLEARANCE_REST,
    "L_foot": FOOT_CLEARANCE_REST, "R_foot": FOOT_CLEARANCE_REST,
    "L_knee": 0.055, "R_knee": 0.055, "L_wrist": 0.035, "R_wrist": 0.035,
    "L_elbow": 0.045, "R_elbow": 0.045, "pelvis": 0.10, "head": 0.10,
}


def support_clearances(subject: Optional[Subject] = None) -> Dict[int, float]:
    """Joint index -> floor clearance in metres for the joints that may touch the floor."""
    scale = (subject or Subject()).height / 1.70
    return {J[k]: v * scale for k, v in SUPPORT_CLEARANCE.items()}


def forward_kinematics(local_rot: np.ndarray, offsets: np.ndarray,
                       root_pos: Optional[np.ndarray] = None) -> np.ndarray:
    """Joint positions ``[T, 22, 3]`` from local rotations ``[T, 22, 3, 3]``.

    ``local_rot[:, j]`` rotates joint ``j``'s children relative to its parent's frame; row 0 is
    the global pelvis orientation. Every bone keeps its rest length exactly, whatever the
    rotations, because positions are only ever reached by rotating the fixed offsets.
    """
    local_rot = np.asarray(local_rot, dtype=np.float64)
    t = local_rot.shape[0]
    glob = np.empty_like(local_rot)
    pos = np.zeros((t, NUM_JOINTS, 3), dtype=np.float64)
    glob[:, 0] = local_rot[:, 0]
    if root_pos is not None:
        pos[:, 0] = root_pos
    for j in range(1, NUM_JOINTS):
        p = PARENTS[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ offsets[j]
        glob[:, j] = glob[:, p] @ local_rot[:, j]
    return pos


def bone_lengths(joints: np.ndarray) -> np.ndarray:
    """``[..., 21]`` lengths of the child-parent bones (joint 1..21) of SMPL-22 positions."""
    joints = np.asarray(joints)
    return np.linalg.norm(joints[..., 1:, :] - joints[..., PARENTS[1:], :], axis=-1)
