"""Run the benchmarks in order: ``make bench`` / ``make bench-small``.

    python -m benchmarks.run            # the full benchmarks (the few-shot one takes hours; it resumes)
    python -m benchmarks.run --small    # the quick checks (smoke/regression, not the headline numbers)
    python -m benchmarks.run --list     # what would run, with the exact commands
    python -m benchmarks.run --small --only few_shot

Order: ``few_shot`` first (the headline), then the cheap ones. Each benchmark runs in its own process;
one that fails does not stop the others, and the exit status is non-zero if any failed.

``--small`` forwards each benchmark's quick variant. Quick variants never overwrite the full results
the README cites: ``few_shot --small`` writes ``few_shot_small.*``; the others write into
``benchmarks/results/small/``.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

REPO = Path(__file__).resolve().parents[1]
SMALL_DIR = "benchmarks/results/small"
GENERATOR = "kinemic_aug/assets/generator/generalist_small.pt"


@dataclass(frozen=True)
class Step:
    """One benchmark: its module and the arguments of its full and quick variants (``None``: skipped)."""

    name: str
    module: str
    full: Optional[Tuple[str, ...]]
    small: Optional[Tuple[str, ...]]
    about: str


STEPS: Tuple[Step, ...] = (
    Step("few_shot", "benchmarks.few_shot", (), ("--small",),
         "MSR Action3D few-shot HAR, all arms (full: hours, resumable; small: < 15 min)"),
    Step("generator_quality", "benchmarks.generator_quality", ("--checkpoint", GENERATOR),
         ("--checkpoint", GENERATOR, "--small", "--out-dir", SMALL_DIR),
         "prompt following and sampling throughput of the shipped generalist (small: a few minutes)"),
    Step("text_pairing", "benchmarks.text_pairing", (),
         ("--sentences", "200", "--clips", "2000", "--out", f"{SMALL_DIR}/text_pairing"),
         "MiniLM encoding throughput and soft-pairing time (about a minute)"),
    Step("robustness", "benchmarks.robustness", (),
         ("--cases", "1", "--repeats", "1", "--out", f"{SMALL_DIR}/robustness"),
         "malformed inputs and injected faults (full: ~3 min per core)"),
    Step("har_throughput", "benchmarks.har_throughput", (), None,
         "ST-GCN training throughput vs mmaction2 (needs an mmaction2 checkout for the comparison)"),
)


def commands(small: bool, only: Optional[Sequence[str]] = None,
             skip: Sequence[str] = ()) -> List[Tuple[Step, List[str]]]:
    """The (step, command) pairs to run, in order."""
    names = {s.name for s in STEPS}
    for n in list(only or []) + list(skip):
        if n not in names:
            raise SystemExit(f"unknown benchmark {n!r}; known: {', '.join(s.name for s in STEPS)}")
    out = []
    for step in STEPS:
        if (only and step.name not in only) or step.name in skip:
            continue
        args = step.small if small else step.full
        if args is None:
            continue
        out.append((step, [sys.executable, "-m", step.module, *args]))
    return out


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--small", action="store_true", help="the quick variant of every benchmark")
    p.add_argument("--only", nargs="+", default=None, help="run only these benchmarks")
    p.add_argument("--skip", nargs="+", default=[], help="skip these benchmarks")
    p.add_argument("--list", action="store_true", help="print the benchmarks and commands, run nothing")
    args = p.parse_args(argv)
    plan = commands(args.small, args.only, args.skip)
    if args.list:
        for step, cmd in plan:
            print(f"{step.name}: {step.about}\n    $ {' '.join(cmd[1:])}")
        return 0
    if args.small:
        (REPO / SMALL_DIR).mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", "1"), PYTHONUNBUFFERED="1")
    failed, times = [], []
    for step, cmd in plan:
        print(f"[benchmarks.run] {step.name}: $ {' '.join(cmd[1:])}", flush=True)
        t0 = time.time()
        rc = subprocess.run(cmd, cwd=str(REPO), env=env).returncode
        times.append((step.name, time.time() - t0, rc))
        if rc != 0:
            failed.append(step.name)
            print(f"[benchmarks.run] {step.name}: FAILED (exit {rc}); continuing", flush=True)
    for name, sec, rc in times:
        print(f"[benchmarks.run] {name:18s} {'ok' if rc == 0 else f'exit {rc}':8s} {sec:8.0f} s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
