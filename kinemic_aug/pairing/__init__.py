"""Soft pairing of few-shot HAR labels with captioned source motions (KineMIC stage 1).

:func:`soft_pair` (labels + corpus + text encoder -> :class:`PairingResult`), :func:`pair_embeddings` (the
same on precomputed vectors), coverage reporting with :class:`CoverageWarning`.
"""
from .similarity import class_caption_embeddings, clip_embeddings, similarity_matrix, top_k_stable
from .soft import ClassCoverage, CoverageWarning, PairingConfig, PairingResult, least_similar, pair_embeddings, soft_pair

__all__ = ["soft_pair", "pair_embeddings", "clip_embeddings", "class_caption_embeddings", "PairingConfig",
           "PairingResult", "ClassCoverage", "CoverageWarning",
           "similarity_matrix", "top_k_stable", "least_similar"]
