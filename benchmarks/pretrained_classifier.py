"""Few-shot ST-GCN with and without a backbone pretrained on the real corpus (MSR Action3D).

    python -m benchmarks.pretrained_classifier --stage val  --backbones kinect=work_dirs/pretrained/a.pth ...
    python -m benchmarks.pretrained_classifier --stage test --backbones kinect=work_dirs/pretrained/a.pth

Arms: ``real`` and ``real+classic`` (the few-shot benchmark's configs unchanged), and for each named
backbone ``pre[<name>]+real`` / ``pre[<name>]+classic``: the same config with
``model.backbone.pretrained`` set, so the arms share classifier, steps, data and evaluation.

``--stage val`` is for choosing a recipe: subject 9 of MSR's training subjects is held out (its
sequences are the validation split, the shots are drawn from subjects 1, 3, 5, 7); the test split is
not read. ``--stage test`` is the report: shots drawn from all training subjects, the test split
read once per cell at the end (``top1_last``). Results are merged into
``benchmarks/results/pretrained_classifier.json`` (key: stage, arm, shots, seed; resumable), and
``pretrained_classifier.md`` is rebuilt after every cell.
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR, format_mean_std  # noqa: E402
from benchmarks.train_runner import run_train, train_command  # noqa: E402

OUT_JSON = RESULTS_DIR / "pretrained_classifier.json"
OUT_MD = RESULTS_DIR / "pretrained_classifier.md"
VAL_HOLDOUT = (9,)
CONFIG = {"real": "configs/stgcn/stgcn_msr_xsub_{k}shot.py", "classic": "configs/stgcn/stgcn_msr_xsub_{k}shot_classic.py"}


def val_pickle(msr_pkl: Path, work: Path) -> Path:
    """MSR with ``xsub_train_val_pool`` / ``xsub_train_val`` splits (subject 9 held out), in ``work``."""
    from kinemic_aug.data.splits import with_validation_split
    from kinemic_aug.utils.io import atomic_write_bytes

    out = work / "msr_val_split.pkl"
    if not out.exists():
        with open(msr_pkl, "rb") as f:
            data = pickle.load(f)
        atomic_write_bytes(out, pickle.dumps(with_validation_split(data, "xsub_train", VAL_HOLDOUT), protocol=4))
    return out


def cell_options(stage: str, ann: Path, backbone: str = "") -> Dict[str, Any]:
    opts: Dict[str, Any] = {}
    if stage == "val":
        opts.update({"train_dataloader.dataset.ann_file": str(ann), "val_dataloader.dataset.ann_file": str(ann),
                     "test_dataloader.dataset.ann_file": str(ann),
                     "train_dataloader.dataset.split": "xsub_train_val_pool",
                     "train_dataloader.dataset.few_shot.test_split": "xsub_train_val",
                     "val_dataloader.dataset.split": "xsub_train_val", "test_dataloader.dataset.split": "xsub_train_val",
                     "train_cfg.val_interval": 600})
    else:
        opts["train_cfg.val_interval"] = 600  # the test split is read once, at the end
    if backbone:
        opts["model.backbone.pretrained"] = str(Path(backbone).resolve())
    return opts


def load() -> List[Dict[str, Any]]:
    return json.loads(OUT_JSON.read_text()) if OUT_JSON.exists() else []


def report(rows: List[Dict[str, Any]]) -> None:
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    atomic_write_json(OUT_JSON, rows, indent=1)
    lines = ["# Few-shot ST-GCN with a backbone pretrained on the real corpus (MSR Action3D)", "",
             "Small ST-GCN, the few-shot benchmark's configs (600 SGD steps, batch 16), top-1 at the last "
             "validation, mean ± std over seeds (n). `val`: shots from training subjects 1/3/5/7, scored on "
             "training subject 9 (for choosing the recipe); `test`: shots from all training subjects, scored "
             "once on `xsub_test`. Backbones: see the `backbones` rows below. Shared 2-core CPU, one thread per run.",
             ""]
    for stage in ("val", "test"):
        sub = [r for r in rows if r["stage"] == stage]
        if not sub:
            continue
        arms = sorted({r["arm"] for r in sub}, key=lambda a: (a.startswith("pre"), a))
        shots = sorted({r["shots"] for r in sub})
        lines += [f"## {stage}", "", "| arm | " + " | ".join(f"{k}-shot" for k in shots) + " |",
                  "|---|" + "---|" * len(shots)]
        for arm in arms:
            cells = []
            for k in shots:
                acc = [100 * r["top1_last"] for r in sub if r["arm"] == arm and r["shots"] == k]
                cells.append(format_mean_std(acc) if acc else "")
            lines.append(f"| {arm} | " + " | ".join(cells) + " |")
        lines += ["", "Paired difference (pretrained arm minus the same arm without pretraining, same shots and seed):",
                  "", "| arm | " + " | ".join(f"{k}-shot" for k in shots) + " |", "|---|" + "---|" * len(shots)]
        for arm in arms:
            if not arm.startswith("pre"):
                continue
            ref = "real" if arm.endswith("+real") else "real+classic"
            cells = []
            for k in shots:
                d = []
                for r in sub:
                    if r["arm"] == arm and r["shots"] == k:
                        m = [x for x in sub if x["arm"] == ref and x["shots"] == k and x["seed"] == r["seed"]]
                        if m:
                            d.append(100 * (r["top1_last"] - m[0]["top1_last"]))
                cells.append(format_mean_std(d) if d else "")
            lines.append(f"| {arm} − {ref} | " + " | ".join(cells) + " |")
        lines.append("")
    bb = {r["backbone_name"]: r.get("backbone_meta") for r in rows if r.get("backbone_name")}
    if bb:
        lines += ["## backbones", "", "| name | corpus | train clips | classes | steps | held-out top-1 (corpus subjects never trained on) |",
                  "|---|---|---|---|---|---|"]
        for name, m in sorted(bb.items()):
            if m:
                lines.append(f"| {name} | `{m['corpus']}` | {m['train_clips']} | {len(m['classes'])} | {m['steps']} | "
                             f"{100 * (m['heldout_top1'] or 0):.1f} % ({m['heldout_clips']} clips) |")
        lines.append("")
    atomic_write_text(OUT_MD, "\n".join(lines) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", choices=["val", "test"], required=True)
    ap.add_argument("--backbones", nargs="*", default=[], help="NAME=PATH of pretrained backbone files")
    ap.add_argument("--shots", nargs="+", type=int, default=[1, 3])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--arms", nargs="+", default=["real", "classic"], help="real and/or classic")
    ap.add_argument("--no-baseline", action="store_true", help="skip the arms without a backbone")
    ap.add_argument("--msr", default=str(REPO.parent / "shared" / "data" / "msr_action3d" / "msr_action3d_skeleton.pkl"))
    ap.add_argument("--work", default=str(REPO / "work_dirs" / "pretrained_classifier"))
    a = ap.parse_args(argv)
    from har.pretrained import read_backbone

    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    ann = val_pickle(Path(a.msr), work) if a.stage == "val" else Path(a.msr)
    backbones = [("", "")] if not a.no_baseline else []
    backbones += [tuple(b.split("=", 1)) for b in a.backbones]
    rows = load()
    for seed in a.seeds:
        for k in a.shots:
            for arm in a.arms:
                for name, path in backbones:
                    label = ("real" if arm == "real" else "real+classic") if not name else \
                        f"pre[{name}]+{'real' if arm == 'real' else 'classic'}"
                    if any(r["stage"] == a.stage and r["arm"] == label and r["shots"] == k and r["seed"] == seed
                           for r in rows):
                        continue
                    cfg = REPO / CONFIG[arm].format(k=k)
                    wd = work / a.stage / f"{label.replace('[', '_').replace(']', '').replace('+', '_')}_{k}shot_s{seed}"
                    cmd = train_command(cfg, seed, wd, cell_options(a.stage, ann, path))
                    t0 = time.time()
                    res = run_train(cmd, wd / "train.log")
                    if not res.ok:
                        print(f"FAILED {label} {k}-shot seed {seed}: see {res.log}", flush=True)
                        continue
                    last = res.summary["last"]
                    row = {"dataset": "msr_action3d", "stage": a.stage, "arm": label, "shots": k, "seed": seed,
                           "top1_last": last["acc/top1"], "top5_last": last.get("acc/top5"),
                           "seconds": round(time.time() - t0, 1), "config": CONFIG[arm].format(k=k)}
                    if name:
                        meta = read_backbone(path)["meta"]
                        row.update(backbone_name=name, backbone_file=str(path),
                                   backbone_meta={x: meta.get(x) for x in ("corpus", "corpus_identity", "train_clips",
                                                                           "classes", "steps", "seed", "heldout_top1",
                                                                           "heldout_clips", "layout", "fps")})
                    rows = [r for r in load() if not (r["stage"] == a.stage and r["arm"] == label and r["shots"] == k
                                                      and r["seed"] == seed)] + [row]
                    report(rows)
                    print(f"{a.stage} {label} {k}-shot seed {seed}: {100 * row['top1_last']:.1f} % "
                          f"({row['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
