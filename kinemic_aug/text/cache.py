"""On-disk embedding cache keyed by (encoder identifier, sha256 of the text).

Encoding a HumanML3D-sized caption pool (45k captions) takes minutes on a CPU and is repeated by
every pairing run, so vectors are kept on disk. Layout::

    cache_dir/
      weight_hashes.json                    # weights-hash memo (kinemic_aug.text.base.file_sha256)
      <encoder-slug>-<sha256(identifier)[:16]>/
        shard-<sha256(keys)[:16]>.npz       # keys [n] (sha256 hex of the text), emb [n, D] float32, meta

Each call that encodes something new writes one new shard atomically; many shards are merged into
one when there are more than ``max_shards``. Every shard carries the full encoder identifier, the
dimension and a sha256 of its arrays. A shard that cannot be read, fails its checksum or belongs to
another encoder is reported with a warning, deleted, and its texts are simply encoded again: a
corrupt cache is rebuilt, never served.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import warnings
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

from ..utils.io import atomic_write_bytes
from .base import PathLike, TextEncoder, l2_normalize, validate_texts

CACHE_FORMAT = "kinemic_aug.TextEmbeddingCache"
CACHE_VERSION = 1


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _checksum(keys: np.ndarray, emb: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update("\n".join(keys.tolist()).encode("ascii"))
    h.update(np.ascontiguousarray(emb, dtype=np.float32).tobytes())
    return h.hexdigest()


class EmbeddingStore:
    """The shard folder of one encoder identifier: load, look up, append, compact."""

    def __init__(self, root: PathLike, identifier: str, dim: int, max_shards: int = 32):
        self.identifier = identifier
        self.dim = int(dim)
        self.max_shards = int(max_shards)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", identifier.split(":", 1)[0]).strip("-") or "encoder"
        self.folder = Path(root) / f"{slug}-{hashlib.sha256(identifier.encode()).hexdigest()[:16]}"
        self.vectors: Dict[str, np.ndarray] = {}
        self.corrupt_shards: List[str] = []
        self._load()

    def _shards(self) -> List[Path]:
        return sorted(self.folder.glob("shard-*.npz")) if self.folder.is_dir() else []

    def _read_shard(self, path: Path) -> Dict[str, np.ndarray]:
        with np.load(path, allow_pickle=False) as z:
            keys, emb = z["keys"], z["emb"]
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        if meta.get("format") != CACHE_FORMAT or meta.get("identifier") != self.identifier:
            raise ValueError("shard belongs to another encoder or format")
        if emb.dtype != np.float32 or emb.ndim != 2 or emb.shape != (len(keys), self.dim):
            raise ValueError(f"embedding array has shape {emb.shape} dtype {emb.dtype}")
        if _checksum(keys, emb) != meta.get("sha256"):
            raise ValueError("checksum mismatch")
        return dict(zip(keys.tolist(), emb))

    def _load(self) -> None:
        for shard in self._shards():
            try:
                self.vectors.update(self._read_shard(shard))
            except Exception as e:  # BadZipFile, KeyError, ValueError, EOFError, OSError ...
                self.corrupt_shards.append(shard.name)
                warnings.warn(f"text embedding cache: {shard} is corrupt ({type(e).__name__}: {e}); "
                              "deleting it, its texts will be re-encoded", RuntimeWarning, stacklevel=3)
                try:
                    shard.unlink()
                except OSError:
                    pass

    def _write_shard(self, keys: List[str], emb: np.ndarray) -> Path:
        k = np.array(keys, dtype="U64")
        e = np.ascontiguousarray(emb, dtype=np.float32)
        meta = {"format": CACHE_FORMAT, "version": CACHE_VERSION, "identifier": self.identifier,
                "dim": self.dim, "count": len(keys), "sha256": _checksum(k, e)}
        buf = io.BytesIO()
        np.savez(buf, keys=k, emb=e, meta=np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8))
        name = f"shard-{hashlib.sha256(''.join(keys).encode()).hexdigest()[:16]}.npz"
        return atomic_write_bytes(self.folder / name, buf.getvalue())

    def add(self, keys: List[str], emb: np.ndarray) -> None:
        if not keys:
            return
        for k, v in zip(keys, emb):
            self.vectors[k] = v
        self._write_shard(keys, emb)
        shards = self._shards()
        if len(shards) > self.max_shards:
            self.compact(shards)

    def compact(self, old: Optional[List[Path]] = None) -> None:
        """Merge all shards into one (written before the old ones are removed)."""
        old = self._shards() if old is None else old
        keys = sorted(self.vectors)
        new = self._write_shard(keys, np.stack([self.vectors[k] for k in keys]))
        for s in old:
            if s != new:
                try:
                    s.unlink()
                except OSError:
                    pass


class CachedTextEncoder(TextEncoder):
    """Wrap an encoder with a persistent per-text cache.

    ``hits`` / ``misses`` count texts (after de-duplication within a call) served from the cache or
    sent to the wrapped encoder; the wrapped encoder's ``num_encoded`` shows the model work done.
    The identifier is the wrapped encoder's (cached vectors are exactly its outputs).
    """

    def __init__(self, encoder: TextEncoder, cache_dir: PathLike, max_shards: int = 32):
        super().__init__(batch_size=encoder.batch_size)
        self.encoder = encoder
        self.cache_dir = Path(cache_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        if getattr(encoder, "hash_memo_dir", None) is None:
            encoder.hash_memo_dir = self.cache_dir
        self.hash_memo_dir = self.cache_dir
        self.name = encoder.name
        self.coverage_floor = encoder.coverage_floor
        self.max_shards = max_shards
        self.hits = 0
        self.misses = 0
        self._store: Optional[EmbeddingStore] = None

    @property
    def dim(self) -> int:
        return self.encoder.dim

    @property
    def identifier(self) -> str:
        return self.encoder.identifier

    @property
    def store(self) -> EmbeddingStore:
        if self._store is None:
            self._store = EmbeddingStore(self.cache_dir, self.identifier, self.dim, self.max_shards)
        return self._store

    def _encode_batch(self, texts: List[str]) -> np.ndarray:  # pragma: no cover - encode() is overridden
        return self.encoder.encode(texts)

    def encode(self, texts: Sequence[str], batch_size: Optional[int] = None) -> np.ndarray:
        texts = validate_texts(texts)
        store = self.store
        keys = [text_key(t) for t in texts]
        todo: Dict[str, str] = {}
        for k, t in zip(keys, texts):
            if k not in store.vectors and k not in todo:
                todo[k] = t
        n_unique = len(set(keys))
        self.misses += len(todo)
        self.hits += n_unique - len(todo)
        if todo:
            new = self.encoder.encode(list(todo.values()), batch_size=batch_size)
            store.add(list(todo.keys()), new)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, k in enumerate(keys):
            out[i] = store.vectors[k]
        # an encoder of raw features (CLIP for MDM's denoiser, normalize=False) is served exactly as it encodes
        return out if getattr(self.encoder, "normalize", True) is False else l2_normalize(out)

    def __repr__(self) -> str:
        return f"CachedTextEncoder({self.encoder!r}, cache_dir={str(self.cache_dir)!r})"
