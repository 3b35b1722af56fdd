"""PYSKL-pickle dataset for MMEngine, with few-shot selection and an explicit skeleton layout.

The annotation pickle (the PYSKL format, see :mod:`kinemic_aug.data.pyskl`) is read with
:func:`kinemic_aug.data.pyskl.load_pyskl` (safe unpickling and validation). A split name picks the samples;
``few_shot`` then keeps K samples per class of that split, chosen by
:func:`kinemic_aug.data.fewshot.make_few_shot_split`, so every experiment that says "5 shots, seed 2" trains on
the same samples. The dataset's ``layout`` is written into every sample (``results['layout']``), which is how
:class:`PreNormalize3D` and :class:`GenSkeFeat` find the right joints for a non-NTU skeleton.
"""
from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import BaseDataset

from kinemic_aug.errors import DataError
from kinemic_aug.skeleton import get_layout

from ..registry import DATASETS

FewShotSpec = Union[None, dict, str, os.PathLike]


REPO_ROOT = Path(__file__).resolve().parents[2]


def resolve_path(path: Union[str, os.PathLike]) -> str:
    """A relative path as given if it exists from the current directory, else from the repository root
    (configs name research data as ``../shared/...`` relative to the repo)."""
    p = Path(path).expanduser()
    if p.is_absolute() or p.exists():
        return str(p)
    alt = REPO_ROOT / p
    return str(alt) if alt.exists() else str(p)


def load_annotations(path: Union[str, os.PathLike], layout: Optional[str] = None,
                     num_classes: Optional[int] = None) -> dict:
    """Read a PYSKL pickle through the shared safe loader (no code runs while unpickling; every sample
    is validated once, so a broken one is reported by id before training starts)."""
    from kinemic_aug.data.pyskl import load_pyskl

    return load_pyskl(path, safe=True, validate=True, layout=layout, num_classes=num_classes)


def few_shot_ids(data: dict, split: str, few_shot: FewShotSpec, dataset: str = "") -> List[str]:
    """Sample ids kept by a few-shot spec.

    ``few_shot`` is either a manifest path (a :class:`kinemic_aug.data.fewshot.FewShotSplit` JSON, or
    any JSON with an ``ids`` list) or a dict for :func:`make_few_shot_split` with keys ``shots``,
    ``seed`` and optionally ``allow_fewer`` (take all samples of a class with fewer than K; MSR's
    ``xsub_train`` has 9 "side kick" sequences), ``test_split`` and ``subject_key`` (checks that no
    subject is in both splits), ``classes``.
    """
    if isinstance(few_shot, (str, os.PathLike)):
        path = Path(few_shot)
        try:
            man = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as e:
            raise DataError(f"cannot read few-shot manifest: {e}", source=str(path), field="few_shot") from None
        if isinstance(man, dict) and "format" in man:
            from kinemic_aug.data.fewshot import FewShotSplit

            return list(FewShotSplit.from_dict(man, source=str(path)).ids)
        ids = man.get("ids") if isinstance(man, dict) else man
        if not isinstance(ids, list) or not ids:
            raise DataError("few-shot manifest must hold a non-empty 'ids' list", source=str(path), field="ids")
        return [str(i) for i in ids]
    if not isinstance(few_shot, dict) or "shots" not in few_shot:
        raise DataError(f"few_shot must be dict(shots=K, seed=S) or a manifest path, got {few_shot!r}",
                        field="few_shot")
    from kinemic_aug.data.fewshot import make_few_shot_split, subject_from_key

    subject_key = few_shot.get("subject_key")
    fs = make_few_shot_split(data, split, int(few_shot["shots"]), int(few_shot.get("seed", 0)),
                             test_split=few_shot.get("test_split"),
                             subject_of=subject_from_key(subject_key) if subject_key else None, dataset=dataset,
                             classes=few_shot.get("classes"), allow_fewer=bool(few_shot.get("allow_fewer", False)))
    return list(fs.ids)


