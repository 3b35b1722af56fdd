"""Stage 2, normalisation policy: which statistics the shots (and the target stream's samples) are
normalised with.

``"shots"`` fits them on all selected shots, so shots from another capture system reach the denoiser at
the corpus's scale; ``"generalist"`` keeps the corpus statistics, as the reference method does; a pinned
statistics file (:mod:`.pinned_stats`) fixes the ``"shots"`` statistics of an earlier run so adding a class
does not retrain every adapter. Source clips always use the generalist's own statistics.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import numpy as np

from ..errors import DataError
from ..generator.representation import MotionRepresentation
from .pinned_stats import load_target_stats

#: how shots are normalised for the generator (see ``KineMICAugmenter``'s ``target_norm``)
TARGET_NORMS = ("shots", "generalist")


def check_policy(target_norm: str, target_stats: Optional[Path]) -> None:
    """Refuse an unknown policy, or pinned statistics without ``"shots"``, before any data is read."""
    if target_norm not in TARGET_NORMS:
        raise ValueError(f"target_norm must be one of {TARGET_NORMS}, got {target_norm!r}")
    if target_stats is not None and target_norm != "shots":
        raise ValueError(f"target_stats pins the statistics of target_norm='shots'; got target_norm={target_norm!r}")
    if target_stats is not None and not Path(target_stats).is_file():
        raise DataError("no such statistics file (write one with KineMICAugmenter.save_target_stats)",
                        source=str(target_stats), field="target_stats")


@dataclass
class TargetNormalisation:
    """The representation the shots go through, and, when pinned, the pinned file's provenance."""

    representation: MotionRepresentation
    pinned_provenance: Optional[Dict[str, Any]] = field(default=None)

    @property
    def pinned(self) -> Optional[Tuple[MotionRepresentation, Dict[str, Any]]]:
        """``(representation, provenance)`` of pinned statistics, for the cache key; ``None`` when not pinned."""
        return None if self.pinned_provenance is None else (self.representation, self.pinned_provenance)


def fit_target_normalisation(target_norm: str, target_stats: Optional[Path], generalist: MotionRepresentation,
                             shot_joints: List[np.ndarray]) -> TargetNormalisation:
    """The statistics of the policy: pinned from a file, fitted on ``shot_joints`` (every class's), or the
    generalist's own."""
    if target_stats is not None:
        rep, provenance = load_target_stats(target_stats, generalist)
        return TargetNormalisation(rep, provenance)
    if target_norm == "shots":
        return TargetNormalisation(generalist.matched_to(shot_joints))
    return TargetNormalisation(generalist)
