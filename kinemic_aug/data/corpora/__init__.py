"""Real captioned motion corpora built from labelled skeleton datasets (read from a data root).

Each source module turns one dataset's PYSKL-style pickle into :class:`~kinemic_aug.data.corpus.MotionCorpus`
clips in the generator's space (SMPL-22, 20 fps), with authored captions per label and per-clip
metadata (dataset, label, subject, licence, ``synthetic=False``). Every source has a held-out part
(about 10 % of its subjects) that generator training never sees: the generator's validation set.
A HAR *target* dataset (MSR Action3D, UTD-MHAD) is never a corpus source.
"""
from __future__ import annotations

from typing import Callable, Dict, Optional

from ..corpus import MotionCorpus
from .bandai import load_bandai
from .common import PathLike, resolve_data_root
from .kinder_gator import load_kinder_gator
from .msrc12 import load_msrc12
from .nw_ucla import load_nw_ucla
from . import bandai, kinder_gator, msrc12, nw_ucla

#: Source name -> loader(root, part=...).
SOURCES: Dict[str, Callable[..., MotionCorpus]] = {
    "bandai": load_bandai, "msrc12": load_msrc12, "kinder_gator": load_kinder_gator, "nw_ucla": load_nw_ucla,
}
#: Source name -> its :class:`~kinemic_aug.data.corpora.common.SourceInfo`.
SOURCE_INFO = {"bandai": bandai.INFO, "msrc12": msrc12.INFO, "kinder_gator": kinder_gator.INFO,
               "nw_ucla": nw_ucla.INFO}
#: Named groups of sources.
GROUPS = {"mocap": ("bandai", "msrc12", "kinder_gator", "nw_ucla"),
          "kinect": ("msrc12", "kinder_gator", "nw_ucla")}
PARTS = ("train", "heldout", "all")
#: Datasets that are benchmark targets and must never enter a corpus.
TARGET_DATASETS = ("msr_action3d", "utd_mhad")


def load_source(name: str, root: Optional[PathLike] = None, part: str = "train", *, layout: Optional[str] = None,
                out_fps: Optional[float] = None) -> MotionCorpus:
    """One source's clips (``part`` of its subjects), in the generator's space or, with ``layout``,
    in that layout at ``out_fps`` (see :func:`~kinemic_aug.data.corpora.common.make_clip`)."""
    from ...errors import DataError

    if name not in SOURCES:
        raise DataError(f"unknown corpus source {name!r}; known: {sorted(SOURCES)} and groups {sorted(GROUPS)}",
                        field="corpus")
    if part not in PARTS:
        raise DataError(f"unknown part {part!r} of {name!r}; use one of {PARTS}", field="corpus")
    return SOURCES[name](root, part=part, layout=layout, out_fps=out_fps)


__all__ = ["SOURCES", "SOURCE_INFO", "GROUPS", "PARTS", "TARGET_DATASETS", "load_source", "resolve_data_root",
           "load_bandai", "load_msrc12", "load_kinder_gator", "load_nw_ucla"]
