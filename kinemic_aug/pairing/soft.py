"""Soft positive search: for every label, the top-k corpus clips whose captions mean the same thing.

KineMIC (Cazzola & Alboody, arXiv 2512.11654) encodes every caption of the text-to-motion corpus, represents a
clip by the mean of its caption embeddings, and retrieves the k = 250 nearest clips to each label caption by cosine
similarity; the prior motion of a training pair is then drawn uniformly from those neighbours. This
module does the same and keeps what the original throws away:

* the scores (for temperature-weighted sampling and for the coverage report);
* an optional similarity threshold, for small corpora where the 250th "neighbour" is unrelated;
* a per-class coverage report (best, k-th and mean top-k similarity) that warns when a label has no
  semantically close clip at all - the case where pairing silently feeds the generator noise.

Conventions (documented choices):
* Clip vector = mean of its L2-normalised caption embeddings, re-normalised, so the score is a cosine
  (KineMIC's k-NN uses the cosine metric on the un-normalised mean, which ranks identically).
* Class with several captions: ``class_reduce='mean'`` (default) compares clips with the re-normalised
  mean caption embedding (one query, like one caption per class in KineMIC); ``'max'`` scores a clip by
  its best match over the class captions (a clip matching any paraphrase well ranks high).
* Clips without captions never become neighbours. k is capped by the number of captioned clips.
* Ties are broken by corpus order (stable sort), so the result is a pure function of the inputs; sampling
  is a pure function of the seed.
"""
from __future__ import annotations

import hashlib
import io
import json
import math
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import CacheError, DataError
from ..text.base import TextEncoder
from ..text.labels import LabelSet
from ..utils.io import atomic_write_bytes, atomic_write_json
from .similarity import class_caption_embeddings, clip_embeddings, similarity_matrix, top_k_stable

PAIRING_FORMAT = "kinemic_aug.PairingResult"
PAIRING_VERSION = 1
DEFAULT_COVERAGE_FLOOR = 0.5


class CoverageWarning(UserWarning):
    """A label has no corpus clip whose captions are close to its own (see :class:`ClassCoverage`)."""


@dataclass
class PairingConfig:
    """Settings of :func:`soft_pair`.

    Attributes:
        k: neighbours per class (KineMIC ``--top_k_sp 250``); capped by the captioned corpus size.
        class_reduce: ``'mean'`` or ``'max'`` over a class's captions (module docstring).
        threshold: drop neighbours with cosine below this (``None`` keeps all k, as KineMIC).
        coverage_floor: a class whose best neighbour scores below this is flagged poorly covered;
            ``None`` uses the encoder's own ``coverage_floor`` (MiniLM 0.5, CLIP 0.8, hashing 0.2).
        warn: emit a :class:`CoverageWarning` listing poorly covered classes.
    """

    k: int = 250
    class_reduce: str = "mean"
    threshold: Optional[float] = None
    coverage_floor: Optional[float] = None
    warn: bool = True

    def __post_init__(self) -> None:
        if int(self.k) < 1:
            raise ValueError(f"k must be >= 1, got {self.k}")
        self.k = int(self.k)
        if self.class_reduce not in ("mean", "max"):
            raise ValueError(f"class_reduce must be 'mean' or 'max', got {self.class_reduce!r}")


@dataclass
class ClassCoverage:
    """How well one class is covered by the corpus.

    ``top1``: best cosine; ``kth_similarity``: cosine of the k-th neighbour (before the threshold);
    ``mean_topk``: mean over the k neighbours; ``n_kept``: neighbours left after the threshold;
    ``n_synthetic``: how many kept neighbours are synthetic clips; ``margin``: ``top1`` minus the median
    similarity over all captioned clips (how far the best match stands out from the corpus baseline,
    which for sentence encoders is well above 0 because all captions share "a person ...").
    """

    class_id: int
    name: str
    k: int
    n_kept: int
    top1: float
    kth_similarity: float
    mean_topk: float
    n_synthetic: int = 0
    margin: float = 0.0
    poorly_covered: bool = False
    reason: str = ""


