"""Skeleton layouts as data.

A layout is everything the rest of the library needs to know about a joint set: names, the
kinematic tree (parents), the centre joint used by graph partitions, the joints that define the
body frame for normalisation, and which joints mirror each other. Graphs (``har.graph``),
retargeting, normalisation and plotting all read layouts from here, so a user's own skeleton is
supported by registering one :class:`SkeletonLayout` and nothing else.

This module holds the layout type, the registry and the canonical layout (SMPL-22, the joint order
HumanML3D uses); the other built-in layouts are data in :mod:`.builtin_layouts`.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Tuple, Union

from ..errors import LayoutError

# An axis end is one joint index or several (their mean), e.g. COCO's mid-hip.
AxisEnd = Union[int, Tuple[int, ...]]


@dataclass(frozen=True)
class SkeletonLayout:
    """A joint set and its tree.

    Attributes:
        name: registry key, e.g. ``"nturgb+d"``.
        joint_names: one name per joint, in array order.
        parents: parent index per joint, ``-1`` for the root. Defines the bone tree used by
            retargeting, bone features and plots.
        center: centre joint used by the ST-GCN ``stgcn_spatial`` partition and as the origin in
            normalisation.
        zaxis: (bottom, top) joints of the spine; normalisation rotates bottom→top onto +z.
        xaxis: (right, left) shoulder joints; normalisation rotates right-left onto +x (PYSKL's
            convention: ``kp[right] - kp[left]`` points to +x).
        graph_edges: undirected edges for the graph if they differ from the parent tree (NTU's
            graph is rooted at spine_shoulder while its kinematic root is spine_base).
        bone_pairs: (joint, partner) pairs for bone features if they differ from (j, parent[j]).
        up_axis: index of the vertical axis in the raw data (1 = y-up, the usual for mocap).
        fps: the native frame rate, if fixed for the layout's usual source.
        description: where the layout comes from.
    """

    name: str
    joint_names: Tuple[str, ...]
    parents: Tuple[int, ...]
    center: int
    zaxis: Tuple[AxisEnd, AxisEnd]
    xaxis: Tuple[AxisEnd, AxisEnd]
    graph_edges: Optional[Tuple[Tuple[int, int], ...]] = None
    bone_pairs: Optional[Tuple[Tuple[int, int], ...]] = None
    up_axis: int = 1
    fps: Optional[float] = None
    description: str = ""

    def __post_init__(self) -> None:
        n = len(self.joint_names)
        if n == 0:
            raise LayoutError(f"layout {self.name!r}: no joints")
        if len(self.parents) != n:
            raise LayoutError(f"layout {self.name!r}: {len(self.parents)} parents for {n} joints")
        if len(set(self.joint_names)) != n:
            raise LayoutError(f"layout {self.name!r}: duplicate joint names")
        roots = [i for i, p in enumerate(self.parents) if p == -1]
        if len(roots) != 1:
            raise LayoutError(f"layout {self.name!r}: expected exactly one root (parent -1), got {roots}")
        for i, p in enumerate(self.parents):
            if p != -1 and not 0 <= p < n:
                raise LayoutError(f"layout {self.name!r}: joint {i} has parent {p} outside 0..{n - 1}")
        # every joint must reach the root (no cycles)
        for i in range(n):
            seen, j = set(), i
            while j != -1:
                if j in seen:
                    raise LayoutError(f"layout {self.name!r}: cycle in parents through joint {j}")
                seen.add(j)
                j = self.parents[j]
        if not 0 <= self.center < n:
            raise LayoutError(f"layout {self.name!r}: center {self.center} outside 0..{n - 1}")
        for nm, ax in (("zaxis", self.zaxis), ("xaxis", self.xaxis)):
            for end in ax:
                for j in _as_tuple(end):
                    if not 0 <= j < n:
                        raise LayoutError(f"layout {self.name!r}: {nm} joint {j} outside 0..{n - 1}")
        for nm, pairs in (("graph_edges", self.graph_edges), ("bone_pairs", self.bone_pairs)):
            for a, b in pairs or ():
                if not (0 <= a < n and 0 <= b < n):
                    raise LayoutError(f"layout {self.name!r}: {nm} pair {(a, b)} outside 0..{n - 1}")

    # ------------------------------------------------------------------ derived views
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def root(self) -> int:
        return self.parents.index(-1)

    def index(self, joint: str) -> int:
        try:
            return self.joint_names.index(joint)
        except ValueError:
            raise LayoutError(f"layout {self.name!r} has no joint {joint!r}; joints: {list(self.joint_names)}") from None

    def edges(self) -> List[Tuple[int, int]]:
        """Undirected graph edges (child, parent) without self loops."""
        if self.graph_edges is not None:
            return list(self.graph_edges)
        return [(i, p) for i, p in enumerate(self.parents) if p != -1]

    def bones(self) -> List[Tuple[int, int]]:
        """(joint, partner) pairs for bone vectors ``kp[joint] - kp[partner]``; one per joint,
        the root paired with itself (a zero bone), as in PYSKL's ``JointToBone``."""
        if self.bone_pairs is not None:
            return list(self.bone_pairs)
        return [(i, p if p != -1 else i) for i, p in enumerate(self.parents)]

    def flip_pairs(self) -> List[Tuple[int, int]]:
        """Left/right joint pairs, matched by name (``left_``/``right_``, ``L_``/``R_``, ``l_``/``r_``,
        ``Left``/``Right`` prefixes)."""
        out = []
        names = {n: i for i, n in enumerate(self.joint_names)}
        for i, nm in enumerate(self.joint_names):
            for lp, rp in _SIDE_PREFIXES:
                if nm.startswith(lp):
                    other = rp + nm[len(lp):]
                    if other in names:
                        out.append((i, names[other]))
                    break
        return out

    def side(self, joint: int) -> str:
        """'left', 'right' or 'center' from the joint's name."""
        nm = self.joint_names[joint]
        for lp, rp in _SIDE_PREFIXES:
            if nm.startswith(lp):
                return "left"
            if nm.startswith(rp):
                return "right"
        return "center"

    def to_dict(self) -> dict:
        return {
            "name": self.name, "joint_names": list(self.joint_names), "parents": list(self.parents),
            "center": self.center, "zaxis": _jsonable(self.zaxis), "xaxis": _jsonable(self.xaxis),
            "graph_edges": [list(e) for e in self.graph_edges] if self.graph_edges else None,
            "bone_pairs": [list(e) for e in self.bone_pairs] if self.bone_pairs else None,
            "up_axis": self.up_axis, "fps": self.fps, "description": self.description,
        }

    @classmethod
    def from_dict(cls, d: dict) -> "SkeletonLayout":
        """Build from :meth:`to_dict` output, or from PYSKL/mmaction's custom-layout dict
        ``dict(num_node=V, inward=[(child, parent), ...], center=c)``.

        Any malformed value (a missing key, a non-integer parent, an axis that is not a pair, an
        inward edge outside ``0..V-1``) raises :class:`LayoutError` naming the layout, never a bare
        ``ValueError``/``IndexError`` from the parsing below.
        """
        if not isinstance(d, dict):
            raise LayoutError(f"a layout dict is required, got {type(d).__name__}")
        name = d.get("name", f"custom{d.get('num_node', '')}")
        try:
            return cls._from_dict(d)
        except LayoutError:
            raise
        except KeyError as e:
            raise LayoutError(f"layout {name!r}: dict is missing key {e.args[0]!r}") from None
        except (TypeError, ValueError, IndexError) as e:
            raise LayoutError(f"layout {name!r}: malformed layout dict ({type(e).__name__}: {e}); expected "
                              "joint_names, integer parents, center, and zaxis/xaxis as (bottom, top) pairs, "
                              "or num_node/inward/center with indices in 0..num_node-1") from None

    @classmethod
    def _from_dict(cls, d: dict) -> "SkeletonLayout":
        if "num_node" in d and "joint_names" not in d:
            v, center = int(d["num_node"]), int(d["center"])
            name = d.get("name", f"custom{v}")
            parents = [-2] * v
            for a, b in d["inward"]:
                a, b = int(a), int(b)
                if not (0 <= a < v and 0 <= b < v):
                    raise LayoutError(f"layout {name!r}: inward edge {(a, b)} outside 0..{v - 1}")
                if a == b:
                    continue
                parents[a] = b
            if not 0 <= center < v:
                raise LayoutError(f"layout {name!r}: center {center} outside 0..{v - 1}")
            parents[center] = -1
            missing = [i for i, p in enumerate(parents) if p == -2]
            if missing:
                raise LayoutError(f"custom layout {name!r}: joints {missing} have no inward edge and are not "
                                  "the center")
            return cls(name=name, joint_names=tuple(f"joint{i}" for i in range(v)),
                       parents=tuple(parents), center=center, zaxis=(center, center), xaxis=(center, center),
                       description="custom layout from num_node/inward/center")
        return cls(
            name=d["name"], joint_names=tuple(d["joint_names"]), parents=tuple(int(p) for p in d["parents"]),
            center=int(d["center"]), zaxis=_tuplify(d["zaxis"]), xaxis=_tuplify(d["xaxis"]),
            graph_edges=tuple(tuple(e) for e in d["graph_edges"]) if d.get("graph_edges") else None,
            bone_pairs=tuple(tuple(e) for e in d["bone_pairs"]) if d.get("bone_pairs") else None,
            up_axis=int(d.get("up_axis", 1)), fps=d.get("fps"), description=d.get("description", ""),
        )


