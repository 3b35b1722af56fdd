"""Text encoders by name: :func:`get_text_encoder` builds a registered one, :func:`register_text_encoder`
adds one (a new encoder plugs in here). The built-in ones (:mod:`.backends`) are registered on import.

The registry sits above the encoder modules and the cache, so nothing it imports imports it back.
"""
from __future__ import annotations

import inspect
from typing import Any, Callable, Dict, Iterable, List, Optional

from .backends import BUILTIN_ENCODERS
from .base import PathLike, TextEncoder
from .cache import CachedTextEncoder

_REGISTRY: Dict[str, Callable[..., TextEncoder]] = {}
_ALIASES: Dict[str, str] = {}


def register_text_encoder(name: str, factory: Callable[..., TextEncoder],
                          aliases: Iterable[str] = (), overwrite: bool = False) -> None:
    """Make ``factory(**kw)`` reachable as ``get_text_encoder(name, **kw)``."""
    key = name.lower()
    if key in _REGISTRY and not overwrite:
        raise ValueError(f"text encoder {name!r} is already registered")
    _REGISTRY[key] = factory
    for a in aliases:
        _ALIASES[a.lower()] = key


def available_text_encoders() -> List[str]:
    return sorted(_REGISTRY)


def _takes(fn: Callable[..., Any], arg: str) -> bool:
    """Whether ``fn`` accepts keyword ``arg`` (by name or through ``**kwargs``)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == arg or p.kind is inspect.Parameter.VAR_KEYWORD for p in params)


def get_text_encoder(name: str = "minilm", *, cache_dir: Optional[PathLike] = None, device: Optional[str] = None,
                     **kw) -> TextEncoder:
    """Build a registered encoder by name (``'minilm'``, ``'clip'``, ``'hashing'`` or an alias).

    With ``cache_dir`` the encoder is wrapped in a :class:`~kinemic_aug.text.cache.CachedTextEncoder`.
    ``device`` reaches encoders whose factory takes one (the shipped ones do); a registered factory without a
    ``device`` argument is built on its own default.
    """
    key = name.lower()
    key = _ALIASES.get(key, key)
    if key not in _REGISTRY:
        raise KeyError(f"unknown text encoder {name!r}; available: {', '.join(available_text_encoders())}")
    factory = _REGISTRY[key]
    if device is not None and _takes(factory, "device"):
        kw["device"] = device
    enc = factory(**kw)
    if cache_dir is not None:
        enc = CachedTextEncoder(enc, cache_dir)
    return enc


for _name, (_factory, _aliases) in BUILTIN_ENCODERS.items():
    register_text_encoder(_name, _factory, aliases=_aliases)
