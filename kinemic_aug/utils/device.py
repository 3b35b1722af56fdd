"""One place that turns a device name into a ``torch.device``: ``"auto"`` is the GPU when there is one."""
from __future__ import annotations

from typing import Optional, Union

import torch


def resolve_device(device: Union[str, torch.device] = "auto", local_rank: Optional[int] = None) -> torch.device:
    """``"auto"`` → ``cuda`` when available (``cuda:<local_rank>`` for one process of a distributed run, so each
    process gets its own GPU), else ``cpu``; any other name (``"cpu"``, ``"cuda:1"``) as given."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        if not torch.cuda.is_available():
            return torch.device("cpu")
        return torch.device("cuda" if local_rank is None else f"cuda:{local_rank}")
    return torch.device(device)
