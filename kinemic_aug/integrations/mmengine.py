"""``KineMICAugmentedDataset``: wrap any MMEngine skeleton dataset config and serve real + synthetic.

Use it in a config by wrapping the training dataset::

    custom_imports = dict(imports=['har.mm', 'kinemic_aug.integrations.mmengine'], allow_failed_imports=False)
    train_dataloader = dict(dataset=dict(
        type='KineMICAugmentedDataset',
        dataset=dict(type='PoseDataset', ann_file=..., split='xsub_train', few_shot=dict(shots=5, seed=0), ...),
        augmenter=dict(labels='msr_action3d', synthetic_per_class=60, cache_dir='work_dirs/kinemic_cache')))

The wrapped dataset's samples (after its own split/few-shot selection) are the shots. The augmenter
runs once in :meth:`full_init` (adapters and synthetic sets come from the cache after the first run;
the generator is never sampled in ``__getitem__``), and every sample, real or synthetic, goes
through the wrapped dataset's pipeline, unless ``synthetic_pipeline`` gives the synthetic samples their own
(e.g. classic augmentation on the real shots only: the synthetic samples are already variations of them).
Synthetic samples carry ``is_synthetic=True``; with ``variant='retrieved'`` the added samples are real corpus
clips of other datasets instead (``is_synthetic=False``, ``retrieved=True``; :mod:`kinemic_aug.augmenter.retrieved`), which
``synthetic_pipeline`` and ``RealShareSampler`` treat as added samples, not as shots.

With ``report_dir`` (``tools/train.py`` sets it to the run's work dir) the wrapper also writes, atomically,
``kinemic_report.json`` (per-class adaptation/synthesis seconds, cache hits and filter counts, so a
benchmark can report speed without re-running anything) and ``synthetic.pkl`` (the synthetic samples
as a PYSKL pickle with one split ``synthetic``, so generation metrics can be computed afterwards).

It follows MMEngine's wrapper contract (as ``RepeatDataset``/``ClassBalancedDataset``): ``metainfo``,
idempotent ``full_init``, ``get_data_info``, ``__getitem__``, ``__len__``, ``get_cat_ids``; subsets are
refused. ``RealShareSampler`` (``integrations/sampler.py``, registered by importing this module) serves
it with a fixed share of real samples in the stream instead of ``real_repeat``'s duplicated list.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from mmengine.dataset import BaseDataset, Compose
from mmengine.registry import DATASETS

from ..adapt import AdaptConfig
from ..augmenter import KineMICAugmenter
from ..errors import DataError
from ..synthesis import SynthesisConfig
from .sampler import RealShareSampler  # noqa: F401  (registered with this module's import, for custom_imports)
from .real_bn import RealBatchNormHook  # noqa: F401  (registered with this module's import, for custom_imports)


@DATASETS.register_module()
class KineMICAugmentedDataset:
    """See the module docstring.

    Args:
        dataset: the wrapped dataset (config dict or instance) - typically a few-shot ``PoseDataset``.
        augmenter: keyword arguments of :class:`~kinemic_aug.augmenter.KineMICAugmenter` (``labels``,
            ``synthetic_per_class`` or ``synthetic_ratio``, ``variant``, ``generator``, ``cache_dir``,
            ``device``, ``seed``, ...); ``adapt`` and ``synthesis`` may be dicts. ``layout`` defaults to the
            wrapped dataset's ``metainfo['layout']``; ``fps`` to the layout's native rate.
        lazy_init: defer the augmenter run until :meth:`full_init` (as MMEngine datasets do).
        report_dir: if set, write ``kinemic_report.json`` and ``synthetic.pkl`` there after the augmenter ran.
        real_repeat: list every real shot this many times, so the few real samples keep their weight in
            each epoch next to many synthetic ones (the synthetic set is drawn once; this is oversampling,
            not new data). ``1``: each sample once. ``0``: the synthetic samples alone (the shots are still
            what the augmenter adapts to and anchors on), for a classifier pretrained on them and then
            fine-tuned on the shots with ``load_from``. On MSR Action3D's validation stage (3 shots) that order
            beat a control trained as many steps on the shots alone by 12-16 points (seeds 0-2), where mixing
            the same kind of samples in lost up to 12 (``docs/research-log.md``, 2026-12-03).
        consistency: keyword arguments of :class:`~kinemic_aug.integrations.consistency.ConsistencyFilter`
            (``config``, ``checkpoint`` of a classifier trained on the same shots alone, ``min_prob``): only
            the synthetic samples it assigns to their own class are served; the per-class counts go into
            the report. ``None``: every synthetic sample is served.
        synthetic_pipeline: transform configs for the synthetic samples only (the real ones keep the wrapped
            dataset's pipeline). ``None``: the wrapped dataset's pipeline for both.
    """

    def __init__(self, dataset: Union[dict, BaseDataset], augmenter: Optional[Dict[str, Any]] = None,
                 lazy_init: bool = False, report_dir: Optional[str] = None, real_repeat: int = 1,
                 consistency: Optional[Dict[str, Any]] = None,
                 synthetic_pipeline: Optional[List[Union[dict, Any]]] = None):
        if int(real_repeat) < 0:
            raise DataError(f"real_repeat must be >= 0, got {real_repeat}", field="real_repeat")
        self.real_repeat = int(real_repeat)
        self.consistency_cfg = dict(consistency) if consistency else None
        self.consistency: Dict[str, Any] = {}
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.synthetic_pipeline_cfg = None if synthetic_pipeline is None else list(synthetic_pipeline)
        self.synthetic_pipeline = None if synthetic_pipeline is None else Compose(self.synthetic_pipeline_cfg)
        self.augmenter_cfg = dict(augmenter or {})
        self.report_dir = report_dir
        self.augment_seconds = float("nan")
        self._metainfo = copy.deepcopy(self.dataset.metainfo)
        self._fully_initialized = False
        self.data_list: List[dict] = []
        self.augmenter: Optional[KineMICAugmenter] = None
        if not lazy_init:
            self.full_init()

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self._metainfo)

    def _build_augmenter(self, real: List[dict]) -> KineMICAugmenter:
        kw = dict(self.augmenter_cfg)
        preset = kw.pop("preset", None)
        if preset is not None:
            from ..augmenter.presets import preset_kwargs
            kw = preset_kwargs(preset, kw)
        if kw.get("synthetic_per_class") == "mirror":
            # the wrapped dataset holds the shots only: the counts come from the split they were drawn from
            counts = getattr(self.dataset, "metainfo", {}).get("split_class_counts")
            if not counts:
                raise DataError("synthetic_per_class='mirror' needs the class counts of the split the shots were "
                                "drawn from, and the wrapped dataset does not report them (metainfo "
                                "'split_class_counts'; har's PoseDataset does): pass a {class: count} mapping",
                                field="synthetic_per_class")
            kw["synthetic_per_class"] = {int(k): int(v) for k, v in counts.items()}
        if isinstance(kw.get("adapt"), dict):
            kw["adapt"] = AdaptConfig.from_dict(kw["adapt"])
        if isinstance(kw.get("synthesis"), dict):
            syn = dict(kw["synthesis"])
            if "compose_with" in syn:
                syn["compose_with"] = tuple(syn["compose_with"])
            kw["synthesis"] = SynthesisConfig(**syn)
        layout = kw.pop("layout", None) or self._metainfo.get("layout")
        if layout is None:
            raise DataError("the wrapped dataset has no layout in its metainfo: pass augmenter=dict(layout=...)",
                            field="layout")
        kw.setdefault("progress", False)
        kw.pop("fixed_seed", None)  # read by har.training.apply_seed (keep this seed whatever the run seed)
        if kw.pop("shots", None) is not None:
            raise DataError("select the shots in the wrapped dataset (few_shot=...), not in augmenter", field="shots")
        aug = KineMICAugmenter(real, layout=layout, **kw)
        aug.preset = preset
        return aug

    def _judge(self, synthetic: List[dict], layout: str) -> List[dict]:
        """Drop the synthetic samples the shots-only classifier does not assign to their own class."""
        from .consistency import ConsistencyFilter

        t0 = time.time()
        keep = ConsistencyFilter(**{"layout": layout, **self.consistency_cfg}).keep_mask(synthetic)
        per_class: Dict[int, List[int]] = {}
        for s, k in zip(synthetic, keep):
            per_class.setdefault(int(s["label"]), [0, 0])[0 if k else 1] += 1
        self.consistency = {"config": str(self.consistency_cfg.get("config")),
                            "checkpoint": str(self.consistency_cfg.get("checkpoint")),
                            "min_prob": float(self.consistency_cfg.get("min_prob", 0.0)),
                            "kept": int(keep.sum()), "dropped": int((~keep).sum()),
                            "seconds": round(time.time() - t0, 2),
                            "per_class": {str(c): {"kept": k, "dropped": d} for c, (k, d) in sorted(per_class.items())}}
        return [s for s, k in zip(synthetic, keep) if k]

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        if hasattr(self.dataset, "full_init"):
            self.dataset.full_init()
        real = [self.dataset.get_data_info(i) for i in range(len(self.dataset))]
        for r in real:
            r.setdefault("is_synthetic", False)
        t0 = time.time()
        self.augmenter = self._build_augmenter(real)
        layout = self.augmenter.domain.layout
        synthetic = []
        for s in self.augmenter.synthetic_annotations():
            s = dict(s)
            s["layout"] = layout
            synthetic.append(s)
        if self.consistency_cfg is not None:
            synthetic = self._judge(synthetic, layout)
        if not self.real_repeat and not synthetic:
            raise DataError("real_repeat=0 serves the synthetic samples alone, but the augmenter kept none",
                            field="real_repeat")
        self.data_list = real * self.real_repeat + synthetic
        self._metainfo["num_real"] = len(real) * self.real_repeat
        self._metainfo["real_repeat"] = self.real_repeat
        self._metainfo["num_real_unique"] = len(real)
        self._metainfo["num_synthetic"] = len(synthetic)
        self.augment_seconds = time.time() - t0
        self._fully_initialized = True
        if self.report_dir:
            self.write_report(self.report_dir)

    def report(self) -> Dict[str, Any]:
        """What the augmenter did: per-class reports (seconds, cache hits, filter counts) and totals."""
        if self.augmenter is None:
            raise RuntimeError("the augmenter has not run yet (call full_init first)")
        aug = self.augmenter

        def clean(v: Any) -> Any:  # NaN similarities (no pairing, e.g. zeroshot) are not valid JSON
            return None if isinstance(v, float) and math.isnan(v) else v

        classes = [{k: clean(v) for k, v in asdict(r).items()} for r in aug.reports.values()]
        loaded = aug.resources.loaded_generator  # never loaded just for the report
        return {"variant": aug.variant, "preset": aug.preset, "seed": aug.seed, "num_real": self._metainfo.get("num_real"),
                "real_repeat": self.real_repeat, "num_real_unique": self._metainfo.get("num_real_unique"),
                "num_synthetic": self._metainfo.get("num_synthetic"), "augment_seconds": self.augment_seconds,
                "adapt": aug.adapt_cfg.to_dict(), "synthesis": aug.synth_cfg.to_dict(),
                "synthetic_per_class": aug.synthetic_per_class, "synthetic_ratio": aug.synthetic_ratio,
                "generator": str(aug.generator_path),
                "corpus": None if aug.corpus_spec is None else str(aug.corpus_spec),
                "generator_sha256": aug.resources.generator_sha if loaded is not None else None,
                "generator_step": int(loaded.step) if loaded is not None else None, "target_norm": aug.target_norm,
                "target_stats": None if aug.target_stats is None else str(aug.target_stats),
                "consistency": self.consistency or None, "classes": classes,
                "synthetic_pipeline": None if self.synthetic_pipeline_cfg is None else
                [t.get("type") if isinstance(t, dict) else type(t).__name__ for t in self.synthetic_pipeline_cfg]}

    def write_report(self, directory: Union[str, Path]) -> Path:
        """Write ``kinemic_report.json`` and ``synthetic.pkl`` (SYNTHETIC samples only) into ``directory``."""
        from ..data.pyskl import save_pyskl
        from ..utils.io import atomic_write_json

        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        synthetic = [a for a in self.data_list if a.get("is_synthetic")]
        if synthetic:
            meta = {"layout": self._metainfo.get("layout"), "synthetic": True, "variant": self.augmenter.variant,
                    "note": "SYNTHETIC samples generated by KineMIC; never a test set"}
            save_pyskl({"split": {"synthetic": [a["frame_dir"] for a in synthetic]}, "annotations": synthetic,
                        "meta": meta}, out / "synthetic.pkl")
        else:  # no sample passed the filter: an older run's pickle must not pass for this one's
            (out / "synthetic.pkl").unlink(missing_ok=True)
        retrieved = [a for a in self.data_list if a.get("retrieved") and not a.get("is_synthetic")]
        if retrieved:  # the "retrieved" variant's real corpus clips (procedural ones are in synthetic.pkl)
            meta = {"layout": self._metainfo.get("layout"), "synthetic": False, "variant": self.augmenter.variant,
                    "note": "real clips of OTHER datasets, paired with the classes by caption (retrieved); never a "
                            "test set"}
            save_pyskl({"split": {"retrieved": [a["frame_dir"] for a in retrieved]}, "annotations": retrieved,
                        "meta": meta}, out / "retrieved.pkl")
        else:
            (out / "retrieved.pkl").unlink(missing_ok=True)
        return atomic_write_json(out / "kinemic_report.json", self.report())

    def get_data_info(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return copy.deepcopy(self.data_list[idx])

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.data_list)

    def __getitem__(self, idx: int) -> Any:
        info = self.get_data_info(idx)
        if self.synthetic_pipeline is not None and (info.get("is_synthetic") or info.get("retrieved")):
            return self.synthetic_pipeline(info)
        return self.dataset.pipeline(info)

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_data_info(idx)["label"])]

    def _get_ori_dataset_idx(self, idx: int):
        n_real = self._metainfo.get("num_real", 0)
        unique = self._metainfo.get("num_real_unique", n_real) or 1
        return ("real", idx % unique) if idx < n_real else ("synthetic", idx - n_real)

    def get_subset_(self, indices: Any) -> None:
        raise NotImplementedError("KineMICAugmentedDataset does not support subsets; subset the wrapped dataset")

    def get_subset(self, indices: Any) -> "KineMICAugmentedDataset":
        raise NotImplementedError("KineMICAugmentedDataset does not support subsets; subset the wrapped dataset")
