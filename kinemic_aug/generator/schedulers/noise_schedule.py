"""Noise schedules for Gaussian diffusion, kept apart from the model and the samplers.

A :class:`NoiseSchedule` is the table of betas and everything derived from them (cumulative
alphas, posterior coefficients). It knows how to noise clean data (:meth:`NoiseSchedule.q_sample`)
and the posterior ``q(x_{t-1} | x_t, x0)`` that ancestral sampling needs, nothing about networks.

Respacing (:meth:`NoiseSchedule.respace`) keeps a subset of the training timesteps and recomputes
betas so the kept steps have the same cumulative alphas; ``timestep_map`` translates the new step
index back to the index the model was trained on. This is how a model trained with 50–1000 steps is
sampled with 10–50.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Dict, Optional, Sequence

import numpy as np
import torch
from torch import Tensor

SCHEDULES = ("cosine", "linear")


@dataclass
class ScheduleConfig:
    """``kind``: ``"cosine"`` (Nichol & Dhariwal; MDM's default) or ``"linear"`` (DDPM, scaled by
    1000/T so any step count spans the same noise range). ``num_steps``: training steps."""

    kind: str = "cosine"
    num_steps: int = 1000

    def to_dict(self) -> Dict:
        return asdict(self)


def make_betas(kind: str, num_steps: int) -> np.ndarray:
    """Beta table (float64) of a named schedule."""
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if kind == "linear":
        scale = 1000.0 / num_steps
        return np.linspace(scale * 1e-4, scale * 0.02, num_steps, dtype=np.float64)
    if kind == "cosine":
        def abar(s: float) -> float:
            return math.cos((s + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1.0 - abar((i + 1) / num_steps) / abar(i / num_steps), 0.999)
                         for i in range(num_steps)], dtype=np.float64)
    raise ValueError(f"unknown schedule {kind!r}; choose from {SCHEDULES}")


def spaced_timesteps(num_steps: int, num_sample_steps: int) -> np.ndarray:
    """``num_sample_steps`` evenly spaced indices in ``0..num_steps-1``, always keeping both ends."""
    if not 1 <= num_sample_steps <= num_steps:
        raise ValueError(f"cannot respace {num_steps} steps to {num_sample_steps}")
    return np.unique(np.round(np.linspace(0, num_steps - 1, num_sample_steps)).astype(np.int64))


class NoiseSchedule:
    """Betas and derived quantities; index ``t`` runs ``0..num_steps-1`` (0 = least noise)."""

    def __init__(self, betas: np.ndarray, timestep_map: Optional[Sequence[int]] = None, kind: str = "custom",
                 train_steps: Optional[int] = None):
        b = np.asarray(betas, dtype=np.float64)
        if b.ndim != 1 or not np.all((b > 0) & (b <= 1)):
            raise ValueError("betas must be a 1-D array in (0, 1]")
        self.kind = kind
        self.betas = b
        self.alphas = 1.0 - b
        self.alphas_cumprod = np.cumprod(self.alphas)
        self.alphas_cumprod_prev = np.append(1.0, self.alphas_cumprod[:-1])
        self.sqrt_alphas_cumprod = np.sqrt(self.alphas_cumprod)
        self.sqrt_one_minus_alphas_cumprod = np.sqrt(1.0 - self.alphas_cumprod)
        # posterior q(x_{t-1} | x_t, x0)
        self.posterior_variance = b * (1.0 - self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        # at t = 0 the variance is 0; log of it is clipped to the t = 1 value (no noise is added at t = 0)
        self.posterior_log_variance_clipped = np.log(np.append(
            self.posterior_variance[1] if len(b) > 1 else b[0], self.posterior_variance[1:]))
        self.posterior_mean_coef1 = b * np.sqrt(self.alphas_cumprod_prev) / (1.0 - self.alphas_cumprod)
        self.posterior_mean_coef2 = (1.0 - self.alphas_cumprod_prev) * np.sqrt(self.alphas) / (1.0 - self.alphas_cumprod)
        self.timestep_map = (np.arange(len(b), dtype=np.int64) if timestep_map is None
                             else np.asarray(timestep_map, dtype=np.int64))
        if len(self.timestep_map) != len(b):
            raise ValueError("timestep_map must have one entry per beta")
        self.train_steps = int(train_steps if train_steps is not None else len(b))

    # ------------------------------------------------------------------ construction
    @classmethod
    def make(cls, kind: str = "cosine", num_steps: int = 1000) -> "NoiseSchedule":
        return cls(make_betas(kind, num_steps), kind=kind)

    @classmethod
    def from_config(cls, cfg: ScheduleConfig) -> "NoiseSchedule":
        return cls.make(cfg.kind, cfg.num_steps)

    def respace(self, num_sample_steps: int) -> "NoiseSchedule":
        """A schedule over ``num_sample_steps`` of this schedule's steps with matching cumulative alphas."""
        keep = spaced_timesteps(self.num_steps, num_sample_steps)
        last, betas = 1.0, []
        for i in keep:
            betas.append(1.0 - self.alphas_cumprod[i] / last)
            last = self.alphas_cumprod[i]
        return NoiseSchedule(np.array(betas), timestep_map=self.timestep_map[keep], kind=self.kind,
                             train_steps=self.train_steps)

    @property
    def num_steps(self) -> int:
        return len(self.betas)

    def __repr__(self) -> str:
        return f"NoiseSchedule({self.kind!r}, {self.num_steps} steps of {self.train_steps})"

    # ------------------------------------------------------------------ tensors
    def _table(self, name: str, device: torch.device, dtype: torch.dtype) -> Tensor:
        """The array ``name`` as a tensor on ``device`` in ``dtype``, made once per (device, dtype): sampling
        and training index it every step, and a copy per call would move it to the GPU every time."""
        tables = self.__dict__.setdefault("_tables", {})
        key = (name, str(device), dtype)
        if key not in tables:
            tables[key] = torch.as_tensor(getattr(self, name), dtype=torch.float64).to(device=device, dtype=dtype)
        return tables[key]

    def _at(self, name: str, t: Tensor, like: Tensor) -> Tensor:
        """``<name>[t]`` as a tensor broadcastable against ``like`` (``[B, 1, ...]``)."""
        v = self._table(name, like.device, like.dtype)[t.long().to(like.device)]
        return v.view(-1, *([1] * (like.dim() - 1)))

    def model_timesteps(self, t: Tensor) -> Tensor:
        """Map indices of this (possibly respaced) schedule to the training timesteps the model knows."""
        return self._table("timestep_map", t.device, torch.int64)[t.long()]

    def q_sample(self, x0: Tensor, t: Tensor, noise: Tensor) -> Tensor:
        """Sample ``x_t ~ q(x_t | x0) = N(sqrt(abar_t) x0, (1 - abar_t) I)`` with the given noise."""
        return self._at("sqrt_alphas_cumprod", t, x0) * x0 + self._at("sqrt_one_minus_alphas_cumprod", t, x0) * noise

    def posterior(self, x0: Tensor, xt: Tensor, t: Tensor):
        """Mean, variance and clipped log-variance of ``q(x_{t-1} | x_t, x0)``."""
        mean = self._at("posterior_mean_coef1", t, xt) * x0 + self._at("posterior_mean_coef2", t, xt) * xt
        return mean, self._at("posterior_variance", t, xt), self._at("posterior_log_variance_clipped", t, xt)

    def eps_from_x0(self, xt: Tensor, t: Tensor, x0: Tensor) -> Tensor:
        """The noise implied by an x0 prediction: ``(x_t - sqrt(abar) x0) / sqrt(1 - abar)``."""
        return (xt - self._at("sqrt_alphas_cumprod", t, xt) * x0) / self._at("sqrt_one_minus_alphas_cumprod", t, xt)

    def to_dict(self) -> Dict:
        return {"kind": self.kind, "num_steps": self.train_steps}
