"""The full demo, steps 2-5 of ``tools/demo.py``'s docstring: draw the shots and augment them, train the
real-only and the augmented classifier on the same config, draw the preview, write and print the results."""
from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional

from kinemic_aug.errors import DataError

from .classifier import remap, train_arm
from .cli import synthesis_config
from .previews import render_preview
from .report import print_summary, results_dict, write_results
from .settings import MSR_LAYOUT
from .target import Target, resolve_classes


@dataclass
class Augmentation:
    """What the augmentation step hands on: the augmenter (for its configs and reports), the real shots
    and synthetic samples it returned, its per-class table and its wall time."""

    augmenter: Any
    real: List[dict]
    synthetic: List[dict]
    table: str
    seconds: float


def _generator_corpus(generator: Optional[Path]) -> Optional[str]:
    """The corpus spec recorded in the generator checkpoint (pairing must use the generator's corpus)."""
    from kinemic_aug.generator.checkpoint import load_checkpoint, resolve_generator

    ckpt = load_checkpoint(resolve_generator(generator))
    return (ckpt.get("corpus") or {}).get("name")


def augment(args: argparse.Namespace, target: Target, classes: List[int], generator: Path) -> Augmentation:
    """Step [1/3]: the shots of ``classes`` and their KineMIC samples, with the demo's budgets and cache."""
    from kinemic_aug.adapt import AdaptConfig
    from kinemic_aug.augmenter import KineMICAugmenter

    corpus = args.corpus or _generator_corpus(generator)
    labels = args.labels if args.labels is not None else (MSR_LAYOUT if args.layout == MSR_LAYOUT else None)
    synth = synthesis_config(args)

    print(f"\n[1/3] KineMIC: {args.shots} shot(s) per class (seed {args.seed}), {args.adapt_steps} adaptation steps and "
          f"{args.synthetic_per_class} synthetic samples per class; cache {args.cache_dir}")
    t0 = time.perf_counter()
    kw = dict(corpus=corpus) if corpus else {}
    aug = KineMICAugmenter(target.data, split=args.split, shots=args.shots, allow_fewer=True, labels=labels,
                           layout=args.layout, synthetic_per_class=args.synthetic_per_class,
                           adapt=AdaptConfig(steps=args.adapt_steps), synthesis=synth, generator=generator,
                           cache_dir=args.cache_dir, device=args.device, seed=args.seed, classes=classes,
                           progress=True, **kw)
    anns = aug.annotations()
    seconds = time.perf_counter() - t0
    real = [a for a in anns if not a.get("is_synthetic")]
    synthetic = [a for a in anns if a.get("is_synthetic")]
    table = aug.report_table()
    print(table)
    print(f"augmentation: {len(real)} real shots + {len(synthetic)} synthetic samples in {seconds:.1f} s")
    if not synthetic:
        print("warning: no synthetic sample passed the filter; the augmented arm trains on the real shots only")
    return Augmentation(aug, real, synthetic, table, seconds)


def train_arms(args: argparse.Namespace, run: Augmentation, classes: List[int], test: List[dict]) -> List[Dict[str, Any]]:
    """Steps [2/3] and [3/3]: the same classifier config on the real shots, then on shots + synthetic."""
    real, synthetic = run.real, run.synthetic
    common = dict(config=Path(args.config), layout=args.layout, num_classes=len(classes), steps=args.train_steps,
                  seed=args.seed, work_root=Path(args.work_dir), verbose=args.verbose)
    arms = []
    print(f"\n[2/3] ST-GCN on the real shots only ({len(real)} samples, {args.train_steps} steps)")
    arms.append(train_arm("real only", remap(real, classes), test, **common))
    print(f"\n[3/3] ST-GCN on real + KineMIC ({len(real)} + {len(synthetic)} samples, {args.train_steps} steps)")
    arms.append(train_arm("real + KineMIC", remap(real + synthetic, classes), test, **common))
    return arms


def full_demo(args: argparse.Namespace, target: Target) -> Dict[str, Any]:
    """Steps 2-5 of the module docstring; returns the results dict (also written to ``--out``)."""
    from kinemic_aug.generator.checkpoint import resolve_generator

    t_start = time.perf_counter()
    classes = resolve_classes(args, target)
    names = [target.class_names[c] for c in classes]
    print(f"Target: {target.path} ({len(target.train)} in {args.split}, {len(target.test)} in {args.test_split}); "
          f"{len(classes)} classes: " + ", ".join(f"{c}={n}" for c, n in zip(classes, names)))
    generator = resolve_generator(args.generator)
    run = augment(args, target, classes, generator)

    test = remap(target.test, classes)
    if not test:
        raise DataError(f"split {args.test_split!r} has no sample of classes {classes}", source=str(target.path),
                        field="test_split")
    arms = train_arms(args, run, classes, test)

    out = Path(args.out)
    preview = render_preview(run.real, run.synthetic, classes, target.class_names, args.layout,
                             run.augmenter.domain.fps, out / "demo_preview.gif")
    res = results_dict(args, target, classes, names, generator, run, arms, preview, t_start)
    write_results(out, res)
    print_summary(res, arms, len(test), args.test_split, out, preview)
    return res
