"""The loss-curve PNG written beside a pretraining checkpoint."""
from __future__ import annotations


from pathlib import Path
from typing import Sequence, Union

import numpy as np

from ...utils.io import atomic_save_figure

def save_loss_plot(losses: Sequence[float], path: Union[str, Path], title: str = "generator pretraining") -> Path:
    """Raw and moving-average loss per step, written atomically as PNG."""

    import matplotlib
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    y = np.asarray(losses, dtype=np.float64)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=100)
    if len(y):
        ax.plot(np.arange(1, len(y) + 1), y, lw=0.6, alpha=0.4, label="loss")
        k = max(1, len(y) // 50)
        if k > 1:
            sm = np.convolve(y, np.ones(k) / k, mode="valid")
            ax.plot(np.arange(k, len(y) + 1), sm, lw=1.5, label=f"mean of {k}")
        ax.set_yscale("log" if np.all(y > 0) else "linear")
    ax.set_xlabel("step")
    ax.set_ylabel("masked MSE (x0)")
    ax.set_title(title)
    ax.legend(loc="upper right")
    fig.tight_layout()
    return atomic_save_figure(fig, path)
