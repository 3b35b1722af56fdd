"""Chaining actions into one clip: cross-faded transitions, continuous heading and floor contact.

Every action starts and ends in (its subject's) neutral pose, or seated for the sit/stand pair,
so consecutive channel tracks can be cross-faded over an overlap with a minimum-jerk weight.
Angles blend linearly (they are anatomical angles with limited range, which avoids the
artefacts of interpolating rotation matrices); the heading of a later segment is offset by the
final heading of the earlier one, so a "turn left, then walk" walks off in the new direction.
The root path is solved once for the whole clip (:func:`.ground.solve_root`), so the body
stays on the floor across transitions.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .actions import make_track, smoothstep
from .body import Subject
from .ground import solve_root
from .pose import CH

Plan = Tuple[str, Optional[str], int]   # (action, side, frames)


def blend_tracks(tracks: Sequence[np.ndarray], overlaps: Sequence[int]) -> Tuple[np.ndarray, List[Tuple[int, int]]]:
    """Cross-fade consecutive tracks; ``overlaps[i]`` frames are shared by track i and i+1.

    Returns the blended track and each segment's ``(start, end)`` frame span; spans tile the clip,
    with the boundary in the middle of each overlap.
    """
    yaw = CH["root_yaw"]
    out = np.array(tracks[0], dtype=np.float64, copy=True)
    starts = [0]
    for i in range(1, len(tracks)):
        nxt = np.array(tracks[i], dtype=np.float64, copy=True)
        L = int(min(overlaps[i - 1], len(out) - 1, len(nxt) - 1))
        # heading continuity: the new segment's yaw starts where the previous one is at the overlap
        nxt[:, yaw] += out[-max(L, 1), yaw] - nxt[0, yaw]
        if L > 0:
            w = smoothstep((np.arange(L) + 0.5) / L)[:, None]
            mixed = (1 - w) * out[-L:] + w * nxt[:L]
            starts.append(len(out) - L + L // 2)
            out = np.concatenate([out[:-L], mixed, nxt[L:]])
        else:
            starts.append(len(out))
            out = np.concatenate([out, nxt])
    ends = starts[1:] + [len(out)]
    return out, list(zip(starts, ends))


def compose_clip(plan: Sequence[Plan], rng: np.random.Generator, subject: Subject, fps: float = 20.0,
                 blend_seconds: float = 0.5) -> Tuple[np.ndarray, List[Dict]]:
    """Joints ``[T, 22, 3]`` and per-segment meta for a plan of ``(action, side, frames)``.

    ``frames`` counts each segment's own length; consecutive segments overlap by
    ``blend_seconds`` (at most a third of the shorter one), so the clip is shorter than the sum.
    """
    tracks, params = [], []
    for name, side, n in plan:
        tr, p = make_track(name, rng, subject, int(n), side, fps)
        tracks.append(tr)
        params.append(p)
    overlaps = [int(min(round(blend_seconds * fps), len(a) // 3, len(b) // 3)) for a, b in zip(tracks[:-1], tracks[1:])]
    track, spans = blend_tracks(tracks, overlaps)
    joints, _ = solve_root(track, subject, fps)
    segments = []
    for p, (s, e) in zip(params, spans):
        seg = {"action": p["action"], "start": int(s), "end": int(e), "side": p["side"],
               "amplitude": p["amplitude"], "speed": p["speed"]}
        seg.update({k: v for k, v in p.items() if k not in seg})
        segments.append(seg)
    return joints, segments
