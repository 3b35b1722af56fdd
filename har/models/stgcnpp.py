"""ST-GCN++ (Duan et al., "PYSKL", ACM MM 2022 demo): ST-GCN with a learnable graph initialised from
the ``spatial`` partition, a residual inside each graph conv and a multi-scale temporal conv.

It is the same backbone class with different switches, so the preset is a thin subclass whose
defaults are the ST-GCN++ ones; every argument can still be overridden from a config.
"""
from __future__ import annotations

from typing import Optional, Sequence

from ..registry import MODELS
from .blocks import DEFAULT_MS_CFG
from .stgcn import STGCN


@MODELS.register_module()
class STGCNPP(STGCN):
    """ST-GCN++: ``gcn_adaptive='init'``, ``gcn_with_res=True``, ``tcn_type='mstcn'``, graph mode ``spatial``."""

    def __init__(self, graph_cfg: dict, in_channels: int = 3, base_channels: int = 64,
                 data_bn_type: Optional[str] = "VC", ch_ratio: float = 2, num_person: int = 2, num_stages: int = 10,
                 inflate_stages: Sequence[int] = (5, 8), down_stages: Sequence[int] = (5, 8),
                 gcn_adaptive: Optional[str] = "init", gcn_with_res: bool = True, tcn_type: str = "mstcn",
                 tcn_dropout: float = 0.0, tcn_ms_cfg=DEFAULT_MS_CFG, init_cfg: Optional[dict] = None) -> None:
        graph_cfg = dict(graph_cfg)
        graph_cfg.setdefault("mode", "spatial")
        super().__init__(graph_cfg, in_channels=in_channels, base_channels=base_channels, data_bn_type=data_bn_type,
                         ch_ratio=ch_ratio, num_person=num_person, num_stages=num_stages,
                         inflate_stages=inflate_stages, down_stages=down_stages, gcn_adaptive=gcn_adaptive,
                         gcn_with_res=gcn_with_res, tcn_type=tcn_type, tcn_dropout=tcn_dropout,
                         tcn_ms_cfg=tcn_ms_cfg, init_cfg=init_cfg)
