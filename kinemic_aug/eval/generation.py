"""Generation metrics on evaluator features (the action-to-motion protocol).

All metrics take features of a *pretrained evaluator* (e.g. the pooled 256-d ST-GCN features of a
classifier trained on all real training data), never raw joints, so they are comparable only for
the same evaluator. Differences from the usual reference implementations, on purpose:

* diversity and multimodality compute the exact mean over *all* pairs when the set is smaller
  than the requested number of pairs (the random-pair routine fails or resamples heavily for
  30-sample sets), and report which variant was used;
* multimodality is undefined (``nan``, with the reason) for a class with fewer than 2 samples;
* every metric can be summarised over replications as mean ± 95 % CI (1.96·σ/√n).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import linalg

from ..errors import DataError


def _as2d(x: np.ndarray, name: str) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] == 0:
        raise DataError(f"expected non-empty [N, D] features, got shape {x.shape}", field=name)
    if not np.all(np.isfinite(x)):
        raise DataError("features contain NaN or inf", field=name)
    return x


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """Fréchet distance between two Gaussians: ``|mu1-mu2|² + Tr(S1 + S2 - 2 (S1 S2)^½)``."""
    diff = mu1 - mu2
    covmean, _ = linalg.sqrtm(sigma1 @ sigma2, disp=False)
    if not np.all(np.isfinite(covmean)):
        off = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + off) @ (sigma2 + off))
    covmean = np.real(covmean)
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(feats_a: np.ndarray, feats_b: np.ndarray) -> float:
    """FID between two feature sets (rows are samples). Needs ≥ 2 samples per set."""
    a, b = _as2d(feats_a, "feats_a"), _as2d(feats_b, "feats_b")
    if a.shape[1] != b.shape[1]:
        raise DataError(f"feature sizes differ: {a.shape[1]} vs {b.shape[1]}", field="feats_b")
    if len(a) < 2 or len(b) < 2:
        raise DataError("FID needs at least 2 samples per set", field="feats_a" if len(a) < 2 else "feats_b")
    return frechet_distance(a.mean(0), np.cov(a, rowvar=False), b.mean(0), np.cov(b, rowvar=False))


def _pair_mean(x: np.ndarray, n_pairs: int, rng: np.random.Generator) -> Tuple[float, str]:
    n = len(x)
    total = n * (n - 1) // 2
    if total == 0:
        return float("nan"), "undefined (fewer than 2 samples)"
    if total <= n_pairs:
        d = np.linalg.norm(x[:, None, :] - x[None, :, :], axis=-1)
        iu = np.triu_indices(n, k=1)
        return float(d[iu].mean()), f"exact over all {total} pairs"
    i = rng.integers(0, n, size=n_pairs)
    j = (i + rng.integers(1, n, size=n_pairs)) % n  # j != i
    return float(np.linalg.norm(x[i] - x[j], axis=1).mean()), f"{n_pairs} random pairs"


def diversity(feats: np.ndarray, n_pairs: int = 300, seed: int = 0) -> Tuple[float, str]:
    """Mean distance between random pairs over the whole set; exact all-pairs mean for small sets."""
    x = _as2d(feats, "feats")
    return _pair_mean(x, n_pairs, np.random.default_rng(seed))


def multimodality(feats: np.ndarray, labels: Sequence[int], n_pairs: int = 10, seed: int = 0) -> Tuple[float, str]:
    """Mean within-class pair distance, averaged over classes with ≥ 2 samples."""
    x = _as2d(feats, "feats")
    y = np.asarray(labels)
    if y.shape != (len(x),):
        raise DataError(f"{len(y)} labels for {len(x)} samples", field="labels")
    rng = np.random.default_rng(seed)
    vals, notes = [], set()
    for c in np.unique(y):
        v, how = _pair_mean(x[y == c], n_pairs, rng)
        if np.isfinite(v):
            vals.append(v)
            notes.add(how.split(" over")[0] if how.startswith("exact") else how)
    if not vals:
        return float("nan"), "undefined (no class has 2 samples)"
    return float(np.mean(vals)), "; ".join(sorted(notes)) + f" per class over {len(vals)} classes"


@dataclass
class GenerationMetrics:
    """One replication's metrics. ``accuracy`` is the evaluator's top-1 on generated samples
    (labels = conditioning classes)."""

    fid: float
    diversity: float
    multimodality: float
    accuracy: float
    n_generated: int
    notes: Dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def summarize_replications(runs: List[GenerationMetrics]) -> Dict[str, Dict[str, float]]:
    """Mean, std and 95 % CI half-width (1.96·σ/√n) of every numeric metric over replications."""
    if not runs:
        raise DataError("no replications to summarise", field="runs")
    out: Dict[str, Dict[str, float]] = {}
    for key in ("fid", "diversity", "multimodality", "accuracy"):
        v = np.array([getattr(r, key) for r in runs], dtype=np.float64)
        v = v[np.isfinite(v)]
        if len(v) == 0:
            out[key] = {"mean": float("nan"), "std": float("nan"), "ci95": float("nan"), "n": 0}
            continue
        sd = float(v.std(ddof=1)) if len(v) > 1 else 0.0
        out[key] = {"mean": float(v.mean()), "std": sd, "ci95": 1.96 * sd / np.sqrt(len(v)), "n": int(len(v))}
    return out