@dataclass
class PairingResult:
    """Neighbours and scores per class; ``indices[c, j]`` is a clip index into the corpus (``-1`` where
    the threshold removed the neighbour, with ``scores`` NaN there), sorted by decreasing score."""

    class_ids: np.ndarray
    class_names: List[str]
    indices: np.ndarray
    scores: np.ndarray
    clip_names: List[str]
    coverage: List[ClassCoverage]
    config: PairingConfig
    encoder_id: str = ""
    corpus_fingerprint: str = ""
    clip_synthetic: List[bool] = field(default_factory=list)

    # ------------------------------------------------------------------ queries
    def _row(self, class_id: int) -> int:
        hits = np.flatnonzero(self.class_ids == int(class_id))
        if hits.size == 0:
            raise KeyError(f"class id {class_id} is not in this pairing (ids {self.class_ids.tolist()[:10]}...)")
        return int(hits[0])

    def neighbours(self, class_id: int) -> Tuple[np.ndarray, np.ndarray]:
        """(clip indices, cosine scores) kept for ``class_id``, best first."""
        r = self._row(class_id)
        keep = self.indices[r] >= 0
        return self.indices[r][keep].copy(), self.scores[r][keep].copy()

    def neighbour_names(self, class_id: int) -> List[str]:
        idx, _ = self.neighbours(class_id)
        return [self.clip_names[i] for i in idx]

    def probabilities(self, class_id: int, temperature: Optional[float] = None) -> np.ndarray:
        """Sampling distribution over :meth:`neighbours`: uniform when ``temperature`` is None or 0 (as
        KineMIC), else ``softmax(score / temperature)`` (lower temperature favours the best matches)."""
        idx, sc = self.neighbours(class_id)
        if idx.size == 0:
            raise DataError("no paired clips (threshold removed all neighbours)",
                            sample=f"class {class_id}", field="neighbours")
        if not temperature:
            return np.full(idx.size, 1.0 / idx.size)
        if temperature < 0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        z = sc.astype(np.float64) / float(temperature)
        z -= z.max()
        p = np.exp(z)
        return p / p.sum()

    def sample(self, class_id: int, n: int, rng: Union[None, int, np.random.Generator] = None,
               temperature: Optional[float] = None) -> np.ndarray:
        """``n`` clip indices drawn with replacement from the class's neighbours (see :meth:`probabilities`).
        ``rng`` is a seed or a ``numpy`` Generator; the same seed gives the same draw."""
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        idx, _ = self.neighbours(class_id)
        p = self.probabilities(class_id, temperature)
        return idx[gen.choice(idx.size, size=int(n), replace=True, p=p)]

    def poorly_covered(self) -> List[int]:
        return [c.class_id for c in self.coverage if c.poorly_covered]

    def coverage_table(self, max_rows: Optional[int] = None) -> str:
        """Plain-text coverage report, one line per class, poorly covered classes marked ``!``."""
        lines = [f"encoder: {self.encoder_id}", f"{'':1} {'id':>4}  {'top1':>6} {'k-th':>6} {'mean':>6} "
                 f"{'margin':>6} {'kept':>5} {'syn':>4}  class"]
        rows = self.coverage if max_rows is None else self.coverage[:max_rows]
        for c in rows:
            lines.append(f"{'!' if c.poorly_covered else ' '} {c.class_id:>4}  {c.top1:6.3f} {c.kth_similarity:6.3f} "
                         f"{c.mean_topk:6.3f} {c.margin:6.3f} {c.n_kept:>5} {c.n_synthetic:>4}  {c.name}")
        if max_rows is not None and len(self.coverage) > max_rows:
            lines.append(f"... {len(self.coverage) - max_rows} more classes")
        return "\n".join(lines)

    # ------------------------------------------------------------------ files
    def _meta(self) -> Dict[str, Any]:
        return {"format": PAIRING_FORMAT, "version": PAIRING_VERSION, "class_names": list(self.class_names),
                "clip_names": list(self.clip_names), "clip_synthetic": [bool(s) for s in self.clip_synthetic],
                "coverage": [asdict(c) for c in self.coverage], "config": asdict(self.config),
                "encoder_id": self.encoder_id, "corpus_fingerprint": self.corpus_fingerprint}

    def _checksum(self) -> str:
        h = hashlib.sha256()
        for a in (self.class_ids.astype(np.int64), self.indices.astype(np.int64), self.scores.astype(np.float32)):
            h.update(np.ascontiguousarray(a).tobytes())
        return h.hexdigest()

    def save(self, path: Union[str, Path]) -> Path:
        """Atomic write: ``.json`` (human-readable) or ``.npz`` (compact); both carry a checksum."""
        path = Path(path)
        meta = self._meta()
        meta["sha256"] = self._checksum()
        if path.suffix.lower() == ".json":
            meta.update(class_ids=self.class_ids.tolist(), indices=self.indices.tolist(),
                        scores=[[None if math.isnan(v) else float(v) for v in row] for row in self.scores.tolist()])
            return atomic_write_json(path, meta, ensure_ascii=False)
        buf = io.BytesIO()
        np.savez_compressed(buf, class_ids=self.class_ids.astype(np.int64), indices=self.indices.astype(np.int64),
                            scores=self.scores.astype(np.float32),
                            meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        return atomic_write_bytes(path, buf.getvalue())

    @classmethod
    def load(cls, path: Union[str, Path]) -> "PairingResult":
        """Read :meth:`save` output; anything truncated, altered or foreign raises :class:`CacheError`."""
        path = Path(path)
        try:
            if path.suffix.lower() == ".json":
                meta = json.loads(path.read_text(encoding="utf-8"))
                class_ids = np.asarray(meta["class_ids"], dtype=np.int64)
                indices = np.asarray(meta["indices"], dtype=np.int64).reshape(len(class_ids), -1)
                scores = np.asarray([[np.nan if v is None else v for v in row] for row in meta["scores"]],
                                    dtype=np.float32).reshape(indices.shape)
            else:
                with np.load(path, allow_pickle=False) as z:
                    class_ids, indices, scores = z["class_ids"], z["indices"], z["scores"]
                    meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            if meta.get("format") != PAIRING_FORMAT:
                raise ValueError(f"format is {meta.get('format')!r}")
            res = cls(class_ids=class_ids, class_names=list(meta["class_names"]), indices=indices, scores=scores,
                      clip_names=list(meta["clip_names"]), coverage=[ClassCoverage(**c) for c in meta["coverage"]],
                      config=PairingConfig(**meta["config"]), encoder_id=meta.get("encoder_id", ""),
                      corpus_fingerprint=meta.get("corpus_fingerprint", ""),
                      clip_synthetic=list(meta.get("clip_synthetic", [])))
        except FileNotFoundError:
            raise
        except Exception as e:
            raise CacheError(f"{path}: not a readable PairingResult ({type(e).__name__}: {e})") from e
        if res._checksum() != meta.get("sha256"):
            raise CacheError(f"{path}: checksum mismatch; the pairing file is corrupt")
        return res


# ---------------------------------------------------------------------------------- pairing
def pair_embeddings(class_emb: Sequence[np.ndarray], clip_emb: np.ndarray, config: Optional[PairingConfig] = None,
                    *, class_ids: Optional[Sequence[int]] = None, class_names: Optional[Sequence[str]] = None,
                    clip_valid: Optional[np.ndarray] = None, clip_names: Optional[Sequence[str]] = None,
                    clip_synthetic: Optional[Sequence[bool]] = None, encoder_id: str = "",
                    coverage_floor: Optional[float] = None, corpus_fingerprint: str = "") -> PairingResult:
    """Top-k retrieval on precomputed unit vectors (the step :func:`soft_pair` ends with).

    Args:
        class_emb: per class ``[n_c, D]`` (or ``[D]``) caption embeddings.
        clip_emb: ``[N, D]`` unit clip embeddings.
        clip_valid: ``[N]`` mask of clips that may be neighbours (default: all).
        coverage_floor: used when ``config.coverage_floor`` is None (default 0.5).
    """
    cfg = config or PairingConfig()
    clip_emb = np.asarray(clip_emb, dtype=np.float32)
    if clip_emb.ndim != 2:
        raise DataError(f"expected [N, D], got shape {clip_emb.shape}", field="clip_emb")
    n_clips, dim = clip_emb.shape
    valid = np.ones(n_clips, bool) if clip_valid is None else np.asarray(clip_valid, bool)
    cand = np.flatnonzero(valid)
    n_classes = len(class_emb)
    class_ids = np.arange(n_classes) if class_ids is None else np.asarray(class_ids, dtype=np.int64)
    class_names = [str(i) for i in class_ids] if class_names is None else list(class_names)
    clip_names = [f"clip{i}" for i in range(n_clips)] if clip_names is None else list(clip_names)
    synth = [False] * n_clips if clip_synthetic is None else [bool(s) for s in clip_synthetic]
    synth_arr = np.asarray(synth, dtype=bool)
    floor = cfg.coverage_floor if cfg.coverage_floor is not None else (
        coverage_floor if coverage_floor is not None else DEFAULT_COVERAGE_FLOOR)
    if cand.size == 0:
        raise DataError("no clip has a caption, nothing to pair with", field="captions")
    k = min(cfg.k, int(cand.size))

    sub = clip_emb[cand]
    sim = similarity_matrix(class_emb, sub, cfg.class_reduce, class_names)
    indices = np.full((n_classes, k), -1, dtype=np.int64)
    scores = np.full((n_classes, k), np.nan, dtype=np.float32)
    coverage: List[ClassCoverage] = []
    for r in range(n_classes):
        sims = sim[r]
        order = top_k_stable(sims, k)
        top_sc = sims[order].astype(np.float32)
        top_idx = cand[order]
        keep = top_sc >= cfg.threshold if cfg.threshold is not None else np.ones(k, bool)
        n_kept = int(keep.sum())
        # The threshold keeps a prefix (scores are sorted), so kept entries stay left-aligned.
        indices[r, :n_kept] = top_idx[keep]
        scores[r, :n_kept] = top_sc[keep]
        top1 = float(top_sc[0])
        reasons = []
        if top1 < floor:
            reasons.append(f"best match {top1:.3f} < coverage floor {floor:.3f}")
        if n_kept == 0:
            reasons.append(f"no neighbour above threshold {cfg.threshold}")
        coverage.append(ClassCoverage(class_id=int(class_ids[r]), name=class_names[r], k=k, n_kept=n_kept,
                                      top1=top1, kth_similarity=float(top_sc[-1]), mean_topk=float(top_sc.mean()),
                                      n_synthetic=int(synth_arr[top_idx[keep]].sum()),
                                      margin=top1 - float(np.median(sims)),
                                      poorly_covered=bool(reasons), reason="; ".join(reasons)))
    result = PairingResult(class_ids=class_ids, class_names=class_names, indices=indices, scores=scores,
                           clip_names=clip_names, coverage=coverage, config=cfg, encoder_id=encoder_id,
                           corpus_fingerprint=corpus_fingerprint, clip_synthetic=synth)
    bad = [c for c in coverage if c.poorly_covered]
    if bad and cfg.warn:
        names = ", ".join(f"{c.class_id} {c.name!r} ({c.reason})" for c in bad[:10])
        more = f" and {len(bad) - 10} more" if len(bad) > 10 else ""
        warnings.warn(f"{len(bad)} of {n_classes} classes are poorly covered by the corpus: {names}{more}. "
                      "Their soft pairs are semantically unrelated motions.", CoverageWarning, stacklevel=2)
    return result


def least_similar(labels: LabelSet, corpus: Any, encoder: TextEncoder, k: int,
                  class_reduce: str = "mean") -> Dict[int, np.ndarray]:
    """Per class id, the ``k`` captioned corpus clips whose captions match the class *worst* (lowest
    cosine first): contrastive negatives that depend on nothing but the class's own captions and the
    corpus, so one class's adapter does not change when other classes are added."""
    captions = [list(c.captions) for c in corpus.clips] if hasattr(corpus, "clips") else [list(c) for c in corpus]
    clip_emb, valid = clip_embeddings(captions, encoder)
    cand = np.flatnonzero(valid)
    if cand.size == 0:
        raise DataError("no corpus clip has a caption", field="captions")
    sim = similarity_matrix(class_caption_embeddings(labels, encoder), clip_emb[cand], class_reduce, labels.names)
    k = min(int(k), int(cand.size))
    return {int(cid): cand[top_k_stable(-sim[r], k)] for r, cid in enumerate(labels.ids)}


def soft_pair(labels: LabelSet, corpus: Any, encoder: TextEncoder,
              config: Optional[PairingConfig] = None) -> PairingResult:
    """Pair every class of ``labels`` with its top-k clips of ``corpus``.

    ``corpus`` is a :class:`~kinemic_aug.data.corpus.MotionCorpus` (clip names, synthetic flags and the
    corpus fingerprint are recorded) or a plain sequence of per-clip caption lists.
    """
    cfg = config or PairingConfig()
    if hasattr(corpus, "clips"):
        captions = [list(c.captions) for c in corpus.clips]
        names = [c.name for c in corpus.clips]
        synthetic = [bool(c.synthetic) for c in corpus.clips]
        fingerprint = corpus.fingerprint() if hasattr(corpus, "fingerprint") else ""
    else:
        captions = [list(c) if not isinstance(c, str) else c for c in corpus]
        names, synthetic, fingerprint = None, None, ""
    clip_emb, valid = clip_embeddings(captions, encoder)
    class_emb = class_caption_embeddings(labels, encoder)
    result = pair_embeddings(class_emb, clip_emb, cfg, class_ids=labels.ids, class_names=labels.names,
                             clip_valid=valid, clip_names=names, clip_synthetic=synthetic,
                             encoder_id=encoder.identifier, coverage_floor=encoder.coverage_floor,
                             corpus_fingerprint=fingerprint)
    return result
