"""What every real corpus source shares: where the data lives, reading a source pickle with clear
errors, repairing Kinect tracking gaps, the authored captions, and turning a recording into a
:class:`~kinemic_aug.data.corpus.MotionClip` in the generator's space (SMPL-22, 20 fps, floor at 0).

The research datasets are never shipped: a source is read from a *data root* (``root=`` argument,
``$KINEMIC_DATA_ROOT``, or ``../shared/data`` next to a checkout), each in its own folder with the
PYSKL-style pickle its README describes.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ...domain import TargetDomain
from ...errors import DataError
from ...skeleton.layout import get_layout
from ..corpus import MotionClip

PathLike = Union[str, Path]

#: Captions written for this project (``meta['caption_origin'] == 'authored'``).
CAPTIONS_FILE = Path(__file__).resolve().parents[2] / "assets" / "captions" / "corpus_captions.json"
GENERATOR_FPS = 20.0


def default_data_roots() -> List[Path]:
    """Where a data root is looked for, in order: ``$KINEMIC_DATA_ROOT``, then ``shared/data`` beside
    the repository checkout (``<checkout>/../shared/data``) and under the current directory's parent."""
    out: List[Path] = []
    env = os.environ.get("KINEMIC_DATA_ROOT")
    if env:
        out.append(Path(env))
    repo = Path(__file__).resolve().parents[3]
    out.append(repo.parent / "shared" / "data")
    out.append(Path.cwd().parent / "shared" / "data")
    return out


def resolve_data_root(root: Optional[PathLike] = None) -> Path:
    """The data root to read sources from; raises :class:`DataError` listing what was tried."""
    if root is not None:
        p = Path(root).expanduser()
        if not p.is_dir():
            raise DataError(f"data root {p} is not a folder", field="root")
        return p.resolve()
    tried = default_data_roots()
    for p in tried:
        if p.is_dir():
            return p.resolve()
    raise DataError("no data root found; pass root=... or set $KINEMIC_DATA_ROOT (tried "
                    + ", ".join(str(p) for p in tried) + ")", field="root")


def read_source_pickle(path: Path, *, joints: int, required: Sequence[str]) -> Dict[str, Any]:
    """Load a source pickle safely (numpy arrays and builtins only) and check what a loader relies
    on: ``annotations`` with ``keypoint [M, T, joints, 3]``, finite values, and ``required`` keys."""
    from ..safe_pickle import safe_load

    if not path.is_file():
        raise DataError("source file not found", source=str(path), field="file")
    try:
        data = safe_load(path)
    except DataError:
        raise
    except Exception as e:  # truncated / not a pickle
        raise DataError(f"not a readable pickle ({type(e).__name__}: {e})", source=str(path), field="file") from e
    if not isinstance(data, Mapping) or not isinstance(data.get("annotations"), list):
        raise DataError("expected a dict with an 'annotations' list", source=str(path), field="annotations")
    for i, ann in enumerate(data["annotations"]):
        sid = ann.get("frame_dir", i) if isinstance(ann, Mapping) else i
        if not isinstance(ann, Mapping):
            raise DataError("annotation is not a dict", source=str(path), sample=sid, field="annotations")
        for key in ("keypoint", "label", *required):
            if key not in ann:
                raise DataError("missing key", source=str(path), sample=sid, field=key)
        kp = ann["keypoint"]
        if not isinstance(kp, np.ndarray) or kp.ndim != 4 or kp.shape[2:] != (joints, 3):
            shape = getattr(kp, "shape", type(kp).__name__)
            raise DataError(f"expected keypoint [M, T, {joints}, 3], got {shape}", source=str(path), sample=sid,
                            field="keypoint")
        if not np.all(np.isfinite(kp)):
            raise DataError("keypoint contains NaN or inf", source=str(path), sample=sid, field="keypoint")
    return dict(data)


