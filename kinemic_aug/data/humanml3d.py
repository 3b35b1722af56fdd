"""HumanML3D folders → :class:`~kinemic_aug.data.corpus.MotionCorpus` (and writers for fixtures).

Folder layout of the released dataset::

    root/new_joint_vecs/<id>.npy    [T, 263] HumanML3D features (see :mod:`.hml_vec`)
    root/new_joints/<id>.npy        [T, 22, 3] SMPL-22 positions (metres, y-up, 20 fps): HumanML3D wrote
                                    them as the decoding of the features, so T is the same
    root/texts/<id>.txt             one caption per line: ``caption#tok/POS tok/POS ...#from#to``
    root/{train,val,test,all,train_val}.txt   ids, one per line
    root/Mean.npy, root/Std.npy     [263] feature statistics (what an official MDM normalises with)

``from``/``to`` are seconds; ``0.0#0.0`` (or NaN) means the caption describes the whole clip, a
non-zero span a sub-clip. :func:`load_humanml3d_corpus` turns a split into entries with the reference
loader's rules, :func:`humanml3d_identity` hashes exactly the files it reads, and
:func:`load_humanml3d_stats` reads ``Mean.npy``/``Std.npy``.
"""
from __future__ import annotations

import hashlib
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_bytes, atomic_write_text, sha256_file
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


MOTION_DIRS = {"vecs": "new_joint_vecs", "joints": "new_joints"}
#: version of the entry rules below; part of :func:`humanml3d_identity`
RULES_VERSION = 1


def _motion_kind(root: Path, motion: str) -> str:
    """``"vecs"`` or ``"joints"``: which folder the motion is read from (``"auto"``: features if present)."""
    if motion not in ("auto", "vecs", "joints"):
        raise DataError(f"motion must be 'auto', 'vecs' or 'joints', got {motion!r}", field="motion")
    if motion == "auto":
        motion = "vecs" if (root / MOTION_DIRS["vecs"]).is_dir() else "joints"
    if not (root / MOTION_DIRS[motion]).is_dir():
        have = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        raise DataError(f"no {MOTION_DIRS[motion]}/ folder (found {have or 'nothing'})", source=str(root),
                        field=MOTION_DIRS[motion])
    return motion


def _check_folder(root: Path, split: str, ids: Optional[Sequence[str]], motion: str) -> Tuple[str, List[str]]:
    """Everything that can be checked without reading arrays, so a wrong folder fails at once."""
    if not root.is_dir():
        raise DataError("HumanML3D folder not found", source=str(root), field="root")
    if not (root / "texts").is_dir():
        raise DataError("no texts/ folder: HumanML3D captions are texts/<id>.txt (unpack texts.zip here)",
                        source=str(root), field="texts")
    kind = _motion_kind(root, motion)
    id_list = list(ids) if ids is not None else read_split(root, split)
    return kind, id_list


def _motion_file(root: Path, kind: str, mid: str) -> Path:
    return root / MOTION_DIRS[kind] / f"{mid}.npy"


def _load_motion(root: Path, kind: str, mid: str) -> np.ndarray:
    """Joints ``[T, 22, 3]`` of one id: ``new_joints`` as stored, or ``new_joint_vecs`` decoded with
    HumanML3D's decoder (which is how HumanML3D wrote ``new_joints``; same T)."""
    if kind == "joints":
        return load_joints(_motion_file(root, kind, mid))
    from .hml_vec import recover_from_ric

    vecs = load_vecs(root, mid)
    return np.asarray(recover_from_ric(vecs), dtype=np.float32)


