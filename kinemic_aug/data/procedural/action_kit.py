"""The kit action definitions are written with: the :data:`ACTIONS` registry and its :func:`action`
decorator, the :class:`Ctx` an action runs in (keyframe interpolation with anticipation-friendly
shape-preserving splines, envelopes, gait phase helpers) and small pose helpers.

The ``library_*.py`` modules import this kit and register their actions; :mod:`.actions` imports the
libraries, so the registry is full wherever actions are looked up, and no module imports one that
imports it back.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Dict, Mapping, Optional, Sequence, Tuple

import numpy as np

from .body import Subject
from .pose import NUM_CHANNELS, apply_delta, expand_key, neutral_pose, smooth_noise


Key = Tuple[float, Mapping[str, float]]


@dataclass(frozen=True)
class ActionSpec:
    """One registered action.

    Attributes:
        name: registry key (snake_case).
        fn: ``fn(ctx) -> [T, C]`` track.
        description: one line for humans.
        tags: coarse groups (``locomotion``, ``kick``, ``arm`` ...), used for filtering and stats.
        sides: allowed ``side`` values: ``('left', 'right')`` for one-sided actions, ``(None,)`` otherwise.
            For turning/travelling actions the side is the direction.
        duration: (min, max) natural length in seconds when the corpus picks one.
        templates: caption verb phrases; ``<verb>`` marks verbs to conjugate, ``{side}`` is the side word.
        standing: the body stays upright on its feet throughout (tests check floor contact).
        start_pose / end_pose: ``'stand'`` or ``'sit'``, so chains only join compatible actions.
    """

    name: str
    fn: Callable[["Ctx"], np.ndarray]
    description: str
    tags: Tuple[str, ...]
    sides: Tuple[Optional[str], ...]
    duration: Tuple[float, float]
    templates: Tuple[str, ...]
    standing: bool = True
    start_pose: str = "stand"
    end_pose: str = "stand"

    @property
    def sided(self) -> bool:
        return self.sides != (None,)


ACTIONS: Dict[str, ActionSpec] = {}


def action(name: str, description: str, tags: Sequence[str], templates: Sequence[str], *,
           sided: bool = False, duration: Tuple[float, float] = (2.0, 4.0), standing: bool = True,
           start_pose: str = "stand", end_pose: str = "stand") -> Callable:
    """Decorator registering ``fn`` as an action."""
    def deco(fn: Callable[["Ctx"], np.ndarray]) -> Callable[["Ctx"], np.ndarray]:
        if name in ACTIONS:
            raise ValueError(f"action {name!r} registered twice")
        ACTIONS[name] = ActionSpec(name, fn, description, tuple(tags), ("left", "right") if sided else (None,),
                                   duration, tuple(templates), standing, start_pose, end_pose)
        return fn
    return deco


# ---------------------------------------------------------------------------- context
def _vm(x: np.ndarray, mu: float, kappa: float) -> np.ndarray:
    """Periodic bump (von Mises shape) on phase ``x`` (radians) centred at cycle fraction ``mu``."""
    return np.exp(kappa * (np.cos(x - 2 * np.pi * mu) - 1.0))


def smoothstep(x: np.ndarray) -> np.ndarray:
    """Minimum-jerk 0->1 ramp (zero velocity and acceleration at both ends)."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * x * (10 - 15 * x + 6 * x * x)


