"""Short names for stage results that tests, benchmarks and tools read from an augmenter.

Each forwards to one stage of the facade (nothing is computed here); they keep scripts written against
earlier versions working.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

import numpy as np


class StageShortcuts:
    """Mixed into :class:`~.facade.KineMICAugmenter`; every name forwards to a stage attribute."""

    def _shot_joints(self) -> Dict[int, List[np.ndarray]]:
        return self.shot_joints

    def _bundle(self):
        return self.resources.generator

    @property
    def _gen(self):
        return self.resources.generator

    @property
    def _gen_sha(self) -> str:
        return self.resources.generator_sha

    def _encoder(self):
        return self.resources.encoder

    def _condition_encoder(self):
        return self.resources.condition_encoder

    def _corpus(self):
        return self.resources.corpus

    def _target_rep(self):
        return self.normalisation.representation

    def _class_text(self, c: int) -> np.ndarray:
        return self.class_text(c)

    def _pairing(self):
        return self.paired.pairs

    def _class_pool(self, c: int):
        return self.pools.class_pool(c)

    def _key_inputs(self) -> Dict[str, Any]:
        return self.keys.shared

    def _adapter_job(self, c: int, shot_joints: Optional[List[np.ndarray]] = None):
        """Class ``c``'s adapter job, key and key parts (``shot_joints`` is ignored: the stage has them)."""
        return self.adapters.job(c)

    def _joint_adapter(self, joints_by_class: Optional[Dict[int, List[np.ndarray]]] = None):
        return self.adapters.joint(self.classes)

    def _synthetic_key(self, c: int, adapter_key: str) -> Tuple[str, int]:
        n = self.counts.count(c)
        return self.keys.synthetic(c, adapter_key, n), n

    def _count(self, c: int) -> int:
        return self.counts.count(c)

    def _shots_of(self, c: int) -> List[Dict[str, Any]]:
        return self.shot_set.of_class(c)
