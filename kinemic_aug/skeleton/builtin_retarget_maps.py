"""The built-in retarget tables: for each built-in layout, its joints *to* SMPL-22 and back.

Importing this module registers them (the package's ``__init__`` does); the mechanism that compiles
and checks a table, and composes two of them, is :mod:`.retarget`. Each table is data, one entry
per target joint: a source joint name, or weights over source joints that sum to 1.
"""
from __future__ import annotations

from typing import Dict, Tuple

from .layout import get_layout
from .retarget import CANONICAL, JointSpec, register_retarget_map

def _mix(**weights: float) -> Dict[str, float]:
    return dict(weights)


def _sided(template: Dict[str, JointSpec], target: Tuple[str, str], source: Tuple[str, str]) -> Dict[str, JointSpec]:
    """Instantiate a one-sided table for both sides: ``<T>`` becomes the target layout's left
    (then right) prefix and ``<S>`` the source layout's, so left maps to left by construction."""
    out: Dict[str, JointSpec] = {}
    for t, s in zip(target, source):
        def sub(name: str) -> str:
            return name.replace("<T>", t).replace("<S>", s)
        for key, spec in template.items():
            out[sub(key)] = sub(spec) if isinstance(spec, str) else {sub(n): w for n, w in spec.items()}
    return out


# Identity for the hub itself, so that every registered layout including SMPL-22 has a map.
_SMPL_NAMES = get_layout(CANONICAL).joint_names
_IDENTITY = {j: j for j in _SMPL_NAMES}

# -- NTU RGB+D, Kinect v2 (25). The KineMIC reference code's Kinect-25 -> SMPL-22 rule: 17 joints
# copied, collars 0.4 of the way from spine_shoulder to the shoulder, spine3 halfway between
# spine_mid and spine_shoulder; hands, tips and thumbs dropped. spine1 sits 0.4 of the way from
# spine_base to spine_mid (SMPL's spine1 is ~0.2 of pelvis->neck) and spine2 is spine_mid.
_NTU_TO_SMPL: Dict[str, JointSpec] = {
    "pelvis": "spine_base", "neck": "neck", "head": "head",
    "spine1": _mix(spine_base=0.6, spine_mid=0.4),
    "spine2": "spine_mid",
    "spine3": _mix(spine_mid=0.5, spine_shoulder=0.5),
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle", "<T>foot": "<S>foot",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
        "<T>collar": {"spine_shoulder": 0.6, "<S>shoulder": 0.4},
    }, ("L_", "R_"), ("left_", "right_")),
}
# Back: spine_shoulder is the midpoint of the collars (for Kinect data that is ~spine_shoulder
# again, since 0.6*ss + 0.4*mean(shoulders) ≈ ss); the hand point sits 0.3 forearm lengths past
# the wrist, the tip 0.55; the thumb 0.4 past the wrist and slightly towards the body midline
# (along shoulder->collar).
_NTU_FROM_SMPL: Dict[str, JointSpec] = {
    "spine_base": "pelvis", "spine_mid": "spine2", "neck": "neck", "head": "head",
    "spine_shoulder": _mix(L_collar=0.5, R_collar=0.5),
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle", "<T>foot": "<S>foot",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
        "<T>hand": {"<S>wrist": 1.3, "<S>elbow": -0.3},
        "<T>hand_tip": {"<S>wrist": 1.55, "<S>elbow": -0.55},
        "<T>thumb": {"<S>wrist": 1.4, "<S>elbow": -0.4, "<S>collar": 0.3, "<S>shoulder": -0.3},
    }, ("left_", "right_"), ("L_", "R_")),
}

# -- MSR Action3D, Kinect v1 (20). Kinect v1 has no separate neck: the joint named 'neck' is the
# shoulder centre (Kinect v2's spine_shoulder), and 'spine' is the mid-spine. SMPL's neck sits a
# little above the shoulder centre, so it takes 0.2 of the way to the head.
_MSR_TO_SMPL: Dict[str, JointSpec] = {
    "pelvis": "hip_center", "head": "head",
    "neck": _mix(neck=0.8, head=0.2),
    "spine1": _mix(hip_center=0.6, spine=0.4),
    "spine2": "spine",
    "spine3": _mix(spine=0.5, neck=0.5),
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle", "<T>foot": "<S>foot",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
        "<T>collar": {"neck": 0.6, "<S>shoulder": 0.4},
    }, ("L_", "R_"), ("left_", "right_")),
}
_MSR_FROM_SMPL: Dict[str, JointSpec] = {
    "hip_center": "pelvis", "spine": "spine2", "head": "head",
    "neck": _mix(L_collar=0.5, R_collar=0.5),
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle", "<T>foot": "<S>foot",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
        "<T>hand": {"<S>wrist": 1.3, "<S>elbow": -0.3},
    }, ("left_", "right_"), ("L_", "R_")),
}

