"""Pretraining the generalist text-to-motion denoiser on a captioned :class:`MotionCorpus`.

Three parts, each swappable:

* :class:`MotionTextDataset`: resamples clips to one frame rate, checks the layout, fits the
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
* :func:`masked_mse`: the x0 loss on valid frames only; :func:`masked_velocity_mse`: an optional
  velocity term (``lambda_vel``) against muted, over-smoothed samples.
* :class:`GeneratorTrainer`: AdamW + gradient clipping + EMA, periodic atomic checkpoints, tqdm
  progress, a loss-curve PNG and exact resume.

Two step engines (``PretrainConfig.engine``), the same recipe and loss:

* ``"fast"`` (default): the batch is sorted by crop length and run packed (the denoiser's
  ``groups`` forward): only valid frames go through the per-token layers, and attention runs per
  group of similar lengths (:mod:`.length_groups`), each padded only to its own longest crop;
  dropout uses :func:`~.denoiser.fast_dropout`; AdamW runs as PyTorch's fused kernel. Padding is
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
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from torch import Tensor

from ..data.corpus import MotionCorpus
from ..errors import CacheError, DataError
from ..skeleton.layout import get_layout
from ..skeleton.resample import resample
from ..utils.device import resolve_device
from ..utils.io import atomic_save_figure
from ..utils.rng import seeded
from .checkpoint import load_checkpoint, save_checkpoint
from .denoiser import DenoiserConfig, MotionDenoiser
from .length_groups import CPU_COST, GPU_COST, length_groups
from .representation import MotionRepresentation
from .schedule import NoiseSchedule

log = logging.getLogger(__name__)

TextEmbedder = Union[Callable[[List[str]], np.ndarray], Mapping[str, np.ndarray], Any]
CROP_MODES = ("random", "caption")
ENGINES = ("fast", "legacy")
#: ``"none"``: clips drawn uniformly (the original recipe); ``"source_label"``: sources by the square
#: root of their duration, labels equally within a source (:mod:`kinemic_aug.data.corpora.balance`).
BALANCE_MODES = ("none", "source_label")
# Recipe fields whose change on resume alters what the run trains on: a mismatch is logged.
_RECIPE_FIELDS = ("fps", "min_seconds", "max_seconds", "crop", "lambda_vel", "batch_size", "lr")


@dataclass
class PretrainConfig:
    """Training hyper-parameters (MDM: AdamW lr 1e-4, batch 64, no weight decay, EMA for the 50-step model).

    ``crop``: ``"random"`` (original recipe; the default, so runs resumed from older checkpoints,
    whose config has no ``crop``, continue unchanged) or ``"caption"`` (crops always match their
    caption; see the module docstring). ``lambda_vel``: weight of :func:`masked_velocity_mse`
    added to the x0 loss (0 = off, the original recipe). Both are saved in the checkpoint's
    ``config['train']``, so ``load_generator(...).config`` shows how a model was trained.
    ``balance``: how clips are drawn (``BALANCE_MODES``). ``val_every``: with a validation corpus
    (``pretrain(val_corpus=...)``), the EMA model's x0 loss on fixed held-out batches is measured
    every ``val_every`` steps (0: at every save) and kept in the checkpoint (``val_history``).
    ``engine``: ``"fast"`` (packed, length-grouped attention, cheap dropout masks) or ``"legacy"`` (the
    original step); same recipe, different random draws (see the module docstring). A train config
    saved before the option existed reads as ``"legacy"`` (:meth:`from_dict`), which is how that
    run was trained; the engine a resumed run uses is the caller's, and :meth:`GeneratorTrainer.resume`
    says when it differs from the checkpoint's.
    """

    steps: int = 1000
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    fps: float = 20.0
    min_seconds: float = 1.0
    max_seconds: float = 10.0
    diffusion_steps: int = 100
    schedule: str = "cosine"
    save_every: int = 500
    seed: int = 0
    device: str = "auto"
    progress: bool = True
    plot: bool = True
    crop: str = "random"
    lambda_vel: float = 0.0
    engine: str = "fast"
    balance: str = "none"
    val_every: int = 0

    def __post_init__(self) -> None:
        if self.balance not in BALANCE_MODES:
            raise ValueError(f"balance must be one of {BALANCE_MODES}, got {self.balance!r}")
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if self.crop not in CROP_MODES:
            raise ValueError(f"crop must be one of {CROP_MODES}, got {self.crop!r}")
        if not (self.lambda_vel >= 0 and math.isfinite(self.lambda_vel)):
            raise ValueError(f"lambda_vel must be finite and >= 0, got {self.lambda_vel}")
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(f"need 0 < min_seconds <= max_seconds, got {self.min_seconds}, {self.max_seconds}")
        if not 50 <= self.diffusion_steps <= 1000:
            log.warning("diffusion_steps=%d is outside the usual 50..1000", self.diffusion_steps)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PretrainConfig":
        names = {f.name for f in fields(cls)}
        kw = {k: v for k, v in d.items() if k in names}
        kw.setdefault("engine", "legacy")  # saved before the fast engine existed
        return cls(**kw)


def embed_texts(embedder: TextEmbedder, texts: List[str]) -> np.ndarray:
    """Embed ``texts`` with a callable, an object with ``.encode`` or a ``{caption: vector}`` mapping."""
    if isinstance(embedder, Mapping):
        missing = [t for t in texts if t not in embedder]
        if missing:
            raise DataError(f"no precomputed embedding for {len(missing)} caption(s), e.g. {missing[0]!r}",
                            field="captions")
        out = np.stack([np.asarray(embedder[t], np.float32) for t in texts]) if texts else np.zeros((0, 0), np.float32)
    elif hasattr(embedder, "encode"):
        out = embedder.encode(texts)
    elif callable(embedder):
        out = embedder(texts)
    else:
        raise TypeError(f"text embedder must be a callable, have .encode, or be a mapping; got {type(embedder).__name__}")
    if isinstance(out, Tensor):
        out = out.detach().cpu().numpy()
    out = np.asarray(out, dtype=np.float32)
    if out.ndim != 2 or out.shape[0] != len(texts):
        raise DataError(f"text embedder returned shape {out.shape} for {len(texts)} captions", field="captions")
    return out


def _parent_span(clip: Any) -> Optional[Tuple[str, float, float]]:
    """``(parent name, from, to)`` in seconds when ``clip`` is a captioned sub-clip of another clip:
    ``meta['segment_of']`` + ``meta['span']`` (procedural segments) or a HumanML3D sub-clip
    (``meta['id']`` names the file, ``meta['span']`` is non-zero)."""
    meta = clip.meta or {}
    span = meta.get("span")
    if not isinstance(span, (list, tuple)) or len(span) != 2:
        return None
    start, end = float(span[0]), float(span[1])
    parent = meta.get("segment_of")
    if parent is None and meta.get("id") not in (None, clip.name) and (start, end) != (0.0, 0.0):
        parent = meta["id"]
    if parent is None or not end > start >= 0:
        return None
    return str(parent), start, end


class MotionTextDataset:
    """Clips of one layout at one frame rate, their caption embeddings, and a batch sampler.

    ``spans[i]`` lists the captioned spans ``(start, end, caption ids)`` (frames at ``fps``) inside
    clip ``i``, taken from sub-clips of it present in the same corpus; ``crop="caption"`` batches
    crop a long clip only inside one of them.
    """

    def __init__(self, corpus: MotionCorpus, representation: MotionRepresentation,
                 text_embedder: Optional[TextEmbedder] = None, text_dim: int = 0, fps: float = 20.0,
                 fit_stats: bool = True):
        if len(corpus) == 0:
            raise DataError("empty corpus", source=corpus.name, field="clips")
        self.rep = representation
        self.fps = float(fps)
        want = representation.layout.name
        self.names: List[str] = []
        self.joints: List[np.ndarray] = []
        self.caption_ids: List[List[int]] = []
        captions: Dict[str, int] = {}
        for clip in corpus:
            if get_layout(clip.layout).name != want:
                raise DataError(f"layout {clip.layout!r} but the representation is for {want!r}; retarget first",
                                source=corpus.name, sample=clip.name, field="layout")
            j = resample(clip.joints, clip.fps, self.fps, sample=clip.name) if abs(clip.fps - self.fps) > 1e-6 \
                else clip.joints
            representation.check_joints(j, sample=clip.name)
            self.names.append(clip.name)
            self.joints.append(j)
            ids = []
            for c in clip.captions:
                c = c.strip()
                if c:
                    ids.append(captions.setdefault(c, len(captions)))
            self.caption_ids.append(ids)
        self.captions = list(captions)
        self.text_dim = int(text_dim)
        use_text = bool(self.text_dim) and text_embedder is not None and bool(self.captions)
        if use_text:
            emb = embed_texts(text_embedder, self.captions)
            if emb.shape[1] != self.text_dim:
                raise DataError(f"text embeddings are {emb.shape[1]}-d, the denoiser expects {self.text_dim}",
                                source=corpus.name, field="captions")
            self.text_emb = emb
        else:
            if self.text_dim and self.captions:
                log.warning("no text embedder given: training without text conditioning")
            self.text_emb = np.zeros((len(self.captions), max(self.text_dim, 1)), np.float32)
            self.caption_ids = [[] for _ in self.caption_ids]
        index = {n: i for i, n in enumerate(self.names)}
        self.spans: List[List[Tuple[int, int, List[int]]]] = [[] for _ in self.joints]
        for k, clip in enumerate(corpus):
            ps = _parent_span(clip)
            if ps is None or ps[0] not in index:
                continue
            i = index[ps[0]]
            start = int(round(ps[1] * self.fps))
            end = min(len(self.joints[i]), int(round(ps[2] * self.fps)))
            if end > start:
                self.spans[i].append((start, end, list(self.caption_ids[k])))
        # chained clips (several recorded segments) that no sub-clip spans: "caption" crops of them
        # fall back to the whole-clip caption; the trainer warns when they are too long to use whole
        self.unspanned_chains = [i for i, clip in enumerate(corpus)
                                 if len((clip.meta or {}).get("segments") or []) > 1 and not self.spans[i]]
        if fit_stats:
            representation.fit(self.joints, names=self.names)
        self.corpus_name = corpus.name
        self.corpus_fingerprint = corpus.fingerprint()
        #: per-clip draw probabilities (``None``: uniform); see ``PretrainConfig.balance``
        self.weights: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.joints)

    def _random_crop(self, rng: np.random.Generator, i: int, min_frames: int,
                     max_frames: int) -> Tuple[int, int, List[int]]:
        """The original recipe: a random-length window anywhere, the whole clip's captions."""
        n = len(self.joints[i])
        length = min(n, int(rng.integers(min_frames, max_frames + 1)))
        start = int(rng.integers(0, n - length + 1))
        return start, length, self.caption_ids[i]

    def _caption_crop(self, rng: np.random.Generator, i: int, max_frames: int) -> Tuple[int, int, List[int]]:
        """A window whose caption describes it: the whole clip if it fits, else inside one
        captioned span (whole if the span fits, else ``max_frames`` of it), else the longest
        window of the clip with the clip's caption."""
        n = len(self.joints[i])
        if n <= max_frames:
            return 0, n, self.caption_ids[i]
        if self.spans[i]:
            lo, hi, ids = self.spans[i][int(rng.integers(len(self.spans[i])))]
        else:
            lo, hi, ids = 0, n, self.caption_ids[i]
        if hi - lo <= max_frames:
            return lo, hi - lo, ids
        return lo + int(rng.integers(0, hi - lo - max_frames + 1)), max_frames, ids

    def sample_batch(self, rng: np.random.Generator, batch_size: int, min_frames: int,
                     max_frames: int, crop: str = "random") -> Dict[str, Tensor]:
        """Random clips, each cropped per ``crop`` (see the module docstring; ``"random"``: crops
        of ``min_frames..max_frames``, shorter clips whole; ``"caption"``: whole clips or captioned
        spans, at most ``max_frames``), one random caption of the crop each. Returns ``x [B, T, D]``
        (normalised, zero-padded), ``mask [B, T]``, ``text_emb [B, text_dim]`` (zeros = no caption),
        ``has_text [B]`` and ``caption [B]`` (index into :attr:`captions`, -1 = none)."""
        if crop not in CROP_MODES:
            raise ValueError(f"crop must be one of {CROP_MODES}, got {crop!r}")
        feats, caps = [], []
        for _ in range(batch_size):
            if self.weights is not None:
                i = int(rng.choice(len(self.joints), p=self.weights))
            else:
                i = int(rng.integers(len(self.joints)))
            if crop == "random":
                start, length, ids = self._random_crop(rng, i, min_frames, max_frames)
            else:
                start, length, ids = self._caption_crop(rng, i, max_frames)
            j = self.joints[i][start:start + length]
            feats.append(self.rep.normalize(self.rep.encode(j, sample=self.names[i])))
            caps.append(ids[int(rng.integers(len(ids)))] if ids else -1)
        t_max = max(len(f) for f in feats)
        x = np.zeros((batch_size, t_max, self.rep.dim), np.float32)
        mask = np.zeros((batch_size, t_max), bool)
        for b, f in enumerate(feats):
            x[b, :len(f)] = f
            mask[b, :len(f)] = True
        has_text = np.array([c >= 0 for c in caps])
        text = np.zeros((batch_size, max(self.text_dim, 1)), np.float32)
        for b, c in enumerate(caps):
            if c >= 0:
                text[b] = self.text_emb[c]
        return {"x": torch.from_numpy(x), "mask": torch.from_numpy(mask),
                "text_emb": torch.from_numpy(text[:, :self.text_dim]) if self.text_dim else None,
                "has_text": torch.from_numpy(has_text), "caption": torch.tensor(caps, dtype=torch.long)}


