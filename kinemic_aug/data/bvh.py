"""BVH (Biovision Hierarchy) reader, writer and forward kinematics in numpy.

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
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

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


# ---------------------------------------------------------------------- reading
class _Lines:
    """Line cursor that yields (line number, tokens) and raises DataErrors that name the line."""

    def __init__(self, text: str, source: str):
        self.lines = text.splitlines()
        self.source = source
        self.i = 0

    def error(self, msg: str, field: str, lineno: Optional[int] = None) -> DataError:
        n = self.i if lineno is None else lineno
        return DataError(msg, source=f"{self.source}, line {n}", field=field)

    def next_tokens(self, field: str) -> Tuple[int, List[str]]:
        """Next non-empty line, split on whitespace."""
        while self.i < len(self.lines):
            self.i += 1
            tok = self.lines[self.i - 1].split()
            if tok:
                return self.i, tok
        raise self.error("unexpected end of file", field, lineno=len(self.lines))


def _floats(cur: _Lines, toks: Sequence[str], n: int, field: str) -> List[float]:
    if len(toks) != n:
        raise cur.error(f"expected {n} numbers, got {len(toks)}: {' '.join(toks)!r}", field)
    try:
        vals = [float(t) for t in toks]
    except ValueError:
        raise cur.error(f"not a number in {' '.join(toks)!r}", field) from None
    if not all(math.isfinite(v) for v in vals):
        raise cur.error(f"non-finite value in {' '.join(toks)!r}", field)
    return vals


def read_bvh(path: PathLike) -> BVH:
    """Parse a BVH file. Malformed input raises :class:`DataError` naming the file, line and field.

    A file whose MOTION section has more rows than its ``Frames:`` header keeps the declared number
    of frames (a warning names the extra rows; some exporters write one trailing row too many); fewer
    rows than declared is an error.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as e:
        raise DataError(f"cannot read: {e}", source=str(path), field="file") from e
    return parse_bvh(text, source=str(path))


