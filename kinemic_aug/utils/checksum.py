"""Content checksums for checkpoints (nested dicts of tensors and plain values).

A truncated checkpoint fails to unpickle, but a flipped bit inside a tensor loads silently as a
slightly different model. So every checkpoint carries ``checksum``: sha256 over its content
(tensors by dtype, shape and raw bytes; dict keys sorted), verified on load.
"""
from __future__ import annotations

import hashlib
from typing import Any, Dict

from ..errors import CacheError

KEY = "checksum"


def _feed(h: "hashlib._Hash", obj: Any) -> None:
    import torch

    if isinstance(obj, torch.Tensor):
        t = obj.detach().cpu().contiguous()
        h.update(b"T" + str(t.dtype).encode() + str(tuple(t.shape)).encode())
        h.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
    elif isinstance(obj, dict):
        h.update(b"D%d" % len(obj))
        for k in sorted(obj, key=lambda x: (type(x).__name__, str(x))):
            h.update(b"K" + repr(k).encode())
            _feed(h, obj[k])
    elif isinstance(obj, (list, tuple)):
        h.update(b"L%d" % len(obj))
        for v in obj:
            _feed(h, v)
    elif isinstance(obj, (bytes, bytearray)):
        h.update(b"B" + bytes(obj))
    else:
        h.update(b"V" + repr(obj).encode())


def content_checksum(payload: Dict[str, Any]) -> str:
    """sha256 of ``payload`` without its own ``checksum`` entry."""
    h = hashlib.sha256()
    _feed(h, {k: v for k, v in payload.items() if k != KEY})
    return h.hexdigest()


def with_checksum(payload: Dict[str, Any]) -> Dict[str, Any]:
    out = dict(payload)
    out[KEY] = content_checksum(out)
    return out


def verify_checksum(payload: Dict[str, Any], source: str = "") -> None:
    """Raise :class:`CacheError` if ``payload`` carries a checksum that does not match its content.
    Payloads written before checksums existed (no entry) pass."""
    want = payload.get(KEY)
    if want is not None and content_checksum(payload) != want:
        raise CacheError(f"{source}: checksum mismatch; the checkpoint is corrupt (rebuild or re-download it)")
