"""Loading pickles without letting them run code.

Skeleton datasets in the PYSKL / mmaction2 world are distributed as pickles, and a pickle is a
small program: ``pickle.load`` imports and calls whatever the file names (``os.system`` included).
Users download these files from shared drives, so the default loader here only lets a pickle
rebuild plain data: Python containers and scalars, and numpy arrays, scalars and dtypes. Anything
else stops the load with a :class:`~kinemic_aug.errors.DataError` that names the file and the
offending global, and says how to opt out for a file the user trusts.

The allow-list is deliberately short. It covers what ``pickle.dumps`` produces for dicts of numpy
arrays with protocols 2 to 5, written by numpy 1.x (``numpy.core``) or 2.x (``numpy._core``).
"""
from __future__ import annotations

import importlib
import io
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO, FrozenSet, Iterable, Optional, Tuple, Union

from ..errors import DataError

PathLike = Union[str, os.PathLike]

#: (module, name) pairs a safe pickle may reference. Builtin *containers* (dict, list, tuple,
#: str, int, float, bool, None, bytes) need no global at all: they have their own opcodes.
SAFE_GLOBALS: FrozenSet[Tuple[str, str]] = frozenset({
    # builtins without an opcode of their own (protocol 2 emits these through REDUCE)
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "slice"),
    ("builtins", "range"), ("builtins", "bytearray"),
    ("collections", "OrderedDict"),
    # protocol 2 writes ``bytes`` as _codecs.encode(str, 'latin1')
    ("_codecs", "encode"),
    # numpy arrays, scalars, dtypes (numpy 2 names; numpy 1 names are mapped onto these)
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy._core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"),
})

# numpy 1.x pickles say ``numpy.core``; numpy 2 moved it to ``numpy._core``.
_MODULE_ALIASES = {
    "numpy.core.multiarray": "numpy._core.multiarray",
    "numpy.core.numeric": "numpy._core.numeric",
    "__builtin__": "builtins",
}

_HOW_TO_OPT_OUT = (
    "Pickles can execute arbitrary code when they are loaded, so only plain containers and numpy "
    "arrays are admitted by default. If you trust where this file came from, load it with "
    "load_pyskl(path, safe=False) (or safe_pickle.unsafe_load)."
)


class SafeUnpickler(pickle.Unpickler):
    """An :class:`pickle.Unpickler` whose ``find_class`` admits only :data:`SAFE_GLOBALS`.

    Args:
        file: binary file object.
        source: name used in error messages (usually the path).
        extra_allowed: further (module, name) pairs to admit, for callers that know their format
            needs one more type.
    """

    def __init__(self, file: BinaryIO, *, source: Optional[str] = None,
                 extra_allowed: Iterable[Tuple[str, str]] = ()):
        super().__init__(file)
        self.source = source
        self.allowed = SAFE_GLOBALS | frozenset(extra_allowed)

    def find_class(self, module: str, name: str) -> Any:  # noqa: D102 - documented on the class
        mod = _MODULE_ALIASES.get(module, module)
        if (mod, name) not in self.allowed:
            raise DataError(f"refusing to load global '{module}.{name}'. {_HOW_TO_OPT_OUT}",
                            source=self.source)
        return getattr(importlib.import_module(mod), name)

    def persistent_load(self, pid: Any) -> Any:
        raise DataError(f"refusing persistent id {pid!r} (not a plain data pickle). {_HOW_TO_OPT_OUT}",
                        source=self.source)


def _load(file: BinaryIO, source: str, safe: bool, extra_allowed: Iterable[Tuple[str, str]]) -> Any:
    # Stream from the file object: hosted NTU-120 pickles are several GB, so no extra copy.
    try:
        if safe:
            return SafeUnpickler(file, source=source, extra_allowed=extra_allowed).load()
        return pickle.Unpickler(file).load()
    except DataError:
        raise
    except MemoryError:
        raise
    except Exception as e:  # EOFError, UnpicklingError, ValueError, struct.error, TypeError ...
        raise DataError(f"not a readable pickle (truncated or garbled?): {type(e).__name__}: {e}",
                        source=source) from e


def safe_loads(data: bytes, *, source: str = "<bytes>",
               extra_allowed: Iterable[Tuple[str, str]] = ()) -> Any:
    """Unpickle ``data`` admitting only plain containers and numpy objects."""
    return _load(io.BytesIO(data), source, True, extra_allowed)


def safe_load(path: PathLike, *, extra_allowed: Iterable[Tuple[str, str]] = ()) -> Any:
    """Unpickle the file at ``path`` admitting only plain containers and numpy objects.

    Raises:
        FileNotFoundError: the file does not exist.
        DataError: the pickle references anything else (message names the global and how to opt
            out), or the file is truncated / not a pickle (message names the file).
    """
    path = Path(path)
    with open(path, "rb") as f:
        return _load(f, str(path), True, extra_allowed)


def unsafe_load(path: PathLike) -> Any:
    """Plain ``pickle.load`` with the same error wrapping. Runs whatever the file says: use only on
    files you trust."""
    path = Path(path)
    with open(path, "rb") as f:
        return _load(f, str(path), False, ())
