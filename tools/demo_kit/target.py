"""The target data: the real dataset the demo augments and evaluates on, and the class subset it uses.
Checked up front because augmenting the generator's own (synthetic or shipped) corpus would be circular."""
from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

from kinemic_aug.errors import DataError

from .settings import MSR_DEMO_CLASSES, MSR_LAYOUT, REPO


@dataclass
class Target:
    """The target data the demo uses: training pool, held-out test set (original labels) and names."""

    path: Path
    data: dict
    train: List[dict]
    test: List[dict]
    class_names: Dict[int, str]


def load_target(path: Path, split: str, test_split: str, layout: str) -> Target:
    """Load and check the target pickle; refuses synthetic samples as the target (circular)."""
    from kinemic_aug.data.pyskl import get_split, load_pyskl

    if path.resolve().is_relative_to((REPO / "kinemic_aug").resolve()):
        raise DataError("the target must be real data outside the package: the shipped corpora are the generator's "
                        "training data", source=str(path), field="ann")
    data = load_pyskl(path, layout=layout)
    splits = data.get("split") or {}
    for name, field in ((split, "split"), (test_split, "test_split")):
        if name not in splits:
            raise DataError(f"unknown {field.replace('_', ' ')} {name!r}; available: {sorted(splits)}",
                            source=str(path), field=field)
    train, test = list(get_split(data, split)), list(get_split(data, test_split))
    for a in train + test:
        if a.get("is_synthetic") or a.get("synthetic") or a.get("source") in ("procedural", "seed"):
            raise DataError("the target holds synthetic / generator-corpus samples; the demo needs real data "
                            "(augmenting the generator's own corpus would be circular)", source=str(path),
                            sample=a.get("frame_dir", a.get("filename")), field="is_synthetic")
    names = list((data.get("meta") or {}).get("classes") or [])
    labels = sorted({int(a["label"]) for a in train + test})
    class_names = {c: (names[c] if c < len(names) else str(c)) for c in labels}
    return Target(path, data, train, test, class_names)


def resolve_classes(args: argparse.Namespace, target: Target) -> List[int]:
    """``--all-classes``: every class of the training split; ``--classes``: those; otherwise the fixed
    MSR subset for MSR data, else the first six classes of the training split."""
    present = sorted({int(a["label"]) for a in target.train})
    if args.all_classes:
        return present
    if args.classes is not None:
        wanted = list(args.classes)
    elif args.layout == MSR_LAYOUT:
        wanted = list(MSR_DEMO_CLASSES)
    else:
        wanted = present[:6]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise DataError(f"class id(s) {missing} have no sample in split {args.split!r} (present: {present})",
                        source=str(target.path), field="classes")
    if len(set(wanted)) < 2:
        raise DataError("at least two classes are needed for a classifier", field="classes")
    return sorted(set(wanted))
