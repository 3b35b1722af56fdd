"""``MotionDenoiser``: the MDM-style transformer that predicts clean motion x0 from noisy motion.

Why this shape: KineMIC starts from a pretrained MDM (``trans_enc``), so the module tree mirrors
MDM's parameter names (``input_process.poseEmbedding``, ``embed_timestep.time_embed.{0,2}``,
``embed_text``, ``seqTransEncoder.layers.{i}.{linear1,linear2,norm1,norm2}``,
``output_process.poseFinal``, ``sequence_pos_encoder.pe``) and an official checkpoint maps onto it
with one documented exception: self-attention keeps **separate** ``q_proj``/``k_proj``/``v_proj``/
``out_proj`` Linears instead of PyTorch's packed ``in_proj_weight``, so LoRA can adapt q, k, v and out
independently (see :mod:`.lora`). :mod:`.mdm_import` splits/concatenates the packed tensor.

Sequence layout (MDM): one condition token followed by the T frame tokens, sinusoidal positions
over all 1+T tokens, post-LayerNorm encoder layers with GELU, attention masked to valid frames.
The condition token is ``time_emb(t) + embed_text(text) + embed_action[a]``; text and action are
dropped *independently* during training (classifier-free guidance), and a per-sample
``force_uncond`` flag drops both, which is how guided sampling batches the unconditional pass.

Tensors are batch-first here (``[B, T, D]``); MDM is sequence-first, which changes no arithmetic.

Packed forward (``model(..., mask=mask, groups=[(0, 5), (5, 12), ...])``): only the valid frames
(plus one condition token per clip) go through the per-token layers, as one ``[tokens, width]``
matrix; attention runs per group of consecutive clips, each padded only to its own longest clip.
A padded batch of crops of 1-10 s is about half padding, so this halves the arithmetic of a
training step; valid frames get the same outputs as the padded forward (to float rounding).

Fast dropout (:meth:`MotionDenoiser.set_fast_dropout`, off by default): on a CPU, drawing a float
Bernoulli mask is slow (15-20 % of a padded pretraining step with the ``small`` preset), so the
pretraining loop switches every dropout, attention dropout included, to masks drawn from 16-bit
random integers (:func:`fast_dropout`): the same keep probability (to 1/65536) and 1/(1-p) scaling,
three to four times cheaper, but a different random stream, which is why it is opt-in. Evaluation
(and any module with ``p = 0``) is unaffected: the weights, state-dict keys and eval outputs are the same.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...errors import DataError


@dataclass
class DenoiserConfig:
    """Size and conditioning of a :class:`MotionDenoiser`.

    Attributes:
        input_dim: per-frame feature size (263 for HumanML3D ``hml_vec``, 66 for SMPL-22 xyz).
        width: transformer width (MDM ``latent_dim``).
        layers, heads, ff_dim: encoder depth, attention heads, feed-forward width.
        dropout: dropout in positions, attention and feed-forward (MDM: 0.1).
        activation: ``"gelu"`` (MDM) or ``"relu"``.
        text_dim: input size of ``embed_text`` = the text encoder's output size (512 CLIP, 384 MiniLM);
            0 disables text conditioning.
        num_actions: rows of the learned action embedding; 0 disables it.
        cond_drop_text, cond_drop_action: training-time drop probabilities, applied independently.
        max_len: rows of the sinusoidal table; also the largest timestep index (MDM: 5000).
    """

    input_dim: int = 263
    width: int = 512
    layers: int = 8
    heads: int = 4
    ff_dim: int = 1024
    dropout: float = 0.1
    activation: str = "gelu"
    text_dim: int = 512
    num_actions: int = 0
    cond_drop_text: float = 0.1
    cond_drop_action: float = 0.1
    max_len: int = 5000

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {self.activation!r}")
        for name in ("cond_drop_text", "cond_drop_action", "dropout"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p}")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "DenoiserConfig":
        """``"mdm"`` (8×512, FF 1024: the official HumanML3D model), ``"small"`` (4×256, a CPU-trainable
        generalist), ``"tiny"`` (2×64, unit tests). Keyword overrides win."""
        if name not in _PRESETS:
            raise ValueError(f"unknown denoiser preset {name!r}; choose from {sorted(_PRESETS)}")
        return cls(**{**_PRESETS[name], **overrides})

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "DenoiserConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


_PRESETS: Dict[str, Dict[str, Any]] = {
    "mdm": dict(width=512, layers=8, heads=4, ff_dim=1024, dropout=0.1, text_dim=512, input_dim=263),
    "small": dict(width=256, layers=4, heads=4, ff_dim=512, dropout=0.1, text_dim=384),
    "tiny": dict(width=64, layers=2, heads=4, ff_dim=128, dropout=0.1, text_dim=384),
}


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


class MotionDenoiser(nn.Module):
    """x0-predicting transformer over frames, conditioned on timestep, text embedding and action.

    Call ``model(x_t, t, text_emb=..., action=..., mask=...)``:

    * ``x_t``: ``[B, T, input_dim]`` noisy (normalised) features;
    * ``t``: ``[B]`` integer timesteps of the schedule the model was trained with;
    * ``text_emb``: ``[B, text_dim]`` caption embeddings, or None (= unconditional: a zero vector
      through ``embed_text``, exactly what a dropped caption is);
    * ``action``: ``[B]`` action ids in ``0..num_actions-1``; ``-1`` or None = no action term;
    * ``mask``: ``[B, T]`` bool, True on valid frames; padding is masked out of attention keys, so
      padding frames cannot change the outputs of valid frames;
    * ``force_uncond``: ``[B]`` bool, drop text and action for those samples (guidance batching);
    * ``groups``: with ``mask``, run packed (module docstring): consecutive clip ranges
      ``[(0, b1), (b1, b2), ..., (bk, B)]`` that attention pads separately (sort the batch by
      length first so each range holds similar lengths). Outputs at padding frames are then 0.

    Returns the x0 prediction ``[B, T, input_dim]``, and with ``return_features=True`` also the
    last encoder layer's per-frame features ``[B, T, width]`` (the MIC encoder's input).
    """

    def __init__(self, config: DenoiserConfig):
        super().__init__()
        self.config = config
        c = config
        self.input_process = InputProcess(c.input_dim, c.width)
        self.sequence_pos_encoder = PositionalEncoding(c.width, c.dropout, c.max_len)
        self.embed_timestep = TimestepEmbedder(c.width, self.sequence_pos_encoder)
        self.embed_text = nn.Linear(c.text_dim, c.width) if c.text_dim > 0 else None
        # KineMIC initialises the new action table N(0, 1).
        self.embed_action = nn.Parameter(torch.randn(c.num_actions, c.width)) if c.num_actions > 0 else None
        self.seqTransEncoder = SeqTransEncoder(c)
        self.output_process = OutputProcess(c.width, c.input_dim)

    def set_fast_dropout(self, enabled: bool = True) -> "MotionDenoiser":
        """Switch training-mode dropout (positions, attention, feed-forward) to :func:`fast_dropout`
        (see the module docstring). Weights and eval outputs do not change; the training random
        stream does. Returns ``self``."""
        for m in self.modules():
            if isinstance(m, (Dropout, SelfAttention)):
                m.fast = bool(enabled)
        return self

    # ------------------------------------------------------------------ conditioning
    def condition_dropout(self, batch: int, device: Union[str, torch.device, None] = None,
                          generator: Optional[torch.Generator] = None) -> Tuple[Tensor, Tensor]:
        """Independent keep-masks ``(keep_text[B], keep_action[B])`` for classifier-free guidance
        training: text is kept with probability ``1 - cond_drop_text`` and, independently, the
        action with ``1 - cond_drop_action``. Used by :meth:`forward` in training mode."""
        u = torch.rand(2, batch, generator=generator, device=device or "cpu")
        return u[0] >= self.config.cond_drop_text, u[1] >= self.config.cond_drop_action

    def condition(self, t: Tensor, text_emb: Optional[Tensor] = None, action: Optional[Tensor] = None,
                  force_uncond: Optional[Tensor] = None) -> Tensor:
        """The condition token ``[B, W]``: ``time_emb(t) + embed_text(text) + embed_action[a]``."""
        b = t.shape[0]
        dev = t.device
        emb = self.embed_timestep(t)
        keep_text = torch.ones(b, dtype=torch.bool, device=dev)
        keep_act = torch.ones(b, dtype=torch.bool, device=dev)
        if self.training:
            keep_text, keep_act = self.condition_dropout(b, device=dev)
        if force_uncond is not None:
            fu = force_uncond.to(device=dev, dtype=torch.bool).view(b)
            keep_text, keep_act = keep_text & ~fu, keep_act & ~fu
        if self.embed_text is not None:
            if text_emb is None:
                text_in = emb.new_zeros(b, self.config.text_dim)
            else:
                if text_emb.shape != (b, self.config.text_dim):
                    raise DataError(f"expected [{b}, {self.config.text_dim}], got {tuple(text_emb.shape)}",
                                    field="text_emb")
                text_in = text_emb.to(emb.dtype) * keep_text[:, None].to(emb.dtype)
            emb = emb + self.embed_text(text_in)
        elif text_emb is not None:
            raise DataError("this denoiser has no text conditioning (text_dim=0)", field="text_emb")
        if action is not None:
            if self.embed_action is None:
                raise DataError("this denoiser has no action embedding (num_actions=0)", field="action")
            action = action.to(dev).long().view(b)
            if int(action.max()) >= self.config.num_actions or int(action.min()) < -1:
                raise DataError(f"action ids must be in -1..{self.config.num_actions - 1}, got "
                                f"{action.min().item()}..{action.max().item()}", field="action")
            valid = (action >= 0) & keep_act
            emb = emb + self.embed_action[action.clamp(min=0)] * valid[:, None].to(emb.dtype)
        return emb

    # ------------------------------------------------------------------ forward
    def forward(self, x: Tensor, t: Tensor, *, text_emb: Optional[Tensor] = None, action: Optional[Tensor] = None,
                mask: Optional[Tensor] = None, force_uncond: Optional[Tensor] = None,
                return_features: bool = False,
                groups: Optional[Sequence[Tuple[int, int]]] = None) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        if x.dim() != 3 or x.shape[-1] != self.config.input_dim:
            raise DataError(f"expected [B, T, {self.config.input_dim}], got {tuple(x.shape)}", field="x")
        b, n, _ = x.shape
        if n + 1 > self.config.max_len:
            raise DataError(f"{n} frames exceed max_len-1 = {self.config.max_len - 1}", field="x")
        t = t.to(x.device).long().view(-1).expand(b) if t.numel() == 1 else t.to(x.device).long()
        cond = self.condition(t, text_emb, action, force_uncond)
        if groups is not None:
            if mask is None or mask.shape != (b, n):
                raise DataError(f"packed forward needs a mask [{b}, {n}]", field="mask")
            packed = PackedBatch(mask.to(x.device), groups)
            frames = self.input_process(x[packed.clip, packed.time])
            seq = packed.pack(cond, frames) + self.sequence_pos_encoder.pe[packed.position, 0]
            seq = self.sequence_pos_encoder.dropout(seq)
            h_rows = self.seqTransEncoder(seq, packed).index_select(0, packed.frame_rows)
            out = packed.unpack_frames(self.output_process(h_rows))
            return (out, packed.unpack_frames(h_rows)) if return_features else out
        seq = torch.cat([cond[:, None, :], self.input_process(x)], dim=1)
        seq = self.sequence_pos_encoder(seq)
        attn_mask = None
        if mask is not None:
            if mask.shape != (b, n):
                raise DataError(f"expected [{b}, {n}], got {tuple(mask.shape)}", field="mask")
            keys = torch.cat([torch.ones(b, 1, dtype=torch.bool, device=x.device), mask.to(x.device).bool()], 1)
            attn_mask = keys[:, None, None, :]  # [B, 1, 1, N]: True = may attend
        h = self.seqTransEncoder(seq, attn_mask)[:, 1:]
        out = self.output_process(h)
        return (out, h) if return_features else out

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
