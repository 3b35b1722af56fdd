"""Does a generalist follow prompts the way real people move? Judged on real held-out motion.

The judge is an ST-GCN trained by ``tools/pretrain_classifier.py`` on the *real* corpus (``mocap``, in
SMPL-22 at 20 fps, one class per source label) from the training subjects; its accuracy on the
held-out subjects is stated with every result. Each generator is prompted with the authored captions
of every label present in the held-out part (``--per-label`` samples per label, lengths drawn from
that label's held-out clips), and the judge labels the samples:

* ``recognised``: how often the judge assigns a sample the label it was prompted with
  (chance = 1 / number of labels judged);
* ``fid``: Fréchet distance between judge features of the samples and of the real held-out clips
  (the real training part against the held-out part is the reference a perfect generator would get);
* ``diversity``: mean feature distance between random pairs of samples (real held-out: reference).

    python -m benchmarks.generator_real_quality --judge work_dirs/pretrained/judge_mocap_smpl22_work \\
        --generators old=kinemic_aug/assets/generator/generalist_small.pt new=work_dirs/gen_v2/gen.pt

Writes ``benchmarks/results/generator_real_quality.{json,md}`` (one row per generator).
"""
from __future__ import annotations

import argparse
import pickle
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR  # noqa: E402
from benchmarks.generation_metrics import Evaluator, embed  # noqa: E402


def load_judge(work: Path) -> Evaluator:
    """The pretraining run in ``work`` (its config and last MMEngine checkpoint, head included)."""
    from har.training import last_checkpoint, load_recognizer

    cfg_path = work / "pretrain_config.py"
    ckpt = last_checkpoint(work)
    if ckpt is None:
        raise FileNotFoundError(f"{work} holds no last_checkpoint: run tools/pretrain_classifier.py there first")
    model, cfg = load_recognizer(cfg_path, ckpt)
    return Evaluator(work, cfg_path, {}, model, cfg, {"key": work.name, "checkpoint": str(ckpt)})


def judge_classes(work: Path) -> Dict[str, Any]:
    with open(work / "corpus.pkl", "rb") as f:
        return pickle.load(f)


def heldout_prompts(data: Dict[str, Any], per_label: int, seed: int) -> List[Dict[str, Any]]:
    """``per_label`` prompts for every label of the held-out split: an authored caption (in turn) and a
    length drawn from that label's held-out clips (at most 10 s)."""
    from kinemic_aug.data.corpora.bandai import styled_captions
    from kinemic_aug.data.corpora.common import authored_captions

    rng = np.random.default_rng(seed)
    classes = data["meta"]["classes"]
    val_ids = set(data["split"]["val"])
    lengths: Dict[int, List[int]] = {}
    for a in data["annotations"]:
        if a["frame_dir"] in val_ids:
            lengths.setdefault(int(a["label"]), []).append(int(a["total_frames"]))
    out = []
    for lab in sorted(lengths):
        dataset, name = classes[lab].split(":", 1)
        if dataset == "bandai_namco_motion":
            caps = styled_captions(name, "normal")
        else:
            caps = authored_captions(dataset, name)
        for j in range(per_label):
            n = int(min(200, max(20, rng.choice(lengths[lab]))))
            out.append({"label": lab, "class": classes[lab], "text": caps[j % len(caps)], "frames": n})
    return out


def write_pickle(path: Path, clips: Sequence[np.ndarray], labels: Sequence[int], split: str) -> Path:
    from kinemic_aug.utils.io import atomic_write_bytes

    anns = [{"frame_dir": f"{split}{i:05d}", "label": int(y), "keypoint": c[None].astype(np.float32),
             "total_frames": int(len(c)), "is_synthetic": split == "gen"} for i, (c, y) in enumerate(zip(clips, labels))]
    atomic_write_bytes(path, pickle.dumps({"split": {split: [a["frame_dir"] for a in anns]}, "annotations": anns},
                                          protocol=4))
    return path


def score(ev: Evaluator, ann: Path, split: str, real_val: Dict[str, np.ndarray]) -> Dict[str, Any]:
    from kinemic_aug.eval.generation import diversity, fid

    f, p, y = embed(ev, ann, split)
    pred = p.argmax(1)
    per_class = {}
    for lab in np.unique(y):
        m = y == lab
        per_class[int(lab)] = float((pred[m] == lab).mean())
    return {"recognised": float((pred == y).mean()), "n": int(len(y)), "fid": fid(f, real_val["feats"]),
            "diversity": diversity(f)[0], "per_class": per_class}


