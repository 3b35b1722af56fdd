"""End-to-end KineMIC report for one few-shot cell: per-class adaptation and synthesis times, totals,
filter counts and accuracy next to real-only (and real+classic) on the same shots and seed.

    python -m benchmarks.few_shot --arms real+kinemic --shots 10 --seeds 0   # runs the cell
    python -m benchmarks.kinemic_e2e --shots 10 --seed 0                      # writes the report

It reads what the cell left behind, nothing is re-run: ``kinemic_report.json`` in the cell's work dir
(written by ``KineMICAugmentedDataset(report_dir=...)``) and the rows of ``few_shot.json``. Output:
``benchmarks/results/kinemic_e2e_<K>shot_s<seed>.{json,md}``.
"""
from __future__ import annotations

import argparse
import json
import platform
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR, load_records, write_markdown  # noqa: E402
from benchmarks.few_shot import cell_name  # noqa: E402
from kinemic_aug.utils.io import atomic_write_json  # noqa: E402


def _row(rows: List[Dict[str, Any]], arm: str, shots: int, seed: int) -> Optional[Dict[str, Any]]:
    return next((r for r in rows if r.get("arm") == arm and r.get("shots") == shots and r.get("seed") == seed
                 and r.get("dataset") == "msr_action3d"), None)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(float(a) - float(b)) <= 1e-6 * max(1.0, abs(float(a)))
    return a == b


def build(shots: int, seed: int, arm: str = "real+kinemic", work_root: Path = REPO / "work_dirs" / "few_shot",
          results: Path = RESULTS_DIR / "few_shot.json") -> Dict[str, Any]:
    """Collect the cell's per-class report and the comparison rows; raises if the cell has not run."""
    work = work_root / cell_name(arm, shots, seed)
    rep_path = work / "kinemic_report.json"
    if not rep_path.exists():
        raise FileNotFoundError(f"{rep_path} is missing: run `python -m benchmarks.few_shot --arms {arm} "
                                f"--shots {shots} --seeds {seed}` first")
    rep = json.loads(rep_path.read_text(encoding="utf-8"))
    rows = load_records(results)
    cell = _row(rows, arm, shots, seed)
    if cell is None:
        raise LookupError(f"no {arm} row for {shots} shots, seed {seed} in {results}")
    for key in ("generator_sha256", "augment_seconds"):
        # the work dir keeps the latest run's report; a row from another run would pair wrong numbers
        mine, theirs = rep.get(key), cell.get(key)
        if mine is not None and theirs is not None and not _same(mine, theirs):
            raise LookupError(f"{rep_path} ({key}={mine!r}) is not from the run recorded in {results} "
                              f"({key}={theirs!r}); rerun the cell with --force")
    classes = rep["classes"]
    adapt = sum(c["adapt_seconds"] for c in classes)
    synth = sum(c["synth_seconds"] for c in classes)
    return {
        "dataset": "msr_action3d", "split": "xsub", "arm": arm, "shots": shots, "seed": seed,
        "machine": f"{platform.machine()}, shared 2-core CPU, 1 torch thread",
        "adapt": {k: rep["adapt"][k] for k in ("mode", "steps", "batch_size", "lr", "lora_rank")},
        "variant": rep["variant"], "synthesis": {k: rep["synthesis"][k] for k in ("steps", "guidance", "shot_strength")},
        "synthetic_per_class": rep["synthetic_per_class"], "real_repeat": rep.get("real_repeat", 1),
        "num_real_unique": rep.get("num_real_unique"), "num_synthetic": rep["num_synthetic"],
        "generator_step": rep.get("generator_step"), "generator_sha256": rep.get("generator_sha256"),
        "adapt_cached_classes": sum(bool(c.get("adapt_cached")) for c in classes),
        "classes": classes, "adapt_seconds_total": adapt, "synth_seconds_total": synth,
        "augment_seconds": rep["augment_seconds"], "cell_seconds": cell.get("seconds"),
        "train_seconds": cell.get("train_seconds"),
        "top1_last": cell["top1_last"], "top1_best": cell["top1_best"],
        "compare": {a: (None if (r := _row(rows, a, shots, seed)) is None else r["top1_last"])
                    for a in ("real", "real+classic", "real+zeroshot", "real+finetune") if a != arm},
    }


def markdown(d: Dict[str, Any]) -> str:
    pct = lambda v: "–" if v is None else f"{100 * v:.1f} %"  # noqa: E731
    lines = [f"# KineMIC end to end: MSR Action3D xsub, {d['shots']} shots per class, 20 classes, seed {d['seed']}", "",
             f"Arm `{d['arm']}` (variant `{d['variant']}`), {d['machine']}. Adaptation: mode `{d['adapt']['mode']}`, "
             f"{d['adapt']['steps']} steps, batch {d['adapt']['batch_size']}, lr {d['adapt']['lr']}, LoRA rank "
             f"{d['adapt']['lora_rank']}. Synthesis: DDIM {d['synthesis']['steps']} steps, guidance "
             f"{d['synthesis']['guidance']}, shot_strength {d['synthesis']['shot_strength']}; "
             f"{d['synthetic_per_class']} SYNTHETIC samples asked per class, {d['num_synthetic']} kept; "
             f"{d['num_real_unique']} real shots, each listed {d['real_repeat']}×. Generator: training step "
             f"{d.get('generator_step') or '?'}, sha256 `{str(d.get('generator_sha256') or '?')[:8]}…`. Classifier: the real "
             "arm's ST-GCN recipe (600 SGD steps), tested on all 273 `xsub_test` sequences.", "",
             "| arm (same shots, seed, classifier) | top-1 (last validation) |", "|---|---|"]
    for a, v in d["compare"].items():
        lines.append(f"| {a} | {pct(v)} |")
    lines += [f"| **{d['arm']}** | **{pct(d['top1_last'])}** |", "",
              f"Totals: adaptation {d['adapt_seconds_total'] / 60:.1f} min, synthesis {d['synth_seconds_total'] / 60:.1f} min, "
              f"augmentation incl. set-up (corpus, pairing, source features) {d['augment_seconds'] / 60:.1f} min, "
              f"classifier training {(d['train_seconds'] or 0) / 60:.1f} min, whole cell {(d['cell_seconds'] or 0) / 60:.1f} min. "
              "Other benchmark jobs may have shared the 2 cores, so times are upper bounds for this machine."
              + (f" The adapters of {d['adapt_cached_classes']} of the {len(d['classes'])} classes came from the cache; "
                 "their times are those of the run that trained them." if d.get("adapt_cached_classes") else ""), "",
              "| class | shots | adaptation s | synthesis s | kept | dropped static / exploding | top-1 caption similarity |",
              "|---|---|---|---|---|---|---|"]
    for c in d["classes"]:
        sim = "–" if c.get("top1_similarity") is None else f"{c['top1_similarity']:.2f}"
        lines.append(f"| {c['class_id']} {c['name']} | {c['shots']} | {c['adapt_seconds']:.0f} | {c['synth_seconds']:.0f} | "
                     f"{c['generated']} | {c['dropped_static']} / {c['dropped_exploding']} | {sim} |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[List[str]] = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shots", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--arm", default="real+kinemic")
    a = p.parse_args(argv)
    d = build(a.shots, a.seed, a.arm)
    stem = RESULTS_DIR / f"kinemic_e2e_{a.shots}shot_s{a.seed}"
    atomic_write_json(stem.with_suffix(".json"), d)
    write_markdown(stem.with_suffix(".md"), markdown(d))
    print(markdown(d))


if __name__ == "__main__":
    main()
