"""Sampling synthetic sequences for one class and dropping the degenerate ones.

Lengths are drawn from the real shots' lengths (never from data the few-shot setting should not
see). Conditioning is the class caption(s) plus, for an adapted target stream, the class's action
id; *dual conditioning* swaps the caption for an unrelated one (``compose_with``) while keeping the
action id, which composes the two behaviours.

The filter (in the generator's SMPL-22 space, against statistics of the real shots) drops:

* **static** samples: mean per-frame joint speed (root-relative) below ``static_ratio`` × the
  slowest shot's;
* **exploding** samples: non-finite values, a bounding-box extent above ``explode_ratio`` × the
  largest shot extent, or bones whose length varies by more than ``bone_cv_max`` (relative std over
  time) - a body cannot stretch.

The requested count is met by drawing more: a first round of ``n × oversample`` samples, then rounds
sized by the pass rate seen so far, until ``n`` are kept or ``draw_limit × n`` have been drawn (the
stated bound on the cost of a class the generator cannot do). A class that stops at the bound is
short, and its :class:`FilterReport` says by how much and why (``shortfall``, ``reason``).

Kept samples are then re-chained to a real body (``rechain_bones``): the generator predicts joint
positions, so its bones stretch a little from frame to frame; each sample is rebuilt from the root
along its own bone directions with the bone lengths of one real shot of the class (the shot it was
anchored on, or a drawn one), so its bones stay constant and match a real body (after retargeting to
SMPL-22, real subjects differ by about a centimetre per bone, so this mostly removes stretch).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .generator.models.denoiser import MotionDenoiser
from .generator.representation import MotionRepresentation
from .generator.schedulers.samplers import guided_model_fn, make_sampler
from .generator.schedulers.noise_schedule import NoiseSchedule
from .skeleton.layout import get_layout
from .skeleton.retarget import bone_lengths, rechain


@dataclass(frozen=True)
class SynthesisConfig:
    """How synthetic samples are drawn.

    Attributes:
        steps, sampler, eta, guidance: reverse diffusion (DDIM with 20 steps and guidance 2.5 by default).
        batch_size: sequences per forward pass.
        compose_with: unrelated captions for dual conditioning; ``compose_fraction`` of the samples
            use one of them (with the class's action id) instead of the class caption.
        static_ratio, explode_ratio, bone_cv_max: the degenerate-sample filter.
        oversample: draw this factor more than asked, so the filter can drop some and still meet the count.
        draw_limit: draw at most this many samples per sample asked (``draw_limit × n`` per class) before
            giving up on the count; the class's report then records the shortfall and the filter's reasons.
        shot_strength: ``1.0`` samples from pure noise (the paper's synthesis). Below 1, each sample
            starts from one of the class's real shots noised ``shot_strength`` of the way up the chain
            (partial diffusion): the adapted generator then re-draws the shot's detail, amplitude and
            style while its timing stays, which keeps samples moving like the class even when the
            generator alone produces muted motion. Shots are used in turn (each gets an equal share of
            the samples drawn; the filter may then drop more of one shot's than of another's).
        rechain_bones: rebuild each kept sample with the bone lengths of a real shot of the class
            (see the module docstring); the filter judges the raw sample first.
    """

    steps: int = 20
    sampler: str = "ddim"
    eta: float = 0.0
    guidance: float = 2.5
    batch_size: int = 64
    compose_with: Tuple[str, ...] = ()
    compose_fraction: float = 0.0
    static_ratio: float = 0.15
    explode_ratio: float = 2.5
    bone_cv_max: float = 0.6
    oversample: float = 1.25
    draw_limit: float = 8.0
    shot_strength: float = 1.0
    rechain_bones: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.shot_strength <= 1.0:
            raise ValueError(f"shot_strength must be in (0, 1], got {self.shot_strength}")
        if not self.oversample >= 1.0:
            raise ValueError(f"oversample must be >= 1, got {self.oversample}")
        if not self.draw_limit >= self.oversample:
            raise ValueError(f"draw_limit ({self.draw_limit}) must be >= oversample ({self.oversample})")

    @classmethod
    def paper(cls, **overrides: Any) -> "SynthesisConfig":
        """Synthesis as the reference runs it: the full ancestral (DDPM) chain from pure noise, guidance
        2.5, no degenerate-sample filter, no shot anchoring, no bone re-chaining. ``steps`` is capped at
        the checkpoint's own number of diffusion steps, so 1000 means "all of them". ``overrides`` replace
        fields."""
        base = dict(steps=1000, sampler="ddpm", eta=0.0, guidance=2.5, static_ratio=0.0, explode_ratio=float("inf"),
                    bone_cv_max=float("inf"), oversample=1.0, draw_limit=1.0, shot_strength=1.0, rechain_bones=False)
        base.update(overrides)
        if "compose_with" in base:
            base["compose_with"] = tuple(base["compose_with"])
        return cls(**base)

    def to_dict(self) -> Dict:
        d = asdict(self)
        d["compose_with"] = list(self.compose_with)
        return d


@dataclass
class FilterReport:
    """What drawing one class's samples took: ``requested`` asked, ``drawn`` sampled (at most
    ``max_draws``), ``kept`` passed the filter, ``static`` / ``exploding`` dropped by it, the rest
    passed after the count was met (``surplus``, discarded)."""

    kept: int = 0
    static: int = 0
    exploding: int = 0
    requested: int = 0
    drawn: int = 0
    max_draws: int = 0
    rounds: int = 0

    @property
    def shortfall(self) -> int:
        return max(0, self.requested - self.kept)

    @property
    def surplus(self) -> int:
        return self.drawn - self.kept - self.static - self.exploding

    @property
    def reason(self) -> str:
        """Why the class is short, in words (empty when it is not)."""
        if not self.shortfall:
            return ""
        return (f"{self.drawn} drawn (the bound: {self.max_draws} = draw_limit x {self.requested}), "
                f"{self.static} static and {self.exploding} exploding dropped by the filter")

    def to_dict(self) -> Dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, int]) -> "FilterReport":
        """Read a stored report; entries written before ``requested``/``drawn`` were recorded get ``drawn``
        from the counts (a lower bound: surplus samples were not counted then)."""
        known = {k: int(v) for k, v in d.items() if k in cls.__dataclass_fields__}
        rep = cls(**known)
        if "drawn" not in d:
            rep.drawn = rep.kept + rep.static + rep.exploding
        return rep


def motion_speed(joints: np.ndarray, root: int = 0) -> float:
    """Mean per-frame displacement of root-relative joints (m/frame)."""
    rel = joints - joints[:, root:root + 1]
    if len(rel) < 2:
        return 0.0
    return float(np.linalg.norm(np.diff(rel, axis=0), axis=-1).mean())


def extent(joints: np.ndarray) -> float:
    return float(np.max(joints.reshape(-1, 3).max(0) - joints.reshape(-1, 3).min(0)))


def bone_cv(joints: np.ndarray, layout: str = "smpl22") -> float:
    lay = get_layout(layout)
    pairs = [(i, p) for i, p in enumerate(lay.parents) if p >= 0]
    lengths = np.stack([np.linalg.norm(joints[:, i] - joints[:, p], axis=-1) for i, p in pairs], 1)  # [T, B]
    mean = lengths.mean(0)
    return float((lengths.std(0) / np.maximum(mean, 1e-6)).max())


@dataclass
class ShotStats:
    """Reference statistics of the real shots (generator space) for the filter."""

    min_speed: float
    max_extent: float

    @classmethod
    def from_shots(cls, shots: Sequence[np.ndarray]) -> "ShotStats":
        return cls(min_speed=min(motion_speed(s) for s in shots), max_extent=max(extent(s) for s in shots))


def classify(joints: np.ndarray, stats: ShotStats, cfg: SynthesisConfig) -> str:
    """``"ok"``, ``"static"`` or ``"exploding"``."""
    if not np.all(np.isfinite(joints)) or extent(joints) > cfg.explode_ratio * stats.max_extent:
        return "exploding"
    if bone_cv(joints) > cfg.bone_cv_max:
        return "exploding"
    if motion_speed(joints) < cfg.static_ratio * stats.min_speed:
        return "static"
    return "ok"


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


class _ClassDraws:
    """The draw-and-filter loop of one class, one round at a time (:meth:`next_round`, then :meth:`accept`
    with the round's samples), so several classes' rounds can be sampled in one batched run."""

    def __init__(self, representation: MotionRepresentation, *, n: int, shot_joints: Sequence[np.ndarray],
                 class_text_emb: np.ndarray, action: Optional[int], cfg: SynthesisConfig, seed: int,
                 compose_text_emb: Optional[np.ndarray] = None):
        self.n, self.cfg, self.seed, self.action = int(n), cfg, int(seed), action
        self.class_text_emb, self.compose_text_emb = class_text_emb, compose_text_emb
        self.rng = np.random.default_rng([int(seed), 17])
        self.stats = ShotStats.from_shots(shot_joints)
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

    def accept(self, rnd: _Round, seqs: Sequence[np.ndarray]) -> None:
        cfg, report = self.cfg, self.report
        for s, c, comp, w in zip(seqs, rnd.cap, rnd.composed, rnd.which):
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
    st = _ClassDraws(representation, n=n, shot_joints=shot_joints, class_text_emb=class_text_emb, action=action,
                     cfg=cfg, seed=seed, compose_text_emb=compose_text_emb)
    while st.pending():
        rnd = st.next_round()
        st.accept(rnd, sample_sequences(model, representation, schedule, rnd.lens, rnd.text_emb, rnd.action, cfg,
                                        seed=rnd.seed, starts=rnd.starts))
    return st.result()


# ---------------------------------------------------------------------------------------------- many classes
#: sequences per class-batched sampling run by device type (:func:`synthesize_classes`). CPU: 16, measured
#: on the small generalist with one thread, 20 classes x 3 samples, single runs on a shared machine: 16.2 s
#: of CPU in runs of <= 16 sequences with lengths within 10 % (16.7 s for <= 60), 18-19 s one class at a
#: time, and without the length bound 20.0 s (<= 16) and 24.6 s (<= 60): padding is what costs, and on one
#: CPU thread a bigger batch is not cheaper per sequence. Other devices: 8 x ``batch_size`` (not measured).
MULTI_ROWS = {"cpu": 16}


@dataclass
class ClassRequest:
    """One class's synthesis in :func:`synthesize_classes`: the arguments :func:`synthesize_class` takes,
    plus ``adapter``, the class's index in a stacked model (:func:`kinemic_aug.adapt.batched.stacked_target`),
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
    """The forward batches :func:`sample_sequences` would run for these samples, each with its generator
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
    :func:`~.generator.schedulers.samplers.classifier_free_guidance` computes it. Deterministic DDIM only (initial
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
    states = [_ClassDraws(representation, n=r.n, shot_joints=r.shot_joints, class_text_emb=r.class_text_emb,
                          action=r.action, cfg=cfg, seed=r.seed, compose_text_emb=r.compose_text_emb)
              for r in requests]
    if max_rows is None:
        max_rows = MULTI_ROWS.get(next(model.parameters()).device.type, 8 * cfg.batch_size)
    max_rows = int(max_rows)
    deterministic = cfg.sampler == "ddim" and cfg.eta == 0.0
    while True:
        live = [i for i, st in enumerate(states) if st.pending()]
        if not live:
            break
        rounds = {i: states[i].next_round() for i in live}
        chunks: List[_Chunk] = []
        for i in live:
            r = rounds[i]
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
        per_class: Dict[int, List[np.ndarray]] = {i: [] for i in live}
        for j, c in enumerate(chunks):  # chunks were made in each class's order
            per_class[c.owner].extend(sampled[j])
        for i in live:
            states[i].accept(rounds[i], per_class[i])
    return [st.result() for st in states]
