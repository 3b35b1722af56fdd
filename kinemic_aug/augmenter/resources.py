"""What the stages read but never change: the generalist checkpoint, the text encoders and the corpus.

Each is loaded on first use (a missing checkpoint is reported when it is needed, not at construction; a
run whose adapters are all cached still loads the corpus when mining or the contrastive term is on, since
their keys name the paired clips) and then shared by every stage.
"""
from __future__ import annotations

import logging
import warnings
from functools import cached_property
from pathlib import Path
from typing import Any, Optional

from ..data.corpus import MotionCorpus
from ..data.sources import corpus_identity, load_corpus
from ..errors import DataError
from ..generator.checkpoint import GeneratorBundle, load_generator
from ..text import CachedTextEncoder, get_text_encoder
from ..utils.device import resolve_device
from ..utils.io import sha256_file

log = logging.getLogger(__name__)


class Resources:
    """The generator (:attr:`generator`, :attr:`generator_sha`), the pairing encoder (:attr:`encoder`), the
    denoiser's own text features (:attr:`condition_encoder`) and the generalist corpus (:attr:`corpus`)."""

    def __init__(self, generator_path: Path, corpus_spec: str, encoder_name: str, device: str, text_cache: Path):
        self.generator_path = generator_path
        self.corpus_spec = corpus_spec
        self.encoder_name = encoder_name
        self.device = device
        self.text_cache = text_cache

    @property
    def text_device(self) -> str:
        """The text encoders' device: the augmenter's, so a GPU run encodes captions on the GPU; the identifier,
        and so every cache key, does not depend on it."""
        return str(resolve_device(self.device))

    @cached_property
    def generator(self) -> GeneratorBundle:
        if not self.generator_path.exists():
            raise DataError(f"generator checkpoint not found: {self.generator_path} (build it with "
                            "tools/pretrain_generator.py or pass generator=)", field="generator")
        return load_generator(self.generator_path, use_ema=True, device=str(resolve_device(self.device)))

    @cached_property
    def generator_sha(self) -> str:
        self.generator  # noqa: B018 - the checkpoint must load (and exist) before it is hashed
        return sha256_file(self.generator_path)

    @property
    def loaded_generator(self) -> Optional[GeneratorBundle]:
        """The generator if a stage has loaded it, else ``None`` (reports never load it)."""
        return self.__dict__.get("generator")

    @cached_property
    def encoder(self) -> CachedTextEncoder:
        return CachedTextEncoder(get_text_encoder(self.encoder_name, device=self.text_device), self.text_cache)

    @cached_property
    def condition_encoder(self) -> Any:
        """The text features the generator's denoiser was trained on: its checkpoint's ``config["text"]`` when that
        records a CLIP recipe (a converted MDM: raw ViT-B/32 features of at most 20 tokens, from the local CLIP
        weights), else the pairing encoder. Pairing always compares unit vectors of the named ``encoder``; the
        denoiser (shots, source clips, sampling) gets what it was trained on."""
        text_cfg = (self.generator.config or {}).get("text") or {}
        if str(text_cfg.get("encoder", "")).lower() == "clip":
            from ..text.clip import clip_encoder_from_config
            return CachedTextEncoder(clip_encoder_from_config(text_cfg, device=self.text_device), self.text_cache)
        return self.encoder

    @cached_property
    def corpus(self) -> MotionCorpus:
        corpus = load_corpus(self.corpus_spec)
        trained_on = (self.generator.corpus or {}).get("fingerprint")
        if trained_on and trained_on != corpus.fingerprint():
            warnings.warn(f"corpus {self.corpus_spec!r} is not the one the generator was trained on "
                          f"({(self.generator.corpus or {}).get('name')!r}); soft pairs will come from "
                          "clips the prior stream has not seen")
        log.info("generalist corpus %s", corpus)
        return corpus

    @cached_property
    def corpus_identity(self) -> str:
        return corpus_identity(self.corpus_spec)
