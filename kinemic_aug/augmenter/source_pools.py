"""Stage 4, source pools: the paired corpus clips as the features an adapter trains on.

Clip features are in the generalist's normalisation (the prior stream sees the clips as it was trained);
the pool's window map converts mined windows into the shots' normalisation, so the target stream
reconstructs them in the units it is decoded with.
"""
from __future__ import annotations

import warnings
from typing import Dict, List, Optional, Sequence, Set, Tuple

import numpy as np

from ..adapt import SourcePool
from ..adapt.config import AdaptConfig
from ..data.corpus import MotionCorpus
from ..generator.representation import MotionRepresentation
from ..skeleton.resample import resample
from .paired_sources import PairedSources


class SourcePools:
    """Builds :class:`~kinemic_aug.adapt.SourcePool` objects from :class:`PairedSources` ids; each corpus clip's
    features are computed once per run."""

    def __init__(self, paired: PairedSources, corpus: MotionCorpus, condition_encoder, clip_rep: MotionRepresentation,
                 target_rep: MotionRepresentation, generator_fps: float, cfg: AdaptConfig):
        self.paired, self.corpus, self.condition_encoder = paired, corpus, condition_encoder
        self.clip_rep, self.target_rep, self.generator_fps, self.cfg = clip_rep, target_rep, generator_fps, cfg
        self._features: Dict[int, np.ndarray] = {}

    def clip_parts(self, global_ids: Sequence[int]) -> Tuple[List[np.ndarray], np.ndarray]:
        """Normalised generator features and caption embeddings of corpus clips."""
        rep, fps = self.clip_rep, self.generator_fps
        for g in global_ids:
            if g not in self._features:
                clip = self.corpus[g]
                j = clip.joints if abs(clip.fps - fps) < 1e-6 else resample(clip.joints, clip.fps, fps)
                self._features[g] = rep.normalize(rep.encode(j, sample=clip.name)).astype(np.float32)
        text = self.condition_encoder.encode([self.corpus[g].captions[0] for g in global_ids])
        return [self._features[g] for g in global_ids], text

    def window_map(self) -> Tuple[Optional[np.ndarray], Optional[np.ndarray]]:
        """Map from the pool's normalisation to the shots' (``SourcePool.window_scale`` / ``window_shift``)."""
        return SourcePool.window_map(self.clip_rep, self.target_rep)

    def class_pool(self, c: int, ids: Optional[Tuple[List[int], Set[int]]] = None) -> SourcePool:
        """Class ``c``'s pool: its soft positives plus its negatives (``ids``, from
        :meth:`PairedSources.class_ids` when not given)."""
        own, neg = ids if ids is not None else self.paired.class_ids(c)
        clips = sorted(set(own) | neg)
        local = {g: i for i, g in enumerate(clips)}
        feats, text = self.clip_parts(clips)
        if not neg and self.cfg.use_contrastive:
            warnings.warn(f"class {c}: no contrastive negatives (a single class, or other classes share all its "
                          "soft positives); the contrastive term is zero and the MIC encoder does not learn")
        weights = ({0: self.paired.pairs.probabilities(c, self.cfg.pairing_temperature)}
                   if self.cfg.pairing_temperature else {})
        negs = np.array(sorted(local[g] for g in neg), dtype=np.int64)
        scale, shift = self.window_map()
        return SourcePool(feats, text, {0: np.array([local[g] for g in own])}, weights=weights,
                          negatives={0: negs} if len(negs) else {}, window_scale=scale, window_shift=shift)

    def joint_pool(self, classes: Sequence[int]) -> SourcePool:
        """One pool for the joint adapter: every class's soft positives (action ``i`` = ``classes[i]``); the other
        classes' sources in a batch are the contrastive negatives."""
        used = self.paired.used_ids()
        local = {g: i for i, g in enumerate(used)}
        feats, text = self.clip_parts(used)
        pos = {li: np.array([local[g] for g in self.paired.positives(c)]) for li, c in enumerate(classes)}
        weights = ({li: self.paired.pairs.probabilities(c, self.cfg.pairing_temperature) for li, c in enumerate(classes)}
                   if self.cfg.pairing_temperature else {})
        scale, shift = self.window_map()
        return SourcePool(feats, text, pos, weights=weights, window_scale=scale, window_shift=shift)
