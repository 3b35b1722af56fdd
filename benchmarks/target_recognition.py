"""Does the target's own judge recognise what each source of added samples gives, class by class?

    python -m benchmarks.target_recognition \\
        --generators old=kinemic_aug/assets/generator/generalist_small.pt v2=work_dirs/gen_v2/generalist_v2.pt

For each generalist (old and new side by side) and each way of adding samples to K real shots per class
of a dataset (MSR Action3D by default), the samples are labelled by the dataset's evaluator ST-GCN (the
``real`` arm's full-data classifier, trained on every real training sequence and never on synthetic
data, as in ``benchmarks/generation_metrics.py``), and ``recognised`` is how often it assigns a sample
its own class (chance 1 / classes):

* ``retrieved``: the class's soft-paired corpus clips themselves (no generator; depends on the
  generalist's corpus only);
* ``zeroshot``: the generalist prompted with the class captions, no adaptation;
* ``kinemic``: one joint KineMIC adapter over all classes (``--adapt-steps``, lr ``--adapt-lr``), sampled
  from pure noise;
* ``kinemic-anchored``: the same adapter, each sample started from a real shot noised 30 % up the chain.

Nothing is chosen on a test split: the shots come from the training split and the judge is trained on all of
it. (Training the judge with ``benchmarks.generation_metrics.ensure_evaluator`` also scores it once on the test
split, which is reported as its credibility and used for nothing else.) Writes
``benchmarks/results/<stem>.{json,md}`` (overall and per-class), and keeps each set's pickle under
``--work`` for inspection (``tools/visualize.py``).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR  # noqa: E402

VARIANTS = ("retrieved", "zeroshot", "kinemic", "kinemic-anchored")


def build_augmenter(spec: Any, pkl: Path, generator: Path, corpus: str, variant: str, a: argparse.Namespace):
    from kinemic_aug.adapt import AdaptConfig
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.synthesis import SynthesisConfig

    adapt = AdaptConfig(mode="joint", steps=a.adapt_steps, lr=a.adapt_lr, batch_size=16, progress=False)
    synth = SynthesisConfig(**{"shot_strength": 0.3 if variant == "kinemic-anchored" else 1.0,
                               **(a.synthesis if variant != "retrieved" else {})})  # retrieved: no synthesis
    return KineMICAugmenter(str(pkl), split=spec.train_split, shots=a.shots, allow_fewer=spec.allow_fewer,
                            labels=spec.labels, layout=spec.layout, fps=spec.fps, synthetic_per_class=a.per_class,
                            variant="kinemic" if variant.startswith("kinemic") else variant, adapt=adapt,
                            synthesis=synth, generator=generator, corpus=corpus, cache_dir=a.cache, seed=a.seed,
                            progress=False)


JUDGE_SPLIT = "train_without_shots"


def without_shots(pkl: Path, train_split: str, shot_ids: set, work: Path):
    """The dataset with one more split, the training split minus the shots (for a judge that never saw them);
    written into ``work`` under a name of its own for the dataset file and the shots left out (the judge's
    cache key holds the path, so another draw must not reuse this draw's judge). Returns (path, number of
    sequences in that split)."""
    import hashlib
    import pickle

    from kinemic_aug.utils.io import atomic_write_bytes

    with open(pkl, "rb") as f:
        data = pickle.load(f)
    keep = [i for i in data["split"][train_split] if i not in shot_ids]
    digest = hashlib.sha256("\n".join([str(Path(pkl).resolve()), train_split] + sorted(map(str, shot_ids)))
                            .encode()).hexdigest()
    out = work / f"judge_{Path(pkl).stem}_without_{len(shot_ids)}_shots_{digest[:12]}.pkl"
    data = {**data, "split": {**data["split"], JUDGE_SPLIT: keep}}
    atomic_write_bytes(out, pickle.dumps(data, protocol=4))
    return out, len(keep)


def judge(ev: Any, anns: List[Dict[str, Any]], out: Path) -> Dict[str, Any]:
    """The evaluator's labels for ``anns`` (written to ``out`` as a one-split pickle first)."""
    from benchmarks.generation_metrics import embed
    from kinemic_aug.data.pyskl import save_pyskl

    save_pyskl({"split": {"added": [x["frame_dir"] for x in anns]}, "annotations": anns,
                "meta": {"note": "samples added to few real shots (synthetic unless retrieved real corpus clips)"}}, out)
    _, p, y = embed(ev, out, "added")
    pred = p.argmax(1)
    per_class = {int(c): float((pred[y == c] == c).mean()) for c in np.unique(y)}
    return {"recognised": float((pred == y).mean()), "n": int(len(y)), "per_class": per_class,
            "mean_own_prob": float(p[np.arange(len(y)), y].mean())}


