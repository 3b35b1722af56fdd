"""PYSKL / mmaction2 skeleton annotation pickles: validate, load, save, split.

The format (``formats.md`` §1) is a pickled dict::

    {"split": {"xsub_train": [frame_dir, ...], ...},
     "annotations": [{"frame_dir": str, "label": int, "keypoint": ndarray [M, T, V, C],
                      "total_frames": T, "keypoint_score": ndarray [M, T, V] (optional), ...}, ...],
     ...}                                    # other top-level keys (e.g. "meta") are kept

Some datasets name the sample id ``filename`` instead of ``frame_dir``; as in mmaction2, the key of
the first annotation decides. Extra per-sample keys (``subject``, ``is_synthetic``, ...) are kept.

Why validate up front: PYSKL's pipeline fails deep inside a DataLoader worker (or, worse, trains on
NaNs) when one of 100k samples is off. :func:`validate_annotations` checks every sample once and
raises a :class:`~kinemic_aug.errors.DataError` that names the file, the sample and the field.

Why :class:`AnnotationTemplate`: a third-party pipeline treats every sample of a split alike. If real
samples carry ``keypoint_score`` and synthetic ones do not, mmaction2's ``FormatGCNInput`` makes
4-channel real and 3-channel synthetic inputs, pads mixed batches with zeros without a word and
crashes on an all-synthetic one. The template gives a synthetic annotation every field its
dataset's real annotations share, with their types and dtypes (:func:`field_parity` checks it).

Files are written by :func:`save_pyskl` with :func:`~kinemic_aug.data.safe_pickle.portable_dumps`,
so numpy 1.x and 2.x both load them.
"""
from __future__ import annotations

import copy
import math
import os
import pickle
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

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


# ---------------------------------------------------------------------- synthetic field parity
#: keys a synthetic annotation sets itself; the template neither fills nor checks their values
SAMPLE_KEYS = ("frame_dir", "filename", "label", "keypoint", "total_frames", "is_synthetic", "synthetic_info")
#: keys only synthetic annotations carry (provenance); third-party pipelines ignore unknown keys
SYNTHETIC_ONLY_KEYS = ("synthetic_info", "retrieved", "retrieved_info")


#: per-frame arrays whose key contains one of these are filled with ones in synthetic samples
ONES_WORDS = ("score", "valid", "mask")


def _is_array(v: Any) -> bool:
    return isinstance(v, np.ndarray)


@dataclass(frozen=True)
class _Field:
    key: str
    kind: str        # "person_frames" [M, T, ...], "frames" [T, ...], "value" (filled), "constant", "reference"
    example: Any     # the first real annotation's value (type, dtype and trailing shape are taken from it)
    fill: Any = None