def load_humanml3d_corpus(root: PathLike, split: str = "train", min_len: int = 40, max_len: int = 200,
                          fps: float = FPS, *, on_missing: str = "raise", ids: Optional[Sequence[str]] = None,
                          motion: str = "auto") -> MotionCorpus:
    """Load a HumanML3D split as a corpus of captioned SMPL-22 clips, with the reference loader's rules.

    The rules (those of the text-to-motion loader that MDM trains with), in order:

    * an id whose whole motion is outside ``min_len <= T < max_len`` frames is dropped entirely,
      sub-clips included;
    * every caption line with a non-zero span ``from#to`` (seconds) becomes its own entry: frames
      ``int(from * fps):int(to * fps)``, kept if its length is in the same window, named ``A_<id>``,
      ``B_<id>``, ... in the order of the lines (the reference loader draws the letter at random);
      two lines with the same span are two entries, as there;
    * the whole clip is an entry (named ``<id>``) only if at least one line has the span ``0#0``
      (NaN counts as 0), with all such lines as its captions.

    Generator pretraining uses the ``train`` split only; ``val``/``test`` are for evaluation.

    Args:
        root: dataset folder (holds ``texts/``, ``new_joint_vecs/`` or ``new_joints/`` and the split files).
        split: split file name without ``.txt``.
        min_len, max_len: frame window (reference loader: 40, 200).
        fps: frame rate of the files (HumanML3D: 20).
        on_missing: ``"raise"`` (default) or ``"skip"`` when an id has no motion or texts file.
        ids: load these ids instead of reading the split file.
        motion: ``"vecs"`` reads ``new_joint_vecs`` and decodes it to joints, ``"joints"`` reads
            ``new_joints``; ``"auto"`` (default) takes the features when that folder exists.

    Returns:
        A corpus of clips with layout ``smpl22``, source ``humanml3d``, ``synthetic=False``; each
        clip's ``meta`` holds ``id`` (the file id), ``span`` (seconds, ``[0, 0]`` = whole clip),
        ``tokens`` (one list per caption) and ``motion_file``. ``corpus.skipped`` maps a reason
        (``"missing"``, ``"length"``) to the ids (or ``<id>#from#to`` spans) left out.

    Raises:
        DataError: no ``texts/`` or motion folder, no split file, a missing file (``on_missing="raise"``;
            checked for every id before any array is read), a malformed caption line or array.
    """
    if on_missing not in ("raise", "skip"):
        raise DataError(f"on_missing must be 'raise' or 'skip', got {on_missing!r}", field="on_missing")
    root = Path(root)
    kind, id_list = _check_folder(root, split, ids, motion)
    skipped: Dict[str, List[str]] = {"missing": [], "length": []}
    captions: Dict[str, List[HMLCaption]] = {}
    for mid in id_list:  # first pass, no arrays: missing files and bad caption lines fail at once
        missing = [p for p in (_motion_file(root, kind, mid), root / "texts" / f"{mid}.txt") if not p.is_file()]
        if not missing:
            captions[mid] = read_texts(root / "texts" / f"{mid}.txt")
        elif on_missing == "skip":
            skipped["missing"].append(mid)
        else:
            raise DataError(f"file not found: {missing[0]}", source=str(root), sample=mid,
                            field=missing[0].parent.name)
    clips: List[MotionClip] = []
    for mid, caps in captions.items():
        joints = _load_motion(root, kind, mid)
        if not (min_len <= len(joints) < max_len):
            skipped["length"].append(mid)
            continue
        meta = {"id": mid, "motion_file": f"{MOTION_DIRS[kind]}/{mid}.npy"}
        whole = [c for c in caps if c.whole_clip]
        sub = 0
        for c in caps:
            if c.whole_clip:
                continue
            seg = joints[int(c.start * fps): int(c.end * fps)]
            if not (min_len <= len(seg) < max_len):
                skipped["length"].append(f"{mid}#{c.start}#{c.end}")
                continue
            clips.append(MotionClip(
                joints=seg, layout="smpl22", fps=fps, captions=[c.caption], name=f"{_letters(sub)}_{mid}",
                source="humanml3d", synthetic=False, meta={**meta, "span": [c.start, c.end], "tokens": [c.tokens]}))
            sub += 1
        if whole:
            clips.append(MotionClip(
                joints=joints, layout="smpl22", fps=fps, captions=[c.caption for c in whole], name=mid,
                source="humanml3d", synthetic=False,
                meta={**meta, "span": [0.0, 0.0], "tokens": [c.tokens for c in whole]}))
    corpus = MotionCorpus(clips, name=f"humanml3d:{split}" if ids is None else "humanml3d")
    corpus.skipped = skipped  # type: ignore[attr-defined]
    return corpus


_DIGESTS: Dict[Tuple[str, int, int], str] = {}


def _file_digest(path: Path) -> str:
    """sha256 of a file, memoised in this process by (path, size, mtime)."""
    st = path.stat()
    key = (str(path.resolve()), int(st.st_size), int(st.st_mtime_ns))
    if key not in _DIGESTS:
        _DIGESTS[key] = sha256_file(path)
    return _DIGESTS[key]


def humanml3d_identity(root: PathLike, split: str = "train", *, motion: str = "auto",
                       ids: Optional[Sequence[str]] = None) -> str:
    """sha256 over exactly the files :func:`load_humanml3d_corpus` reads for these arguments.

    It covers the split file, every listed id's motion file (``new_joint_vecs`` or ``new_joints``, as
    ``motion`` selects) and caption file, the folder kind and :data:`RULES_VERSION`, so a cache key
    built from it changes when any of them does, and is the same on every machine. Files that are
    absent are hashed as absent (a loader with ``on_missing="skip"`` leaves them out). Hashing the
    train split reads every motion file once (a few GB for the full dataset); digests are memoised
    per process. The loader's own arguments (``min_len``, ``max_len``, ``fps``) are not files and
    are not part of it: a key that depends on them must add them.
    """
    root = Path(root)
    kind, id_list = _check_folder(root, split, ids, motion)
    h = hashlib.sha256(f"humanml3d:rules={RULES_VERSION}:motion={MOTION_DIRS[kind]}\n".encode())
    if ids is None:
        h.update(b"split:" + _file_digest(root / f"{split}.txt").encode() + b"\n")
    for mid in id_list:
        for p in (_motion_file(root, kind, mid), root / "texts" / f"{mid}.txt"):
            digest = _file_digest(p) if p.is_file() else "absent"
            h.update(f"{mid}:{p.parent.name}:{digest}\n".encode())
    return h.hexdigest()


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