@DATASETS.register_module()
class PoseDataset(BaseDataset):
    """Skeleton samples of one split of a PYSKL pickle.

    Args:
        ann_file: the pickle.
        pipeline: transform configs (see :mod:`har.datasets.transforms`).
        split: split name (``xsub_train``, ...); ``None`` uses every annotation.
        layout: skeleton layout name of the data (``'msr_action3d'``, ``'nturgb+d'``, ...); ``None``
            reads ``meta['layout']`` from the pickle if present. Required by layout-aware steps.
        few_shot: ``dict(shots=K, seed=S, ...)`` (K per class, drawn from ``split`` only; see
            :func:`few_shot_ids` for the optional keys) or a manifest path.
        num_classes: if given, labels outside ``0..num_classes-1`` are an error.
        test_mode: MMEngine test mode (no re-fetch on failed samples).
        Other kwargs go to :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self, ann_file: str, pipeline: Sequence[Union[dict, Callable]] = (), split: Optional[str] = None,
                 layout: Optional[str] = None, few_shot: FewShotSpec = None, num_classes: Optional[int] = None,
                 test_mode: bool = False, **kwargs: Any) -> None:
        self.split = split
        self.layout = layout
        self.few_shot = copy.deepcopy(few_shot)
        self.num_classes = num_classes
        super().__init__(ann_file=ann_file, pipeline=list(pipeline), test_mode=test_mode, **kwargs)

    # ------------------------------------------------------------------ loading
    def load_data_list(self) -> List[dict]:
        src = resolve_path(self.ann_file)
        if not os.path.exists(src):
            raise DataError("annotation file not found (set the path in the config, e.g. KINEMIC_MSR_PKL)",
                            source=src, field="ann_file")
        data = load_annotations(src, layout=self.layout, num_classes=self.num_classes)
        if not isinstance(data, dict) or "annotations" not in data:
            raise DataError("not a PYSKL annotation pickle (needs 'annotations' and 'split')", source=src,
                            field="annotations")
        meta = data.get("meta") or {}
        layout = self.layout or meta.get("layout")
        if layout is not None:
            layout = get_layout(layout).name
        anns = data["annotations"]
        key = "frame_dir" if anns and "frame_dir" in anns[0] else "filename"
        if self.split is not None:
            splits = data.get("split") or {}
            if self.split not in splits:
                raise DataError(f"unknown split {self.split!r}; available: {sorted(splits)}", source=src,
                                field="split")
            keep = set(splits[self.split])
            anns = [a for a in anns if a.get(key) in keep]
        split_counts: Dict[int, int] = {}
        for a in anns:
            if isinstance(a.get("label"), (int, np.integer)):
                split_counts[int(a["label"])] = split_counts.get(int(a["label"]), 0) + 1
        if self.few_shot is not None:
            if self.split is None:
                raise DataError("few_shot needs a split to draw the shots from (e.g. split='xsub_train')",
                                source=src, field="few_shot")
            ids = few_shot_ids(data, self.split, self.few_shot, dataset=str(meta.get("dataset", "")))
            by_id = {a.get(key): a for a in anns}
            missing = [i for i in ids if i not in by_id]
            if missing:
                raise DataError(f"{len(missing)} few-shot ids are not in split {self.split!r}, e.g. {missing[:3]}",
                                source=src, field="few_shot")
            anns = [by_id[i] for i in ids]
        out = []
        for a in anns:
            sid = a.get(key)
            kp = a.get("keypoint")
            if not isinstance(kp, np.ndarray) or kp.ndim != 4:
                raise DataError(f"expected keypoint [M, T, V, C], got {getattr(kp, 'shape', type(kp).__name__)}",
                                source=src, sample=sid, field="keypoint")
            label = a.get("label")
            if label is None or int(label) != label or label < 0:
                raise DataError(f"label must be a non-negative int, got {label!r}", source=src, sample=sid, field="label")
            if self.num_classes is not None and label >= self.num_classes:
                raise DataError(f"label {label} >= num_classes {self.num_classes}", source=src, sample=sid,
                                field="label")
            info = dict(a)
            info["label"] = int(label)
            info.setdefault("total_frames", kp.shape[1])
            info.setdefault("is_synthetic", False)
            if layout is not None:
                info["layout"] = layout
            out.append(info)
        if not out:
            raise DataError(f"no samples selected (split={self.split!r}, few_shot={self.few_shot!r})", source=src,
                            field="split")
        if meta.get("classes") is not None and "classes" not in self._metainfo:
            self._metainfo["classes"] = tuple(meta["classes"])
        self._metainfo["layout"] = layout
        # samples per class in the split before any few-shot draw (what a synthetic set mirroring the
        # training pool needs; the shots alone do not tell it)
        self._metainfo["split_class_counts"] = dict(sorted(split_counts.items()))
        return out

    def get_cat_ids(self, idx: int) -> List[int]:
        """Label of sample ``idx`` (lets ``ClassBalancedDataset`` wrap this dataset)."""
        return [int(self.get_data_info(idx)["label"])]

    def class_counts(self) -> Dict[int, int]:
        counts: Dict[int, int] = {}
        for i in range(len(self)):
            lab = self.get_cat_ids(i)[0]
            counts[lab] = counts.get(lab, 0) + 1
        return dict(sorted(counts.items()))
