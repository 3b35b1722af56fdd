"""Reading one NTU RGB+D ``.skeleton`` file (the format is described in :mod:`.ntu`) into arrays.

A malformed file raises a :class:`~kinemic_aug.errors.DataError` naming the line, frame and field.
"""
from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Set, Union

import numpy as np

from ..errors import DataError

PathLike = Union[str, os.PathLike]

NUM_JOINTS = 25
_BODY_FIELDS = ("bodyID", "clippedEdges", "handLeftConfidence", "handLeftState", "handRightConfidence",
                "handRightState", "isRestricted", "leanX", "leanY", "trackingState")
_JOINT_VALUES = 12


class _Lines:
    """Line cursor that knows its line numbers, so errors can say where the file went wrong."""

    def __init__(self, text: str, source: str, sample: str):
        self.lines = text.splitlines()
        self.pos = 0
        self.source = source
        self.sample = sample

    def error(self, msg: str, field: str, frame: Optional[int] = None, line: Optional[int] = None) -> DataError:
        where = f"frame {frame}, " if frame is not None else ""
        ln = self.pos if line is None else line
        return DataError(f"{where}line {ln}: {msg}", source=self.source, sample=self.sample, field=field)

    def take(self, field: str, frame: Optional[int]) -> str:
        if self.pos >= len(self.lines):
            raise self.error("unexpected end of file (truncated?)", field, frame, line=self.pos + 1)
        line = self.lines[self.pos]
        self.pos += 1
        return line

    def take_int(self, field: str, frame: Optional[int]) -> int:
        s = self.take(field, frame).strip()
        try:
            return int(s)
        except ValueError:
            raise self.error(f"expected an integer, got {s[:60]!r}", field, frame) from None


def read_skeleton(path: PathLike) -> Dict[str, Any]:
    """Read one NTU ``.skeleton`` file.

    Returns:
        ``dict(name, num_frames, bodies_per_frame [T] int, bodies={body_id: body})`` where each body
        (keyed by its integer Kinect body id, in order of first appearance) is::

            dict(joints [n, 25, 3] float32 camera-space metres, frames [n] int64 frame indices,
                 depth [n, 25, 2], color [n, 25, 2], orientation [n, 25, 4] (w, x, y, z),
                 joint_tracking [n, 25] int8, info [n, 10] float64 body fields)

    Raises:
        DataError: malformed content; the message names the file, the frame, the line and the field.
    """
    path = Path(path)
    name = path.name[: -len(".skeleton")] if path.name.endswith(".skeleton") else path.stem
    cur = _Lines(path.read_text(encoding="utf-8", errors="replace"), str(path), name)
    num_frames = cur.take_int("frame count", None)
    if num_frames < 0:
        raise cur.error(f"negative frame count {num_frames}", "frame count")
    per_body: Dict[int, Dict[str, list]] = {}
    counts = np.zeros(num_frames, dtype=np.int64)
    for f in range(num_frames):
        nb = cur.take_int("body count", f)
        if nb < 0:
            raise cur.error(f"negative body count {nb}", "body count", f)
        counts[f] = nb
        ids_this_frame: Set[int] = set()
        for _b in range(nb):
            info_line = cur.take("body info", f).split()
            if len(info_line) != len(_BODY_FIELDS):
                raise cur.error(f"expected {len(_BODY_FIELDS)} body fields ({' '.join(_BODY_FIELDS)}), "
                                f"got {len(info_line)}", "body info", f)
            try:
                body_id = int(info_line[0])
                info = np.array([float(x) for x in info_line], dtype=np.float64)
            except ValueError:
                raise cur.error(f"non-numeric body fields {' '.join(info_line)[:80]!r}", "body info", f) from None
            if body_id in ids_this_frame:
                raise cur.error(f"body id {body_id} appears twice in one frame", "body info", f)
            ids_this_frame.add(body_id)
            nj = cur.take_int("joint count", f)
            if nj != NUM_JOINTS:
                raise cur.error(f"expected {NUM_JOINTS} joints, got {nj}", "joint count", f)
            start = cur.pos
            block = [cur.take("joint", f) for _ in range(NUM_JOINTS)]
            vals = _parse_joint_block(block, cur, start, f)
            rec = per_body.setdefault(body_id, {"frames": [], "vals": [], "info": []})
            rec["frames"].append(f)
            rec["vals"].append(vals)
            rec["info"].append(info)
    for ln in range(cur.pos, len(cur.lines)):
        if cur.lines[ln].strip():
            raise cur.error(f"unexpected content after the last of {num_frames} frames", "end of file", line=ln + 1)
    bodies = {}
    for bid, rec in per_body.items():
        vals = np.stack(rec["vals"])  # [n, 25, 12]
        bodies[bid] = {
            "joints": vals[..., 0:3].astype(np.float32),
            "frames": np.asarray(rec["frames"], dtype=np.int64),
            "depth": vals[..., 3:5].astype(np.float32),
            "color": vals[..., 5:7].astype(np.float32),
            "orientation": vals[..., 7:11].astype(np.float32),
            "joint_tracking": vals[..., 11].astype(np.int8),
            "info": np.stack(rec["info"]),
        }
    return {"name": name, "num_frames": num_frames, "bodies_per_frame": counts, "bodies": bodies}


def _parse_joint_block(block: List[str], cur: _Lines, start: int, frame: int) -> np.ndarray:
    """25 joint lines → [25, 12] float64; fast path joins the block, slow path finds the bad line."""
    tokens = " ".join(block).split()
    arr = None
    if len(tokens) == NUM_JOINTS * _JOINT_VALUES:
        try:
            arr = np.array(tokens, dtype=np.float64).reshape(NUM_JOINTS, _JOINT_VALUES)
        except ValueError:
            arr = None
    if arr is None:
        for j, line in enumerate(block):
            parts = line.split()
            if len(parts) != _JOINT_VALUES:
                raise cur.error(f"joint {j}: expected {_JOINT_VALUES} numbers "
                                "(x y z depthX depthY colorX colorY orientW orientX orientY orientZ trackingState), "
                                f"got {len(parts)}", "joint", frame, line=start + j + 1)
            try:
                [float(p) for p in parts]
            except ValueError:
                raise cur.error(f"joint {j}: non-numeric value in {line.strip()[:80]!r}", "joint", frame,
                                line=start + j + 1) from None
        raise cur.error("could not parse joint block", "joint", frame, line=start + 1)  # pragma: no cover
    if not np.all(np.isfinite(arr)):
        j = int(np.argwhere(~np.isfinite(arr))[0][0])
        raise cur.error(f"joint {j}: NaN or inf value", "joint", frame, line=start + j + 1)
    return arr
