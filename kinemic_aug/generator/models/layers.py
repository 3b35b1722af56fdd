"""The denoiser's building blocks, named as MDM's modules so official weights load: dropout (and its fast variant), positions, timestep embedding, input/output projections, self-attention with separate q/k/v, packed batches and the encoder stack."""
from __future__ import annotations

import math
from typing import List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...errors import DataError
from .config import DenoiserConfig


def _keep_mask(shape: Tuple[int, ...], p: float, dtype: torch.dtype, device: torch.device) -> Tensor:
    """``1/(1-p)`` where a uniform int16 is ``>= round(p·65536) - 32768``, else 0 (drop probability
    ``p`` to 1/65536). The stream is seeded from the global torch generator of ``device`` (one draw
    per call), so ``torch.manual_seed`` / ``fork_rng`` make it reproducible. On a CPU the bits come
    from numpy's SFC64 (four values per 64-bit draw, several times cheaper than torch's Mersenne
    twister) and the mask is built in numpy; elsewhere from ``torch.randint`` on the device."""
    threshold = int(round(p * 65536)) - 32768
    scale = 1.0 / (1.0 - p)
    if device.type != "cpu":
        r = torch.randint(-32768, 32768, shape, dtype=torch.int16, device=device)
        return (r >= threshold).to(dtype).mul_(scale)
    n = math.prod(shape)
    seed = int(torch.randint(0, 2 ** 62, (1,)))
    bits = np.random.Generator(np.random.SFC64(seed)).bit_generator.random_raw((n + 3) // 4).view(np.int16)[:n]
    keep = (bits >= threshold).astype(np.float32)  # three cheap passes beat one mixed-type multiply
    keep *= np.float32(scale)
    return torch.from_numpy(keep).view(shape).to(dtype)


def fast_dropout(x: Tensor, p: float) -> Tensor:
    """Training-mode dropout with a mask from uniform 16-bit integers (:func:`_keep_mask`), scaled
    by ``1/(1-p)`` like :func:`torch.nn.functional.dropout`.

    Why: on a CPU ``torch.nn.functional.dropout`` (a float ``bernoulli_``) costs three to four times
    more than this mask, and at the denoiser's sizes that difference is a sixth of a training step. The drop probability is ``p``
    rounded to a multiple of 2**-16 (0.1 -> 0.100006).
    """
    if p <= 0.0:
        return x
    if p >= 1.0:
        return x * 0.0
    return x * _keep_mask(tuple(x.shape), p, x.dtype, x.device)


class Dropout(nn.Dropout):
    """``nn.Dropout`` that uses :func:`fast_dropout` in training mode when ``fast`` is set (no
    parameters or buffers, so state dicts are unchanged)."""

    fast: bool = False

    def forward(self, x: Tensor) -> Tensor:
        if self.fast and self.training and self.p > 0:
            return fast_dropout(x, self.p)
        return super().forward(x)


class PositionalEncoding(nn.Module):
    """Sinusoidal table ``pe[max_len, 1, width]`` (MDM's buffer shape), shared with the timestep MLP."""

    def __init__(self, width: int, dropout: float, max_len: int):
        super().__init__()
        self.dropout = Dropout(dropout)
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]
        freq = torch.exp(torch.arange(0, width, 2, dtype=torch.float32) * (-math.log(10000.0) / width))
        pe = torch.zeros(max_len, width)
        pe[:, 0::2] = torch.sin(pos * freq)
        pe[:, 1::2] = torch.cos(pos * freq)
        self.register_buffer("pe", pe[:, None, :])

    def forward(self, x: Tensor) -> Tensor:
        """Add positions to batch-first tokens ``[B, N, W]``."""
        return self.dropout(x + self.pe[: x.shape[1], 0][None])


class TimestepEmbedder(nn.Module):
    """``Linear → SiLU → Linear`` on the sinusoidal row of each timestep (MDM's ``embed_timestep``)."""

    def __init__(self, width: int, pos: PositionalEncoding):
        super().__init__()
        self.sequence_pos_encoder = pos  # shared module, as in MDM (so its key appears here too)
        self.time_embed = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))

    def forward(self, t: Tensor) -> Tensor:
        return self.time_embed(self.sequence_pos_encoder.pe[t, 0])  # [B, W]


class InputProcess(nn.Module):
    def __init__(self, input_dim: int, width: int):
        super().__init__()
        self.poseEmbedding = nn.Linear(input_dim, width)

    def forward(self, x: Tensor) -> Tensor:
        return self.poseEmbedding(x)


