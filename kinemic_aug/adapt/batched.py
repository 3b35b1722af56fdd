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
  that class's own length, under that class's state: the same shapes in the same order, so the same masks.
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

import copy
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import CacheError
from ..generator.models import denoiser as _denoiser
from ..generator.models.denoiser import MotionDenoiser, SelfAttention
from ..generator.models.lora import AdapterRoute, load_stacked_lora, stack_lora, stacked_lora_state, stacked_modules
from ..generator.training.losses import masked_mse_per_sample
from ..generator.schedulers.noise_schedule import NoiseSchedule
from ..mining import ContrastiveHead, MICConfig, MICEncoder
from ..utils.checksum import with_checksum
from ..utils.device import resolve_device
from ..utils.io import atomic_torch_save
from ..utils.rng import seeded
from .config import AdaptConfig
from .data import SourcePool, TargetShots
from .trainer import (STATE_FORMAT, KineMICTrainer, build_target_stream, check_inputs,
                      draw_step, mining_terms, needs_prior_stream, window_loss)

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


# ---------------------------------------------------------------------------------------------- randomness
def _default_generator(device: torch.device) -> torch.Generator:
    if device.type == "cuda":
        return torch.cuda.default_generators[device.index if device.index is not None else torch.cuda.current_device()]
    return torch.default_generator


class ClassStreams:
    """One random stream per class: the state the device's default generator has after
    ``torch.manual_seed(seed)``, swapped in while that class's random ops run (:meth:`run`).

    Why swap the default generator instead of passing generators: the modules' own dropout code draws
    from the default generator and takes no ``generator`` argument; swapping runs that code unchanged."""

    def __init__(self, seeds: Sequence[int], device: torch.device):
        self.gen = _default_generator(device)
        self.states: List[Tensor] = []
        for s in seeds:
            g = torch.Generator(device=device)
            g.manual_seed(int(s))
            self.states.append(g.get_state())

    def run(self, k: int, fn: Callable[..., Any], *args: Any) -> Any:
        self.gen.set_state(self.states[k])
        try:
            return fn(*args)
        finally:
            self.states[k] = self.gen.get_state()


