"""Building blocks shared by ST-GCN and ST-GCN++: spatial graph convolution, temporal convolutions.

Tensors inside a backbone are ``[N·M, C, T, V]`` (batch × persons folded together, channels, frames,
joints). Spatial mixing is a 1×1 convolution to ``K·C_out`` channels followed by an ``einsum`` with the
fixed ``[K, V, V]`` adjacency: on skeleton-sized graphs this dense form is the fast path.
"""
from __future__ import annotations

from typing import List, Optional, Sequence, Tuple, Union

import torch
from torch import nn

ADAPTIVE = (None, "importance", "offset", "init")


class GraphConv(nn.Module):
    """Spatial graph convolution ``y = BN(sum_k (W_k x) A_k)`` (+ residual) → ReLU.

    Args:
        in_channels / out_channels: feature sizes.
        A: ``[K, V, V]`` adjacency stack (see :mod:`har.graph`).
        adaptive: how the graph may change during training.
            ``None``: fixed; ``'importance'``: a learnable mask multiplies A (ST-GCN's edge
            importance weighting); ``'offset'``: a learnable matrix, initialised at 0, is added to A;
            ``'init'``: A itself is a parameter initialised from the graph (ST-GCN++).
        with_res: add a (1×1 conv + BN when the width changes) shortcut inside the unit (ST-GCN++).
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, adaptive: Optional[str] = "importance",
                 with_res: bool = False) -> None:
        super().__init__()
        if adaptive not in ADAPTIVE:
            raise ValueError(f"adaptive must be one of {ADAPTIVE}, got {adaptive!r}")
        A = torch.as_tensor(A, dtype=torch.float32)
        self.num_subsets = A.size(0)
        self.in_channels, self.out_channels = in_channels, out_channels
        self.adaptive = adaptive
        if adaptive == "init":
            self.A = nn.Parameter(A.clone())
        else:
            self.register_buffer("A", A.clone())
        if adaptive == "importance":
            self.PA = nn.Parameter(torch.ones_like(A))
        elif adaptive == "offset":
            self.PA = nn.Parameter(torch.zeros_like(A))
        self.conv = nn.Conv2d(in_channels, out_channels * self.num_subsets, 1)
        self.bn = nn.BatchNorm2d(out_channels)
        self.act = nn.ReLU(inplace=True)
        self.with_res = with_res
        if with_res:
            self.down: nn.Module = (nn.Identity() if in_channels == out_channels else
                                    nn.Sequential(nn.Conv2d(in_channels, out_channels, 1), nn.BatchNorm2d(out_channels)))

    def graph(self) -> torch.Tensor:
        if self.adaptive == "importance":
            return self.A * self.PA
        if self.adaptive == "offset":
            return self.A + self.PA
        return self.A

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, v = x.shape
        y = self.conv(x).view(n, self.num_subsets, self.out_channels, t, v)
        y = torch.einsum("nkctv,kvw->nctw", y, self.graph()).contiguous()
        y = self.bn(y)
        if self.with_res:
            y = y + self.down(x)
        return self.act(y)


class TemporalConv(nn.Module):
    """Conv over time (kernel ``(k, 1)``) + BN, with optional stride and dilation; keeps T when stride 1."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 9, stride: int = 1, dilation: int = 1,
                 dropout: float = 0.0, norm: bool = True) -> None:
        super().__init__()
        pad = (kernel_size + (kernel_size - 1) * (dilation - 1) - 1) // 2
        self.conv = nn.Conv2d(in_channels, out_channels, (kernel_size, 1), padding=(pad, 0), stride=(stride, 1),
                              dilation=(dilation, 1))
        self.bn = nn.BatchNorm2d(out_channels) if norm else nn.Identity()
        self.drop = nn.Dropout(dropout, inplace=True) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.bn(self.conv(x)))


BranchSpec = Union[Tuple[int, int], Tuple[str, int], str]
DEFAULT_MS_CFG: Tuple[BranchSpec, ...] = ((3, 1), (3, 2), (3, 3), (3, 4), ("max", 3), "1x1")


