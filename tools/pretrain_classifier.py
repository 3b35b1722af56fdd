#!/usr/bin/env python
"""Pretrain an ST-GCN backbone on a real motion corpus, for fine-tuning on a few shots of a target.

The corpus (a spec as everywhere: ``kinect``, ``mocap``, ``msrc12+kinder_gator``, ...) is read in the
*target's* layout and frame rate (Kinect v1 orders are an exact joint permutation, other skeletons go
through SMPL-22), with one class per source label (``kinder_gator:wave your hand``). The corpus's
held-out subjects are the validation split, so the log shows how well the backbone recognises
corpus motion of people it never saw. Training runs on MMEngine's Runner with the target's base
model; a rerun with the same ``--work-dir`` resumes. The result is a backbone file (head dropped)
with its provenance: corpus spec, data files' sha256, layout, steps, seed, held-out accuracy and the
training data's terms (see :mod:`har.pretrained`)::

    python tools/pretrain_classifier.py --corpus kinect --layout msr_action3d --fps 15 \\
        --out work_dirs/pretrained/stgcn_kinect_msr.pth

Fine-tune from it with ``model.backbone.pretrained=<file>`` (``tools/train.py --cfg-options``).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, Tuple

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.utils.threads import pin_threads_from_argv  # noqa: E402  (stdlib only)

REPO = Path(__file__).resolve().parents[1]
BASE_MODEL = REPO / "configs" / "_base_" / "models" / "stgcn_small.py"
BASE_SCHEDULE = REPO / "configs" / "_base_" / "schedules" / "sgd_cosine_iter.py"
BASE_RUNTIME = REPO / "configs" / "_base_" / "default_runtime.py"


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", required=True, help="corpus spec of real sources, e.g. kinect, mocap, msrc12+nw_ucla "
                                                   "(optionally @DATA_ROOT on an item); never a target dataset")
    p.add_argument("--layout", required=True, help="the target's layout, e.g. msr_action3d, utd_mhad, nturgb+d")
    p.add_argument("--fps", type=float, default=None, help="the target's frame rate (default: the layout's)")
    p.add_argument("--out", required=True, help="backbone file to write (.pth)")
    p.add_argument("--work-dir", default=None, help="MMEngine work dir (default: next to --out); resumable")
    p.add_argument("--steps", type=int, default=1500)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=0.05)
    p.add_argument("--clip-len", type=int, default=32)
    p.add_argument("--val-every", type=int, default=500)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--model-config", default=str(BASE_MODEL), help="base model config (a har backbone)")
    p.add_argument("--threads", type=int, default=int(os.environ.get("KINEMIC_THREADS", "1")))
    return p.parse_args(argv)


def corpus_in_layout(spec: str, layout: str, fps: float) -> Tuple[Any, Any]:
    """``(train, heldout)`` corpora of the spec's real sources in ``layout`` at ``fps``."""
    from kinemic_aug.data.corpora import load_source
    from kinemic_aug.data.corpus import MotionCorpus
    from kinemic_aug.data.sources import _parse
    from kinemic_aug.errors import DataError

    items, segments = _parse(spec)
    train, held = MotionCorpus(name=f"{spec}:train"), MotionCorpus(name=f"{spec}:heldout")
    for kind, arg in items:
        if kind != "real":
            raise DataError(f"classifier pretraining needs labelled real sources; {kind!r} items have no class "
                            f"labels (spec {spec!r})", field="corpus")
        names, part, root = arg
        for n in names:
            if part in ("train", "all"):
                for c in load_source(n, root, "train", layout=layout, out_fps=fps):
                    train.append(c)
            for c in load_source(n, root, "heldout", layout=layout, out_fps=fps):
                held.append(c)
    if segments:
        raise DataError("'+segments' has no meaning for classifier pretraining", field="corpus")
    return train, held


def corpus_annotations(train, held) -> Dict[str, Any]:
    """A PYSKL annotation dict: one class per (dataset, label), splits ``train`` and ``val``."""
    import numpy as np

    from kinemic_aug.errors import DataError

    classes = sorted({f"{c.meta['dataset']}:{c.meta['label']}" for c in train})
    if not classes:
        raise DataError("the corpus has no labelled training clips", field="corpus")
    index = {name: i for i, name in enumerate(classes)}
    anns, split = [], {"train": [], "val": []}
    for part, corpus in (("train", train), ("val", held)):
        for c in corpus:
            key = f"{c.meta['dataset']}:{c.meta['label']}"
            if key not in index:  # a held-out label never trained on
                continue
            name = f"{part}/{c.name}"
            anns.append({"frame_dir": name, "label": index[key], "keypoint": c.joints[None].astype(np.float32),
                         "total_frames": int(c.num_frames), "subject": str(c.meta.get("subject")),
                         "is_synthetic": bool(c.synthetic), "source": c.source})
            split[part].append(name)
    return {"split": split, "annotations": anns, "meta": {"classes": classes, "layout": train[0].layout,
                                                          "fps": float(train[0].fps)}}


