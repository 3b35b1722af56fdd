"""Batches for pretraining: clips at one frame rate, their caption embeddings, crops (see :class:`MotionTextDataset`)."""
from __future__ import annotations


import logging
from typing import Any, Dict, List, Optional, Tuple

import numpy as np
import torch
from torch import Tensor

from ...data.corpus import MotionCorpus
from ...errors import DataError
from ...skeleton.layout import get_layout
from ...skeleton.resample import resample
from ..representation import MotionRepresentation
from ..conditioning import TextEmbedder, embed_texts
from .config import CROP_MODES

log = logging.getLogger(__name__)


def _parent_span(clip: Any) -> Optional[Tuple[str, float, float]]:
    """``(parent name, from, to)`` in seconds when ``clip`` is a captioned sub-clip of another clip:
    ``meta['segment_of']`` + ``meta['span']`` (procedural segments) or a HumanML3D sub-clip
    (``meta['id']`` names the file, ``meta['span']`` is non-zero)."""
    meta = clip.meta or {}
    span = meta.get("span")
    if not isinstance(span, (list, tuple)) or len(span) != 2:
        return None
    start, end = float(span[0]), float(span[1])
    parent = meta.get("segment_of")
    if parent is None and meta.get("id") not in (None, clip.name) and (start, end) != (0.0, 0.0):
        parent = meta["id"]
    if parent is None or not end > start >= 0:
        return None
    return str(parent), start, end


