"""NTU RGB+D raw ``.skeleton`` files → PYSKL annotation pickle, with the official splits.

File format (NTU RGB+D's ``.skeleton`` text files, Shahroudy et al., CVPR 2016), one value group per line::

    <number of frames>
    per frame:  <number of bodies>
      per body: <10 body fields: bodyID clippedEdges handLeftConfidence handLeftState
                 handRightConfidence handRightState isRestricted leanX leanY trackingState>
                <number of joints = 25>
                25 x <12 numbers: x y z depthX depthY colorX colorY orientW orientX orientY orientZ trackingState>

Sample names are ``SsssCcccPpppRrrrAaaa``: setup, camera, **performer**, replication, action.
The cross-subject split is defined on the performer (P). The KineMIC reference code read the setup
(S) field instead, which leaks subjects across train and val. Here
the subject is always the performer, and :func:`ntu_splits` checks that the subject sets of train and
val are disjoint.

Conversion follows PYSKL's NTU preprocessing (``docs/ntu.md`` has the thresholds): drop noisy bodies (too short,
or shaped like an object rather than a person), keep the <= 2 most-moving ones, put the person
present at the first frame first, and trim leading/trailing frames where nobody is tracked.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, NamedTuple, Optional, Sequence, Set, Union

import numpy as np

from ..errors import DataError
from .ntu_reader import NUM_JOINTS, PathLike, read_skeleton
from .pyskl import save_pyskl


#: Performers whose samples form ``xsub_train`` (NTU-120; for NTU-60 the same rule restricted to its
#: 40 performers gives the standard 20 training subjects).
XSUB_TRAIN_PERFORMERS = frozenset({
    1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38, 45, 46, 47, 49, 50, 52, 53,
    54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84, 85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103,
})
#: Cameras whose samples form ``xview_train`` (NTU-60).
XVIEW_TRAIN_CAMERAS = frozenset({2, 3})

_NAME_RE = re.compile(r"S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})")

#: Two-person actions (hugging, handshakes, fights, ...: A050-A060, A106-A120). The generator synthesises one
#: person, so the KineMIC reference leaves these classes out; ``two_person=`` chooses what a conversion does.
TWO_PERSON_ACTIONS = frozenset(list(range(50, 61)) + list(range(106, 121)))
TWO_PERSON_MODES = ("keep", "drop", "refuse")

DATASETS = {
    # dataset -> (max setup, max action, split families)
    "ntu60": (17, 60, ("xsub", "xview")),
    "ntu120": (32, 120, ("xsub", "xset")),
}


class NTUName(NamedTuple):
    """Fields of an NTU sample name. ``performer`` is the subject."""

    setup: int
    camera: int
    performer: int
    replication: int
    action: int


def parse_ntu_name(name: str) -> NTUName:
    """Parse ``SsssCcccPpppRrrrAaaa`` (a path or a ``.skeleton`` suffix is fine).

    Raises:
        DataError: the name does not follow the pattern.
    """
    stem = Path(str(name)).name
    if stem.endswith(".skeleton"):
        stem = stem[: -len(".skeleton")]
    m = _NAME_RE.fullmatch(stem)
    if not m:
        raise DataError("not an NTU sample name; expected SsssCcccPpppRrrrAaaa, e.g. S001C002P003R002A013",
                        sample=str(name), field="name")
    return NTUName(*(int(g) for g in m.groups()))


# ------------------------------------------------------------------------------------ conversion
@dataclass
class NTUConvertConfig:
    """Body selection knobs (defaults follow the usual NTU denoising recipe).

    Attributes:
        max_bodies: persons kept per sample (PYSKL keeps 2).
        min_body_frames: bodies tracked in fewer frames are noise (flicker detections).
        spread_ratio: a frame looks like an object, not a person, when the body's x-extent exceeds
            ``spread_ratio`` times its y-extent (people are taller than wide).
        max_noisy_fraction: a body whose fraction of such frames exceeds this is dropped.
        dtype: keypoint dtype; PYSKL's hosted NTU pickles use float16, float32 keeps precision.
    """

    max_bodies: int = 2
    min_body_frames: int = 11
    spread_ratio: float = 0.8
    max_noisy_fraction: float = 0.69
    dtype: str = "float32"


def _full_track(body: Mapping[str, np.ndarray], num_frames: int) -> np.ndarray:
    track = np.zeros((num_frames, NUM_JOINTS, 3), dtype=np.float32)
    track[body["frames"]] = body["joints"]
    return track


def _motion(body: Mapping[str, np.ndarray]) -> float:
    """Total positional variance over time: how much this body moves (noise is static or tiny)."""
    j = body["joints"].astype(np.float64)
    return float(j.var(axis=0).sum()) if len(j) > 1 else 0.0


def _noisy_fraction(body: Mapping[str, np.ndarray], ratio: float) -> float:
    j = body["joints"]
    ext = j.max(axis=1) - j.min(axis=1)  # [n, 3]
    return float(np.mean(ext[:, 0] > ratio * ext[:, 1]))


def select_bodies(skel: Mapping[str, Any], config: Optional[NTUConvertConfig] = None) -> np.ndarray:
    """Denoise, pick and order bodies of one parsed file; trim untracked frames.

    Returns:
        keypoint ``[M, T', 25, 3]`` (M <= ``max_bodies``; ``T' = 0`` if nobody is ever tracked).
    """
    cfg = config or NTUConvertConfig()
    bodies = list(skel["bodies"].values())
    t = int(skel["num_frames"])
    if not bodies or t == 0:
        return np.zeros((0, 0, NUM_JOINTS, 3), dtype=cfg.dtype)
    clean = [b for b in bodies
             if len(b["frames"]) >= cfg.min_body_frames and _noisy_fraction(b, cfg.spread_ratio) <= cfg.max_noisy_fraction]
    if not clean:  # everything looks like noise: keep the longest track rather than losing the sample
        clean = [max(bodies, key=lambda b: len(b["frames"]))]
    clean.sort(key=_motion, reverse=True)
    kept = clean[: cfg.max_bodies]
    tracks = np.stack([_full_track(b, t) for b in kept])  # [M, T, 25, 3]
    valid = np.any(tracks != 0, axis=(2, 3))  # [M, T]
    any_valid = valid.any(axis=0)
    if not any_valid.any():
        return np.zeros((0, 0, NUM_JOINTS, 3), dtype=cfg.dtype)
    first, last = int(np.argmax(any_valid)), int(t - np.argmax(any_valid[::-1]))
    tracks, valid = tracks[:, first:last], valid[:, first:last]
    # person present at the (trimmed) first frame first; ties keep the motion ranking
    order = sorted(range(len(kept)), key=lambda i: (not valid[i, 0], int(np.argmax(valid[i])) if valid[i].any() else t))
    return tracks[order].astype(cfg.dtype)


def read_missing_list(missing: Union[None, PathLike, Iterable[str]]) -> Set[str]:
    """Sample ids to skip: a text file (one id per line, ``#`` comments allowed) or an iterable of ids."""
    if missing is None:
        return set()
    if isinstance(missing, (str, os.PathLike)):
        lines = Path(missing).read_text(encoding="utf-8").splitlines()
        return {ln.split("#", 1)[0].strip() for ln in lines} - {""}
    return {str(m).strip() for m in missing}


def ntu_splits(names: Sequence[str], dataset: str = "ntu120") -> Dict[str, List[str]]:
    """Official splits for ``names`` (NTU sample ids).

    NTU-120: ``xsub_*`` (performer in :data:`XSUB_TRAIN_PERFORMERS` → train) and ``xset_*`` (even
    setup → train). NTU-60: ``xsub_*`` and ``xview_*`` (cameras 2, 3 → train). Every pair of
    train/val lists is checked to share no subject (xsub), setup (xset) or camera (xview).
    """
    if dataset not in DATASETS:
        raise DataError(f"unknown NTU dataset {dataset!r}; expected one of {sorted(DATASETS)}", field="dataset")
    families = DATASETS[dataset][2]
    parsed = [(n, parse_ntu_name(n)) for n in names]
    rules: Dict[str, Callable[[NTUName], bool]] = {
        "xsub": lambda p: p.performer in XSUB_TRAIN_PERFORMERS,
        "xset": lambda p: p.setup % 2 == 0,
        "xview": lambda p: p.camera in XVIEW_TRAIN_CAMERAS,
    }
    group_of: Dict[str, Callable[[NTUName], int]] = {
        "xsub": lambda p: p.performer, "xset": lambda p: p.setup, "xview": lambda p: p.camera}
    out: Dict[str, List[str]] = {}
    for fam in families:
        train = [n for n, p in parsed if rules[fam](p)]
        val = [n for n, p in parsed if not rules[fam](p)]
        shared = {group_of[fam](parse_ntu_name(n)) for n in train} & {group_of[fam](parse_ntu_name(n)) for n in val}
        if shared:  # cannot happen with the rules above; guards against edits that reintroduce the S/P leak
            raise DataError(f"{fam}: train and val share {sorted(shared)}", field="split")
        out[f"{fam}_train"], out[f"{fam}_val"] = train, val
    return out


def skeleton_to_annotation(path: PathLike, config: Optional[NTUConvertConfig] = None) -> Optional[Dict[str, Any]]:
    """One ``.skeleton`` file → one PYSKL annotation (``frame_dir``, ``label`` = action − 1,
    ``keypoint``, ``total_frames``), or ``None`` when no body is ever tracked."""
    skel = read_skeleton(path)
    kp = select_bodies(skel, config)
    if kp.shape[0] == 0 or kp.shape[1] == 0:
        return None
    name = parse_ntu_name(skel["name"])
    return {"frame_dir": skel["name"], "label": name.action - 1, "keypoint": kp, "total_frames": int(kp.shape[1])}


def _check_options(dataset: str, two_person: str) -> None:
    """The conversion options both converters take, checked before any file is read."""
    if dataset not in DATASETS:
        raise DataError(f"unknown NTU dataset {dataset!r}; expected one of {sorted(DATASETS)}", field="dataset")
    if two_person not in TWO_PERSON_MODES:
        raise DataError(f"two_person must be one of {TWO_PERSON_MODES}, got {two_person!r}", field="two_person")


def _two_person_filter(sid: str, action: int, mode: str, skipped: Dict[str, List[str]]) -> bool:
    """Whether sample ``sid`` stays, given ``two_person=mode`` (records drops, raises on ``refuse``)."""
    if action not in TWO_PERSON_ACTIONS or mode == "keep":
        return True
    if mode == "refuse":
        raise DataError(f"A{action:03d} is a two-person action and the generator synthesises one person: convert "
                        "with two_person='drop' to leave these classes out (as the KineMIC reference does), or "
                        "'keep' to train a classifier on them without augmentation", sample=sid, field="label")
    skipped["two_person"].append(sid)
    return False


def arrays_to_pyskl(data: np.ndarray, names: Sequence[str], out_path: Optional[PathLike] = None,
                    dataset: str = "ntu120", two_person: str = "keep", dtype: str = "float32") -> Dict[str, Any]:
    """The common preprocessed NTU array ``(N, 3, T, 25, M)`` (C, T, V, M per sample, zero-padded) with its
    sample ``names`` → a PYSKL dict with the official splits, as :func:`ntu_to_pyskl` writes it. Persons that
    are all zeros are dropped and trailing all-zero frames cut; labels come from the names."""
    _check_options(dataset, two_person)
    a = np.asarray(data)
    if a.ndim != 5 or a.shape[1] != 3 or a.shape[3] != NUM_JOINTS:
        raise DataError(f"expected (N, 3, T, {NUM_JOINTS}, M), got {a.shape}", field="keypoint")
    if len(names) != a.shape[0]:
        raise DataError(f"{len(names)} names for {a.shape[0]} samples", field="names")
    max_setup, max_action, _ = DATASETS[dataset]
    annotations, skipped = [], {"other_dataset": [], "no_body": [], "two_person": []}
    for i, sid in enumerate(names):
        n = parse_ntu_name(sid)
        if n.setup > max_setup or n.action > max_action:
            skipped["other_dataset"].append(sid)
            continue
        if not _two_person_filter(sid, n.action, two_person, skipped):
            continue
        kp = np.transpose(a[i], (3, 1, 2, 0)).astype(np.float32)          # M, T, V, C
        if not np.all(np.isfinite(kp)):
            raise DataError("NaN or inf", sample=sid, field="keypoint")
        kp = kp[[m for m in range(kp.shape[0]) if np.abs(kp[m]).sum() > 0]]
        if kp.shape[0] == 0:
            skipped["no_body"].append(sid)
            continue
        frames = np.nonzero(np.abs(kp).sum(axis=(0, 2, 3)) > 0)[0]
        kp = kp[:, :frames[-1] + 1].astype(dtype)
        annotations.append({"frame_dir": sid, "label": n.action - 1, "keypoint": kp, "total_frames": int(kp.shape[1])})
    split = ntu_splits([x["frame_dir"] for x in annotations], dataset)
    meta = {"dataset": dataset, "source": "array (N, 3, T, 25, M)", "fps": 30.0, "layout": "nturgb+d",
            "num_classes": max_action, "skipped": skipped, "two_person": two_person,
            "subject_field": "performer (P)"}
    out = {"split": split, "annotations": annotations, "meta": meta}
    if out_path is not None:
        save_pyskl(out, out_path, layout="nturgb+d", num_classes=max_action)
    return out


def ntu_to_pyskl(skeleton_dir: PathLike, out_path: Optional[PathLike], dataset: str = "ntu120",
                 missing_list: Union[None, PathLike, Iterable[str]] = None, max_bodies: int = 2, *,
                 config: Optional[NTUConvertConfig] = None, two_person: str = "keep") -> Dict[str, Any]:
    """Convert a folder of NTU ``.skeleton`` files to a PYSKL annotation dict (and pickle).

    Files are processed in sorted name order. Files named in ``missing_list`` (pyskl's
    ``ntu120_missing.txt`` or the NTU-60 list), files outside the dataset (NTU-60 keeps setups
    S001–S017 and actions A001–A060) and files in which no body is ever tracked are skipped and
    reported in the top-level ``meta``.

    Args:
        skeleton_dir: folder with ``S...A....skeleton`` files (searched non-recursively).
        out_path: where to write the pickle (atomically); ``None`` to only return the dict.
        dataset: ``'ntu120'`` (splits xsub, xset) or ``'ntu60'`` (splits xsub, xview).
        missing_list: ids to skip, as a file or an iterable.
        max_bodies: persons kept per sample.
        config: further body-selection knobs (its ``max_bodies`` is overridden by the argument).
        two_person: the two-person actions (:data:`TWO_PERSON_ACTIONS`): ``"keep"`` (both persons, for a
            classifier; the augmenter refuses them as shots), ``"drop"`` (left out, listed in
            ``meta["skipped"]["two_person"]``) or ``"refuse"`` (an error naming the first one).

    Returns:
        ``{"split", "annotations", "meta"}``; ``meta`` holds the dataset, per-reason skip lists
        and the subject of each split.
    """
    _check_options(dataset, two_person)
    max_setup, max_action, _ = DATASETS[dataset]
    cfg = replace(config or NTUConvertConfig(), max_bodies=int(max_bodies))
    skip = read_missing_list(missing_list)
    files = sorted(Path(skeleton_dir).glob("*.skeleton"))
    if not files:
        raise DataError("no .skeleton files found", source=str(skeleton_dir))
    annotations, skipped = [], {"missing_list": [], "other_dataset": [], "no_body": [], "two_person": []}
    for fp in files:
        sid = fp.name[: -len(".skeleton")]
        n = parse_ntu_name(sid)
        if sid in skip:
            skipped["missing_list"].append(sid)
            continue
        if n.setup > max_setup or n.action > max_action:
            skipped["other_dataset"].append(sid)
            continue
        if not _two_person_filter(sid, n.action, two_person, skipped):
            continue
        ann = skeleton_to_annotation(fp, cfg)
        if ann is None:
            skipped["no_body"].append(sid)
            continue
        annotations.append(ann)
    names = [a["frame_dir"] for a in annotations]
    split = ntu_splits(names, dataset)
    meta = {"dataset": dataset, "source": str(skeleton_dir), "fps": 30.0, "layout": "nturgb+d",
            "num_classes": max_action, "skipped": skipped, "max_bodies": cfg.max_bodies, "two_person": two_person,
            "subject_field": "performer (P)"}
    data = {"split": split, "annotations": annotations, "meta": meta}
    if out_path is not None:
        save_pyskl(data, out_path, layout="nturgb+d", num_classes=max_action)
    return data
