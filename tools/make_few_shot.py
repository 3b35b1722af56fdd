#!/usr/bin/env python
"""Draw K samples per class from the TRAIN split of a PYSKL pickle and write the manifest.

    python tools/make_few_shot.py ../shared/data/msr_action3d/msr_action3d_skeleton.pkl \\
        --train-split xsub_train --test-split xsub_test --shots 10 --seed 0 --out manifest.json

The subject of a sample (for the train/test disjointness check) is found automatically: the
``subject`` key when annotations have one, else the performer (P) field of NTU names; override with
``--subject key:NAME``, ``--subject ntu`` or ``--subject none``. Exit status 2 on bad input.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.data.fewshot import make_few_shot_split, subject_from_key, subject_from_ntu_name  # noqa: E402
from kinemic_aug.data.ntu import parse_ntu_name  # noqa: E402
from kinemic_aug.data.pyskl import load_pyskl, sample_id  # noqa: E402
from kinemic_aug.errors import DataError  # noqa: E402


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("pkl", help="PYSKL annotation pickle")
    p.add_argument("--train-split", default="xsub_train")
    p.add_argument("--test-split", default=None, help="evaluation split, checked for shared subjects")
    p.add_argument("--shots", type=int, required=True, help="samples per class (K)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="manifest JSON to write (atomically)")
    p.add_argument("--subject", default="auto", help="auto | ntu | none | key:NAME")
    p.add_argument("--dataset", default=None, help="name recorded in the manifest (default: the pickle's stem)")
    p.add_argument("--classes", default=None, help="comma-separated labels to draw (default: all)")
    p.add_argument("--allow-fewer", action="store_true",
                   help="take all samples of a class that has fewer than --shots (recorded in the manifest)")
    p.add_argument("--unsafe", action="store_true",
                   help="unpickle without the safety allow-list (only for files you trust)")
    return p.parse_args(argv)


def pick_subject_fn(spec: str, annotations: list):
    if spec == "none":
        return None
    if spec == "ntu":
        return subject_from_ntu_name
    if spec.startswith("key:"):
        return subject_from_key(spec[4:])
    if spec != "auto":
        raise DataError(f"--subject must be auto, ntu, none or key:NAME, got {spec!r}", field="subject")
    if annotations and "subject" in annotations[0]:
        return subject_from_key("subject")
    try:
        parse_ntu_name(sample_id(annotations[0]))
        return subject_from_ntu_name
    except (DataError, IndexError, KeyError):
        return None


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    try:
        data = load_pyskl(args.pkl, safe=not args.unsafe)
        subject_of = pick_subject_fn(args.subject, data["annotations"])
        if subject_of is None and args.test_split:
            print("warning: no subject information; train/test subject overlap is NOT checked", file=sys.stderr)
        classes = [int(c) for c in args.classes.split(",")] if args.classes else None
        fs = make_few_shot_split(data, args.train_split, args.shots, args.seed, test_split=args.test_split,
                                 subject_of=subject_of, dataset=args.dataset or Path(args.pkl).stem, classes=classes,
                                 allow_fewer=args.allow_fewer)
        fs.save(args.out)
    except DataError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(fs.ids)} samples ({fs.shots} x {len(fs.per_class)} classes) from {fs.train_split!r}, "
          f"seed {fs.seed} -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
