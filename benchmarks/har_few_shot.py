"""Compatibility entry: the ``real`` and ``real+classic`` arms of :mod:`benchmarks.few_shot`.

    python -m benchmarks.har_few_shot                       # 1/3/5/10-shot + full, 2 arms, seeds 0 1 2
    python -m benchmarks.har_few_shot --seeds 0 1 2 3 4     # more seeds: finished cells are skipped

This was the first few-shot benchmark; it now forwards to ``benchmarks/few_shot.py`` (one resumable
benchmark over all arms, one result file ``benchmarks/results/few_shot.json``) with its old defaults:
arms ``real`` and ``real+classic`` and work dirs under ``work_dirs/har_few_shot/``. Its rows already in
``few_shot.json`` (``source: benchmarks/har_few_shot.py``) have the same key and fields, so they count as
finished cells and are never rerun. Every option of ``benchmarks.few_shot`` is accepted.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.few_shot import (DATASET, RECIPE, SPLIT, cell_name, config_for,  # noqa: E402,F401
                                 main as few_shot_main, write_reports)

__all__ = ["DATASET", "RECIPE", "SPLIT", "ARMS", "WORK_ROOT", "cell_name", "config_for", "legacy_argv", "main",
           "write_reports"]
ARMS = ("real", "real+classic")
WORK_ROOT = REPO / "work_dirs" / "har_few_shot"


def legacy_argv(argv: List[str]) -> List[str]:
    """``argv`` with this entry's defaults (arms, work root) added where the caller gave none."""
    out = list(argv)
    if "--arms" not in out:
        out += ["--arms", *ARMS]
    if "--work-root" not in out:
        out += ["--work-root", str(WORK_ROOT)]
    return out


def main(argv: Optional[List[str]] = None) -> List[Dict[str, Any]]:
    return few_shot_main(legacy_argv(sys.argv[1:] if argv is None else list(argv)),
                         prog="python -m benchmarks.har_few_shot")


if __name__ == "__main__":
    main()
