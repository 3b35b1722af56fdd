"""Bandai Namco Research Motion dataset 1 + 2: optical mocap, 25 contents in up to 19 styles.

Captions combine the content's authored captions with the style ("a person walks forward in a
tired way"). The data names no actors; the held-out part is the ``youthful`` style (401 clips,
13 %). Its skeleton id (6) is shared with the ``feminine`` style, so the part is style-disjoint but
not provably actor-disjoint. Clips longer than ``max_seconds`` (a few dances and long walks) are cut
into consecutive pieces, so one clip does not dominate the minutes of its label.
"""
from __future__ import annotations

from typing import List, Optional

import numpy as np

from ..corpus import MotionCorpus
from .common import PathLike, SourceInfo, annotations_in_part, caption_table, make_clip, read_source_pickle
from ...errors import DataError

HELDOUT_STYLES = ("youthful",)

INFO = SourceInfo(
    name="bandai_namco_motion", folder="bandai_namco_motion", file="bandai_namco_motion_skeleton.pkl",
    layout="bandai22", fps=20.0, heldout=f"styles {list(HELDOUT_STYLES)}",
    licence="Bandai Namco Research Motion Dataset 1+2, (c) 2022 Bandai Namco Research Inc., CC BY-NC 4.0; "
            "non-commercial use only, attribution required; converted to joint positions, 30 -> 20 fps, "
            "retargeted to SMPL-22 (modified)")


def styled_captions(content: str, style: str, *, sample: str = "") -> List[str]:
    table = caption_table(INFO.name)
    caps = (table.get("content") or {}).get(content)
    styles = table.get("style") or {}
    if not caps:
        raise DataError(f"no authored captions for content {content!r}", sample=sample, field="content")
    if style not in styles:
        raise DataError(f"no authored wording for style {style!r}", sample=sample, field="style")
    adverb = styles[style]
    return [f"{c} {adverb}".strip() for c in caps]


def load_bandai(root: Optional[PathLike] = None, *, part: str = "train", layout: Optional[str] = None,
                out_fps: Optional[float] = None, max_seconds: float = 10.0, min_frames: int = 10) -> MotionCorpus:
    """One clip per take (pieces of at most ``max_seconds`` for longer takes). ``part``: ``train``,
    ``heldout`` or ``all``; ``layout``/``out_fps``: see
    :func:`~kinemic_aug.data.corpora.common.make_clip` (default: the generator's space)."""
    path = INFO.path(root)
    data = read_source_pickle(path, joints=22, required=("frame_dir", "content", "style", "skeleton_id"))
    max_frames = int(round(max_seconds * INFO.fps))
    clips = []
    for ann, label, held in annotations_in_part(data, path, part, lambda a: str(a["style"]) in HELDOUT_STYLES):
        style = str(ann["style"])
        sid = str(ann["frame_dir"])
        caps = styled_captions(str(ann["content"]), style, sample=sid)
        kp = np.asarray(ann["keypoint"][0], np.float32)
        n_pieces = max(1, int(np.ceil(len(kp) / max_frames)))
        bounds = np.linspace(0, len(kp), n_pieces + 1).round().astype(int)
        for k in range(n_pieces):
            seg = kp[bounds[k]:bounds[k + 1]]
            if len(seg) < min_frames:
                continue
            name = sid + (f"_part{k}" if n_pieces > 1 else "")
            clips.append(make_clip(INFO, seg, layout=layout, out_fps=out_fps, name=name, label=label, captions=caps,
                                   subject=f"skeleton{int(ann['skeleton_id'])}", heldout=held,
                                   meta={"style": style, "content": str(ann["content"]), "set": ann.get("set"),
                                         "first_frame": int(bounds[k])}))
    return MotionCorpus(clips, name=f"bandai:{part}")
