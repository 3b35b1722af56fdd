"""Sampling one class: lengths from the shots, rounds of draws until the filter kept enough or the draw bound is hit."""
from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence, Tuple

import numpy as np
import torch

from ..generator.models.denoiser import MotionDenoiser
from ..generator.representation import MotionRepresentation
from ..generator.schedulers.samplers import guided_model_fn, make_sampler
from ..generator.schedulers.noise_schedule import NoiseSchedule
from ..skeleton.layout import get_layout
from ..skeleton.retarget import bone_lengths, rechain
from .config import SynthesisConfig
from .filter import FilterReport, ShotStats, cap_travel, classify
from .root_path import root_path_from


@torch.no_grad()
def sample_sequences(model: MotionDenoiser, representation: MotionRepresentation, schedule: NoiseSchedule,
                     lengths: Sequence[int], text_emb: np.ndarray, action: Optional[Sequence[int]],
                     cfg: SynthesisConfig, seed: int,
                     starts: Optional[Sequence[np.ndarray]] = None) -> List[np.ndarray]:
    """Decode joint sequences ``[L_i, V, 3]`` for per-sample text embeddings ``[N, E]`` and actions.

    ``starts``: per sample, normalised generator features ``[L_i, D]`` to start from (used with
    ``cfg.shot_strength < 1``)."""
    dev = next(model.parameters()).device
    model.eval()
    smp = make_sampler(cfg.sampler, schedule, steps=min(cfg.steps, schedule.num_steps), eta=cfg.eta)
    out: List[np.ndarray] = []
    lengths = [int(n) for n in lengths]
    for start in range(0, len(lengths), cfg.batch_size):
        lb = lengths[start:start + cfg.batch_size]
        b, t = len(lb), max(lb)
        te = torch.as_tensor(np.asarray(text_emb[start:start + b]), dtype=torch.float32, device=dev)
        act = None if action is None else torch.as_tensor(list(action[start:start + b]), dtype=torch.long, device=dev)
        mask = torch.arange(t, device=dev)[None] < torch.as_tensor(lb, device=dev)[:, None]
        fn = guided_model_fn(model, scale=cfg.guidance, text_emb=te, action=act, mask=mask)
        gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + start)
        x_start = None
        if starts is not None and cfg.shot_strength < 1.0:
            x_start = torch.zeros(b, t, model.config.input_dim)
            for i, st in enumerate(starts[start:start + b]):
                st = torch.as_tensor(st[:lb[i]], dtype=torch.float32)
                x_start[i, :len(st)] = st
                x_start[i, len(st):lb[i]] = st[-1]  # a representation with L-1 feature frames (hml263) repeats the last
        x = smp.sample(fn, (b, t, model.config.input_dim), generator=gen, device=dev, x_start=x_start,
                       strength=cfg.shot_strength)
        feats = representation.denormalize(x.float().cpu()).numpy()
        out.extend(representation.decode(feats[i, :n]) for i, n in enumerate(lb))
    return out


def canonical_shot(representation: MotionRepresentation, shot: np.ndarray) -> np.ndarray:
    """The shot as the representation gives it back, at the shot's own length: a representation with one
    feature frame fewer (hml263) repeats its last one, as the anchored start in :func:`sample_sequences` does,
    so the canonical shot lines up frame for frame with the samples drawn from it."""
    shot = np.asarray(shot)
    feats = representation.encode(shot)
    if len(feats) < len(shot):
        feats = np.concatenate([feats, np.repeat(feats[-1:], len(shot) - len(feats), axis=0)])
    return representation.decode(feats)


@dataclass
class _Round:
    """One round of a class's draws: what to sample, and what each sample was drawn with."""

    lens: np.ndarray
    text_emb: np.ndarray
    action: Optional[List[int]]
    starts: Optional[List[np.ndarray]]
    seed: int
    cap: np.ndarray
    composed: np.ndarray
    which: np.ndarray