# Bare "L"/"R" prefixes (CMU's "LHipJoint") would also match "LowerBack", so they are not used;
# CMU names its limbs "Left..."/"Right...".
_SIDE_PREFIXES = (("left_", "right_"), ("L_", "R_"), ("l_", "r_"), ("Left", "Right"))


def _as_tuple(end: AxisEnd) -> Tuple[int, ...]:
    return tuple(end) if isinstance(end, (tuple, list)) else (int(end),)


def _jsonable(ax):
    return [list(e) if isinstance(e, (tuple, list)) else e for e in ax]


def _tuplify(ax) -> Tuple[AxisEnd, AxisEnd]:
    a, b = ax
    return (tuple(a) if isinstance(a, list) else a, tuple(b) if isinstance(b, list) else b)


def axis_end_indices(end: AxisEnd) -> Tuple[int, ...]:
    """Joint indices whose mean is one end of a normalisation axis."""
    return _as_tuple(end)


# ---------------------------------------------------------------------- registry
_LAYOUTS: Dict[str, SkeletonLayout] = {}
_ALIASES: Dict[str, str] = {}


def register_layout(layout: SkeletonLayout, aliases: Iterable[str] = (), overwrite: bool = False) -> SkeletonLayout:
    """Register a layout under its name (and aliases). Users call this for their own skeletons."""
    if not overwrite and (layout.name in _LAYOUTS or layout.name in _ALIASES):
        raise LayoutError(f"layout {layout.name!r} is already registered (pass overwrite=True to replace it)")
    _LAYOUTS[layout.name] = layout
    for a in aliases:
        _ALIASES[a] = layout.name
    return layout