class OutputProcess(nn.Module):
    def __init__(self, width: int, input_dim: int):
        super().__init__()
        self.poseFinal = nn.Linear(width, input_dim)

    def forward(self, h: Tensor) -> Tensor:
        return self.poseFinal(h)


class SelfAttention(nn.Module):
    """Multi-head self-attention with separate q/k/v/out Linears and ``F.scaled_dot_product_attention``.

    Numerically equal to ``nn.MultiheadAttention`` whose ``in_proj_weight`` is ``cat([q, k, v])``.
    With ``fast`` set, training-mode attention with dropout runs as explicit products with
    :func:`fast_dropout` on the attention weights (on a CPU, SDPA with dropout runs as the same
    explicit products, bmm + softmax + Bernoulli mask, so only the mask gets cheaper).
    """

    fast: bool = False

    def __init__(self, width: int, heads: int, dropout: float):
        super().__init__()
        self.heads = heads
        self.dropout = dropout
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def _attend(self, q: Tensor, k: Tensor, v: Tensor, attn_mask: Optional[Tensor]) -> Tensor:
        if self.fast and self.training and self.dropout > 0:
            return _attention_fast_dropout(q, k, v, attn_mask, self.dropout)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask,
                                              dropout_p=self.dropout if self.training else 0.0)

    def forward(self, x: Tensor, attn_mask: Union[Tensor, "PackedBatch", None] = None) -> Tensor:
        """``x [B, N, W]`` with a bool key mask ``[B, 1, 1, N]``, or packed tokens ``x [M, W]``
        with their :class:`PackedBatch`."""
        if isinstance(attn_mask, PackedBatch):
            return self._forward_packed(x, attn_mask)
        b, n, w = x.shape
        h = self.heads

        def split(t: Tensor) -> Tensor:
            return t.view(b, n, h, w // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        o = self._attend(q, k, v, attn_mask)
        return self.out_proj(o.transpose(1, 2).reshape(b, n, w))

    def _forward_packed(self, x: Tensor, packed: "PackedBatch") -> Tensor:
        """Attention per group on head-major tensors ``[heads, clips, L, d]`` (the clip axis plays
        the role of SDPA's head axis, so the gathers need no further copies)."""
        m, w = x.shape
        h = self.heads

        def heads_first(t: Tensor) -> Tensor:
            return t.view(m, h, w // h).transpose(0, 1).contiguous()  # [h, M, d]

        q, k, v = heads_first(self.q_proj(x)), heads_first(self.k_proj(x)), heads_first(self.v_proj(x))
        outs = []
        for gather, keep, key_mask in packed.groups:
            n, length = key_mask.shape[1], key_mask.shape[-1]

            def pad(t: Tensor) -> Tensor:
                return t.index_select(1, gather).view(h, n, length, w // h)

            o = self._attend(pad(q), pad(k), pad(v), key_mask)  # [h, n, L, d]
            outs.append(o.reshape(h, n * length, w // h).index_select(1, keep))
        o = torch.cat(outs, 1) if len(outs) > 1 else outs[0]
        return self.out_proj(o.transpose(0, 1).reshape(m, w))


def _attention_fast_dropout(q: Tensor, k: Tensor, v: Tensor, attn_mask: Optional[Tensor], p: float) -> Tensor:
    """``softmax(q kᵀ / sqrt(d) + mask) v`` with :func:`fast_dropout` on the weights; ``q, k, v``
    ``[B, H, N, d]``, ``attn_mask`` bool key mask broadcastable to ``[B, H, 1, N]`` (True = may attend)."""
    b, h, n, d = q.shape
    bias = q.new_zeros(b, h, 1, n)
    if attn_mask is not None:
        bias = bias.masked_fill(~attn_mask, float("-inf"))
    scores = torch.baddbmm(bias.view(b * h, 1, n), q.reshape(b * h, n, d), k.reshape(b * h, n, d).transpose(1, 2),
                           alpha=1.0 / math.sqrt(d))
    weights = fast_dropout(torch.softmax(scores, dim=-1), p)
    return torch.bmm(weights, v.reshape(b * h, n, d)).view(b, h, n, d)


class PackedBatch:
    """Index maps between a padded batch ``[B, T]`` and its packed tokens ``[M]`` (``M`` = valid
    frames + one condition token per clip), and the attention groups.

    Packed order is clip-major: clip ``i``'s condition token, then its valid frames in time order.
    ``groups`` are consecutive clip ranges ``[(start, end), ...]`` covering ``0..B``; attention for
    a group runs on its clips padded to the group's longest, through ``(gather [n·L], keep [valid],
    key_mask)``: ``gather`` picks packed rows into the padded layout (padding points at
    a valid row and is masked out as a key), ``keep`` picks the valid rows back out, in packed order;
    ``key_mask`` is ``[1, n, 1, L]`` because attention runs head-major (``[heads, n, L, d]``).
    """

    def __init__(self, mask: Tensor, groups: Sequence[Tuple[int, int]]):
        b, t = mask.shape
        dev = mask.device
        mask = mask.bool()
        groups = [(int(lo), int(hi)) for lo, hi in groups]
        edges = [0] + [hi for _, hi in groups]
        if not groups or edges[-1] != b or any(lo != e or hi <= lo for (lo, hi), e in zip(groups, edges)):
            raise DataError(f"groups must be consecutive, non-empty ranges covering 0..{b}, got {groups}",
                            field="groups")
        tokens = mask.sum(1) + 1  # [B]
        start = torch.cumsum(tokens, 0) - tokens
        self.batch, self.frames = b, t
        self.num_tokens = int(tokens.sum())
        self.clip, self.time = mask.nonzero(as_tuple=True)  # valid frames, clip-major
        rank = (mask.cumsum(1) - 1)[self.clip, self.time]
        self.cond_rows = start
        self.frame_rows = start[self.clip] + 1 + rank
        # source of each packed row in cat([cond tokens, frame tokens])
        self.source = torch.empty(self.num_tokens, dtype=torch.long, device=dev)
        self.source[self.cond_rows] = torch.arange(b, device=dev)
        self.source[self.frame_rows] = b + torch.arange(len(self.clip), device=dev)
        self.position = torch.zeros(self.num_tokens, dtype=torch.long, device=dev)
        self.position[self.frame_rows] = self.time + 1
        self.groups: List[Tuple[Tensor, Tensor, Tensor]] = []
        tok = tokens.tolist()
        for lo, hi in groups:
            length = max(tok[lo:hi])
            col = torch.arange(length, device=dev)
            valid = col[None, :] < tokens[lo:hi, None]  # [n, L]
            gather = torch.where(valid, start[lo:hi, None] + col[None, :], start[lo:hi, None]).reshape(-1)
            keep = valid.reshape(-1).nonzero().squeeze(1)
            self.groups.append((gather, keep, valid[None, :, None, :]))

    def pack(self, cond: Tensor, frames: Tensor) -> Tensor:
        """Packed tokens ``[M, W]`` from condition tokens ``[B, W]`` and valid-frame tokens ``[V, W]``."""
        return torch.cat([cond, frames]).index_select(0, self.source)

    def unpack_frames(self, rows: Tensor) -> Tensor:
        """Valid-frame rows ``[V, C]`` back into a zero-padded ``[B, T, C]``."""
        out = rows.new_zeros(self.batch, self.frames, rows.shape[-1])
        return out.index_put((self.clip, self.time), rows)


class EncoderLayer(nn.Module):
    """Post-LN encoder layer, the arithmetic of ``nn.TransformerEncoderLayer(norm_first=False)``."""

    def __init__(self, width: int, heads: int, ff_dim: int, dropout: float, activation: str):
        super().__init__()
        self.self_attn = SelfAttention(width, heads, dropout)
        self.linear1 = nn.Linear(width, ff_dim)
        self.linear2 = nn.Linear(ff_dim, width)
        self.norm1 = nn.LayerNorm(width)
        self.norm2 = nn.LayerNorm(width)
        self.dropout = Dropout(dropout)
        self.dropout1 = Dropout(dropout)
        self.dropout2 = Dropout(dropout)
        self.act = nn.GELU() if activation == "gelu" else nn.ReLU()

    def forward(self, x: Tensor, attn_mask: Union[Tensor, PackedBatch, None] = None) -> Tensor:
        """Padded ``[B, N, W]`` with a key mask, or packed ``[M, W]`` with a :class:`PackedBatch`
        (everything but attention works token by token, so both layouts share this code)."""
        x = self.norm1(x + self.dropout1(self.self_attn(x, attn_mask)))
        return self.norm2(x + self.dropout2(self.linear2(self.dropout(self.act(self.linear1(x))))))


class SeqTransEncoder(nn.Module):
    def __init__(self, cfg: DenoiserConfig):
        super().__init__()
        self.layers = nn.ModuleList(EncoderLayer(cfg.width, cfg.heads, cfg.ff_dim, cfg.dropout, cfg.activation)
                                    for _ in range(cfg.layers))

    def forward(self, x: Tensor, attn_mask: Union[Tensor, PackedBatch, None] = None) -> Tensor:
        for layer in self.layers:
            x = layer(x, attn_mask)
        return x
