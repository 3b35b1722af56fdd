"""Reading BVH text into a :class:`~.bvh.BVH`: the hierarchy, then the motion rows.

Malformed input raises :class:`~kinemic_aug.errors.DataError` naming the file, line and field, so a
broken export is found where it is broken, not as a shape error later.
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import numpy as np

from ..errors import DataError
from .bvh import BVH, CHANNEL_NAMES, PathLike


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

    def expect_open(self, kind: str) -> None:
        _, t = self.next_tokens(kind)
        if t != ["{"]:
            raise self.error(f"expected '{{' after {kind}, got {' '.join(t)!r}", kind)

    def read_offset(self, kind: str) -> List[float]:
        _, t = self.next_tokens("OFFSET")
        if t[0] != "OFFSET":
            raise self.error(f"expected 'OFFSET' in {kind}, got {' '.join(t)!r}", "OFFSET")
        return _floats(self, t[1:], 3, "OFFSET")


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


@dataclass
class _Hierarchy:
    """What the HIERARCHY section declares."""

    names: List[str] = field(default_factory=list)
    parents: List[int] = field(default_factory=list)
    offsets: List[List[float]] = field(default_factory=list)
    channels: List[Tuple[str, ...]] = field(default_factory=list)
    end_parents: List[int] = field(default_factory=list)
    end_offsets: List[List[float]] = field(default_factory=list)


def _read_channels(cur: _Lines, name: str) -> Tuple[str, ...]:
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
        raise cur.error(f"joint {name!r}: unknown channel(s) {bad}; valid: {list(CHANNEL_NAMES)}", "CHANNELS")
    if len(set(chs)) != len(chs):
        raise cur.error(f"joint {name!r}: repeated channel in {list(chs)}", "CHANNELS")
    return chs


def _open_joint(cur: _Lines, h: _Hierarchy, name: str, parent: int) -> int:
    """Read a ROOT/JOINT block's opening (brace, offset, channels); returns the joint's index."""
    cur.expect_open("ROOT" if parent == -1 else "JOINT")
    if name in h.names:
        raise cur.error(f"duplicate joint name {name!r}", "JOINT")
    j = len(h.names)
    h.names.append(name)
    h.parents.append(parent)
    h.offsets.append(cur.read_offset(name))
    h.channels.append(_read_channels(cur, name))
    return j


def _read_hierarchy(cur: _Lines) -> _Hierarchy:
    ln, tok = cur.next_tokens("HIERARCHY")
    if tok != ["HIERARCHY"]:
        raise cur.error(f"expected 'HIERARCHY', got {' '.join(tok)!r}", "HIERARCHY")
    ln, tok = cur.next_tokens("ROOT")
    if tok[0] != "ROOT" or len(tok) < 2:
        raise cur.error(f"expected 'ROOT <name>', got {' '.join(tok)!r}", "ROOT")
    h = _Hierarchy()
    # stack of open blocks: joint index, or None for an End Site
    stack: List[Optional[int]] = [_open_joint(cur, h, " ".join(tok[1:]), -1)]
    while stack:
        ln, t = cur.next_tokens("}")
        if t[0] == "JOINT":
            if stack[-1] is None:
                raise cur.error("JOINT inside an End Site", "JOINT")
            if len(t) < 2:
                raise cur.error("JOINT without a name", "JOINT")
            stack.append(_open_joint(cur, h, " ".join(t[1:]), stack[-1]))
        elif t[:2] == ["End", "Site"] or t == ["End"]:
            if stack[-1] is None:
                raise cur.error("End Site inside an End Site", "End Site")
            cur.expect_open("End Site")
            h.end_parents.append(stack[-1])
            h.end_offsets.append(cur.read_offset("End Site"))
            stack.append(None)
        elif t == ["}"]:
            stack.pop()
        elif t[0] in ("MOTION", "ROOT"):
            raise cur.error(f"{t[0]!r} before the hierarchy is closed (missing '}}')", "}")
        else:
            raise cur.error(f"unexpected {' '.join(t)!r} in HIERARCHY", t[0])
    return h


def _read_motion_header(cur: _Lines) -> Tuple[int, float]:
    """``MOTION``, ``Frames: n`` and ``Frame Time: s``."""
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
    return n_frames, frame_time


def _read_motion_rows(cur: _Lines, source: str, n_frames: int, n_ch: int) -> np.ndarray:
    """The ``[n_frames, n_ch]`` channel values; extra rows are dropped with a warning, missing ones refused."""
    rows = [(i + 1, line) for i, line in enumerate(cur.lines[cur.i:], start=cur.i) if line.strip()]
    if len(rows) < n_frames:
        raise DataError(f"header declares {n_frames} frames, file has {len(rows)} rows",
                        source=f"{source}, line {len(cur.lines)}", field="MOTION")
    if len(rows) > n_frames:
        # stacklevel: this helper, parse_bvh, then read_bvh's caller is named (as before the split)
        warnings.warn(f"{source}: {len(rows) - n_frames} motion row(s) after the {n_frames} declared frames "
                      f"(from line {rows[n_frames][0]}) ignored", stacklevel=4)
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
    return motion


def parse_bvh(text: str, source: str = "<bvh>") -> BVH:
    """Parse BVH text (see :func:`read_bvh`)."""
    cur = _Lines(text, source)
    h = _read_hierarchy(cur)
    n_frames, frame_time = _read_motion_header(cur)
    motion = _read_motion_rows(cur, source, n_frames, sum(len(c) for c in h.channels))
    return BVH(joint_names=h.names, parents=h.parents, offsets=np.array(h.offsets), channels=h.channels,
               frame_time=frame_time, motion=motion, end_site_parents=h.end_parents,
               end_site_offsets=np.array(h.end_offsets).reshape(-1, 3), source=source)


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
