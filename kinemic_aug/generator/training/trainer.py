"""Pretraining the generalist text-to-motion denoiser on a captioned :class:`MotionCorpus`: the trainer.

Three parts, each swappable, each in its own module of this package:

* :class:`MotionTextDataset` (:mod:`.dataset`): resamples clips to one frame rate, checks the layout, fits the
  representation's normalisation, embeds every distinct caption once, and draws padded, masked
  batches with one caption each, cropped one of two ways (``PretrainConfig.crop``):

  - ``"random"`` (the original recipe, default so resumed runs continue unchanged): random crops of
    ``min_seconds``–``max_seconds`` paired with the *whole clip's* caption. On chained clips ("a
    person waves, then kicks") a crop often cuts the captioned action away, so text and motion
    disagree;
  - ``"caption"``: a clip that fits ``max_seconds`` is used whole; a longer one is cropped only
    inside a captioned span (the segment sub-clips of ``expand_segments`` / HumanML3D sub-clips,
    with that span's caption), or, without spans, as the longest window allowed with the clip's
    caption, so the crop covers as much of the captioned motion as possible.
* :func:`masked_mse` (:mod:`.losses`): the x0 loss on valid frames only; :func:`masked_velocity_mse`: an optional
  velocity term (``lambda_vel``) against muted, over-smoothed samples.
* :class:`GeneratorTrainer` (here): AdamW + gradient clipping + EMA, periodic atomic checkpoints, tqdm
  progress, a loss-curve PNG and exact resume.

Two step engines (``PretrainConfig.engine``), the same recipe and loss:

* ``"fast"`` (default): the batch is sorted by crop length and run packed (the denoiser's
  ``groups`` forward): only valid frames go through the per-token layers, and attention runs per
  group of similar lengths (:mod:`..length_groups`), each padded only to its own longest crop;
  dropout uses :func:`~..models.layers.fast_dropout`; AdamW runs as PyTorch's fused kernel. Padding is
  40-60 % of a padded batch's frame tokens with 1-10 s crops, and on a CPU the float Bernoulli
  masks of ``torch.nn`` dropout take 15-20 % of a padded step; both costs go
  (``benchmarks/pretrain_speed.py`` measures the two engines). Because padding keys are masked,
  every valid frame gets the same prediction as in one padded batch (to float rounding); what
  changes is the random stream of dropout (and which clip gets which condition-dropout draw), so
  a run is reproducible and resumes exactly, but does not repeat a ``"legacy"`` run draw for draw.
* ``"legacy"``: the original step (one padded batch, ``torch.nn`` dropout, default AdamW), kept
  so that runs started before the fast engine can be continued draw for draw and for speed
  comparisons.

Reproducibility: all randomness flows from two generators seeded by ``config.seed``: a numpy
generator for crops and captions, and a CPU ``torch.Generator`` for timesteps, noise and a per-step
seed under which dropout and condition dropout run (inside ``torch.random.fork_rng``, so the
caller's global RNG is untouched); both engines consume the two generators alike. Both generator
states go into every checkpoint, so a run resumed from step k gives bit-identical weights to one
that never stopped (same device, same threads, same engine).
"""
from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ...errors import CacheError, DataError
from ...utils.device import resolve_device
from ...utils.rng import seeded
from ..checkpoint import load_checkpoint, save_checkpoint
from ..models.denoiser import MotionDenoiser
from ..length_groups import CPU_COST, GPU_COST, length_groups
from ..schedulers.noise_schedule import NoiseSchedule
from .config import PretrainConfig, _RECIPE_FIELDS
from .dataset import MotionTextDataset
from .losses import (masked_mse, masked_mse_per_sample, masked_velocity_mse,
                     masked_velocity_mse_per_sample)
from .plotting import save_loss_plot

log = logging.getLogger(__name__)


