"""Skeleton layouts, retargeting between them, normalisation and resampling."""
from .layout import SMPL22, SkeletonLayout, get_layout, list_layouts, register_layout
from .builtin_layouts import CMU_BVH, COCO17, DEEPMIMIC15, MSR20, NTU25

__all__ = ["SkeletonLayout", "get_layout", "list_layouts", "register_layout",
           "NTU25", "MSR20", "SMPL22", "DEEPMIMIC15", "CMU_BVH", "COCO17"]
from .resample import resample, resample_clip, resample_to_length
from .retarget import (CANONICAL, RetargetMap, from_canonical, get_retarget_map, list_retarget_maps,
                       register_retarget_map, rest_pose, retarget, retarget_clip, retarget_matrix, to_canonical)
from . import builtin_retarget_maps  # noqa: F401  (registers the built-in tables)

__all__ += ["resample", "resample_to_length", "resample_clip", "CANONICAL", "RetargetMap", "retarget", "to_canonical",
            "from_canonical", "retarget_clip", "retarget_matrix", "register_retarget_map", "get_retarget_map",
            "list_retarget_maps", "rest_pose"]
