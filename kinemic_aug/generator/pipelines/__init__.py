"""Sampling pipelines: a loaded checkpoint plus a sampler, text in and joints out."""
from .text_to_motion import MotionGenerator

__all__ = ["MotionGenerator"]