class ClassDraws:
    """The draw-and-filter loop of one class, one round at a time (:meth:`next_round`, then :meth:`accept`
    with the round's samples), so several classes' rounds can be sampled in one batched run."""

    def __init__(self, representation: MotionRepresentation, *, n: int, shot_joints: Sequence[np.ndarray],
                 class_text_emb: np.ndarray, action: Optional[int], cfg: SynthesisConfig, seed: int,
                 compose_text_emb: Optional[np.ndarray] = None):
        self.n, self.cfg, self.seed, self.action = int(n), cfg, int(seed), action
        self.class_text_emb, self.compose_text_emb = class_text_emb, compose_text_emb
        self.rng = np.random.default_rng([int(seed), 17])
        self.stats = ShotStats.from_shots(shot_joints)
        self.shot_joints = [np.asarray(s) for s in shot_joints] if cfg.root_from_shot else None
        # residual: the shots in the frame samples are decoded in, and (set_reconstructions) the generator's own
        # reconstruction of each; a sample keeps its shot plus what the chain changed beyond that
        self.canonical_shots = ([canonical_shot(representation, s) for s in shot_joints] if cfg.residual else None)
        self.reconstructions: Optional[List[np.ndarray]] = None
        self.shot_lens = np.array([len(s) for s in shot_joints])
        self.num_shots = len(shot_joints)
        self.anchored = cfg.shot_strength < 1.0
        self.parents = get_layout("smpl22").parents
        self.bones = [bone_lengths(np.asarray(s), self.parents) for s in shot_joints]
        self.shot_feats = ([representation.normalize(representation.encode(np.asarray(s))).astype(np.float32)
                            for s in shot_joints] if self.anchored else None)
        self.turn = 0
        self.max_draws = int(np.ceil(n * cfg.draw_limit))
        self.report = FilterReport(requested=int(n), max_draws=self.max_draws)
        self.kept: List[np.ndarray] = []
        self.infos: List[dict] = []
        self.rounds = 0
        self.passed = 0  # samples the filter let through, surplus included: the pass rate that sizes the next round

    def pending(self) -> bool:
        return len(self.kept) < self.n and self.report.drawn < self.max_draws

    def next_round(self) -> _Round:
        cfg, rng, report = self.cfg, self.rng, self.report
        need = self.n - len(self.kept)
        if self.rounds == 0:
            m = int(np.ceil(need * cfg.oversample))
        else:  # sized by the pass rate so far; with nothing passed yet, the rest of the budget
            rate = self.passed / max(report.drawn, 1)
            m = int(np.ceil(need * cfg.oversample / rate)) if rate > 0 else self.max_draws
        m = max(1, min(m, self.max_draws - report.drawn))
        report.drawn += m
        if self.anchored:  # each sample starts from a shot, in turn, and keeps its length
            which = (self.turn + np.arange(m)) % self.num_shots
            self.turn += m
            lens = self.shot_lens[which]
        else:
            which = rng.integers(0, self.num_shots, size=m)  # the shot whose body (bone lengths) it gets
            lens = rng.choice(self.shot_lens, size=m)
        cap = rng.integers(0, len(self.class_text_emb), size=m)
        te = self.class_text_emb[cap]
        composed = np.zeros(m, dtype=bool)
        comp = self.compose_text_emb
        if comp is not None and len(comp) and cfg.compose_fraction > 0:
            composed = rng.random(m) < cfg.compose_fraction
            ci = rng.integers(0, len(comp), size=m)
            te = np.where(composed[:, None], comp[ci], te)
        acts = None if self.action is None else [int(self.action)] * m
        starts = [self.shot_feats[w] for w in which] if self.anchored else None
        return _Round(lens, te, acts, starts, self.seed * 31 + self.rounds, cap, composed, which)

    def reconstruction_round(self) -> _Round:
        """The pass :meth:`set_reconstructions` needs (``cfg.residual``): every shot once, from itself,
        with the class's first caption; sample it with ``cfg.reconstruction()``."""
        m = self.num_shots
        acts = None if self.action is None else [int(self.action)] * m
        return _Round(self.shot_lens.copy(), np.repeat(self.class_text_emb[:1], m, 0), acts, list(self.shot_feats),
                      self.seed * 31 - 1, np.zeros(m, dtype=int), np.zeros(m, dtype=bool), np.arange(m))

    def set_reconstructions(self, seqs: Sequence[np.ndarray]) -> None:
        if len(seqs) != self.num_shots:
            raise ValueError(f"expected {self.num_shots} reconstructions, got {len(seqs)}")
        self.reconstructions = [np.asarray(s) for s in seqs]

    def accept(self, rnd: _Round, seqs: Sequence[np.ndarray]) -> None:
        cfg, report = self.cfg, self.report
        if cfg.residual and self.reconstructions is None:
            raise RuntimeError("residual synthesis: set_reconstructions() must run before the first round")
        for s, c, comp, w in zip(seqs, rnd.cap, rnd.composed, rnd.which):
            if self.canonical_shots is not None:  # the shot plus what the chain changed, the generator's bias removed
                s = self.canonical_shots[int(w)] + (s - self.reconstructions[int(w)])
            if self.shot_joints is not None:  # then: the path of the shot it started from or gets its bones from
                s = root_path_from(s, self.shot_joints[int(w)])
            if cfg.travel_cap is not None:  # before the filter: a wandering sample is pulled back, not dropped
                s = cap_travel(s, cfg.travel_cap * self.stats.max_travel)
            verdict = classify(s, self.stats, cfg)
            if verdict == "ok" and cfg.rechain_bones:
                s = rechain(s, self.parents, self.bones[int(w)])
                verdict = classify(s, self.stats, cfg)
            self.passed += verdict == "ok"
            if verdict == "ok" and len(self.kept) < self.n:
                self.kept.append(s.astype(np.float32))
                self.infos.append({"caption_index": int(c), "composed": bool(comp), "shot_index": int(w)})
                report.kept += 1
            elif verdict == "static":
                report.static += 1
            elif verdict == "exploding":
                report.exploding += 1
        self.rounds += 1

    def result(self) -> Tuple[List[np.ndarray], FilterReport, List[dict]]:
        self.report.rounds = self.rounds
        return self.kept, self.report, self.infos


