"""MSRC-12 Kinect gestures: whole recordings of ~10 repetitions, cut into one clip per tagged instance.

Each recording holds about ten repetitions of one gesture, with one *action point* tag per
repetition (the moment the gesture is recognisable, not its start or its middle: a bow's tag comes
at its end, a kick's in its middle). Two measurements from the data set each clip's window:

* **length**: one repetition period, the median interval between consecutive tags of that gesture
  (over all gestures 65 frames = 3.25 s at 20 fps, 5-95 %: 39-118 frames); each repetition carries
  exactly one tag, so a window of one period holds one repetition;
* **placement**: the window is centred on where the motion is, not on the tag. :func:`tag_windows`
  aligns every instance on its tag, takes the median mean-joint speed per frame offset within half a
  period, and shifts the window to that profile's speed-weighted centre (above its minimum).

A window is also cut at the midpoints to the neighbouring tags, so consecutive clips never share
frames and each holds its own tag. The measured ``(before, after)`` frames go into every clip's meta.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from ..corpus import MotionCorpus
from .common import PathLike, SourceInfo, annotations_in_part, authored_captions, invalid_frames, make_clip, \
    read_source_pickle, repair_gaps

#: Three of the 30 subjects (10 %) form the held-out part (the generator's validation set).
HELDOUT_SUBJECTS = (10, 20, 30)

INFO = SourceInfo(
    name="msrc12_gestures", folder="msrc12_gestures", file="msrc12_gestures_skeleton.pkl", layout="kinect_v1_sdk",
    fps=20.0, heldout=f"subjects {list(HELDOUT_SUBJECTS)} of 30",
    licence="MSRC-12 (Microsoft Research Cambridge): no licence stated; research use, cite Fothergill et al., "
            "CHI 2012; do not redistribute")

_MAX_HALF = 40    # a window never reaches more than 2 s from its centre


def _speed(kp: np.ndarray) -> np.ndarray:
    sp = np.linalg.norm(np.diff(kp, axis=0), axis=-1).mean(-1)
    sp = np.r_[sp, sp[-1:]].astype(np.float64)
    sp[invalid_frames(kp)] = np.nan
    return sp


def tag_windows(annotations: List[Mapping[str, Any]]) -> Dict[int, Tuple[int, int]]:
    """Per gesture label, ``(before, after)``: the frames before and after the tag that its window
    spans, measured from the data (see the module docstring)."""
    intervals: Dict[int, List[int]] = {}
    for ann in annotations:
        tags = sorted(int(t) for t in ann.get("tags") or [])
        intervals.setdefault(int(ann["label"]), []).extend(np.diff(tags).tolist())
    out: Dict[int, Tuple[int, int]] = {}
    for lab, iv in intervals.items():
        half = int(min(_MAX_HALF, round(float(np.median(iv)) / 2))) if iv else 20
        rows = []
        for ann in annotations:
            if int(ann["label"]) != lab:
                continue
            sp = _speed(np.asarray(ann["keypoint"][0], np.float32))
            for t in ann.get("tags") or []:
                t = int(t)
                if t - half >= 0 and t + half < len(sp):
                    rows.append(sp[t - half:t + half + 1])
        shift = 0
        if rows:
            p = np.nan_to_num(np.nanmedian(np.stack(rows), axis=0), nan=0.0)
            w = np.clip(p - p.min(), 0, None)
            if w.sum() > 0:
                shift = int(round(float((w * np.arange(-half, half + 1)).sum() / w.sum())))
        out[lab] = (half - shift, half + shift)
    return out


def load_msrc12(root: Optional[PathLike] = None, *, part: str = "train", layout: Optional[str] = None,
                out_fps: Optional[float] = None, max_gap: int = 5, min_frames: int = 10) -> MotionCorpus:
    """One clip per tagged gesture instance. ``part``: ``train`` (subjects not held out),
    ``heldout`` or ``all``; ``layout``/``out_fps``: see
    :func:`~kinemic_aug.data.corpora.common.make_clip` (default: the generator's space)."""
    path = INFO.path(root)
    data = read_source_pickle(path, joints=20, required=("subject", "tags", "frame_dir"))
    anns = data["annotations"]
    windows = tag_windows(anns)
    clips = []
    for ann, label, held in annotations_in_part(data, path, part, lambda a: int(a["subject"]) in HELDOUT_SUBJECTS):
        subject = int(ann["subject"])
        caps = authored_captions(INFO.name, label)
        kp = np.asarray(ann["keypoint"][0], np.float32)
        tags = sorted(int(t) for t in ann["tags"])
        before, after = windows.get(int(ann["label"]), (20, 20))
        for k, t in enumerate(tags):
            lo, hi = t - before, t + after + 1
            if k > 0:
                lo = max(lo, (tags[k - 1] + t + 1) // 2)
            if k + 1 < len(tags):
                hi = min(hi, (t + tags[k + 1] + 1) // 2)
            lo, hi = max(lo, 0), min(hi, len(kp))
            if hi - lo < min_frames:
                continue
            segs, rep = repair_gaps(kp[lo:hi], max_gap=max_gap, min_frames=min_frames)
            if len(segs) != 1:   # a window cut by an untracked stretch is not one instance
                continue
            off, seg = segs[0]
            clips.append(make_clip(INFO, seg, layout=layout, out_fps=out_fps, name=f"{ann['frame_dir']}_tag{k:02d}", label=label, captions=caps,
                                   subject=subject, heldout=held,
                                   meta={"tag_frame": t, "window": [lo + off, lo + off + len(seg)],
                                         "tag_window": [before, after], "instruction": ann.get("instruction"),
                                         "filled_frames": rep.filled_frames}))
    return MotionCorpus(clips, name=f"msrc12:{part}")
