"""K-shot-per-class training subsets, drawn from a TRAIN split only, saved as a manifest.

Few-shot results are only meaningful when (1) the shots come from the training split, (2) the
draw is reproducible from a seed, and (3) train and test share no subject. The KineMIC reference
code broke (3) by reading the NTU setup field as the subject; here
the caller passes a ``subject_of`` function and :func:`make_few_shot_split` refuses splits whose
subjects overlap. The manifest records everything needed to redraw or audit the subset.

Draw: annotations of the train split are grouped by label; within a class the ids are sorted, and
``numpy.random.default_rng(seed)`` picks ``shots`` of them without replacement, class by class in
increasing label order. The same data, split, shots and seed always give the same ids.
"""
from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Union

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_json
from .ntu import parse_ntu_name
from .pyskl import get_split, id_key, sample_id

PathLike = Union[str, os.PathLike]
SubjectFn = Callable[[Mapping[str, Any]], Any]

MANIFEST_FORMAT = "kinemic_aug.FewShotSplit"
MANIFEST_VERSION = 1


@dataclass
class FewShotSplit:
    """A drawn few-shot subset.

    Attributes:
        dataset: free-form dataset name (for the record).
        train_split: split the shots were drawn from.
        test_split: split used for evaluation (checked for subject overlap), or None.
        shots: K, samples per class.
        seed: seed of the draw.
        ids: all drawn sample ids, class by class.
        per_class: label → drawn ids.
        meta: extras recorded at draw time (pool size per class, subjects, ...).
    """

    dataset: str
    train_split: str
    test_split: Optional[str]
    shots: int
    seed: int
    ids: List[str]
    per_class: Dict[int, List[str]]
    meta: Dict[str, Any] = field(default_factory=dict)

    @property
    def classes(self) -> List[int]:
        return sorted(self.per_class)

    def to_dict(self) -> Dict[str, Any]:
        return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "dataset": self.dataset,
                "train_split": self.train_split, "test_split": self.test_split, "shots": self.shots,
                "seed": self.seed, "ids": list(self.ids),
                "per_class": {str(k): list(v) for k, v in sorted(self.per_class.items())}, "meta": self.meta}

    def save(self, path: PathLike) -> Path:
        """Write the manifest as JSON, atomically."""
        return atomic_write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: Optional[str] = None) -> "FewShotSplit":
        if not isinstance(d, Mapping) or d.get("format") != MANIFEST_FORMAT:
            raise DataError(f"not a few-shot manifest (format={d.get('format') if isinstance(d, Mapping) else None!r})",
                            source=source, field="format")
        for k in ("dataset", "train_split", "test_split", "shots", "seed", "ids", "per_class"):
            if k not in d:
                raise DataError(f"missing key {k!r}", source=source, field=k)
        try:
            per_class = {int(k): [str(i) for i in v] for k, v in d["per_class"].items()}
        except (ValueError, AttributeError, TypeError) as e:
            raise DataError(f"per_class must map integer labels to id lists ({e})", source=source,
                            field="per_class") from None
        for k in ("shots", "seed"):  # int() would turn 2.5 into 2 and "5" into 5 without a word
            if not isinstance(d[k], int) or isinstance(d[k], bool):
                raise DataError(f"expected an integer, got {d[k]!r}", source=source, field=k)
        if not isinstance(d["ids"], list):
            raise DataError(f"expected a list of sample ids, got {type(d['ids']).__name__}", source=source,
                            field="ids")
        fs = cls(dataset=str(d["dataset"]), train_split=str(d["train_split"]), test_split=d["test_split"],
                 shots=d["shots"], seed=d["seed"], ids=[str(i) for i in d["ids"]], per_class=per_class,
                 meta=dict(d.get("meta") or {}))
        flat = [i for k in sorted(per_class) for i in per_class[k]]
        if sorted(flat) != sorted(fs.ids):
            raise DataError("'ids' and 'per_class' disagree", source=source, field="ids")
        return fs

    @classmethod
    def load(cls, path: PathLike) -> "FewShotSplit":
        """Read a manifest written by :meth:`save`."""
        path = Path(path)
        try:
            d = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DataError(f"not valid UTF-8 JSON ({e})", source=str(path), field="file") from e
        return cls.from_dict(d, source=str(path))

    def annotations(self, data: Mapping[str, Any]) -> List[Dict[str, Any]]:
        """The drawn annotations from ``data`` (same order as :attr:`ids`)."""
        anns = data["annotations"]
        key = id_key(anns)
        by_id = {a[key]: a for a in anns}
        missing = [i for i in self.ids if i not in by_id]
        if missing:
            raise DataError(f"{len(missing)} drawn ids are not in the data (first: {missing[0]!r}); "
                            "is this the dataset the manifest was drawn from?", sample=missing[0])
        return [by_id[i] for i in self.ids]


# ------------------------------------------------------------------------------ subjects
def subject_from_ntu_name(ann: Mapping[str, Any]) -> int:
    """Subject of an NTU sample: the PERFORMER (``P``) field of its name, never the setup (``S``)."""
    return parse_ntu_name(sample_id(ann)).performer


def subject_from_key(key: str = "subject") -> SubjectFn:
    """A subject function reading ``ann[key]`` (e.g. MSR Action3D's ``subject``)."""

    def subject_of(ann: Mapping[str, Any]) -> Any:
        if key not in ann:
            raise DataError(f"annotation has no subject key {key!r}", sample=sample_id(ann), field=key)
        return ann[key]

    subject_of.__name__ = f"subject_from_key({key!r})"
    return subject_of


