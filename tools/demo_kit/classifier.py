"""The classifier side of the demo, through MMEngine: an in-memory dataset (research data is never
written anywhere), a progress bar, the label remapping and the config both arms share, one training run."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np

import har.mm  # noqa: F401  (registers the har components in MMEngine's registries)
from har.datasets.pose_dataset import PoseDataset
from har.registry import DATASETS, HOOKS
from kinemic_aug.errors import DataError
from mmengine.hooks import Hook


#: annotation lists the demo's datasets read, by name (in-process only: research data stays in memory)
_MEMORY: Dict[str, List[dict]] = {}


@DATASETS.register_module(force=True)
class DemoMemoryDataset(PoseDataset):
    """A :class:`PoseDataset` over annotation dicts held in this process; ``ann_file`` names the list
    in :data:`_MEMORY`. Why: the demo's subsets (few shots, synthetic samples, a class subset with
    remapped labels) are never written to disk, so research data is not copied anywhere."""

    def load_data_list(self) -> List[dict]:
        anns = _MEMORY.get(str(self.ann_file))
        if anns is None:
            raise DataError(f"no in-memory annotation list named {self.ann_file!r}", field="ann_file")
        out = []
        for a in anns:
            sid = a.get("frame_dir")
            kp = a.get("keypoint")
            if not isinstance(kp, np.ndarray) or kp.ndim != 4:
                raise DataError(f"expected keypoint [M, T, V, C], got {getattr(kp, 'shape', type(kp).__name__)}",
                                source=self.ann_file, sample=sid, field="keypoint")
            label = int(a["label"])
            if self.num_classes is not None and not 0 <= label < self.num_classes:
                raise DataError(f"label {label} outside 0..{self.num_classes - 1}", source=self.ann_file, sample=sid,
                                field="label")
            info = dict(a, label=label)
            info.setdefault("total_frames", kp.shape[1])
            info.setdefault("is_synthetic", False)
            if self.layout is not None:
                info["layout"] = self.layout
            out.append(info)
        if not out:
            raise DataError("no samples", source=self.ann_file, field="annotations")
        self._metainfo["layout"] = self.layout
        return out


@HOOKS.register_module(force=True)
class DemoProgressHook(Hook):
    """A tqdm bar over the optimizer steps (the demo keeps MMEngine's console log at WARNING)."""

    priority = "VERY_LOW"

    def __init__(self, desc: str = "train") -> None:
        self.desc = desc
        self._bar = None

    def before_train(self, runner) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=runner.max_iters, desc=self.desc, leave=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        loss = (outputs or {}).get("loss")
        if loss is not None:
            value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
            self._bar.set_postfix(loss=f"{value:.3f}", refresh=False)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def remap(anns: Sequence[dict], classes: Sequence[int]) -> List[dict]:
    """Keep the samples of ``classes`` with labels renumbered ``0..K-1`` (the original id is kept as
    ``orig_label``), so both arms' classifiers have exactly K outputs."""
    index = {int(c): i for i, c in enumerate(classes)}
    return [dict(a, label=index[int(a["label"])], orig_label=int(a["label"])) for a in anns if int(a["label"]) in index]


def build_classifier_config(config: Path, *, train_name: str, test_name: str, layout: str, num_classes: int,
                            steps: int, seed: int, work_dir: Path, desc: str, verbose: bool):
    """The base config's model, pipelines, optimizer and runtime; the training and test sets swapped for
    in-memory ones; ``steps`` optimizer steps with the base's warm-up + cosine shape; one validation at
    the end (the reported number)."""
    from har.training import load_config

    cfg = load_config(config, work_dir=str(work_dir), seed=seed)
    train_pipe, test_pipe = cfg.get("train_pipeline"), cfg.get("test_pipeline")
    if train_pipe is None or test_pipe is None:
        raise DataError(f"{config} defines no train_pipeline/test_pipeline to reuse", source=str(config),
                        field="config")
    ds = dict(type="DemoMemoryDataset", layout=layout, num_classes=num_classes)
    cfg.train_dataloader = dict(batch_size=cfg.train_dataloader.get("batch_size", 16), num_workers=0,
                                persistent_workers=False, sampler=dict(type="InfiniteSampler", shuffle=True),
                                dataset=dict(ds, ann_file=train_name, pipeline=train_pipe))
    cfg.val_dataloader = dict(batch_size=cfg.val_dataloader.get("batch_size", 32), num_workers=0,
                              persistent_workers=False, sampler=dict(type="DefaultSampler", shuffle=False),
                              dataset=dict(ds, ann_file=test_name, pipeline=test_pipe, test_mode=True))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.backbone.graph_cfg.layout = layout
    cfg.model.cls_head.num_classes = num_classes
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=steps, val_interval=steps)
    warm = max(1, min(40, steps // 10))
    cfg.param_scheduler = [
        dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=warm),
        dict(type="CosineAnnealingLR", T_max=steps, eta_min=0.0, by_epoch=False, begin=0, end=steps)]
    cfg.default_hooks.logger.interval = max(1, min(50, steps))
    cfg.log_processor = dict(type="LogProcessor", window_size=max(1, min(50, steps)), by_epoch=False)
    cfg.custom_hooks = list(cfg.get("custom_hooks", []) or []) + [dict(type="DemoProgressHook", desc=desc)]
    if not verbose:
        cfg.log_level = "WARNING"
    return cfg


def train_arm(name: str, train: List[dict], test: List[dict], *, config: Path, layout: str, num_classes: int,
              steps: int, seed: int, work_root: Path, verbose: bool) -> Dict[str, Any]:
    """One classifier run through ``har.training.run_training`` (MMEngine Runner); top-1/top-5 of the
    final validation on the test set and the wall time (training + evaluation)."""
    from har.training import run_training

    slug = name.replace(" ", "_").replace("+", "plus")
    _MEMORY[f"demo:{slug}:train"], _MEMORY[f"demo:{slug}:test"] = train, test
    cfg = build_classifier_config(config, train_name=f"demo:{slug}:train", test_name=f"demo:{slug}:test",
                                  layout=layout, num_classes=num_classes, steps=steps, seed=seed,
                                  work_dir=work_root / slug, desc=name, verbose=verbose)
    t0 = time.perf_counter()
    try:
        summary = run_training(cfg)
    finally:
        _MEMORY.pop(f"demo:{slug}:train", None)
        _MEMORY.pop(f"demo:{slug}:test", None)
    seconds = time.perf_counter() - t0
    last = summary.get("last") or {}
    if "acc/top1" not in last:
        raise DataError(f"arm {name!r}: the run recorded no validation (see {summary.get('log_dir')})",
                        field="acc/top1")
    n_syn = sum(bool(a.get("is_synthetic")) for a in train)
    return {"arm": name, "train_real": len(train) - n_syn, "train_synthetic": n_syn, "test_samples": len(test),
            "top1": float(last["acc/top1"]), "top5": float(last.get("acc/top5", float("nan"))),
            "steps": steps, "seconds": seconds, "work_dir": summary.get("work_dir")}
