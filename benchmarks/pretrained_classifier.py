"""Few-shot ST-GCN with and without a backbone pretrained on the real corpus (MSR Action3D, UTD-MHAD, any spec).

    python -m benchmarks.pretrained_classifier --stage val  --backbones kinect=work_dirs/pretrained/a.pth ...
    python -m benchmarks.pretrained_classifier --stage test --backbones kinect=work_dirs/pretrained/a.pth
    python -m benchmarks.pretrained_classifier --dataset utd_mhad --stage test --backbones kinect=work_dirs/pretrained/u.pth

Arms: ``real``, ``real+classic``, ``real+kinemic`` and ``real+classic+kinemic`` (the few-shot benchmark's
configs unchanged; ``--aug-options`` reach the KineMIC arms' augmenter, e.g. the generalist), and for each
named backbone ``pre[<name>]+real`` / ``+classic`` / ``+kinemic`` / ``+classic+kinemic``: the same config
with ``model.backbone.pretrained`` set, so the arms share classifier, steps, data and evaluation. A
pretrained arm is paired with the same arm without pretraining, and a KineMIC arm with the same arm
without KineMIC (``pre+classic+kinemic`` against ``pre+classic``: the headline against the strongest baseline).

``--stage val`` is for choosing a recipe: the dataset spec's validation subjects are held out of its
training split (MSR: subject 9, the shots then come from subjects 1, 3, 5, 7; UTD-MHAD: subject 7) and
scored; the test split is not read. ``--stage test`` is the report: shots drawn from all training
subjects, the test split read once per cell at the end (``top1_last``). A backbone must be pretrained in
the dataset's layout (``load_backbone`` refuses another). Results are merged into
``benchmarks/results/pretrained_classifier.json`` (key: dataset, stage, arm, shots, seed; resumable), and
``pretrained_classifier.md`` is rebuilt after every cell.
"""
from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR, format_mean_std, plot_arms, results_lock  # noqa: E402
from benchmarks.train_runner import run_train, train_command  # noqa: E402

OUT_JSON = RESULTS_DIR / "pretrained_classifier.json"
OUT_MD = RESULTS_DIR / "pretrained_classifier.md"
DATASET = "msr_action3d"
#: arm -> config template; the kinemic ones wrap the real arm's few-shot dataset in KineMICAugmentedDataset
CONFIG = {"real": "configs/stgcn/{stem}_{k}shot.py", "classic": "configs/stgcn/{stem}_{k}shot_classic.py",
          "kinemic": "configs/kinemic/{stem}_{k}shot_kinemic.py",
          "classic+kinemic": "configs/kinemic/{stem}_{k}shot_classic_kinemic.py"}
AUG = "train_dataloader.dataset.augmenter."


def config_path(spec: Any, arm: str, k: int) -> str:
    return CONFIG[arm].format(stem=spec.config_stem, k=k)


def arm_label(arm: str, backbone: str = "") -> str:
    """``real``, ``real+classic``, ``real+kinemic``, ``real+classic+kinemic``; ``pre[<backbone>]+...`` with one."""
    return (f"pre[{backbone}]+" if backbone else "real+") + arm if arm != "real" or backbone else "real"


def references(arm: str) -> List[str]:
    """The arms a row of ``arm`` is paired with: the same arm without pretraining, and for a KineMIC arm the
    same arm without KineMIC (the headline restated against the strongest baseline)."""
    out = []
    if arm.startswith("pre["):
        rest = arm.split("]+", 1)[1]
        out.append("real" if rest == "real" else "real+" + rest)
    if arm.endswith("+kinemic"):
        base = arm[: -len("+kinemic")]
        out.append(base + "+real" if base.endswith("]") else base)  # pre[n]+kinemic pairs with pre[n]+real
    return out


