"""Pretraining the generalist text-to-motion denoiser on a captioned :class:`MotionCorpus`.

Three parts, each swappable:

* :class:`MotionTextDataset`: resamples clips to one frame rate, checks the layout, fits the
  representation's normalisation, embeds every distinct caption once, and draws batches of random
  crops (``min_seconds``–``max_seconds``) with one random caption each, padded with a frame mask.
* :func:`masked_mse`: the x0 loss on valid frames only.
* :class:`GeneratorTrainer`: AdamW + gradient clipping + EMA, periodic atomic checkpoints, tqdm
  progress, a loss-curve PNG and exact resume.

Reproducibility: all randomness flows from two generators seeded by ``config.seed``: a numpy
generator for crops and captions, and a CPU ``torch.Generator`` for timesteps, noise and a per-step
seed under which dropout and condition dropout run (inside ``torch.random.fork_rng``, so the
caller's global RNG is untouched). Both generator states go into every checkpoint, so a run resumed
from step k gives bit-identical weights to one that never stopped (same device, same threads).
"""
from __future__ import annotations

import json
import logging
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor

from ..data.corpus import MotionCorpus
from ..errors import CacheError, DataError
from ..skeleton.layout import get_layout
from ..skeleton.resample import resample
from ..utils.io import atomic_save_figure
from .checkpoint import load_checkpoint, save_checkpoint
from .denoiser import DenoiserConfig, MotionDenoiser
from .representation import MotionRepresentation
from .schedule import NoiseSchedule

log = logging.getLogger(__name__)

TextEmbedder = Union[Callable[[List[str]], np.ndarray], Mapping[str, np.ndarray], Any]


@dataclass
class PretrainConfig:
    """Training hyper-parameters (MDM: AdamW lr 1e-4, batch 64, no weight decay, EMA for the 50-step model)."""

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

    def __post_init__(self) -> None:
        if not 0 < self.min_seconds <= self.max_seconds:
            raise ValueError(f"need 0 < min_seconds <= max_seconds, got {self.min_seconds}, {self.max_seconds}")
        if not 50 <= self.diffusion_steps <= 1000:
            log.warning("diffusion_steps=%d is outside the usual 50..1000", self.diffusion_steps)

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "PretrainConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


def resolve_device(device: str = "auto") -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


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


class MotionTextDataset:
    """Clips of one layout at one frame rate, their caption embeddings, and a batch sampler."""

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
        if fit_stats:
            representation.fit(self.joints, names=self.names)
        self.corpus_name = corpus.name
        self.corpus_fingerprint = corpus.fingerprint()

    def __len__(self) -> int:
        return len(self.joints)

    def sample_batch(self, rng: np.random.Generator, batch_size: int, min_frames: int,
                     max_frames: int) -> Dict[str, Tensor]:
        """Random clips, random crops of ``min_frames..max_frames`` (shorter clips whole), one random
        caption each. Returns ``x [B, T, D]`` (normalised, zero-padded), ``mask [B, T]``,
        ``text_emb [B, text_dim]`` (zeros = no caption) and ``has_text [B]``."""
        feats, caps = [], []
        for _ in range(batch_size):
            i = int(rng.integers(len(self.joints)))
            j = self.joints[i]
            n = len(j)
            length = min(n, int(rng.integers(min_frames, max_frames + 1)))
            start = int(rng.integers(0, n - length + 1))
            feats.append(self.rep.normalize(self.rep.encode(j[start:start + length], sample=self.names[i])))
            ids = self.caption_ids[i]
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
                "has_text": torch.from_numpy(has_text)}


