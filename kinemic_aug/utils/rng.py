"""Seeded blocks that leave the caller's random state as it was, on the CPU and on every CUDA device.

``torch.manual_seed`` seeds the CPU generator *and every CUDA device's*; ``torch.random.fork_rng(devices=[])``
restores only the CPU one, so a seeded block inside it silently reseeds the caller's CUDA generators (a
user's own training, sampling in another stream). :func:`seeded` forks every CUDA device whenever CUDA is
available, so nothing outside the block changes. On a machine without CUDA it is the CPU fork alone.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, List

import torch


def cuda_devices() -> List[int]:
    """Indices of the CUDA devices ``torch.manual_seed`` would reseed (none without CUDA)."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global generators seeded by ``seed``; afterwards the CPU generator and every
    CUDA device's are back where they were."""
    with torch.random.fork_rng(devices=cuda_devices()):
        torch.manual_seed(int(seed))
        yield
