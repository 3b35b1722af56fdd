"""Segment sub-clips: every action of a chained procedural clip as its own captioned entry.

A chained clip ("a person waves, then kicks") carries one caption for the whole chain. A
generalist trained on random crops of it sees crops that miss the captioned action, so text and
motion disagree. HumanML3D avoids this by storing caption spans (``#from#to`` in seconds) and
registering each span as a separate entry (``humanml3d.py``); :class:`MotionClip` has no
caption spans of its own, so this module does the same: each recorded segment
(``meta['segments']``: action, start/end frame, side, speed) becomes a sub-clip whose frames are
exactly the parent's frames in the span and whose captions describe that action only.

Sub-clip captions come from :func:`.captions.caption_segments` on the single segment, drawn from an
rng seeded by ``(corpus seed, clip index, segment index)``, so they are the same on every machine
and do not depend on which other clips are expanded. Sub-clips stay ``synthetic=True`` with the
parent's ``source`` and record ``meta['segment_of']`` (the parent's name) and ``meta['span']``
(seconds, HumanML3D's ``from``/``to``), which :class:`~kinemic_aug.generator.training.MotionTextDataset`
reads to crop long parents only inside a captioned span.
"""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from ...errors import DataError
from ..corpus import MotionClip, MotionCorpus
from .captions import caption_segments

# Mixed into the caption rng seed so sub-clip captions never share a stream with the parent's.
_SEGMENT_STREAM = 0x5E6


def segment_subclips(clip: MotionClip, n_captions: int = 3, min_seconds: float = 0.5) -> List[MotionClip]:
    """The single-action sub-clips of a chained clip (none for a one-action clip, whose own
    captions already name only that action, or for a clip without ``meta['segments']``).

    Args:
        clip: a clip with ``meta['segments']`` (procedural clips have them) and ``meta['seed']``,
            ``meta['index']`` (the caption rng seed).
        n_captions: captions per sub-clip.
        min_seconds: segments shorter than this are left out (too short to show the action).

    Raises:
        DataError: a segment whose span is not inside the clip, or missing seed/index, naming the
            clip and field.
    """
    segs = clip.meta.get("segments") or []
    if len(segs) < 2:
        return []
    for key in ("seed", "index"):
        if key not in clip.meta:
            raise DataError(f"meta has segments but no {key!r}: cannot seed the segment captions",
                            sample=clip.name, field=f"meta.{key}")
    out: List[MotionClip] = []
    for k, seg in enumerate(segs):
        try:
            start, end = int(seg["start"]), int(seg["end"])
            action = str(seg["action"])
        except (KeyError, TypeError, ValueError):
            raise DataError(f"segment {k} needs 'action', 'start' and 'end', got {seg!r}",
                            sample=clip.name, field="meta.segments") from None
        if not 0 <= start < end <= clip.num_frames:
            raise DataError(f"segment {k} span [{start}, {end}) is outside the clip's {clip.num_frames} frames",
                            sample=clip.name, field="meta.segments")
        if (end - start) / clip.fps < min_seconds:
            continue
        rng = np.random.default_rng([int(clip.meta["seed"]), int(clip.meta["index"]), _SEGMENT_STREAM, k])
        own = dict(seg, start=0, end=end - start)
        captions, used = caption_segments([own], rng, n_captions)
        meta: Dict = {key: clip.meta[key] for key in ("generator", "seed", "index", "subject") if key in clip.meta}
        meta.update({
            "segment_of": clip.name, "segment_index": k,
            "span": [start / clip.fps, end / clip.fps], "span_frames": [start, end],
            "segments": [own], "actions": [action], "caption_templates": used, "caption_origin": "template",
        })
        out.append(MotionClip(joints=clip.joints[start:end].copy(), layout=clip.layout, fps=clip.fps,
                              captions=captions, name=f"{clip.name}_seg{k}", source=clip.source,
                              synthetic=clip.synthetic, meta=meta))
    return out


def expand_segments(corpus: MotionCorpus, n_captions: int = 3, min_seconds: float = 0.5) -> MotionCorpus:
    """``corpus`` with each chained clip followed by its segment sub-clips (see :func:`segment_subclips`).

    The whole chained clips stay, with their chained captions, so the generator still learns
    transitions and composition words; clips without segments (seed mocap, one-action clips)
    pass through unchanged.
    """
    clips: List[MotionClip] = []
    for clip in corpus:
        clips.append(clip)
        clips.extend(segment_subclips(clip, n_captions=n_captions, min_seconds=min_seconds))
    return MotionCorpus(clips, name=f"{corpus.name}+segments")
