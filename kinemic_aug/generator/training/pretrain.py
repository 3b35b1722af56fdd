"""One call from corpus to trained generalist: :func:`pretrain` builds dataset, denoiser and trainer."""
from __future__ import annotations


import logging
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np

from ...data.corpus import MotionCorpus
from ...utils.rng import seeded
from ..models.denoiser import DenoiserConfig, MotionDenoiser
from ..representation import MotionRepresentation
from ..conditioning import TextEmbedder, embed_texts
from .config import PretrainConfig
from .dataset import MotionTextDataset
from .trainer import GeneratorTrainer

log = logging.getLogger(__name__)


def pretrain(corpus: MotionCorpus, out: Union[str, Path], *, representation: MotionRepresentation,
             text_embedder: Optional[TextEmbedder] = None, denoiser: Union[str, DenoiserConfig] = "small",
             config: Optional[PretrainConfig] = None, resume: bool = True,
             text_info: Optional[Dict[str, Any]] = None,
             val_corpus: Optional[MotionCorpus] = None,
             init_from: Optional[Union[str, Path]] = None) -> GeneratorTrainer:
    """Build dataset, denoiser and trainer, resume from ``out`` if it exists, and train.

    ``init_from``: a sampling-only checkpoint to continue from (:meth:`GeneratorTrainer.continue_from`) when
    ``out`` does not exist yet; once ``out`` is written, reruns resume from it exactly.

    ``denoiser``: a preset name (``"small"``, ``"mdm"``, ...) or a config; its ``input_dim`` is set
    from the representation, and ``text_dim`` from the embedder's output (0 without one).
    ``val_corpus``: held-out clips (never trained on) for the validation curve; normalised with the
    training corpus's statistics.
    """
    config = config or PretrainConfig()
    probe = embed_texts(text_embedder, ["a person walks forward."]) if text_embedder is not None and \
        not isinstance(text_embedder, Mapping) else None
    if isinstance(text_embedder, Mapping) and text_embedder:
        text_dim = int(np.asarray(next(iter(text_embedder.values()))).shape[-1])
    else:
        text_dim = int(probe.shape[1]) if probe is not None else 0
    if isinstance(denoiser, str):
        dcfg = DenoiserConfig.preset(denoiser, input_dim=representation.dim, text_dim=text_dim)
    else:
        dcfg = denoiser
    with seeded(config.seed):  # seeded weight init, caller's RNG untouched (CPU and CUDA)
        model = MotionDenoiser(dcfg)
    dataset = MotionTextDataset(corpus, representation, text_embedder, text_dim=dcfg.text_dim, fps=config.fps)
    if config.balance == "source_label":
        from ...data.corpora.balance import balanced_weights
        dataset.weights = balanced_weights(corpus)
    trainer = GeneratorTrainer(model, dataset, config, out=out, extra_config={"text": dict(text_info or {})})
    if val_corpus is not None and len(val_corpus):
        val = MotionTextDataset(val_corpus, representation, text_embedder, text_dim=dcfg.text_dim, fps=config.fps,
                                fit_stats=False)
        trainer.set_validation(val)
    if resume and Path(out).exists():
        trainer.resume(out)
        log.info("resumed from %s at step %d", out, trainer.step)
    elif init_from is not None:
        trainer.continue_from(init_from)
    trainer.train()
    return trainer
