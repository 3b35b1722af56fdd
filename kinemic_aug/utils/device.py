"""One place that turns a device name into a ``torch.device``: ``"auto"`` is the GPU when there is one."""
from __future__ import annotations

from typing import Union

import torch


def resolve_device(device: Union[str, torch.device] = "auto") -> torch.device:
    """``"auto"`` → ``cuda`` when available, else ``cpu``; any other name (``"cpu"``, ``"cuda:1"``) as given."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)
