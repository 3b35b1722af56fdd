"""Stage 5, adapters: one adapter per class (or one joint adapter over all classes) trained on the shots
and the class's source pool, or loaded from the cache.

Training is resumable and locked per key (a second process waits for the first one's entry instead of
training it twice); :meth:`Adapters.adapt_all` trains every missing per-class adapter in batched runs,
shared out over the processes of a distributed run.
"""
import copy
import time
from typing import Callable, Dict, List, NamedTuple, Optional, Tuple

import numpy as np

from ..adapt import AdaptConfig, KineMICTrainer, SourcePool, TargetShots
from ..adapt.batched import AdapterJob
from ..adapt.cache import ArtifactCache
from ..adapt.shard import AdapterSpec, Outcome, adapt_jobs
from ..generator.checkpoint import GeneratorBundle
from ..generator.representation import MotionRepresentation
from ..text.labels import LabelSet
from .cache_keys import CacheKeys, KeyParts, recorded_parts
from .shots import ShotSet
from .source_pools import SourcePools


class ClassJob(NamedTuple):
    """What :meth:`Adapters.job` and :meth:`Adapters.joint_job` give: the job to train, its cache key and the parts
    the key is made of."""

    job: AdapterJob
    key: str
    parts: KeyParts


class ClassAdapter(NamedTuple):
    """A class's trainer with its adapter in place (:meth:`Adapters.for_class`)."""

    trainer: KineMICTrainer
    key: str
    cached: bool
    seconds: float


class JointAdapter(NamedTuple):
    """The joint adapter's trainer (:meth:`Adapters.joint`); the field order is the one callers unpack."""

    trainer: KineMICTrainer
    key: str
    seconds: float
    cached: bool


