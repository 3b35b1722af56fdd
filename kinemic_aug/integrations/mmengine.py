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
through the wrapped dataset's pipeline. Synthetic samples carry ``is_synthetic=True``.

It follows MMEngine's wrapper contract (as ``RepeatDataset``/``ClassBalancedDataset``): ``metainfo``,
idempotent ``full_init``, ``get_data_info``, ``__getitem__``, ``__len__``, ``get_cat_ids``; subsets are
refused.
"""
from __future__ import annotations

import copy
from typing import Any, Dict, List, Optional, Union

from mmengine.dataset import BaseDataset
from mmengine.registry import DATASETS

from ..adapt import AdaptConfig
from ..augmenter import KineMICAugmenter
from ..errors import DataError
from ..synthesis import SynthesisConfig


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
    """

    def __init__(self, dataset: Union[dict, BaseDataset], augmenter: Optional[Dict[str, Any]] = None,
                 lazy_init: bool = False):
        self.dataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.augmenter_cfg = dict(augmenter or {})
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
        if kw.pop("shots", None) is not None:
            raise DataError("select the shots in the wrapped dataset (few_shot=...), not in augmenter", field="shots")
        return KineMICAugmenter(real, layout=layout, **kw)

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        if hasattr(self.dataset, "full_init"):
            self.dataset.full_init()
        real = [self.dataset.get_data_info(i) for i in range(len(self.dataset))]
        for r in real:
            r.setdefault("is_synthetic", False)
        self.augmenter = self._build_augmenter(real)
        layout = self.augmenter.domain.layout
        synthetic = []
        for s in self.augmenter.synthetic_annotations():
            s = dict(s)
            s["layout"] = layout
            synthetic.append(s)
        self.data_list = real + synthetic
        self._metainfo["num_real"] = len(real)
        self._metainfo["num_synthetic"] = len(synthetic)
        self._fully_initialized = True

    def get_data_info(self, idx: int) -> dict:
        if not self._fully_initialized:
            self.full_init()
        return copy.deepcopy(self.data_list[idx])

    def __len__(self) -> int:
        if not self._fully_initialized:
            self.full_init()
        return len(self.data_list)

    def __getitem__(self, idx: int) -> Any:
        return self.dataset.pipeline(self.get_data_info(idx))

    def get_cat_ids(self, idx: int) -> List[int]:
        return [int(self.get_data_info(idx)["label"])]

    def _get_ori_dataset_idx(self, idx: int):
        n_real = self._metainfo.get("num_real", 0)
        return ("real", idx) if idx < n_real else ("synthetic", idx - n_real)

    def get_subset_(self, indices: Any) -> None:
        raise NotImplementedError("KineMICAugmentedDataset does not support subsets; subset the wrapped dataset")

    def get_subset(self, indices: Any) -> "KineMICAugmentedDataset":
        raise NotImplementedError("KineMICAugmentedDataset does not support subsets; subset the wrapped dataset")
