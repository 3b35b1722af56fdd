"""Run ``tools/train.py`` in a child process: the one way benchmarks train a classifier.

A child process per run keeps every cell independent (a crash, a leaked thread pool or a registry
side effect cannot reach the next cell) and gives a per-run log. Config overrides travel on the command
line as ``--cfg-options key=value``, so this module also owns turning a Python dict of overrides into
that form and checks that MMEngine's ``DictAction`` reads each value back unchanged: an arm table
entry that would be silently mangled (a string with spaces or commas, a dict) is refused up front.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
TRAIN_PY = REPO / "tools" / "train.py"


def format_option_value(value: Any) -> str:
    """``value`` as ``DictAction`` parses it back (bools, ints, floats, None, strings, lists, tuples)."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "[" + ",".join(format_option_value(v) for v in value) + "]"
    if isinstance(value, tuple):
        return "(" + ",".join(format_option_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    raise ValueError(f"cfg option value {value!r} ({type(value).__name__}) cannot travel on the command line; "
                     "use dotted keys for nested dicts")


def _parse_back(text: str) -> Any:
    from mmengine.config import DictAction

    return DictAction._parse_iterable(text)


def format_cfg_options(options: Mapping[str, Any]) -> List[str]:
    """``{'a.b': 1, 'c': 'x'}`` → ``['a.b=1', 'c=x']``; raises ``ValueError`` naming the key when a
    value would not survive the round trip (e.g. ``'3'`` would come back as the int 3)."""
    out = []
    for key, value in options.items():
        if not isinstance(key, str) or not key or "=" in key or " " in key:
            raise ValueError(f"bad cfg option key {key!r}")
        text = format_option_value(value)
        back = _parse_back(text)
        if back != value or type(back) is not type(value):
            raise ValueError(f"cfg option {key}={value!r} would be read back as {back!r}; choose a value "
                             "without spaces/commas or give the number itself")
        out.append(f"{key}={text}")
    return out


def parse_cfg_options(items: Optional[Sequence[str]]) -> Dict[str, Any]:
    """``['a.b=1', 'c=[1,2]']`` → ``{'a.b': 1, 'c': [1, 2]}`` (as ``tools/train.py`` will read them)."""
    out: Dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise ValueError(f"--cfg-options entries are KEY=VALUE, got {item!r}")
        key, text = item.split("=", 1)
        out[key] = _parse_back(text)
    return out


def train_command(config: Path, seed: int, work_dir: Path, options: Mapping[str, Any], threads: int = 1,
                  json_out: Optional[Path] = None) -> List[str]:
    """The ``tools/train.py`` command line of one run."""
    cmd = [sys.executable, str(TRAIN_PY), str(config), "--seed", str(int(seed)), "--work-dir", str(work_dir),
           "--threads", str(int(threads)), "--json-out", str(json_out or Path(work_dir) / "summary.json")]
    if options:
        cmd += ["--cfg-options", *format_cfg_options(options)]
    return cmd


@dataclass
class TrainResult:
    """Outcome of one child run: exit code, wall seconds (process start to end) and its summary."""

    returncode: int
    seconds: float
    summary: Optional[Dict[str, Any]]
    log: Path

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and self.summary is not None


def run_train(cmd: Sequence[str], log: Path, threads: int = 1, json_out: Optional[Path] = None) -> TrainResult:
    """Run ``cmd`` (from :func:`train_command`) with its output in ``log``; read the summary JSON."""
    log.parent.mkdir(parents=True, exist_ok=True)
    if json_out is None:
        json_out = Path(cmd[cmd.index("--json-out") + 1])
    if json_out.exists():
        json_out.unlink()  # a stale summary must not pass for this run's
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), PYTHONUNBUFFERED="1")
    t0 = time.time()
    with open(log, "w", encoding="utf-8") as f:
        f.write("$ " + " ".join(cmd) + "\n")
        f.flush()
        proc = subprocess.run(list(cmd), stdout=f, stderr=subprocess.STDOUT, cwd=str(REPO), env=env)
    seconds = time.time() - t0
    summary = json.loads(json_out.read_text(encoding="utf-8")) if json_out.exists() else None
    return TrainResult(proc.returncode, seconds, summary, log)
