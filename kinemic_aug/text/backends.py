"""The built-in text encoders' factories (registered by :mod:`.registry`).

The factories import their backend module on call, so asking for the hashing encoder never imports
torch-heavy code and asking for MiniLM never imports ``transformers``.
"""
from __future__ import annotations

from typing import Callable, Dict, Tuple

from .base import TextEncoder


def _minilm(**kw) -> TextEncoder:
    from .minilm import MiniLMTextEncoder
    return MiniLMTextEncoder(**kw)


def _clip(**kw) -> TextEncoder:
    from .clip import ClipTextEncoder
    return ClipTextEncoder(**kw)


def _hashing(**kw) -> TextEncoder:
    from .hashing import HashingTextEncoder
    return HashingTextEncoder(**kw)


#: name -> (factory, aliases)
BUILTIN_ENCODERS: Dict[str, Tuple[Callable[..., TextEncoder], Tuple[str, ...]]] = {
    "minilm": (_minilm, ("all-minilm-l6-v2", "all-MiniLM-L6-v2", "default")),
    "clip": (_clip, ("clip-vit-b32", "clip-vit-b-32", "vit-b/32")),
    "hashing": (_hashing, ("hash", "hashing-test-only")),
}
