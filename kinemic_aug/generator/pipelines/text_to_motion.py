"""``MotionGenerator``: denoiser + representation + schedule + sampler, text in, joints out.

The diffusers-style pipeline object: it owns no training logic, only the sampling path. Sampling is
batched over clips of different lengths (frame masks) and deterministic for a given ``seed``.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Sequence, Union

import numpy as np
import torch

from ...errors import DataError
from ..checkpoint import load_generator
from ..models.denoiser import MotionDenoiser
from ..conditioning import TextEmbedder, embed_texts
from ..representation import MotionRepresentation
from ..schedulers.samplers import guided_model_fn, make_sampler
from ..schedulers.noise_schedule import NoiseSchedule


class MotionGenerator:
    def __init__(self, model: MotionDenoiser, representation: MotionRepresentation, schedule: NoiseSchedule,
                 text_encoder: Optional[TextEmbedder] = None):
        self.model = model.eval()
        self.representation = representation
        self.schedule = schedule
        self.text_encoder = text_encoder

    @classmethod
    def from_checkpoint(cls, path: Union[str, Path], text_encoder: Optional[TextEmbedder] = None,
                        use_ema: bool = True, device: str = "cpu") -> "MotionGenerator":
        b = load_generator(path, use_ema=use_ema, device=device)
        return cls(b.model, b.representation, b.schedule, text_encoder)

    @torch.no_grad()
    def generate_features(self, lengths: Sequence[int], *, texts: Optional[Sequence[str]] = None,
                          text_emb: Optional[Any] = None, action: Optional[Sequence[int]] = None,
                          steps: int = 50, sampler: str = "ddim", eta: float = 0.0, guidance: float = 2.5,
                          seed: int = 0) -> List[np.ndarray]:
        """Sample normalised-then-denormalised features ``[L_i, D]`` for each requested length."""
        lengths = [int(n) for n in lengths]
        if not lengths or min(lengths) < 1:
            raise DataError(f"lengths must be positive, got {lengths}", field="lengths")
        dev = next(self.model.parameters()).device
        b, t_max = len(lengths), max(lengths)
        if texts is not None:
            if self.text_encoder is None:
                raise DataError("texts given but the generator has no text encoder", field="texts")
            text_emb = embed_texts(self.text_encoder, list(texts))
        te = torch.as_tensor(np.asarray(text_emb), dtype=torch.float32, device=dev) if text_emb is not None else None
        if te is not None and te.shape[0] != b:
            raise DataError(f"{te.shape[0]} text embeddings for {b} lengths", field="text_emb")
        act = torch.as_tensor(list(action), dtype=torch.long, device=dev) if action is not None else None
        mask = torch.arange(t_max, device=dev)[None, :] < torch.as_tensor(lengths, device=dev)[:, None]
        fn = guided_model_fn(self.model, scale=guidance, text_emb=te, action=act, mask=mask)
        gen = torch.Generator().manual_seed(int(seed))
        smp = make_sampler(sampler, self.schedule, steps=min(steps, self.schedule.num_steps), eta=eta)
        x = smp.sample(fn, (b, t_max, self.model.config.input_dim), generator=gen, device=dev)
        x = self.representation.denormalize(x.float().cpu()).numpy()
        return [x[i, :n] for i, n in enumerate(lengths)]

    def generate(self, lengths: Sequence[int], **kwargs) -> List[np.ndarray]:
        """Joint positions ``[L_i, V, 3]`` (the representation's canonical frame) per requested length.
        Keyword arguments as :meth:`generate_features`."""
        return [self.representation.decode(f) for f in self.generate_features(lengths, **kwargs)]
