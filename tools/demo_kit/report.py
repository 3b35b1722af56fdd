"""What the full demo reports: the results dict (``demo_results.json``), its markdown page
(``demo_results.md``) and the console table. Kept apart from the pipeline so the record of a run is
defined in one place."""
from __future__ import annotations

import argparse
import math
import os
import platform
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Sequence

from kinemic_aug.utils.device import resolve_device
from kinemic_aug.utils.io import atomic_write_json, atomic_write_text, sha256_file

from .settings import REPO

if TYPE_CHECKING:
    from .pipeline import Augmentation
    from .target import Target


def _generator_step(synthetic: Sequence[dict]) -> Optional[int]:
    """The generator checkpoint's training step, as recorded in the synthetic samples."""
    for a in synthetic:
        step = (a.get("synthetic_info") or {}).get("generator_step")
        if step is not None:
            return int(step)
    return None


def _repo_relative(path: Path) -> str:
    """``path`` relative to the repository when inside it (results files stay machine-independent)."""
    p = path.resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(path)


def _finite(x: Any) -> Any:
    """NaN and infinities as ``None``: JSON has no spelling for them."""
    return None if isinstance(x, float) and not math.isfinite(x) else x


def results_dict(args: argparse.Namespace, target: "Target", classes: List[int], names: List[str],
                 generator: Path, run: "Augmentation", arms: List[Dict[str, Any]], preview: Optional[Path],
                 t_start: float) -> Dict[str, Any]:
    """Everything needed to read (and redo) the run: data, classes, budgets, generator and its digest,
    both arms, the machine and the total time since ``t_start``."""
    import torch

    aug, synthetic = run.augmenter, run.synthetic
    return {
        "kind": "kinemic-aug make demo", "synthetic_note": "train_synthetic counts generated samples (is_synthetic=True)",
        "data": {"ann": str(target.path), "split": args.split, "test_split": args.test_split, "layout": args.layout},
        "classes": classes, "class_names": names, "shots": args.shots, "seed": args.seed,
        "augmenter": {"adapt_steps": args.adapt_steps, "synthetic_per_class": args.synthetic_per_class,
                      "sample_steps": aug.synth_cfg.steps, "synthesis": aug.synth_cfg.to_dict(),
                      "adapt": aug.adapt_cfg.cache_dict(), "generator": str(generator),
                      "generator_sha256": sha256_file(generator), "generator_step": _generator_step(synthetic),
                      "corpus": aug.corpus_spec, "cache_dir": str(args.cache_dir), "seconds": run.seconds,
                      "real_shot_ids": [a["frame_dir"] for a in run.real],
                      "per_class": [{k: _finite(v) for k, v in asdict(aug.reports[c]).items()} for c in aug.classes
                                    if c in aug.reports],
                      "report_table": run.table},
        "classifier": {"config": _repo_relative(Path(args.config)), "steps": args.train_steps},
        "arms": [{k: _finite(v) for k, v in a.items()} for a in arms],
        "preview": str(preview) if preview else None,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "device": str(resolve_device(args.device))},
        "seconds": time.perf_counter() - t_start,
    }


def results_markdown(res: Dict[str, Any]) -> str:
    """The results as a short page for people: the table, the budgets and what one run can and cannot say."""
    arms = res["arms"]
    lines = ["# make demo: real-only vs KineMIC-augmented", "",
             f"Data: `{res['data']['ann']}` ({res['data']['split']} -> {res['data']['test_split']}), "
             f"{len(res['classes'])} classes ({', '.join(res['class_names'])}), {res['shots']} shot(s) per class, "
             f"seed {res['seed']}. One draw and one seed: an indication, not a benchmark "
             "(see benchmarks/results/ for multi-seed numbers).", "",
             f"Augmenter: {res['augmenter']['adapt_steps']} adaptation steps per class, "
             f"{res['augmenter']['synthetic_per_class']} synthetic (SYNTHETIC, generated) samples per class, "
             f"generator `{res['augmenter']['generator']}` (step {res['augmenter']['generator_step']}), "
             f"{res['augmenter']['seconds']:.1f} s.", "",
             "| arm | train samples (real/synthetic) | top-1 | seconds |", "|---|---|---|---|"]
    for a in arms:
        lines.append(f"| {a['arm']} | {a['train_real']}/{a['train_synthetic']} | {100 * a['top1']:.1f} % | "
                     f"{a['seconds']:.1f} |")
    if arms[-1]["train_synthetic"] == 0:
        lines += ["", "**No synthetic sample passed the filter**: the augmented arm trained on the real shots only."]
    lines += ["", f"Both arms: the same ST-GCN config (`{res['classifier']['config']}`), {res['classifier']['steps']} "
              f"SGD steps, seed {res['seed']}, evaluated once at the end on {arms[0]['test_samples']} test sequences.",
              "", "Per class (augmenter report):", "", res["augmenter"]["report_table"], "",
              f"Machine: {res['machine']['platform']}, torch {res['machine']['torch']}, "
              f"{res['machine']['threads']} thread(s), device {res['machine']['device']}; total {res['seconds']:.1f} s.", ""]
    return "\n".join(lines)


def write_results(out: Path, res: Dict[str, Any]) -> None:
    """``demo_results.json`` and ``demo_results.md`` under ``out`` (atomic: a killed run leaves no half file)."""
    atomic_write_json(out / "demo_results.json", res)
    atomic_write_text(out / "demo_results.md", results_markdown(res))


def print_summary(res: Dict[str, Any], arms: List[Dict[str, Any]], n_test: int, test_split: str, out: Path,
                  preview: Optional[Path]) -> None:
    """The accuracy table on the console and the files written."""
    print("\n| arm | train samples (real/synthetic) | top-1 | seconds |\n|---|---|---|---|")
    for a in arms:
        print(f"| {a['arm']} | {a['train_real']}/{a['train_synthetic']} | {100 * a['top1']:.1f} % | {a['seconds']:.1f} |")
    print(f"({n_test} test sequences of {test_split}; synthetic = generated samples, flagged is_synthetic)")
    print(f"\nWrote {out / 'demo_results.json'}, {out / 'demo_results.md'}" + (f", {preview}" if preview else "")
          + f" in {res['seconds']:.1f} s")
