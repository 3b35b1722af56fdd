"""The Mining-in-Context (MIC) motion encoder.

It reads the denoiser's last-layer per-frame features and returns one embedding per sequence plus
per-frame attention weights. The embedding is trained contrastively (target shots against their
soft-paired source clips); the attention says *where* in a long source clip the target action is,
which is what window mining uses.

Architecture (sizes as in the KineMIC reference implementation):
input Linear → 1-layer bidirectional GRU with a learned initial state → attention scorer
(Linear → LayerNorm → LeakyReLU(0.2) → Linear→1, masked softmax over valid frames) →
attention-weighted sum of GRU outputs → output MLP (Linear → LayerNorm → LeakyReLU → Linear).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence


@dataclass
class MICConfig:
    in_dim: int = 512
    hidden: int = 512
    out_dim: int = 512


class MICEncoder(nn.Module):
    """BiGRU + attention pooling over per-frame features ``[B, T, in_dim]``."""

    def __init__(self, cfg: MICConfig = MICConfig()):
        super().__init__()
        self.cfg = cfg
        h = cfg.hidden
        self.inp = nn.Linear(cfg.in_dim, h)
        self.gru = nn.GRU(h, h, num_layers=1, batch_first=True, bidirectional=True)
        self.h0 = nn.Parameter(torch.zeros(2, 1, h))
        self.score = nn.Sequential(nn.Linear(2 * h, h), nn.LayerNorm(h), nn.LeakyReLU(0.2), nn.Linear(h, 1))
        self.out = nn.Sequential(nn.Linear(2 * h, h), nn.LayerNorm(h), nn.LeakyReLU(0.2), nn.Linear(h, cfg.out_dim))
        for m in self.modules():
            if isinstance(m, nn.Linear):
                nn.init.xavier_normal_(m.weight)
                nn.init.zeros_(m.bias)

    def forward(self, feats: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> Tuple[torch.Tensor, torch.Tensor]:
        """Return ``(z [B, out_dim], attention [B, T])``; attention is zero on padding frames.

        ``lengths`` (``[B]`` ints) marks the valid prefix of each sequence; ``None`` means all valid.
        """
        b, t, _ = feats.shape
        if lengths is None:
            lengths = torch.full((b,), t, dtype=torch.long, device=feats.device)
        lengths = lengths.clamp(min=1, max=t)
        x = self.inp(feats)
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        h0 = self.h0.expand(-1, b, -1).contiguous()
        out, _ = self.gru(packed, h0)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=t)  # [B, T, 2h]
        valid = torch.arange(t, device=feats.device)[None, :] < lengths[:, None]
        scores = self.score(out).squeeze(-1).masked_fill(~valid, float("-inf"))
        attn = torch.softmax(scores, dim=1)
        ctx = torch.einsum("bt,btd->bd", attn, out)
        return self.out(ctx), attn