def masked_mse_per_sample(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-sample MSE over valid frames ``[B]`` (each clip weighs the same whatever its length)."""
    m = mask.to(pred.dtype)[..., None]
    return ((pred - target) ** 2 * m).sum(dim=(1, 2)) / (m.sum(dim=(1, 2)) * pred.shape[-1]).clamp(min=1)


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over valid frames: per-sample mean over its valid elements, then the batch
    mean (each clip weighs the same whatever its length)."""
    return masked_mse_per_sample(pred, target, mask).mean()


def masked_velocity_mse_per_sample(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-sample :func:`masked_velocity_mse` ``[B]`` (0 for clips of one frame)."""
    if pred.shape[1] < 2:
        return pred.sum(dim=(1, 2)) * 0.0
    dp = pred[:, 1:] - pred[:, :-1]
    dt = target[:, 1:] - target[:, :-1]
    pair = mask[:, 1:] & mask[:, :-1]
    return masked_mse_per_sample(dp, dt, pair)


def masked_velocity_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error between frame-to-frame differences of ``pred`` and ``target``.

    Why: an x0 loss alone is satisfied by the mean of the plausible motions, which moves less than
    any of them, so samples come out muted. Matching velocities penalises that directly. This is
    the velocity term of MDM's geometric losses (Tevet et al., "Human Motion Diffusion Model",
    ICLR 2023, Sec. 3: L_vel = mean over frames of ||(x_{i+1} - x_i) - (x̂_{i+1} - x̂_i)||²); MDM
    computes it on joint positions, here it runs on the (normalised) representation features,
    which for the ``xyz`` representation are root-relative positions. A difference counts only when
    both of its frames are valid, so padding never leaks in; per-sample mean, then batch mean,
    like :func:`masked_mse`. Clips of one frame contribute 0.
    """
    if pred.shape[1] < 2:
        return pred.sum() * 0.0
    return masked_velocity_mse_per_sample(pred, target, mask).mean()


def save_loss_plot(losses: Sequence[float], path: Union[str, Path], title: str = "generator pretraining") -> Path:
    """Raw and moving-average loss per step, written atomically as PNG."""

    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    y = np.asarray(losses, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if len(y):
        ax.plot(np.arange(1, len(y) + 1), y, lw=0.6, alpha=0.4, label="loss")
        k = max(1, len(y) // 50)
        if k > 1:
            sm = np.convolve(y, np.ones(k) / k, mode="valid")
            ax.plot(np.arange(k, len(y) + 1), sm, lw=1.5, label=f"mean of {k}")
        ax.set_yscale("log" if np.all(y > 0) else "linear")
    ax.set_xlabel("step")
    ax.set_ylabel("masked MSE (x0)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return atomic_save_figure(fig, path)


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
        similar lengths (:mod:`.length_groups`)."""
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

    def resume(self, path: Union[str, Path]) -> "GeneratorTrainer":
        """Restore weights, EMA, optimizer, step, losses, RNG states and normalisation from ``path``.
        The denoiser config must equal this trainer's; a different corpus only warns."""
        ckpt = load_checkpoint(path, map_location="cpu")
        if ckpt["config"]["denoiser"] != self.model.config.to_dict():
            raise DataError(f"checkpoint denoiser config {ckpt['config']['denoiser']} differs from "
                            f"{self.model.config.to_dict()}", source=str(path), field="config")
        if ckpt.get("corpus", {}).get("fingerprint") != self.dataset.corpus_fingerprint:
            log.warning("%s was trained on a different corpus; continuing anyway", path)
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
        """Start from the weights of a sampling-only checkpoint (:func:`~.checkpoint.export_inference_checkpoint`,
        e.g. a shipped generalist) and keep training it: live weights and EMA both start from its weights, the
        step count, loss and validation history and the normalisation statistics continue, the optimizer
        starts fresh and the random streams are reseeded from (seed, step). Not the same as :meth:`resume`
        (which restores the optimizer and RNG and gives the weights of an uninterrupted run): this is how a run
        goes on from a checkpoint that kept only its weights. The denoiser config must match."""
        ckpt = load_checkpoint(path, map_location="cpu")
        for field in ("config", "model", "representation", "step"):
            if field not in ckpt:
                raise DataError(f"not a generator checkpoint: no {field!r}", source=str(path), field=field)
        if ckpt["config"]["denoiser"] != self.model.config.to_dict():
            raise DataError(f"checkpoint denoiser config {ckpt['config']['denoiser']} differs from "
                            f"{self.model.config.to_dict()}", source=str(path), field="config.denoiser")
        if ckpt.get("corpus", {}).get("fingerprint") != self.dataset.corpus_fingerprint:
            log.warning("%s was trained on a different corpus; continuing anyway", path)
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


def pretrain(corpus: MotionCorpus, out: Union[str, Path], *, representation: MotionRepresentation,
             text_embedder: Optional[TextEmbedder] = None, denoiser: Union[str, DenoiserConfig] = "small",
             config: Optional[PretrainConfig] = None, resume: bool = True,
             text_info: Optional[Dict[str, Any]] = None,
             val_corpus: Optional[MotionCorpus] = None,
             init_from: Optional[Union[str, Path]] = None) -> GeneratorTrainer:
    """Build dataset, denoiser and trainer, resume from ``out`` if it exists, and train.

    ``init_from``: a sampling-only checkpoint to continue from (:meth:`GeneratorTrainer.continue_from`) when
    ``out`` does not exist yet; once ``out`` is written, reruns resume from it exactly.

    ``denoiser``: a preset name (``"small"``, ``"mdm"``, ...) or a config; its ``input_dim`` is set
    from the representation, and ``text_dim`` from the embedder's output (0 without one).
    ``val_corpus``: held-out clips (never trained on) for the validation curve; normalised with the
    training corpus's statistics.
    """
    config = config or PretrainConfig()
    probe = embed_texts(text_embedder, ["a person walks forward."]) if text_embedder is not None and \
        not isinstance(text_embedder, Mapping) else None
    if isinstance(text_embedder, Mapping) and text_embedder:
        text_dim = int(np.asarray(next(iter(text_embedder.values()))).shape[-1])
    else:
        text_dim = int(probe.shape[1]) if probe is not None else 0
    if isinstance(denoiser, str):
        dcfg = DenoiserConfig.preset(denoiser, input_dim=representation.dim, text_dim=text_dim)
    else:
        dcfg = denoiser
    with seeded(config.seed):  # seeded weight init, caller's RNG untouched (CPU and CUDA)
        model = MotionDenoiser(dcfg)
    dataset = MotionTextDataset(corpus, representation, text_embedder, text_dim=dcfg.text_dim, fps=config.fps)
    if config.balance == "source_label":
        from ..data.corpora.balance import balanced_weights
        dataset.weights = balanced_weights(corpus)
    trainer = GeneratorTrainer(model, dataset, config, out=out, extra_config={"text": dict(text_info or {})})
    if val_corpus is not None and len(val_corpus):
        val = MotionTextDataset(val_corpus, representation, text_embedder, text_dim=dcfg.text_dim, fps=config.fps,
                                fit_stats=False)
        trainer.set_validation(val)
    if resume and Path(out).exists():
        trainer.resume(out)
        log.info("resumed from %s at step %d", out, trainer.step)
    elif init_from is not None:
        trainer.continue_from(init_from)
    trainer.train()
    return trainer
