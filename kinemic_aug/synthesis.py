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
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch

from .generator.denoiser import MotionDenoiser
from .generator.representation import MotionRepresentation
from .generator.sampler import guided_model_fn, make_sampler
from .generator.schedule import NoiseSchedule
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
    rng = np.random.default_rng([int(seed), 17])
    stats = ShotStats.from_shots(shot_joints)
    shot_lens = np.array([len(s) for s in shot_joints])
    anchored = cfg.shot_strength < 1.0
    parents = get_layout("smpl22").parents
    bones = [bone_lengths(np.asarray(s), parents) for s in shot_joints]
    shot_feats = ([representation.normalize(representation.encode(np.asarray(s))).astype(np.float32)
                   for s in shot_joints] if anchored else None)
    turn = 0
    max_draws = int(np.ceil(n * cfg.draw_limit))
    report = FilterReport(requested=int(n), max_draws=max_draws)
    kept: List[np.ndarray] = []
    infos: List[dict] = []
    rounds = 0
    passed = 0  # samples the filter let through, surplus included: the pass rate that sizes the next round
    while len(kept) < n and report.drawn < max_draws:
        need = n - len(kept)
        if rounds == 0:
            m = int(np.ceil(need * cfg.oversample))
        else:  # sized by the pass rate so far; with nothing passed yet, the rest of the budget
            rate = passed / max(report.drawn, 1)
            m = int(np.ceil(need * cfg.oversample / rate)) if rate > 0 else max_draws
        m = max(1, min(m, max_draws - report.drawn))
        report.drawn += m
        if anchored:  # each sample starts from a shot, in turn, and keeps its length
            which = (turn + np.arange(m)) % len(shot_joints)
            turn += m
            lens = shot_lens[which]
        else:
            which = rng.integers(0, len(shot_joints), size=m)  # the shot whose body (bone lengths) it gets
            lens = rng.choice(shot_lens, size=m)
        cap = rng.integers(0, len(class_text_emb), size=m)
        te = class_text_emb[cap]
        composed = np.zeros(m, dtype=bool)
        if compose_text_emb is not None and len(compose_text_emb) and cfg.compose_fraction > 0:
            composed = rng.random(m) < cfg.compose_fraction
            ci = rng.integers(0, len(compose_text_emb), size=m)
            te = np.where(composed[:, None], compose_text_emb[ci], te)
        acts = None if action is None else [int(action)] * m
        starts = [shot_feats[w] for w in which] if anchored else None
        seqs = sample_sequences(model, representation, schedule, lens, te, acts, cfg, seed=seed * 31 + rounds,
                                starts=starts)
        for s, c, comp, w in zip(seqs, cap, composed, which):
            verdict = classify(s, stats, cfg)
            if verdict == "ok" and cfg.rechain_bones:
                s = rechain(s, parents, bones[int(w)])
                verdict = classify(s, stats, cfg)
            passed += verdict == "ok"
            if verdict == "ok" and len(kept) < n:
                kept.append(s.astype(np.float32))
                infos.append({"caption_index": int(c), "composed": bool(comp), "shot_index": int(w)})
                report.kept += 1
            elif verdict == "static":
                report.static += 1
            elif verdict == "exploding":
                report.exploding += 1
        rounds += 1
    report.rounds = rounds
    return kept, report, infos
