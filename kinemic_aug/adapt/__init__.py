"""Per-class (or joint) KineMIC adaptation of the generalist generator, cached."""
from .config import VARIANTS, AdaptConfig
from .data import SourcePool, TargetShots, pad_batch
from .trainer import KineMICTrainer, build_target_stream, masked_mse_per_sample

__all__ = ["AdaptConfig", "VARIANTS", "TargetShots", "SourcePool", "pad_batch", "KineMICTrainer",
           "build_target_stream", "masked_mse_per_sample"]
