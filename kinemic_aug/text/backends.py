"""Registration of the built-in text encoders (imported lazily by :func:`get_text_encoder`).

The factories import their backend module on call, so asking for the hashing encoder never imports
torch-heavy code and asking for MiniLM never imports ``transformers``.
"""
from __future__ import annotations

from .base import TextEncoder, _REGISTRY, register_text_encoder


def _minilm(**kw) -> TextEncoder:
    from .minilm import MiniLMTextEncoder
    return MiniLMTextEncoder(**kw)


def _clip(**kw) -> TextEncoder:
    from .clip import ClipTextEncoder
    return ClipTextEncoder(**kw)


def _hashing(**kw) -> TextEncoder:
    from .hashing import HashingTextEncoder
    return HashingTextEncoder(**kw)


if "minilm" not in _REGISTRY:
    register_text_encoder("minilm", _minilm, aliases=("all-minilm-l6-v2", "all-MiniLM-L6-v2", "default"))
    register_text_encoder("clip", _clip, aliases=("clip-vit-b32", "clip-vit-b-32", "vit-b/32"))
    register_text_encoder("hashing", _hashing, aliases=("hash", "hashing-test-only"))
