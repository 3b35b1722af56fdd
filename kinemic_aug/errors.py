"""Error types shared by every loader and stage.

Users feed the library their own datasets; an error must say *which* sample and *which*
field is at fault, so that a 10k-sample pickle with one broken entry is fixable in a minute.
"""
from __future__ import annotations

from typing import Any, Optional


class KinemicError(Exception):
    """Base class of all errors raised on purpose by kinemic-aug."""


class DataError(KinemicError, ValueError):
    """Bad input data: wrong shape, dtype, NaN, missing key, unknown label or layout.

    The message always starts with the source (file), the sample id and the field, e.g.
    ``msr.pkl: sample 'a01_s01_e01', field 'keypoint': expected 4 dims [M, T, V, C], got (40, 20, 3)``.
    """

    def __init__(self, message: str, *, source: Optional[str] = None,
                 sample: Optional[Any] = None, field: Optional[str] = None):
        self.source = source
        self.sample = sample
        self.field = field
        where = []
        if source is not None:
            where.append(str(source))
        if sample is not None:
            where.append(f"sample {sample!r}")
        if field is not None:
            where.append(f"field {field!r}")
        prefix = ", ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)


class LayoutError(DataError):
    """Unknown or inconsistent skeleton layout."""


class CacheError(KinemicError):
    """A cache entry or checkpoint is corrupt, truncated, or was written by something else."""


class MissingWeightsError(KinemicError, FileNotFoundError):
    """Model weights are not on disk. The message says how to provide them; nothing is downloaded."""
