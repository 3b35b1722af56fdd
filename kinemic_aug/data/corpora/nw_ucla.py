"""NW-UCLA Multiview Action3D: 10 daily actions from 3 Kinect v1 views, one clip per sequence and view.

The source documents no frame rate. :data:`NW_UCLA_FPS` is estimated from walking cadence
(``benchmarks/nw_ucla_fps.py``): the dominant frequency of the ankle-to-ankle distance in
``walk around`` is 0.102 steps per frame (median of the sequences of at least 40 frames), and the
same measure on the Bandai Namco ``walk`` clips, whose rate is known (20 fps), gives 1.88 steps/s, so
NW-UCLA runs at about 1.88 / 0.102 = 18.4 frames per second. The hips' walking speed agrees (0.066 m
per frame against Bandai's 1.18 m/s: 17.8 fps). Both rule out Kinect's nominal 30 fps.
"""
from __future__ import annotations

from typing import Optional

from ..corpus import MotionCorpus
from .common import PathLike, SourceInfo, annotations_in_part, authored_captions, read_source_pickle, tracked_clips

#: Estimated from the data (see the module docstring), rounded to whole frames per second.
NW_UCLA_FPS = 18.0
#: One of the 10 subjects (10 %) forms the held-out part.
HELDOUT_SUBJECTS = (10,)

INFO = SourceInfo(
    name="nw_ucla", folder="nw_ucla", file="nw_ucla_skeleton.pkl", layout="kinect_v1_sdk", fps=NW_UCLA_FPS,
    heldout=f"subject {list(HELDOUT_SUBJECTS)} of 10",
    licence="NW-UCLA (Wang et al., CVPR 2014): no licence stated for the data; research use, cite the paper; "
            "do not redistribute")


def load_nw_ucla(root: Optional[PathLike] = None, *, part: str = "train", layout: Optional[str] = None,
                 out_fps: Optional[float] = None, max_gap: int = 4, min_frames: int = 9) -> MotionCorpus:
    """One clip per sequence (frames with joints at exactly zero are interpolated when the gap is
    short, cut otherwise; one-frame sequences are dropped). ``part``: ``train``, ``heldout``,
    ``all``; ``layout``/``out_fps``: see :func:`~kinemic_aug.data.corpora.common.make_clip` (default: the generator's space)."""
    path = INFO.path(root)
    data = read_source_pickle(path, joints=20, required=("subject", "frame_dir", "view"))
    clips = []
    for ann, label, held in annotations_in_part(data, path, part, lambda a: int(a["subject"]) in HELDOUT_SUBJECTS):
        clips += tracked_clips(INFO, ann, label=label, captions=authored_captions(INFO.name, label),
                               subject=int(ann["subject"]), heldout=held, max_gap=max_gap, min_frames=min_frames,
                               layout=layout, out_fps=out_fps,
                               meta={"view": int(ann["view"]), "fps_estimated": True})
    return MotionCorpus(clips, name=f"nw_ucla:{part}")
