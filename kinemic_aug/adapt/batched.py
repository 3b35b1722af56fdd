"""Many classes' adapters in one training run: stacked LoRA, one forward and one backward per step.

Why: a per-class adapter is what lets a new class cost one adapter, but training them one after
another runs ``C`` small forwards per step where one large one would do (a GPU idles on a batch of
16; a CPU pays the Python and kernel-launch overhead ``C`` times). :class:`BatchedKineMICTrainer`
holds the adapters of ``C`` jobs as stacked tensors and trains them together, each class seeing only
its own shots, windows and negatives.

Each class's adapter equals, to float tolerance, the one :class:`~.trainer.KineMICTrainer` trains
for that job alone with the same config and seed (``tests/test_adapt_batched.py`` checks it), so cache
keys need not know how an adapter was trained. What makes it so:

* **draws**: each class's step batch comes from :func:`~.trainer.draw_step` with that class's own
  ``(seed, step)`` generators: the call a lone trainer makes.
* **dropout**: a lone trainer seeds the global torch generator once per step (``forward_seed``) and its
  two target forwards draw every random mask from it, in module order (timestep LoRA, condition drop,
  input LoRA, positions, then per layer q/k/v LoRA, attention, out LoRA, residual and feed-forward
  dropouts, output LoRA). Here each class keeps its own generator state (:class:`ClassStreams`), and
  every random site of the batched forward (:class:`ClassDropout`, :class:`ClassSelfAttention`, the
  condition drop of :class:`ClassDenoiser`) runs the module's own code on that class's rows, cut to
  that class's own length, under that class's state (those classes live in :mod:`.stacked_target`): the same shapes in the same order, so the same masks.
* **padding**: the classes' batches are padded to the longest; padded frames are masked out of the
  attention keys and of every loss, so they change no valid output and get no gradient.
* **parameters**: LoRA ``A``/``B`` stacked ``[C, ...]`` (:class:`~..generator.models.lora.StackedLoRALinear`),
  one block of action-table rows per class, one MIC encoder and contrastive head (with its memory bank)
  per class. The loss is the sum of the classes' losses and no row mixes classes, so each slice's
  gradient is its own class's; gradient clipping is per class; AdamW is elementwise.
* **optimiser step count** is one per stacked tensor, so a group's classes are always at the same
  step (the runner in :mod:`.shard` groups resumed classes by step).

A class's state (:meth:`BatchedKineMICTrainer.state_dict`) is exactly what a lone trainer writes
(same keys; optimiser state in the lone trainer's parameter order), so a cache entry or resume
checkpoint written here is read by a lone trainer and the other way round.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..errors import CacheError
from ..generator.models.denoiser import MotionDenoiser
from ..generator.models.lora import load_stacked_lora
from ..generator.training.losses import masked_mse_per_sample
from ..generator.schedulers.noise_schedule import NoiseSchedule
from ..mining import ContrastiveHead, MICConfig, MICEncoder
from ..utils.checksum import with_checksum
from ..utils.device import resolve_device
from ..utils.io import atomic_torch_save
from ..utils.rng import seeded
from .config import AdaptConfig
from .data import SourcePool, TargetShots
from .batched_state import BatchedTrainerState
from .stacked_target import ClassStreams, build_class_target, pad_time
from .trainer import (KineMICTrainer, build_target_stream, check_inputs, draw_step, mining_terms, needs_prior_stream,
                      window_loss)


log = logging.getLogger(__name__)

#: classes per forward/backward pass by device type when not given. CPU: 1, measured
#: (``benchmarks/results/adapt_scale.md``): on one CPU thread a larger pass is not cheaper per class (the
#: work is matrix products that a single thread runs at the same rate whatever their size) and all 20 MSR
#: classes in one pass held 7 GB and took about 1.7x the CPU time of one class after another. Other
#: devices: the whole group (a GPU is what a batch of 16 leaves idle; not measured here).
DEFAULT_MICRO_CLASSES = {"cpu": 1}

#: config fields that may differ between the jobs of one batched run (they do not change the arithmetic)
FREE_FIELDS = ("seed", "progress", "device", "save_every", "batched", "group_size")


@dataclass
class AdapterJob:
    """One adapter to train: exactly what :class:`~.trainer.KineMICTrainer` would be given for it.

    ``name`` is for messages ("class 3 (bend)"); ``classes`` the global class ids kept in the state."""

    shots: TargetShots
    pool: Optional[SourcePool]
    cfg: AdaptConfig
    classes: List[int] = field(default_factory=list)
    name: str = ""


def _structure(cfg: AdaptConfig) -> Dict[str, Any]:
    return {k: v for k, v in cfg.to_dict().items() if k not in FREE_FIELDS}


class BatchedKineMICTrainer(BatchedTrainerState):
    """Trains the adapters of ``jobs`` together (see the module docstring).

    All jobs share ``base`` and ``schedule``, and their configs may differ only in :data:`FREE_FIELDS`
    (the seed, mostly). ``base`` becomes the frozen prior stream in place, as with the lone trainer.
    ``bucket_slack``, ``micro_classes``: a step runs its forwards and backward per bucket of classes of
    similar length (:meth:`length_buckets`), at most ``micro_classes`` classes each; a larger slack means
    fewer, more padded forwards (``inf`` with a large ``micro_classes``: one forward for all classes).
    ``micro_classes`` defaults to :data:`DEFAULT_MICRO_CLASSES` of the device.
    """

    def __init__(self, base: MotionDenoiser, schedule: NoiseSchedule, jobs: Sequence[AdapterJob],
                 bucket_slack: float = 0.1, micro_classes: Optional[int] = None):
        if not jobs:
            raise ValueError("no adapter jobs")
        self.jobs = list(jobs)
        self.cfg = cfg = self.jobs[0].cfg
        ref = _structure(cfg)
        for j in self.jobs[1:]:
            diff = sorted(k for k, v in _structure(j.cfg).items() if ref.get(k) != v)
            if diff:
                raise ValueError(f"{j.name or 'a job'}: config differs from {self.jobs[0].name or 'the first job'} in "
                                 f"{diff}; one batched run trains jobs whose configs differ only in {FREE_FIELDS}")
        self.device = resolve_device(cfg.device)
        self.schedule = schedule
        self.bucket_slack = float(bucket_slack)
        if micro_classes is None:
            micro_classes = DEFAULT_MICRO_CLASSES[self.device.type] if self.device.type in DEFAULT_MICRO_CLASSES else 10**9
        if int(micro_classes) < 1:
            raise ValueError(f"micro_classes must be >= 1, got {micro_classes}")
        self.micro_classes = int(micro_classes)
        self.needs_prior = needs_prior_stream(cfg)
        for j in self.jobs:
            check_inputs(base, j.shots, j.pool, j.cfg)
        self.prior = base.to(self.device).eval()
        for p in self.prior.parameters():
            p.requires_grad_(False)
        self.actions = [j.shots.num_classes for j in self.jobs]
        self.offsets = np.concatenate([[0], np.cumsum(self.actions)]).astype(np.int64)
        self.target, self.batch = build_class_target(self.prior, cfg, self.actions)
        self.target.to(self.device)
        self._init_from_lone_streams()
        self.mics: List[MICEncoder] = []
        self.heads: List[ContrastiveHead] = []
        width = base.config.width
        for j in self.jobs:
            with seeded(int(j.cfg.seed)):  # the lone trainer's seeded MIC init
                mic = MICEncoder(MICConfig(in_dim=width, hidden=cfg.mic_hidden, out_dim=cfg.mic_hidden))
            self.mics.append(mic.to(self.device))
            self.heads.append(ContrastiveHead(tau=cfg.tau, bank_size=cfg.bank_size).to(self.device))
        self.target_params = [(n, p) for n, p in self.target.named_parameters() if p.requires_grad]
        params = [p for _, p in self.target_params]
        if self.needs_prior:
            for mic, head in zip(self.mics, self.heads):
                params += list(mic.parameters()) + list(head.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
        self.step = 0
        self.histories: List[List[Dict[str, float]]] = [[] for _ in self.jobs]

    def _init_from_lone_streams(self) -> None:
        """Start every class where a lone trainer's target stream starts (built once per seed and table size)."""
        lone: Dict[Tuple[int, int], MotionDenoiser] = {}
        with torch.no_grad():
            for k, j in enumerate(self.jobs):
                key = (int(j.cfg.seed), int(self.actions[k]))
                if key not in lone:
                    lone[key] = build_target_stream(self.prior, self.actions[k], j.cfg)
                m = lone[key]
                self.target.embed_action[self.offsets[k]:self.offsets[k + 1]].copy_(m.embed_action)
                if self.cfg.lora_targets:
                    from ..generator.models.lora import lora_state_dict
                    load_stacked_lora(self.target, k, lora_state_dict(m))
            first = next(iter(lone.values()))
            self.lone_names = [n for n, p in first.named_parameters() if p.requires_grad]

    # ------------------------------------------------------------------ one step
    def length_buckets(self, frames: Sequence[int]) -> List[List[int]]:
        """Classes grouped for the forward/backward passes of a step: sorted by padded length, a bucket's
        longest at most ``1 + bucket_slack`` times its shortest (little padding; a class's length is that of
        its longest drawn shot, nearly the same every step) and at most ``micro_classes`` classes."""
        order = sorted(range(len(frames)), key=lambda k: (frames[k], k))
        buckets: List[List[int]] = []
        for k in order:
            if (buckets and frames[k] <= (1.0 + self.bucket_slack) * frames[buckets[-1][0]]
                    and len(buckets[-1]) < self.micro_classes):
                buckets[-1].append(k)
            else:
                buckets.append([k])
        return buckets

    def _target_forward(self, bucket: List[int], inputs: Dict[int, Tuple[Tensor, Tensor]], draws, frames,
                        streams: ClassStreams) -> Dict[int, Tuple[Tensor, Tensor]]:
        """The target stream on the bucket's classes' ``(x, mask)`` in one forward; returns each class's
        ``(x0 prediction, features)`` cut to its own length."""
        b = self.cfg.batch_size
        total = max(frames[k] for k in bucket)
        self.batch.configure([(k, i * b, (i + 1) * b) for i, k in enumerate(bucket)], [frames[k] for k in bucket],
                             total, streams)
        xhat, h = self.target(torch.cat([pad_time(inputs[k][0], total) for k in bucket]),
                              torch.cat([draws[k].t_model for k in bucket]),
                              text_emb=torch.cat([draws[k].text_t for k in bucket]),
                              action=torch.cat([draws[k].yt + int(self.offsets[k]) for k in bucket]),
                              mask=torch.cat([pad_time(inputs[k][1], total) for k in bucket]),
                              return_features=True)
        return {k: (xc[:, :frames[k]], hc[:, :frames[k]])
                for k, xc, hc in zip(bucket, self.batch.split(xhat), self.batch.split(h))}

    def train_step(self) -> List[Dict[str, float]]:
        """One step of every class: per bucket (:meth:`length_buckets`) the two target forwards and the
        backward of that bucket's loss, the gradients accumulating (each class's slices get its own only);
        then per-class clipping and one optimiser step. Backward per bucket bounds the memory a step holds."""
        cfg, dev = self.cfg, self.device
        draws = [draw_step(j.shots, j.pool, j.cfg, self.schedule, self.step, dev, self.needs_prior) for j in self.jobs]
        frames = [d.x0_t.shape[1] for d in draws]
        streams = ClassStreams([d.forward_seed for d in draws], dev)
        logs: List[Dict[str, float]] = [{} for _ in draws]
        losses: List[float] = [0.0] * len(draws)
        self.target.train()
        self.optimizer.zero_grad(set_to_none=True)
        with torch.random.fork_rng(devices=[] if dev.type == "cpu" else [dev]):
            for bucket in self.length_buckets(frames):
                first = self._target_forward(bucket, {k: (draws[k].xt_t, draws[k].mask_t) for k in bucket}, draws,
                                             frames, streams)
                part: Dict[int, Tensor] = {}
                for k in bucket:
                    d = draws[k]
                    l_rec = masked_mse_per_sample(first[k][0], d.x0_t, d.mask_t).mean()
                    part[k] = cfg.lambda_rec * l_rec
                    logs[k]["rec"] = l_rec.item()
                if self.needs_prior:
                    self._prior_terms(bucket, draws, frames, streams, {k: first[k][1] for k in bucket}, part, logs)
                sum(part.values()).backward()
                for k in bucket:
                    losses[k] = part[k].item()
        if cfg.grad_clip:
            self._clip_per_class(cfg.grad_clip)
        self.optimizer.step()
        for head in self.heads:
            head.clamp_()
        self.step += 1
        for k, lg in enumerate(logs):
            lg["loss"] = losses[k]
            lg["step"] = self.step
            self.histories[k].append(lg)
        return logs

    def _prior_terms(self, bucket: List[int], draws, frames, streams, h_t: Dict[int, Tensor],
                     part: Dict[int, Tensor], logs: List[Dict[str, float]]) -> None:
        s_frames = {k: draws[k].x0_s.shape[1] for k in bucket}
        h_s_k: Dict[int, Tensor] = {}
        with torch.no_grad():  # the prior stream (eval mode: nothing random), one forward per source length
            for length in sorted(set(s_frames.values())):  # (padded keys would round differently, see ClassSelfAttention)
                ks = [k for k in bucket if s_frames[k] == length]
                _, h_s = self.prior(torch.cat([draws[k].xt_s for k in ks]), torch.cat([draws[k].t_model_s for k in ks]),
                                    text_emb=torch.cat([draws[k].text_s for k in ks]),
                                    mask=torch.cat([draws[k].mask_s for k in ks]), return_features=True)
                for k, hk in zip(ks, h_s.split([len(draws[k].y_s) for k in ks], 0)):
                    h_s_k[k] = hk
        extras, wins, zts = {}, {}, {}
        for k in bucket:
            extras[k], wins[k], zts[k] = mining_terms(self.jobs[k].cfg, self.schedule, self.mics[k], self.heads[k],
                                                      draws[k], h_s_k[k], h_t[k], logs[k])
        if wins[bucket[0]] is not None:
            second = self._target_forward(bucket, {k: (wins[k].x_in, wins[k].mask) for k in bucket}, draws, frames,
                                          streams)
            for k in bucket:
                extras[k] = extras[k] + window_loss(self.jobs[k].cfg, self.mics[k], wins[k], second[k][0], second[k][1],
                                                    zts[k], logs[k])
        for k in bucket:
            part[k] = part[k] + extras[k]

    def _clip_per_class(self, max_norm: float) -> None:
        """``clip_grad_norm_`` of each class over its own parameters (its LoRA slices, action rows, MIC;
        not the temperature), as the lone trainer clips: the classes never share a norm."""
        K = len(self.jobs)
        cols: List[Tensor] = []  # [K] per-tensor norms, in the lone trainer's parameter order
        for n, p in self.target_params:
            if p.grad is None:
                continue
            if n == "embed_action":
                cols.append(torch.stack([torch.linalg.vector_norm(p.grad[self.offsets[k]:self.offsets[k + 1]])
                                         for k in range(K)]))
            else:
                cols.append(torch.linalg.vector_norm(p.grad.reshape(K, -1), dim=1))
        if self.needs_prior:
            mic_params = [[q for q in mic.parameters() if q.grad is not None] for mic in self.mics]
            for i in range(len(mic_params[0])):
                cols.append(torch.stack([torch.linalg.vector_norm(mic_params[k][i].grad) for k in range(K)]))
        if not cols:
            return
        total = torch.linalg.vector_norm(torch.stack(cols, 1), dim=1)
        coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        with torch.no_grad():
            for n, p in self.target_params:
                if p.grad is None:
                    continue
                if n == "embed_action":
                    p.grad.mul_(torch.repeat_interleave(coef, torch.as_tensor(self.actions, device=coef.device))[:, None])
                else:
                    p.grad.mul_(coef.view(K, *([1] * (p.grad.dim() - 1))))
            if self.needs_prior:
                for k in range(K):
                    for q in mic_params[k]:
                        q.grad.mul_(coef[k])

    # ------------------------------------------------------------------ loop
    def train(self, checkpoints: Optional[Sequence[Optional[Union[str, Path]]]] = None,
              callback: Optional[Callable[[List[Dict[str, float]]], None]] = None,
              stop_after: Optional[int] = None) -> List[List[Dict[str, float]]]:
        """Run to ``cfg.steps``; every ``save_every`` steps and at the end write each class's resume
        checkpoint (``checkpoints[k]``, the lone trainer's format). A group resumes when every class has
        a checkpoint at the same step (:meth:`load_states`). ``stop_after`` simulates interruptions."""
        cfg = self.cfg
        if checkpoints is not None:
            if len(checkpoints) != len(self.jobs):
                raise ValueError(f"{len(checkpoints)} checkpoint paths for {len(self.jobs)} jobs")
            found = [KineMICTrainer._read(p) if p is not None and Path(p).exists() else None for p in checkpoints]
            if any(s is not None for s in found):
                self.load_states(found)
        bar = None
        if cfg.progress and cfg.steps > self.step:
            from tqdm.auto import tqdm
            bar = tqdm(total=cfg.steps, initial=self.step, desc=f"adapt x{len(self.jobs)}", leave=False, disable=None)
        done = 0
        while self.step < cfg.steps:
            logs = self.train_step()
            done += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{float(np.mean([lg['loss'] for lg in logs])):.3f}")
            if callback is not None:
                callback(logs)
            if checkpoints is not None and (self.step % cfg.save_every == 0 or self.step == cfg.steps):
                for k, p in enumerate(checkpoints):
                    if p is None:
                        continue
                    try:
                        atomic_torch_save(p, with_checksum(self.state_dict(k, include_optimizer=True)))
                    except OSError as e:
                        raise CacheError(f"cannot write resume checkpoint {p}: {e}") from e
            if stop_after is not None and done >= stop_after:
                break
        if bar is not None:
            bar.close()
        self.target.eval()
        return self.histories
