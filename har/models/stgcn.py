"""ST-GCN backbone (Yan et al., AAAI 2018) in the PYSKL parameterisation, for any skeleton layout.

Input ``[N, M, T, V, C]`` (M persons), output ``[N, M, C_out, T_out, V]``. With the published sizes
(``base_channels=64, num_stages=10, inflate_stages=[5, 8], down_stages=[5, 8]``) C_out = 256 and
T_out = T/4. The same class with ``gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn'`` and a
``spatial`` graph is ST-GCN++ (:mod:`har.models.stgcnpp`).
"""
from __future__ import annotations

import copy
from typing import Optional, Sequence

import torch
from mmengine.model import BaseModule
from torch import nn

from ..graph import Graph
from ..registry import MODELS
from .blocks import DEFAULT_MS_CFG, STGCNBlock

SMALL_PRESET = dict(base_channels=32, num_stages=6, inflate_stages=(3, 5), down_stages=(3, 5))
"""A CPU-sized ST-GCN: 6 blocks, widths 32/32/64/64/128/128 (about 0.5 M parameters on 20-25 joints)."""

PUBLISHED_PRESET = dict(base_channels=64, num_stages=10, inflate_stages=(5, 8), down_stages=(5, 8))
"""The published ST-GCN / ST-GCN++ size (widths 64/128/256, about 3.1 M parameters)."""


@MODELS.register_module()
class STGCN(BaseModule):
    """Spatial-temporal graph convolution network.

    Args:
        graph_cfg: kwargs of :class:`har.graph.Graph` (``layout``, ``mode``, ``max_hop``).
        in_channels: per-joint input features (3 for xyz joints; 3·n for GenSkeFeat with n features).
        base_channels: width of the first stage.
        data_bn_type: ``'VC'`` (one BatchNorm over joints × channels, shared by persons), ``'MVC'``
            (separate statistics per person slot) or ``None``.
        ch_ratio: width multiplier at each inflate stage.
        num_person: M, needed by ``'MVC'`` data BN.
        num_stages: number of ST-GCN blocks.
        inflate_stages / down_stages: 1-based block indices that widen / halve T.
        gcn_adaptive, gcn_with_res, tcn_type, tcn_dropout, tcn_ms_cfg: forwarded to every block.
        pretrained: a backbone file from ``tools/pretrain_classifier.py`` (see :mod:`har.pretrained`):
            loaded strictly after construction and again in ``init_weights`` (so MMEngine's weight
            initialisation cannot overwrite it); a file for another layout, joint count or
            architecture is refused with an error naming the file and field.
    """

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64,
                 data_bn_type: Optional[str] = "VC", ch_ratio: float = 2, num_person: int = 2, num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8), down_stages: Sequence[int] = (5, 8),
                 gcn_adaptive: Optional[str] = "importance", gcn_with_res: bool = False, tcn_type: str = "unit_tcn",
                 tcn_dropout: float = 0.0, tcn_ms_cfg=DEFAULT_MS_CFG, init_cfg: Optional[dict] = None,
                 pretrained: Optional[str] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        self._arch = dict(in_channels=in_channels, base_channels=base_channels, num_stages=num_stages,
                          inflate_stages=list(inflate_stages), down_stages=list(down_stages), ch_ratio=ch_ratio,
                          data_bn_type=data_bn_type, gcn_adaptive=gcn_adaptive, gcn_with_res=gcn_with_res,
                          tcn_type=tcn_type)
        self.graph = Graph(**copy.deepcopy(graph_cfg))
        A = torch.tensor(self.graph.A, dtype=torch.float32)
        v = A.size(1)
        self.num_joints = v
        self.in_channels = in_channels
        self.num_person = num_person
        self.data_bn_type = data_bn_type
        if data_bn_type == "MVC":
            self.data_bn: nn.Module = nn.BatchNorm1d(num_person * in_channels * v)
        elif data_bn_type == "VC":
            self.data_bn = nn.BatchNorm1d(in_channels * v)
        elif data_bn_type is None:
            self.data_bn = nn.Identity()
        else:
            raise ValueError(f"data_bn_type must be 'VC', 'MVC' or None, got {data_bn_type!r}")
        if num_stages < 1:
            raise ValueError("num_stages must be >= 1")
        block_kw = dict(gcn_adaptive=gcn_adaptive, gcn_with_res=gcn_with_res, tcn_type=tcn_type,
                        tcn_dropout=tcn_dropout, tcn_ms_cfg=tcn_ms_cfg)
        blocks = []
        c_in, c_out = in_channels, base_channels
        inflate_times = 0
        for i in range(1, num_stages + 1):
            stride = 2 if i in down_stages else 1
            if i in inflate_stages:
                inflate_times += 1
            c_out = int(base_channels * ch_ratio ** inflate_times + 1e-6)
            # the first block sees raw coordinates: no residual from 3 channels
            residual = not (i == 1 and c_in != c_out)
            blocks.append(STGCNBlock(c_in, c_out, A.clone(), stride=stride, residual=residual, **block_kw))
            c_in = c_out
        self.gcn = nn.ModuleList(blocks)
        self.out_channels = c_out
        if pretrained:
            self._load_pretrained()

    @property
    def arch(self) -> dict:
        """The constructor arguments a pretrained checkpoint must share with this backbone."""
        return dict(self._arch)

    def _load_pretrained(self) -> None:
        from ..pretrained import load_backbone

        load_backbone(self, self.pretrained, self.graph.layout, self._arch)

    def init_weights(self) -> None:
        super().init_weights()
        if self.pretrained:
            self._load_pretrained()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise ValueError(f"STGCN expects [N, M, T, V, C], got shape {tuple(x.shape)}")
        n, m, t, v, c = x.shape
        if v != self.num_joints or c != self.in_channels:
            raise ValueError(f"STGCN built for V={self.num_joints}, C={self.in_channels}; got V={v}, C={c}")
        x = x.permute(0, 1, 3, 4, 2).contiguous()  # N M V C T
        if self.data_bn_type == "MVC":
            if m != self.num_person:
                raise ValueError(f"'MVC' data BN was built for M={self.num_person}, got M={m}")
            x = self.data_bn(x.view(n, m * v * c, t))
        elif self.data_bn_type == "VC":
            x = self.data_bn(x.view(n * m, v * c, t))
        x = x.view(n, m, v, c, t).permute(0, 1, 3, 4, 2).contiguous().view(n * m, c, t, v)
        for block in self.gcn:
            x = block(x)
        return x.reshape((n, m) + tuple(x.shape[1:]))