class GeneratorTrainer:
    """Runs x0-prediction diffusion training of a :class:`MotionDenoiser` on a :class:`MotionTextDataset`.

    ``out``: checkpoint path, rewritten every ``save_every`` steps and at the end (atomic); the loss
    plot goes next to it as ``<out stem>.loss.png``. Call :meth:`resume` before :meth:`train` to
    continue from a checkpoint. Set ``timings = {}`` to accumulate wall seconds per stage of
    :meth:`train_step` (``data``, ``forward``, ``backward``, ``optimizer``, ``ema``), e.g. for profiling.
    """

    def __init__(self, model: MotionDenoiser, dataset: MotionTextDataset, config: PretrainConfig,
                 out: Optional[Union[str, Path]] = None, extra_config: Optional[Dict[str, Any]] = None):
        self.cfg = config
        self.device = resolve_device(config.device)
        self.model = model.to(self.device)
        self.dataset = dataset
        self.out = Path(out) if out is not None else None
        self.extra_config = dict(extra_config or {})
        if model.config.input_dim != dataset.rep.dim:
            raise DataError(f"denoiser input_dim {model.config.input_dim} != representation dim {dataset.rep.dim}",
                            field="input_dim")
        self.schedule = NoiseSchedule.make(config.schedule, config.diffusion_steps)
        params = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay,
                                           fused=self._fused_adamw())
        self.ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.step = 0
        self.timings: Optional[Dict[str, float]] = None
        self._t_mark = 0.0
        self._saved_step = -1
        self.losses: List[float] = []
        self.val_history: List[Tuple[int, float]] = []
        self.val_batches: List[Dict[str, Tensor]] = []
        self._val_model: Optional[MotionDenoiser] = None
        self.np_rng = np.random.default_rng(config.seed)
        self.gen = torch.Generator().manual_seed(config.seed)
        self.min_frames = max(1, int(round(config.min_seconds * dataset.fps)))
        self.max_frames = max(self.min_frames, int(round(config.max_seconds * dataset.fps)))
        if config.crop == "caption":
            long = [dataset.names[i] for i in dataset.unspanned_chains if len(dataset.joints[i]) > self.max_frames]
            if long:
                log.warning("crop='caption': %d chained clip(s) longer than max_seconds have no segment sub-clips "
                            "(e.g. %s), so their crops keep the whole chain's caption; expand the corpus with "
                            "'+segments'", len(long), long[0])

    # ------------------------------------------------------------------ one step
    def _fused_adamw(self) -> Optional[bool]:
        """The fast engine uses PyTorch's fused AdamW kernel (one pass over all parameters, a third
        of the per-tensor loop's time on a CPU; the same update to float rounding); the legacy
        engine keeps the default implementation, so it stays the original step bit for bit."""
        return True if self.cfg.engine == "fast" and self.device.type in ("cpu", "cuda") else None

    def _mark(self, stage: Optional[str]) -> None:
        """With :attr:`timings` set, charge the time since the last mark to ``stage`` (None: restart)."""
        if self.timings is None:
            return
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        now = time.perf_counter()
        if stage is not None:
            self.timings[stage] = self.timings.get(stage, 0.0) + now - self._t_mark
        self._t_mark = now

    def _update_ema(self) -> None:
        """``ema = d·ema + (1-d)·weights`` with a short warm-up of ``d``; one fused call over all
        floating tensors (the same arithmetic, bit for bit, as a per-tensor ``mul_``/``add_`` loop)."""
        d = min(self.cfg.ema_decay, (1.0 + self.step) / (10.0 + self.step))  # short warm-up
        with torch.no_grad():
            ema, live = [], []
            for k, v in self.model.state_dict().items():
                e = self.ema[k]
                if e.dtype.is_floating_point:
                    ema.append(e)
                    live.append(v.detach())
                else:
                    e.copy_(v)
            if ema:
                torch._foreach_mul_(ema, d)
                torch._foreach_add_(ema, live, alpha=1.0 - d)

    def _loss_per_sample(self, pred: Tensor, x0: Tensor, mask: Tensor) -> Tensor:
        loss = masked_mse_per_sample(pred, x0, mask)
        if self.cfg.lambda_vel > 0:
            loss = loss + self.cfg.lambda_vel * masked_velocity_mse_per_sample(pred, x0, mask)
        return loss

    def _forward_backward_legacy(self, x0: Tensor, mask: Tensor, text: Optional[Tensor], t: Tensor,
                                 noise: Tensor) -> Tensor:
        """The original step: one padded batch, one backward."""
        xt = self.schedule.q_sample(x0, t, noise)
        pred = self.model(xt, t, text_emb=text, mask=mask)
        loss = masked_mse(pred, x0, mask)
        if self.cfg.lambda_vel > 0:
            loss = loss + self.cfg.lambda_vel * masked_velocity_mse(pred, x0, mask)
        self._mark("forward")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._mark("backward")
        return loss.detach()

    def _forward_backward_packed(self, x0: Tensor, mask: Tensor, text: Optional[Tensor], t: Tensor,
                                 noise: Tensor) -> Tensor:
        """The same loss (mean over clips of each clip's loss) with the batch sorted by crop length
        and run packed: valid frames only through the per-token layers, attention per group of
        similar lengths (:mod:`..length_groups`)."""
        lengths = mask.sum(1).cpu()
        order = torch.argsort(lengths, stable=True)
        cost = GPU_COST if self.device.type == "cuda" else CPU_COST
        groups = length_groups(lengths[order].tolist(), cost)
        idx = order.to(self.device)
        x0, mask, t = x0[idx], mask[idx], t[idx]
        xt = self.schedule.q_sample(x0, t, noise[idx])
        pred = self.model(xt, t, text_emb=text[idx] if text is not None else None, mask=mask, groups=groups)
        loss = self._loss_per_sample(pred, x0, mask).mean()
        self._mark("forward")
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._mark("backward")
        return loss.detach()

    def train_step(self) -> float:
        self._mark(None)
        batch = self.dataset.sample_batch(self.np_rng, self.cfg.batch_size, self.min_frames, self.max_frames,
                                          crop=self.cfg.crop)
        x0 = batch["x"].to(self.device)
        mask = batch["mask"].to(self.device)
        text = batch["text_emb"].to(self.device) if batch["text_emb"] is not None else None
        b = x0.shape[0]
        t = torch.randint(0, self.schedule.num_steps, (b,), generator=self.gen)
        noise = torch.randn(x0.shape, generator=self.gen).to(self.device)
        step_seed = int(torch.randint(0, 2 ** 62, (1,), generator=self.gen))
        fast = self.cfg.engine == "fast"
        self._mark("data")
        self.model.train()
        self.model.set_fast_dropout(fast)
        with seeded(step_seed):
            t = t.to(self.device)
            step = self._forward_backward_packed if fast else self._forward_backward_legacy
            loss = step(x0, mask, text, t, noise)
            if self.cfg.grad_clip and self.cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad],
                                               self.cfg.grad_clip)
            self.optimizer.step()
        self._mark("optimizer")
        self.step += 1
        self._update_ema()
        value = float(loss)
        self._mark("ema")
        if not math.isfinite(value):
            raise FloatingPointError(f"loss became {value} at step {self.step}")
        self.losses.append(value)
        return value

    # ------------------------------------------------------------------ loop
    def train(self, steps: Optional[int] = None) -> List[float]:
        """Train until ``steps`` total steps (default ``config.steps``), saving on schedule."""
        target = self.cfg.steps if steps is None else int(steps)
        from tqdm.auto import tqdm

        bar = tqdm(total=target, initial=self.step, desc="pretrain", disable=None if self.cfg.progress else True,
                   leave=False)  # None: on a terminal only
        try:
            while self.step < target:
                loss = self.train_step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                every = self.cfg.val_every or self.cfg.save_every
                if self.val_batches and every > 0 and self.step % every == 0:
                    self.validate()
                if self.out is not None and self.cfg.save_every > 0 and self.step % self.cfg.save_every == 0:
                    self.save()
        finally:
            bar.close()
        if self.out is not None and self._saved_step != self.step:
            self.save()
        return self.losses

    # ------------------------------------------------------------------ validation
    def set_validation(self, dataset: "MotionTextDataset", batches: int = 4, seed: int = 12345) -> None:
        """Fixed held-out batches (crops, captions, timesteps and noise drawn once from ``seed``), so
        every validation measures the same thing; ``dataset`` must share the training statistics."""
        rng = np.random.default_rng(seed)
        g = torch.Generator().manual_seed(seed)
        self.val_batches = []
        for _ in range(batches):
            b = dataset.sample_batch(rng, self.cfg.batch_size, self.min_frames, self.max_frames, crop=self.cfg.crop)
            b["t"] = torch.randint(0, self.schedule.num_steps, (b["x"].shape[0],), generator=g)
            b["noise"] = torch.randn(b["x"].shape, generator=g)
            self.val_batches.append(b)

    def validate(self) -> float:
        """The EMA model's masked x0 MSE on the validation batches (eval mode), appended to
        :attr:`val_history`."""
        import copy

        if self._val_model is None:
            self._val_model = copy.deepcopy(self.model)
        m = self._val_model
        m.load_state_dict(self.ema)
        m.eval()
        total, n = 0.0, 0
        with torch.no_grad():
            for b in self.val_batches:
                x0, mask = b["x"].to(self.device), b["mask"].to(self.device)
                text = b["text_emb"].to(self.device) if b["text_emb"] is not None else None
                xt = self.schedule.q_sample(x0, b["t"].to(self.device), b["noise"].to(self.device))
                pred = m(xt, b["t"].to(self.device), text_emb=text, mask=mask)
                total += float(masked_mse(pred, x0, mask)) * x0.shape[0]
                n += x0.shape[0]
        value = total / max(n, 1)
        self.val_history.append((int(self.step), value))
        log.info("step %d: validation x0 loss %.5f", self.step, value)
        return value

    # ------------------------------------------------------------------ state
    def config_dict(self) -> Dict[str, Any]:
        return {"denoiser": self.model.config.to_dict(), "schedule": self.schedule.to_dict(),
                "train": self.cfg.to_dict(), **self.extra_config}

    def state_dict(self) -> Dict[str, Any]:
        return {
            "step": self.step,
            "model": {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()},
            "ema": {k: v.detach().cpu().clone() for k, v in self.ema.items()},
            "optimizer": self.optimizer.state_dict(),
            "rng": {"numpy": json.dumps(self.np_rng.bit_generator.state), "torch": self.gen.get_state()},
            "config": self.config_dict(),
            "representation": self.dataset.rep.state_dict(),
            "losses": torch.tensor(self.losses, dtype=torch.float64),
            "val_history": torch.tensor(self.val_history, dtype=torch.float64).reshape(-1, 2),
            "corpus": {"name": self.dataset.corpus_name, "fingerprint": self.dataset.corpus_fingerprint},
        }

    def save(self, path: Optional[Union[str, Path]] = None) -> Path:
        path = Path(path) if path is not None else self.out
        if path is None:
            raise ValueError("no checkpoint path: pass one or set `out`")
        try:
            p = save_checkpoint(path, self.state_dict())
        except OSError as e:  # full disk, unwritable folder: the previous checkpoint stays intact
            raise CacheError(f"cannot write checkpoint {path}: {e}") from e
        self._saved_step = self.step
        if self.cfg.plot:
            save_loss_plot(self.losses, path.with_name(path.stem + ".loss.png"))
        log.info("saved %s at step %d", p, self.step)
        return p

    def _check_compatible(self, ckpt: Dict[str, Any], path: Union[str, Path], field: str) -> None:
        """A checkpoint to start from must have this trainer's denoiser config (else :class:`DataError` on
        ``field``); one trained on another corpus only warns."""
        if ckpt["config"]["denoiser"] != self.model.config.to_dict():
            raise DataError(f"checkpoint denoiser config {ckpt['config']['denoiser']} differs from "
                            f"{self.model.config.to_dict()}", source=str(path), field=field)
        if ckpt.get("corpus", {}).get("fingerprint") != self.dataset.corpus_fingerprint:
            log.warning("%s was trained on a different corpus; continuing anyway", path)

    def resume(self, path: Union[str, Path]) -> "GeneratorTrainer":
        """Restore weights, EMA, optimizer, step, losses, RNG states and normalisation from ``path``.
        The denoiser config must equal this trainer's; a different corpus only warns."""
        ckpt = load_checkpoint(path, map_location="cpu")
        self._check_compatible(ckpt, path, field="config")
        # checkpoints from before an option existed ran with its default (from_dict fills it in)
        was = PretrainConfig.from_dict(ckpt["config"].get("train", {})).to_dict()
        changed = {k: (was[k], getattr(self.cfg, k)) for k in _RECIPE_FIELDS if was[k] != getattr(self.cfg, k)}
        if changed:
            log.warning("%s was trained with a different recipe %s (checkpoint -> now); continuing with the new one",
                        path, changed)
        if was["engine"] != self.cfg.engine:
            log.info("%s was trained with engine %r; continuing with %r (same recipe, other random draws than "
                     "an uninterrupted run; set engine=%r to continue draw for draw)", path, was["engine"],
                     self.cfg.engine, was["engine"])
        self.model.load_state_dict(ckpt["model"])
        self.ema = {k: v.to(self.device).clone() for k, v in ckpt["ema"].items()}
        self.optimizer.load_state_dict(ckpt["optimizer"])
        for group in self.optimizer.param_groups:  # the implementation is this run's, not the checkpoint's
            group["fused"], group["foreach"] = self._fused_adamw(), None
        self.step = int(ckpt["step"])
        self._saved_step = self.step
        self.losses = [float(x) for x in ckpt["losses"].tolist()]
        vh = ckpt.get("val_history")
        self.val_history = [(int(a), float(b)) for a, b in vh.tolist()] if vh is not None else []
        self.np_rng.bit_generator.state = json.loads(ckpt["rng"]["numpy"])
        self.gen.set_state(ckpt["rng"]["torch"])
        self.dataset.rep.load_state_dict(ckpt["representation"])
        return self

    def continue_from(self, path: Union[str, Path]) -> "GeneratorTrainer":
        """Start from the weights of a sampling-only checkpoint (:func:`~..checkpoint.export_inference_checkpoint`,
        e.g. a shipped generalist) and keep training it: live weights and EMA both start from its weights, the
        step count, loss and validation history and the normalisation statistics continue, the optimizer
        starts fresh and the random streams are reseeded from (seed, step). Not the same as :meth:`resume`
        (which restores the optimizer and RNG and gives the weights of an uninterrupted run): this is how a run
        goes on from a checkpoint that kept only its weights. The denoiser config must match."""
        ckpt = load_checkpoint(path, map_location="cpu")
        for field in ("config", "model", "representation", "step"):
            if field not in ckpt:
                raise DataError(f"not a generator checkpoint: no {field!r}", source=str(path), field=field)
        self._check_compatible(ckpt, path, field="config.denoiser")
        weights = ckpt["ema"] if ckpt.get("ema") else ckpt["model"]
        missing, unexpected = self.model.load_state_dict(weights, strict=False)
        # an exported checkpoint drops the sinusoidal position tables (rebuilt by the model); nothing else may differ
        bad = [k for k in missing if not k.endswith(".pe")] + list(unexpected)
        if bad:
            raise DataError(f"weights do not fit the denoiser: {bad[:5]}", source=str(path), field="model")
        self.ema = {k: v.detach().clone().to(self.device) for k, v in self.model.state_dict().items()
                    if k in self.ema}
        self.step = int(ckpt["step"])
        self._saved_step = self.step
        losses = ckpt.get("losses")
        self.losses = [float(x) for x in losses.tolist()] if losses is not None else []
        vh = ckpt.get("val_history")
        self.val_history = [(int(a), float(b)) for a, b in vh.tolist()] if vh is not None else []
        self.np_rng = np.random.default_rng([self.cfg.seed, self.step])
        self.gen.manual_seed(int(self.cfg.seed) * 1_000_003 + self.step)
        self.dataset.rep.load_state_dict(ckpt["representation"])
        self.extra_config["continued_from"] = {"path": str(path), "step": self.step,
                                               "weights": ckpt.get("exported_from", {}).get("weights", "model")}
        log.info("continuing from the weights of %s at step %d (fresh optimizer)", path, self.step)
        return self