def in_part(heldout: bool, part: str) -> bool:
    """Whether a recording whose subject is (or is not) held out belongs to ``part``
    (``train``, ``heldout`` or ``all``)."""
    return part == "all" or heldout == (part == "heldout")


def annotations_in_part(data: Mapping[str, Any], path: Path, part: str,
                        is_heldout: Callable[[Mapping[str, Any]], bool]) -> Iterator[Tuple[Mapping[str, Any], str, bool]]:
    """``(annotation, label name, held out)`` for every annotation of ``data`` in ``part``."""
    for ann in data["annotations"]:
        held = bool(is_heldout(ann))
        if in_part(held, part):
            yield ann, label_name(data, ann, path), held


def label_name(data: Mapping[str, Any], ann: Mapping[str, Any], path: Path) -> str:
    classes = (data.get("meta") or {}).get("classes") or []
    lab = ann["label"]
    if not isinstance(lab, (int, np.integer)) or not 0 <= int(lab) < len(classes):
        raise DataError(f"label {lab!r} outside the {len(classes)} classes of meta['classes']", source=str(path),
                        sample=ann.get("frame_dir"), field="label")
    return str(classes[int(lab)])


# ---------------------------------------------------------------------- Kinect tracking gaps
@dataclass
class GapReport:
    """What :func:`repair_gaps` did to one recording (kept in the clip's meta)."""

    filled_frames: int = 0
    dropped_frames: int = 0
    segments: int = 0


def invalid_frames(kp: np.ndarray) -> np.ndarray:
    """``[T]`` True where any joint sits at exactly (0, 0, 0): Kinect writes untracked joints (and
    whole untracked frames) as zeros."""
    return np.any(np.all(kp == 0, axis=-1), axis=-1)


def repair_gaps(kp: np.ndarray, *, max_gap: int, min_frames: int) -> Tuple[List[Tuple[int, np.ndarray]], GapReport]:
    """Split ``[T, V, 3]`` at untracked frames: runs of at most ``max_gap`` invalid frames between
    valid ones are filled by linear interpolation (short dropouts are noise), longer runs and the
    invalid ends are cut. Returns ``[(start frame, segment)]`` of segments with at least
    ``min_frames`` frames, and a :class:`GapReport`."""
    bad = invalid_frames(kp)
    rep = GapReport()
    t = len(kp)
    if not bad.any():
        if t >= min_frames:
            rep.segments = 1
            return [(0, kp.astype(np.float32))], rep
        rep.dropped_frames = t
        return [], rep
    x = kp.astype(np.float32).copy()
    good = np.where(~bad)[0]
    runs: List[Tuple[int, int]] = []  # [a, b) kept runs of frames
    if len(good):
        start = prev = int(good[0])
        for g in good[1:]:
            g = int(g)
            gap = g - prev - 1
            if gap > max_gap:
                runs.append((start, prev + 1))
                start = g
            elif gap > 0:
                w = (np.arange(1, gap + 1) / (gap + 1))[:, None, None]
                x[prev + 1:g] = (1 - w) * x[prev] + w * x[g]
                rep.filled_frames += gap
            prev = g
        runs.append((start, prev + 1))
    out = [(a, x[a:b]) for a, b in runs if b - a >= min_frames]
    rep.segments = len(out)
    rep.dropped_frames = t - sum(len(s) for _, s in out)
    return out, rep


# ---------------------------------------------------------------------- captions
@lru_cache(maxsize=1)
def _caption_table() -> Dict[str, Any]:
    try:
        data = json.loads(CAPTIONS_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"unreadable caption table ({e})", source=str(CAPTIONS_FILE), field="captions") from e
    if data.get("origin") != "authored":
        raise DataError("caption table is not marked authored", source=str(CAPTIONS_FILE), field="origin")
    return data


