"""Generator checkpoints: one self-contained, safely loadable file per run.

A checkpoint holds only tensors and plain Python types, so ``torch.load(weights_only=True)`` reads
it (no pickled classes, no code execution) and is written atomically (a crash never leaves half a
file). Contents (``format = "kinemic_aug.generator"``):

==================  ======================================================================
``model``           denoiser state dict (live weights)
``ema``             EMA state dict (what sampling should use)
``optimizer``       AdamW state dict
``step``            optimisation steps done
``rng``             ``{"numpy": JSON of the data generator state, "torch": ByteTensor}``
``config``          ``{"denoiser": ..., "schedule": ..., "train": ..., "text": ...}`` plain dicts
``representation``  name, layout and normalisation mean/std (see :mod:`.representation`)
``losses``          float tensor, one loss per step (for the loss plot and resume)
``corpus``          name and fingerprint of the training corpus
==================  ======================================================================
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch

from ..errors import CacheError
from ..utils.checksum import verify_checksum, with_checksum
from ..utils.io import atomic_torch_save
from .models.denoiser import DenoiserConfig, MotionDenoiser
from .representation import MotionRepresentation, representation_from_state_dict
from .schedulers.noise_schedule import NoiseSchedule

FORMAT = "kinemic_aug.generator"
VERSION = 1


#: the generalists shipped in ``kinemic_aug/assets/generator/`` by name; their training data and terms are in
#: the ``NOTICE.md`` beside them
SHIPPED_DIR = Path(__file__).resolve().parents[1] / "assets" / "generator"
SHIPPED_GENERATORS = {"small": "generalist_small.pt", "bandai": "generalist_bandai_small.pt"}
DEFAULT_SHIPPED = "small"


def resolve_generator(generator: Union[str, Path, None] = None) -> Path:
    """The checkpoint a ``generator=`` argument means: ``None`` the default shipped generalist, a name of
    :data:`SHIPPED_GENERATORS` that file, anything else a path."""
    if generator is None or str(generator) == "":
        generator = DEFAULT_SHIPPED
    name = str(generator)
    if name in SHIPPED_GENERATORS and not Path(name).is_file():  # a file of that name in the working dir wins
        return SHIPPED_DIR / SHIPPED_GENERATORS[name]
    return Path(generator)


def save_checkpoint(path: Union[str, Path], payload: Dict[str, Any]) -> Path:
    """Write ``payload`` (plus format/version tags) atomically."""
    return atomic_torch_save(path, with_checksum({"format": FORMAT, "version": VERSION, **payload}))


def load_checkpoint(path: Union[str, Path], map_location: Union[str, torch.device] = "cpu") -> Dict[str, Any]:
    """Read a generator checkpoint with ``weights_only=True``; corrupt or foreign files raise
    :class:`~kinemic_aug.errors.CacheError`."""
    path = Path(path)
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise CacheError(f"{path}: not a readable generator checkpoint ({type(e).__name__}: {str(e)[:300]})") from e
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CacheError(f"{path}: not a kinemic_aug generator checkpoint "
                         f"(format={ckpt.get('format') if isinstance(ckpt, dict) else type(ckpt).__name__!r})")
    if ckpt.get("version", 0) > VERSION:
        raise CacheError(f"{path}: checkpoint version {ckpt['version']} is newer than this library ({VERSION})")
    verify_checksum(ckpt, str(path))
    for key in ("model", "config", "representation", "step"):
        if key not in ckpt:
            raise CacheError(f"{path}: checkpoint lacks {key!r}")
    return ckpt


@dataclass
class GeneratorBundle:
    """Everything needed to sample from a trained generator."""

    model: MotionDenoiser
    representation: MotionRepresentation
    schedule: NoiseSchedule
    config: Dict[str, Any]
    step: int
    corpus: Optional[Dict[str, Any]] = None  # name and fingerprint of the training corpus


def load_generator(path: Union[str, Path], use_ema: bool = True,
                   device: Union[str, torch.device] = "cpu") -> GeneratorBundle:
    """Rebuild denoiser (EMA weights by default), representation and schedule from a checkpoint."""
    ckpt = load_checkpoint(path)
    cfg = ckpt["config"]
    model = MotionDenoiser(DenoiserConfig.from_dict(cfg["denoiser"]))
    sd = ckpt["ema"] if use_ema and ckpt.get("ema") else ckpt["model"]
    # the sinusoidal tables are deterministic; exported checkpoints leave them out (see below)
    sd = {**{k: v for k, v in model.state_dict().items() if k.endswith(".pe")}, **sd}
    try:
        model.load_state_dict(sd)
    except RuntimeError as e:
        raise CacheError(f"{path}: weights do not fit the stored config: {e}") from e
    sch = cfg["schedule"]
    return GeneratorBundle(model=model.to(device).eval(),
                           representation=representation_from_state_dict(ckpt["representation"]),
                           schedule=NoiseSchedule.make(sch["kind"], int(sch["num_steps"])),
                           config=cfg, step=int(ckpt["step"]), corpus=dict(ckpt.get("corpus") or {}))


def export_inference_checkpoint(src: Union[str, Path], dst: Union[str, Path], use_ema: bool = True,
                                extra: Optional[Dict[str, Any]] = None) -> Path:
    """Write a sampling-only copy of a training checkpoint: the EMA (or live) weights as ``model``,
    the config, representation statistics, step, corpus provenance and the loss history; no optimizer,
    no RNG state (a quarter of the size). ``extra`` adds plain-type provenance (training time, machine)."""
    ckpt = load_checkpoint(src)
    weights = ckpt["ema"] if use_ema and ckpt.get("ema") else ckpt["model"]
    payload: Dict[str, Any] = {
        # without the sinusoidal position tables (deterministic, rebuilt by load_generator): half the size
        "model": {k: v.detach().clone() for k, v in weights.items() if not k.endswith(".pe")},
        "config": ckpt["config"], "representation": ckpt["representation"], "step": int(ckpt["step"]),
        "corpus": ckpt.get("corpus", {}), "losses": ckpt.get("losses"), "val_history": ckpt.get("val_history"),
        "exported_from": {"weights": "ema" if use_ema and ckpt.get("ema") else "model", "step": int(ckpt["step"])},
    }
    if extra:
        payload["provenance"] = dict(extra)
    return save_checkpoint(dst, payload)