def masked_mse_per_sample(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-sample MSE over valid frames ``[B]`` (each clip weighs the same whatever its length)."""
    m = mask.to(pred.dtype)[..., None]
    return ((pred - target) ** 2 * m).sum(dim=(1, 2)) / (m.sum(dim=(1, 2)) * pred.shape[-1]).clamp(min=1)


def masked_mse(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean squared error over valid frames: per-sample mean over its valid elements, then the batch
    mean (each clip weighs the same whatever its length)."""
    return masked_mse_per_sample(pred, target, mask).mean()


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
    continue from a checkpoint.
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
        self.optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
        self.ema = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.step = 0
        self._saved_step = -1
        self.losses: List[float] = []
        self.np_rng = np.random.default_rng(config.seed)
        self.gen = torch.Generator().manual_seed(config.seed)
        self.min_frames = max(1, int(round(config.min_seconds * dataset.fps)))
        self.max_frames = max(self.min_frames, int(round(config.max_seconds * dataset.fps)))

    # ------------------------------------------------------------------ one step
    def _update_ema(self) -> None:
        d = min(self.cfg.ema_decay, (1.0 + self.step) / (10.0 + self.step))  # short warm-up
        with torch.no_grad():
            for k, v in self.model.state_dict().items():
                e = self.ema[k]
                if e.dtype.is_floating_point:
                    e.mul_(d).add_(v.detach(), alpha=1.0 - d)
                else:
                    e.copy_(v)

    def train_step(self) -> float:
        batch = self.dataset.sample_batch(self.np_rng, self.cfg.batch_size, self.min_frames, self.max_frames)
        x0 = batch["x"].to(self.device)
        mask = batch["mask"].to(self.device)
        text = batch["text_emb"].to(self.device) if batch["text_emb"] is not None else None
        b = x0.shape[0]
        t = torch.randint(0, self.schedule.num_steps, (b,), generator=self.gen)
        noise = torch.randn(x0.shape, generator=self.gen).to(self.device)
        step_seed = int(torch.randint(0, 2 ** 62, (1,), generator=self.gen))
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        self.model.train()
        with torch.random.fork_rng(devices=devices):
            torch.manual_seed(step_seed)
            t = t.to(self.device)
            xt = self.schedule.q_sample(x0, t, noise)
            pred = self.model(xt, t, text_emb=text, mask=mask)
            loss = masked_mse(pred, x0, mask)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if self.cfg.grad_clip and self.cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_([p for p in self.model.parameters() if p.requires_grad],
                                               self.cfg.grad_clip)
            self.optimizer.step()
        self.step += 1
        self._update_ema()
        value = float(loss.detach())
        if not math.isfinite(value):
            raise FloatingPointError(f"loss became {value} at step {self.step}")
        self.losses.append(value)
        return value

    # ------------------------------------------------------------------ loop
    def train(self, steps: Optional[int] = None) -> List[float]:
        """Train until ``steps`` total steps (default ``config.steps``), saving on schedule."""
        target = self.cfg.steps if steps is None else int(steps)
        from tqdm.auto import tqdm

        bar = tqdm(total=target, initial=self.step, desc="pretrain", disable=not self.cfg.progress, leave=False)
        try:
            while self.step < target:
                loss = self.train_step()
                bar.update(1)
                bar.set_postfix(loss=f"{loss:.4f}")
                if self.out is not None and self.cfg.save_every > 0 and self.step % self.cfg.save_every == 0:
                    self.save()
        finally:
            bar.close()
        if self.out is not None and self._saved_step != self.step:
            self.save()
        return self.losses

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
        self.model.load_state_dict(ckpt["model"])
        self.ema = {k: v.to(self.device).clone() for k, v in ckpt["ema"].items()}
        self.optimizer.load_state_dict(ckpt["optimizer"])
        self.step = int(ckpt["step"])
        self._saved_step = self.step
        self.losses = [float(x) for x in ckpt["losses"].tolist()]
        self.np_rng.bit_generator.state = json.loads(ckpt["rng"]["numpy"])
        self.gen.set_state(ckpt["rng"]["torch"])
        self.dataset.rep.load_state_dict(ckpt["representation"])
        return self


def pretrain(corpus: MotionCorpus, out: Union[str, Path], *, representation: MotionRepresentation,
             text_embedder: Optional[TextEmbedder] = None, denoiser: Union[str, DenoiserConfig] = "small",
             config: Optional[PretrainConfig] = None, resume: bool = True,
             text_info: Optional[Dict[str, Any]] = None) -> GeneratorTrainer:
    """Build dataset, denoiser and trainer, resume from ``out`` if it exists, and train.

    ``denoiser``: a preset name (``"small"``, ``"mdm"``, ...) or a config; its ``input_dim`` is set
    from the representation, and ``text_dim`` from the embedder's output (0 without one).
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
    with torch.random.fork_rng(devices=[]):  # seeded weight init, caller's RNG untouched
        torch.manual_seed(config.seed)
        model = MotionDenoiser(dcfg)
    dataset = MotionTextDataset(corpus, representation, text_embedder, text_dim=dcfg.text_dim, fps=config.fps)
    trainer = GeneratorTrainer(model, dataset, config, out=out, extra_config={"text": dict(text_info or {})})
    if resume and Path(out).exists():
        trainer.resume(out)
        log.info("resumed from %s at step %d", out, trainer.step)
    trainer.train()
    return trainer
