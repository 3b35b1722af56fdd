"""How often each clip is drawn when a generalist trains on a mixed corpus.

Drawing clips uniformly lets the biggest source decide what the generator learns: MSRC-12 holds over
half of the real minutes but only 12 gestures, Kinder-Gator a sixth of them with 58 motions. So the
draw is balanced at two levels:

* a **source** gets a share proportional to the square root of its duration (a middle way between
  "every minute counts the same", which MSRC-12 would dominate, and "every source counts the same",
  which would show the 28 shipped seed clips as often as hours of mocap);
* within a source every **label** gets the same share, split equally over its clips.

Clips without a ``meta['label']`` (seed, procedural) form one label per caption set.
"""
from __future__ import annotations

from typing import Dict, Tuple

import numpy as np

from ..corpus import MotionCorpus


def clip_group(clip) -> Tuple[str, str]:
    label = (clip.meta or {}).get("label")
    if label is None:
        label = "|".join(sorted(clip.captions)) or clip.name
    return str(clip.source), str(label)


def balanced_weights(corpus: MotionCorpus) -> np.ndarray:
    """Per-clip draw probabilities (sum 1) balanced over sources and labels (see module docstring)."""
    if len(corpus) == 0:
        return np.zeros(0)
    seconds: Dict[str, float] = {}
    labels: Dict[str, Dict[str, int]] = {}
    for c in corpus:
        src, lab = clip_group(c)
        seconds[src] = seconds.get(src, 0.0) + c.duration
        labels.setdefault(src, {}).setdefault(lab, 0)
        labels[src][lab] += 1
    root = {s: np.sqrt(t) for s, t in seconds.items()}
    total = sum(root.values())
    w = np.empty(len(corpus))
    for i, c in enumerate(corpus):
        src, lab = clip_group(c)
        w[i] = root[src] / total / len(labels[src]) / labels[src][lab]
    return w / w.sum()


def weight_summary(corpus: MotionCorpus, weights: np.ndarray) -> Dict[str, Dict[str, float]]:
    """Share of draws and of clips per source (what a training log should show)."""
    out: Dict[str, Dict[str, float]] = {}
    for c, w in zip(corpus, weights):
        s = out.setdefault(c.source, {"draw_share": 0.0, "clip_share": 0.0, "seconds": 0.0})
        s["draw_share"] += float(w)
        s["clip_share"] += 1.0 / len(corpus)
        s["seconds"] += c.duration
    return out
