"""Samplers (ancestral DDPM, DDIM) and classifier-free guidance, independent of the network.

A sampler only sees a ``model_fn(x_t, t_model) -> x0`` callable and a :class:`NoiseSchedule`; the
denoiser, its conditioning and guidance are bound into that callable by :func:`guided_model_fn`.
So a toy analytic x0 predictor (used in the tests) and the transformer run through the same code.

Randomness comes only from the ``torch.Generator`` passed in (initial noise first, then one draw
per step with ``t > 0``, in the same order for both samplers), so a seed fixes the output.
"""
from __future__ import annotations

from typing import Callable, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from .noise_schedule import NoiseSchedule

ModelFn = Callable[[Tensor, Tensor], Tensor]


def _randn(shape: Sequence[int], generator: Optional[torch.Generator], device, dtype) -> Tensor:
    # draw on the generator's device, then move: a CPU generator gives the same numbers on any device
    gdev = generator.device if generator is not None else torch.device("cpu")
    return torch.randn(tuple(shape), generator=generator, device=gdev, dtype=dtype).to(device)


class _Sampler:
    def __init__(self, schedule: NoiseSchedule, clip_x0: Optional[float] = None):
        self.schedule = schedule
        self.clip_x0 = clip_x0

    def _x0(self, model_fn: ModelFn, x: Tensor, t: Tensor) -> Tensor:
        x0 = model_fn(x, self.schedule.model_timesteps(t))
        return x0.clamp(-self.clip_x0, self.clip_x0) if self.clip_x0 is not None else x0

    def step(self, model_fn: ModelFn, x: Tensor, t: int, generator: Optional[torch.Generator]) -> Tensor:
        raise NotImplementedError

    @torch.no_grad()
    def sample(self, model_fn: ModelFn, shape: Sequence[int], *, generator: Optional[torch.Generator] = None,
               device: Union[str, torch.device] = "cpu", dtype: torch.dtype = torch.float32,
               noise: Optional[Tensor] = None, progress: bool = False, x_start: Optional[Tensor] = None,
               strength: float = 1.0) -> Tensor:
        """Run the reverse chain from ``x_T ~ N(0, I)`` (or ``noise``) and return x0 of ``shape``.

        ``x_start`` with ``strength < 1`` starts part-way instead (partial diffusion, "SDEdit", Meng et
        al. 2022): ``x_start`` is noised to the step ``strength`` of the way up the chain and only the
        remaining steps run, so the result keeps ``x_start``'s coarse timing and shape and varies its
        detail. ``strength=1`` (the default) ignores ``x_start``.
        """
        if not 0.0 < strength <= 1.0:
            raise ValueError(f"strength must be in (0, 1], got {strength}")
        x = noise.to(device=device, dtype=dtype) if noise is not None else _randn(shape, generator, device, dtype)
        first = self.schedule.num_steps - 1
        if x_start is not None and strength < 1.0:
            if tuple(x_start.shape) != tuple(x.shape):
                raise ValueError(f"x_start has shape {tuple(x_start.shape)}, expected {tuple(x.shape)}")
            # the respaced step whose training timestep is nearest to ``strength`` of the training chain
            # (rounding the respaced index instead is coarse and biased low for 5-10 sampling steps)
            target = strength * (self.schedule.train_steps - 1)
            first = int(np.argmin(np.abs(self.schedule.timestep_map.astype(np.float64) - target)))
            tt = torch.full((x.shape[0],), first, dtype=torch.long, device=x.device)
            x = self.schedule.q_sample(x_start.to(device=device, dtype=dtype), tt, x)
        steps = range(first, -1, -1)
        if progress:
            from tqdm.auto import tqdm
            steps = tqdm(steps, desc=type(self).__name__, leave=False, disable=None)  # None: TTY only
        for t in steps:
            x = self.step(model_fn, x, t, generator)
        return x


