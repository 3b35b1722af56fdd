"""BVH (Biovision Hierarchy) data, writer and forward kinematics in numpy (the reader is :mod:`.bvh_parse`).

BVH is the one motion-capture format that real, freely licensed human motion reaches this project in
(the CMU database in its cgspeed conversion, shipped by Debian's ``assimp-testmodels``). The reader
keeps the file's own data (joint tree, offsets, channel lists, raw channel values) and leaves the
interpretation to :func:`bvh_to_positions`, so a malformed or unusual file is reported with its line
number instead of silently producing a crooked skeleton.

Conventions implemented (they follow the de-facto BVH definition used by MotionBuilder and the CMU
conversion):

* every ``ROOT``/``JOINT`` has an ``OFFSET`` (its rest translation from the parent) and a ``CHANNELS``
  list; ``End Site`` blocks carry only an ``OFFSET`` and are kept separately (they are not joints);
* rotation channels are Euler angles in **degrees**, composed in the order they are listed:
  ``CHANNELS 3 Zrotation Xrotation Yrotation`` means ``R = Rz @ Rx @ Ry`` (column vectors), so the
  last listed axis is applied to a child vector first;
* position channels give the joint's local translation; by default they *replace* the ``OFFSET``
  on the axes they name (``position_mode="replace"``, the usual reading for a root), or are added to
  it (``position_mode="add"``, Blender's reading for non-root joints);
* a joint's world position is ``parent_position + parent_rotation @ local_translation`` and its world
  rotation is ``parent_rotation @ local_rotation``.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple, Union

import numpy as np

from ..errors import DataError, LayoutError
from ..skeleton.layout import SkeletonLayout, get_layout
from ..utils.io import atomic_write_text

PathLike = Union[str, os.PathLike]

#: Valid channel names; the first letter is the axis.
CHANNEL_NAMES = ("Xposition", "Yposition", "Zposition", "Xrotation", "Yrotation", "Zrotation")

#: Metres per CMU BVH length unit. The CMU ASF skeletons declare ``:units length 0.45``: one unit is
#: 1/0.45 inch = 2.54 cm / 0.45 = 0.05644 m, and the cgspeed BVH conversion keeps those units (the
#: same factor other CMU tools use). Checked on subject 01 (``01_01.bvh``) standing: hip joints
#: 0.86 m and the pelvis (Hips) 0.96 m above the floor, thigh 0.40 m, shin 0.42 m; hip-joint height
#: is about 0.53 of stature, so the subject is about 1.6-1.7 m, a standing adult. Matching the head
#: end site (1.48 m above the floor) to 1.7 m instead would need 0.065 and make the legs and pelvis
#: 15 % too long: the cgspeed head end site sits below the crown and the CMU torso chain is short.
CMU_UNIT_TO_METRES = 0.0254 / 0.45


@dataclass
class BVH:
    """The content of one BVH file.

    Attributes:
        joint_names: one name per ``ROOT``/``JOINT``, in file (depth-first) order.
        parents: parent index per joint, ``-1`` for the root; always ``parents[j] < j``.
        offsets: ``[J, 3]`` float64 rest offsets from the parent, in file units.
        channels: per joint, the tuple of channel names in file order.
        frame_time: seconds per frame.
        motion: ``[T, C]`` float64 raw channel values, ``C = sum(len(ch) for ch in channels)``.
        end_site_parents: joint index of each ``End Site``.
        end_site_offsets: ``[E, 3]`` offsets of the end sites from their joint.
        source: the file the data came from (for error messages).
    """

    joint_names: List[str]
    parents: List[int]
    offsets: np.ndarray
    channels: List[Tuple[str, ...]]
    frame_time: float
    motion: np.ndarray
    end_site_parents: List[int] = field(default_factory=list)
    end_site_offsets: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))
    source: str = "<bvh>"

    def __post_init__(self) -> None:
        self.offsets = np.asarray(self.offsets, dtype=np.float64).reshape(-1, 3)
        self.motion = np.asarray(self.motion, dtype=np.float64)
        self.end_site_offsets = np.asarray(self.end_site_offsets, dtype=np.float64).reshape(-1, 3)
        self.channels = [tuple(c) for c in self.channels]
        n = len(self.joint_names)
        for what, k in (("parents", len(self.parents)), ("offsets", len(self.offsets)),
                        ("channels", len(self.channels))):
            if k != n:
                raise DataError(f"{k} {what} for {n} joints", source=self.source, field=what)
        for j, p in enumerate(self.parents):
            if not -1 <= p < j or (p == -1) != (j == 0):
                raise DataError(f"joint {j} ({self.joint_names[j]!r}) has parent {p}; joints must be in "
                                "depth-first order with the root first", source=self.source, field="parents")
        for j, ch in enumerate(self.channels):
            bad = [c for c in ch if c not in CHANNEL_NAMES]
            if bad:
                raise DataError(f"joint {self.joint_names[j]!r}: unknown channels {bad}", source=self.source,
                                field="channels")
        if self.motion.ndim != 2 or self.motion.shape[1] != self.num_channels:
            raise DataError(f"motion must be [T, {self.num_channels}], got {self.motion.shape}",
                            source=self.source, field="motion")
        if not (self.frame_time > 0 and math.isfinite(self.frame_time)):
            raise DataError(f"frame time must be positive, got {self.frame_time!r}", source=self.source,
                            field="Frame Time")
        if len(self.end_site_parents) != len(self.end_site_offsets):
            raise DataError("end_site_parents and end_site_offsets differ in length", source=self.source,
                            field="end_sites")

    # ------------------------------------------------------------------ derived views
    @property
    def num_joints(self) -> int:
        return len(self.joint_names)

    @property
    def num_frames(self) -> int:
        return int(self.motion.shape[0])

    @property
    def num_channels(self) -> int:
        return sum(len(c) for c in self.channels)

    @property
    def fps(self) -> float:
        return 1.0 / self.frame_time

    def channel_slices(self) -> List[slice]:
        """Column range of each joint's channels in :attr:`motion`."""
        out, off = [], 0
        for ch in self.channels:
            out.append(slice(off, off + len(ch)))
            off += len(ch)
        return out

    def index(self, name: str) -> int:
        try:
            return self.joint_names.index(name)
        except ValueError:
            raise DataError(f"no joint {name!r}; joints: {self.joint_names}", source=self.source,
                            field="joint_names") from None


