"""Where a generalist pretraining run stands, read from its checkpoint (no training, no sampling).

    python -m benchmarks.generalist_progress work_dirs/gen_v2/generalist_v2.pt --stem generalist_v2_progress

Writes ``benchmarks/results/<stem>.{json,md,png}``: step, corpus, training and denoiser config, the
validation curve (x0 loss on fixed batches of the held-out part, as ``tools/pretrain_generator.py
--val-every`` records it) and the mean training loss of the last 100 steps. Long CPU runs commit this as
they go, so the curve that chooses the step count is in the repository while the run continues.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR  # noqa: E402


def progress(path: Path, command: str = "", machine: str = "", val_corpus: str = "") -> Dict[str, Any]:
    """The checkpoint's progress record (see the module docstring)."""
    from kinemic_aug.generator import load_checkpoint

    ck = load_checkpoint(path)
    vh = ck.get("val_history")
    curve: List[List[float]] = [[float(s), float(v)] for s, v in (vh.tolist() if vh is not None else [])]
    losses = ck.get("losses")
    last = [float(x) for x in (losses.tolist() if hasattr(losses, "tolist") else list(losses or []))][-100:]
    cfg = ck.get("config") or {}
    return {"checkpoint": f"{path} (not shipped)", "step": int(ck["step"]), "corpus": ck.get("corpus"),
            "train": cfg.get("train", cfg), "denoiser": cfg.get("denoiser"), "val_corpus": val_corpus,
            "val_history": curve, "train_loss_last100_mean": sum(last) / len(last) if last else None,
            "machine": machine, "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "command": command}


def markdown(rec: Dict[str, Any], png: Optional[str]) -> str:
    corpus = (rec.get("corpus") or {}).get("name")
    lines = [f"# Generalist pretraining progress: step {rec['step']}", "",
             f"Checkpoint {rec['checkpoint']}, corpus `{corpus}`, validation on {rec['val_corpus'] or 'the held-out part'}; "
             f"{rec['machine']}; read {rec['date']}.", "", f"Command: `{rec['command']}`", "",
             "| step | validation x0 loss |", "|---|---|"]
    lines += [f"| {int(s)} | {v:.4f} |" for s, v in rec["val_history"]]
    if rec["train_loss_last100_mean"] is not None:
        lines += ["", f"Training loss, mean of the last 100 steps: {rec['train_loss_last100_mean']:.4f}."]
    if png:
        lines += ["", f"![validation curve]({png})"]
    return "\n".join(lines) + "\n"


def plot(rec: Dict[str, Any], out: Path) -> bool:
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    if not rec["val_history"]:
        return False
    s, v = zip(*rec["val_history"])
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(s, v, marker="o")
    ax.set_xlabel("step")
    ax.set_ylabel("validation x0 loss")
    ax.set_title(f"{(rec.get('corpus') or {}).get('name')}: held-out validation")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def main(argv=None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkpoint")
    ap.add_argument("--stem", required=True)
    ap.add_argument("--command", default="", help="the pretraining command, recorded as given")
    ap.add_argument("--machine", default="2-core CPU (shared)")
    ap.add_argument("--val-corpus", default="")
    ap.add_argument("--out-dir", default=str(RESULTS_DIR))
    a = ap.parse_args(argv)
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    rec = progress(Path(a.checkpoint), a.command, a.machine, a.val_corpus)
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    png = f"{a.stem}.png" if plot(rec, out / f"{a.stem}.png") else None
    atomic_write_json(out / f"{a.stem}.json", rec, indent=1)
    atomic_write_text(out / f"{a.stem}.md", markdown(rec, png))
    return rec


if __name__ == "__main__":
    main()
