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

from typing import TYPE_CHECKING, Any, Dict, List

import numpy as np

from .data.pyskl import id_key
from .errors import DataError
from .skeleton.resample import resample

if TYPE_CHECKING:  # pragma: no cover
    from .augmenter import KineMICAugmenter

#: longest clip served, in seconds (a 10 s Kinder-Gator trial keeps its middle 8 s)
MAX_SECONDS = 8.0


def retrieved_annotations(aug: "KineMICAugmenter") -> List[Dict[str, Any]]:
    """The ``retrieved`` samples of every class of ``aug`` (``aug._count(c)`` each), in its dataset's layout."""
    from .augmenter import ClassReport

    aug._shot_joints()  # the shots' own checks (layout, a second person) run on this path too
    pair, corpus, template = aug._pairing(), aug._corpus(), aug.annotation_template()
    gen_fps = aug.domain.generator_fps
    out: List[Dict[str, Any]] = []
    for c in aug.classes:
        refs = aug._shots_of(c)
        rpt = aug.reports[c] = ClassReport(c, aug.labels[c].name, len(refs))
        ids, sims = pair.neighbours(c)
        n = aug._count(c)
        if n and not len(ids):
            raise DataError(f"class {c} ({aug.labels[c].name}) has no paired corpus clip to serve", sample=f"class {c}",
                            field="neighbours")
        rpt.requested = n
        if len(sims):
            rpt.top1_similarity, rpt.kth_similarity = float(sims[0]), float(sims[-1])
        rng = np.random.default_rng([aug.seed, c, 98])
        for i in range(n):
            rank = i % len(ids)
            clip = corpus[int(ids[rank])]
            j = clip.joints if abs(clip.fps - gen_fps) < 1e-6 else resample(clip.joints, clip.fps, gen_fps,
                                                                              sample=clip.name)
            keep = int(MAX_SECONDS * gen_fps)
            if len(j) > keep:
                s = (len(j) - keep) // 2
                j = j[s:s + keep]
            ref = refs[int(rng.integers(0, len(refs)))]
            kp = aug.domain.from_generator(j, reference=ref["keypoint"], sample=clip.name)
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
    return out