class Adapters:
    """Adapters of one run. ``pools`` is ``None`` when the config trains without a source pool (no mining and
    no contrastive term); ``class_text(c)`` gives class ``c``'s caption embeddings for the denoiser."""

    def __init__(self, *, generator: GeneratorBundle, cache: ArtifactCache, cfg: AdaptConfig, keys: CacheKeys,
                 shots: ShotSet, joints: Dict[int, List[np.ndarray]], target_rep: MotionRepresentation,
                 labels: LabelSet, class_text: Callable[[int], np.ndarray], pools: Optional[SourcePools]):
        self.generator, self.cache, self.cfg, self.keys = generator, cache, cfg, keys
        self.shots, self.joints, self.target_rep, self.labels = shots, joints, target_rep, labels
        self.class_text, self.pools = class_text, pools
        #: class -> (cached, seconds) of the adapters :meth:`adapt_all` put in the cache
        self.adapted: Dict[int, Tuple[bool, float]] = {}
        self.ran_all = False  # whether adapt_all has run

    def _features(self, joints: List[np.ndarray]) -> List[np.ndarray]:
        rep = self.target_rep
        return [rep.normalize(rep.encode(j)).astype(np.float32) for j in joints]

    def job(self, c: int) -> ClassJob:
        """Class ``c``'s adapter job (shots, pool, config), its cache key and key parts."""
        feats = self._features(self.joints[c])
        shots = TargetShots(feats, np.zeros(len(feats), dtype=np.int64), self.class_text(c)[None],
                            self.shots.names_of_class(c))
        pool, ids = None, None
        if self.pools is not None:
            ids = self.pools.paired.class_ids(c)
            pool = self.pools.class_pool(c, ids)
        key, parts = self.keys.adapter(c, ids)
        return ClassJob(AdapterJob(shots, pool, self.cfg, [int(c)], f"class {c} ({self.labels[c].name})"), key, parts)

    def load_or_train(self, trainer: KineMICTrainer, key: str, parts: KeyParts) -> bool:
        """Load adapter ``key`` into ``trainer`` or train it (resumable) and cache it; True on a cache hit."""
        with self.cache.lock("adapter", key):
            state = self.cache.load("adapter", key)
            if state is not None:
                trainer.load_state(state)
                return True
            trainer.train(checkpoint=self.cache.progress_path("adapter", key))
            self.cache.save("adapter", key, trainer.state_dict(), parts=recorded_parts(parts))
            return False

    def for_class(self, c: int) -> ClassAdapter:
        """Class ``c``'s trainer with its adapter loaded (or trained), its key, whether it was cached, and seconds."""
        job, key, parts = self.job(c)
        trainer = KineMICTrainer(copy.deepcopy(self.generator.model), self.generator.schedule, job.shots, job.pool,
                                 job.cfg, classes=[c])
        if job.cfg.steps == 0:
            return ClassAdapter(trainer, key, False, 0.0)
        t0 = time.time()
        cached = self.load_or_train(trainer, key, parts)
        seconds = time.time() - t0
        if c in self.adapted:  # trained (or found) by adapt_all: report that, not the load
            cached, seconds = self.adapted[c]
        return ClassAdapter(trainer, key, cached, seconds)

    def adapt_all(self, classes: List[int], rank: Optional[int] = None, world_size: Optional[int] = None,
                  say: Callable[[], None] = lambda: None) -> Dict[int, Outcome]:
        """Put every class's adapter in the cache (see ``KineMICAugmenter.adapt_all``); per-class outcomes.
        ``say`` is called once the jobs are built, before any training."""
        specs = {}
        for c in classes:
            job, key, parts = self.job(c)
            specs[c] = AdapterSpec(job, key, recorded_parts(parts))
        say()
        out = adapt_jobs(copy.deepcopy(self.generator.model), self.generator.schedule, self.cache, list(specs.values()),
                         rank=rank, world_size=world_size, group_size=self.cfg.group_size, batched=self.cfg.batched)
        self.adapted = {c: (out[s.key].status != "trained", out[s.key].seconds) for c, s in specs.items()}
        self.ran_all = True
        return {c: out[s.key] for c, s in specs.items()}

    def _joint_shots(self, classes: List[int]) -> TargetShots:
        feats, labels, names = [], [], []
        for li, c in enumerate(classes):
            feats += self._features(self.joints[c])
            labels += [li] * len(self.joints[c])
            names += self.shots.names_of_class(c)
        caps = [self.class_text(c) for c in classes]
        p = max(len(x) for x in caps)  # every class gets as many caption rows as the one with most
        text = np.stack([np.concatenate([x, x[np.arange(p - len(x)) % len(x)]]) for x in caps])
        return TargetShots(feats, np.asarray(labels), text, names)

    def joint_job(self, classes: List[int]) -> ClassJob:
        """The joint adapter's job over ``classes`` (shots of every class, the joint pool, config), its cache key
        and key parts: what :meth:`joint` trains, for callers that run the trainer themselves."""
        shots = self._joint_shots(classes)
        pool: Optional[SourcePool] = None
        positives = None
        if self.pools is not None:
            pool = self.pools.joint_pool(classes)
            positives = [self.pools.paired.positives(c) for c in classes]
        key, parts = self.keys.joint_adapter(classes, positives)
        return ClassJob(AdapterJob(shots, pool, self.cfg, [int(c) for c in classes], "joint"), key, parts)

    def joint(self, classes: List[int]) -> JointAdapter:
        """Train or load ONE adapter over all classes (``mode='joint'``, the paper's setting): the action
        table has a row per class, every class's soft positives are in the pool and the other classes'
        sources in a batch are the contrastive negatives. Cheaper than one adapter per class (one run of
        ``steps`` instead of C runs), at the price that adding a class retrains it. Returns the trainer,
        the key, seconds and whether it was cached."""
        job, key, parts = self.joint_job(classes)
        trainer = KineMICTrainer(copy.deepcopy(self.generator.model), self.generator.schedule, job.shots, job.pool,
                                 job.cfg, classes=classes)
        if self.cfg.steps == 0:
            return JointAdapter(trainer, key, 0.0, False)
        t0 = time.time()
        cached = self.load_or_train(trainer, key, parts)
        return JointAdapter(trainer, key, time.time() - t0, cached)


def uses_pool(cfg: AdaptConfig) -> bool:
    """Whether adapters of ``cfg`` train on a source pool (mining or the contrastive term)."""
    return cfg.steps > 0 and (cfg.use_mining or cfg.use_contrastive)


