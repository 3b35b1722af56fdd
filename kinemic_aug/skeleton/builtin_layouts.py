"""The built-in skeleton layouts other than the canonical SMPL-22 (which lives beside the registry in
:mod:`.layout`, since everything else is defined against it).

Importing this module registers them; the package's ``__init__`` does so, so any import of
``kinemic_aug.skeleton`` (or one of its modules) sees them. They are data: a user's own skeleton
needs one :class:`~.layout.SkeletonLayout` and :func:`~.layout.register_layout`, not an edit here.

Joint indices, parents and centres follow the public descriptions of each dataset (PYSKL ``graph.py``
for NTU RGB+D and COCO, the MSR Action3D and UTD-MHAD joint lists, the Kinect v1 SDK joint order, the
Bandai Namco BVH skeleton, the DeepMimic humanoid and the CMU BVH skeleton).
"""
from __future__ import annotations

from typing import Sequence, Tuple

from .layout import SkeletonLayout, register_layout

def _parents_from_inward(v: int, inward: Sequence[Tuple[int, int]], root: int) -> Tuple[int, ...]:
    parents = [-1] * v
    for child, parent in inward:
        parents[child] = parent
    parents[root] = -1
    return tuple(parents)


# ---------------------------------------------------------------------- built-in layouts
# NTU RGB+D (Kinect v2), 25 joints. Graph rooted at spine_shoulder (20) as in PYSKL; kinematic
# tree rooted at spine_base (0); bone pairs follow PYSKL's JointToBone (hand tips pair with thumbs).
_NTU_NAMES = (
    "spine_base", "spine_mid", "neck", "head", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
    "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot", "spine_shoulder",
    "left_hand_tip", "left_thumb", "right_hand_tip", "right_thumb",
)
_NTU_INWARD = ((0, 1), (1, 20), (2, 20), (3, 2), (4, 20), (5, 4), (6, 5), (7, 6), (8, 20), (9, 8), (10, 9),
               (11, 10), (12, 0), (13, 12), (14, 13), (15, 14), (16, 0), (17, 16), (18, 17), (19, 18),
               (21, 7), (22, 7), (23, 11), (24, 11))
_NTU_PARENTS = (-1, 0, 20, 2, 20, 4, 5, 6, 20, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18, 1, 7, 7, 11, 11)
_NTU_BONES = tuple((i, p) for i, p in _NTU_INWARD if i not in (21, 23)) + ((21, 22), (23, 24), (20, 20))

NTU25 = register_layout(SkeletonLayout(
    name="nturgb+d", joint_names=_NTU_NAMES, parents=_NTU_PARENTS, center=20,
    zaxis=(0, 1), xaxis=(8, 4), graph_edges=_NTU_INWARD, bone_pairs=tuple(sorted(_NTU_BONES)),
    fps=30.0, description="NTU RGB+D 60/120, Kinect v2, 25 joints (PYSKL 'nturgb+d')",
), aliases=("ntu25", "ntu", "kinect_v2"))

# Kinect v1, 20 joints, in MSR Action3D's file order (root = hip_center).
_MSR_NAMES = (
    "left_shoulder", "right_shoulder", "neck", "spine", "left_hip", "right_hip", "hip_center",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand", "left_knee",
    "right_knee", "left_ankle", "right_ankle", "left_foot", "right_foot", "head",
)
_MSR_PARENTS = (2, 2, 3, 6, 6, 6, -1, 0, 1, 7, 8, 9, 10, 4, 5, 13, 14, 15, 16, 2)
MSR20 = register_layout(SkeletonLayout(
    name="msr_action3d", joint_names=_MSR_NAMES, parents=_MSR_PARENTS, center=6,
    zaxis=(6, 3), xaxis=(1, 0), fps=15.0,
    description="Kinect v1, 20 joints, in MSR Action3D's order (Li et al., CVPRW 2010)",
), aliases=("kinect_v1", "msr20"))

# Kinect v1, 20 joints, in the Kinect SDK's order (NUI_SKELETON_POSITION_INDEX), as recorded by
# MSRC-12, Kinder-Gator and NW-UCLA. Same joints and names as MSR Action3D, another order.
_KV1_NAMES = (
    "hip_center", "spine", "neck", "head", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
    "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
    "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot",
)
_KV1_PARENTS = (-1, 0, 1, 2, 2, 4, 5, 6, 2, 8, 9, 10, 0, 12, 13, 14, 0, 16, 17, 18)
KINECT_V1_SDK = register_layout(SkeletonLayout(
    name="kinect_v1_sdk", joint_names=_KV1_NAMES, parents=_KV1_PARENTS, center=0,
    zaxis=(0, 1), xaxis=(8, 4),
    description="Kinect v1, 20 joints, in the Kinect SDK order (MSRC-12, Kinder-Gator, NW-UCLA)",
), aliases=("msrc12", "kinder_gator", "nw_ucla", "kinect_v1_sdk20"))

