"""``MotionCorpus``: captioned motion clips, the currency between data, pairing and the generator.

A clip is joint positions ``[T, V, 3]`` (float32, metres, y-up) in a named layout at a frame
rate, with zero or more captions, the source it came from and a ``synthetic`` flag. Synthetic
(procedural or generated) clips are flagged at creation and the flag survives every
transformation and file round trip, so a report can always say what was real.

On disk a corpus is one ``.npz`` (all frames concatenated, plus offsets) and the clip metadata
as JSON inside it; writes are atomic and carry a checksum of the arrays.
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Union

import numpy as np

from ..errors import CacheError, DataError
from ..utils.io import atomic_write_bytes

FORMAT_VERSION = 1


@dataclass
class MotionClip:
    """One motion clip.

    Attributes:
        joints: ``[T, V, 3]`` float32 positions in metres, y-up.
        layout: registered layout name (``kinemic_aug.skeleton.get_layout``).
        fps: frames per second.
        captions: natural-language descriptions; may be empty.
        name: unique id within its corpus.
        source: where it came from (``"deepmimic"``, ``"cmu"``, ``"procedural"``, ``"humanml3d"``,
            ``"generated"``, a dataset name, ...).
        synthetic: True for procedurally generated or model-generated motion.
        meta: free-form JSON-serialisable extras (action tags, subject, licence, caption origin).
    """

    joints: np.ndarray
    layout: str
    fps: float
    captions: List[str] = field(default_factory=list)
    name: str = ""
    source: str = ""
    synthetic: bool = False
    meta: Dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        j = np.asarray(self.joints)
        if j.ndim != 3 or j.shape[-1] != 3:
            raise DataError(f"expected [T, V, 3], got shape {j.shape}", sample=self.name, field="joints")
        if j.shape[0] == 0:
            raise DataError("zero-length clip", sample=self.name, field="joints")
        if not np.all(np.isfinite(j)):
            raise DataError("contains NaN or inf", sample=self.name, field="joints")
        if not (self.fps and self.fps > 0):
            raise DataError(f"fps must be positive, got {self.fps!r}", sample=self.name, field="fps")
        self.joints = j.astype(np.float32, copy=False)
        self.captions = [str(c) for c in self.captions]

    @property
    def num_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration(self) -> float:
        return self.num_frames / float(self.fps)


class MotionCorpus(Sequence[MotionClip]):
    """An ordered collection of :class:`MotionClip` with unique names."""

    def __init__(self, clips: Iterable[MotionClip] = (), name: str = "corpus"):
        self.name = name
        self.clips: List[MotionClip] = []
        self._names: Dict[str, int] = {}
        for c in clips:
            self.append(c)

    # -------------------------------------------------------------- collection protocol
    def append(self, clip: MotionClip) -> None:
        if not clip.name:
            clip.name = f"clip{len(self.clips):06d}"
        if clip.name in self._names:
            raise DataError("duplicate clip name in corpus", source=self.name, sample=clip.name, field="name")
        self._names[clip.name] = len(self.clips)
        self.clips.append(clip)

    def __len__(self) -> int:
        return len(self.clips)

    def __getitem__(self, idx):  # type: ignore[override]
        if isinstance(idx, slice):
            return MotionCorpus(self.clips[idx], name=self.name)
        if isinstance(idx, str):
            return self.clips[self._names[idx]]
        return self.clips[idx]

    def __iter__(self) -> Iterator[MotionClip]:
        return iter(self.clips)

    def __repr__(self) -> str:
        n_syn = sum(c.synthetic for c in self.clips)
        return (f"MotionCorpus({self.name!r}, {len(self)} clips, {n_syn} synthetic, "
                f"{self.total_seconds():.1f} s)")

    # -------------------------------------------------------------- views
    def filter(self, pred: Callable[[MotionClip], bool]) -> "MotionCorpus":
        return MotionCorpus([c for c in self.clips if pred(c)], name=self.name)

    def map(self, fn: Callable[[MotionClip], MotionClip]) -> "MotionCorpus":
        """Apply ``fn`` to each clip; the ``synthetic`` flag is re-asserted so no transform can drop it."""
        out = []
        for c in self.clips:
            new = fn(c)
            new.synthetic = new.synthetic or c.synthetic
            out.append(new)
        return MotionCorpus(out, name=self.name)

    def concat(self, other: "MotionCorpus", name: Optional[str] = None) -> "MotionCorpus":
        return MotionCorpus(list(self.clips) + list(other.clips), name=name or f"{self.name}+{other.name}")

    def captions(self) -> List[List[str]]:
        return [list(c.captions) for c in self.clips]

    def layouts(self) -> List[str]:
        return sorted({c.layout for c in self.clips})

    def total_seconds(self) -> float:
        return float(sum(c.duration for c in self.clips))

    def summary(self) -> Dict[str, Union[int, float, Dict[str, int]]]:
        by_source: Dict[str, int] = {}
        for c in self.clips:
            by_source[c.source] = by_source.get(c.source, 0) + 1
        return {"clips": len(self), "synthetic": sum(c.synthetic for c in self.clips),
                "seconds": round(self.total_seconds(), 2), "by_source": by_source}

    # -------------------------------------------------------------- files
    def to_bytes(self) -> bytes:
        lengths = np.array([c.num_frames for c in self.clips], dtype=np.int64)
        if len({c.joints.shape[1] for c in self.clips}) > 1:
            # different joint counts: store per-clip arrays padded to the largest V
            v = max(c.joints.shape[1] for c in self.clips)
        else:
            v = self.clips[0].joints.shape[1] if self.clips else 0
        frames = np.zeros((int(lengths.sum()), v, 3), dtype=np.float32)
        joints_v = []
        off = 0
        for c in self.clips:
            frames[off:off + c.num_frames, :c.joints.shape[1]] = c.joints
            joints_v.append(int(c.joints.shape[1]))
            off += c.num_frames
        meta = {
            "format": "kinemic_aug.MotionCorpus", "version": FORMAT_VERSION, "name": self.name,
            "clips": [{"name": c.name, "layout": c.layout, "fps": c.fps, "captions": c.captions,
                       "source": c.source, "synthetic": bool(c.synthetic), "meta": c.meta, "num_joints": nv}
                      for c, nv in zip(self.clips, joints_v)],
        }
        digest = hashlib.sha256(frames.tobytes() + lengths.tobytes()).hexdigest()
        meta["sha256"] = digest
        buf = io.BytesIO()
        np.savez_compressed(buf, frames=frames, lengths=lengths,
                            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        return buf.getvalue()

    def save(self, path: Union[str, Path]) -> Path:
        """Write atomically to ``path`` (``.npz``)."""
        return atomic_write_bytes(path, self.to_bytes())

    @classmethod
    def load(cls, path: Union[str, Path]) -> "MotionCorpus":
        """Read a corpus written by :meth:`save`; a truncated or altered file raises :class:`CacheError`."""
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as z:
                frames, lengths = z["frames"], z["lengths"]
                meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        except FileNotFoundError:
            raise
        except Exception as e:  # zipfile.BadZipFile, KeyError, ValueError, EOFError ...
            raise CacheError(f"{path}: not a readable MotionCorpus file ({type(e).__name__}: {e})") from e
        if meta.get("format") != "kinemic_aug.MotionCorpus":
            raise CacheError(f"{path}: not a MotionCorpus file (format={meta.get('format')!r})")
        digest = hashlib.sha256(frames.tobytes() + lengths.tobytes()).hexdigest()
        if digest != meta.get("sha256"):
            raise CacheError(f"{path}: checksum mismatch; the file is corrupt")
        clips, off = [], 0
        for info, n in zip(meta["clips"], lengths):
            n = int(n)
            clips.append(MotionClip(joints=frames[off:off + n, :info["num_joints"]].copy(), layout=info["layout"],
                                    fps=float(info["fps"]), captions=info["captions"], name=info["name"],
                                    source=info["source"], synthetic=bool(info["synthetic"]), meta=info["meta"]))
            off += n
        return cls(clips, name=meta.get("name", path.stem))

    def fingerprint(self) -> str:
        """Content hash (frames, captions, flags): cache keys depend on the exact corpus.

        Joints are hashed as native float32 (the dtype ``MotionClip`` stores), so a clip whose array
        was later swapped for float64 or big-endian data keeps its key: the key follows the values.
        """
        h = hashlib.sha256()
        for c in self.clips:
            h.update(c.name.encode())
            h.update(c.layout.encode())
            h.update(np.float64(c.fps).tobytes())
            h.update(np.ascontiguousarray(c.joints, dtype=np.float32).tobytes())
            h.update(json.dumps(c.captions).encode())
            h.update(b"1" if c.synthetic else b"0")
        return h.hexdigest()


def replace_joints(clip: MotionClip, joints: np.ndarray, **changes) -> MotionClip:
    """A copy of ``clip`` with new joints (and other fields); keeps the synthetic flag."""
    return replace(clip, joints=joints, **changes)