def get_layout(name: Union[str, "os.PathLike[str]", SkeletonLayout, dict]) -> SkeletonLayout:
    """Look a layout up by name or alias; accepts a layout, a layout dict or the path of a layout JSON
    file (:meth:`SkeletonLayout.to_dict` output or PYSKL's ``num_node``/``inward``/``center``) as well.

    A dict or file is registered under its name on first use, so the name it hands on (a dataset's
    ``layout``, a sample's ``results['layout']``) resolves later in the same process; a second, different
    layout under a taken name is refused rather than silently replacing or shadowing the first.
    """
    if isinstance(name, SkeletonLayout):
        return name
    if isinstance(name, dict):
        return _adopt(SkeletonLayout.from_dict(name), "layout dict")
    if isinstance(name, os.PathLike) or (isinstance(name, str) and _is_layout_file(name)):
        return _adopt(load_layout_file(name), str(name))
    key = _ALIASES.get(name, name)
    if key not in _LAYOUTS:
        known = sorted(set(_LAYOUTS) | set(_ALIASES))
        raise LayoutError(f"unknown skeleton layout {name!r}; known layouts: {known}. "
                          "Register your own with kinemic_aug.skeleton.register_layout().")
    return _LAYOUTS[key]


def _is_layout_file(name: str) -> bool:
    return name.lower().endswith(".json") or (os.sep in name and os.path.isfile(name))


def load_layout_file(path: Union[str, "os.PathLike[str]"]) -> SkeletonLayout:
    """A layout from a JSON file; :class:`LayoutError` naming the file when it is missing or malformed."""
    p = os.fspath(path)
    try:
        with open(p, encoding="utf-8") as f:
            d = json.load(f)
    except FileNotFoundError:
        raise LayoutError("layout file not found", source=p, field="layout") from None
    except (OSError, ValueError) as e:
        raise LayoutError(f"not a readable JSON layout ({type(e).__name__}: {e})", source=p, field="layout") from None
    try:
        return SkeletonLayout.from_dict(d)
    except LayoutError as e:
        raise LayoutError(str(e), source=p, field="layout") from None


def _adopt(layout: SkeletonLayout, origin: str) -> SkeletonLayout:
    """The registered layout of that name if it is the same one, else ``layout`` newly registered."""
    key = _ALIASES.get(layout.name, layout.name)
    have = _LAYOUTS.get(key)
    if have is None:
        return register_layout(layout)
    if have != layout:
        raise LayoutError(f"{origin} defines layout {layout.name!r}, which differs from the registered layout of "
                          "that name; give it a name of its own", field="layout")
    return have


def list_layouts() -> List[str]:
    return sorted(_LAYOUTS)


# ---------------------------------------------------------------------- the canonical layout
# SMPL body joints used by HumanML3D (22, no hands), y-up metres, 20 fps.
_SMPL_NAMES = (
    "pelvis", "L_hip", "R_hip", "spine1", "L_knee", "R_knee", "spine2", "L_ankle", "R_ankle", "spine3",
    "L_foot", "R_foot", "neck", "L_collar", "R_collar", "head", "L_shoulder", "R_shoulder", "L_elbow",
    "R_elbow", "L_wrist", "R_wrist",
)
_SMPL_PARENTS = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19)
SMPL22 = register_layout(SkeletonLayout(
    name="smpl22", joint_names=_SMPL_NAMES, parents=_SMPL_PARENTS, center=0,
    zaxis=(0, 9), xaxis=(17, 16), fps=20.0,
    description="SMPL body joints as in HumanML3D (22 joints, y-up, metres, 20 fps); the canonical layout",
), aliases=("humanml", "humanml3d", "smpl"))
