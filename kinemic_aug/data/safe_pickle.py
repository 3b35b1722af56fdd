"""Loading pickles without letting them run code.

Skeleton datasets in the PYSKL / mmaction2 world are distributed as pickles, and a pickle is a
small program: ``pickle.load`` imports and calls whatever the file names (``os.system`` included).
Users download these files from shared drives, so the default loader here only lets a pickle
rebuild plain data: Python containers and scalars, and numpy arrays, scalars and dtypes. Anything
else stops the load with a :class:`~kinemic_aug.errors.DataError` that names the file and the
offending global, and says how to opt out for a file the user trusts.

The allow-list is deliberately short. It covers what ``pickle.dumps`` produces for dicts of numpy
arrays with protocols 2 to 5, written by numpy 1.x (``numpy.core``) or 2.x (``numpy._core``), and
what :func:`portable_dumps` writes.

The writing side has the mirror problem: a plain ``pickle.dumps`` of an array under numpy 2 names
``numpy._core.multiarray._reconstruct``, a module numpy 1.25 and older do not have, so a PYSKL
environment on an older numpy cannot open the file (``ModuleNotFoundError: numpy._core``).
:func:`portable_dumps` writes arrays as ``numpy.ndarray(shape, dtype_str, bytearray)`` and scalars as
``numpy.float32(value)`` etc., names that every numpy since 1.x has, so its files load with
``pickle.load`` under numpy 1.x and 2.x alike (and with :func:`safe_load`).
"""
from __future__ import annotations

import importlib
import io
import os
import pickle
from pathlib import Path
from typing import Any, BinaryIO, Dict, FrozenSet, Iterable, Optional, Tuple, Union

import numpy as np

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

#: numpy scalar types by the public name that numpy 1.x and 2.x both export (``numpy.bool`` is 2.x
#: only, so booleans are written as ``numpy.bool_``). Long doubles, datetimes and voids are left out:
#: ``item()`` would round or change them.
_SCALAR_KINDS = {"b": "bool_", "i": "int{bits}", "u": "uint{bits}", "f": "float{bits}", "c": "complex{bits}",
                 "U": "str_", "S": "bytes_"}
_PORTABLE_NAMES = ("bool_", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float16",
                   "float32", "float64", "complex64", "complex128", "str_", "bytes_")
PORTABLE_SCALARS: Dict[type, str] = {getattr(np, n): n for n in _PORTABLE_NAMES}
SAFE_GLOBALS = SAFE_GLOBALS | frozenset(("numpy", n) for n in PORTABLE_SCALARS.values())

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


def _scalar_name(x: np.generic) -> Optional[str]:
    dt = x.dtype
    fmt = _SCALAR_KINDS.get(dt.kind)
    if fmt is None:
        return None
    name = fmt.format(bits=8 * dt.itemsize) if dt.kind in "iucf" else fmt
    t = getattr(np, name, None)
    return name if t in PORTABLE_SCALARS else None


def unportable(value: Any) -> Optional[str]:
    """Why ``value`` (searched through dicts, lists and tuples) cannot be written by :func:`portable_dumps`,
    or ``None`` if it can. Lets a caller name the sample and field before writing starts."""
    if isinstance(value, np.ndarray):
        if type(value) is not np.ndarray:
            return f"a {type(value).__name__} (an ndarray subclass; pass np.asarray(...) if its extras may go)"
        if value.dtype.hasobject:
            return f"an array of dtype {value.dtype} (Python objects inside)"
        return None
    if isinstance(value, np.generic):
        return None if _scalar_name(value) else f"a numpy scalar of dtype {value.dtype}"
    if isinstance(value, dict):
        for k, v in value.items():
            why = unportable(k) or unportable(v)
            if why:
                return f"{why} under key {k!r}"
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        for i, v in enumerate(value):
            why = unportable(v)
            if why:
                return f"{why} at item {i}"
    return None


class PortablePickler(pickle.Pickler):
    """A pickler that writes numpy arrays and scalars only through numpy's public names.

    ``ndarray`` becomes ``numpy.ndarray(shape, dtype, bytearray(data))``: C order, the dtype as its
    string (or field list), and a *bytearray* buffer so that the loaded array is writable (pipelines
    such as mmaction2's normalise in place). Scalars become ``numpy.<type>(value)``. Everything else is
    pickled as usual. Object arrays, ndarray subclasses and long-double or datetime scalars are
    refused (:class:`DataError`): they cannot be written without private names or losing data.
    """

    def reducer_override(self, obj: Any) -> Any:  # noqa: D102 - documented on the class
        if isinstance(obj, np.ndarray):
            why = unportable(obj)
            if why:
                raise DataError(f"cannot write {why} portably")
            dtype = obj.dtype.descr if obj.dtype.fields else obj.dtype.str
            # tobytes(order="C") copies any layout (strided, Fortran, 0-d) into the C order ndarray() reads
            return np.ndarray, (obj.shape, dtype, bytearray(obj.tobytes(order="C")))
        if isinstance(obj, np.generic):
            name = _scalar_name(obj)
            if name is None:
                raise DataError(f"cannot write a numpy scalar of dtype {obj.dtype} portably")
            return getattr(np, name), (obj.item(),)
        if isinstance(obj, type) and obj in PORTABLE_SCALARS:
            return PORTABLE_SCALARS[obj]  # a string: saved as the global numpy.<name>
        return NotImplemented


def portable_dumps(obj: Any, protocol: int = 4) -> bytes:
    """Pickle ``obj`` so that numpy 1.x and 2.x both load it (see :class:`PortablePickler`).

    Protocol 4 (the default) is readable by every Python 3.4+."""
    buf = io.BytesIO()
    PortablePickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


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