def val_pickle(spec: Any, pkl: Path, work: Path) -> Path:
    """The dataset with its val-stage splits (the spec's validation subjects held out of the training split),
    written once into ``work``."""
    from kinemic_aug.data.splits import with_validation_split
    from kinemic_aug.utils.io import atomic_write_bytes

    from kinemic_aug.utils.io import sha256_file

    out = work / f"{spec.name}_val_split_{sha256_file(pkl)[:12]}.pkl"  # another source file, another val pickle
    if not out.exists():
        with open(pkl, "rb") as f:
            data = pickle.load(f)
        split = with_validation_split(data, spec.train_split, spec.val_holdout, subject_key=spec.subject_key)
        atomic_write_bytes(out, pickle.dumps(split, protocol=4))
    return out


def cell_options(spec: Any, stage: str, ann: Path, backbone: str = "", iters: int = 600, *, kinemic: bool = False,
                 aug_options: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    opts: Dict[str, Any] = {}
    if kinemic:
        opts.update({AUG + k: v for k, v in (aug_options or {}).items()})
    train = "train_dataloader.dataset.dataset." if kinemic else "train_dataloader.dataset."
    # every loader reads the pickle given; in the test stage the test split is read once, at the end
    opts.update({train + "ann_file": str(ann), "val_dataloader.dataset.ann_file": str(ann),
                 "test_dataloader.dataset.ann_file": str(ann), "train_cfg.val_interval": iters})
    if stage == "val":
        pool, scored = spec.stage_splits("val")
        opts.update({train + "split": pool, train + "few_shot.test_split": scored,
                     "val_dataloader.dataset.split": scored, "test_dataloader.dataset.split": scored})
    if backbone:
        opts["model.backbone.pretrained"] = str(Path(backbone).resolve())
    return opts


def same_cell(r: Dict[str, Any], dataset: str, stage: str, arm: str, shots: int, seed: int) -> bool:
    return (r.get("dataset", DATASET) == dataset and r["stage"] == stage and r["arm"] == arm and r["shots"] == shots
            and r["seed"] == seed)


def load() -> List[Dict[str, Any]]:
    return json.loads(OUT_JSON.read_text()) if OUT_JSON.exists() else []


def _stage_tables(sub: List[Dict[str, Any]]) -> List[str]:
    arms = sorted({r["arm"] for r in sub}, key=lambda a: (a.startswith("pre"), a))
    shots = sorted({r["shots"] for r in sub})
    lines = ["| arm | " + " | ".join(f"{k}-shot" for k in shots) + " |", "|---|" + "---|" * len(shots)]
    for arm in arms:
        cells = []
        for k in shots:
            acc = [100 * r["top1_last"] for r in sub if r["arm"] == arm and r["shots"] == k]
            cells.append(format_mean_std(acc) if acc else "")
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    lines += ["", "Paired differences (an arm minus its reference, same shots and seed; only seeds both have):",
              "", "| arm | " + " | ".join(f"{k}-shot" for k in shots) + " |", "|---|" + "---|" * len(shots)]
    for arm in arms:
        for ref in references(arm):
            if ref not in arms:
                continue
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
    return lines + [""]


def report(rows: List[Dict[str, Any]]) -> None:
    from kinemic_aug.data.datasets import get_dataset_spec
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    atomic_write_json(OUT_JSON, rows, indent=1)
    lines = ["# Few-shot ST-GCN with a backbone pretrained on the real corpus", "",
             "Small ST-GCN, the few-shot benchmark's configs (600 SGD steps, batch 16), top-1 at the last "
             "validation, mean ± std over seeds (n). `val`: shots from the training subjects left after the dataset "
             "spec's validation subjects are held out, scored on those (for choosing the recipe); `test`: shots from "
             "all training subjects, scored once on the test split. Backbones: see the `backbones` rows below. "
             "Shared 2-core CPU, one thread per run.", ""]
    datasets = sorted({r.get("dataset", DATASET) for r in rows}, key=lambda d: (d != DATASET, d))
    for ds in datasets:
        spec = get_dataset_spec(ds)
        for stage in ("val", "test"):
            sub = [r for r in rows if r.get("dataset", DATASET) == ds and r["stage"] == stage]
            if not sub:
                continue
            held = f"; validation subjects {', '.join(map(str, spec.val_holdout))}" if stage == "val" else ""
            png = OUT_MD.with_name(f"{OUT_MD.stem}_{ds}_{stage}.png")
            plot_arms(sub, png, title=f"{spec.title}, {stage} stage: pretrained backbone vs none")
            lines += [f"## {spec.title}: {stage} (`{spec.config_stem}`{held})", ""] + _stage_tables(sub) + \
                [f"![{spec.title} {stage}]({png.name})", ""]
    # one row per distinct build of a backbone (a rebuild on this CPU is not bit-identical), with the cells it served
    bb: Dict[Any, Dict[str, Any]] = {}
    for r in rows:
        if r.get("backbone_name") and r.get("backbone_meta"):
            m = r["backbone_meta"]
            key = (r.get("dataset", DATASET), r["backbone_name"], m.get("heldout_top1"), m.get("steps"))
            entry = bb.setdefault(key, {"meta": m, "cells": set()})
            entry["cells"].add((r.get("stage"), r["shots"]))
    if bb:
        lines += ["## backbones", "", "One row per build; a rebuild with the same command is not bit-identical on this "
                  "CPU, so each row names the cells (stage, shots) it was fine-tuned in.", "",
                  "| dataset | name | corpus | layout | train clips | classes | steps | "
                  "held-out top-1 (corpus subjects never trained on) | cells |", "|---|---|---|---|---|---|---|---|---|"]
        for (ds, name, _, _), e in sorted(bb.items(), key=lambda kv: (kv[0][0], kv[0][1], -(kv[0][2] or 0))):
            m = e["meta"]
            cells = ", ".join(f"{st} {k}-shot" for st, k in sorted(e["cells"], key=lambda c: (str(c[0]), c[1])))
            lines.append(f"| {ds} | {name} | `{m['corpus']}` | {m.get('layout')} | {m['train_clips']} | "
                         f"{len(m['classes'])} | {m['steps']} | {100 * (m['heldout_top1'] or 0):.1f} % "
                         f"({m['heldout_clips']} clips) | {cells} |")
        lines.append("")
    atomic_write_text(OUT_MD, "\n".join(lines) + "\n")


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stage", choices=["val", "test"], required=True)
    ap.add_argument("--backbones", nargs="*", default=[], help="NAME=PATH of pretrained backbone files")
    ap.add_argument("--shots", nargs="+", type=int, default=[1, 3])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--arms", nargs="+", default=["real", "classic"], choices=list(CONFIG),
                    help="real, classic, kinemic, classic+kinemic (each with and without every backbone)")
    ap.add_argument("--aug-options", nargs="*", default=[],
                    help="KEY=VALUE for the KineMIC arms' augmenter (e.g. generator=PATH corpus=mocap+seed)")
    ap.add_argument("--no-baseline", action="store_true", help="skip the arms without a backbone")
    ap.add_argument("--lr-mult", type=float, default=None,
                    help="learning-rate multiplier of the pretrained backbone while fine-tuning (0 keeps its weights "
                         "fixed, though its BatchNorm statistics still adapt; default 1, the head's rate); the arm "
                         "is named pre[<name>,lr×<mult>]")
    ap.add_argument("--dataset", default=DATASET, help="registered dataset spec (msr_action3d, utd_mhad) or spec .json")
    ap.add_argument("--ann", "--msr", dest="ann", default=None,
                    help="the dataset's pickle (default: the spec's location, or its environment variable)")
    ap.add_argument("--work", default=str(REPO / "work_dirs" / "pretrained_classifier"))
    a = ap.parse_args(argv)
    from mmengine.config import Config

    from har.pretrained import read_backbone
    from kinemic_aug.data.datasets import get_dataset_spec

    from benchmarks.train_runner import parse_cfg_options

    spec = get_dataset_spec(a.dataset)
    aug_options = parse_cfg_options(a.aug_options)
    pkl = Path(a.ann) if a.ann else spec.require_pickle()
    work = Path(a.work) if spec.name == DATASET else Path(a.work) / spec.name
    work.mkdir(parents=True, exist_ok=True)
    ann = val_pickle(spec, pkl, work) if a.stage == "val" else pkl
    for _, path in [tuple(b.split("=", 1)) for b in a.backbones]:  # a wrong layout fails before any training
        layout = read_backbone(path)["meta"].get("layout")
        if layout != spec.layout:
            raise SystemExit(f"{path}: backbone pretrained in layout {layout!r}, dataset {spec.name!r} is in "
                             f"{spec.layout!r}; pretrain one with tools/pretrain_classifier.py --layout {spec.layout}")
    backbones = [("", "")] if not a.no_baseline else []
    backbones += [tuple(b.split("=", 1)) for b in a.backbones]
    rows = load()
    for seed in a.seeds:
        for k in a.shots:
            for arm in a.arms:
                for name, path in backbones:
                    label = arm_label(arm, f"{name},lr×{a.lr_mult:g}" if name and a.lr_mult is not None else name)
                    if any(same_cell(r, spec.name, a.stage, label, k, seed) for r in rows):
                        continue
                    cfg = REPO / config_path(spec, arm, k)
                    iters = int(Config.fromfile(str(cfg)).train_cfg.max_iters)
                    slug = label.translate(str.maketrans({"[": "_", "]": "", "+": "_", ",": "_", "×": "x"}))
                    wd = work / a.stage / f"{slug}_{k}shot_s{seed}"
                    kin = "kinemic" in arm
                    if kin:
                        wd.mkdir(parents=True, exist_ok=True)
                    opts = cell_options(spec, a.stage, ann, path, iters, kinemic=kin, aug_options=aug_options)
                    if kin:
                        opts["train_dataloader.dataset.report_dir"] = str(wd)
                    if name and a.lr_mult is not None:  # MMEngine's per-parameter-group rates (backbone.* only)
                        opts["optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult"] = a.lr_mult
                        opts["optim_wrapper.paramwise_cfg.custom_keys.backbone.decay_mult"] = 1.0 if a.lr_mult else 0.0
                    cmd = train_command(cfg, seed, wd, opts)
                    t0 = time.time()
                    res = run_train(cmd, wd / "train.log")
                    if not res.ok:
                        print(f"FAILED {label} {k}-shot seed {seed}: see {res.log}", flush=True)
                        continue
                    last = res.summary["last"]
                    row = {"dataset": spec.name, "stage": a.stage, "arm": label, "shots": k, "seed": seed,
                           "top1_last": last["acc/top1"], "top5_last": last.get("acc/top5"),
                           "seconds": round(time.time() - t0, 1), "config": config_path(spec, arm, k)}
                    if kin and (wd / "kinemic_report.json").exists():
                        rep = json.loads((wd / "kinemic_report.json").read_text())
                        row["kinemic"] = {k: rep.get(k) for k in ("variant", "preset", "generator", "generator_step",
                                                                   "generator_sha256", "num_synthetic", "target_norm",
                                                                   "synthetic_per_class")}
                        adapt = rep.get("adapt") or {}
                        row["kinemic"].update(adapt_steps=adapt.get("steps"), adapt_mode=adapt.get("mode"),
                                              adapt_lr=adapt.get("lr"), corpus=rep.get("corpus"))
                    if name:
                        meta = read_backbone(path)["meta"]
                        row.update(backbone_name=name, backbone_file=str(path),
                                   backbone_meta={x: meta.get(x) for x in ("corpus", "corpus_identity", "train_clips",
                                                                           "classes", "steps", "seed", "heldout_top1",
                                                                           "heldout_clips", "layout", "fps")})
                    with results_lock(OUT_JSON):  # another run may be adding rows to the same file
                        rows = [r for r in load() if not same_cell(r, spec.name, a.stage, label, k, seed)] + [row]
                        report(rows)
                    print(f"{spec.name} {a.stage} {label} {k}-shot seed {seed}: {100 * row['top1_last']:.1f} % "
                          f"({row['seconds']:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
