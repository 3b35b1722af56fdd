"""Build a :class:`MotionCorpus` of procedural clips: single actions and 2-3 action chains.

Clip ``i`` of a corpus depends only on ``(seed, i)``, so corpora are deterministic and a
larger corpus with the same seed starts with the smaller one. Every clip is flagged
``synthetic=True`` with ``source='procedural'`` and records the generator name and version,
the subject, the segments (action, side, frame span, amplitude, speed) and the caption
templates used.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence

import numpy as np

from ...errors import DataError
from ..corpus import MotionClip, MotionCorpus
from .actions import ACTIONS, GENERATOR_NAME, GENERATOR_VERSION, get_action, list_actions
from .body import sample_subject
from .captions import caption_segments
from .compose import compose_clip

BLEND_SECONDS = 0.5


def _pick(rng: np.random.Generator, pool: Sequence[str], start_pose: str, last: Optional[str]) -> Optional[str]:
    ok = [a for a in pool if ACTIONS[a].start_pose == start_pose and a != last]
    return str(rng.choice(ok)) if ok else None


def plan_clip(rng: np.random.Generator, pool: Sequence[str], min_seconds: float, max_seconds: float,
              chain_prob: float) -> List[str]:
    """Action names for one clip: 1 with probability ``1 - chain_prob``, else 2-3 compatible ones."""
    k = 1
    if rng.random() < chain_prob:
        k = 3 if (max_seconds >= 6 and rng.random() < 0.35) else 2
    names: List[str] = []
    pose = "stand" if rng.random() < 0.97 else "sit"
    for _ in range(k):
        nxt = _pick(rng, pool, pose, names[-1] if names else None)
        if nxt is None:
            break
        names.append(nxt)
        pose = ACTIONS[nxt].end_pose
    if not names:
        names = [_pick(rng, pool, "stand", None) or str(rng.choice(list(pool)))]
    return names


def _durations(rng: np.random.Generator, names: Sequence[str], min_s: float, max_s: float) -> List[float]:
    d = np.array([rng.uniform(*ACTIONS[n].duration) for n in names])
    total = d.sum() - BLEND_SECONDS * (len(d) - 1)
    target = float(np.clip(total, min_s, max_s))
    if target != total:
        d = d * (target + BLEND_SECONDS * (len(d) - 1)) / d.sum()
    return list(d)


def generate_clip(index: int, seed: int, fps: float = 20.0, min_seconds: float = 2.0, max_seconds: float = 10.0,
                  chain_prob: float = 0.6, actions: Optional[Sequence[str]] = None, n_captions: int = 3) -> MotionClip:
    """Clip ``index`` of the corpus with ``seed`` (see :func:`generate_corpus`)."""
    pool = list(actions) if actions is not None else list_actions()
    rng = np.random.default_rng([int(seed), int(index)])
    subject = sample_subject(rng)
    names = plan_clip(rng, pool, min_seconds, max_seconds, chain_prob)
    durs = _durations(rng, names, min_seconds, max_seconds)
    plan = [(n, None, max(int(round(d * fps)), 4)) for n, d in zip(names, durs)]
    joints, segments = compose_clip(plan, rng, subject, fps, BLEND_SECONDS)
    max_frames = int(np.floor(max_seconds * fps))
    if len(joints) > max_frames:          # rounding can add a frame; never exceed the limit
        joints = joints[:max_frames]
        segments[-1]["end"] = max_frames
    captions, used = caption_segments(segments, rng, n_captions)
    meta: Dict = {
        "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION},
        "seed": int(seed), "index": int(index), "subject": subject.to_dict(), "segments": segments,
        "actions": [s["action"] for s in segments], "tags": sorted({t for n in names for t in ACTIONS[n].tags}),
        "caption_templates": used, "caption_origin": "template",
    }
    return MotionClip(joints=joints, layout="smpl22", fps=float(fps), captions=captions,
                      name=f"proc_s{seed}_{index:06d}", source="procedural", synthetic=True, meta=meta)


def generate_corpus(n_clips: int, seed: int, fps: float = 20.0, min_seconds: float = 2.0, max_seconds: float = 10.0,
                    chain_prob: float = 0.6, actions: Optional[Sequence[str]] = None) -> MotionCorpus:
    """A procedural corpus of ``n_clips`` captioned SMPL-22 clips (all synthetic).

    Args:
        n_clips: number of clips.
        seed: corpus seed; clip ``i`` depends only on ``(seed, i)``.
        fps: frame rate (HumanML3D uses 20).
        min_seconds / max_seconds: clip length range.
        chain_prob: probability that a clip chains 2-3 actions instead of one.
        actions: restrict to these action names (default: all registered).
    """
    if n_clips < 0:
        raise DataError(f"n_clips must be >= 0, got {n_clips}", field="n_clips")
    if not 0 < min_seconds <= max_seconds:
        raise DataError(f"need 0 < min_seconds <= max_seconds, got {min_seconds}, {max_seconds}", field="min_seconds")
    if not 0.0 <= chain_prob <= 1.0:
        raise DataError(f"chain_prob must be in [0, 1], got {chain_prob}", field="chain_prob")
    if actions is not None:
        for a in actions:
            get_action(a)
        if not any(ACTIONS[a].start_pose == "stand" for a in actions):
            raise DataError("the action list needs at least one action that starts standing", field="actions")
    clips = [generate_clip(i, seed, fps, min_seconds, max_seconds, chain_prob, actions) for i in range(n_clips)]
    return MotionCorpus(clips, name=f"procedural_s{seed}")
