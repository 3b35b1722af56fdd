"""Kinder-Gator: 58 instructed motions by 10 children and 10 adults, Kinect v1, one clip per trial."""
from __future__ import annotations

from typing import Optional

from ..corpus import MotionCorpus
from .common import PathLike, SourceInfo, annotations_in_part, authored_captions, read_source_pickle, tracked_clips

#: One child and one adult of the 20 participants (10 %) form the held-out part.
HELDOUT_SUBJECTS = (723, 976)

INFO = SourceInfo(
    name="kinder_gator", folder="kinder_gator", file="kinder_gator_skeleton.pkl", layout="kinect_v1_sdk", fps=20.0,
    heldout=f"participants {list(HELDOUT_SUBJECTS)} (one child, one adult) of 20",
    licence="Kinder-Gator (University of Florida): no licence stated; research use, cite Aloba et al., "
            "Eurographics 2018; do not redistribute; the data are motions of minors")


def load_kinder_gator(root: Optional[PathLike] = None, *, part: str = "train", layout: Optional[str] = None,
                      out_fps: Optional[float] = None, max_gap: int = 5, min_frames: int = 10) -> MotionCorpus:
    """One clip per trial (a trial cut by an untracked stretch gives one clip per tracked piece).
    ``part``: ``train``, ``heldout`` or ``all``; ``layout``/``out_fps``: see
    :func:`~kinemic_aug.data.corpora.common.make_clip` (default: the generator's space)."""
    path = INFO.path(root)
    data = read_source_pickle(path, joints=20, required=("subject", "frame_dir"))
    clips = []
    for ann, label, held in annotations_in_part(data, path, part, lambda a: int(a["subject"]) in HELDOUT_SUBJECTS):
        clips += tracked_clips(INFO, ann, label=label, captions=authored_captions(INFO.name, label),
                               subject=int(ann["subject"]), heldout=held, max_gap=max_gap, min_frames=min_frames,
                               layout=layout, out_fps=out_fps,
                               meta={"group": ann.get("group"), "category": ann.get("category")})
    return MotionCorpus(clips, name=f"kinder_gator:{part}")
