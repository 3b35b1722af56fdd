"""The ``TextEncoder`` interface, the weights hash that goes into every identifier, and the registry.

Every backend (MiniLM, CLIP, the test-only hashing encoder) answers the same question: "give me one
unit-length float32 vector per sentence". Pairing compares label captions with corpus captions by
cosine similarity, so the vectors are L2-normalised here, once, for all backends.

An encoder's ``identifier`` names the model *and the exact weight bytes* (sha256 of the weight file):
the embedding cache is keyed by it, so swapping a checkpoint under the same folder name can never
serve stale vectors. Hashing 90 MB takes a noticeable fraction of a second, so the hash is computed
lazily, once per process, and memoised on disk in a small JSON next to the embedding cache (never next
to the weights, whose folder may be read-only), keyed by path, size and mtime.
"""
from __future__ import annotations

import json
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import numpy as np

from ..errors import DataError
from ..utils.io import atomic_write_json, sha256_bytes, sha256_file

PathLike = Union[str, os.PathLike]

HASH_MEMO_FILE = "weight_hashes.json"

_PROCESS_HASHES: Dict[Tuple[str, int, int], str] = {}
_HASH_LOCK = threading.Lock()


def l2_normalize(x: np.ndarray, eps: float = 1e-12) -> np.ndarray:
    """Row-wise L2 normalisation in float32; an all-zero row stays zero instead of becoming NaN."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    return (x / np.maximum(norms, eps)).astype(np.float32, copy=False)


def _file_key(path: Path) -> Tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), int(st.st_size), int(st.st_mtime_ns))


def _read_memo(memo_dir: Optional[Path]) -> Dict[str, Dict]:
    if memo_dir is None:
        return {}
    f = Path(memo_dir) / HASH_MEMO_FILE
    try:
        data = json.loads(f.read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # absent or corrupt memo: recompute (a memo is never trusted over the file itself)


def file_sha256(path: PathLike, memo_dir: Optional[PathLike] = None) -> str:
    """sha256 of one weight file, memoised per process and, when ``memo_dir`` is given, on disk.

    The memo entry is keyed by the resolved path and only reused while the file's size and mtime are
    unchanged, so an edited or replaced file is re-hashed.
    """
    path = Path(path)
    key = _file_key(path)
    with _HASH_LOCK:
        if key in _PROCESS_HASHES:
            return _PROCESS_HASHES[key]
    memo_dir_p = Path(memo_dir) if memo_dir is not None else None
    memo = _read_memo(memo_dir_p)
    entry = memo.get(key[0])
    if isinstance(entry, dict) and entry.get("size") == key[1] and entry.get("mtime_ns") == key[2] \
            and isinstance(entry.get("sha256"), str) and len(entry["sha256"]) == 64:
        digest = entry["sha256"]
    else:
        digest = sha256_file(path)
        if memo_dir_p is not None:
            memo = _read_memo(memo_dir_p)  # re-read: another process may have added entries meanwhile
            memo[key[0]] = {"size": key[1], "mtime_ns": key[2], "sha256": digest}
            try:
                atomic_write_json(memo_dir_p / HASH_MEMO_FILE, memo, sort_keys=True)
            except OSError:
                pass  # a read-only cache folder only costs a re-hash next time
    with _HASH_LOCK:
        _PROCESS_HASHES[key] = digest
    return digest


def weights_sha256(paths: Sequence[PathLike], memo_dir: Optional[PathLike] = None) -> str:
    """One digest for a model's weight files: the file's own sha256 when there is one file, else the
    sha256 of the sorted per-file digests (sharded checkpoints)."""
    paths = [Path(p) for p in paths]
    if not paths:
        raise ValueError("no weight files to hash")
    digests = [file_sha256(p, memo_dir) for p in paths]
    if len(digests) == 1:
        return digests[0]
    return sha256_bytes("".join(sorted(digests)).encode("ascii"))


class TextEncoder(ABC):
    """Sentences in, unit-length ``float32 [N, D]`` embeddings out.

    Subclasses implement :meth:`_encode_batch` (raw vectors for one batch) and the ``dim`` /
    ``identifier`` properties; :meth:`encode` does validation, length-sorted batching and
    normalisation. ``num_encoded`` counts the sentences that really went through the model, which
    is how tests prove that a cache hit does no work.

    Attributes:
        batch_size: sentences per forward pass.
        hash_memo_dir: folder for the on-disk weights-hash memo (set by :class:`CachedTextEncoder`).
        coverage_floor: cosine similarity under which a label's best corpus match is considered
            unrelated by the pairing coverage report. Encoder-specific: CLIP text embeddings of
            unrelated sentences are far more similar to each other than MiniLM ones.
    """

    name: str = "text-encoder"
    coverage_floor: float = 0.5

    def __init__(self, batch_size: int = 64, hash_memo_dir: Optional[PathLike] = None):
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        self.batch_size = int(batch_size)
        self.hash_memo_dir: Optional[Path] = Path(hash_memo_dir) if hash_memo_dir is not None else None
        self.num_encoded = 0

    @property
    @abstractmethod
    def dim(self) -> int:
        """Embedding width D."""

    @property
    @abstractmethod
    def identifier(self) -> str:
        """Stable name of model + weights (including their sha256) + any setting that changes outputs."""

    @abstractmethod
    def _encode_batch(self, texts: List[str]) -> np.ndarray:
        """Raw (not necessarily normalised) vectors ``[len(texts), dim]`` for one batch."""

    def encode(self, texts: Sequence[str], batch_size: Optional[int] = None) -> np.ndarray:
        """Embed ``texts``; returns L2-normalised ``float32 [N, dim]`` in input order.

        Batches are formed from length-sorted sentences so that padding wastes little compute; the
        output order is the input order.
        """
        texts = validate_texts(texts)
        n = len(texts)
        out = np.zeros((n, self.dim), dtype=np.float32)
        if n == 0:
            return out
        bs = int(batch_size or self.batch_size)
        order = sorted(range(n), key=lambda i: len(texts[i]))
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            vecs = np.asarray(self._encode_batch([texts[i] for i in idx]), dtype=np.float32)
            if vecs.shape != (len(idx), self.dim):
                raise RuntimeError(f"{type(self).__name__} returned shape {vecs.shape}, "
                                   f"expected {(len(idx), self.dim)}")
            out[idx] = vecs
            self.num_encoded += len(idx)
        return l2_normalize(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"


def validate_texts(texts: Union[str, Iterable[str]], source: Optional[str] = None) -> List[str]:
    """A list of strings, or a :class:`DataError` naming the offending item.

    A bare string is rejected rather than silently split into characters.
    """
    if isinstance(texts, str):
        raise DataError("expected a sequence of strings, got a single str (wrap it in a list)",
                        source=source, field="texts")
    out = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise DataError(f"expected str, got {type(t).__name__}", source=source, sample=i, field="text")
        out.append(t)
    return out
