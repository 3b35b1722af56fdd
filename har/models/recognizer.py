"""Skeleton recognizer for MMEngine: data preprocessor + backbone + head, with loss / predict / tensor modes.

Batches arrive from ``pseudo_collate`` as ``{'inputs': [clip tensors], 'data_samples': [BaseDataElement]}``
where each input is ``[num_clips, M, T, V, C]`` (see :class:`har.datasets.transforms.PackGCNInputs`).
Training uses one clip per sample; at test time the clips of a sample (e.g. 10 from
``UniformSample(num_clips=10, test_mode=True)``) are scored separately and averaged.
"""
from __future__ import annotations

from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseDataPreprocessor, BaseModel
from mmengine.structures import BaseDataElement

from ..registry import MODELS

AVERAGE_CLIPS = ("prob", "score", None)


@MODELS.register_module()
class GCNDataPreprocessor(BaseDataPreprocessor):
    """Stacks the per-sample ``[num_clips, M, T, V, C]`` tensors into ``[N, num_clips, M, T, V, C]``
    float32 and moves inputs and data samples to the model's device."""

    def forward(self, data: dict, training: bool = False) -> dict:
        data = self.cast_data(data)
        inputs = data["inputs"]
        if isinstance(inputs, (list, tuple)):
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) != 1:
                raise ValueError(f"samples in a batch differ in shape {sorted(shapes)}; "
                                 "fix clip_len / num_clips / num_person in the pipeline")
            inputs = torch.stack(list(inputs))
        return dict(inputs=inputs.float(), data_samples=data.get("data_samples"))


def _labels(data_samples: Sequence[BaseDataElement], device: torch.device) -> torch.Tensor:
    return torch.stack([torch.as_tensor(ds.gt_label).reshape(()) for ds in data_samples]).long().to(device)


@MODELS.register_module()
class RecognizerGCN(BaseModel):
    """Backbone + classification head.

    Args:
        backbone / cls_head: config dicts (or modules).
        data_preprocessor: defaults to :class:`GCNDataPreprocessor`.
        test_cfg: ``dict(average_clips='prob')`` (softmax, then mean over clips), ``'score'`` (mean of
            logits) or ``None``.
        label_smoothing: for the cross-entropy loss.
    """

    def __init__(self, backbone: Union[dict, torch.nn.Module], cls_head: Union[dict, torch.nn.Module],
                 data_preprocessor: Optional[dict] = None, test_cfg: Optional[dict] = None,
                 label_smoothing: float = 0.0, init_cfg: Optional[dict] = None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type="GCNDataPreprocessor")
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone) if isinstance(backbone, dict) else backbone
        self.cls_head = MODELS.build(cls_head) if isinstance(cls_head, dict) else cls_head
        self.test_cfg = {"average_clips": "prob", **(test_cfg or {})}
        if self.test_cfg["average_clips"] not in AVERAGE_CLIPS:
            raise ValueError(f"average_clips must be one of {AVERAGE_CLIPS}, got {self.test_cfg['average_clips']!r}")
        self.label_smoothing = float(label_smoothing)

    # ------------------------------------------------------------------ pieces
    def extract_feat(self, inputs: torch.Tensor) -> torch.Tensor:
        """``[N, nc, M, T, V, C]`` → pooled features ``[N·nc, C_feat]``."""
        n, nc = inputs.shape[:2]
        x = self.backbone(inputs.reshape((n * nc,) + tuple(inputs.shape[2:])))
        return self.cls_head.pool(x)

    def _logits(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dim() == 5:  # a single clip per sample without the clip axis
            inputs = inputs.unsqueeze(1)
        if inputs.dim() != 6:
            raise ValueError(f"expected inputs [N, num_clips, M, T, V, C], got {tuple(inputs.shape)}")
        n, nc = inputs.shape[:2]
        x = self.backbone(inputs.reshape((n * nc,) + tuple(inputs.shape[2:])))
        return self.cls_head(x).view(n, nc, -1)

    def average_clips(self, logits: torch.Tensor) -> torch.Tensor:
        """``[N, nc, K]`` → ``[N, K]`` class scores."""
        mode = self.test_cfg["average_clips"]
        if mode == "prob":
            return F.softmax(logits, dim=-1).mean(dim=1)
        if mode == "score":
            return logits.mean(dim=1)
        return logits.mean(dim=1)

    # ------------------------------------------------------------------ modes
    def forward(self, inputs: torch.Tensor, data_samples: Optional[List[BaseDataElement]] = None,
                mode: str = "tensor") -> Union[Dict[str, torch.Tensor], List[BaseDataElement], torch.Tensor]:
        if mode == "loss":
            return self.loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        if mode == "tensor":
            return self._logits(inputs)
        raise ValueError(f"mode must be 'loss', 'predict' or 'tensor', got {mode!r}")

    def loss(self, inputs: torch.Tensor, data_samples: List[BaseDataElement]) -> Dict[str, torch.Tensor]:
        logits = self._logits(inputs)  # [N, nc, K]
        n, nc, k = logits.shape
        labels = _labels(data_samples, logits.device)
        flat = logits.reshape(n * nc, k)
        rep = labels.repeat_interleave(nc)
        loss = F.cross_entropy(flat, rep, label_smoothing=self.label_smoothing)
        with torch.no_grad():
            top1 = (flat.argmax(-1) == rep).float().mean()
        return dict(loss_cls=loss, top1_acc=top1)

    @torch.no_grad()
    def predict(self, inputs: torch.Tensor, data_samples: Optional[List[BaseDataElement]] = None) -> List[BaseDataElement]:
        scores = self.average_clips(self._logits(inputs))
        if data_samples is None:
            data_samples = [BaseDataElement() for _ in range(scores.size(0))]
        for ds, s in zip(data_samples, scores):
            ds.pred_score = s.detach()
            ds.pred_label = s.argmax().reshape(1)
        return data_samples
