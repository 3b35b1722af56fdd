"""Pin the native thread pools (OpenMP, OpenBLAS, MKL) before numpy or torch load them.

Why: ``torch.set_num_threads`` governs torch only. numpy's BLAS picks its thread count from the environment
when it is first imported, and a matrix product summed by 1 or by 2 threads differs in the last bits. The
augmenter's cache keys hash derived features (the source pool, the shots), so the same run started with and
without ``OMP_NUM_THREADS=1`` missed each other's cached adapters (measured: a 14-minute joint adapter
retrained). The command-line tools therefore make ``--threads`` cover every pool, and call this before
anything imports numpy. Standard library only, on purpose: importing this module must not load numpy.
"""
from __future__ import annotations

import os
import sys
from typing import Optional, Sequence

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def threads_from_argv(argv: Sequence[str], flag: str = "--threads") -> Optional[int]:
    """The value of ``--threads N`` / ``--threads=N`` in ``argv``, or ``None`` if absent or not a positive int
    (the tool's own parser reports a malformed value)."""
    for i, arg in enumerate(argv):
        value = None
        if arg == flag and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith(flag + "="):
            value = arg[len(flag) + 1:]
        if value is not None:
            try:
                n = int(value)
            except ValueError:
                return None
            return n if n >= 1 else None
    return None


def pin_threads(n: int) -> bool:
    """Set every variable of :data:`THREAD_VARS` to ``n`` if neither numpy nor torch is loaded yet, and say
    whether it did. Once they are loaded their pools are fixed, and changing the environment of a live
    process (a test calling a tool's ``main``) would only leak into its child processes, so it is left alone."""
    if "numpy" in sys.modules or "torch" in sys.modules:
        return False
    for var in THREAD_VARS:
        os.environ[var] = str(int(n))
    return True


def pin_threads_from_argv(argv: Optional[Sequence[str]] = None, default: Optional[int] = None) -> bool:
    """:func:`pin_threads` with a tool's ``--threads`` (``argv``: its arguments, ``sys.argv[1:]`` if None), or
    ``default`` when the flag is absent; nothing is pinned when both are missing. Call it first in ``main``."""
    n = threads_from_argv(sys.argv[1:] if argv is None else list(argv)) or default
    return pin_threads(n) if n else False