class MultiScaleTemporalConv(nn.Module):
    """ST-GCN++'s multi-scale TCN: parallel branches with different temporal receptive fields.

    Each branch squeezes to ``out/num_branches`` channels with a 1×1 conv, then applies a dilated
    temporal conv ``(kernel, dilation)``, a temporal max-pool (``('max', k)``) or nothing but a strided
    1×1 conv (``'1x1'``). The concatenated branches are fused by BN → ReLU → 1×1 conv. Many cheap
    dilated branches cover long and short motions for fewer FLOPs than one 9-frame kernel.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1,
                 ms_cfg: Sequence[BranchSpec] = DEFAULT_MS_CFG, dropout: float = 0.0) -> None:
        super().__init__()
        nb = len(ms_cfg)
        mid = out_channels // nb
        first = out_channels - mid * (nb - 1)  # the first branch takes the remainder
        branches: List[nn.Module] = []
        for i, cfg in enumerate(ms_cfg):
            c = first if i == 0 else mid
            if cfg == "1x1":
                branches.append(nn.Sequential(nn.Conv2d(in_channels, c, 1, stride=(stride, 1)), nn.BatchNorm2d(c)))
                continue
            squeeze = [nn.Conv2d(in_channels, c, 1), nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            if cfg[0] == "max":
                k = int(cfg[1])
                branches.append(nn.Sequential(*squeeze, nn.MaxPool2d((k, 1), stride=(stride, 1), padding=(k // 2, 0))))
            else:
                k, d = int(cfg[0]), int(cfg[1])
                branches.append(nn.Sequential(*squeeze, TemporalConv(c, c, kernel_size=k, stride=stride, dilation=d)))
        self.branches = nn.ModuleList(branches)
        self.fuse = nn.Sequential(nn.BatchNorm2d(out_channels), nn.ReLU(inplace=True), nn.Conv2d(out_channels, out_channels, 1))
        self.bn = nn.BatchNorm2d(out_channels)
        self.drop = nn.Dropout(dropout, inplace=True) if dropout > 0 else nn.Identity()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.cat([b(x) for b in self.branches], dim=1)
        return self.drop(self.bn(self.fuse(y)))


class STGCNBlock(nn.Module):
    """Graph conv → temporal conv, plus a block-level residual; ReLU at the end.

    ``residual``: ``False`` (first block, whose input is raw coordinates), identity when shape is kept,
    otherwise a strided 1×1 temporal conv.
    """

    def __init__(self, in_channels: int, out_channels: int, A: torch.Tensor, stride: int = 1, residual: bool = True,
                 gcn_adaptive: Optional[str] = "importance", gcn_with_res: bool = False, tcn_type: str = "unit_tcn",
                 tcn_dropout: float = 0.0, tcn_ms_cfg: Sequence[BranchSpec] = DEFAULT_MS_CFG) -> None:
        super().__init__()
        self.gcn = GraphConv(in_channels, out_channels, A, adaptive=gcn_adaptive, with_res=gcn_with_res)
        if tcn_type == "unit_tcn":
            self.tcn: nn.Module = TemporalConv(out_channels, out_channels, 9, stride=stride, dropout=tcn_dropout)
        elif tcn_type == "mstcn":
            self.tcn = MultiScaleTemporalConv(out_channels, out_channels, stride=stride, ms_cfg=tcn_ms_cfg,
                                              dropout=tcn_dropout)
        else:
            raise ValueError(f"tcn_type must be 'unit_tcn' or 'mstcn', got {tcn_type!r}")
        if not residual:
            self.residual = None
        elif in_channels == out_channels and stride == 1:
            self.residual = nn.Identity()
        else:
            self.residual = TemporalConv(in_channels, out_channels, kernel_size=1, stride=stride)
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.tcn(self.gcn(x))
        if self.residual is not None:
            y = y + self.residual(x)
        return self.act(y)
