"""The filter that drops degenerate samples (static, exploding, stretching) against the real shots' statistics."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Dict, Sequence

import numpy as np

from ..skeleton.layout import get_layout
from .config import SynthesisConfig


@dataclass
class FilterReport:
    """What drawing one class's samples took: ``requested`` asked, ``drawn`` sampled (at most
    ``max_draws``), ``kept`` passed the filter, ``static`` / ``exploding`` dropped by it, the rest
    passed after the count was met (``surplus``, discarded)."""

    kept: int = 0
    static: int = 0
    exploding: int = 0
    requested: int = 0
    drawn: int = 0
    max_draws: int = 0
    rounds: int = 0

    @property
    def shortfall(self) -> int:
        return max(0, self.requested - self.kept)

    @property
    def surplus(self) -> int:
        return self.drawn - self.kept - self.static - self.exploding

    @property
    def reason(self) -> str:
        """Why the class is short, in words (empty when it is not)."""
        if not self.shortfall:
            return ""
        return (f"{self.drawn} drawn (the bound: {self.max_draws} = draw_limit x {self.requested}), "
                f"{self.static} static and {self.exploding} exploding dropped by the filter")

    def to_dict(self) -> Dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, int]) -> "FilterReport":
        """Read a stored report; entries written before ``requested``/``drawn`` were recorded get ``drawn``
        from the counts (a lower bound: surplus samples were not counted then)."""
        known = {k: int(v) for k, v in d.items() if k in cls.__dataclass_fields__}
        rep = cls(**known)
        if "drawn" not in d:
            rep.drawn = rep.kept + rep.static + rep.exploding
        return rep


def motion_speed(joints: np.ndarray, root: int = 0) -> float:
    """Mean per-frame displacement of root-relative joints (m/frame)."""
    rel = joints - joints[:, root:root + 1]
    if len(rel) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(rel, axis=0), axis=-1).mean())


def extent(joints: np.ndarray) -> float:
    return float(np.max(joints.reshape(-1, 3).max(0) - joints.reshape(-1, 3).min(0)))


def bone_cv(joints: np.ndarray, layout: str = "smpl22") -> float:
    lay = get_layout(layout)
    pairs = [(i, p) for i, p in enumerate(lay.parents) if p >= 0]
    lengths = np.stack([np.linalg.norm(joints[:, i] - joints[:, p], axis=-1) for i, p in pairs], 1)  # [T, B]
    mean = lengths.mean(0)
    return float((lengths.std(0) / np.maximum(mean, 1e-6)).max())


def root_travel(joints: np.ndarray, root: int = 0) -> float:
    """The farthest the root gets from where it starts, on the ground plane (x, z; metres, y-up)."""
    d = joints[:, root, [0, 2]] - joints[:1, root, [0, 2]]
    return float(np.linalg.norm(d, axis=-1).max()) if len(d) else 0.0


def cap_travel(joints: np.ndarray, cap: float, root: int = 0) -> np.ndarray:
    """``joints`` with the root's ground-plane path from its first frame scaled down so that
    :func:`root_travel` is at most ``cap``; the pose relative to the root and the vertical motion are kept.

    Why: the generalist learned from corpora full of walks and runs, so its samples wander (on MSR Action3D
    the body's path spans about twice the real sequences' median, and its 90th percentile over three times),
    while the target's actions are performed on the spot; after ``PreNormalize3D`` that travel reaches the
    classifier as motion no real sample of the class has."""
    travel = root_travel(joints, root)
    if travel <= cap or travel <= 0.0:
        return joints
    out = np.array(joints, dtype=np.float32, copy=True)
    path = out[:, root, [0, 2]] - out[:1, root, [0, 2]]
    out[:, :, [0, 2]] -= (path * (1.0 - cap / travel))[:, None, :]
    return out


@dataclass
class ShotStats:
    """Reference statistics of the real shots (generator space) for the filter."""

    min_speed: float
    max_extent: float
    max_travel: float = float("inf")

    @classmethod
    def from_shots(cls, shots: Sequence[np.ndarray]) -> "ShotStats":
        return cls(min_speed=min(motion_speed(s) for s in shots), max_extent=max(extent(s) for s in shots),
                   max_travel=max(root_travel(s) for s in shots))


def classify(joints: np.ndarray, stats: ShotStats, cfg: SynthesisConfig) -> str:
    """``"ok"``, ``"static"`` or ``"exploding"``."""
    if not np.all(np.isfinite(joints)) or extent(joints) > cfg.explode_ratio * stats.max_extent:
        return "exploding"
    if bone_cv(joints) > cfg.bone_cv_max:
        return "exploding"
    if motion_speed(joints) < cfg.static_ratio * stats.min_speed:
        return "static"
    return "ok"