def write_config(work_dir: Path, ann_file: Path, a: argparse.Namespace, num_classes: int, layout: str) -> Path:
    val_interval = min(a.val_every, a.steps)
    text = f"""# Written by tools/pretrain_classifier.py: pretraining on corpus {a.corpus!r} in layout {layout!r}.
_base_ = [{str(Path(a.model_config).resolve())!r}, {str(BASE_SCHEDULE)!r}, {str(BASE_RUNTIME)!r}]
ann_file = {str(ann_file)!r}
clip_len = {a.clip_len}
max_iters = {a.steps}
model = dict(backbone=dict(graph_cfg=dict(layout={layout!r}, mode='stgcn_spatial'), num_person=1),
             cls_head=dict(num_classes={num_classes}))
train_pipeline = [dict(type='PreNormalize3D'), dict(type='GenSkeFeat', feats=['j']),
                  dict(type='UniformSample', clip_len=clip_len), dict(type='PoseDecode'),
                  dict(type='FormatGCNInput', num_person=1), dict(type='PackGCNInputs')]
val_pipeline = [dict(type='PreNormalize3D'), dict(type='GenSkeFeat', feats=['j']),
                dict(type='UniformSample', clip_len=clip_len, num_clips=1, test_mode=True), dict(type='PoseDecode'),
                dict(type='FormatGCNInput', num_person=1), dict(type='PackGCNInputs')]
train_dataloader = dict(batch_size={a.batch_size}, num_workers=0, persistent_workers=False,
                        sampler=dict(type='InfiniteSampler', shuffle=True),
                        dataset=dict(type='PoseDataset', ann_file=ann_file, split='train', layout={layout!r},
                                     num_classes={num_classes}, pipeline=train_pipeline))
val_dataloader = dict(batch_size=64, num_workers=0, persistent_workers=False,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(type='PoseDataset', ann_file=ann_file, split='val', layout={layout!r},
                                   num_classes={num_classes}, pipeline=val_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', topk=(1, 5))
test_evaluator = val_evaluator
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval={val_interval})
optim_wrapper = dict(optimizer=dict(type='SGD', lr={a.lr}, momentum=0.9, weight_decay=5e-4, nesterov=True))
param_scheduler = [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=40),
                   dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0, by_epoch=False, begin=0,
                        end=max_iters)]
default_hooks = dict(checkpoint=dict(interval={val_interval}, by_epoch=False, save_last=True, max_keep_ckpts=1))
"""
    path = work_dir / "pretrain_config.py"
    path.write_text(text, encoding="utf-8")
    return path


def main(argv=None) -> Dict[str, Any]:
    pin_threads_from_argv(argv, default=int(os.environ.get("KINEMIC_THREADS", "1")))
    a = parse_args(argv)
    import pickle

    import torch

    from har.pretrained import save_backbone
    from har.training import last_checkpoint, load_config, run_training
    from kinemic_aug.data.sources import describe_corpus
    from kinemic_aug.errors import DataError
    from kinemic_aug.skeleton.layout import get_layout
    from kinemic_aug.utils.io import atomic_write_bytes, atomic_write_json

    torch.set_num_threads(max(1, a.threads))
    lay = get_layout(a.layout)
    fps = float(a.fps or lay.fps or 0) or None
    if fps is None:
        raise DataError(f"layout {lay.name!r} has no frame rate; pass --fps", field="fps")
    out = Path(a.out)
    work_dir = Path(a.work_dir) if a.work_dir else out.with_suffix("").parent / (out.stem + "_work")
    work_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    provenance = describe_corpus(a.corpus)  # validates the spec and hashes the files before any work
    train, held = corpus_in_layout(a.corpus, lay.name, fps)
    data = corpus_annotations(train, held)
    ann_file = work_dir / "corpus.pkl"
    atomic_write_bytes(ann_file, pickle.dumps(data, protocol=4))
    classes = data["meta"]["classes"]
    print(f"corpus {a.corpus!r} in {lay.name} at {fps:g} fps: {len(data['split']['train'])} train / "
          f"{len(data['split']['val'])} held-out clips, {len(classes)} classes ({time.time() - t0:.0f} s)", flush=True)
    # a layout given as a file is named by its path in the child config: the Runner's process has not loaded it
    layout_ref = str(Path(a.layout).resolve()) if Path(a.layout).is_file() else lay.name
    cfg_path = write_config(work_dir, ann_file, a, len(classes), layout_ref)
    cfg = load_config(cfg_path, work_dir=str(work_dir), seed=a.seed)
    cfg.resume = (work_dir / "last_checkpoint").is_file()
    summary = run_training(cfg)
    last = last_checkpoint(work_dir)
    if last is None:  # the Runner saves at its last step; without that file there are no weights to ship
        raise FileNotFoundError(f"{work_dir / 'last_checkpoint'}: the training run saved no checkpoint")
    import har.registry  # noqa: F401  (allows MMEngine's message hub in weights_only loads)
    from har.registry import MODELS

    ckpt = torch.load(last, map_location="cpu", weights_only=True)
    model = MODELS.build(cfg.model)
    arch = model.backbone.arch
    terms = sorted({s["licence"] for s in provenance["sources"] if s.get("licence")})
    last_val = (summary.get("last") or {})
    meta = {
        "layout": lay.name, "num_joints": lay.num_joints, "joint_names": list(lay.joint_names), "fps": fps,
        "arch": arch, "corpus": a.corpus, "corpus_identity": provenance["identity"],
        "sources": [{k: s.get(k) for k in ("source", "part", "file", "sha256", "heldout")}
                    for s in provenance["sources"]],
        "terms": terms, "classes": classes, "steps": a.steps, "seed": a.seed, "lr": a.lr,
        "batch_size": a.batch_size, "clip_len": a.clip_len,
        "heldout_top1": last_val.get("acc/top1"), "heldout_clips": len(data["split"]["val"]),
        "train_clips": len(data["split"]["train"]), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "seconds": round(time.time() - t0, 1),
    }
    save_backbone(ckpt["state_dict"], out, meta)
    atomic_write_json(out.with_suffix(".json"), meta, indent=1)
    print(f"wrote {out} (held-out top-1 {100 * (meta['heldout_top1'] or 0):.1f} % on {meta['heldout_clips']} clips "
          f"of subjects never trained on)", flush=True)
    return meta


if __name__ == "__main__":
    main()
