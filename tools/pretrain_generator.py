#!/usr/bin/env python
"""Pretrain the generalist text-to-motion denoiser on a MotionCorpus (.npz).

Example (a 20-step smoke run on the procedural toy corpus)::

    python tools/pretrain_generator.py --toy-corpus /tmp/toy.npz --corpus /tmp/toy.npz \\
        --preset small --steps 20 --text-encoder hashing --out /tmp/gen.pt

The recipe that keeps text and motion in agreement (segment sub-clips with their own captions,
crops only inside captioned spans, a velocity loss term)::

    python tools/pretrain_generator.py --corpus seed+procedural:4000:0 --segments --crop caption \
        --lambda-vel 0.5 --max-seconds 6 --out work_dirs/gen.pt

Seeded and resumable: rerunning with the same ``--out`` continues from the saved step (``--no-resume``
starts over). Writes ``<out>`` (checkpoint), ``<out stem>.loss.png`` and ``<out stem>.log``.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from kinemic_aug.data.sources import load_corpus  # noqa: E402
from kinemic_aug.generator import DenoiserConfig, PretrainConfig, get_representation, pretrain  # noqa: E402


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", required=True,
                    help="corpus spec: a MotionCorpus .npz, 'seed', 'procedural:N:SEED', or several joined by '+' "
                         "(the shipped generalist: seed+procedural:4000:0 with --segments)")
    ap.add_argument("--out", required=True, help="checkpoint path (.pt)")
    ap.add_argument("--toy-corpus", action="store_true",
                    help="first write a small procedural (synthetic) SMPL-22 corpus to --corpus")
    ap.add_argument("--preset", default="small", choices=["tiny", "small", "mdm"])
    ap.add_argument("--representation", default="xyz", choices=["xyz", "hml263"])
    ap.add_argument("--layout", default="smpl22")
    ap.add_argument("--text-encoder", default="minilm", help="minilm | clip | hashing (tests only) | none")
    ap.add_argument("--text-cache", default=None,
                    help="folder for a persistent caption-embedding cache (restarts and resumes skip re-encoding)")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.0)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--ema-decay", type=float, default=0.999)
    ap.add_argument("--fps", type=float, default=20.0)
    ap.add_argument("--min-seconds", type=float, default=1.0)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--crop", default="random", choices=["random", "caption"],
                    help="random: random crops with the whole clip's caption (original recipe); caption: whole "
                         "clips, or crops inside a captioned span with that span's caption")
    ap.add_argument("--segments", action="store_true",
                    help="append '+segments' to the corpus spec: add each chained clip's single-action sub-clips "
                         "with their own captions")
    ap.add_argument("--lambda-vel", type=float, default=0.0,
                    help="weight of the velocity loss (MSE of frame differences, MDM); 0 = off")
    ap.add_argument("--balance", default="none", choices=["none", "source_label"],
                    help="how clips are drawn: uniformly, or sources by sqrt(duration) and labels equally")
    ap.add_argument("--val-corpus", default=None,
                    help="held-out corpus spec for the validation curve, e.g. mocap:heldout ('auto': the held-out "
                         "part of every real source in --corpus)")
    ap.add_argument("--val-every", type=int, default=0, help="validation interval in steps (0: every save)")
    ap.add_argument("--engine", default="fast", choices=["fast", "legacy"],
                    help="fast: packed valid frames + cheap dropout masks; legacy: the original step (continues a "
                         "run started before the fast engine draw for draw)")
    ap.add_argument("--diffusion-steps", type=int, default=100)
    ap.add_argument("--schedule", default="cosine", choices=["cosine", "linear"])
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    ap.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    ap.add_argument("--no-resume", action="store_true")
    ap.add_argument("--init-from", default=None,
                    help="a sampling-only checkpoint (an exported or shipped generalist) to keep training when --out "
                         "does not exist yet: its weights, step and history continue, the optimizer starts fresh")
    ap.add_argument("--no-progress", action="store_true")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    torch.set_num_threads(a.threads)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for h in (logging.StreamHandler(), logging.FileHandler(out.with_name(out.stem + ".log"))):
        h.setFormatter(fmt)
        root.addHandler(h)
    log = logging.getLogger("pretrain_generator")
    if a.toy_corpus:
        from kinemic_aug.data.procedural.swing_clips import swing_corpus
        swing_corpus(num_clips=16, seed=a.seed).save(a.corpus)
        log.info("wrote procedural toy corpus (synthetic) to %s", a.corpus)
    spec = a.corpus
    if a.segments and spec.replace(" ", "").split("+")[-1] != "segments":
        spec = f"{spec}+segments"
    corpus = load_corpus(spec)
    log.info("corpus %s", corpus)
    embedder, text_info = None, {"encoder": "none", "dim": 0}
    if a.text_encoder != "none":
        from kinemic_aug.text import get_text_encoder
        embedder = get_text_encoder(a.text_encoder, cache_dir=a.text_cache)
        text_info = {"encoder": a.text_encoder, "dim": int(embedder.dim),
                     "identifier": str(getattr(embedder, "identifier", a.text_encoder))}
        if a.text_encoder == "hashing":
            log.warning("hashing text encoder: for tests only, captions carry no meaning")
    rep = get_representation(a.representation, a.layout)
    dcfg = DenoiserConfig.preset(a.preset, input_dim=rep.dim, text_dim=text_info["dim"])
    cfg = PretrainConfig(steps=a.steps, batch_size=a.batch_size, lr=a.lr, weight_decay=a.weight_decay,
                         grad_clip=a.grad_clip, ema_decay=a.ema_decay, fps=a.fps, min_seconds=a.min_seconds,
                         max_seconds=a.max_seconds, diffusion_steps=a.diffusion_steps, schedule=a.schedule,
                         save_every=a.save_every, seed=a.seed, device=a.device, progress=not a.no_progress,
                         crop=a.crop, lambda_vel=a.lambda_vel, balance=a.balance, val_every=a.val_every,
                         engine=a.engine)
    val_corpus = None
    if a.val_corpus:
        val_spec = a.val_corpus
        if val_spec == "auto":
            from kinemic_aug.data.sources import heldout_spec
            val_spec = heldout_spec(spec)
        val_corpus = load_corpus(val_spec)
        log.info("validation corpus %s", val_corpus)
    log.info("denoiser %s", dcfg)
    log.info("train %s", cfg)
    t0 = time.time()
    tr = pretrain(corpus, out, representation=rep, text_embedder=embedder, denoiser=dcfg, config=cfg,
                  resume=not a.no_resume, text_info=text_info, val_corpus=val_corpus, init_from=a.init_from)
    if tr.val_history:
        from kinemic_aug.utils.io import atomic_write_json
        atomic_write_json(out.with_name(out.stem + ".val.json"),
                          {"val_corpus": val_corpus.name if val_corpus is not None else None,
                           "history": [[s_, v] for s_, v in tr.val_history]}, indent=1)
    n = tr.model.num_parameters()
    log.info("done: step %d, %d parameters, last loss %.4f, %.1f s on %s; checkpoint %s",
             tr.step, n, tr.losses[-1] if tr.losses else float("nan"), time.time() - t0, tr.device, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
