"""Reading single files of a HumanML3D folder: caption lines, split lists, motion arrays, statistics.

Each reader checks its file and raises :class:`~kinemic_aug.errors.DataError` naming the file and
the field, so :mod:`.humanml3d` (which re-exports these) only decides which files make a corpus.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Optional, Tuple, Union

import numpy as np

from ..errors import DataError

PathLike = Union[str, os.PathLike]
NUM_JOINTS = 22


@dataclass
class HMLCaption:
    """One line of a ``texts/<id>.txt`` file.

    Attributes:
        caption: the sentence.
        tokens: ``word/POS`` tokens (spaCy tags in the released data).
        start, end: span in seconds; both 0 for the whole clip.
    """

    caption: str
    tokens: List[str] = field(default_factory=list)
    start: float = 0.0
    end: float = 0.0

    @property
    def whole_clip(self) -> bool:
        return self.start == 0.0 and self.end == 0.0

    def to_line(self) -> str:
        toks = " ".join(self.tokens) if self.tokens else " ".join(f"{w}/X" for w in self.caption.split())
        return f"{self.caption}#{toks}#{self.start}#{self.end}"


def _span_value(s: str, path: Path, lineno: int, what: str) -> float:
    try:
        v = float(s)
    except ValueError:
        raise DataError(f"line {lineno}: {what} time {s!r} is not a number", source=str(path), field="texts") from None
    if math.isnan(v):  # the reference loader reads NaN as "whole clip"
        return 0.0
    if v < 0 or math.isinf(v):
        raise DataError(f"line {lineno}: {what} time {v} must be finite and >= 0", source=str(path), field="texts")
    return v


def read_texts(path: PathLike) -> List[HMLCaption]:
    """Parse a ``texts/<id>.txt`` file; blank lines are skipped.

    Raises:
        DataError: a line without the four ``#``-separated fields, a non-numeric or negative time,
            or ``to < from``; the message names the file and the line number.
    """
    path = Path(path)
    out = []
    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        parts = line.rsplit("#", 3)  # captions may contain '#'; tokens and times never do
        if len(parts) != 4:
            raise DataError(f"line {lineno}: expected 'caption#tokens#from#to', got {line[:80]!r}",
                            source=str(path), field="texts")
        caption, toks, f, t = parts
        start, end = _span_value(f, path, lineno, "from"), _span_value(t, path, lineno, "to")
        if not caption.strip():
            raise DataError(f"line {lineno}: empty caption", source=str(path), field="texts")
        if end < start:
            raise DataError(f"line {lineno}: span ends before it starts ({start} > {end})", source=str(path),
                            field="texts")
        out.append(HMLCaption(caption.strip(), toks.split(), start, end))
    return out


def read_split(root: PathLike, split: str) -> List[str]:
    """Ids listed in ``root/<split>.txt``."""
    p = Path(root) / f"{split}.txt"
    if not p.exists():
        avail = sorted(q.stem for q in Path(root).glob("*.txt"))
        raise DataError(f"no split file {p.name}; found {avail}", source=str(root), field="split")
    return [ln.strip() for ln in p.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _read_npy(path: Path, field: str) -> np.ndarray:
    """``np.load`` without pickles; anything unreadable is a :class:`DataError` naming file and field
    (a missing file stays ``FileNotFoundError``, which callers report as a missing entry)."""
    try:
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise
    except Exception as e:
        raise DataError(f"not a readable .npy file ({type(e).__name__}: {e})", source=str(path), field=field) from e


def load_joints(path: PathLike) -> np.ndarray:
    """One ``new_joints/<id>.npy`` file, checked: [T, 22, 3], finite, float32."""
    path = Path(path)
    j = _read_npy(path, "new_joints")
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise DataError(f"expected [T, 22, 3], got shape {j.shape}", source=str(path), field="new_joints")
    if not _real_dtype(j.dtype) or not np.all(np.isfinite(j)):
        # complex counts as "number" to numpy but casting it to float32 silently drops the imaginary part
        raise DataError(f"non-numeric ({j.dtype}), NaN or inf values", source=str(path), field="new_joints")
    return j.astype(np.float32)


def _real_dtype(dtype: np.dtype) -> bool:
    """Integer or floating (not bool, complex, str or object)."""
    return bool(np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating))

def load_humanml3d_stats(root: Optional[PathLike] = None, *, mean: Optional[PathLike] = None,
                         std: Optional[PathLike] = None) -> Tuple[np.ndarray, np.ndarray]:
    """HumanML3D's feature statistics ``Mean.npy`` / ``Std.npy`` (``[263]`` each, float32), checked.

    An official MDM was trained on features normalised with exactly these, so importing one needs them.
    Give the dataset folder, or the two files.

    Raises:
        DataError: a file is missing, unreadable, not 263 finite values, or the std is not > 0; the
            message names the file and the field (``Mean``/``Std``).
    """
    if mean is None or std is None:
        if root is None:
            raise DataError("give the HumanML3D folder or both the Mean.npy and Std.npy paths", field="stats")
        mean = Path(root) / "Mean.npy" if mean is None else mean
        std = Path(root) / "Std.npy" if std is None else std
    out = []
    for name, p in (("Mean", Path(mean)), ("Std", Path(std))):
        if not p.is_file():
            raise DataError(f"{name}.npy not found (HumanML3D ships Mean.npy and Std.npy next to new_joint_vecs/)",
                            source=str(p), field=name)
        try:
            a = _read_npy(p, name)
        except FileNotFoundError:  # pragma: no cover - raced away
            raise DataError(f"{name}.npy not found", source=str(p), field=name) from None
        if not _real_dtype(a.dtype) or a.reshape(-1).shape != (263,):
            raise DataError(f"expected 263 real values, got shape {a.shape} dtype {a.dtype}", source=str(p), field=name)
        a = a.reshape(-1).astype(np.float32)
        if not np.all(np.isfinite(a)):
            raise DataError("NaN or inf values", source=str(p), field=name)
        if name == "Std" and np.any(a <= 0):
            raise DataError(f"{int(np.sum(a <= 0))} std values are <= 0 (first at index {int(np.argmax(a <= 0))})",
                            source=str(p), field=name)
        out.append(a)
    return out[0], out[1]


def load_vecs(root: PathLike, id: str, num_frames: Optional[int] = None) -> np.ndarray:
    """``new_joint_vecs/<id>.npy`` checked to be ``[N, 263]``, real and finite; with ``num_frames``
    (the joint frames the features were encoded from) ``N`` must be ``num_frames - 1``."""
    path = Path(root) / "new_joint_vecs" / f"{id}.npy"
    v = _read_npy(path, "new_joint_vecs")
    if v.ndim != 2 or v.shape[1] != 263 or (num_frames is not None and v.shape[0] != num_frames - 1):
        want = f"[{num_frames - 1}, 263]" if num_frames is not None else "[T-1, 263]"
        raise DataError(f"expected {want}, got shape {v.shape}", source=str(path), field="new_joint_vecs")
    if not _real_dtype(v.dtype):
        raise DataError(f"expected a real-valued array, got dtype {v.dtype}", source=str(path), field="new_joint_vecs")
    if not np.all(np.isfinite(v)):
        raise DataError("NaN or inf values", source=str(path), field="new_joint_vecs")
    return v.astype(np.float32)