@dataclass
class Ctx:
    """Everything an action function may use. ``amp`` and ``speed`` already include the subject's
    energy and tempo; actions multiply their own angles by ``amp`` through :meth:`keyed`."""

    rng: np.random.Generator
    subject: Subject
    side: Optional[str]
    fps: float
    n: int
    amp: float = 1.0
    speed: float = 1.0
    base: np.ndarray = field(default=None)  # type: ignore[assignment]
    info: Dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.base is None:
            self.base = neutral_pose(self.subject)

    # ------------------------------------------------------------------ basics
    @property
    def t(self) -> np.ndarray:
        return np.arange(self.n) / self.fps

    @property
    def dur(self) -> float:
        return self.n / self.fps

    def u(self, lo: float, hi: float) -> float:
        return float(self.rng.uniform(lo, hi))

    def hold(self) -> np.ndarray:
        return np.tile(self.base, (self.n, 1))

    def add(self, track: np.ndarray, key: str, values) -> np.ndarray:
        """Add ``values`` (scalar or ``[T]``) to channel ``key`` (``s_``/``o_``/``b_``/``~`` allowed)."""
        for idx, val in expand_key(key, values, self.side):
            track[:, idx] += val
        return track

    def env(self, ramp_in: float = 0.5, ramp_out: float = 0.5, start: float = 0.0,
            end: Optional[float] = None) -> np.ndarray:
        """0..1 envelope: rises over ``ramp_in`` s from ``start``, falls over ``ramp_out`` s to ``end``."""
        end = self.dur if end is None else end
        t = self.t
        a = smoothstep((t - start) / max(ramp_in, 1e-6))
        b = smoothstep((end - t) / max(ramp_out, 1e-6))
        return a * b

    def phase(self, freq: float, wobble: float = 0.04) -> np.ndarray:
        """Cycle phase in radians at ``freq`` Hz with slow tempo variation and a random start."""
        warp = self.t + wobble * smooth_noise(self.rng, self.n, 1, self.fps, 1.2)[:, 0] / max(freq, 1e-3)
        return 2 * np.pi * freq * warp + self.u(0, 2 * np.pi)

    def reps(self, core: float, fixed: float = 0.0, max_reps: int = 8) -> int:
        """How many repetitions of a ``core``-second move (at the context speed) fit the clip."""
        avail = self.dur * self.speed - fixed
        return int(np.clip(np.floor(avail / core + 0.3), 1, max_reps))

    # ------------------------------------------------------------------ keyframes
    def keyed(self, keys: Sequence[Key], jitter: float = 0.06, scale_amp: bool = True,
              fill: str = "pad") -> np.ndarray:
        """Interpolate key poses (times in nominal seconds, deltas from the neutral pose).

        Times are divided by ``speed`` and stretched (x0.8-1.25) to fit the clip; leftover time
        is neutral standing split randomly before and after (``fill='pad'``) or the motion is
        stretched to the full clip (``fill='stretch'``). Shape-preserving cubic (PCHIP)
        interpolation passes through every key without overshoot, so extremes are held briefly,
        as in human reversal points. Each key's time and size get a little random variation.
        """
        from scipy.interpolate import PchipInterpolator

        times = np.array([k for k, _ in keys], dtype=np.float64)
        times = times - times[0]
        if len(times) > 2 and jitter > 0:
            gaps = np.diff(times)
            gaps = gaps * self.rng.uniform(1 - jitter * 2, 1 + jitter * 2, size=gaps.shape)
            times = np.concatenate([[0.0], np.cumsum(gaps)])
        total = times[-1] / self.speed
        dur = self.dur
        if fill == "stretch" or total <= 0:
            scale = dur / max(total, 1e-6)
        else:
            scale = float(np.clip(dur / total, 0.8, 1.25))
        times = times / self.speed * scale
        slack = dur - times[-1]
        lead = max(slack, 0.0) * self.u(0.15, 0.85) if fill == "pad" else 0.0
        times = times + lead
        vals = np.empty((len(keys), NUM_CHANNELS))
        for i, (_, d) in enumerate(keys):
            f = self.amp * self.u(0.92, 1.08) if scale_amp else 1.0
            vals[i] = apply_delta(self.base, {k: v * f for k, v in d.items()}, self.side)
        if lead > 0:
            times = np.concatenate([[0.0], times])
            vals = np.concatenate([vals[:1], vals])
        if times[-1] < dur:
            times = np.concatenate([times, [dur + 1.0]])
            vals = np.concatenate([vals, vals[-1:]])
        keep = np.concatenate([[True], np.diff(times) > 1e-6])
        interp = PchipInterpolator(times[keep], vals[keep], axis=0, extrapolate=False)
        tt = np.clip(self.t, times[0], times[keep][-1])
        self.info["active"] = [int(round(lead * self.fps)), int(min(self.n, round((lead + times[-2 if slack > 0 else -1]) * self.fps)))]
        return interp(tt)


def flat_feet(d: Mapping[str, float]) -> Dict[str, float]:
    """``d`` plus ankle angles that keep both soles flat on the floor for its hip/knee flexion and
    pelvis pitch (sagittal plane: dorsiflexion = knee flexion - thigh angle from vertical). Used
    for squats, lunges and crouches so heels neither dig in nor lift; explicit ankle values in
    ``d`` are added on top (e.g. to rise onto the toes)."""
    out = {k: v for k, v in d.items() if not k.endswith("ankle")}
    pitch = d.get("root_pitch", 0.0)
    for s in ("s_", "o_"):
        knee = d.get(s + "knee", 0.0) + d.get("b_knee", 0.0)
        hip = d.get(s + "hip_flex", 0.0) + d.get("b_hip_flex", 0.0)
        out[s + "ankle"] = knee - (hip - pitch) + d.get(s + "ankle", 0.0) + d.get("b_ankle", 0.0)
    return out


def hold_osc(ctx: Ctx, pose: Dict[str, float], rise: float, lower: float, osc: Sequence[Tuple[str, float]],
             freq: float, hold_min: float = 0.8) -> np.ndarray:
    """Raise into ``pose``, oscillate channels (``(key, amplitude)``) at ``freq`` Hz, lower again."""
    hold = max(ctx.dur * ctx.speed - rise - lower - 0.4, hold_min)
    tr = ctx.keyed([(0, {}), (rise, pose), (rise + hold, pose), (rise + hold + lower, {})])
    a0, a1 = ctx.info["active"]
    start = a0 / ctx.fps + rise / ctx.speed * 0.8
    end = a1 / ctx.fps - lower / ctx.speed * 0.8
    e = ctx.env(0.3, 0.3, start=start, end=max(end, start + 0.2))
    phi = ctx.phase(freq * ctx.speed, 0.03)
    for key, amp in osc:
        ctx.add(tr, key, e * amp * ctx.amp * np.sin(phi))
    return tr
