"""Seeded blocks that leave the caller's random state as it was, on the CPU and on every CUDA device.

``torch.manual_seed`` seeds the CPU generator *and every CUDA device's*; ``torch.random.fork_rng(devices=[])``
restores only the CPU one, so a seeded block inside it silently reseeds the caller's CUDA generators (a
user's own training, sampling in another stream). :func:`seeded` forks every CUDA device when CUDA is in use
(initialised), so nothing outside the block changes. When it is not, only the CPU generator is seeded and
restored: CUDA is neither started (a CPU run on a GPU host, a forked worker) nor left with a queued seed.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator, List

import torch


def cuda_devices() -> List[int]:
    """Indices of the CUDA devices in use, whose generators a seeded block must restore (none while CUDA is not
    initialised)."""
    return list(range(torch.cuda.device_count())) if torch.cuda.is_available() and torch.cuda.is_initialized() else []


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's global generators seeded by ``seed``; afterwards the CPU generator and every
    CUDA device's are back where they were."""
    devices = cuda_devices()
    with torch.random.fork_rng(devices=devices):
        if devices:
            torch.manual_seed(int(seed))
        else:
            torch.default_generator.manual_seed(int(seed))
        yield
