#!/usr/bin/env python
"""Train a har config with MMEngine's Runner.

    python tools/train.py configs/stgcn/stgcn_msr_xsub_5shot.py --seed 1 --work-dir work_dirs/5shot_s1

``--seed`` drives both the training randomness and the few-shot draw (see ``har.training.apply_seed``).
Progress is logged every ``default_hooks.logger.interval`` steps; the last line reports the last-epoch
top-1 (the headline figure) and the best-epoch top-1 (optimistic: chosen on the validation split).
``--json-out`` writes that summary (plus wall time) as JSON, atomically. A run whose training set is a
``KineMICAugmentedDataset`` also gets ``kinemic_report.json`` (per-class adaptation/synthesis times, filter
counts) and ``synthetic.pkl`` (the SYNTHETIC samples) in its work dir, unless the config sets ``report_dir``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kinemic_aug.utils.threads import pin_threads_from_argv  # noqa: E402  (stdlib only)


def parse_args(argv=None) -> argparse.Namespace:
    from mmengine.config import DictAction

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config")
    p.add_argument("--seed", type=int, default=None, help="run seed (also the few-shot draw seed)")
    p.add_argument("--work-dir", default=None)
    p.add_argument("--threads", type=int, default=int(os.environ.get("KINEMIC_THREADS", "1")),
                   help="CPU threads of torch, BLAS and OpenMP (default 1, or $KINEMIC_THREADS)")
    p.add_argument("--json-out", default=None, help="write the accuracy summary here")
    p.add_argument("--cfg-options", nargs="+", action=DictAction, default=None,
                   help="override config entries, e.g. train_cfg.max_iters=100")
    return p.parse_args(argv)


def main(argv=None) -> dict:
    # before mmengine/numpy load: --threads covers the BLAS/OpenMP pools too (kinemic_aug.utils.threads)
    pin_threads_from_argv(argv, default=int(os.environ.get("KINEMIC_THREADS", "1")))
    args = parse_args(argv)
    import torch

    torch.set_num_threads(max(1, args.threads))
    from har.training import format_summary, load_config, run_training
    from kinemic_aug.utils.io import atomic_write_json

    cfg = load_config(args.config, work_dir=args.work_dir, seed=args.seed, cfg_options=args.cfg_options)
    train_ds = cfg.get("train_dataloader", {}).get("dataset", {})
    if train_ds.get("type") == "KineMICAugmentedDataset" and not train_ds.get("report_dir"):
        train_ds["report_dir"] = str(cfg.work_dir)  # the augmenter's report lands next to summary.json
    t0 = time.time()
    summary = run_training(cfg)
    summary["seconds"] = time.time() - t0
    summary["seed"] = args.seed
    summary["config"] = str(args.config)
    if args.json_out:
        atomic_write_json(args.json_out, summary)
    print(format_summary(summary), flush=True)
    return summary


if __name__ == "__main__":
    main()
