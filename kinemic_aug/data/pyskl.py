"""PYSKL / mmaction2 skeleton annotation pickles: validate, load, save, split.

The format (PYSKL's and mmaction2's skeleton annotation files) is a pickled dict::

    {"split": {"xsub_train": [frame_dir, ...], ...},
     "annotations": [{"frame_dir": str, "label": int, "keypoint": ndarray [M, T, V, C],
                      "total_frames": T, "keypoint_score": ndarray [M, T, V] (optional), ...}, ...],
     ...}                                    # other top-level keys (e.g. "meta") are kept

Some datasets name the sample id ``filename`` instead of ``frame_dir``; as in mmaction2, the key of
the first annotation decides. Extra per-sample keys (``subject``, ``is_synthetic``, ...) are kept.

Why validate up front: PYSKL's pipeline fails deep inside a DataLoader worker (or, worse, trains on
NaNs) when one of 100k samples is off. :func:`validate_annotations` checks every sample once and
raises a :class:`~kinemic_aug.errors.DataError` that names the file, the sample and the field.

The fields synthetic annotations must share with the real ones are kept by
:class:`~.annotation_template.AnnotationTemplate`.

Files are written by :func:`save_pyskl` with :func:`~kinemic_aug.data.safe_pickle.portable_dumps`,
so numpy 1.x and 2.x both load them.
"""
from __future__ import annotations

import os
import pickle
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

import numpy as np

from ..errors import DataError
from ..skeleton.layout import SkeletonLayout, get_layout
from ..utils.io import atomic_write_bytes
from . import safe_pickle

PathLike = Union[str, os.PathLike]
LayoutLike = Union[str, SkeletonLayout, dict]


#: Pickle protocol for :func:`save_pyskl`: readable by every Python 3.8+ (PYSKL and mmaction2 envs).
PICKLE_PROTOCOL = 4


def id_key(annotations: List[Mapping[str, Any]]) -> str:
    """The sample-id key used by ``annotations``: ``frame_dir`` or ``filename`` (first sample decides)."""
    if annotations and isinstance(annotations[0], Mapping) and "frame_dir" not in annotations[0] \
            and "filename" in annotations[0]:
        return "filename"
    return "frame_dir"


def sample_id(ann: Mapping[str, Any]) -> str:
    """``frame_dir`` (or ``filename``) of one annotation."""
    return ann["frame_dir"] if "frame_dir" in ann else ann["filename"]


def _is_int(x: Any) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_array(arr: Any, *, name: str, src: Optional[str], sid: Any) -> np.ndarray:
    if not isinstance(arr, np.ndarray):
        raise DataError(f"expected a numpy array, got {type(arr).__name__}", source=src, sample=sid, field=name)
    if not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise DataError(f"expected a numeric (int/float) dtype, got {arr.dtype}", source=src, sample=sid, field=name)
    if np.issubdtype(arr.dtype, np.floating) and not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise DataError(f"contains NaN or inf (first at index {bad})", source=src, sample=sid, field=name)
    return arr


def validate_annotation(ann: Any, *, source: Optional[str] = None, num_classes: Optional[int] = None,
                        num_joints: Optional[int] = None, index: Optional[int] = None,
                        key: str = "frame_dir") -> None:
    """Check one annotation dict; see :func:`validate_annotations`."""
    where = f"#{index}" if index is not None else None
    if not isinstance(ann, Mapping):
        raise DataError(f"annotation must be a dict, got {type(ann).__name__}", source=source, sample=where)
    if key not in ann:
        raise DataError(f"missing key {key!r} (keys: {sorted(map(str, ann))})", source=source, sample=where,
                        field=key)
    sid = ann[key]
    if not isinstance(sid, str) or not sid:
        raise DataError(f"sample id must be a non-empty str, got {sid!r}", source=source, sample=where, field=key)
    for k in ("label", "keypoint", "total_frames"):
        if k not in ann:
            raise DataError(f"missing key {k!r}", source=source, sample=sid, field=k)

    label = ann["label"]
    if not _is_int(label):
        raise DataError(f"label must be an int, got {type(label).__name__} {label!r}", source=source, sample=sid,
                        field="label")
    if label < 0:
        raise DataError(f"label must be >= 0 (0-based), got {label}", source=source, sample=sid, field="label")
    if num_classes is not None and label >= num_classes:
        raise DataError(f"label {label} out of range for {num_classes} classes", source=source, sample=sid,
                        field="label")

    kp = _check_array(ann["keypoint"], name="keypoint", src=source, sid=sid)
    if kp.ndim != 4:
        raise DataError(f"expected 4 dims [M, T, V, C], got shape {kp.shape}", source=source, sample=sid,
                        field="keypoint")
    m, t, v, c = kp.shape
    if c not in (2, 3):
        raise DataError(f"expected C in {{2, 3}} (last axis), got shape {kp.shape}", source=source, sample=sid,
                        field="keypoint")
    if m == 0:
        raise DataError(f"no persons (M = 0), shape {kp.shape}", source=source, sample=sid, field="keypoint")
    if t == 0:
        raise DataError(f"zero frames (T = 0), shape {kp.shape}", source=source, sample=sid, field="keypoint")
    if num_joints is not None and v != num_joints:
        raise DataError(f"V = {v} joints but the layout has {num_joints}", source=source, sample=sid,
                        field="keypoint")

    tf = ann["total_frames"]
    if not _is_int(tf):
        raise DataError(f"total_frames must be an int, got {tf!r}", source=source, sample=sid, field="total_frames")
    if tf != t:
        raise DataError(f"total_frames = {tf} but keypoint has T = {t} frames", source=source, sample=sid,
                        field="total_frames")

    if "keypoint_score" in ann and ann["keypoint_score"] is not None:
        sc = _check_array(ann["keypoint_score"], name="keypoint_score", src=source, sid=sid)
        if sc.shape != (m, t, v):
            raise DataError(f"expected shape [M, T, V] = {(m, t, v)}, got {sc.shape}", source=source, sample=sid,
                            field="keypoint_score")