# ---------------------------------------------------------------------- kinematics
def _axis_rotation(axis: str, deg: np.ndarray) -> np.ndarray:
    """``[T, 3, 3]`` rotation matrices about one coordinate axis by ``deg`` degrees."""
    a = np.deg2rad(deg)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    if axis == "X":
        m = [[o, z, z], [z, c, -s], [z, s, c]]
    elif axis == "Y":
        m = [[c, z, s], [z, o, z], [-s, z, c]]
    else:
        m = [[c, -s, z], [s, c, z], [z, z, o]]
    return np.stack([np.stack(r, axis=-1) for r in m], axis=-2)


def euler_to_matrix(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """Rotation matrices for Euler angles applied in BVH channel order.

    ``angles_deg[..., k]`` is the angle about axis ``order[k]``; the result is
    ``R_{order[0]} @ R_{order[1]} @ ...`` (so ``order="ZXY"`` gives ``Rz @ Rx @ Ry``).
    """
    angles_deg = np.asarray(angles_deg, dtype=np.float64)
    shape = angles_deg.shape[:-1]
    flat = angles_deg.reshape(-1, angles_deg.shape[-1])
    r = np.broadcast_to(np.eye(3), (flat.shape[0], 3, 3)).copy()
    for k, ax in enumerate(order):
        r = r @ _axis_rotation(ax.upper(), flat[:, k])
    return r.reshape(*shape, 3, 3)


def bvh_local_transforms(bvh: BVH, position_mode: str = "replace") -> Tuple[np.ndarray, np.ndarray]:
    """Per-frame local rotation ``[T, J, 3, 3]`` and translation ``[T, J, 3]`` of every joint."""
    if position_mode not in ("replace", "add"):
        raise ValueError(f"position_mode must be 'replace' or 'add', got {position_mode!r}")
    t, j = bvh.num_frames, bvh.num_joints
    rot = np.broadcast_to(np.eye(3), (t, j, 3, 3)).copy()
    trans = np.broadcast_to(bvh.offsets, (t, j, 3)).copy()
    for jj, (ch, sl) in enumerate(zip(bvh.channels, bvh.channel_slices())):
        vals = bvh.motion[:, sl]
        order, cols = "", []
        for k, c in enumerate(ch):
            ax = "XYZ".index(c[0])
            if c.endswith("position"):
                if position_mode == "replace":
                    trans[:, jj, ax] = vals[:, k]
                else:
                    trans[:, jj, ax] += vals[:, k]
            else:
                order += c[0]
                cols.append(k)
        if order:
            rot[:, jj] = euler_to_matrix(vals[:, cols], order)
    return rot, trans


def bvh_to_positions(bvh: BVH, *, position_mode: str = "replace", include_end_sites: bool = False,
                     frames: Optional[slice] = None) -> np.ndarray:
    """World positions of every joint by forward kinematics, ``[T, J, 3]`` float64 in file units.

    With ``include_end_sites`` the end sites are appended after the joints (``[T, J + E, 3]``),
    in file order. ``frames`` selects a frame range before the computation.
    """
    if frames is not None:
        bvh = BVH(bvh.joint_names, bvh.parents, bvh.offsets, bvh.channels, bvh.frame_time,
                  bvh.motion[frames], bvh.end_site_parents, bvh.end_site_offsets, bvh.source)
    rot, trans = bvh_local_transforms(bvh, position_mode)
    t, j = bvh.num_frames, bvh.num_joints
    g_rot = np.empty_like(rot)
    g_pos = np.empty((t, j, 3))
    for jj, p in enumerate(bvh.parents):
        if p == -1:
            g_rot[:, jj] = rot[:, jj]
            g_pos[:, jj] = trans[:, jj]
        else:
            g_rot[:, jj] = g_rot[:, p] @ rot[:, jj]
            g_pos[:, jj] = g_pos[:, p] + np.einsum("tij,tj->ti", g_rot[:, p], trans[:, jj])
    if include_end_sites and bvh.end_site_parents:
        ends = [g_pos[:, p] + np.einsum("tij,j->ti", g_rot[:, p], off)
                for p, off in zip(bvh.end_site_parents, bvh.end_site_offsets)]
        g_pos = np.concatenate([g_pos, np.stack(ends, axis=1)], axis=1)
    return g_pos


def bvh_to_layout(bvh: BVH, layout: Union[str, SkeletonLayout] = "cmu_bvh", *,
                  scale: float = CMU_UNIT_TO_METRES, name_map: Optional[Dict[str, str]] = None,
                  position_mode: str = "replace") -> np.ndarray:
    """Joint positions in a registered layout, ``[T, V, 3]`` float32, scaled to metres.

    Joints are selected by name: layout joint ``n`` is read from BVH joint ``name_map.get(n, n)``.
    ``scale`` converts file units to metres; the default is :data:`CMU_UNIT_TO_METRES` (CMU BVH
    files); pass ``scale=0.01`` for files in centimetres, ``1.0`` for metres. A layout joint missing
    from the file raises :class:`~kinemic_aug.errors.LayoutError` naming the file.
    """
    lay = get_layout(layout)
    name_map = name_map or {}
    idx = []
    for n in lay.joint_names:
        src = name_map.get(n, n)
        if src not in bvh.joint_names:
            raise LayoutError(f"layout {lay.name!r} needs joint {src!r}, the file has {bvh.joint_names}",
                              source=bvh.source, field="joint_names")
        idx.append(bvh.joint_names.index(src))
    pos = bvh_to_positions(bvh, position_mode=position_mode)
    return (pos[:, idx] * scale).astype(np.float32)


# ---------------------------------------------------------------------- writing
def _fmt(x: float) -> str:
    s = f"{x:.6f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def format_bvh(bvh: BVH) -> str:
    """BVH text for ``bvh`` (see :func:`write_bvh`)."""
    children: Dict[int, List[int]] = {j: [] for j in range(bvh.num_joints)}
    for j, p in enumerate(bvh.parents):
        if p != -1:
            children[p].append(j)
    ends: Dict[int, List[np.ndarray]] = {}
    for p, off in zip(bvh.end_site_parents, bvh.end_site_offsets):
        ends.setdefault(p, []).append(off)
    out = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        ind = "\t" * depth
        kw = "ROOT" if bvh.parents[j] == -1 else "JOINT"
        out.append(f"{ind}{kw} {bvh.joint_names[j]}")
        out.append(f"{ind}{{")
        out.append(f"{ind}\tOFFSET " + " ".join(_fmt(v) for v in bvh.offsets[j]))
        out.append(f"{ind}\tCHANNELS {len(bvh.channels[j])}" + "".join(f" {c}" for c in bvh.channels[j]))
        for c in children[j]:
            emit(c, depth + 1)
        for off in ends.get(j, []):
            out.append(f"{ind}\tEnd Site")
            out.append(f"{ind}\t{{")
            out.append(f"{ind}\t\tOFFSET " + " ".join(_fmt(v) for v in off))
            out.append(f"{ind}\t}}")
        out.append(f"{ind}}}")

    emit(0, 0)
    out += ["MOTION", f"Frames: {bvh.num_frames}", f"Frame Time: {bvh.frame_time:.7g}"]
    out += [" ".join(_fmt(v) for v in row) for row in bvh.motion]
    return "\n".join(out) + "\n"


def write_bvh(path: PathLike, bvh: BVH) -> Path:
    """Write ``bvh`` to ``path`` atomically (used to build test fixtures and to export motion).

    Joints must be in depth-first order (``parents[j] < j`` and each subtree contiguous) for the
    file to read back in the same order; :func:`read_bvh` output always is.
    """
    return atomic_write_text(path, format_bvh(bvh))