class AnnotationTemplate:
    """The fields that every real annotation of a dataset has, and how a synthetic annotation gets them.

    Built from the real annotations (:meth:`from_annotations`); :meth:`conform` completes a synthetic
    annotation. Each shared field is filled by what it is, so that a synthetic sample never poses as a
    recording it is not:

    * arrays with the sample's persons and frames (``[M, T, ...]``, e.g. ``keypoint_score``) or frames
      (``[T, ...]``): new arrays at the synthetic sample's M and T, same dtype and trailing shape, filled
      with ones when the key names a score, a validity or a mask (:data:`ONES_WORDS`: a generated joint is
      where it is, in every frame) and zeros otherwise;
    * integers (``subject``, ``repetition``, ``setup``, ...) ``-1`` and booleans (``in_cvpr12_list``)
      ``False``, in the real values' own type (``int``, ``np.int64``, ``np.bool_``);
    * other values that are equal in every real annotation (``img_shape`` of a fixed camera, a
      ``layout`` name) that value; otherwise strings ``""``, floats NaN, and anything else (tuples,
      dicts, fixed-shape arrays) the value of the real shot the sample was drawn from (``reference``).

    ``label`` and ``total_frames`` take the real values' type and ``keypoint`` their dtype; the id key
    (``frame_dir`` or ``filename``) is the dataset's.
    """

    def __init__(self, fields: Sequence[_Field], key: str, kp_dtype: np.dtype, label_type: type,
                 frames_type: type):
        self.fields = list(fields)
        self.key = key
        self.kp_dtype = np.dtype(kp_dtype)
        self.label_type = label_type
        self.frames_type = frames_type

    @property
    def keys(self) -> List[str]:
        """The shared keys (the sample keys included) a conformed annotation has."""
        return [self.key, "label", "keypoint", "total_frames", "is_synthetic"] + [f.key for f in self.fields]

    @classmethod
    def from_annotations(cls, annotations: Sequence[Mapping[str, Any]],
                         source: Optional[str] = None) -> "AnnotationTemplate":
        anns = [a for a in annotations if not a.get("is_synthetic")]
        if not anns:
            raise DataError("no real annotations to take the fields of synthetic samples from", source=source,
                            field="annotations")
        key = id_key(anns)
        shared = set(anns[0])
        for a in anns[1:]:
            shared &= set(a)
        first = anns[0]
        fields = []
        for k in (k for k in first if k in shared and k not in SAMPLE_KEYS):
            v = first[k]
            if _is_array(v):
                if all(_is_array(a[k]) and a[k].shape[:2] == a["keypoint"].shape[:2] for a in anns):
                    fields.append(_Field(k, "person_frames", v))
                elif all(_is_array(a[k]) and a[k].ndim >= 1 and a[k].shape[0] == a["keypoint"].shape[1]
                         for a in anns):
                    fields.append(_Field(k, "frames", v))
                else:
                    fields.append(_Field(k, "reference", v))
            elif isinstance(v, (bool, np.bool_)):
                fields.append(_Field(k, "value", v, type(v)(False)))
            elif isinstance(v, (int, np.integer)):
                fields.append(_Field(k, "value", v, type(v)(-1)))
            elif all(_same(a[k], v) for a in anns):
                fields.append(_Field(k, "constant", v, v))
            elif isinstance(v, str):
                fields.append(_Field(k, "value", v, type(v)("")))
            elif isinstance(v, (float, np.floating)):
                fields.append(_Field(k, "value", v, type(v)(math.nan)))
            else:
                fields.append(_Field(k, "reference", v))
        return cls(fields, key, first["keypoint"].dtype, type(first["label"]), type(first["total_frames"]))

    def conform(self, ann: Mapping[str, Any], reference: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """A copy of synthetic ``ann`` with the id key, types and every shared field of the real annotations.

        ``reference``: the real annotation the sample was drawn from (for fields copied from it)."""
        sid = ann.get(self.key, ann.get("frame_dir", ann.get("filename")))
        kp = np.asarray(ann["keypoint"]).astype(self.kp_dtype, copy=False)
        m, t = kp.shape[:2]
        own = ("frame_dir", "filename", "label", "keypoint", "total_frames", "is_synthetic")
        out: Dict[str, Any] = {self.key: sid, "label": self.label_type(int(ann["label"])), "keypoint": kp,
                               "total_frames": self.frames_type(int(t)), "is_synthetic": True,
                               **{k: v for k, v in ann.items() if k not in own}}
        for f in self.fields:
            if f.key in out:
                continue
            if f.kind in ("person_frames", "frames"):
                shape = ((m, t) + f.example.shape[2:]) if f.kind == "person_frames" else ((t,) + f.example.shape[1:])
                value = np.ones if any(w in f.key.lower() for w in ONES_WORDS) else np.zeros
                out[f.key] = value(shape, dtype=f.example.dtype)
            elif f.kind in ("value", "constant"):
                out[f.key] = copy.deepcopy(f.fill)
            else:
                if reference is None or f.key not in reference:
                    raise DataError("needs the real shot it was drawn from to copy this field", sample=sid,
                                    field=f.key)
                out[f.key] = copy.deepcopy(reference[f.key])
        return out


def _same(a: Any, b: Any) -> bool:
    if _is_array(a) or _is_array(b):
        return False
    try:
        return type(a) is type(b) and bool(a == b)
    except Exception:  # noqa: BLE001 - values without a plain equality are "not constant"
        return False


def _signature(v: Any) -> Tuple:
    """What parity compares of a value: its type, and for arrays dtype and ndim (trailing shapes apart)."""
    if _is_array(v):
        return ("ndarray", str(v.dtype), v.ndim)
    return (type(v).__name__,)


def field_parity(real: Sequence[Mapping[str, Any]], synthetic: Sequence[Mapping[str, Any]]) -> List[str]:
    """Differences between ``synthetic`` annotations and the ``real`` ones of the same dataset, as messages
    naming the sample and field (empty: every synthetic annotation has every key all real ones share,
    with a type, dtype and number of dims a real one has, no key that no real one has but
    :data:`SYNTHETIC_ONLY_KEYS`, trailing shapes of ``keypoint`` and of per-frame arrays as in the
    real ones, and ``is_synthetic=True``; every real annotation says ``is_synthetic=False``)."""
    problems: List[str] = []
    if not real:
        return ["no real annotations"]
    shared = set(real[0])
    union: set = set()
    sigs: Dict[str, set] = {}
    tails: Dict[str, set] = {}
    for a in real:
        shared &= set(a)
        union |= set(a)
        for k, v in a.items():
            sigs.setdefault(k, set()).add(_signature(v))
            if _is_array(v) and v.ndim >= 2 and _is_array(a.get("keypoint")) and v.shape[:2] == a["keypoint"].shape[:2]:
                tails.setdefault(k, set()).add(v.shape[2:])
        flag = a.get("is_synthetic")
        if not isinstance(flag, (bool, np.bool_)) or flag:
            problems.append(f"real sample {sample_id(a)!r}: is_synthetic is {flag!r}, not False")
    for a in synthetic:
        sid = sample_id(a) if ("frame_dir" in a or "filename" in a) else "?"
        if a.get("retrieved") is True:  # a real corpus clip added by the "retrieved" variant: flag is its own
            if not isinstance(a.get("is_synthetic"), (bool, np.bool_)):
                problems.append(f"retrieved sample {sid!r}: is_synthetic is {a.get('is_synthetic', 'missing')!r}")
        elif a.get("is_synthetic") is not True:
            problems.append(f"synthetic sample {sid!r}: is_synthetic is {a.get('is_synthetic', 'missing')!r}")
        for k in sorted(shared - set(a)):
            problems.append(f"synthetic sample {sid!r}: field {k!r} missing (every real sample has it)")
        for k in sorted(set(a) - union - set(SYNTHETIC_ONLY_KEYS)):
            problems.append(f"synthetic sample {sid!r}: field {k!r} that no real sample has")
        for k, v in a.items():
            if k in sigs and _signature(v) not in sigs[k]:
                problems.append(f"synthetic sample {sid!r}: field {k!r} is {_signature(v)}, real ones "
                                f"{sorted(sigs[k])}")
            if k in tails and _is_array(v) and v.shape[2:] not in tails[k]:
                problems.append(f"synthetic sample {sid!r}: field {k!r} has shape {v.shape}, real ones end in "
                                f"{sorted(tails[k])}")
    return problems


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
