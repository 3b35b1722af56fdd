"""The pretraining recipe (:class:`PretrainConfig`): what a resumed run must keep to continue the same run."""
from __future__ import annotations


import logging
import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Dict, Mapping


log = logging.getLogger(__name__)

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
