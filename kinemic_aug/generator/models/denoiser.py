"""``MotionDenoiser``: the MDM-style transformer that predicts clean motion x0 from noisy motion.

Why this shape: KineMIC starts from a pretrained MDM (``trans_enc``), so the module tree mirrors
MDM's parameter names (``input_process.poseEmbedding``, ``embed_timestep.time_embed.{0,2}``,
``embed_text``, ``seqTransEncoder.layers.{i}.{linear1,linear2,norm1,norm2}``,
``output_process.poseFinal``, ``sequence_pos_encoder.pe``) and an official checkpoint maps onto it
with one documented exception: self-attention keeps **separate** ``q_proj``/``k_proj``/``v_proj``/
``out_proj`` Linears instead of PyTorch's packed ``in_proj_weight``, so LoRA can adapt q, k, v and out
independently (see :mod:`.lora`). :mod:`..conversion.mdm` splits/concatenates the packed tensor.

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
random integers (:func:`~.layers.fast_dropout`): the same keep probability (to 1/65536) and 1/(1-p) scaling,
three to four times cheaper, but a different random stream, which is why it is opt-in. Evaluation
(and any module with ``p = 0``) is unaffected: the weights, state-dict keys and eval outputs are the same.
"""
from __future__ import annotations

from typing import Optional, Sequence, Tuple, Union

import torch
from torch import Tensor, nn

from ...errors import DataError
from ..length_groups import CPU_COST, GPU_COST, GroupCost, length_groups
from .config import DenoiserConfig
from .layers import (Dropout, InputProcess, OutputProcess, PackedBatch, PositionalEncoding, SelfAttention,
                     SeqTransEncoder, TimestepEmbedder)


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

    def forward_sorted(self, x: Tensor, t: Tensor, *, mask: Tensor, text_emb: Optional[Tensor] = None,
                       action: Optional[Tensor] = None, force_uncond: Optional[Tensor] = None,
                       return_features: bool = False,
                       cost: Optional[GroupCost] = None) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """The packed forward for a batch in any order: clips are sorted by length, split into
        :func:`~..length_groups.length_groups` (``cost``: the device's default model when None), run
        packed and put back in the caller's order. Valid frames get the padded forward's outputs (to float
        rounding); padding frames get 0. Why: callers such as the adaptation step pair row ``i`` of one
        batch with row ``i`` of another, so they cannot sort their batch themselves.

        In training mode the per-sample random draws (condition dropout) follow the sorted order, so the
        random stream differs from :meth:`forward`'s on the same batch."""
        if mask is None or mask.dim() != 2 or mask.shape != x.shape[:2]:
            raise DataError(f"forward_sorted needs a mask [{x.shape[0]}, {x.shape[1]}]", field="mask")
        b = x.shape[0]
        lengths = mask.sum(1).cpu()
        order = torch.argsort(lengths, stable=True)
        if cost is None:
            cost = GPU_COST if x.device.type == "cuda" else CPU_COST
        groups = length_groups(lengths[order].tolist(), cost)
        idx = order.to(x.device)
        t = t.to(x.device).long().view(-1).expand(b) if t.numel() == 1 else t.to(x.device).long()

        def pick(v: Optional[Tensor]) -> Optional[Tensor]:
            return None if v is None else v.to(x.device).index_select(0, idx)

        out = self(x.index_select(0, idx), t.index_select(0, idx), text_emb=pick(text_emb), action=pick(action),
                   mask=mask.to(x.device).index_select(0, idx), force_uncond=pick(force_uncond),
                   return_features=return_features, groups=groups)
        back = torch.argsort(idx)
        if return_features:
            return out[0].index_select(0, back), out[1].index_select(0, back)
        return out.index_select(0, back)

    def num_parameters(self, trainable_only: bool = False) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad or not trainable_only)
