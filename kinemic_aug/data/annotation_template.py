"""The fields a synthetic annotation must share with its dataset's real ones.

Why: a third-party pipeline treats every sample of a split alike. If real samples carry
``keypoint_score`` and synthetic ones do not, mmaction2's ``FormatGCNInput`` makes 4-channel real and
3-channel synthetic inputs, pads mixed batches with zeros without a word and crashes on an
all-synthetic one. :class:`AnnotationTemplate` gives a synthetic annotation every field its dataset's
real annotations share, with their types and dtypes; :func:`field_parity` checks it.
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from ..errors import DataError
from .pyskl import id_key, sample_id


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