def authored_captions(source: str, label: str) -> List[str]:
    """The authored captions of ``label`` in ``source``; :class:`DataError` for a label without any."""
    table = _caption_table().get(source)
    caps = (table or {}).get(label)
    if not caps:
        raise DataError(f"no authored captions for label {label!r} of source {source!r}; add them to "
                        f"{CAPTIONS_FILE.name}", source=str(CAPTIONS_FILE), field=label)
    return list(caps)


def caption_table(source: str) -> Dict[str, Any]:
    return dict(_caption_table().get(source) or {})


# ---------------------------------------------------------------------- clips
@dataclass
class SourceInfo:
    """One corpus source: its folder and pickle under the data root, its layout, frame rate and terms."""

    name: str
    folder: str
    file: str
    layout: str
    fps: float
    licence: str
    heldout: str = ""
    notes: Dict[str, Any] = field(default_factory=dict)

    def path(self, root: Optional[PathLike] = None) -> Path:
        return resolve_data_root(root) / self.folder / self.file


def make_clip(info: SourceInfo, joints: np.ndarray, *, name: str, label: str, captions: Sequence[str],
              subject: Any, heldout: bool, meta: Optional[Dict[str, Any]] = None,
              fps: Optional[float] = None, layout: Optional[str] = None,
              out_fps: Optional[float] = None) -> MotionClip:
    """``joints [T, V, 3]`` in the source layout and frame rate → a real clip with the per-clip
    metadata every source records.

    By default the clip is in the generator's space: SMPL-22 at 20 fps, lowest joint on the floor.
    With ``layout`` it is instead in that layout (an exact joint permutation between Kinect v1
    orders, through SMPL-22 otherwise) at ``out_fps`` (default: the layout's own rate, else the
    source's), in the source's coordinates: what a classifier pretrained for a target layout reads.
    """
    src_fps = float(fps or info.fps)
    if layout is None:
        dom = TargetDomain(layout=info.layout, fps=src_fps, generator_fps=GENERATOR_FPS)
        j = dom.to_generator(np.asarray(joints, np.float32)[None], sample=name)
        lay, rate = "smpl22", GENERATOR_FPS
    else:
        from ...skeleton.resample import resample
        from ...skeleton.retarget import retarget

        dst = get_layout(layout)
        rate = float(out_fps or dst.fps or src_fps)
        j = retarget(np.asarray(joints, np.float32), info.layout, dst, sample=name)
        if abs(rate - src_fps) > 1e-6:
            j = resample(j, src_fps, rate, sample=name)
        lay = dst.name
    m = {"dataset": info.name, "label": label, "subject": subject, "licence": info.licence,
         "caption_origin": "authored", "heldout": bool(heldout), "source_layout": get_layout(info.layout).name,
         "source_fps": src_fps}
    m.update(meta or {})
    return MotionClip(joints=j, layout=lay, fps=rate, captions=list(captions), name=name,
                      source=info.name, synthetic=False, meta=m)


def tracked_clips(info: SourceInfo, ann: Mapping[str, Any], *, label: str, captions: Sequence[str], subject: Any,
                  heldout: bool, max_gap: int, min_frames: int, meta: Dict[str, Any],
                  layout: Optional[str] = None, out_fps: Optional[float] = None) -> List[MotionClip]:
    """One clip per tracked piece of a Kinect recording (:func:`repair_gaps`), named after its
    ``frame_dir`` (``_part<k>`` when the recording was cut), with ``meta`` plus the piece's first
    frame and the number of filled frames."""
    segs, rep = repair_gaps(np.asarray(ann["keypoint"][0], np.float32), max_gap=max_gap, min_frames=min_frames)
    out = []
    for k, (off, seg) in enumerate(segs):
        name = str(ann["frame_dir"]) + (f"_part{k}" if len(segs) > 1 else "")
        out.append(make_clip(info, seg, layout=layout, out_fps=out_fps, name=name, label=label, captions=captions,
                             subject=subject, heldout=heldout,
                             meta=dict(meta, first_frame=int(off), filled_frames=rep.filled_frames)))
    return out
