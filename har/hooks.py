"""Hooks: keep every validation result of a run, for last-epoch vs best-epoch reporting.

The headline number of a run is the *last* validation (selection on the test split would be
optimistic); the best one is kept only to show how much a post-hoc pick would flatter the result.
"""
from __future__ import annotations

import os.path as osp
import time
from typing import Dict, List, Optional

from mmengine.hooks import Hook

from kinemic_aug.utils.io import atomic_write_json

from .registry import HOOKS


@HOOKS.register_module()
class AccuracyHistoryHook(Hook):
    """Appends each validation's metrics (with epoch/iteration) and writes ``<work_dir>/<filename>``.

    The JSON holds ``history`` (one record per validation), ``last`` and ``best`` (by ``key``) and the
    training wall time so far; it is rewritten atomically after each validation.
    """

    priority = "LOW"

    def __init__(self, key: str = "acc/top1", filename: str = "acc_history.json") -> None:
        self.key, self.filename = key, filename
        self.history: List[Dict[str, float]] = []
        self._t0: Optional[float] = None

    def before_train(self, runner) -> None:
        self._t0 = time.time()

    def after_val_epoch(self, runner, metrics: Optional[Dict[str, float]] = None) -> None:
        if not metrics:
            return
        rec = {"epoch": int(runner.epoch), "iter": int(runner.iter)}
        rec.update({k: float(v) for k, v in metrics.items() if isinstance(v, (int, float))})
        self.history.append(rec)
        self.write(runner)

    def summary(self) -> dict:
        scored = [h for h in self.history if self.key in h]
        last = scored[-1] if scored else None
        best = max(scored, key=lambda h: h[self.key]) if scored else None
        return {"key": self.key, "history": self.history, "last": last, "best": best,
                "train_seconds": (time.time() - self._t0) if self._t0 else None}

    def write(self, runner) -> None:
        atomic_write_json(osp.join(runner.work_dir, self.filename), self.summary())