# -- Kinect v1 in the SDK order (MSRC-12, Kinder-Gator, NW-UCLA) and in UTD-MHAD's order: the same
# joint names as MSR Action3D, so the same tables apply.
# -- Bandai Namco BVH (22). Hips/Spine/Chest/Neck/Head carry the spine; the clavicle joints
# Shoulder_L/R are SMPL's collars; Toes_* (named *_foot) is the ball of the foot like SMPL's foot.
# The ground anchor joint_Root takes no part (it is not a body point). SMPL's spine2 sits between
# Spine and Chest.
_BANDAI_TO_SMPL: Dict[str, JointSpec] = {
    "pelvis": "hip_center", "spine1": "spine", "spine2": _mix(spine=0.5, Chest=0.5), "spine3": "Chest",
    "neck": "neck", "head": "head",
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle", "<T>foot": "<S>foot",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
    }, ("L_", "R_"), ("left_", "right_")),
    "L_collar": "Shoulder_L", "R_collar": "Shoulder_R",
}
_BANDAI_FROM_SMPL: Dict[str, JointSpec] = {
    "joint_Root": "pelvis", "hip_center": "pelvis", "spine": "spine1", "Chest": "spine3", "neck": "neck",
    "head": "head", "Shoulder_L": "L_collar", "Shoulder_R": "R_collar",
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle", "<T>foot": "<S>foot",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
    }, ("left_", "right_"), ("L_", "R_")),
}

# -- DeepMimic humanoid (15 FK points; the humanoid file's joint offsets times 0.25 m): chest 0.24 m above the
# root, neck 0.22 m above the chest, no head or toes. The head is extrapolated 0.4 of chest->neck
# above the neck; the SMPL foot 0.1 shank lengths below the ankle.
_DM_TO_SMPL: Dict[str, JointSpec] = {
    "pelvis": "root", "neck": "neck",
    "spine1": _mix(root=0.55, chest=0.45),
    "spine2": "chest",
    "spine3": _mix(chest=0.75, neck=0.25),
    "head": _mix(neck=1.4, chest=-0.4),
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle",
        "<T>foot": {"<S>ankle": 1.1, "<S>knee": -0.1},
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
        "<T>collar": {"neck": 0.6, "<S>shoulder": 0.4},
    }, ("L_", "R_"), ("left_", "right_")),
}
_DM_FROM_SMPL: Dict[str, JointSpec] = {
    "root": "pelvis", "chest": "spine2", "neck": "neck",
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle",
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
    }, ("left_", "right_"), ("L_", "R_")),
}

# -- CMU BVH (cgspeed). In the BVH rest pose LowerBack sits on Hips, Neck and both *Shoulder
# (clavicle) joints sit on Spine1, and Neck1 (dropped from the layout) is halfway Neck->Head.
# UpLeg/Leg/Foot/ToeBase = hip/knee/ankle/ball of foot; Arm/ForeArm/Hand = shoulder/elbow/wrist.
_CMU_TO_SMPL: Dict[str, JointSpec] = {
    "pelvis": "Hips", "spine1": "Spine", "spine3": "Spine1", "head": "Head",
    "spine2": _mix(Spine=0.3, Spine1=0.7),
    "neck": _mix(Neck=0.5, Head=0.5),
    **_sided({
        "<T>hip": "<S>UpLeg", "<T>knee": "<S>Leg", "<T>ankle": "<S>Foot", "<T>foot": "<S>ToeBase",
        "<T>shoulder": "<S>Arm", "<T>elbow": "<S>ForeArm", "<T>wrist": "<S>Hand",
        "<T>collar": {"<S>Shoulder": 0.6, "<S>Arm": 0.4},
    }, ("L_", "R_"), ("Left", "Right")),
}
_CMU_FROM_SMPL: Dict[str, JointSpec] = {
    "Hips": "pelvis", "LowerBack": "pelvis", "Spine": "spine1", "Spine1": "spine3", "Neck": "spine3",
    "Head": "head",
    **_sided({
        "<T>UpLeg": "<S>hip", "<T>Leg": "<S>knee", "<T>Foot": "<S>ankle", "<T>ToeBase": "<S>foot",
        "<T>Shoulder": "spine3", "<T>Arm": "<S>shoulder", "<T>ForeArm": "<S>elbow", "<T>Hand": "<S>wrist",
    }, ("Left", "Right"), ("L_", "R_")),
}

