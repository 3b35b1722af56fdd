"""Shared helpers for benchmark result files: keyed merge into a JSON list, summary tables, plots.

Several benchmarks append to the same result file (e.g. ``few_shot.json`` gets the ``real`` and
``real+classic`` arms from ``har_few_shot`` and synthetic arms from another script), so rows are
merged by key and never dropped, and every write is atomic (a killed run leaves the old file intact).
"""
from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from kinemic_aug.utils.io import atomic_save_figure, atomic_write_json, atomic_write_text

PathLike = Union[str, os.PathLike]
FEW_SHOT_KEY: Tuple[str, ...] = ("dataset", "split", "arm", "shots", "seed")
RESULTS_DIR = Path(__file__).resolve().parent / "results"


def host_facts() -> Dict[str, Any]:
    """The CPU a result was measured on: its model name, core count and the vector instruction set torch's CPU
    kernels use (``AVX2``, ``AVX512``, ...). Why: two hosts with different instruction sets round convolutions
    differently, so a seeded cell reproduces its top-1 to the digit only on the same kind, and wall times of
    two hosts are not comparable."""
    import platform

    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    out: Dict[str, Any] = {"cpu": cpu, "cpus": os.cpu_count()}
    try:
        import torch

        out["torch"] = torch.__version__
        out["cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    except (ImportError, AttributeError):
        pass
    return out


def record_key(rec: Dict[str, Any], key: Sequence[str] = FEW_SHOT_KEY) -> Tuple[Any, ...]:
    missing = [k for k in key if k not in rec]
    if missing:
        raise KeyError(f"record lacks key field(s) {missing}: {rec}")
    return tuple(rec[k] for k in key)


def load_records(path: PathLike) -> List[Dict[str, Any]]:
    """The list stored at ``path`` ([] if the file does not exist)."""
    p = Path(path)
    if not p.exists():
        return []
    data = json.loads(p.read_text(encoding="utf-8"))
    if not isinstance(data, list):
        raise ValueError(f"{p}: expected a JSON list of records, got {type(data).__name__}")
    return data


@contextmanager
def results_lock(path: PathLike) -> Iterator[None]:
    """An exclusive lock (``<path>.lock``, ``fcntl.flock``) around a read-modify-write of a results file, so two
    benchmark processes finishing cells at the same moment do not lose each other's rows."""
    import fcntl

    lock = Path(str(path) + ".lock")
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def merge_records(path: PathLike, new: Iterable[Dict[str, Any]], key: Sequence[str] = FEW_SHOT_KEY) -> List[Dict[str, Any]]:
    """Insert or replace ``new`` rows by ``key``; rows with other keys (other arms, datasets) are kept.

    The file is re-read under :func:`results_lock` just before writing, so rows added meanwhile by another
    benchmark survive.
    """
    with results_lock(path):
        rows = load_records(path)
        index = {record_key(r, key): i for i, r in enumerate(rows)}
        for rec in new:
            k = record_key(rec, key)
            if k in index:
                rows[index[k]] = rec
            else:
                index[k] = len(rows)
                rows.append(rec)
        atomic_write_json(path, rows)
    return rows


def has_record(rows: Iterable[Dict[str, Any]], rec_key: Tuple[Any, ...], key: Sequence[str] = FEW_SHOT_KEY) -> bool:
    return any(record_key(r, key) == rec_key for r in rows)


def mean_std(values: Sequence[float]) -> Tuple[float, float, int]:
    """Mean, sample standard deviation (0 for one value) and count."""
    vals = [float(v) for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    n = len(vals)
    if n == 0:
        return float("nan"), float("nan"), 0
    m = sum(vals) / n
    sd = math.sqrt(sum((v - m) ** 2 for v in vals) / (n - 1)) if n > 1 else 0.0
    return m, sd, n


def format_mean_std(values: Sequence[Any], scale: float = 1.0, digits: int = 1) -> str:
    """``mean ± std (n=k)``; one value prints without a spread (a std of one run would read as "no noise")."""
    m, sd, n = mean_std(values)
    if n == 0:
        return "–"
    if n == 1:
        return f"{m * scale:.{digits}f} (n=1)"
    return f"{m * scale:.{digits}f} ± {sd * scale:.{digits}f} (n={n})"


def group(rows: Iterable[Dict[str, Any]], by: Sequence[str]) -> Dict[Tuple[Any, ...], List[Dict[str, Any]]]:
    out: Dict[Tuple[Any, ...], List[Dict[str, Any]]] = defaultdict(list)
    for r in rows:
        out[tuple(r.get(k) for k in by)].append(r)
    return dict(out)


def shots_label(shots: Optional[int]) -> str:
    return "full" if shots is None else f"{shots}-shot"


def shots_order(s: Optional[int]) -> float:
    """Sort key for shot settings: ascending K, full data (``None``) last."""
    return math.inf if s is None else float(s)


def summary_table(rows: Sequence[Dict[str, Any]], metric: str = "top1_last", scale: float = 100.0,
                  arms: Optional[Sequence[str]] = None, digits: int = 1, bare: bool = False) -> str:
    """Markdown table: one row per arm, one column per shot setting, cells from :func:`format_mean_std`.

    ``bare=True`` prints the mean alone, for tables whose cells hold one run each (per-seed tables).
    """
    arms = list(arms) if arms is not None else sorted({r["arm"] for r in rows})
    shots = sorted({r["shots"] for r in rows}, key=shots_order)
    g = group(rows, ("arm", "shots"))
    head = "| arm | " + " | ".join(shots_label(s) for s in shots) + " |"
    sep = "|---|" + "---|" * len(shots)
    lines = [head, sep]
    for arm in arms:
        cells = []
        for s in shots:
            vals = [r.get(metric) for r in g.get((arm, s), [])]
            if bare:
                m, _, n = mean_std(vals)
                cells.append("–" if n == 0 else f"{m * scale:.{digits}f}")
            else:
                cells.append(format_mean_std(vals, scale, digits))
        lines.append(f"| {arm} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_arms(rows: Sequence[Dict[str, Any]], path: PathLike, metric: str = "top1_last", title: str = "",
              ylabel: str = "top-1 accuracy (%)", arms: Optional[Sequence[str]] = None) -> Path:
    """Mean ± std of ``metric`` vs shots, one line per arm (full data drawn as the rightmost point)."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    arms = list(arms) if arms is not None else sorted({r["arm"] for r in rows})
    shots = sorted({r["shots"] for r in rows}, key=shots_order)
    xs = list(range(len(shots)))
    g = group(rows, ("arm", "shots"))
    fig, ax = plt.subplots(figsize=(6.0, 4.0), dpi=120)
    for arm in arms:
        pts = [(x, *mean_std([r.get(metric) for r in g.get((arm, s), [])])) for x, s in zip(xs, shots)]
        pts = [(x, m * 100, sd * 100) for x, m, sd, n in pts if n > 0]
        if not pts:
            continue
        ax.errorbar([p[0] for p in pts], [p[1] for p in pts], yerr=[p[2] for p in pts], marker="o", capsize=3,
                    label=arm)
    ax.set_xticks(xs)
    ax.set_xticklabels([shots_label(s) for s in shots])
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return atomic_save_figure(fig, path)


def write_markdown(path: PathLike, text: str) -> Path:
    return atomic_write_text(path, text if text.endswith("\n") else text + "\n")
