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

This module decides which files make a corpus; reading one file (captions, splits, arrays,
statistics) is :mod:`.humanml3d_files` and writing the layout is :mod:`.humanml3d_write`. Their
public names are re-exported here, where callers import them from.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from ..errors import DataError
from ..utils.io import sha256_file
from .corpus import MotionClip, MotionCorpus
from .humanml3d_files import (NUM_JOINTS, HMLCaption, PathLike, load_humanml3d_stats,  # noqa: F401  (re-exported)
                              load_joints, load_vecs, read_split, read_texts)
from .humanml3d_write import write_humanml3d_entry, write_humanml3d_features, write_split  # noqa: F401

FPS = 20.0
SPLITS = ("train", "val", "test", "all", "train_val")


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


def _read_all_captions(root: Path, kind: str, id_list: Sequence[str], on_missing: str,
                       missing_ids: List[str]) -> Dict[str, List[HMLCaption]]:
    """First pass, no arrays: each id's caption lines, so missing files and bad lines fail at once.

    Ids with a missing file are appended to ``missing_ids`` (``on_missing="skip"``) or raise."""
    captions: Dict[str, List[HMLCaption]] = {}
    for mid in id_list:
        missing = [p for p in (_motion_file(root, kind, mid), root / "texts" / f"{mid}.txt") if not p.is_file()]
        if not missing:
            captions[mid] = read_texts(root / "texts" / f"{mid}.txt")
        elif on_missing == "skip":
            missing_ids.append(mid)
        else:
            raise DataError(f"file not found: {missing[0]}", source=str(root), sample=mid,
                            field=missing[0].parent.name)
    return captions


def _entries(mid: str, caps: List[HMLCaption], joints: np.ndarray, kind: str, fps: float,
             window: Tuple[int, int], too_long_or_short: List[str]) -> List[MotionClip]:
    """The entries of one id under the rules of :func:`load_humanml3d_corpus`: its sub-clips in line
    order, then the whole clip if a line covers it. What falls outside ``window`` (``min_len``,
    ``max_len``) is appended to ``too_long_or_short`` instead."""
    min_len, max_len = window
    if not (min_len <= len(joints) < max_len):
        too_long_or_short.append(mid)
        return []
    out: List[MotionClip] = []
    meta = {"id": mid, "motion_file": f"{MOTION_DIRS[kind]}/{mid}.npy"}
    whole = [c for c in caps if c.whole_clip]
    sub = 0
    for c in caps:
        if c.whole_clip:
            continue
        seg = joints[int(c.start * fps): int(c.end * fps)]
        if not (min_len <= len(seg) < max_len):
            too_long_or_short.append(f"{mid}#{c.start}#{c.end}")
            continue
        out.append(MotionClip(
            joints=seg, layout="smpl22", fps=fps, captions=[c.caption], name=f"{_letters(sub)}_{mid}",
            source="humanml3d", synthetic=False, meta={**meta, "span": [c.start, c.end], "tokens": [c.tokens]}))
        sub += 1
    if whole:
        out.append(MotionClip(
            joints=joints, layout="smpl22", fps=fps, captions=[c.caption for c in whole], name=mid,
            source="humanml3d", synthetic=False,
            meta={**meta, "span": [0.0, 0.0], "tokens": [c.tokens for c in whole]}))
    return out


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
    captions = _read_all_captions(root, kind, id_list, on_missing, skipped["missing"])
    clips: List[MotionClip] = []
    for mid, caps in captions.items():
        clips += _entries(mid, caps, _load_motion(root, kind, mid), kind, fps, (min_len, max_len), skipped["length"])
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