class ClassBatch(AdapterRoute):
    """The row layout of one batched forward: which rows are which class (the adapter route), each
    class's valid frame count (``frames``; the batch is padded to ``total``) and its random stream."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: List[int] = []
        self.total = 0
        self.streams: Optional[ClassStreams] = None

    def configure(self, segments: Sequence[Tuple[int, int, int]], frames: Optional[Sequence[int]] = None,
                  total: int = 0, streams: Optional[ClassStreams] = None) -> None:
        self.set_segments(segments)
        self.frames = [int(f) for f in frames] if frames is not None else []
        self.total = int(total)
        self.streams = streams

    def cut(self, i: int, size: int) -> int:
        """Class ``i``'s extent of a sequence dimension of ``size`` (frames, or frames + condition token)."""
        extra = size - self.total
        if extra not in (0, 1):
            raise RuntimeError(f"a sequence dimension of {size} matches neither {self.total} frames nor the "
                               f"{self.total + 1} tokens of this batch (an unexpected random site?)")
        return self.frames[i] + extra

    def split(self, x: Tensor) -> Tuple[Tensor, ...]:
        """``x`` cut into its classes' row blocks (one split, so the backward costs one concatenation,
        not a full-size gradient per class as separate slices would)."""
        return x.split([e - s for _, s, e in self.segments], 0)

    def per_class(self, x: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
        """``fn`` applied to each class's rows, cut to its own length along dim 1 when ``x`` has a sequence
        dimension, under its own stream; the padded rest passes through unchanged."""
        out = []
        for i, ((k, _, _), xc) in enumerate(zip(self.segments, self.split(x))):
            n = self.cut(i, x.shape[1]) if x.dim() >= 3 else None
            if n is None or n == x.shape[1]:
                out.append(self.streams.run(k, fn, xc.contiguous()))
            else:
                out.append(torch.cat([self.streams.run(k, fn, xc[:, :n].contiguous()), xc[:, n:]], 1))
        return torch.cat(out, 0)


class ClassDropout(nn.Module):
    """A dropout module run per class (see :class:`ClassBatch`); the wrapped module does the dropping,
    so whatever dropout the denoiser uses (``nn.Dropout``, its fast variant) is what runs."""

    def __init__(self, inner: nn.Module, batch: ClassBatch):
        super().__init__()
        self.inner = inner
        self._class_batch = batch

    def forward(self, x: Tensor) -> Tensor:
        b = self._class_batch
        if not self.training or b.streams is None or float(getattr(self.inner, "p", 1.0)) == 0.0:
            return self.inner(x)
        return b.per_class(x, self.inner)


class ClassSelfAttention(SelfAttention):
    """:class:`~..generator.models.denoiser.SelfAttention` whose attention core runs per class in training: the
    projections see the whole batch; the core runs on each class's rows cut to its own length, under its
    stream, with the module's own code path (``F.scaled_dot_product_attention``, or the fast variant).
    Cut, not masked: attention over padded keys rounds differently (measured on CPU), so even without
    dropout a padded class would drift from its lone run in the last bits."""

    _class_batch: ClassBatch

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        batch = self._class_batch
        if batch.streams is None or not (attn_mask is None or torch.is_tensor(attn_mask)):
            # sampling (nothing random: one attention call over the whole batch), or the denoiser's packed path
            return super().forward(x, attn_mask)
        b, n, w = x.shape
        h = self.heads

        def split(t: Tensor) -> Tensor:
            return t.view(b, n, h, w // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        masks = batch.split(attn_mask) if attn_mask is not None else [None] * len(batch.segments)
        outs = []
        for i, ((a, _, _), qc, kc, vc, mc) in enumerate(zip(batch.segments, batch.split(q), batch.split(k),
                                                             batch.split(v), masks)):
            ln = batch.cut(i, n)
            oc = batch.streams.run(a, self._core, qc[:, :, :ln], kc[:, :, :ln], vc[:, :, :ln],
                                   None if mc is None else mc[..., :ln])
            if ln < n:  # padded queries: zeros (no valid token attends to them)
                oc = torch.cat([oc, oc.new_zeros(oc.shape[0], oc.shape[1], n - ln, oc.shape[3])], 2)
            outs.append(oc)
        o = torch.cat(outs, 0)
        return self.out_proj(o.transpose(1, 2).reshape(b, n, w))

    def _core(self, q: Tensor, k: Tensor, v: Tensor, m: Optional[Tensor]) -> Tensor:
        attend = getattr(super(), "_attend", None)
        if attend is not None:  # the module's own attention core, whatever it does
            return attend(q, k, v, m)
        p = self.dropout if self.training else 0.0
        fast = getattr(_denoiser, "_attention_fast_dropout", None)
        if getattr(self, "fast", False) and fast is not None and p > 0:
            return fast(q, k, v, m, p)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=p)


class ClassDenoiser(MotionDenoiser):
    """A :class:`MotionDenoiser` whose training-time condition drop is drawn per class."""

    _class_batch: ClassBatch

    def condition_dropout(self, batch: int, device=None, generator: Optional[torch.Generator] = None):
        cb = self._class_batch
        if generator is not None or cb.streams is None:
            return super().condition_dropout(batch, device=device, generator=generator)
        draw = super().condition_dropout
        parts = [cb.streams.run(k, draw, e - s, device) for k, s, e in cb.segments]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def build_class_target(prior: MotionDenoiser, cfg: AdaptConfig, actions: Sequence[int]) -> Tuple[ClassDenoiser, ClassBatch]:
    """A copy of ``prior`` with ``len(actions)`` stacked adapters (zeros; fill them from lone streams) and
    an action table of ``sum(actions)`` rows; every random site runs per class. ``prior`` is not modified."""
    if type(prior) is not MotionDenoiser:
        raise TypeError(f"batched adaptation needs a plain MotionDenoiser, got {type(prior).__name__}")
    model = copy.deepcopy(prior)
    batch = ClassBatch()
    model.config = type(model.config)(**{**model.config.to_dict(), "num_actions": int(sum(actions)),
                                         "cond_drop_text": cfg.cond_drop_text,
                                         "cond_drop_action": cfg.cond_drop_action})
    dev = next(prior.parameters()).device
    model.embed_action = nn.Parameter(torch.zeros(int(sum(actions)), model.config.width, device=dev))
    if cfg.lora_targets:
        stack_lora(model, len(actions), targets=cfg.lora_targets, rank=cfg.lora_rank, alpha=cfg.lora_alpha,
                   dropout=cfg.lora_dropout, route=batch)
    for n, p in model.named_parameters():
        p.requires_grad_(n == "embed_action" or n.endswith(".lora_A") or n.endswith(".lora_B"))
    for name, mod in list(model.named_modules()):
        if isinstance(mod, nn.Dropout):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, ClassDropout(mod, batch))
        elif type(mod) is SelfAttention:
            mod.__class__ = ClassSelfAttention
            mod._class_batch = batch
        elif isinstance(mod, SelfAttention):
            raise TypeError(f"{name}: unknown attention module {type(mod).__name__}")
    model.__class__ = ClassDenoiser
    model._class_batch = batch
    return model, batch