class MotionTextDataset:
    """Clips of one layout at one frame rate, their caption embeddings, and a batch sampler.

    ``spans[i]`` lists the captioned spans ``(start, end, caption ids)`` (frames at ``fps``) inside
    clip ``i``, taken from sub-clips of it present in the same corpus; ``crop="caption"`` batches
    crop a long clip only inside one of them.
    """

    def __init__(self, corpus: MotionCorpus, representation: MotionRepresentation,
                 text_embedder: Optional[TextEmbedder] = None, text_dim: int = 0, fps: float = 20.0,
                 fit_stats: bool = True):
        if len(corpus) == 0:
            raise DataError("empty corpus", source=corpus.name, field="clips")
        self.rep = representation
        self.fps = float(fps)
        want = representation.layout.name
        self.names: List[str] = []
        self.joints: List[np.ndarray] = []
        self.caption_ids: List[List[int]] = []
        captions: Dict[str, int] = {}
        for clip in corpus:
            if get_layout(clip.layout).name != want:
                raise DataError(f"layout {clip.layout!r} but the representation is for {want!r}; retarget first",
                                source=corpus.name, sample=clip.name, field="layout")
            j = resample(clip.joints, clip.fps, self.fps, sample=clip.name) if abs(clip.fps - self.fps) > 1e-6 \
                else clip.joints
            representation.check_joints(j, sample=clip.name)
            self.names.append(clip.name)
            self.joints.append(j)
            ids = []
            for c in clip.captions:
                c = c.strip()
                if c:
                    ids.append(captions.setdefault(c, len(captions)))
            self.caption_ids.append(ids)
        self.captions = list(captions)
        self.text_dim = int(text_dim)
        use_text = bool(self.text_dim) and text_embedder is not None and bool(self.captions)
        if use_text:
            emb = embed_texts(text_embedder, self.captions)
            if emb.shape[1] != self.text_dim:
                raise DataError(f"text embeddings are {emb.shape[1]}-d, the denoiser expects {self.text_dim}",
                                source=corpus.name, field="captions")
            self.text_emb = emb
        else:
            if self.text_dim and self.captions:
                log.warning("no text embedder given: training without text conditioning")
            self.text_emb = np.zeros((len(self.captions), max(self.text_dim, 1)), np.float32)
            self.caption_ids = [[] for _ in self.caption_ids]
        index = {n: i for i, n in enumerate(self.names)}
        self.spans: List[List[Tuple[int, int, List[int]]]] = [[] for _ in self.joints]
        for k, clip in enumerate(corpus):
            ps = _parent_span(clip)
            if ps is None or ps[0] not in index:
                continue
            i = index[ps[0]]
            start = int(round(ps[1] * self.fps))
            end = min(len(self.joints[i]), int(round(ps[2] * self.fps)))
            if end > start:
                self.spans[i].append((start, end, list(self.caption_ids[k])))
        # chained clips (several recorded segments) that no sub-clip spans: "caption" crops of them
        # fall back to the whole-clip caption; the trainer warns when they are too long to use whole
        self.unspanned_chains = [i for i, clip in enumerate(corpus)
                                 if len((clip.meta or {}).get("segments") or []) > 1 and not self.spans[i]]
        if fit_stats:
            representation.fit(self.joints, names=self.names)
        self.corpus_name = corpus.name
        self.corpus_fingerprint = corpus.fingerprint()
        #: per-clip draw probabilities (``None``: uniform); see ``PretrainConfig.balance``
        self.weights: Optional[np.ndarray] = None

    def __len__(self) -> int:
        return len(self.joints)

    def _random_crop(self, rng: np.random.Generator, i: int, min_frames: int,
                     max_frames: int) -> Tuple[int, int, List[int]]:
        """The original recipe: a random-length window anywhere, the whole clip's captions."""
        n = len(self.joints[i])
        length = min(n, int(rng.integers(min_frames, max_frames + 1)))
        start = int(rng.integers(0, n - length + 1))
        return start, length, self.caption_ids[i]

    def _caption_crop(self, rng: np.random.Generator, i: int, max_frames: int) -> Tuple[int, int, List[int]]:
        """A window whose caption describes it: the whole clip if it fits, else inside one
        captioned span (whole if the span fits, else ``max_frames`` of it), else the longest
        window of the clip with the clip's caption."""
        n = len(self.joints[i])
        if n <= max_frames:
            return 0, n, self.caption_ids[i]
        if self.spans[i]:
            lo, hi, ids = self.spans[i][int(rng.integers(len(self.spans[i])))]
        else:
            lo, hi, ids = 0, n, self.caption_ids[i]
        if hi - lo <= max_frames:
            return lo, hi - lo, ids
        return lo + int(rng.integers(0, hi - lo - max_frames + 1)), max_frames, ids

    def sample_batch(self, rng: np.random.Generator, batch_size: int, min_frames: int,
                     max_frames: int, crop: str = "random") -> Dict[str, Tensor]:
        """Random clips, each cropped per ``crop`` (see the module docstring; ``"random"``: crops
        of ``min_frames..max_frames``, shorter clips whole; ``"caption"``: whole clips or captioned
        spans, at most ``max_frames``), one random caption of the crop each. Returns ``x [B, T, D]``
        (normalised, zero-padded), ``mask [B, T]``, ``text_emb [B, text_dim]`` (zeros = no caption),
        ``has_text [B]`` and ``caption [B]`` (index into :attr:`captions`, -1 = none)."""
        if crop not in CROP_MODES:
            raise ValueError(f"crop must be one of {CROP_MODES}, got {crop!r}")
        feats, caps = [], []
        for _ in range(batch_size):
            if self.weights is not None:
                i = int(rng.choice(len(self.joints), p=self.weights))
            else:
                i = int(rng.integers(len(self.joints)))
            if crop == "random":
                start, length, ids = self._random_crop(rng, i, min_frames, max_frames)
            else:
                start, length, ids = self._caption_crop(rng, i, max_frames)
            j = self.joints[i][start:start + length]
            feats.append(self.rep.normalize(self.rep.encode(j, sample=self.names[i])))
            caps.append(ids[int(rng.integers(len(ids)))] if ids else -1)
        t_max = max(len(f) for f in feats)
        x = np.zeros((batch_size, t_max, self.rep.dim), np.float32)
        mask = np.zeros((batch_size, t_max), bool)
        for b, f in enumerate(feats):
            x[b, :len(f)] = f
            mask[b, :len(f)] = True
        has_text = np.array([c >= 0 for c in caps])
        text = np.zeros((batch_size, max(self.text_dim, 1)), np.float32)
        for b, c in enumerate(caps):
            if c >= 0:
                text[b] = self.text_emb[c]
        return {"x": torch.from_numpy(x), "mask": torch.from_numpy(mask),
                "text_emb": torch.from_numpy(text[:, :self.text_dim]) if self.text_dim else None,
                "has_text": torch.from_numpy(has_text), "caption": torch.tensor(caps, dtype=torch.long)}
