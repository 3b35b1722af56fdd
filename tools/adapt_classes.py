#!/usr/bin/env python
"""Adapt every class's KineMIC adapter (batched, across processes) and optionally synthesise and write the pickle.

One process, classes batched ``--group-size`` at a time::

    python tools/adapt_classes.py ../shared/data/msr_action3d/msr_action3d_skeleton.pkl --split xsub_train \\
        --shots 10 --labels msr_action3d --layout msr_action3d --cache-dir work_dirs/kinemic_cache

Two processes (or GPUs) sharing the classes: the same command under ``torchrun --nproc_per_node 2`` (or
MMEngine's launchers: the rank and world size come from ``torch.distributed`` / ``RANK`` and ``WORLD_SIZE``).
Every rank writes its adapters to the shared ``--cache-dir``; a class is locked while it is trained, so it
is trained once even if two runs share the cache. A rank that dies leaves only complete entries and resume
checkpoints: rerun the command and only the missing classes are trained, each from its last checkpoint.

``--synthesize rank0`` (with ``--out``): rank 0 samples every class and writes the augmented pickle once
all adapters are in. ``--synthesize shard``: every rank samples its share of the classes (class-batched
DDIM), then rank 0 writes the pickle from the cache. ``--synthesize none``: adapters only.
``--summary FILE`` writes each rank's per-class outcome as JSON (``FILE`` gets ``.rank<r>`` inserted).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kinemic_aug.utils.threads import pin_threads_from_argv  # noqa: E402  (stdlib only)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkl", help="PYSKL annotation pickle")
    ap.add_argument("--split", required=True, help="training split holding the real samples")
    ap.add_argument("--shots", type=int, default=None, help="shots per class drawn from --split (default: all)")
    ap.add_argument("--allow-fewer", action="store_true", help="accept classes with fewer samples than --shots")
    ap.add_argument("--classes", default=None, help="comma-separated class ids (default: all)")
    ap.add_argument("--labels", default=None, help="label set name or metadata file (default: the pickle's meta)")
    ap.add_argument("--layout", required=True, help="skeleton layout of the data")
    ap.add_argument("--fps", type=float, default=None)
    ap.add_argument("--variant", default="kinemic", help="kinemic | finetune | nocontrastive | noweight")
    ap.add_argument("--adapt-steps", type=int, default=None, help="override the adaptation steps")
    ap.add_argument("--negatives", choices=["other_classes", "low_similarity", "both"], default="other_classes")
    ap.add_argument("--group-size", type=int, default=20, help="classes trained together in one batched run")
    ap.add_argument("--sequential", action="store_true", help="one class at a time (still sharded and locked)")
    ap.add_argument("--target-norm", choices=["shots", "generalist"], default="shots")
    ap.add_argument("--target-stats", default=None)
    ap.add_argument("--per-class", type=int, default=50, help="synthetic samples per class")
    ap.add_argument("--sample-steps", type=int, default=20, help="DDIM steps")
    ap.add_argument("--synthesize", choices=["none", "rank0", "shard"], default="none")
    ap.add_argument("--out", default=None, help="augmented pickle to write (with --synthesize rank0/shard)")
    ap.add_argument("--generator", default=None, help="generalist checkpoint, or the name of a shipped one (default: small)")
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--cache-dir", required=True, help="the cache every rank shares")
    ap.add_argument("--device", default="auto", help="auto: cuda:<LOCAL_RANK> when CUDA is there, else cpu")
    ap.add_argument("--backend", default=None, help="torch.distributed backend (default: nccl on CUDA, else gloo)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--summary", default=None, help="per-rank JSON of the per-class outcomes")
    a = ap.parse_args(argv)
    if a.synthesize != "none" and not a.out:
        ap.error("--synthesize rank0/shard writes the augmented pickle: give --out")
    return a


def main(argv=None) -> int:
    pin_threads_from_argv(argv)  # before numpy loads (kinemic_aug.utils.threads)
    a = parse_args(argv)
    import torch
    import torch.distributed as dist

    if a.threads:
        torch.set_num_threads(a.threads)
    world = int(os.environ.get("WORLD_SIZE", 1))
    local = int(os.environ.get("LOCAL_RANK", 0))
    from kinemic_aug.utils.device import resolve_device

    device = str(resolve_device(a.device, local_rank=local))
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group(a.backend or ("nccl" if device.startswith("cuda") else "gloo"))
    from dataclasses import replace

    from kinemic_aug.adapt import AdaptConfig
    from kinemic_aug.adapt.shard import resolve_rank
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.data.pyskl import save_pyskl
    from kinemic_aug.data.sources import DEFAULT_GENERALIST_CORPUS
    from kinemic_aug.errors import KinemicError
    from kinemic_aug.synthesis import SynthesisConfig

    rank, world = resolve_rank()
    adapt = AdaptConfig(negatives=a.negatives, batched=not a.sequential, group_size=a.group_size)
    if a.adapt_steps is not None:
        adapt = replace(adapt, steps=a.adapt_steps)
    t0 = time.time()
    try:
        aug = KineMICAugmenter(
            a.pkl, split=a.split, shots=a.shots, allow_fewer=a.allow_fewer, labels=a.labels, layout=a.layout,
            fps=a.fps, synthetic_per_class=a.per_class, variant=a.variant, adapt=adapt,
            synthesis=SynthesisConfig(steps=a.sample_steps), generator=a.generator,
            corpus=a.corpus or DEFAULT_GENERALIST_CORPUS, encoder=a.encoder, cache_dir=a.cache_dir, device=device,
            seed=a.seed, classes=[int(c) for c in a.classes.split(",")] if a.classes else None,
            progress=rank == 0, target_norm=a.target_norm, target_stats=a.target_stats)
        outcomes = aug.adapt_all(rank=rank, world_size=world)
        t_adapt = time.time() - t0
        trained = sorted(c for c, o in outcomes.items() if o.status == "trained")
        print(f"[rank {rank}/{world}] adapters: {len(trained)} trained here {trained}, "
              f"{sum(o.status == 'cached' for o in outcomes.values())} were cached, "
              f"{sum(o.status == 'elsewhere' for o in outcomes.values())} by other processes; {t_adapt:.1f} s",
              flush=True)
        if a.synthesize == "shard":
            aug.synthesize_all(classes=aug.classes[rank::world])
        if dist.is_initialized():
            dist.barrier()  # every rank's adapters (and, sharded, synthetic sets) are in the cache
        if a.synthesize != "none" and rank == 0:
            out = save_pyskl(aug.to_pyskl(), a.out)
            print(aug.report_table())
            print(f"wrote {out} in {time.time() - t0:.1f} s", flush=True)
    except KinemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if a.summary:
        p = Path(a.summary)
        p = p.with_name(f"{p.stem}.rank{rank}{p.suffix or '.json'}")
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps({"rank": rank, "world": world, "adapt_seconds": t_adapt,
                                 "outcomes": {str(c): vars(o) for c, o in outcomes.items()}}, indent=1))
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    sys.exit(main())