def main(argv=None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--judge", required=True, help="work dir of a tools/pretrain_classifier.py run in smpl22")
    ap.add_argument("--generators", nargs="+", required=True, help="NAME=CHECKPOINT")
    ap.add_argument("--per-label", type=int, default=4)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--guidance", type=float, default=2.5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--out-stem", default="generator_real_quality")
    ap.add_argument("--out-dir", default=str(RESULTS_DIR))
    a = ap.parse_args(argv)
    import torch

    from kinemic_aug.eval.generation import diversity, fid
    from kinemic_aug.generator import MotionGenerator, load_checkpoint
    from kinemic_aug.text import get_text_encoder
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text, sha256_file

    torch.set_num_threads(1)
    work = Path(a.judge)
    ev = load_judge(work)
    data = judge_classes(work)
    if data["meta"].get("layout") != "smpl22":
        raise SystemExit(f"the judge must be trained in smpl22, got {data['meta'].get('layout')!r}")
    jann = work / "corpus.pkl"
    vf, vp, vy = embed(ev, jann, "val")
    tf, _, _ = embed(ev, jann, "train")
    real_val = {"feats": vf}
    rng = np.random.default_rng(a.seed)
    sub = tf[rng.choice(len(tf), size=min(len(tf), len(vf)), replace=False)]
    reference = {"judge_heldout_top1": float((vp.argmax(1) == vy).mean()), "heldout_clips": int(len(vy)),
                 "fid_train_vs_heldout": fid(sub, vf), "diversity_heldout": diversity(vf)[0],
                 "labels_judged": int(len(np.unique(vy))), "chance": 1.0 / len(np.unique(vy))}
    prompts = heldout_prompts(data, a.per_label, a.seed)
    enc = get_text_encoder("minilm")
    rows = []
    for item in a.generators:
        name, path = item.split("=", 1)
        ckpt = load_checkpoint(path)
        step, corpus = int(ckpt["step"]), (ckpt.get("corpus") or {}).get("name")
        del ckpt
        gen = MotionGenerator.from_checkpoint(path, text_encoder=enc)
        t0 = time.time()
        clips: List[np.ndarray] = []
        for b in range(0, len(prompts), a.batch):
            chunk = prompts[b:b + a.batch]
            clips.extend(gen.generate([p["frames"] for p in chunk], texts=[p["text"] for p in chunk], steps=a.steps,
                                      sampler="ddim", guidance=a.guidance, seed=a.seed + b // a.batch))
        secs = time.time() - t0
        ann = write_pickle(work / f"gen_{name}.pkl", [np.asarray(c, np.float32) for c in clips],
                           [p["label"] for p in prompts], "gen")
        res = score(ev, ann, "gen", real_val)
        res.update(name=name, checkpoint=str(path), sha256=sha256_file(path), step=step, corpus=corpus,
                   sample_seconds=round(secs, 1))
        rows.append(res)
        print(f"{name}: recognised {100 * res['recognised']:.1f} % of {res['n']}, FID {res['fid']:.2f}", flush=True)
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": "2-core CPU (shared)",
           "judge": str(work), "judge_checkpoint": ev.info["checkpoint"], "reference": reference,
           "prompts": len(prompts), "per_label": a.per_label, "steps": a.steps, "guidance": a.guidance,
           "seed": a.seed, "generators": rows, "classes": data["meta"]["classes"]}
    atomic_write_json(Path(a.out_dir) / f"{a.out_stem}.json", out, indent=1)
    r = reference
    md = ["# Generalists judged on real held-out motion", "",
          f"Run {out['date']}, {out['machine']}, seed {a.seed}. Judge: small ST-GCN trained on the real corpus's "
          f"training subjects (`{work.name}`), **{100 * r['judge_heldout_top1']:.1f} %** top-1 on "
          f"{r['heldout_clips']} clips of the held-out subjects ({r['labels_judged']} labels, chance "
          f"{100 * r['chance']:.1f} %). Each generator: {a.per_label} samples per held-out label, prompted with "
          f"its authored captions, DDIM {a.steps} steps, guidance {a.guidance}.", "",
          "| generator | step | training corpus | recognised as prompted | FID to held-out real | diversity | sampling s |",
          "|---|---|---|---|---|---|---|"]
    for x in rows:
        md.append(f"| {x['name']} | {x['step']} | `{x['corpus']}` | {100 * x['recognised']:.1f} % | {x['fid']:.2f} | "
                  f"{x['diversity']:.2f} | {x['sample_seconds']:.0f} |")
    md += [f"| real held-out clips (reference) | | | {100 * r['judge_heldout_top1']:.1f} % | "
           f"{r['fid_train_vs_heldout']:.2f} (train part) | {r['diversity_heldout']:.2f} | |", ""]
    atomic_write_text(Path(a.out_dir) / f"{a.out_stem}.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return out


if __name__ == "__main__":
    main()