def stacked_target(prior: MotionDenoiser, cfg: AdaptConfig, states: Sequence[Dict[str, Any]]) -> ClassDenoiser:
    """One model holding the adapters of ``states`` (lone-format adapter states, e.g. cache entries), for
    sampling many classes in one batch: adapter ``k``'s action rows start at row ``sum of the earlier
    states' table sizes`` (``k`` for per-class adapters). Eval mode; ``prior`` is not modified."""
    actions = [int(sd["embed_action"].shape[0]) for sd in states]
    model, _ = build_class_target(prior, cfg, actions)
    dev = next(prior.parameters()).device
    off = 0
    with torch.no_grad():
        for k, sd in enumerate(states):
            if cfg.lora_targets:
                load_stacked_lora(model, k, {n: v.to(dev) for n, v in sd["lora"].items()})
            model.embed_action[off:off + actions[k]].copy_(sd["embed_action"].to(dev))
            off += actions[k]
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def _pad_time(x: Tensor, total: int) -> Tensor:
    """Pad dim 1 to ``total`` with zeros (False for masks)."""
    if x.shape[1] == total:
        return x
    pad = x.new_zeros((x.shape[0], total - x.shape[1]) + tuple(x.shape[2:]))
    return torch.cat([x, pad], 1)


def _structure(cfg: AdaptConfig) -> Dict[str, Any]:
    return {k: v for k, v in cfg.to_dict().items() if k not in FREE_FIELDS}


