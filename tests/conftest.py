"""Shared fixtures. Real data lives outside the repo; tests that need it skip when it is absent."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MSR_PKL = Path(os.environ.get("KINEMIC_MSR_PKL", REPO.parent / "shared" / "data" / "msr_action3d" / "msr_action3d_skeleton.pkl"))


@pytest.fixture(scope="session")
def msr_pkl() -> Path:
    if not MSR_PKL.exists():
        pytest.skip(f"MSR Action3D pickle not found at {MSR_PKL} (research data, not shipped)")
    return MSR_PKL


@pytest.fixture(autouse=True)
def _few_threads():
    # Two cores on CI; keep torch from oversubscribing when tests run beside other work.
    try:
        import torch
        torch.set_num_threads(min(2, os.cpu_count() or 1))
    except ImportError:
        pass
    yield
