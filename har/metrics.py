"""Top-k and mean-class accuracy for MMEngine evaluation (``acc/top1``, ``acc/top5``, ``acc/mean1``).

Mean-class accuracy matters here: few-shot test splits are not balanced, and top-1 alone hides a
classifier that gives up on a rare class.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
from mmengine.evaluator import BaseMetric

from .registry import METRICS


def topk_accuracy(scores: np.ndarray, labels: np.ndarray, k: int) -> float:
    """Fraction of rows whose label is among the ``k`` highest scores (ties broken by index)."""
    k = min(k, scores.shape[1])
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == labels[:, None], axis=1)))


def mean_class_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the classes present in ``labels`` of the per-class top-1 recall."""
    pred = scores.argmax(axis=1)
    accs = [float(np.mean(pred[labels == c] == c)) for c in np.unique(labels)]
    return float(np.mean(accs)) if accs else 0.0


def per_class_accuracy(scores: np.ndarray, labels: np.ndarray) -> Dict[int, float]:
    pred = scores.argmax(axis=1)
    return {int(c): float(np.mean(pred[labels == c] == c)) for c in np.unique(labels)}


@METRICS.register_module()
class AccMetric(BaseMetric):
    """Accuracy over ``pred_score`` / ``gt_label`` of the predicted data samples.

    Args:
        topk: which top-k accuracies to report (``acc/top{k}``).
        per_class: also report ``acc/class_{c}`` for every class.
    """

    default_prefix: Optional[str] = "acc"

    def __init__(self, topk: Sequence[int] = (1, 5), per_class: bool = False, collect_device: str = "cpu",
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.topk, self.per_class = tuple(int(k) for k in topk), bool(per_class)

    def process(self, data_batch: Any, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            get = ds.get if isinstance(ds, dict) else (lambda k, d=None, _ds=ds: getattr(_ds, k, d))
            score = get("pred_score")
            label = get("gt_label")
            if score is None or label is None:
                raise ValueError("AccMetric needs 'pred_score' and 'gt_label' in every data sample")
            score = score.detach().cpu().float().numpy() if isinstance(score, torch.Tensor) else np.asarray(score)
            label = int(label.reshape(-1)[0]) if isinstance(label, torch.Tensor) else int(np.asarray(label).reshape(-1)[0])
            self.results.append(dict(score=score, label=label))

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        scores = np.stack([r["score"] for r in results])
        labels = np.array([r["label"] for r in results])
        out = {f"top{k}": topk_accuracy(scores, labels, k) for k in self.topk}
        out["mean1"] = mean_class_accuracy(scores, labels)
        if self.per_class:
            out.update({f"class_{c}": a for c, a in per_class_accuracy(scores, labels).items()})
        return out
