"""Target datasets as data: where the pickle is, its layout, labels, splits, frame rate and protocol.

A :class:`~.dataset_spec.DatasetSpec` is everything the few-shot benchmark, the configs and the demo need to know about
one skeleton dataset, so running them on another dataset means registering (or writing as JSON) one
spec, not editing code. The shipped specs are MSR Action3D (``msr_action3d``) and UTD-MHAD
(``utd_mhad``); see ``docs/datasets.md`` for adding one (NTU RGB+D included).

Checks run before any training starts (:func:`load_dataset`, :func:`check_shots`): the pickle exists,
the splits exist and share no subject, every class has training samples, the layout matches the
joints, the validation hold-out subjects are training subjects, and a shot count fits every class.
Each error is a :class:`~kinemic_aug.errors.DataError` naming the spec, file and field.

    python -m kinemic_aug.data.datasets list
    python -m kinemic_aug.data.datasets check utd_mhad --shots 1 3 5 10
    python -m kinemic_aug.data.datasets layout my_kinect.pkl --name my_kinect -o my_kinect_layout.json
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ..errors import DataError
from .dataset_spec import (_SPECS, MSR_ACTION3D, STAGES, UTD_MHAD, DatasetSpec, PathLike, get_dataset_spec,
                           layout_from_meta, list_dataset_specs, register_dataset_spec, resolve_layout)
from .fewshot import check_disjoint_subjects
from .pyskl import class_counts, get_split, load_pyskl, save_pyskl
from .splits import with_validation_split


# ---------------------------------------------------------------------- loading and checks
def load_dataset(spec: DatasetSpec, *, validate: bool = True) -> Dict[str, Any]:
    """The spec's pickle, loaded safely and checked by :func:`check_dataset`."""
    path = spec.require_pickle()
    data = load_pyskl(path, validate=False)
    layout = resolve_layout(spec, data)
    if validate:
        from .pyskl import validate_annotations

        validate_annotations(data, source=str(path), num_classes=spec.num_classes, layout=layout)
    check_dataset(spec, data, source=str(path))
    return data


def check_dataset(spec: DatasetSpec, data: Mapping[str, Any], source: str = "") -> None:
    """Splits exist and share no subject, every class has training samples, labels fit the label set,
    the validation hold-out subjects are training subjects."""
    src = source or str(spec.pickle_path())
    splits = data.get("split") or {}
    for name, fld in ((spec.train_split, "train_split"), (spec.test_split, "test_split")):
        if name not in splits:
            raise DataError(f"dataset {spec.name!r}: no split {name!r} ({fld}); splits: {sorted(splits)}", source=src,
                            field=fld)
    try:
        train, test = get_split(data, spec.train_split), get_split(data, spec.test_split)
        for a in train + test:
            if spec.subject_key not in a:
                raise DataError(f"no subject field {spec.subject_key!r} (the spec's subject_key)",
                                sample=a.get("frame_dir", a.get("filename")), field=spec.subject_key)
        check_disjoint_subjects(train, test, spec.subject_of(), (spec.train_split, spec.test_split))
    except DataError as e:
        raise DataError(f"dataset {spec.name!r}: {e}", source=src, field=e.field) from None
    counts = class_counts(train)
    absent = [c for c in range(spec.num_classes) if c not in counts]
    if absent:
        raise DataError(f"dataset {spec.name!r}: {len(absent)} of {spec.num_classes} classes have no sample in "
                        f"{spec.train_split!r}: {absent[:10]}", source=src, field="label")
    if spec.labels:
        from ..text.labels import load_label_set

        ls = load_label_set(spec.labels)
        if sorted(ls.ids) != list(range(spec.num_classes)):
            raise DataError(f"dataset {spec.name!r}: label set {spec.labels!r} has ids {ls.ids[:5]}... "
                            f"({len(ls)} classes), the spec {spec.num_classes}", source=src, field="labels")
    if spec.val_holdout:
        subjects = {a[spec.subject_key] for a in train}
        missing = [s for s in spec.val_holdout if s not in subjects]
        if missing:
            raise DataError(f"dataset {spec.name!r}: validation hold-out subjects {missing} are not in "
                            f"{spec.train_split!r} (its subjects: {sorted(subjects, key=str)})", source=src,
                            field="val_holdout")


def with_validation(spec: DatasetSpec, data: Mapping[str, Any]) -> Dict[str, Any]:
    """``data`` with the spec's validation splits (:attr:`DatasetSpec.val_pool_split`, :attr:`~DatasetSpec.val_split`)."""
    if not spec.val_holdout:
        raise DataError("the spec has no validation rule (val_holdout is empty)", source=f"dataset spec {spec.name!r}",
                        field="val_holdout")
    return with_validation_split(data, spec.train_split, spec.val_holdout, subject_key=spec.subject_key,
                                 names=(spec.val_pool_split, spec.val_split))


def stage_data(spec: DatasetSpec, data: Mapping[str, Any], stage: str) -> Dict[str, Any]:
    """The data a stage may read. ``val``: only the training split's annotations, with the validation splits
    added (the test split is not in it at all); ``test``: ``data`` as loaded."""
    spec.stage_splits(stage)
    if stage == "test":
        return dict(data)
    out = with_validation(spec, data)
    keep = set(out["split"][spec.train_split])
    key = "frame_dir" if not out["annotations"] or "frame_dir" in out["annotations"][0] else "filename"
    out["annotations"] = [a for a in out["annotations"] if a.get(key) in keep]
    out["split"] = {k: out["split"][k] for k in (spec.train_split, spec.val_pool_split, spec.val_split)}
    out["meta"] = dict(out.get("meta") or {}, validation={"holdout_subjects": list(spec.val_holdout),
                                                          "from_split": spec.train_split,
                                                          "test_split_removed": spec.test_split})
    return out


