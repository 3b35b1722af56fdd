"""Writing motions in HumanML3D's folder layout (used to make fixture folders that the loader reads).

The counterpart of :mod:`.humanml3d_files`: what is written here reads back with
:func:`~kinemic_aug.data.humanml3d.load_humanml3d_corpus`, which re-exports these writers.
"""
from __future__ import annotations

import io
from pathlib import Path
from typing import Iterable, Tuple, Union

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_bytes, atomic_write_text
from .humanml3d_files import NUM_JOINTS, HMLCaption, PathLike


def _npy_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def write_humanml3d_entry(root: PathLike, id: str, joints: np.ndarray,
                          captions: Iterable[Union[str, HMLCaption, Tuple[str, float, float]]], *,
                          vecs: Union[None, bool, np.ndarray] = None) -> Path:
    """Write one motion in HumanML3D's layout (atomic writes): ``new_joints/<id>.npy``,
    ``texts/<id>.txt`` and, if ``vecs`` is given, ``new_joint_vecs/<id>.npy`` (``vecs=True`` computes
    them with :func:`kinemic_aug.data.hml_vec.joints_to_hml_vec`).

    ``captions`` items are a sentence (whole clip), ``(sentence, from_s, to_s)`` or an
    :class:`HMLCaption`. Tokens default to ``word/X`` (no tagger here; ``X`` is the "other" POS tag).
    """
    root = Path(root)
    j = np.asarray(joints, dtype=np.float32)
    if j.ndim != 3 or j.shape[1:] != (NUM_JOINTS, 3):
        raise DataError(f"expected [T, 22, 3], got shape {j.shape}", sample=id, field="joints")
    lines = []
    for c in captions:
        if isinstance(c, str):
            c = HMLCaption(c)
        elif isinstance(c, tuple):
            c = HMLCaption(c[0], start=float(c[1]), end=float(c[2]))
        if "\n" in c.caption:
            raise DataError("caption contains a newline", sample=id, field="captions")
        lines.append(c.to_line())
    atomic_write_bytes(root / "new_joints" / f"{id}.npy", _npy_bytes(j))
    atomic_write_text(root / "texts" / f"{id}.txt", "\n".join(lines) + "\n")
    if vecs is not None and vecs is not False:
        if vecs is True:
            from .hml_vec import joints_to_hml_vec

            vecs = joints_to_hml_vec(j)
        atomic_write_bytes(root / "new_joint_vecs" / f"{id}.npy", _npy_bytes(np.asarray(vecs, dtype=np.float32)))
    return root


def write_humanml3d_features(root: PathLike, id: str, vecs: np.ndarray,
                             captions: Iterable[Union[str, HMLCaption, Tuple[str, float, float]]]) -> Path:
    """Write one motion the way the released dataset stores it: ``new_joint_vecs/<id>.npy`` = ``vecs``
    ``[T, 263]``, ``new_joints/<id>.npy`` = their decoding ``[T, 22, 3]`` and ``texts/<id>.txt``."""
    from .hml_vec import recover_from_ric

    v = np.asarray(vecs, dtype=np.float32)
    if v.ndim != 2 or v.shape[1] != 263:
        raise DataError(f"expected [T, 263], got shape {v.shape}", sample=id, field="vecs")
    write_humanml3d_entry(root, id, recover_from_ric(v), captions)
    atomic_write_bytes(Path(root) / "new_joint_vecs" / f"{id}.npy", _npy_bytes(v))
    return Path(root)


def write_split(root: PathLike, split: str, ids: Iterable[str]) -> Path:
    """Write ``root/<split>.txt`` (one id per line)."""
    return atomic_write_text(Path(root) / f"{split}.txt", "".join(f"{i}\n" for i in ids))