class DDPMSampler(_Sampler):
    """Ancestral sampling with the fixed-small (posterior) variance, as MDM samples."""

    def step(self, model_fn: ModelFn, x: Tensor, t: int, generator: Optional[torch.Generator]) -> Tensor:
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        x0 = self._x0(model_fn, x, tt)
        mean, _, logvar = self.schedule.posterior(x0, x, tt)
        if t == 0:
            return mean
        return mean + torch.exp(0.5 * logvar) * _randn(x.shape, generator, x.device, x.dtype)


class DDIMSampler(_Sampler):
    """DDIM (Song et al. 2021) on x0 predictions. ``eta=0``: deterministic; ``eta=1`` on the full
    schedule has the ancestral sampler's posterior variance (the two chains coincide)."""

    def __init__(self, schedule: NoiseSchedule, eta: float = 0.0, clip_x0: Optional[float] = None):
        super().__init__(schedule, clip_x0)
        if eta < 0:
            raise ValueError(f"eta must be >= 0, got {eta}")
        self.eta = float(eta)

    def step(self, model_fn: ModelFn, x: Tensor, t: int, generator: Optional[torch.Generator]) -> Tensor:
        s = self.schedule
        tt = torch.full((x.shape[0],), t, dtype=torch.long, device=x.device)
        x0 = self._x0(model_fn, x, tt)
        eps = s.eps_from_x0(x, tt, x0)
        ab, ab_prev = float(s.alphas_cumprod[t]), float(s.alphas_cumprod_prev[t])
        sigma = self.eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)) ** 0.5
        out = ab_prev ** 0.5 * x0 + max(1 - ab_prev - sigma ** 2, 0.0) ** 0.5 * eps
        if t == 0 or sigma == 0.0:
            return out
        return out + sigma * _randn(x.shape, generator, x.device, x.dtype)


def make_sampler(name: str, schedule: NoiseSchedule, steps: Optional[int] = None, eta: float = 0.0,
                 clip_x0: Optional[float] = None) -> _Sampler:
    """``"ddpm"`` or ``"ddim"`` over ``schedule`` respaced to ``steps`` (None: all training steps)."""
    sch = schedule.respace(steps) if steps is not None and steps != schedule.num_steps else schedule
    if name == "ddpm":
        return DDPMSampler(sch, clip_x0)
    if name == "ddim":
        return DDIMSampler(sch, eta=eta, clip_x0=clip_x0)
    raise ValueError(f"unknown sampler {name!r}; choose 'ddpm' or 'ddim'")


def classifier_free_guidance(model: torch.nn.Module, x: Tensor, t: Tensor, *, scale: float = 2.5,
                             text_emb: Optional[Tensor] = None, action: Optional[Tensor] = None,
                             mask: Optional[Tensor] = None) -> Tensor:
    """``uncond + scale * (cond - uncond)`` from ONE forward over the doubled batch.

    The second half of the batch carries ``force_uncond=True`` (text and action dropped); ``scale=1``
    skips the unconditional half.
    """
    b = x.shape[0]
    if scale == 1.0:
        return model(x, t, text_emb=text_emb, action=action, mask=mask)

    def dup(v: Optional[Tensor]) -> Optional[Tensor]:
        return None if v is None else torch.cat([v, v], 0)

    fu = torch.cat([torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool)]).to(x.device)
    out = model(dup(x), dup(t), text_emb=dup(text_emb), action=dup(action), mask=dup(mask), force_uncond=fu)
    cond, uncond = out[:b], out[b:]
    return uncond + scale * (cond - uncond)


def guided_model_fn(model: torch.nn.Module, *, scale: float = 2.5, text_emb: Optional[Tensor] = None,
                    action: Optional[Tensor] = None, mask: Optional[Tensor] = None) -> ModelFn:
    """Bind a denoiser and its conditions into the ``model_fn(x_t, t)`` that samplers call."""
    def fn(x: Tensor, t: Tensor) -> Tensor:
        return classifier_free_guidance(model, x, t, scale=scale, text_emb=text_emb, action=action, mask=mask)
    return fn