def write_stage_pickle(spec: DatasetSpec, data: Mapping[str, Any], stage: str, out: PathLike) -> Path:
    """:func:`stage_data` written atomically to ``out`` (what the val stage's training runs read)."""
    return save_pyskl(stage_data(spec, data, stage), out, num_classes=spec.num_classes)


def check_shots(spec: DatasetSpec, data: Mapping[str, Any], shots: int, split: str) -> Dict[int, int]:
    """Refuse a shot count the split cannot give: above every class's count, or (without ``allow_fewer``)
    above any class's count. Returns ``{label: count}`` of the classes that give fewer than ``shots``."""
    if isinstance(shots, bool) or not isinstance(shots, int) or shots < 1:
        raise DataError(f"shots must be a positive integer, got {shots!r}", field="shots")
    counts = class_counts(get_split(data, split))
    classes = list((data.get("meta") or {}).get("classes") or [])

    def named(c: int) -> str:
        return f"class {c} ({classes[c]!r})" if c < len(classes) else f"class {c}"

    short = {c: n for c, n in counts.items() if n < shots}
    if counts and len(short) == len(counts):
        raise DataError(f"dataset {spec.name!r}: {shots} shots exceed every class in {split!r} (largest class: "
                        f"{max(counts.values())} samples)", source=str(spec.pickle_path()), field="shots")
    if short and not spec.allow_fewer:
        c = min(short, key=lambda k: (short[k], k))
        raise DataError(f"dataset {spec.name!r}: {named(c)} has only {short[c]} samples in {split!r}, fewer than "
                        f"{shots} shots ({len(short)} class(es) short)", source=str(spec.pickle_path()), field="shots")
    return short


def shortfall_text(data: Mapping[str, Any], split: str, shots: Sequence[int]) -> List[str]:
    """``'10-shot has 9 "side kick" samples: only 9 exist'`` for each K and class that gives fewer than K."""
    counts = class_counts(get_split(data, split))
    classes = list((data.get("meta") or {}).get("classes") or [])
    out = []
    for k in sorted(set(shots)):
        for c, n in sorted(counts.items()):
            if n < k:
                name = classes[c] if c < len(classes) else f"class {c}"
                out.append(f'{k}-shot has {n} "{name}" samples: only {n} exist')
    return out


def summary(spec: DatasetSpec, data: Mapping[str, Any]) -> Dict[str, Any]:
    """Split sizes, subjects and per-class training counts (``check`` prints them)."""
    out: Dict[str, Any] = {"dataset": spec.name, "pickle": str(spec.pickle_path()), "splits": {}}
    stages = [("test", data)] + ([("val", stage_data(spec, data, "val"))] if spec.val_holdout else [])
    for stage, d in stages:
        for split in spec.stage_splits(stage):
            anns = get_split(d, split)
            out["splits"][split] = {"n": len(anns), "subjects": sorted({a[spec.subject_key] for a in anns}, key=str),
                                    "min_per_class": min(class_counts(anns).values())}
    return out


# ---------------------------------------------------------------------- CLI
def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m kinemic_aug.data.datasets", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="registered dataset specs")
    c = sub.add_parser("check", help="load a dataset and run every check the benchmark runs before training")
    c.add_argument("dataset", help="registered name or spec .json")
    c.add_argument("--shots", type=int, nargs="*", default=[1, 3, 5, 10])
    lay = sub.add_parser("layout", help="write the layout a pickle carries in its meta as a layout JSON file")
    lay.add_argument("pickle")
    lay.add_argument("--name", required=True, help="the layout's name")
    lay.add_argument("-o", "--out", required=True)
    a = p.parse_args(argv)
    try:
        if a.cmd == "list":
            for n in list_dataset_specs():
                s = _SPECS[n]
                print(f"{n}: {s.title}, {s.num_classes} classes, {s.fps:g} fps, {s.train_split}/{s.test_split}, "
                      f"pickle {s.pickle_path()}{' (present)' if s.pickle_path().is_file() else ' (absent)'}")
            return 0
        if a.cmd == "check":
            spec = get_dataset_spec(a.dataset)
            data = load_dataset(spec)
            for stage in STAGES if spec.val_holdout else ("test",):
                d = stage_data(spec, data, stage)
                pool, _ = spec.stage_splits(stage)
                for k in a.shots:
                    short = check_shots(spec, d, k, pool)
                    if short:
                        print(f"{stage} {k}-shot: classes giving fewer than {k}: {short}")
            print(json.dumps(summary(spec, data), indent=1))
            return 0
        data = load_pyskl(a.pickle, validate=False)
        layout = layout_from_meta(data.get("meta") or {}, a.name, source=a.pickle)
        from ..utils.io import atomic_write_json

        atomic_write_json(a.out, layout.to_dict())
        print(f"wrote {a.out}: layout {layout.name!r}, {layout.num_joints} joints, centre {layout.center}, "
              f"zaxis {layout.zaxis}, xaxis {layout.xaxis}")
        return 0
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2


__all__ = ["DatasetSpec", "register_dataset_spec", "get_dataset_spec", "list_dataset_specs", "load_dataset",
           "check_dataset", "check_shots", "with_validation", "stage_data", "write_stage_pickle", "resolve_layout",
           "layout_from_meta", "shortfall_text", "MSR_ACTION3D", "UTD_MHAD"]

if __name__ == "__main__":
    sys.exit(main())
