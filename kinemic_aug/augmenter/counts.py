"""How many synthetic samples each class gets: a number, a ``{class: count}`` mapping, ``"mirror"`` (the
training pool's class counts) or a ratio per real shot."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Union

from .shots import ShotSet


@dataclass
class SyntheticCounts:
    """``per_class`` (checked by :func:`~.inputs.check_counts`) or ``ratio``; ``pool``: the training samples
    the shots were drawn from (``"mirror"`` reads their class counts, nothing else)."""

    per_class: Union[int, str, Mapping[int, int], None]
    ratio: Optional[float]
    pool: List[Dict[str, Any]]
    shots: ShotSet

    def count(self, c: int) -> int:
        if self.ratio is not None:
            return int(round(self.ratio * len(self.shots.of_class(c))))
        spc = self.per_class
        if spc == "mirror":
            return sum(1 for a in self.pool if int(a["label"]) == c)
        if isinstance(spc, Mapping):
            return int(spc.get(c, 0))
        return int(spc or 0)

    def describe(self, classes: List[int]) -> str:
        """What was asked, for the progress line."""
        if self.ratio is not None:
            return f"{self.ratio:g} synthetic per shot"
        spc = self.per_class
        if spc == "mirror" or isinstance(spc, Mapping):
            counts = [self.count(c) for c in classes]
            how = "mirroring the training pool's class counts" if spc == "mirror" else "per-class counts"
            return f"{sum(counts)} synthetic ({how}, {min(counts)}-{max(counts)} per class)"
        return f"{spc or 0} synthetic per class"
