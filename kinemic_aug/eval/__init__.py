"""Evaluation helpers: generation metrics on evaluator features."""
from .generation import (GenerationMetrics, diversity, fid, frechet_distance, multimodality,
                         summarize_replications)

__all__ = ["fid", "frechet_distance", "diversity", "multimodality", "GenerationMetrics", "summarize_replications"]
