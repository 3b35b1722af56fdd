"""The ``retrieved`` variant: each class's soft-paired corpus clips themselves, as extra training samples.

What does the generator add over its own corpus? This variant answers it with no generator at all: the
same text pairing KineMIC trains on (the class captions against the corpus captions, top-k clips best
first) picks the clips, and each is brought into the dataset's layout and frame rate exactly as a
generated sample is (:meth:`TargetDomain.from_generator`, placed in the frame of one of the class's shots).
A class asking for more samples than it has soft positives reuses them from the best one on.

The clips are real motion of *other* datasets (their labels are not the target's): they carry
``is_synthetic=False`` unless the corpus clip itself is procedural or generated, ``retrieved=True``, and
``retrieved_info`` naming the corpus clip, its source, licence, rank and caption similarity.
"""
from __future__ import annotations

from typing import Any, Dict, List, Tuple

import numpy as np

from ..data.corpus import MotionCorpus
from ..data.annotation_template import AnnotationTemplate
from ..data.pyskl import id_key
from ..errors import DataError
from ..generator.dataset_space import TargetDomain
from ..skeleton.resample import resample
from ..text.labels import LabelSet
from .counts import SyntheticCounts
from .paired_sources import PairedSources
from .reports import ClassReport
from .shots import ShotSet

#: longest clip served, in seconds (a 10 s Kinder-Gator trial keeps its middle 8 s)
MAX_SECONDS = 8.0


def _clip_in_generator_fps(clip: Any, gen_fps: float) -> np.ndarray:
    """The clip at the generator's frame rate, its middle :data:`MAX_SECONDS` at most."""
    j = clip.joints if abs(clip.fps - gen_fps) < 1e-6 else resample(clip.joints, clip.fps, gen_fps, sample=clip.name)
    keep = int(MAX_SECONDS * gen_fps)
    if len(j) > keep:
        s = (len(j) - keep) // 2
        j = j[s:s + keep]
    return j


def retrieved_annotations(shots: ShotSet, paired: PairedSources, corpus: MotionCorpus, domain: TargetDomain,
                          labels: LabelSet, counts: SyntheticCounts, template: AnnotationTemplate,
                          seed: int) -> Tuple[List[Dict[str, Any]], Dict[int, ClassReport]]:
    """The ``retrieved`` samples of every class (``counts.count(c)`` each) in the dataset's layout, and the
    per-class reports."""
    pair = paired.pairs
    gen_fps = domain.generator_fps
    out: List[Dict[str, Any]] = []
    reports: Dict[int, ClassReport] = {}
    for c in shots.classes:
        refs = shots.of_class(c)
        rpt = reports[c] = ClassReport(c, labels[c].name, len(refs))
        ids, sims = pair.neighbours(c)
        n = counts.count(c)
        if n and not len(ids):
            raise DataError(f"class {c} ({labels[c].name}) has no paired corpus clip to serve", sample=f"class {c}",
                            field="neighbours")
        rpt.requested = n
        if len(sims):
            rpt.top1_similarity, rpt.kth_similarity = float(sims[0]), float(sims[-1])
        rng = np.random.default_rng([seed, c, 98])
        for i in range(n):
            rank = i % len(ids)
            clip = corpus[int(ids[rank])]
            j = _clip_in_generator_fps(clip, gen_fps)
            ref = refs[int(rng.integers(0, len(refs)))]
            kp = domain.from_generator(j, reference=ref["keypoint"], sample=clip.name)
            ann = {"frame_dir": f"retrieved_c{c:03d}_{i:05d}", "label": int(c), "keypoint": kp.astype(np.float32),
                   "total_frames": int(kp.shape[1]), "is_synthetic": bool(clip.synthetic), "retrieved": True,
                   "retrieved_info": {"corpus_clip": clip.name, "source": clip.source,
                                      "licence": clip.meta.get("licence"), "rank": rank,
                                      "similarity": float(sims[rank]), "caption": clip.captions[0] if clip.captions else "",
                                      "placed_like": str(ref.get(id_key([ref]), ""))}}
            ann = template.conform(ann, reference=ref)
            ann["is_synthetic"] = bool(clip.synthetic)  # conform marks everything it builds synthetic
            out.append(ann)
        rpt.generated = n
    return out, reports
