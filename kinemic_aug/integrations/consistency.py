"""Consistency filter: keep the synthetic samples a classifier trained on the real shots alone recognises.

Why: a generator that rewrites the fine detail of a motion (hand trajectories, for a generalist that has not
seen such motion) produces samples whose label no longer matches what they show, and those mislabelled
samples cost the classifier more than the correct ones add. The few-shot classifier itself, trained on
nothing but the shots (the ``real`` arm of a benchmark, or a user's first run), is a judge that needs no
data beyond the few-shot setting: a sample it assigns to another class is dropped. Measured on MSR Action3D
(5 shots, seed 0; ``benchmarks/results/kinemic_probe.md``): the filter kept 41 % of a synthetic set, and an
evaluator trained on all real training data recognised 82 % of the kept samples against 17 % of the dropped.

The classifier is any MMEngine recogniser config of this project (``har``) with a checkpoint; samples go
through the config's test pipeline (``val_dataloader.dataset.pipeline``), so the judge sees them exactly as
it saw its own validation data. Weights load with ``weights_only=True``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Union

import numpy as np

from ..errors import DataError


def _resolve_checkpoint(path: Union[str, os.PathLike]) -> Path:
    """A ``.pth`` file, or a work dir / ``last_checkpoint`` file naming one (MMEngine's convention)."""
    from har.training import last_checkpoint

    p = Path(path)
    if p.is_dir() or p.name == "last_checkpoint":
        work = p if p.is_dir() else p.parent
        named = last_checkpoint(work)
        if named is None:
            raise DataError("no last_checkpoint: train the shots-only classifier first",
                            source=str(work / "last_checkpoint"), field="checkpoint")
        p = named
    if not p.exists():
        raise DataError("classifier checkpoint not found", source=str(p), field="checkpoint")
    return p


@dataclass
class ConsistencyFilter:
    """Judge synthetic samples with a shots-only classifier.

    Attributes:
        config: the classifier's config file (its model and test pipeline are used).
        checkpoint: a ``.pth`` checkpoint, or a work dir with ``last_checkpoint``.
        min_prob: besides being top-1, the sample's own class must get at least this probability.
        layout: the samples' skeleton layout (written into each sample for layout-aware transforms);
            ``None`` keeps a sample's own ``layout`` entry.
        batch_size: samples per forward pass.
        device: where the classifier runs (``"auto"``: the GPU when there is one).
    """

    config: Union[str, os.PathLike]
    checkpoint: Union[str, os.PathLike]
    min_prob: float = 0.0
    layout: Optional[str] = None
    batch_size: int = 32
    device: str = "auto"
    _model: Any = field(default=None, init=False, repr=False)
    _pipeline: Any = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if not 0.0 <= float(self.min_prob) < 1.0:
            raise ValueError(f"min_prob must be in [0, 1), got {self.min_prob}")

    def _load(self) -> None:
        if self._model is not None:
            return
        from mmengine.dataset import Compose

        from har.training import load_recognizer

        from ..utils.device import resolve_device

        self._model, cfg = load_recognizer(self.config, _resolve_checkpoint(self.checkpoint))
        self._model = self._model.to(resolve_device(self.device))
        self._pipeline = Compose(list(cfg.val_dataloader.dataset.pipeline))

    def probabilities(self, samples: Sequence[Dict[str, Any]]) -> np.ndarray:
        """Class probabilities ``[N, K]`` of the samples (PYSKL annotation dicts), clip-averaged."""
        import torch
        from mmengine.dataset import pseudo_collate

        self._load()
        out: List[np.ndarray] = []
        with torch.no_grad():
            for start in range(0, len(samples), self.batch_size):
                items = []
                for i, s in enumerate(samples[start:start + self.batch_size]):
                    info = dict(s)
                    kp = info.get("keypoint")
                    if not isinstance(kp, np.ndarray) or kp.ndim != 4:
                        raise DataError(f"expected keypoint [M, T, V, C], got {getattr(kp, 'shape', type(kp))}",
                                        sample=str(s.get("frame_dir", start + i)), field="keypoint")
                    info.setdefault("total_frames", kp.shape[1])
                    if self.layout is not None:
                        info["layout"] = self.layout
                    items.append(self._pipeline(info))
                data = self._model.data_preprocessor(pseudo_collate(items), False)
                logits = self._model(data["inputs"], mode="tensor")          # [N, clips, K]
                out.append(self._model.average_clips(logits).cpu().numpy())
        return np.concatenate(out) if out else np.zeros((0, 0), dtype=np.float32)

    def keep_mask(self, samples: Sequence[Dict[str, Any]]) -> np.ndarray:
        """True where the judge's top-1 is the sample's own label (and its probability reaches ``min_prob``)."""
        if not samples:
            return np.zeros(0, dtype=bool)
        probs = self.probabilities(samples)
        labels = np.array([int(s["label"]) for s in samples])
        if labels.max() >= probs.shape[1]:
            bad = int(np.argmax(labels >= probs.shape[1]))
            raise DataError(f"label {labels[bad]} is beyond the classifier's {probs.shape[1]} classes",
                            sample=str(samples[bad].get("frame_dir", bad)), field="label")
        own = probs[np.arange(len(labels)), labels]
        return (probs.argmax(1) == labels) & (own >= self.min_prob)