def synthesize_class(model: MotionDenoiser, representation: MotionRepresentation, schedule: NoiseSchedule, *,
                     n: int, shot_joints: Sequence[np.ndarray], class_text_emb: np.ndarray,
                     action: Optional[int], cfg: SynthesisConfig, seed: int,
                     compose_text_emb: Optional[np.ndarray] = None) -> Tuple[List[np.ndarray], FilterReport, List[dict]]:
    """``n`` filtered sequences (generator space) for one class, and what the filter did.

    ``class_text_emb``: ``[P, E]`` the class's caption embeddings (one is drawn per sample).
    ``compose_text_emb``: ``[Q, E]`` unrelated captions for dual conditioning.
    Returns (sequences, report, per-sample info dicts with the caption index, whether composed and
    ``shot_index``: the shot it started from (anchored) or whose bone lengths it got).
    """
    st = ClassDraws(representation, n=n, shot_joints=shot_joints, class_text_emb=class_text_emb, action=action,
                     cfg=cfg, seed=seed, compose_text_emb=compose_text_emb)
    if cfg.residual:
        rnd = st.reconstruction_round()
        st.set_reconstructions(sample_sequences(model, representation, schedule, rnd.lens, rnd.text_emb, rnd.action,
                                                cfg.reconstruction(), seed=rnd.seed, starts=rnd.starts))
    while st.pending():
        rnd = st.next_round()
        st.accept(rnd, sample_sequences(model, representation, schedule, rnd.lens, rnd.text_emb, rnd.action, cfg,
                                        seed=rnd.seed, starts=rnd.starts))
    return st.result()