def validate_annotations(data: Any, source: Optional[str] = None, num_classes: Optional[int] = None,
                         layout: Optional[LayoutLike] = None) -> None:
    """Check a PYSKL annotation dict; raise :class:`DataError` at the first problem.

    Checks, per sample: the id key (``frame_dir``/``filename``), ``label``, ``keypoint`` and
    ``total_frames`` are present; label is a non-negative int (``< num_classes`` if given);
    keypoint is a numeric ndarray [M, T, V, C] with C in {2, 3}, M >= 1, T >= 1, finite values and
    V equal to the layout's joint count (if ``layout`` is given); ``total_frames == T``;
    ``keypoint_score`` (if present) is numeric, finite and [M, T, V]. Across samples: ids are
    unique, and every id in every split names an annotation.

    Args:
        data: the unpickled dict.
        source: file name for the messages.
        num_classes: if given, labels must be < this.
        layout: if given (name, :class:`SkeletonLayout` or layout dict), V must match it.
    """
    if not isinstance(data, Mapping):
        raise DataError(f"expected a dict with 'split' and 'annotations', got {type(data).__name__}", source=source)
    if "annotations" not in data:
        raise DataError(f"missing top-level key 'annotations' (keys: {sorted(map(str, data))})", source=source,
                        field="annotations")
    anns = data["annotations"]
    if not isinstance(anns, list):
        raise DataError(f"'annotations' must be a list, got {type(anns).__name__}", source=source, field="annotations")
    num_joints = get_layout(layout).num_joints if layout is not None else None
    key = id_key(anns)
    seen: Dict[str, int] = {}
    for i, ann in enumerate(anns):
        validate_annotation(ann, source=source, num_classes=num_classes, num_joints=num_joints, index=i, key=key)
        sid = ann[key]
        if sid in seen:
            raise DataError(f"duplicate id (annotations #{seen[sid]} and #{i})", source=source, sample=sid, field=key)
        seen[sid] = i

    if "split" in data:
        split = data["split"]
        if not isinstance(split, Mapping):
            raise DataError(f"'split' must be a dict name -> list of ids, got {type(split).__name__}", source=source,
                            field="split")
        for name, ids in split.items():
            if not isinstance(ids, (list, tuple)):
                raise DataError(f"split {name!r} must be a list of ids, got {type(ids).__name__}", source=source,
                                field="split")
            for sid in ids:
                if sid not in seen:
                    raise DataError(f"split {name!r} lists an id that is not in 'annotations'", source=source,
                                    sample=sid, field="split")


def load_pyskl(path: PathLike, *, safe: bool = True, validate: bool = True,
               layout: Optional[LayoutLike] = None, num_classes: Optional[int] = None) -> Dict[str, Any]:
    """Load a PYSKL annotation pickle.

    Args:
        path: the ``.pkl`` file.
        safe: admit only plain containers and numpy arrays while unpickling (default). A pickle
            that references anything else raises :class:`DataError`; pass ``safe=False`` only for
            files you trust, since unpickling can run arbitrary code.
        validate: run :func:`validate_annotations` (recommended; costs one pass over the arrays).
        layout: check V against this layout.
        num_classes: check labels against this.

    Returns:
        The dict as stored (``split``, ``annotations`` and any other top-level keys).

    Raises:
        FileNotFoundError: no such file.
        DataError: unsafe, truncated or garbled pickle, or invalid content.
    """
    path = Path(path)
    data = safe_pickle.safe_load(path) if safe else safe_pickle.unsafe_load(path)
    if validate:
        validate_annotations(data, source=str(path), num_classes=num_classes, layout=layout)
    elif not isinstance(data, Mapping) or "annotations" not in data:
        raise DataError("not a PYSKL annotation dict (no 'annotations' key)", source=str(path))
    return data


