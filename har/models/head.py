"""Classification head for GCN backbones: global average pool over persons, time and joints → FC."""
from __future__ import annotations

import torch
from mmengine.model import BaseModule
from torch import nn

from ..registry import MODELS


@MODELS.register_module()
class GCNHead(BaseModule):
    """``[N, M, C, T, V]`` → class logits ``[N, num_classes]``.

    Pooling over M averages the persons (a padded all-zero person still contributes its features, as
    in PYSKL; with ``FormatGCNInput(mode='loop')`` the pad is a copy of person 0 instead).
    """

    def __init__(self, num_classes: int, in_channels: int, dropout: float = 0.0, init_std: float = 0.01) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be >= 1, got {num_classes}")
        self.num_classes, self.in_channels = num_classes, in_channels
        self.dropout = nn.Dropout(dropout) if dropout > 0 else nn.Identity()
        self.fc = nn.Linear(in_channels, num_classes)
        nn.init.normal_(self.fc.weight, 0.0, init_std)
        nn.init.zeros_(self.fc.bias)

    def pool(self, x: torch.Tensor) -> torch.Tensor:
        """The 256-d (``in_channels``) clip feature used by the head, also the evaluator feature for FID."""
        if x.dim() != 5:
            raise ValueError(f"GCNHead expects [N, M, C, T, V], got shape {tuple(x.shape)}")
        return x.mean(dim=(3, 4)).mean(dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.dropout(self.pool(x)))