def main(argv=None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--generators", nargs="+", required=True, help="NAME=CHECKPOINT (corpus read from the checkpoint)")
    ap.add_argument("--dataset", default="msr_action3d")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    ap.add_argument("--shots", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--per-class", type=int, default=10)
    ap.add_argument("--adapt-steps", type=int, default=300)
    ap.add_argument("--adapt-lr", type=float, default=3e-4)
    ap.add_argument("--evaluator-options", nargs="*", default=[], help="KEY=VALUE for the judge's training (a "
                    "changed recipe is another judge, cached under its own key)")
    ap.add_argument("--judge-without-shots", action="store_true",
                    help="train the judge on the training split minus this draw's shots, so samples anchored on the "
                         "shots are not judged by a classifier that has seen them")
    ap.add_argument("--evaluator-root", default=None, help="default: the generation metrics' evaluator cache")
    ap.add_argument("--cache", default=str(REPO / "work_dirs" / "target_recognition" / "cache"))
    ap.add_argument("--work", default=str(REPO / "work_dirs" / "target_recognition"))
    ap.add_argument("--stem", default="target_recognition")
    ap.add_argument("--out-dir", default=str(RESULTS_DIR))
    ap.add_argument("--synthesis-options", nargs="*", default=[],
                    help="KEY=VALUE fields of SynthesisConfig for every generated set (e.g. travel_cap=1.0)")
    a = ap.parse_args(argv)
    import torch

    from benchmarks.generation_metrics import ensure_evaluator, load_evaluator
    from kinemic_aug.data.datasets import get_dataset_spec
    from kinemic_aug.generator import load_checkpoint
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text, sha256_file

    torch.set_num_threads(1)
    spec = get_dataset_spec(a.dataset)
    pkl = spec.require_pickle()
    config = REPO / f"configs/stgcn/{spec.config_stem}_full.py"
    from benchmarks.train_runner import parse_cfg_options
    ev_kw = {"root": Path(a.evaluator_root)} if a.evaluator_root else {}
    work = Path(a.work)
    work.mkdir(parents=True, exist_ok=True)
    ev_options = parse_cfg_options(a.evaluator_options)
    a.synthesis = parse_cfg_options(a.synthesis_options)
    judge_note = f"all real `{spec.train_split}` sequences"
    if a.judge_without_shots:
        first = a.generators[0].split("=", 1)[1]
        corpus0 = (load_checkpoint(first).get("corpus") or {}).get("name")
        shots = build_augmenter(spec, pkl, Path(first), corpus0, "retrieved", a).shot_anns  # the draw only
        jpkl, n = without_shots(pkl, spec.train_split, {x["frame_dir"] for x in shots}, work)
        ev_options.update({"train_dataloader.dataset.ann_file": str(jpkl), "train_dataloader.dataset.split": JUDGE_SPLIT,
                           "val_dataloader.dataset.ann_file": str(jpkl), "test_dataloader.dataset.ann_file": str(jpkl)})
        judge_note = f"the {n} real `{spec.train_split}` sequences that are not shots"
    ev = load_evaluator(ensure_evaluator(config, ev_options, **ev_kw))
    rows: List[Dict[str, Any]] = []
    names: Dict[int, str] = {}
    for item in a.generators:
        name, path = item.split("=", 1)
        ck = load_checkpoint(path)
        corpus, step = (ck.get("corpus") or {}).get("name"), int(ck["step"])
        del ck
        for variant in a.variants:
            t0 = time.time()
            aug = build_augmenter(spec, pkl, Path(path), corpus, variant, a)
            anns = aug.synthetic_annotations()
            names.update({c: aug.labels[c].name for c in aug.classes})
            res = judge(ev, anns, work / f"{name}_{variant}.pkl")
            res.update(generator=name, checkpoint=str(path), sha256=sha256_file(path), step=step, corpus=corpus,
                       variant=variant, seconds=round(time.time() - t0, 1))
            rows.append(res)
            print(f"{name} {variant}: recognised {100 * res['recognised']:.1f} % of {res['n']} "
                  f"({res['seconds']:.0f} s)", flush=True)
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": "2-core CPU (shared)",
           "dataset": spec.name, "shots": a.shots, "seed": a.seed, "per_class": a.per_class,
           "adapt": {"mode": "joint", "steps": a.adapt_steps, "lr": a.adapt_lr, "batch_size": 16},
           "synthesis_options": a.synthesis,
           "judge": {"config": str(config.relative_to(REPO)), "directory": str(ev.directory),
                     "trained_on": judge_note, "without_shots": bool(a.judge_without_shots)},
           "rows": rows, "classes": names}
    outdir = Path(a.out_dir)
    atomic_write_json(outdir / f"{a.stem}.json", out, indent=1)
    chance = 100.0 / spec.num_classes
    cols = [f"{r['generator']} {r['variant']}" for r in rows]
    md = [f"# What the target's judge recognises: {spec.title}, {a.shots} shots, seed {a.seed}", "",
          f"Run {out['date']}, {out['machine']}. Judge: the `real` arm's full-data ST-GCN (`{config.relative_to(REPO)}`, "
          f"trained on {judge_note}, never synthetic data). {a.per_class} samples per class; KineMIC: "
          f"one joint adapter, {a.adapt_steps} steps, lr {a.adapt_lr}, batch 16; anchored: shot_strength 0.3. "
          + (f"Synthesis options: {', '.join(f'`{k}={v}`' for k, v in a.synthesis.items())}. " if a.synthesis else "")
          + f"Chance {chance:.1f} %. Nothing is chosen on a test split. "
          + ("The judge never saw the shots." if a.judge_without_shots else
             "The judge was trained on all training subjects, the shots included, so samples anchored on the shots "
             "partly measure how close they stay to sequences the judge has seen (`--judge-without-shots` avoids it)."),
          "",
          "| generator | step | corpus | variant | recognised | mean own-class probability | seconds |",
          "|---|---|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['generator']} | {r['step']} | `{r['corpus']}` | {r['variant']} | {100 * r['recognised']:.1f} % | "
                  f"{r['mean_own_prob']:.3f} | {r['seconds']:.0f} |")
    md += ["", "Per class (recognised %):", "", "| class | " + " | ".join(cols) + " |", "|---|" + "---|" * len(cols)]
    for c in sorted(names):
        md.append(f"| {c} {names[c]} | " + " | ".join(
            f"{100 * r['per_class'].get(c, float('nan')):.0f}" for r in rows) + " |")
    atomic_write_text(outdir / f"{a.stem}.md", "\n".join(md) + "\n")
    print("\n".join(md[:8 + len(rows)]))
    return out


if __name__ == "__main__":
    main()
