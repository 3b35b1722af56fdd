#!/usr/bin/env python
"""Train one config with several seeds and report mean ± std of the last- and best-epoch top-1.

    python tools/multi_seed.py configs/stgcn/stgcn_msr_xsub_5shot.py --seeds 0 1 2

A seed changes both the few-shot draw and the training (``har.training.apply_seed``). Each seed runs
``tools/train.py`` in its own process (clean MMEngine state), in ``<work-dir>/seed<S>``; the per-seed
and aggregate numbers are written to ``<work-dir>/multi_seed.json`` (atomic) and printed.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("config")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--work-dir", default=None)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--cfg-options", nargs="+", default=None)
    args = p.parse_args(argv)

    from benchmarks.common import mean_std
    from kinemic_aug.utils.io import atomic_write_json

    work = Path(args.work_dir or REPO / "work_dirs" / (Path(args.config).stem + "_multi_seed"))
    runs = []
    for seed in args.seeds:
        out = work / f"seed{seed}" / "summary.json"
        cmd = [sys.executable, str(REPO / "tools" / "train.py"), args.config, "--seed", str(seed),
               "--work-dir", str(out.parent), "--threads", str(args.threads), "--json-out", str(out)]
        if args.cfg_options:
            cmd += ["--cfg-options", *args.cfg_options]
        print(f"[multi_seed] seed {seed}: {' '.join(cmd)}", flush=True)
        proc = subprocess.run(cmd, env=dict(os.environ, PYTHONUNBUFFERED="1"))
        if proc.returncode != 0:
            raise SystemExit(f"seed {seed} failed with exit code {proc.returncode}")
        s = json.loads(out.read_text(encoding="utf-8"))
        runs.append({"seed": seed, "top1_last": s["last"]["acc/top1"], "top1_best": s["best"]["acc/top1"],
                     "mean1_last": s["last"].get("acc/mean1"), "seconds": s.get("seconds")})
    agg = {}
    for k in ("top1_last", "top1_best", "mean1_last"):
        m, sd, n = mean_std([r[k] for r in runs])
        agg[k] = {"mean": m, "std": sd, "n": n}
    result = {"config": args.config, "seeds": args.seeds, "runs": runs, "aggregate": agg}
    atomic_write_json(work / "multi_seed.json", result)
    for r in runs:
        print(f"seed {r['seed']}: last {100 * r['top1_last']:.2f}%  best {100 * r['top1_best']:.2f}%")
    print(f"{len(runs)} seeds: last-epoch top-1 {100 * agg['top1_last']['mean']:.2f} ± {100 * agg['top1_last']['std']:.2f}%, "
          f"best-epoch top-1 {100 * agg['top1_best']['mean']:.2f} ± {100 * agg['top1_best']['std']:.2f}% (optimistic)")
    return result


if __name__ == "__main__":
    main()
