"""Sentence embeddings for pairing label captions with corpus captions.

* :class:`TextEncoder` - ``encode(texts) -> float32 [N, D]``, unit length; ``identifier`` names model and
  weight sha256; ``dim``.
* Backends: ``'minilm'`` (all-MiniLM-L6-v2, real offline weights, the default), ``'clip'`` (CLIP text
  tower from user-supplied local weights), ``'hashing'`` (deterministic, unit tests only).
* :class:`CachedTextEncoder` - persistent embedding cache with hit/miss counters.
* :class:`LabelSet` - class ids, names and captions (NTU RGB+D 120 and MSR Action3D ship with the package).

Backend modules import torch/transformers; they are loaded on first use.
"""
from .base import TextEncoder, file_sha256, l2_normalize, weights_sha256
from .registry import available_text_encoders, get_text_encoder, register_text_encoder
from .cache import CachedTextEncoder, EmbeddingStore
from .hashing import HashingTextEncoder
from .labels import LabelEntry, LabelSet, available_label_sets, load_label_set

__all__ = [
    "TextEncoder", "CachedTextEncoder", "EmbeddingStore", "HashingTextEncoder", "get_text_encoder",
    "register_text_encoder", "available_text_encoders", "l2_normalize", "file_sha256", "weights_sha256",
    "LabelEntry", "LabelSet", "load_label_set", "available_label_sets",
    "MiniLMTextEncoder", "ClipTextEncoder",
]


def __getattr__(name):  # lazy: keep `import kinemic_aug.text` free of torch model code
    if name == "MiniLMTextEncoder":
        from .minilm import MiniLMTextEncoder
        return MiniLMTextEncoder
    if name == "ClipTextEncoder":
        from .clip import ClipTextEncoder
        return ClipTextEncoder
    raise AttributeError(name)
