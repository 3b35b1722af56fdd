"""Content-addressed, checksummed, lock-protected store for adapters and synthetic sets.

An entry's key is the sha256 of everything that determines it (base checkpoint hash, text
encoder id, the exact shots, the source corpus and pairing, the config; ``adapt/input_digests.py`` and ``augmenter/cache_keys.py`` say how). So a
changed shot or config gives a new entry and never a stale one, and an unchanged one is a cache hit.

Layout: ``<root>/<kind>/<key[:2]>/<key>/`` holding

* ``payload.pt`` (``torch.save`` of tensors and plain types; read with ``weights_only=True``),
* ``meta.json`` (the key's parts, the payload's sha256 and size, written *after* the payload:
  an entry without a valid meta is incomplete and is never served),
* ``progress.pt`` while training runs (the resume point of an interrupted build),
* ``.lock`` (``fcntl.flock``; two processes building the same entry wait for each other instead of
  writing over each other). :meth:`ArtifactCache.try_lock` takes the same lock without waiting and
  writes its holder (host, pid, rank, start and heartbeat times) into the file, so a waiting process
  can say who it waits for. A lock never goes stale by its holder dying: the kernel releases an
  ``flock`` when its process ends, however it ends, and the next process takes it over; the file left
  behind is only a record (:meth:`ArtifactCache.lock_holder` reports a holder as alive only while it
  holds the lock). A holder that is alive but stuck (stopped, its heartbeat old) is reported, not broken.

A corrupt entry (checksum mismatch, unreadable payload) is reported through ``logging``, moved
aside as ``*.corrupt`` and rebuilt by the caller; it is never served.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any, Dict, Iterator, Optional, Union

import torch

from ..errors import CacheError
from ..utils.io import atomic_torch_save, atomic_write_json, sha256_file

log = logging.getLogger(__name__)


def make_key(parts: Dict[str, Any]) -> str:
    """Stable sha256 of a JSON-serialisable dict (sorted keys)."""
    blob = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ArtifactCache:
    """See the module docstring. ``kind`` separates adapters from synthetic sets etc."""

    def __init__(self, root: Union[str, Path]):
        self.root = Path(root)

    def entry_dir(self, kind: str, key: str) -> Path:
        return self.root / kind / key[:2] / key

    def progress_path(self, kind: str, key: str) -> Path:
        return self.entry_dir(kind, key) / "progress.pt"

    @contextlib.contextmanager
    def lock(self, kind: str, key: str, timeout: Optional[float] = None) -> Iterator[None]:
        """Exclusive lock on one entry (blocking; ``timeout`` seconds raises :class:`CacheError`)."""
        import fcntl

        d = self.entry_dir(kind, key)
        try:
            d.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise CacheError(f"cannot create cache folder {d}: {e}") from e
        with open(d / ".lock", "a+") as f:
            start = time.monotonic()
            while True:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if timeout is not None and time.monotonic() - start > timeout:
                        raise CacheError(f"timed out waiting for the lock on {d}") from None
                    time.sleep(0.2)
            try:
                yield
            finally:
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)

    def try_lock(self, kind: str, key: str, info: Optional[Dict[str, Any]] = None) -> Optional["HeldLock"]:
        """The entry's lock if it is free now (``None`` if another process holds it); never waits.
        ``info`` (e.g. the rank) is recorded in the lock file with host, pid and times."""
        import fcntl

        d = self.entry_dir(kind, key)
        try:
            d.mkdir(parents=True, exist_ok=True)
            f = open(d / ".lock", "a+")
        except OSError as e:
            raise CacheError(f"cannot create lock file in {d}: {e}") from e
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.close()
            return None
        except OSError as e:
            f.close()
            raise CacheError(f"cannot lock {d / '.lock'} ({e}); the cache folder needs a file system with flock") from e
        held = HeldLock(f, d / ".lock", {"host": socket.gethostname(), "pid": os.getpid(), "since": time.time(),
                                         **(info or {})})
        held.heartbeat()
        return held

    def lock_holder(self, kind: str, key: str) -> Optional[Dict[str, Any]]:
        """Who holds the entry's lock now (the record its holder wrote; ``{}`` if it wrote none), or
        ``None`` when nobody does: a record left by a process that died is not a holder."""
        import fcntl

        p = self.entry_dir(kind, key) / ".lock"
        if not p.exists():
            return None
        try:
            with open(p, "a+") as f:
                try:
                    fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    f.seek(0)
                    try:
                        return json.loads(f.read() or "{}")
                    except json.JSONDecodeError:
                        return {}
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
                return None
        except OSError:
            return None

    def load(self, kind: str, key: str) -> Optional[Dict[str, Any]]:
        """The payload if a complete, intact entry exists; ``None`` otherwise (a corrupt entry is
        moved aside and logged, so the caller rebuilds it)."""
        return self._load(kind, key)

    def _load(self, kind: str, key: str) -> Optional[Dict[str, Any]]:
        d = self.entry_dir(kind, key)
        meta_p, pay_p = d / "meta.json", d / "payload.pt"
        if not meta_p.exists():
            return None
        try:
            meta = json.loads(meta_p.read_text())
            if not pay_p.exists():
                raise CacheError("payload missing")
            if sha256_file(pay_p) != meta.get("sha256"):
                raise CacheError("checksum mismatch")
            payload = torch.load(pay_p, map_location="cpu", weights_only=True)
        except Exception as e:  # CacheError, JSON errors, unpickling errors
            self._quarantine(d, reason=f"{type(e).__name__}: {e}")
            return None
        return payload

    def meta(self, kind: str, key: str) -> Optional[Dict[str, Any]]:
        p = self.entry_dir(kind, key) / "meta.json"
        try:
            return json.loads(p.read_text()) if p.exists() else None
        except json.JSONDecodeError:
            return None

    def save(self, kind: str, key: str, payload: Dict[str, Any], parts: Optional[Dict[str, Any]] = None) -> Path:
        """Write payload then meta, each atomically; remove the progress file. A failure (full disk,
        read-only folder) raises :class:`CacheError` and leaves any previous entry as it was."""
        d = self.entry_dir(kind, key)
        try:
            d.mkdir(parents=True, exist_ok=True)
            pay = atomic_torch_save(d / "payload.pt", payload)
            atomic_write_json(d / "meta.json", {"key": key, "kind": kind, "sha256": sha256_file(pay),
                                                "bytes": pay.stat().st_size, "created": time.time(),
                                                "parts": parts or {}})
        except OSError as e:
            raise CacheError(f"cannot write cache entry {d}: {e}") from e
        with contextlib.suppress(FileNotFoundError):
            os.unlink(d / "progress.pt")
        return d

    def _quarantine(self, d: Path, reason: str) -> None:
        log.warning("cache entry %s is corrupt (%s); it will be rebuilt", d, reason)
        dest = d.with_name(d.name + f".corrupt-{int(time.time() * 1000)}")
        try:
            for name in ("payload.pt", "meta.json"):
                if (d / name).exists():
                    dest.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(d / name), str(dest / name))
        except OSError as e:
            log.warning("could not move corrupt entry aside (%s); deleting it", e)
            for name in ("payload.pt", "meta.json"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(d / name)


class HeldLock:
    """A lock taken by :meth:`ArtifactCache.try_lock`: :meth:`heartbeat` refreshes the holder record
    (a waiting process reports its age), :meth:`release` lets the next process in."""

    def __init__(self, f: Any, path: Path, info: Dict[str, Any]):
        self._f, self.path, self.info = f, path, info

    def heartbeat(self, **extra: Any) -> None:
        if self._f is None:
            return
        self.info.update(extra, beat=time.time())
        try:
            self._f.seek(0)
            self._f.truncate()
            self._f.write(json.dumps(self.info))
            self._f.flush()
        except OSError as e:  # the record is informative only; the flock is what excludes
            log.debug("could not write lock record %s: %s", self.path, e)

    def release(self) -> None:
        import fcntl

        if self._f is None:
            return
        try:
            self._f.seek(0)
            self._f.truncate()
        except OSError:
            pass
        fcntl.flock(self._f.fileno(), fcntl.LOCK_UN)
        self._f.close()
        self._f = None

    def __enter__(self) -> "HeldLock":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release()
