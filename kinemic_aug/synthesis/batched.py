"""Sampling several classes in one run: requests of every class packed into length-bucketed chunks of one stacked model."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..generator.models.denoiser import MotionDenoiser
from ..generator.representation import MotionRepresentation
from ..generator.schedulers.samplers import make_sampler
from ..generator.schedulers.noise_schedule import NoiseSchedule
from .config import SynthesisConfig
from .filter import FilterReport
from .sampling import ClassDraws


#: sequences per class-batched sampling run by device type (:func:`synthesize_classes`). CPU: 16, measured
#: on the small generalist with one thread, 20 classes x 3 samples, single runs on a shared machine: 16.2 s
#: of CPU in runs of <= 16 sequences with lengths within 10 % (16.7 s for <= 60), 18-19 s one class at a
#: time, and without the length bound 20.0 s (<= 16) and 24.6 s (<= 60): padding is what costs, and on one
#: CPU thread a bigger batch is not cheaper per sequence. Other devices: 8 x ``batch_size`` (not measured).
MULTI_ROWS = {"cpu": 16}


@dataclass
class ClassRequest:
    """One class's synthesis in :func:`synthesize_classes`: the arguments :func:`synthesize_class` takes,
    plus ``adapter``, the class's index in a stacked model (:func:`kinemic_aug.adapt.stacked_target.stacked_target`),
    and ``action`` already as its row of the stacked action table (``None`` for no action term)."""

    n: int
    shot_joints: Sequence[np.ndarray]
    class_text_emb: np.ndarray
    action: Optional[int]
    seed: int
    adapter: int = 0
    compose_text_emb: Optional[np.ndarray] = None


@dataclass
class _Chunk:
    owner: int
    adapter: int
    lengths: List[int]
    text_emb: np.ndarray
    action: Optional[List[int]]
    gen: torch.Generator
    noise: torch.Tensor
    x_start: Optional[torch.Tensor]


def _chunks(model: MotionDenoiser, owner: int, adapter: int, lengths: Sequence[int], text_emb: np.ndarray,
            action: Optional[Sequence[int]], cfg: SynthesisConfig, seed: int,
            starts: Optional[Sequence[np.ndarray]]) -> List[_Chunk]:
    """The forward batches :func:`~.sampling.sample_sequences` would run for these samples, each with its generator
    seeded as there and its initial noise drawn from it (as the sampler draws it: on the CPU, first)."""
    out = []
    lengths = [int(n) for n in lengths]
    d = model.config.input_dim
    for start in range(0, len(lengths), cfg.batch_size):
        lb = lengths[start:start + cfg.batch_size]
        b, t = len(lb), max(lb)
        gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + start)
        noise = torch.randn((b, t, d), generator=gen, dtype=torch.float32)
        x_start = None
        if starts is not None and cfg.shot_strength < 1.0:
            x_start = torch.zeros(b, t, d)
            for i, st in enumerate(starts[start:start + b]):
                st = torch.as_tensor(st[:lb[i]], dtype=torch.float32)
                x_start[i, :len(st)] = st
                x_start[i, len(st):lb[i]] = st[-1]
        out.append(_Chunk(owner, adapter, lb, np.asarray(text_emb[start:start + b]),
                          None if action is None else list(action[start:start + b]), gen, noise, x_start))
    return out


def _pad_t(x: torch.Tensor, t: int) -> torch.Tensor:
    return x if x.shape[1] == t else torch.cat([x, x.new_zeros((x.shape[0], t - x.shape[1]) + tuple(x.shape[2:]))], 1)


@torch.no_grad()
def _sample_group(model: MotionDenoiser, representation: MotionRepresentation, schedule: NoiseSchedule,
                  chunks: List[_Chunk], cfg: SynthesisConfig) -> List[List[np.ndarray]]:
    """Sample several forward batches (of one class or many) as ONE batch: padded to the longest, each
    batch's rows through its own adapter (the model's route), classifier-free guidance per batch as
    :func:`~..generator.schedulers.samplers.classifier_free_guidance` computes it. Deterministic DDIM only (initial
    noise from each batch's own generator; nothing drawn later), or a single batch."""
    dev = next(model.parameters()).device
    model.eval()
    smp = make_sampler(cfg.sampler, schedule, steps=min(cfg.steps, schedule.num_steps), eta=cfg.eta)
    route = getattr(model, "_class_batch", None)
    t = max(max(c.lengths) for c in chunks)
    sizes = [len(c.lengths) for c in chunks]
    x0 = torch.cat([_pad_t(c.noise, t) for c in chunks]).to(dev)
    xs = None
    if any(c.x_start is not None for c in chunks):
        xs = torch.cat([_pad_t(c.x_start, t) for c in chunks]).to(dev)
    mask = torch.cat([torch.arange(t)[None] < torch.as_tensor(c.lengths)[:, None] for c in chunks]).to(dev)
    te = torch.as_tensor(np.concatenate([c.text_emb for c in chunks]), dtype=torch.float32, device=dev)
    acts = None
    if chunks[0].action is not None:
        acts = torch.as_tensor([a for c in chunks for a in c.action], dtype=torch.long, device=dev)
    scale = float(cfg.guidance)
    reps = 1 if scale == 1.0 else 2

    def dup(v: Optional[torch.Tensor]) -> Optional[torch.Tensor]:  # each batch's rows, then (guided) again
        if v is None or reps == 1:
            return v
        parts = v.split(sizes, 0)
        return torch.cat([q for p in parts for q in (p, p)], 0)

    fu = None
    segs, pos = [], 0
    for c, b in zip(chunks, sizes):
        segs.append((c.adapter, pos, pos + reps * b))
        pos += reps * b
    if reps == 2:
        fu = torch.cat([torch.cat([torch.zeros(b, dtype=torch.bool), torch.ones(b, dtype=torch.bool)])
                        for b in sizes]).to(dev)
    te2, acts2, mask2 = dup(te), dup(acts), dup(mask)

    def fn(x: torch.Tensor, tt: torch.Tensor) -> torch.Tensor:
        if route is not None:  # a stacked model: which rows go through which adapter (nothing random here)
            route.configure(segs) if hasattr(route, "configure") else route.set_segments(segs)
        out = model(dup(x), dup(tt), text_emb=te2, action=acts2, mask=mask2, force_uncond=fu)
        if reps == 1:
            return out
        res = []
        for o in out.split([2 * b for b in sizes], 0):
            cond, uncond = o.chunk(2, 0)
            res.append(uncond + scale * (cond - uncond))
        return torch.cat(res, 0)

    deterministic = cfg.sampler == "ddim" and cfg.eta == 0.0
    if deterministic:
        x = smp.sample(fn, tuple(x0.shape), noise=x0, device=dev, x_start=xs, strength=cfg.shot_strength)
    else:
        if len(chunks) != 1:
            raise ValueError("a stochastic sampler draws noise every step: sample one batch at a time")
        # the same generator, advanced past the initial noise exactly as the sampler would have
        x = smp.sample(fn, tuple(x0.shape), noise=x0, generator=chunks[0].gen, device=dev, x_start=xs,
                       strength=cfg.shot_strength)
    feats = representation.denormalize(x.float().cpu()).numpy()
    out, row = [], 0
    for c in chunks:
        out.append([representation.decode(feats[row + i, :n]) for i, n in enumerate(c.lengths)])
        row += len(c.lengths)
    return out


def synthesize_classes(model: MotionDenoiser, representation: MotionRepresentation, schedule: NoiseSchedule,
                       requests: Sequence[ClassRequest], cfg: SynthesisConfig, max_rows: Optional[int] = None,
                       length_slack: float = 0.1) -> List[Tuple[List[np.ndarray], FilterReport, List[dict]]]:
    """:func:`synthesize_class` for many classes at once: every round, the forward batches of all classes
    still drawing are sampled together: sorted by length, at most ``max_rows`` sequences per run and the
    longest within ``1 + length_slack`` times the shortest, so little is padded. ``max_rows`` defaults to
    :data:`MULTI_ROWS` of the model's device (CPU: 16, measured; else ``8 x batch_size``). ``model`` is a stacked model whose route sends each request's
    rows through its ``adapter`` (or a plain model shared by all, e.g. the zero-shot generalist).

    Each class's result equals its :func:`synthesize_class` with a lone model to float tolerance (the
    padded batch rounds differently in the last bits; over the DDIM chain that stays far below the filter's
    margins, though a sample on a filter threshold could in principle land on the other side). With a
    stochastic sampler (DDPM, or DDIM with ``eta > 0``) each batch is sampled on its own, exactly as there."""
    states = [ClassDraws(representation, n=r.n, shot_joints=r.shot_joints, class_text_emb=r.class_text_emb,
                          action=r.action, cfg=cfg, seed=r.seed, compose_text_emb=r.compose_text_emb)
              for r in requests]
    if max_rows is None:
        max_rows = MULTI_ROWS.get(next(model.parameters()).device.type, 8 * cfg.batch_size)
    max_rows = int(max_rows)
    if cfg.residual:  # each class's shots reconstructed first, batched like a round
        rec = cfg.reconstruction()
        rounds = {i: st.reconstruction_round() for i, st in enumerate(states)}
        for i, seqs in _sample_rounds(model, representation, schedule, requests, rounds, rec, max_rows,
                                      length_slack).items():
            states[i].set_reconstructions(seqs)
    while True:
        live = [i for i, st in enumerate(states) if st.pending()]
        if not live:
            break
        rounds = {i: states[i].next_round() for i in live}
        for i, seqs in _sample_rounds(model, representation, schedule, requests, rounds, cfg, max_rows,
                                      length_slack).items():
            states[i].accept(rounds[i], seqs)
    return [st.result() for st in states]


def _sample_rounds(model: MotionDenoiser, representation: MotionRepresentation, schedule: NoiseSchedule,
                   requests: Sequence[ClassRequest], rounds: Dict[int, Any], cfg: SynthesisConfig, max_rows: int,
                   length_slack: float) -> Dict[int, List[np.ndarray]]:
    """One round of several classes (``rounds``: class index -> its round), sampled in length-bucketed groups;
    each class's sequences in its round's order."""
    deterministic = cfg.sampler == "ddim" and cfg.eta == 0.0
    chunks: List[_Chunk] = []
    for i, r in rounds.items():
        chunks += _chunks(model, i, requests[i].adapter, r.lens, r.text_emb, r.action, cfg, r.seed, r.starts)
    order = sorted(range(len(chunks)), key=lambda j: max(chunks[j].lengths))
    groups: List[List[int]] = []
    rows, shortest = 0, 0
    for j in order:
        b, t = len(chunks[j].lengths), max(chunks[j].lengths)
        if groups and deterministic and rows + b <= max_rows and t <= (1.0 + length_slack) * shortest:
            groups[-1].append(j)
            rows += b
        else:
            groups.append([j])
            rows, shortest = b, t
    sampled: Dict[int, List[np.ndarray]] = {}
    for g in groups:
        for j, seqs in zip(g, _sample_group(model, representation, schedule, [chunks[j] for j in g], cfg)):
            sampled[j] = seqs
    per_class: Dict[int, List[np.ndarray]] = {i: [] for i in rounds}
    for j, c in enumerate(chunks):  # chunks were made in each class's order
        per_class[c.owner].extend(sampled[j])
    return per_class
