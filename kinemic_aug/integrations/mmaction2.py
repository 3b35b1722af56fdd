"""The two lines of an mmaction2 skeleton config that depend on the layout, generated from it.

mmaction2 (1.x) knows three layouts by name (``openpose``, ``nturgb+d``, ``coco``); any other skeleton
is given to its ``Graph`` as ``dict(num_node=V, inward=[(child, parent), ...], center=c)``. Its
``PreNormalize3D`` rotates each sample so that the spine (``zaxis``: bottom, top joint) points along
+z and the shoulders (``xaxis``: right, left joint) along +x; the defaults are NTU's joints, which on
another skeleton are the wrong joints (or out of range). Everything else in mmaction2's own
ST-GCN configs stays as it is: an augmented pickle from ``tools/augment.py`` is read by its
``PoseDataset`` unchanged (docs/mmaction2.md has the full config).

mmaction2's ``PreNormalize3D`` centres on joint 1 when V is 25 and on the *last* joint otherwise;
that is not configurable, and it only sets the origin, so it is left alone here.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple, Union

from ..errors import LayoutError
from ..skeleton.layout import SkeletonLayout, axis_end_indices, get_layout

LayoutLike = Union[str, SkeletonLayout, dict]

#: mmaction2's built-in graph layouts (these names are passed through as they are)
BUILTIN_LAYOUTS = ("openpose", "nturgb+d", "coco")


def graph_layout(layout: LayoutLike) -> Union[str, Dict[str, Any]]:
    """``graph_cfg['layout']`` for mmaction2's ``STGCN``/``AAGCN``: the built-in name for NTU RGB+D, COCO
    and OpenPose, else ``dict(num_node, inward, center)`` from the layout's edges (its parents, unless
    the layout defines graph edges of its own) and centre joint."""
    lay = get_layout(layout)
    if lay.name in BUILTIN_LAYOUTS:
        return lay.name
    inward: List[Tuple[int, int]] = [(int(a), int(b)) for a, b in lay.edges()]
    return {"num_node": lay.num_joints, "inward": inward, "center": int(lay.center)}


def _single(end: Any, which: str, lay: SkeletonLayout) -> int:
    idx = axis_end_indices(end)
    if len(idx) != 1:
        raise LayoutError(f"layout {lay.name!r}: {which} end {end!r} is the mean of joints {list(idx)}; mmaction2's "
                          "PreNormalize3D takes one joint per end: pass zaxis/xaxis by hand")
    return int(idx[0])


def prenormalize3d(layout: LayoutLike) -> Dict[str, Any]:
    """The ``PreNormalize3D`` transform dict with the layout's own spine and shoulder joints."""
    lay = get_layout(layout)
    z = [_single(e, "zaxis", lay) for e in lay.zaxis]
    x = [_single(e, "xaxis", lay) for e in lay.xaxis]
    return {"type": "PreNormalize3D", "zaxis": z, "xaxis": x}


def config_lines(layout: LayoutLike) -> str:
    """The two config lines to change in an mmaction2 ST-GCN 3-D skeleton config, as Python source."""
    lay = get_layout(layout)
    graph = graph_layout(lay)
    pre = prenormalize3d(lay)
    return (f"# {lay.name}: {lay.num_joints} joints\n"
            f"graph_layout = {graph!r}\n"
            f"prenormalize = dict(type='PreNormalize3D', zaxis={pre['zaxis']}, xaxis={pre['xaxis']})")
