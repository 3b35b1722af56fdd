"""The action library: a registry of parametric everyday actions and the context they run in.

Each action is a function of a :class:`Ctx` (frame count, side, subject, random amplitude/speed)
that returns a ``[T, C]`` channel track (anatomical angles + root hints, see :mod:`.pose`). The
definitions live in ``library_*.py`` grouped by body use; the machinery they share is
in :mod:`.action_kit`; this module loads every library (filling the :data:`ACTIONS` registry that
captions and the corpus builder read), looks actions up and turns one into a motion.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Tuple

import numpy as np

from ...errors import DataError
from .body import Subject, sample_subject
from .ground import solve_root
from .pose import NUM_CHANNELS, noise_scale, smooth_noise
# the libraries register their actions in ACTIONS on import, in this order (the registry's order)
from . import library_locomotion, library_combat, library_everyday, library_body  # noqa: F401,I001
from .action_kit import ACTIONS, ActionSpec, Ctx, Key, action, flat_feet, smoothstep  # noqa: F401

GENERATOR_NAME = "kinemic_aug.procedural"
GENERATOR_VERSION = "1.0"


def list_actions(tag: Optional[str] = None) -> List[str]:
    """Registered action names (sorted), optionally only those carrying ``tag``."""
    return sorted(n for n, s in ACTIONS.items() if tag is None or tag in s.tags)


def get_action(name: str) -> ActionSpec:
    if name not in ACTIONS:
        raise DataError(f"unknown action {name!r}; known: {list_actions()}", field="action")
    return ACTIONS[name]


# ---------------------------------------------------------------------------- synthesis
def _pick_side(spec: ActionSpec, side: Optional[str], rng: np.random.Generator) -> Optional[str]:
    if not spec.sided:
        if side not in (None, "both"):
            raise DataError(f"action {spec.name!r} has no side; got side={side!r}", sample=spec.name, field="side")
        return None
    if side is None:
        return "left" if rng.random() < 0.5 else "right"
    if side not in ("left", "right"):
        raise DataError(f"side must be 'left' or 'right', got {side!r}", sample=spec.name, field="side")
    return side


def make_track(name: str, rng: np.random.Generator, subject: Subject, n: int, side: Optional[str],
               fps: float = 20.0, noise: bool = True) -> Tuple[np.ndarray, Dict]:
    """Channel track ``[n, C]`` and parameters for one action (no root solve)."""
    spec = get_action(name)
    side = _pick_side(spec, side, rng)
    amp = float(subject.energy * rng.uniform(0.88, 1.12))
    speed = float(subject.tempo * rng.uniform(0.9, 1.1))
    ctx = Ctx(rng=rng, subject=subject, side=side, fps=fps, n=n, amp=amp, speed=speed)
    track = np.asarray(spec.fn(ctx), dtype=np.float64)
    if track.shape != (n, NUM_CHANNELS) or not np.all(np.isfinite(track)):
        raise DataError(f"action produced a bad track {track.shape}", sample=name, field="track")
    if noise:
        track = track + smooth_noise(rng, n, NUM_CHANNELS, fps) * noise_scale()[None]
    params = {"action": name, "side": side, "amplitude": round(amp, 3), "speed": round(speed, 3)}
    params.update({k: v for k, v in ctx.info.items() if k != "active"})
    if "active" in ctx.info:
        params["active"] = ctx.info["active"]
    return track, params


def synthesize_action(name: str, rng: np.random.Generator, subject: Optional[Subject] = None,
                      duration: Optional[float] = None, side: Optional[str] = None,
                      fps: float = 20.0) -> Tuple[np.ndarray, Dict]:
    """One action as joint positions ``[T, 22, 3]`` (SMPL-22, metres, y-up, on the floor) plus meta.

    ``duration`` defaults to a random length in the action's natural range; ``side`` to a random
    side for one-sided actions (``None`` for the others). The body starts at the origin facing +z.
    """
    spec = get_action(name)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(rng)
    subject = subject or sample_subject(rng)
    if duration is None:
        duration = float(rng.uniform(*spec.duration))
    n = max(int(round(duration * fps)), 2)
    track, params = make_track(name, rng, subject, n, side, fps)
    joints, _ = solve_root(track, subject, fps)
    meta = {"generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION}, "subject": subject.to_dict(),
            **params, "segments": [{"action": name, "start": 0, "end": n, "side": params["side"]}]}
    return joints, meta
