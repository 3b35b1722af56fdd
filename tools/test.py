#!/usr/bin/env python
"""Evaluate a checkpoint on a config's test split (10-clip averaging in the shipped configs).

    python tools/test.py configs/stgcn/stgcn_msr_xsub_full.py work_dirs/stgcn_msr_xsub_full/iter_800.pth

Checkpoints load with ``torch.load(weights_only=True)``: importing ``har`` allow-lists the few MMEngine
classes a checkpoint carries, nothing else.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kinemic_aug.utils.threads import pin_threads_from_argv  # noqa: E402  (stdlib only)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config")
    p.add_argument("checkpoint")
    p.add_argument("--work-dir", default=None)
    p.add_argument("--threads", type=int, default=int(os.environ.get("KINEMIC_THREADS", "1")))
    p.add_argument("--json-out", default=None, help="write the metrics here (atomic)")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default=None)
    return p.parse_args(argv)


def main(argv=None) -> dict:
    # before mmengine/numpy load: --threads covers the BLAS/OpenMP pools too (kinemic_aug.utils.threads)
    pin_threads_from_argv(argv, default=int(os.environ.get("KINEMIC_THREADS", "1")))
    args = parse_args(argv)
    import torch

    torch.set_num_threads(max(1, args.threads))
    import har.mm  # noqa: F401
    from mmengine.runner import Runner

    from har.training import load_config
    from kinemic_aug.utils.io import atomic_write_json

    ckpt = Path(args.checkpoint)
    if not ckpt.exists():
        raise SystemExit(f"checkpoint not found: {ckpt}")
    work_dir = args.work_dir or str(ckpt.parent / "test")
    cfg = load_config(args.config, work_dir=work_dir, cfg_options=args.cfg_options)
    cfg.load_from = str(ckpt)
    cfg.resume = False
    runner = Runner.from_cfg(cfg)
    metrics = {k: float(v) for k, v in runner.test().items()}
    if args.json_out:
        atomic_write_json(args.json_out, dict(metrics, checkpoint=str(ckpt), config=str(args.config)))
    line = ", ".join(f"{k} = {100 * v:.2f}%" for k, v in metrics.items() if k.startswith("acc/"))
    print(f"test: {line}", flush=True)
    return metrics


if __name__ == "__main__":
    main()