# ---------------------------------------------------------------------------------------------- trainer
class BatchedKineMICTrainer:
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
        xhat, h = self.target(torch.cat([_pad_time(inputs[k][0], total) for k in bucket]),
                              torch.cat([draws[k].t_model for k in bucket]),
                              text_emb=torch.cat([draws[k].text_t for k in bucket]),
                              action=torch.cat([draws[k].yt + int(self.offsets[k]) for k in bucket]),
                              mask=torch.cat([_pad_time(inputs[k][1], total) for k in bucket]),
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

    # ------------------------------------------------------------------ state
    def _lone_params(self, k: int) -> List[Tuple[Any, Callable[[Tensor], Tensor]]]:
        """Class ``k``'s optimiser parameters in the lone trainer's order, each as (batched tensor, slicer)."""
        lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
        named = dict(self.target_params)
        out: List[Tuple[Any, Callable[[Tensor], Tensor]]] = []
        for n in self.lone_names:
            p = named[n]
            out.append((p, (lambda t, lo=lo, hi=hi: t[lo:hi]) if n == "embed_action" else (lambda t, k=k: t[k])))
        if self.needs_prior:
            out += [(p, lambda t: t) for p in list(self.mics[k].parameters()) + list(self.heads[k].parameters())]
        return out

    def state_dict(self, k: int, include_optimizer: bool = False) -> Dict[str, Any]:
        """Class ``k``'s state exactly as :meth:`KineMICTrainer.state_dict` writes it."""
        job, head = self.jobs[k], self.heads[k]
        sd: Dict[str, Any] = {
            "format": STATE_FORMAT, "version": 1, "step": self.step, "config": job.cfg.to_dict(),
            "classes": [int(c) for c in (job.classes or range(job.shots.num_classes))],
            "lora": stacked_lora_state(self.target, k) if self.cfg.lora_targets else {},
            "embed_action": self.target.embed_action[self.offsets[k]:self.offsets[k + 1]].detach().cpu().clone(),
            "mic": {n: v.cpu() for n, v in self.mics[k].state_dict().items()},
            "logit_scale": head.logit_scale.detach().cpu().clone(),
            "bank": {"size": head.bank.size, "z": head.bank.z, "y": head.bank.y},
            "history": [{n: float(v) for n, v in h.items()} for h in self.histories[k]],
        }
        if include_optimizer:
            group = {n: v for n, v in self.optimizer.param_groups[0].items() if n != "params"}
            params = self._lone_params(k)
            state: Dict[int, Dict[str, Any]] = {}
            for i, (p, sl) in enumerate(params):
                st = self.optimizer.state.get(p)
                if st:
                    state[i] = {n: (v.clone() if v.dim() == 0 else sl(v).clone()) if torch.is_tensor(v) else v
                                for n, v in st.items()}
            sd["optimizer"] = {"state": state, "param_groups": [{**group, "params": list(range(len(params)))}]}
        return sd

    def load_states(self, states: Sequence[Optional[Dict[str, Any]]]) -> None:
        """Load one lone-format state per job (all at the same step: one step count per stacked tensor)."""
        if len(states) != len(self.jobs):
            raise ValueError(f"{len(states)} states for {len(self.jobs)} jobs")
        steps = {int(s["step"]) if s is not None else 0 for s in states}
        if len(steps) != 1:
            raise CacheError(f"the jobs of one batched run must resume from the same step, got steps {sorted(steps)}")
        if steps == {0}:
            return
        for k, sd in enumerate(states):
            if sd.get("format") != STATE_FORMAT:
                raise CacheError(f"{self.jobs[k].name}: not an adapter state (format={sd.get('format')!r})")
            if self.cfg.lora_targets:
                load_stacked_lora(self.target, k, {n: v.to(self.device) for n, v in sd["lora"].items()})
            lo, hi = int(self.offsets[k]), int(self.offsets[k + 1])
            with torch.no_grad():
                if tuple(sd["embed_action"].shape) != (hi - lo, self.target.embed_action.shape[1]):
                    raise CacheError(f"{self.jobs[k].name}: action table shape {tuple(sd['embed_action'].shape)}")
                self.target.embed_action[lo:hi].copy_(sd["embed_action"].to(self.device))
                self.heads[k].logit_scale.copy_(sd["logit_scale"].to(self.device))
            self.mics[k].load_state_dict(sd["mic"])
            bank = sd.get("bank") or {}
            self.heads[k].bank.load_state_dict({"size": bank.get("size", self.cfg.bank_size), "z": bank.get("z"),
                                                "y": bank.get("y")})
            self.histories[k] = [dict(h) for h in sd.get("history", [])]
        self._load_optimizer([s.get("optimizer") for s in states])
        self.step = steps.pop()

    def _load_optimizer(self, opts: List[Optional[Dict[str, Any]]]) -> None:
        if any(o is None for o in opts):
            if all(o is None for o in opts):
                return
            raise CacheError("some resume checkpoints of the group carry optimiser state and some do not")
        stacked_names = {id(p): n for n, p in self.target_params}
        gathered: Dict[int, Tuple[str, Tensor, Dict[str, List[Tensor]]]] = {}
        for k, opt in enumerate(opts):
            params = self._lone_params(k)
            if len(opt["param_groups"][0]["params"]) != len(params):
                raise CacheError(f"{self.jobs[k].name}: optimiser state for {len(opt['param_groups'][0]['params'])} "
                                 f"parameters, this trainer has {len(params)}")
            for i, st in opt["state"].items():
                p, _ = params[int(i)]
                if id(p) in stacked_names:  # a slice of a tensor shared by the group: gather, then stack
                    entry = gathered.setdefault(id(p), (stacked_names[id(p)], p, {}))[2]
                    for n, v in st.items():
                        entry.setdefault(n, []).append(v)
                else:  # the class's own MIC / head parameter
                    self.optimizer.state[p] = {n: v.to(p.device) if torch.is_tensor(v) and v.dim() else v
                                               for n, v in st.items()}
        for name, p, entry in gathered.values():
            st: Dict[str, Any] = {}
            for n, vs in entry.items():
                if len(vs) != len(self.jobs):
                    raise CacheError(f"optimiser state '{n}' of {name} is missing for some classes of the group")
                if torch.is_tensor(vs[0]) and vs[0].dim() == 0:  # AdamW's step count: one per tensor
                    if any(not torch.equal(v, vs[0]) for v in vs):
                        raise CacheError(f"optimiser '{n}' of {name} differs between the classes of one group")
                    st[n] = vs[0].clone()
                elif name == "embed_action":  # each class's rows, in order
                    st[n] = torch.cat(list(vs)).to(p.device)
                else:
                    st[n] = torch.stack(list(vs)).to(p.device)
                if torch.is_tensor(st[n]) and st[n].dim() and tuple(st[n].shape) != tuple(p.shape):
                    raise CacheError(f"optimiser state '{n}' of {name}: shape {tuple(st[n].shape)} != {tuple(p.shape)}")
            self.optimizer.state[p] = st