def parse_bvh(text: str, source: str = "<bvh>") -> BVH:
    """Parse BVH text (see :func:`read_bvh`)."""
    cur = _Lines(text, source)
    ln, tok = cur.next_tokens("HIERARCHY")
    if tok != ["HIERARCHY"]:
        raise cur.error(f"expected 'HIERARCHY', got {' '.join(tok)!r}", "HIERARCHY")

    names: List[str] = []
    parents: List[int] = []
    offsets: List[List[float]] = []
    channels: List[Tuple[str, ...]] = []
    end_parents: List[int] = []
    end_offsets: List[List[float]] = []

    ln, tok = cur.next_tokens("ROOT")
    if tok[0] != "ROOT" or len(tok) < 2:
        raise cur.error(f"expected 'ROOT <name>', got {' '.join(tok)!r}", "ROOT")
    # stack of open blocks: joint index, or None for an End Site
    stack: List[Optional[int]] = []
    pending: Optional[Tuple[str, Optional[int], int]] = (" ".join(tok[1:]), -1, ln)  # (name, parent, line)

    def expect_open(kind: str) -> None:
        _, t = cur.next_tokens(kind)
        if t != ["{"]:
            raise cur.error(f"expected '{{' after {kind}, got {' '.join(t)!r}", kind)

    def read_offset(kind: str) -> List[float]:
        _, t = cur.next_tokens("OFFSET")
        if t[0] != "OFFSET":
            raise cur.error(f"expected 'OFFSET' in {kind}, got {' '.join(t)!r}", "OFFSET")
        return _floats(cur, t[1:], 3, "OFFSET")

    # open the root
    while True:
        if pending is not None:
            name, par, _ = pending
            pending = None
            expect_open("ROOT" if par == -1 else "JOINT")
            if name in names:
                raise cur.error(f"duplicate joint name {name!r}", "JOINT")
            j = len(names)
            names.append(name)
            parents.append(par)  # type: ignore[arg-type]
            offsets.append(read_offset(name))
            _, t = cur.next_tokens("CHANNELS")
            if t[0] != "CHANNELS" or len(t) < 2:
                raise cur.error(f"expected 'CHANNELS n ...' for joint {name!r}, got {' '.join(t)!r}", "CHANNELS")
            try:
                nch = int(t[1])
            except ValueError:
                raise cur.error(f"channel count {t[1]!r} is not an integer", "CHANNELS") from None
            chs = tuple(t[2:])
            if nch != len(chs):
                raise cur.error(f"joint {name!r} declares {nch} channels but lists {len(chs)}", "CHANNELS")
            bad = [c for c in chs if c not in CHANNEL_NAMES]
            if bad:
                raise cur.error(f"joint {name!r}: unknown channel(s) {bad}; valid: {list(CHANNEL_NAMES)}",
                                "CHANNELS")
            if len(set(chs)) != len(chs):
                raise cur.error(f"joint {name!r}: repeated channel in {list(chs)}", "CHANNELS")
            channels.append(chs)
            stack.append(j)
            continue
        if not stack:
            break
        ln, t = cur.next_tokens("}")
        if t[0] == "JOINT":
            if stack[-1] is None:
                raise cur.error("JOINT inside an End Site", "JOINT")
            if len(t) < 2:
                raise cur.error("JOINT without a name", "JOINT")
            pending = (" ".join(t[1:]), stack[-1], ln)
        elif t[:2] == ["End", "Site"] or t == ["End"]:
            if stack[-1] is None:
                raise cur.error("End Site inside an End Site", "End Site")
            expect_open("End Site")
            end_parents.append(stack[-1])  # type: ignore[arg-type]
            end_offsets.append(read_offset("End Site"))
            stack.append(None)
        elif t == ["}"]:
            stack.pop()
        elif t[0] in ("MOTION", "ROOT"):
            raise cur.error(f"{t[0]!r} before the hierarchy is closed (missing '}}')", "}")
        else:
            raise cur.error(f"unexpected {' '.join(t)!r} in HIERARCHY", t[0])

    ln, t = cur.next_tokens("MOTION")
    if t != ["MOTION"]:
        raise cur.error(f"expected 'MOTION', got {' '.join(t)!r}", "MOTION")
    ln, t = cur.next_tokens("Frames")
    if t[0] != "Frames:" or len(t) != 2:
        raise cur.error(f"expected 'Frames: <n>', got {' '.join(t)!r}", "Frames")
    try:
        n_frames = int(t[1])
    except ValueError:
        raise cur.error(f"frame count {t[1]!r} is not an integer", "Frames") from None
    if n_frames < 0:
        raise cur.error(f"negative frame count {n_frames}", "Frames")
    ln, t = cur.next_tokens("Frame Time")
    if t[:2] != ["Frame", "Time:"] or len(t) != 3:
        raise cur.error(f"expected 'Frame Time: <seconds>', got {' '.join(t)!r}", "Frame Time")
    try:
        frame_time = float(t[2])
    except ValueError:
        raise cur.error(f"frame time {t[2]!r} is not a number", "Frame Time") from None
    if not (frame_time > 0 and math.isfinite(frame_time)):
        raise cur.error(f"frame time must be positive, got {frame_time}", "Frame Time")

    n_ch = sum(len(c) for c in channels)
    rows = [(i + 1, line) for i, line in enumerate(cur.lines[cur.i:], start=cur.i) if line.strip()]
    if len(rows) < n_frames:
        raise DataError(f"header declares {n_frames} frames, file has {len(rows)} rows",
                        source=f"{source}, line {len(cur.lines)}", field="MOTION")
    if len(rows) > n_frames:
        warnings.warn(f"{source}: {len(rows) - n_frames} motion row(s) after the {n_frames} declared frames "
                      f"(from line {rows[n_frames][0]}) ignored", stacklevel=3)
        rows = rows[:n_frames]
    motion = np.empty((n_frames, n_ch), dtype=np.float64)
    for k, (lineno, line) in enumerate(rows):
        toks = line.split()
        if len(toks) != n_ch:
            raise DataError(f"frame {k}: expected {n_ch} channel values, got {len(toks)}",
                            source=f"{source}, line {lineno}", field="MOTION")
        try:
            motion[k] = [float(x) for x in toks]
        except ValueError:
            raise DataError(f"frame {k}: not a number in the row", source=f"{source}, line {lineno}",
                            field="MOTION") from None
    if not np.all(np.isfinite(motion)):
        bad = int(np.nonzero(~np.all(np.isfinite(motion), axis=1))[0][0])
        raise DataError(f"frame {bad}: NaN or inf", source=f"{source}, line {rows[bad][0]}", field="MOTION")
    return BVH(joint_names=names, parents=parents, offsets=np.array(offsets), channels=channels,
               frame_time=frame_time, motion=motion, end_site_parents=end_parents,
               end_site_offsets=np.array(end_offsets).reshape(-1, 3), source=source)


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
