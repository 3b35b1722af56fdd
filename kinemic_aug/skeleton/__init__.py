"""Skeleton layouts, retargeting between them, normalisation and resampling."""
from .layout import (COCO17, CMU_BVH, DEEPMIMIC15, MSR20, NTU25, SMPL22, SkeletonLayout, get_layout,
                     list_layouts, register_layout)

__all__ = ["SkeletonLayout", "get_layout", "list_layouts", "register_layout",
           "NTU25", "MSR20", "SMPL22", "DEEPMIMIC15", "CMU_BVH", "COCO17"]