def check_disjoint_subjects(train: Iterable[Mapping[str, Any]], test: Iterable[Mapping[str, Any]],
                            subject_of: SubjectFn, names: Sequence[str] = ("train", "test")) -> None:
    """Raise :class:`DataError` if any subject appears in both ``train`` and ``test``."""
    tr = {subject_of(a) for a in train}
    te = {subject_of(a) for a in test}
    shared = tr & te
    if shared:
        raise DataError(f"subjects {sorted(shared, key=_subject_order)} appear in both {names[0]!r} and {names[1]!r}: "
                        "the split leaks subjects, so test accuracy would be optimistic", field="split")


# ------------------------------------------------------------------------------ drawing
def _class_name(data: Mapping[str, Any], label: int) -> str:
    classes = (data.get("meta") or {}).get("classes") if isinstance(data.get("meta"), Mapping) else None
    if isinstance(classes, (list, tuple)) and 0 <= label < len(classes):
        return f"class {label} ({classes[label]!r})"
    return f"class {label}"


def make_few_shot_split(data: Mapping[str, Any], train_split: str, shots: int, seed: int,
                        test_split: Optional[str] = None, subject_of: Optional[SubjectFn] = None,
                        dataset: str = "", *, classes: Optional[Sequence[int]] = None,
                        allow_fewer: bool = False) -> FewShotSplit:
    """Draw ``shots`` samples per class from ``train_split``.

    Args:
        data: PYSKL annotation dict.
        train_split: split to draw from (never the test split).
        shots: K >= 1.
        seed: seed for ``numpy.random.default_rng``.
        test_split: evaluation split; checked against the train split for shared subjects when
            ``subject_of`` is given.
        subject_of: annotation → subject id (:func:`subject_from_ntu_name`, :func:`subject_from_key`).
        dataset: name recorded in the manifest.
        classes: labels to draw (default: every label that occurs anywhere in ``data``).
        allow_fewer: take every sample of a class that has fewer than ``shots`` instead of refusing
            (MSR Action3D's cross-subject train split holds only 9 "side kick" samples, so a 10-shot
            protocol there must say so). The classes that were capped are listed in
            ``meta["capped_classes"]`` and a warning is issued; the default still refuses.

    Raises:
        DataError: unknown split, a class with zero or fewer than K samples in the train split
            (the message names the class), train/test subject overlap, or train == test.
    """
    if not isinstance(shots, (int, np.integer)) or shots < 1:
        raise DataError(f"shots must be a positive int, got {shots!r}", field="shots")
    if test_split is not None and test_split == train_split:
        raise DataError(f"train and test split are the same ({train_split!r})", field="split")
    train = get_split(data, train_split)
    key = id_key(data["annotations"])
    if test_split is not None:
        test = get_split(data, test_split)
        overlap = {a[key] for a in train} & {a[key] for a in test}
        if overlap:
            raise DataError(f"{len(overlap)} samples are in both {train_split!r} and {test_split!r}",
                            sample=sorted(overlap)[0], field="split")
        if subject_of is not None:
            check_disjoint_subjects(train, test, subject_of, (train_split, test_split))
    wanted = sorted({int(a["label"]) for a in data["annotations"]}) if classes is None else sorted(set(classes))
    pool: Dict[int, List[str]] = {c: [] for c in wanted}
    for a in train:
        lab = int(a["label"])
        if lab in pool:
            pool[lab].append(a[key])
    rng = np.random.default_rng(seed)
    per_class: Dict[int, List[str]] = {}
    capped: Dict[int, int] = {}
    for c in wanted:
        ids = sorted(pool[c])
        if not ids:
            raise DataError(f"{_class_name(data, c)} has no samples in split {train_split!r}", field="label")
        k = shots
        if len(ids) < shots:
            if not allow_fewer:
                raise DataError(f"{_class_name(data, c)} has only {len(ids)} samples in split {train_split!r}, "
                                f"fewer than shots={shots} (pass allow_fewer=True to take all of them)",
                                field="label")
            k = len(ids)
            capped[c] = k
            warnings.warn(f"{_class_name(data, c)}: only {k} samples in {train_split!r}; using {k} shots, not {shots}")
        pick = rng.choice(len(ids), size=k, replace=False)
        per_class[c] = [ids[i] for i in sorted(pick)]
    meta: Dict[str, Any] = {"pool_sizes": {str(c): len(pool[c]) for c in wanted},
                            "rng": "numpy.random.default_rng(seed).choice(sorted ids, shots, replace=False)"}
    if capped:
        meta["capped_classes"] = {str(c): k for c, k in capped.items()}
    if subject_of is not None:
        meta["train_subjects"] = sorted({_jsonable(subject_of(a)) for a in train}, key=_subject_order)
        if test_split is not None:
            meta["test_subjects"] = sorted({_jsonable(subject_of(a)) for a in get_split(data, test_split)},
                                           key=_subject_order)
        meta["subject_of"] = getattr(subject_of, "__name__", repr(subject_of))
    ids = [i for c in wanted for i in per_class[c]]
    return FewShotSplit(dataset=dataset, train_split=train_split, test_split=test_split, shots=int(shots),
                        seed=int(seed), ids=ids, per_class=per_class, meta=meta)


def _jsonable(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else x


def _subject_order(x: Any) -> tuple:
    """Numbers in numeric order first, then everything else by its text (subject ids can be either)."""
    if isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool):
        return (0, float(x), "")
    return (1, 0.0, str(x))
