"""Stage 6, synthetic sets: each class's adapted generator samples its set in the generator's space
(lengths from the shots, degenerate samples filtered), cached per class under its synthetic-set key.

A set is stored as one frame tensor with spans, the per-sample infos and the filter report, so a cached
run reads it back exactly.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Dict, List, NamedTuple, Optional, Sequence, Tuple

import numpy as np
import torch

from ..adapt import AdaptConfig, KineMICTrainer
from ..adapt.stacked_target import stacked_target
from ..adapt.cache import ArtifactCache
from ..generator.checkpoint import GeneratorBundle
from ..generator.representation import MotionRepresentation
from ..synthesis import ClassRequest, FilterReport, SynthesisConfig, synthesize_class, synthesize_classes
from .cache_keys import CacheKeys
from .counts import SyntheticCounts

#: one class's set: sequences (generator space), per-sample infos, and the filter report as a dict
SyntheticSet = Tuple[List[np.ndarray], List[Dict[str, Any]], Dict[str, Any]]


class SetKey(NamedTuple):
    """A class's synthetic-set cache key and how many samples the set holds."""

    key: str
    count: int


class SyntheticSets:
    """Sampling (or loading) synthetic sets. ``class_text(c)``: class ``c``'s caption embeddings;
    ``compose``: the embeddings of ``SynthesisConfig.compose_with`` (dual conditioning), or ``None``."""

    def __init__(self, *, generator: GeneratorBundle, cache: ArtifactCache, synth_cfg: SynthesisConfig,
                 adapt_cfg: AdaptConfig, keys: CacheKeys, counts: SyntheticCounts, target_rep: MotionRepresentation,
                 class_text: Callable[[int], np.ndarray], compose: Optional[np.ndarray], seed: int):
        self.generator, self.cache, self.synth_cfg, self.adapt_cfg = generator, cache, synth_cfg, adapt_cfg
        self.keys, self.counts, self.target_rep, self.class_text = keys, counts, target_rep, class_text
        self.compose, self.seed = compose, seed
        #: class -> seconds, for the sets :meth:`sample_all` sampled
        self.sampled: Dict[int, float] = {}

    def key(self, c: int, adapter_key: str) -> "SetKey":
        """Class ``c``'s synthetic-set key and sample count."""
        n = self.counts.count(c)
        return SetKey(self.keys.synthetic(c, adapter_key, n), n)

    def save(self, key: str, seqs: List[np.ndarray], infos: List[dict], report: FilterReport) -> Dict[str, Any]:
        report_dict = report.to_dict()
        spans, off = [], 0
        for s in seqs:
            spans.append([off, off + len(s)])
            off += len(s)
        frames = torch.from_numpy(np.concatenate(seqs, 0)) if seqs else torch.zeros(0, 22, 3)
        self.cache.save("synthetic", key, {"frames": frames, "spans": torch.tensor(spans, dtype=torch.long).view(-1, 2),
                                           "infos": infos, "report": report_dict})
        return report_dict

    def load(self, key: str) -> Optional[SyntheticSet]:
        payload = self.cache.load("synthetic", key)
        if payload is None:
            return None
        seqs = [payload["frames"][s:e].numpy() for s, e in payload["spans"].tolist()]
        return seqs, payload["infos"], payload["report"]

    def load_or_sample(self, c: int, trainer: KineMICTrainer, key: str, n: int, shot_joints: List[np.ndarray],
                       action: int = 0) -> Tuple[SyntheticSet, bool]:
        """Class ``c``'s cached set, or sample and cache it; and whether it came from the cache. The caller holds
        the key's lock."""
        found = self.load(key)
        if found is not None:
            return found, True
        adapted = self.adapt_cfg.steps > 0
        seqs, filter_report, infos = synthesize_class(
            trainer.target if adapted else trainer.prior, self.target_rep, self.generator.schedule, n=n,
            shot_joints=shot_joints, class_text_emb=self.class_text(c), action=action if adapted else None,
            cfg=self.synth_cfg, seed=self.seed * 1000 + c, compose_text_emb=self.compose)
        return (seqs, infos, self.save(key, seqs, infos, filter_report)), False

    def _claim(self, classes: Sequence[int], adapter_keys: Dict[int, str]) -> List[Tuple[int, str, int, Any, Any]]:
        """The sets not cached yet whose adapter is cached and whose lock this process got."""
        todo = []
        for c in classes:
            adapter_key = adapter_keys[c]
            set_key, n = self.key(c, adapter_key)
            if self.cache.meta("synthetic", set_key) is not None:
                continue
            state = None
            if self.adapt_cfg.steps > 0:
                state = self.cache.load("adapter", adapter_key)
                if state is None:
                    continue
            held_lock = self.cache.try_lock("synthetic", set_key)
            if held_lock is not None and self.cache.meta("synthetic", set_key) is not None:  # written meanwhile
                held_lock.release()
            elif held_lock is not None:
                todo.append((c, set_key, n, state, held_lock))
        return todo

    def sample_all(self, classes: Sequence[int], adapter_keys: Dict[int, str],
                   joints: Dict[int, List[np.ndarray]], say: Callable[[str], None]) -> Dict[int, float]:
        """Sample every set of ``classes`` not cached yet in one class-batched run (adapters stacked from the
        cache) and cache them; a set another process is sampling, or whose adapter is not cached, is left to
        :meth:`load_or_sample`. Returns seconds per class sampled."""
        adapted = self.adapt_cfg.steps > 0
        todo = self._claim(classes, adapter_keys)
        if not todo:
            return {}
        try:
            model = (stacked_target(self.generator.model, self.adapt_cfg, [t[3] for t in todo]) if adapted
                     else self.generator.model)
            reqs = [ClassRequest(n=n, shot_joints=joints[c], class_text_emb=self.class_text(c),
                                 action=k if adapted else None, seed=self.seed * 1000 + c, adapter=k,
                                 compose_text_emb=self.compose) for k, (c, _, n, _, _) in enumerate(todo)]
            say(f"[kinemic] sampling {len(reqs)} classes together")
            t0 = time.time()
            results = synthesize_classes(model, self.target_rep, self.generator.schedule, reqs, self.synth_cfg)
            secs = (time.time() - t0) / len(todo)
            for (c, set_key, _, _, held_lock), (seqs, filter_report, infos) in zip(todo, results):
                self.save(set_key, seqs, infos, filter_report)
                held_lock.release()
                self.sampled[c] = secs
        finally:
            for t in todo:
                t[4].release()
        return {t[0]: self.sampled[t[0]] for t in todo}
