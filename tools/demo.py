#!/usr/bin/env python
"""``make demo``: the whole KineMIC pipeline on the offline default, ending in a table of real-only
against augmented accuracy.

What it does (about 10-20 minutes on a 2-core CPU the first time; a rerun reuses the cached adapters
and synthetic sets, so only the two classifier runs cost time):

1. loads the *target* data: a PYSKL pickle (``--ann``, default MSR Action3D at
   ``../shared/data/msr_action3d/msr_action3d_skeleton.pkl`` relative to the repository, or
   ``$KINEMIC_MSR_PKL``). Research data is read in place, never copied: the classifier reads the
   selected samples from memory (:class:`DemoMemoryDataset`);
2. draws ``--shots`` real shots per class from ``--split`` (seeded by ``--seed``), for a fixed class
   subset (:data:`MSR_DEMO_CLASSES`; ``--classes`` or ``--all-classes`` to change it);
3. runs :class:`~kinemic_aug.augmenter.KineMICAugmenter` with the offline default (shipped
   generalist generator, MiniLM captions, the generator's own corpus) and demo-sized budgets
   (``--adapt-steps``, ``--synthetic-per-class``), cached under ``work_dirs/demo_cache``;
4. trains the same small ST-GCN twice through MMEngine's Runner (``configs/stgcn/stgcn_msr_xsub_full.py``:
   same model, optimizer, schedule, steps, seed and evaluation), once on the real shots alone and once
   on the same shots + the synthetic samples, and evaluates both on ``--test-split`` restricted to the
   chosen classes (labels remapped to ``0..K-1`` for both arms alike);
5. prints the table and writes ``demo_out/demo_results.json``, ``demo_out/demo_results.md`` and
   ``demo_out/demo_preview.gif`` (real shots next to synthetic samples, the latter tagged SYNTHETIC).

Without target data it says what is needed, still draws the shipped seed corpus and a zero-shot
GIF of the generalist generator (both need no target data; the GIF is tagged SYNTHETIC), and exits 0.
The seed and procedural corpora are never used as the target: they are the generator's training
data, so "augmenting" them would measure nothing.

``--data-only`` is the fast data-layer demo: summarise, draw and retarget MSR, draw the seed corpus.

This file is the command-line entry; the parts live in the sibling package ``demo_kit`` (one job per
module, listed in its docstring) and are re-exported here, so ``demo.parse_args``, ``demo.full_demo`` and
the rest stay reachable from this module, also when it is loaded by file path.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
_TOOLS = str(Path(__file__).resolve().parent)
if _TOOLS not in sys.path:  # loaded by file path (not run as a script): make ``demo_kit`` importable;
    sys.path.append(_TOOLS)  # appended, so the other tools (test.py, train.py, ...) shadow no installed module

from demo_kit.classifier import (_MEMORY, DemoMemoryDataset, DemoProgressHook, build_classifier_config,  # noqa: E402
                                 remap, train_arm)
from demo_kit.cli import (_class_list, _int_at_least, _non_negative, _positive, _synthesis_option,  # noqa: E402
                          parse_args, synthesis_config)
from demo_kit.data_layer import (_train_pool, data_layer_demo, first_of_each, load_msr, render_msr_grid,  # noqa: E402
                                 render_msr_retarget, render_seed, summarise_msr)
from demo_kit.pipeline import Augmentation, _generator_corpus, augment, full_demo, train_arms  # noqa: E402
from demo_kit.previews import render_preview, render_zero_shot  # noqa: E402
from demo_kit.report import (_finite, _generator_step, _repo_relative, print_summary, results_dict,  # noqa: E402
                             results_markdown, write_results)
from demo_kit.settings import (DEFAULT_CONFIG, GRID_LABELS, MSR_DEMO_CLASSES, MSR_FPS, MSR_LAYOUT,  # noqa: E402
                               NO_DATA_HELP, RETARGET_LABEL, ZERO_SHOT_PROMPTS, default_msr_path)
from demo_kit.target import Target, load_target, resolve_classes  # noqa: E402
from kinemic_aug.errors import KinemicError  # noqa: E402

#: what this module offers (the names it had before its parts moved to ``demo_kit``, and the new steps)
__all__ = [
    "REPO", "DEFAULT_CONFIG", "GRID_LABELS", "MSR_DEMO_CLASSES", "MSR_FPS", "MSR_LAYOUT", "NO_DATA_HELP",
    "RETARGET_LABEL", "ZERO_SHOT_PROMPTS", "default_msr_path",
    "_class_list", "_int_at_least", "_non_negative", "_positive", "_synthesis_option", "parse_args",
    "synthesis_config",
    "Target", "load_target", "resolve_classes",
    "_train_pool", "data_layer_demo", "first_of_each", "load_msr", "render_msr_grid", "render_msr_retarget",
    "render_seed", "summarise_msr",
    "render_preview", "render_zero_shot",
    "_MEMORY", "DemoMemoryDataset", "DemoProgressHook", "build_classifier_config", "remap", "train_arm",
    "_finite", "_generator_step", "_repo_relative", "print_summary", "results_dict", "results_markdown",
    "write_results",
    "Augmentation", "_generator_corpus", "augment", "full_demo", "train_arms",
    "main", "no_data_demo",
]


def _list_written(written: List[Path], start: float) -> None:
    """The closing lines of the two drawing-only modes: how many files, how long, which."""
    print(f"\nWrote {len(written)} files in {time.perf_counter() - start:.1f} s:")
    for path in written:
        print(f"  {path}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run the mode the arguments ask for; 0 on success (also without target data), 2 on a data error."""
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.data_only:
        _list_written(data_layer_demo(args.ann, args.out), start)
        return 0
    try:
        if args.ann.is_file():
            full_demo(args, load_target(args.ann, args.split, args.test_split, args.layout))
        else:
            no_data_demo(args, start)
    except KinemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def no_data_demo(args: argparse.Namespace, start: float) -> None:
    """What runs without target data: say what is needed, draw the seed corpus and zero-shot samples."""
    from kinemic_aug.synthesis import SynthesisConfig

    print(f"No target data: {args.ann} does not exist.\n{NO_DATA_HELP}\n"
          "Running the parts that need no target data (seed corpus drawings, zero-shot generator samples).\n")
    written = render_seed(args.out)
    written += render_zero_shot(args.out, args.generator, args.encoder, synthesis_config(args) or SynthesisConfig(),
                                args.seed)
    _list_written(written, start)
    print(f"\nNo accuracy table: no target data. {NO_DATA_HELP}")


if __name__ == "__main__":
    sys.exit(main())