def save_pyskl(data: Mapping[str, Any], path: PathLike, *, layout: Optional[LayoutLike] = None,
               num_classes: Optional[int] = None, portable: bool = True) -> Path:
    """Validate ``data`` and write it as a pickle atomically (never a half-written file).

    ``portable`` (default): arrays and numpy scalars are written through numpy's public names
    (:func:`~kinemic_aug.data.safe_pickle.portable_dumps`), so numpy 1.x and 2.x both load the file
    with a plain ``pickle.load`` (mmaction2's ``PoseDataset``, PYSKL). ``portable=False`` writes what
    ``pickle.dumps`` writes, which under numpy 2 names ``numpy._core`` (unreadable by numpy < 1.26).

    Raises:
        DataError: invalid content, or (``portable``) a value that cannot be written portably (object
            arrays, ndarray subclasses, long-double scalars), naming the sample and field.
    """
    path = Path(path)
    validate_annotations(data, source=str(path), num_classes=num_classes, layout=layout)
    if not portable:
        return atomic_write_bytes(path, pickle.dumps(dict(data), protocol=PICKLE_PROTOCOL))
    anns = data["annotations"]
    key = id_key(anns)
    for i, ann in enumerate(anns):
        for k, v in ann.items():
            why = safe_pickle.unportable(v)
            if why:
                raise DataError(f"cannot be written portably: {why}", source=str(path), sample=ann.get(key, f"#{i}"),
                                field=str(k))
    for k, v in data.items():
        why = safe_pickle.unportable(v) if k != "annotations" else None
        if why:
            raise DataError(f"cannot be written portably: {why}", source=str(path), field=str(k))
    return atomic_write_bytes(path, safe_pickle.portable_dumps(dict(data), protocol=PICKLE_PROTOCOL))


#: per-sample keys every annotation needs (never dropped by :func:`drop_fields`)
REQUIRED_KEYS = ("frame_dir", "filename", "label", "keypoint", "total_frames")


def drop_fields(data: Mapping[str, Any], keys: Sequence[str], source: Optional[str] = None) -> Dict[str, Any]:
    """A copy of PYSKL dict ``data`` whose annotations (real and synthetic alike) lack ``keys``.

    For pipelines that refuse a field: mmaction2's ``GenSkeFeat(dataset='nturgb+d')`` asserts when a
    3-D sample has ``keypoint_score`` (MSR Action3D's tracking confidence), so its own NTU configs read
    such a dataset only without it. Every annotation loses the key, so the samples still agree.

    Raises:
        DataError: a key that every annotation needs, or one that no annotation has (a typo).
    """
    keys = list(keys)
    bad = [k for k in keys if k in REQUIRED_KEYS or k == "is_synthetic"]
    if bad:
        raise DataError(f"cannot drop {bad}: every annotation needs them", source=source, field=bad[0])
    anns = data["annotations"]
    absent = [k for k in keys if not any(k in a for a in anns)]
    if absent:
        fields = sorted({str(k) for a in anns[:100] for k in a})
        raise DataError(f"no annotation has {absent}; fields: {fields}", source=source, field=absent[0])
    out = dict(data)
    out["annotations"] = [{k: v for k, v in a.items() if k not in keys} for a in anns]
    return out


def get_split(data: Mapping[str, Any], name: str) -> List[Dict[str, Any]]:
    """Annotations of split ``name``, in the split's order.

    Raises:
        DataError: unknown split (the message lists the available ones) or an id with no annotation.
    """
    splits = data.get("split") or {}
    if name not in splits:
        raise DataError(f"no split {name!r}; available splits: {sorted(splits)}", field="split")
    anns = data["annotations"]
    key = id_key(anns)
    by_id = {a[key]: a for a in anns}
    out = []
    for sid in splits[name]:
        if sid not in by_id:
            raise DataError(f"split {name!r} lists an id that is not in 'annotations'", sample=sid, field="split")
        out.append(by_id[sid])
    return out


def class_counts(annotations: List[Mapping[str, Any]]) -> Dict[int, int]:
    """Number of samples per label, sorted by label."""
    counts = Counter(int(a["label"]) for a in annotations)
    return dict(sorted(counts.items()))
