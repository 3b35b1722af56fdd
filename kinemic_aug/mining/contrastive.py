"""Multi-positive InfoNCE with a learnable temperature and a FIFO memory bank.

Each target embedding is an anchor; the candidates are the source-clip embeddings of the batch
plus the memory bank. Every candidate carrying the anchor's (pseudo-)label is a positive. With
only a handful of shots per class a batch holds few negatives, hence the bank of recent source
embeddings (KineMIC keeps 60, i.e. two batches).

Loss per anchor i:  -log( Σ_{c: y_c = y_i} exp(s·cos(z_i, c)) / Σ_c exp(s·cos(z_i, c)) ),
with s = exp(logit_scale), logit_scale initialised to log(1/0.07) and clamped to [0, log 100].
"""
from __future__ import annotations

import math
from typing import Optional, Tuple

import torch
from torch import nn
import torch.nn.functional as F

MAX_LOGIT_SCALE = math.log(100.0)


def multi_positive_infonce(anchors: torch.Tensor, anchor_labels: torch.Tensor, candidates: torch.Tensor,
                           candidate_labels: torch.Tensor, logit_scale: torch.Tensor) -> torch.Tensor:
    """Mean loss over anchors that have at least one positive among the candidates.

    Anchors without a positive contribute nothing (their loss is undefined); if no anchor has a
    positive the result is a zero that still carries gradient graph edges.
    """
    a = F.normalize(anchors, dim=-1)
    c = F.normalize(candidates, dim=-1)
    logits = logit_scale.exp() * a @ c.t()  # [A, C]
    pos = anchor_labels[:, None] == candidate_labels[None, :]
    has_pos = pos.any(dim=1)
    if not bool(has_pos.any()):
        return logits.sum() * 0.0
    log_num = torch.logsumexp(logits.masked_fill(~pos, float("-inf")), dim=1)
    log_den = torch.logsumexp(logits, dim=1)
    return (log_den - log_num)[has_pos].mean()


class MemoryBank:
    """FIFO of detached embeddings and their labels. ``get()`` returns the state *before* the
    current batch is pushed, so a batch is never contrasted with itself twice."""

    def __init__(self, size: int = 60):
        self.size = int(size)
        self.z: Optional[torch.Tensor] = None
        self.y: Optional[torch.Tensor] = None

    def __len__(self) -> int:
        return 0 if self.z is None else int(self.z.shape[0])

    def get(self) -> Tuple[Optional[torch.Tensor], Optional[torch.Tensor]]:
        return self.z, self.y

    def push(self, z: torch.Tensor, y: torch.Tensor) -> None:
        if self.size <= 0:
            return
        z, y = z.detach(), y.detach()
        self.z = z if self.z is None else torch.cat([self.z, z.to(self.z.device)], 0)
        self.y = y if self.y is None else torch.cat([self.y, y.to(self.y.device)], 0)
        self.z, self.y = self.z[-self.size:], self.y[-self.size:]

    def state_dict(self) -> dict:
        return {"size": self.size, "z": self.z, "y": self.y}

    def load_state_dict(self, sd: dict) -> None:
        self.size, self.z, self.y = int(sd["size"]), sd["z"], sd["y"]


class ContrastiveHead(nn.Module):
    """Learnable temperature + memory bank around :func:`multi_positive_infonce`."""

    def __init__(self, tau: float = 0.07, bank_size: int = 60):
        super().__init__()
        self.logit_scale = nn.Parameter(torch.tensor(math.log(1.0 / tau)))
        self.bank = MemoryBank(bank_size)

    def clamp_(self) -> None:
        with torch.no_grad():
            self.logit_scale.clamp_(0.0, MAX_LOGIT_SCALE)

    def forward(self, z_target: torch.Tensor, y_target: torch.Tensor, z_source: torch.Tensor,
                y_source: torch.Tensor) -> torch.Tensor:
        bz, by = self.bank.get()
        cand, cand_y = z_source, y_source
        if bz is not None:
            cand = torch.cat([cand, bz.to(cand.device)], 0)
            cand_y = torch.cat([cand_y, by.to(cand_y.device)], 0)
        loss = multi_positive_infonce(z_target, y_target, cand, cand_y, self.logit_scale)
        self.bank.push(z_source, y_source)
        return loss
