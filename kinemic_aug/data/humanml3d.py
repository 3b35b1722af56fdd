"""HumanML3D folders → :class:`~kinemic_aug.data.corpus.MotionCorpus` (and writers for fixtures).

Folder layout (``formats.md`` §6)::

    root/new_joints/<id>.npy        [T, 22, 3] SMPL-22 positions, metres, y-up, 20 fps
    root/new_joint_vecs/<id>.npy    [T-1, 263] features (optional here; see ``hml_vec``)
    root/texts/<id>.txt             one caption per line: ``caption#tok/POS tok/POS ...#from#to``
    root/{train,val,test,all,train_val}.txt   ids, one per line

``from``/``to`` are seconds. ``0.0#0.0`` (or NaN) means the caption describes the whole clip; a
non-zero span describes a sub-clip, which becomes its own corpus entry named ``A_<id>``,
``B_<id>``, ... (the reference loader picks the letter at random; here the letters follow the order
in which spans first appear in the file, so names are reproducible). Captions that share a span are
one entry with several captions. As in the reference loader, a clip is registered whole only if at
least one caption covers the whole clip, and clips (or sub-clips) outside ``min_len <= T < max_len``
frames are left out.
"""
from __future__ import annotations

import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_bytes, atomic_write_text
from .corpus import MotionClip, MotionCorpus

PathLike = Union[str, os.PathLike]
NUM_JOINTS = 22
FPS = 20.0
SPLITS = ("train", "val", "test", "all", "train_val")


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


def _letters(i: int) -> str:
    """0 → 'A', 25 → 'Z', 26 → 'AA', ..."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def load_humanml3d_corpus(root: PathLike, split: str = "train", min_len: int = 40, max_len: int = 200,
                          fps: float = FPS, *, on_missing: str = "raise",
                          ids: Optional[Sequence[str]] = None) -> MotionCorpus:
    """Load a HumanML3D split as a corpus of captioned SMPL-22 clips.

    Args:
        root: dataset folder.
        split: split file name without ``.txt``.
        min_len, max_len: keep clips with ``min_len <= T < max_len`` frames (reference loader: 40, 200).
        fps: frame rate of the files (HumanML3D: 20).
        on_missing: ``"raise"`` (default) or ``"skip"`` when an id has no joints or texts file.
        ids: load these ids instead of reading the split file.

    Returns:
        A corpus of clips with layout ``smpl22``, source ``humanml3d``, ``synthetic=False``; each
        clip's ``meta`` holds ``id`` (the file id), ``span`` (seconds, ``[0, 0]`` = whole clip) and
        ``tokens`` (one list per caption). ``corpus.skipped`` maps a reason (``"missing"``,
        ``"length"``) to the ids / entry names left out, so a short corpus can be explained.
    """
    if on_missing not in ("raise", "skip"):
        raise DataError(f"on_missing must be 'raise' or 'skip', got {on_missing!r}", field="on_missing")
    root = Path(root)
    id_list = list(ids) if ids is not None else read_split(root, split)
    clips: List[MotionClip] = []
    skipped: Dict[str, List[str]] = {"missing": [], "length": []}
    for mid in id_list:
        jp, tp = root / "new_joints" / f"{mid}.npy", root / "texts" / f"{mid}.txt"
        missing = [p for p in (jp, tp) if not p.exists()]
        if missing:
            if on_missing == "skip":
                skipped["missing"].append(mid)
                continue
            raise DataError(f"file not found: {missing[0]}", source=str(root), sample=mid,
                            field=missing[0].parent.name)
        joints = load_joints(jp)
        caps = read_texts(tp)
        groups: Dict[Tuple[float, float], List[HMLCaption]] = {}
        for c in caps:
            groups.setdefault((c.start, c.end), []).append(c)
        sub = 0
        for (start, end), group in groups.items():
            if (start, end) == (0.0, 0.0):
                name, seg = mid, joints
            else:
                name = f"{_letters(sub)}_{mid}"
                sub += 1
                seg = joints[int(start * fps): int(end * fps)]
            if not (min_len <= len(seg) < max_len):
                skipped["length"].append(name)
                continue
            clips.append(MotionClip(
                joints=seg, layout="smpl22", fps=fps, captions=[c.caption for c in group], name=name,
                source="humanml3d", synthetic=False,
                meta={"id": mid, "span": [start, end], "tokens": [c.tokens for c in group]}))
    corpus = MotionCorpus(clips, name=f"humanml3d:{split}" if ids is None else "humanml3d")
    corpus.skipped = skipped  # type: ignore[attr-defined]
    return corpus


def load_vecs(root: PathLike, id: str, num_frames: Optional[int] = None) -> np.ndarray:
    """``new_joint_vecs/<id>.npy`` checked to be [T-1, 263] (``T = num_frames`` if given)."""
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


# ------------------------------------------------------------------------------ writers
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


def write_split(root: PathLike, split: str, ids: Iterable[str]) -> Path:
    """Write ``root/<split>.txt`` (one id per line)."""
    return atomic_write_text(Path(root) / f"{split}.txt", "".join(f"{i}\n" for i in ids))
