"""The README quickstart, run exactly as the README prints it, in a fresh folder; its wall time recorded.

    python -m benchmarks.quickstart            # writes benchmarks/results/quickstart.{json,md}
    python -m benchmarks.quickstart --no-write # run and print only

The code block that follows the ``<!-- quickstart -->`` marker in ``README.md`` is written to
``quickstart.py`` in an empty temporary folder and run there with this interpreter, as a user on a fresh clone
would run it from the repository root: the folder holds a link to the repository's ``configs/`` (the block loads
its config by that relative path) and nothing else, so every ``work_dirs/`` file, the augmenter cache and the
text-embedding cache start empty. ``tests/test_docs.py`` runs the same code through :func:`run_quickstart`.
"""
from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, Optional

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"
MARKER = "<!-- quickstart -->"
OUT_STEM = "quickstart"


def quickstart_code(readme: Path = README) -> str:
    """The Python block right after the quickstart marker of ``readme``."""
    text = readme.read_text(encoding="utf-8")
    m = re.search(re.escape(MARKER) + r"\s*```python\n(.*?)\n```", text, re.S)
    if m is None:
        raise ValueError(f"{readme}: no ```python block right after {MARKER!r}")
    return m.group(1) + "\n"


def run_quickstart(workdir: Path, timeout: float = 900.0, threads: int = 1) -> Dict[str, Any]:
    """Run the README quickstart in ``workdir`` (empty, or created); returns wall seconds, exit status and output."""
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    script = workdir / "quickstart.py"
    script.write_text(quickstart_code(), encoding="utf-8")
    link = workdir / "configs"
    if not link.exists():
        link.symlink_to(REPO / "configs", target_is_directory=True)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    t0 = time.time()
    proc = subprocess.run([sys.executable, script.name], cwd=workdir, env=env, capture_output=True, text=True,
                          timeout=timeout)
    return {"seconds": round(time.time() - t0, 1), "returncode": proc.returncode, "stdout": proc.stdout,
            "stderr": proc.stderr, "workdir": str(workdir)}


def _load_average() -> Optional[float]:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def write_results(res: Dict[str, Any], load_before: Optional[float]) -> Path:
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    from benchmarks.common import RESULTS_DIR

    import torch

    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    machine = f"{platform.machine()}, {os.cpu_count()} CPUs (shared with other jobs), torch {torch.__version__}"
    row = {"date": date, "machine": machine, "threads": 1, "load_average_before": load_before,
           "load_average_after": _load_average(), "seconds": res["seconds"], "returncode": res["returncode"],
           "fresh_folder": True, "last_line": (res["stdout"].strip().splitlines() or [""])[-1]}
    atomic_write_json(RESULTS_DIR / f"{OUT_STEM}.json", row)
    md = [
        "# README quickstart: wall time on a fresh folder",
        "",
        f"Run {date} (`python -m benchmarks.quickstart`), {machine}, one thread (`OMP_NUM_THREADS=1`); 1-minute load "
        f"average {load_before} before the run and {row['load_average_after']} after it, so other jobs shared the cores.",
        "",
        "The README's quickstart block, written to `quickstart.py` in an empty folder (a link to `configs/` beside "
        "it) and run there: every cache starts empty. It builds a TOY set from the shipped seed clips (3 classes, "
        "2 clips each), runs `KineMICAugmenter` with the shipped generalist (one joint adapter of 20 steps, 4 "
        "samples per class, DDIM 10 steps), then the MMEngine config `configs/quickstart/stgcn_toy_seed_clips.py` "
        "(the same augmenter through `KineMICAugmentedDataset`, served from the cache, and 40 ST-GCN steps). "
        "The toy set measures nothing about accuracy: the generalist was trained on these clips.",
        "",
        "| item | value |",
        "|---|---|",
        f"| wall time, whole script | **{res['seconds'] / 60:.1f} min** ({res['seconds']:.0f} s) |",
        f"| exit status | {res['returncode']} |",
        f"| last line printed | {row['last_line'].replace('|', '/')} |",
        "",
    ]
    return atomic_write_text(RESULTS_DIR / f"{OUT_STEM}.md", "\n".join(md))


def main(argv: Optional[list] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--no-write", action="store_true", help="print the result, do not write benchmarks/results")
    ap.add_argument("--keep", default=None, help="run in this folder (kept) instead of a temporary one")
    a = ap.parse_args(argv)
    load_before = _load_average()
    if a.keep:
        res = run_quickstart(Path(a.keep))
    else:
        with tempfile.TemporaryDirectory(prefix="kinemic_quickstart_") as d:
            res = run_quickstart(Path(d))
    sys.stdout.write(res["stdout"])
    if res["returncode"] != 0:
        sys.stderr.write(res["stderr"][-6000:])
        print(f"quickstart failed (exit {res['returncode']}) after {res['seconds']} s", file=sys.stderr)
        return 1
    print(f"quickstart: {res['seconds']} s")
    if not a.no_write:
        print(f"wrote {write_results(res, load_before)}")
    return 0


if __name__ == "__main__":
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    sys.exit(main())
