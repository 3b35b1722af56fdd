"""Stage 3, paired sources: which corpus clips each class adapts from (soft positives) and against
(negatives), chosen by comparing the class captions with the corpus captions.

Only ids leave this stage (a discrete result that is stable across machines, so it can go into
cache keys); :mod:`.source_pools` turns them into features.
"""
from __future__ import annotations

from functools import cached_property
from typing import Dict, List, Set, Tuple

import numpy as np

from ..adapt.config import AdaptConfig
from ..data.corpus import MotionCorpus
from ..pairing import PairingConfig, least_similar, soft_pair
from ..text.labels import LabelSet


class PairedSources:
    """Soft pairs of ``classes`` with ``corpus`` clips under the pairing ``encoder`` (``AdaptConfig.top_k``)."""

    def __init__(self, labels: LabelSet, classes: List[int], corpus: MotionCorpus, encoder, cfg: AdaptConfig):
        self.labels, self.classes, self.corpus, self.encoder, self.cfg = labels, classes, corpus, encoder, cfg

    @cached_property
    def pairs(self):
        """The :class:`~kinemic_aug.pairing.soft.PairingResult` (neighbours, scores, coverage) of every class."""
        return soft_pair(self.labels.subset(self.classes), self.corpus, self.encoder,
                         PairingConfig(k=self.cfg.top_k, warn=True))

    @cached_property
    def _least_similar(self) -> Dict[int, np.ndarray]:
        return least_similar(self.labels.subset(self.classes), self.corpus, self.encoder, self.cfg.low_similarity_k)

    def positives(self, c: int) -> List[int]:
        """Global corpus ids of class ``c``'s soft positives, best first (the order sampling weights follow)."""
        return [int(i) for i in self.pairs.neighbours(c)[0]]

    def low_similarity(self, c: int) -> np.ndarray:
        """Global ids of the corpus clips matching class ``c``'s captions worst (its own negatives)."""
        return self._least_similar[c]

    def class_ids(self, c: int) -> Tuple[List[int], Set[int]]:
        """Class ``c``'s positives and negatives (``AdaptConfig.negatives``). With ``"low_similarity"``
        nothing in them depends on the other classes, so the class's cache key does not either."""
        own = self.positives(c)
        neg: Set[int] = set()
        if self.cfg.negatives in ("other_classes", "both"):
            neg |= {i for o in self.classes if o != c for i in self.positives(o)}
        if self.cfg.negatives in ("low_similarity", "both"):
            neg |= {int(i) for i in self.low_similarity(c)}
        neg -= set(own)
        return own, neg

    def used_ids(self) -> List[int]:
        """Every corpus clip some class uses as a positive, sorted (the joint adapter's pool)."""
        return sorted({i for c in self.classes for i in self.positives(c)})
