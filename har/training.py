"""Helpers shared by ``tools/train.py``, ``tools/multi_seed.py`` and the benchmarks.

* :func:`apply_seed` makes one seed drive *both* the few-shot draw and the training randomness, so a
  multi-seed mean covers the variance of which shots were picked as well as of the optimisation.
* :func:`run_training` builds a Runner from a config, trains, and returns the last/best validation
  summary kept by :class:`har.hooks.AccuracyHistoryHook`.
* :func:`export_weights` writes a plain state-dict checkpoint (tensors only, atomic) that loads with
  ``torch.load(..., weights_only=True)`` even without ``har`` imported.
* :func:`load_recognizer` builds a config's model and loads a checkpoint into it (eval mode), with
  errors that name the file.
* :func:`last_checkpoint` reads the checkpoint a run's ``last_checkpoint`` file names, the one place the
  tools and benchmarks learn where a finished (or interrupted) run left its weights.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Union

from mmengine.config import Config, ConfigDict

from kinemic_aug.utils.io import atomic_torch_save


def _datasets(cfg_ds: Any) -> Iterator[dict]:
    """The dataset config and every nested ``dataset`` / ``datasets`` (through wrappers)."""
    if isinstance(cfg_ds, (dict, ConfigDict)):
        yield cfg_ds
        if "dataset" in cfg_ds:
            yield from _datasets(cfg_ds["dataset"])
        for d in cfg_ds.get("datasets", []) or []:
            yield from _datasets(d)


def apply_seed(cfg: Config, seed: int) -> Config:
    """Set ``randomness.seed``, the ``few_shot.seed`` of every training dataset and the ``augmenter.seed``
    of every KineMIC wrapper to ``seed``.

    A dataset with ``few_shot=dict(..., fixed_seed=True)`` keeps its own seed (for experiments that
    vary only the training seed).
    """
    cfg.randomness = dict(cfg.get("randomness", {}) or {}, seed=int(seed))
    train_ds = cfg.get("train_dataloader", {}).get("dataset")
    for ds in _datasets(train_ds):
        fs = ds.get("few_shot")
        if isinstance(fs, (dict, ConfigDict)) and not fs.get("fixed_seed", False):
            fs["seed"] = int(seed)
        aug = ds.get("augmenter")  # KineMICAugmentedDataset: adapters and synthetic samples follow the seed too
        if isinstance(aug, (dict, ConfigDict)) and not aug.get("fixed_seed", False):
            aug["seed"] = int(seed)
    return cfg


def load_config(path: Union[str, os.PathLike], work_dir: Optional[str] = None, seed: Optional[int] = None,
                cfg_options: Optional[dict] = None) -> Config:
    cfg = Config.fromfile(str(path))
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if seed is not None:
        apply_seed(cfg, seed)
    if work_dir is not None:
        cfg.work_dir = work_dir
    elif cfg.get("work_dir") is None:
        cfg.work_dir = str(Path("work_dirs") / Path(path).stem)
    return cfg


def history_summary(work_dir: Union[str, os.PathLike], filename: str = "acc_history.json") -> Optional[dict]:
    import json

    p = Path(work_dir) / filename
    if not p.exists():
        return None
    return json.loads(p.read_text(encoding="utf-8"))


def run_training(cfg: Config) -> Dict[str, Any]:
    """Train with ``Runner.from_cfg`` and return the accuracy summary (``last``, ``best``, ``history``)."""
    import har.mm  # noqa: F401  (registers everything)
    from mmengine.runner import Runner

    from .hooks import AccuracyHistoryHook

    hooks = list(cfg.get("custom_hooks", []) or [])
    if not any(h.get("type") == "AccuracyHistoryHook" for h in hooks):
        hooks.append(dict(type="AccuracyHistoryHook"))
    cfg.custom_hooks = hooks
    runner = Runner.from_cfg(cfg)
    runner.train()
    summary = None
    for h in runner.hooks:
        if isinstance(h, AccuracyHistoryHook):
            summary = h.summary()
    return dict(summary or {}, work_dir=str(runner.work_dir), log_dir=str(runner.log_dir))


def format_summary(summary: Dict[str, Any]) -> str:
    """One line: last-epoch and best-epoch top-1 (the first is the headline figure)."""
    last, best = summary.get("last"), summary.get("best")
    key = summary.get("key", "acc/top1")
    if not last:
        return "no validation results recorded"

    def at(rec: dict) -> str:  # iteration-based loops leave epoch at 0
        return f"epoch {rec['epoch']}, iter {rec.get('iter')}" if rec.get("epoch") else f"iter {rec.get('iter')}"

    return (f"last-epoch {key} = {100 * last[key]:.2f}% ({at(last)}); "
            f"best-epoch {key} = {100 * best[key]:.2f}% ({at(best)}; optimistic, selected on the val split)")


def last_checkpoint(work_dir: Union[str, os.PathLike],
                    base: Optional[Union[str, os.PathLike]] = None) -> Optional[Path]:
    """The checkpoint named by ``work_dir/last_checkpoint`` (MMEngine rewrites that file at every save), or
    ``None`` when the run has saved none yet, so a caller can tell "not trained" from "broken".

    A relative name is taken against ``base``, the directory the run was launched from (default: the current
    one), because MMEngine writes the path as it was given to the Runner. The file itself need not exist: a
    caller that loads it gets the loader's error naming the path. An empty ``last_checkpoint`` raises
    :class:`~kinemic_aug.errors.DataError`.
    """
    from kinemic_aug.errors import DataError

    marker = Path(work_dir) / "last_checkpoint"
    if not marker.is_file():
        return None
    name = marker.read_text(encoding="utf-8").strip()
    if not name:
        raise DataError("last_checkpoint is empty (the run was interrupted while saving?)", source=str(marker),
                        field="last_checkpoint")
    ckpt = Path(name)
    return ckpt if ckpt.is_absolute() else Path(base or Path.cwd()) / ckpt


def export_weights(checkpoint: Union[str, os.PathLike], out: Union[str, os.PathLike]) -> Path:
    """Copy the model ``state_dict`` of an MMEngine checkpoint into a tensors-only file (atomic)."""
    import torch

    import har.registry  # noqa: F401  (allows MMEngine's message hub in weights_only loads)

    ckpt = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    state = ckpt.get("state_dict", ckpt)
    meta = ckpt.get("meta", {}) or {}
    plain = {"state_dict": {k: v for k, v in state.items() if isinstance(v, torch.Tensor)},
             "meta": {k: meta[k] for k in ("epoch", "iter", "seed", "experiment_name") if k in meta
                      and isinstance(meta[k], (int, float, str))}}
    return atomic_torch_save(out, plain)


def load_recognizer(config: Union[str, os.PathLike], checkpoint: Union[str, os.PathLike],
                    cfg_options: Optional[dict] = None, seed: Optional[int] = None):
    """``(model, cfg)``: the config's model with the checkpoint's weights (an MMEngine checkpoint or an
    :func:`export_weights` file, read with ``weights_only=True``; strict), in eval mode."""
    import torch

    import har.mm  # noqa: F401  (registers models and transforms)
    import har.registry  # noqa: F401  (allows MMEngine's message hub in weights_only loads)
    from har.registry import MODELS
    from kinemic_aug.errors import DataError

    cfg = load_config(config, cfg_options=cfg_options, seed=seed)
    try:
        ckpt = torch.load(str(checkpoint), map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001  (pickle, zip and unpickling errors alike)
        raise DataError(f"cannot read classifier checkpoint: {e}", source=str(checkpoint), field="checkpoint") from e
    state = ckpt.get("state_dict", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict):
        raise DataError("checkpoint has no state_dict", source=str(checkpoint), field="checkpoint")
    model = MODELS.build(cfg.model)
    try:
        model.load_state_dict({k: v for k, v in state.items() if isinstance(v, torch.Tensor)}, strict=True)
    except RuntimeError as e:
        raise DataError(f"checkpoint does not fit the config's model: {e}", source=str(checkpoint),
                        field="checkpoint") from e
    model.eval()
    return model, cfg