# -- COCO-17 (3-D lifts). COCO has no spine: pelvis and spine joints sit on the line from the hip
# midpoint to the shoulder midpoint at SMPL's proportions (0.17 / 0.38 / 0.63 / 0.75 of the way);
# the neck is the shoulder midpoint raised 0.3 of the way to the ears; the head is the ear midpoint.
def _hip_to_shoulder(f: float) -> Dict[str, float]:
    h, s = round((1.0 - f) / 2.0, 6), round(f / 2.0, 6)
    return {"left_hip": h, "right_hip": h, "left_shoulder": s, "right_shoulder": s}


_COCO_TO_SMPL: Dict[str, JointSpec] = {
    "pelvis": _hip_to_shoulder(0.17),
    "spine1": _hip_to_shoulder(0.38),
    "spine2": _hip_to_shoulder(0.63),
    "spine3": _hip_to_shoulder(0.75),
    "neck": _mix(left_shoulder=0.35, right_shoulder=0.35, left_ear=0.15, right_ear=0.15),
    "head": _mix(left_ear=0.5, right_ear=0.5),
    **_sided({
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle",
        "<T>foot": {"<S>ankle": 1.1, "<S>knee": -0.1},
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
    }, ("L_", "R_"), ("left_", "right_")),
    # collar 0.4 of the way from the shoulder midpoint to the shoulder: 0.7 same side, 0.3 other
    "L_collar": _mix(left_shoulder=0.7, right_shoulder=0.3),
    "R_collar": _mix(right_shoulder=0.7, left_shoulder=0.3),
}
# Face points: the nose 0.3 of neck->head above the head joint, eyes and ears displaced sideways
# along collar->shoulder (0.4 and 0.8 of it) from the head joint.
_COCO_FROM_SMPL: Dict[str, JointSpec] = {
    "nose": _mix(head=1.3, neck=-0.3),
    **_sided({
        "<T>eye": {"head": 1.15, "neck": -0.15, "<S>shoulder": 0.4, "<S>collar": -0.4},
        "<T>ear": {"head": 1.0, "<S>shoulder": 0.8, "<S>collar": -0.8},
        "<T>shoulder": "<S>shoulder", "<T>elbow": "<S>elbow", "<T>wrist": "<S>wrist",
        "<T>hip": "<S>hip", "<T>knee": "<S>knee", "<T>ankle": "<S>ankle",
    }, ("left_", "right_"), ("L_", "R_")),
}

register_retarget_map(CANONICAL, to_smpl=_IDENTITY, from_smpl=_IDENTITY)
register_retarget_map("nturgb+d", to_smpl=_NTU_TO_SMPL, from_smpl=_NTU_FROM_SMPL)
register_retarget_map("msr_action3d", to_smpl=_MSR_TO_SMPL, from_smpl=_MSR_FROM_SMPL)
register_retarget_map("kinect_v1_sdk", to_smpl=_MSR_TO_SMPL, from_smpl=_MSR_FROM_SMPL)
register_retarget_map("utd_mhad", to_smpl=_MSR_TO_SMPL, from_smpl=_MSR_FROM_SMPL)
register_retarget_map("bandai22", to_smpl=_BANDAI_TO_SMPL, from_smpl=_BANDAI_FROM_SMPL)
register_retarget_map("deepmimic15", to_smpl=_DM_TO_SMPL, from_smpl=_DM_FROM_SMPL)
register_retarget_map("cmu_bvh", to_smpl=_CMU_TO_SMPL, from_smpl=_CMU_FROM_SMPL)
register_retarget_map("coco", to_smpl=_COCO_TO_SMPL, from_smpl=_COCO_FROM_SMPL)
