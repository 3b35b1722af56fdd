"""A tiny procedural SMPL-22 corpus for smoke tests and demos. Every clip is flagged synthetic.

Four motion kinds (walk, wave, jump, turn) with captions, random speed, amplitude and heading. The
motion is crude on purpose: it exercises the training and sampling code paths, it is not data.
"""
from __future__ import annotations

from typing import Dict, List, Sequence

import numpy as np

from ..corpus import MotionClip, MotionCorpus
from ...skeleton.layout import get_layout
from ...skeleton.retarget import rest_pose

def _t_pose() -> np.ndarray:
    """The library's one rest pose (:func:`~kinemic_aug.skeleton.retarget.rest_pose`, SMPL-22) with both arms
    laid out sideways at shoulder height: the start pose every swing below is written against."""
    pose = rest_pose("smpl22").astype(np.float64)
    for shoulder, elbow, wrist, sign in ((16, 18, 20, 1.0), (17, 19, 21, -1.0)):
        upper = np.linalg.norm(pose[elbow] - pose[shoulder])
        fore = np.linalg.norm(pose[wrist] - pose[elbow])
        pose[elbow] = pose[shoulder] + (sign * upper, 0.0, 0.0)
        pose[wrist] = pose[elbow] + (sign * fore, 0.0, 0.0)
    return pose


_REST = _t_pose()

CAPTIONS: Dict[str, List[str]] = {
    "walk": ["a person walks forward.", "someone is walking straight ahead."],
    "wave": ["a person waves with the right hand.", "someone waves hello."],
    "jump": ["a person jumps up and down.", "someone hops in place."],
    "turn": ["a person turns around.", "someone spins in place."],
}


def _rot(axis: str, a: float) -> np.ndarray:
    c, s = np.cos(a), np.sin(a)
    if axis == "x":
        return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    if axis == "y":
        return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


def _descendants(parents: Sequence[int], j: int) -> List[int]:
    out = [j]
    for i in range(len(parents)):
        k = i
        while k != -1 and k != j:
            k = parents[k]
        if k == j and i != j:
            out.append(i)
    return out


_DESC: Dict[int, List[int]] = {}


def _swing(pose: np.ndarray, parents, pivot: int, axis: str, angle: float) -> None:
    if pivot not in _DESC:
        _DESC[pivot] = _descendants(parents, pivot)[1:]
    idx = _DESC[pivot]
    pose[idx] = (pose[idx] - pose[pivot]) @ _rot(axis, angle).T + pose[pivot]


def swing_clip(kind: str, seconds: float, fps: float, rng: np.random.Generator, name: str) -> MotionClip:
    parents = get_layout("smpl22").parents
    n = max(2, int(round(seconds * fps)))
    tt = np.arange(n) / fps
    freq = rng.uniform(0.6, 1.4)
    amp = rng.uniform(0.6, 1.2)
    frames = []
    for k, t in enumerate(tt):
        p = _REST.copy()
        ph = 2 * np.pi * freq * t
        if kind == "walk":
            _swing(p, parents, 1, "x", -0.5 * amp * np.sin(ph))
            _swing(p, parents, 2, "x", 0.5 * amp * np.sin(ph))
            _swing(p, parents, 16, "z", -1.2)
            _swing(p, parents, 17, "z", 1.2)
            p[:, 2] += 0.8 * amp * t
        elif kind == "wave":
            _swing(p, parents, 17, "z", 1.0)
            _swing(p, parents, 19, "z", 0.6 + 0.5 * amp * np.sin(ph))
            _swing(p, parents, 16, "z", -1.2)
        elif kind == "jump":
            p[:, 1] += 0.25 * amp * max(np.sin(ph), 0.0)
            _swing(p, parents, 16, "z", -0.3 - 0.6 * max(np.sin(ph), 0))
            _swing(p, parents, 17, "z", 0.3 + 0.6 * max(np.sin(ph), 0))
        elif kind == "turn":
            c = p[0].copy()
            p = (p - c) @ _rot("y", np.pi * amp * t / max(tt[-1], 1e-6)).T + c
        else:
            raise ValueError(f"unknown toy motion {kind!r}")
        frames.append(p)
    j = np.stack(frames)
    heading = rng.uniform(-np.pi, np.pi)
    j = j @ _rot("y", heading).T + np.array([rng.uniform(-1, 1), 0.0, rng.uniform(-1, 1)])
    return MotionClip(joints=j.astype(np.float32), layout="smpl22", fps=fps, captions=list(CAPTIONS[kind]),
                      name=name, source="procedural", synthetic=True, meta={"toy_kind": kind})


def swing_corpus(num_clips: int = 8, seconds=(1.5, 4.0), fps: float = 20.0, seed: int = 0) -> MotionCorpus:
    """``num_clips`` procedural clips cycling through the four kinds (all ``synthetic=True``)."""
    rng = np.random.default_rng(seed)
    kinds = list(CAPTIONS)
    clips = [swing_clip(kinds[i % len(kinds)], float(rng.uniform(*seconds)), fps, rng, f"toy{i:04d}")
             for i in range(num_clips)]
    return MotionCorpus(clips, name="toy-procedural")
