"""Where ``har`` registers itself in MMEngine, plus the two runtime fixes every run needs.

Everything goes into MMEngine's *root* registries, so ``dict(type='STGCN')`` resolves from the default
``'mmengine'`` scope and also from a child scope such as ``default_scope='mmaction'`` when mmaction2
happens to be installed. Nothing here imports mmcv.

Runtime fixes, applied on import:

* **Checkpoint reload on torch >= 2.6.** ``torch.load`` defaults to ``weights_only=True`` and MMEngine's
  checkpoints carry a ``message_hub`` with ``HistoryBuffer`` objects and numpy scalars/arrays, so
  ``Runner.load_checkpoint`` fails with "Unsupported global". :func:`allow_mmengine_checkpoints` adds
  exactly those classes to torch's safe-globals allow-list (instead of switching the safety check off
  process-wide with ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``).
* **Atomic checkpoint writes.** MMEngine's ``LocalBackend.put`` writes in place, so a run killed while
  saving leaves a truncated ``epoch_N.pth`` under its final name. The ``atomic_local`` file backend
  routes ``put``/``put_text`` through :func:`kinemic_aug.utils.io.atomic_write_bytes`; configs select
  it with ``backend_args=dict(backend='atomic_local')`` in the ``CheckpointHook``.
"""
from __future__ import annotations

from typing import List

from mmengine.fileio.backends import LocalBackend, register_backend
from mmengine.registry import DATASETS, HOOKS, METRICS, MODELS, TRANSFORMS  # noqa: F401  (re-exported)

from kinemic_aug.utils.io import atomic_write_bytes

__all__ = ["DATASETS", "HOOKS", "METRICS", "MODELS", "TRANSFORMS", "AtomicLocalBackend",
           "allow_mmengine_checkpoints"]


class AtomicLocalBackend(LocalBackend):
    """:class:`mmengine.fileio.LocalBackend` whose writes are atomic (temp file + fsync + rename)."""

    def put(self, obj: bytes, filepath) -> None:  # type: ignore[override]
        atomic_write_bytes(filepath, obj)

    def put_text(self, obj: str, filepath, encoding: str = "utf-8") -> None:  # type: ignore[override]
        atomic_write_bytes(filepath, obj.encode(encoding))


register_backend("atomic_local", AtomicLocalBackend, force=True)


def _safe_globals() -> List[object]:
    import numpy as np
    from mmengine.logging.history_buffer import HistoryBuffer

    out: List[object] = [HistoryBuffer, np.ndarray, np.dtype]
    # numpy's array/scalar reconstruction helpers moved between numpy 1.x and 2.x
    try:
        from numpy._core.multiarray import _reconstruct, scalar  # numpy >= 2
    except ImportError:  # pragma: no cover - numpy 1.x
        from numpy.core.multiarray import _reconstruct, scalar  # type: ignore
    out += [_reconstruct, scalar]
    # the dtype classes pickled with numpy scalars (np.float64 values in the message hub)
    for name in dir(np.dtypes):
        obj = getattr(np.dtypes, name)
        if isinstance(obj, type) and name.endswith("DType"):
            out.append(obj)
    return out


_DEFAULT_STATISTICS = frozenset({"min", "max", "current", "mean"})


def _history_buffer_getattr(obj: object, name: str) -> object:
    """Stand-in for ``builtins.getattr`` inside ``weights_only`` loads.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as ``getattr(HistoryBuffer, 'min')``
    etc. Allow-listing the real ``getattr`` would let a crafted checkpoint walk to any object
    (``__globals__`` and on), so this resolves only attributes of ``HistoryBuffer`` that are
    registered statistics methods and refuses everything else.
    """
    from mmengine.logging.history_buffer import HistoryBuffer

    allowed = _DEFAULT_STATISTICS | set(getattr(HistoryBuffer, "_statistics_methods", {}))
    if obj is HistoryBuffer and isinstance(name, str) and name in allowed:
        return getattr(HistoryBuffer, name)
    import pickle

    raise pickle.UnpicklingError(f"weights_only load: getattr({obj!r}, {name!r}) is not allowed; "
                                 "only HistoryBuffer statistics methods are resolved")


def allow_mmengine_checkpoints() -> None:
    """Allow ``torch.load(..., weights_only=True)`` to read MMEngine checkpoints (idempotent).

    Adds only MMEngine's ``HistoryBuffer``, numpy's array/scalar reconstructors and a restricted
    ``getattr`` (:func:`_history_buffer_getattr`) to the allow-list; any other global in a checkpoint
    still fails to load.
    """
    import torch

    add = getattr(torch.serialization, "add_safe_globals", None)
    if add is None:  # torch < 2.4: weights_only loads are not the default, nothing to do
        return
    add(_safe_globals())
    add([(_history_buffer_getattr, "builtins.getattr")])


allow_mmengine_checkpoints()