# UTD-MHAD: the Kinect v1 joints in the dataset's own order (the SDK order with the first four
# reversed: head first, hip_center fourth).
_UTD_NAMES = ("head", "neck", "spine", "hip_center") + _KV1_NAMES[4:]
_UTD_PARENTS = (1, 2, 3, -1, 1, 4, 5, 6, 1, 8, 9, 10, 3, 12, 13, 14, 3, 16, 17, 18)
UTD20 = register_layout(SkeletonLayout(
    name="utd_mhad", joint_names=_UTD_NAMES, parents=_UTD_PARENTS, center=3,
    zaxis=(3, 2), xaxis=(8, 4), fps=30.0,
    description="Kinect v1, 20 joints, in UTD-MHAD's order (Chen et al., ICIP 2015)",
), aliases=("utd20",))

# Bandai Namco Research Motion dataset (BVH, 22 joints). Index 0 is the BVH ROOT, a ground anchor
# (the 0-1 edge is not a bone); the clavicle joints Shoulder_L/R sit between Chest and the
# shoulders; *_foot is the toe base (ball of the foot).
_BANDAI_NAMES = (
    "joint_Root", "hip_center", "spine", "Chest", "neck", "head", "Shoulder_L", "left_shoulder", "left_elbow",
    "left_wrist", "Shoulder_R", "right_shoulder", "right_elbow", "right_wrist", "left_hip", "left_knee",
    "left_ankle", "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot",
)
_BANDAI_PARENTS = (-1, 0, 1, 2, 3, 4, 3, 6, 7, 8, 3, 10, 11, 12, 1, 14, 15, 16, 1, 18, 19, 20)
BANDAI22 = register_layout(SkeletonLayout(
    name="bandai22", joint_names=_BANDAI_NAMES, parents=_BANDAI_PARENTS, center=1,
    zaxis=(1, 3), xaxis=(11, 7), fps=20.0,
    description="Bandai Namco Research Motion dataset 1+2 BVH skeleton (22 joints incl. a ground anchor)",
), aliases=("bandai_namco_motion", "bandai"))

# DeepMimic humanoid: 15 points from forward kinematics of the 13 driven joints.
_DM_NAMES = (
    "root", "chest", "neck", "right_hip", "right_knee", "right_ankle", "right_shoulder", "right_elbow",
    "right_wrist", "left_hip", "left_knee", "left_ankle", "left_shoulder", "left_elbow", "left_wrist",
)
_DM_PARENTS = (-1, 0, 1, 0, 3, 4, 1, 6, 7, 0, 9, 10, 1, 12, 13)
DEEPMIMIC15 = register_layout(SkeletonLayout(
    name="deepmimic15", joint_names=_DM_NAMES, parents=_DM_PARENTS, center=0,
    zaxis=(0, 1), xaxis=(6, 12), description="DeepMimic humanoid (pybullet_data motions), 15 FK points",
), aliases=("deepmimic",))

# CMU mocap BVH (cgspeed conversion): the 22 joints that carry body motion (auxiliary hip joints,
# Neck1, finger and thumb bones dropped).
_CMU_NAMES = (
    "Hips", "LeftUpLeg", "LeftLeg", "LeftFoot", "LeftToeBase", "RightUpLeg", "RightLeg", "RightFoot",
    "RightToeBase", "LowerBack", "Spine", "Spine1", "Neck", "Head", "LeftShoulder", "LeftArm",
    "LeftForeArm", "LeftHand", "RightShoulder", "RightArm", "RightForeArm", "RightHand",
)
_CMU_PARENTS = (-1, 0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11, 12, 11, 14, 15, 16, 11, 18, 19, 20)
CMU_BVH = register_layout(SkeletonLayout(
    name="cmu_bvh", joint_names=_CMU_NAMES, parents=_CMU_PARENTS, center=0,
    zaxis=(0, 11), xaxis=(19, 15), fps=120.0,
    description="CMU mocap BVH skeleton, useful body joints (22 incl. toes)",
), aliases=("cmu",))

# COCO-17 keypoints (2D detectors; 3D lifts use the same order). Tree rooted at the nose as in PYSKL.
_COCO_NAMES = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip", "right_hip", "left_knee",
    "right_knee", "left_ankle", "right_ankle",
)
_COCO_INWARD = ((15, 13), (13, 11), (16, 14), (14, 12), (11, 5), (12, 6), (9, 7), (7, 5), (10, 8), (8, 6),
                (5, 0), (6, 0), (1, 0), (3, 1), (2, 0), (4, 2))
COCO17 = register_layout(SkeletonLayout(
    name="coco", joint_names=_COCO_NAMES, parents=_parents_from_inward(17, _COCO_INWARD, 0), center=0,
    zaxis=((11, 12), (5, 6)), xaxis=(6, 5), description="COCO-17 keypoints (PYSKL 'coco')",
), aliases=("coco17",))
