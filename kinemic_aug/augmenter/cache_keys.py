"""The one place that builds the augmenter's cache keys (adapters and synthetic sets).

A key is the sha256 of its parts (:func:`~kinemic_aug.adapt.cache.make_key`); the parts hash the inputs
(shots as stored, corpus identity and paired clip ids, generator file, encoder ids, captions, feature
code), never floats computed from them (:mod:`kinemic_aug.adapt.input_digests` says why). The parts,
their names and their values are exactly those of every earlier version since key version 2, so a
cache built before is still served; ``tests/test_cache_key_pins.py`` pins them.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

from ..adapt.cache import make_key
from ..adapt.config import AdaptConfig
from ..adapt.input_digests import KEY_VERSION, feature_code_sha, pool_ids, shots_digest
from ..generator.dataset_space import TargetDomain
from ..generator.representation import MotionRepresentation
from ..synthesis.config import SynthesisConfig
from ..text.labels import LabelSet
from .pinned_stats import pinned_norm_key
from .resources import Resources
from .shots import ShotSet

KeyParts = Dict[str, Any]


def norm_context(generator_sha: str, domain: TargetDomain) -> Dict[str, Any]:
    """What fitted statistics depend on besides the shots: the generator (its corpus statistics floor the
    std), the domain (retargeting and frame rate) and the feature code, in the form the keys record them."""
    return {"generator": generator_sha, "code": feature_code_sha(),
            "domain": [domain.layout, float(domain.fps), float(domain.generator_fps)]}


def norm_key(target_norm: str, shots: ShotSet, context: Dict[str, Any],
             pinned: Optional[Tuple[MotionRepresentation, Dict[str, Any]]] = None) -> Any:
    """The normalisation's part of the keys: ``None`` for ``"generalist"``; the shots' digest for ``"shots"``;
    for pinned statistics the key of the run that fitted them when they, the generator, domain and code are
    unchanged (so its adapters are served), else the values' digest (:func:`pinned_norm_key`)."""
    if target_norm != "shots":
        return None
    if pinned is not None:
        return pinned_norm_key(pinned[0], pinned[1], context)
    return shots_digest(shots.annotations, shots.id_field)


class CacheKeys:
    """Keys of one augmenter run. ``shared`` holds the parts every adapter key has (generator, domain, code,
    encoders, normalisation); the methods add what is particular to one adapter or synthetic set."""

    def __init__(self, *, resources: Resources, domain: TargetDomain, labels: LabelSet, shots: ShotSet,
                 adapt_cfg: AdaptConfig, synth_cfg: SynthesisConfig, seed: int, target_norm: str, norm: Any):
        self.resources, self.domain, self.labels, self.shots = resources, domain, labels, shots
        self.adapt_cfg, self.synth_cfg, self.seed = adapt_cfg, synth_cfg, seed
        encoder, cond = resources.encoder, resources.condition_encoder
        self.shared: KeyParts = {
            **norm_context(resources.generator_sha, domain), "key_version": KEY_VERSION,
            "encoder": encoder.identifier,
            # the denoiser's own text features, where they differ from the pairing encoder's
            **({"condition_encoder": cond.identifier} if cond is not encoder else {}),
            "target_norm": target_norm,
            # mined windows are mapped into the shots' normalisation (adapters trained before that
            # reconstructed them in the corpus's and are not served)
            **({"window_norm": "shots"} if target_norm == "shots" else {}),
            # with "shots" the normalisation is fitted on every selected shot of every class, unless pinned
            "norm_shots": norm}

    def adapter(self, c: int, pool: Optional[Tuple[Sequence[int], Set[int]]]) -> Tuple[str, KeyParts]:
        """Class ``c``'s adapter key and parts; ``pool``: global ids of its positives and negatives, if it has one."""
        ids = None if pool is None else {"corpus": self.resources.corpus_identity, **pool_ids(*pool)}
        parts = {**self.shared, "kind": "adapter", "class": int(c), "captions": self.labels.captions(c),
                 "shots": shots_digest(self.shots.of_class(c), self.shots.id_field), "pool": ids,
                 "config": self.adapt_cfg.cache_dict()}
        return make_key(parts), parts

    def joint_adapter(self, classes: Sequence[int],
                      positives: Optional[List[Sequence[int]]]) -> Tuple[str, KeyParts]:
        """The joint adapter's key and parts; ``positives``: each class's soft positives, if it has a pool."""
        ids = None if positives is None else {"corpus": self.resources.corpus_identity,
                                              "positives": [pool_ids(p)["positives"] for p in positives]}
        parts = {**self.shared, "kind": "adapter-joint", "classes": [int(c) for c in classes],
                 "captions": [self.labels.captions(c) for c in classes],
                 "shots": shots_digest([a for c in classes for a in self.shots.of_class(c)], self.shots.id_field),
                 "pool": ids, "config": self.adapt_cfg.cache_dict()}
        return make_key(parts), parts

    def synthetic(self, c: int, adapter_key: str, n: int) -> str:
        """Class ``c``'s synthetic-set key: its adapter's key, the synthesis recipe, the count and the seed."""
        return make_key({"kind": "synthetic", "adapter": adapter_key, "synthesis": self.synth_cfg.to_dict(), "n": n,
                         "class": int(c), "seed": self.seed, "domain": [self.domain.layout, self.domain.fps]})


def recorded_parts(parts: KeyParts) -> KeyParts:
    """The parts written into a cache entry's meta (the config is in the entry itself)."""
    return {k: v for k, v in parts.items() if k != "config"}
