"""Per-class (or joint) KineMIC adaptation of the generalist generator, cached; batched and sharded over
processes for many classes (:mod:`.batched`, :mod:`.shard`)."""
from .config import VARIANTS, AdaptConfig
from .data import SourcePool, TargetShots, pad_batch
from .trainer import KineMICTrainer, build_target_stream, masked_mse_per_sample
from .batched import AdapterJob, BatchedKineMICTrainer  # noqa: E402  (after the trainer it builds on)

__all__ = ["AdaptConfig", "VARIANTS", "TargetShots", "SourcePool", "pad_batch", "KineMICTrainer",
           "build_target_stream", "masked_mse_per_sample", "AdapterJob", "BatchedKineMICTrainer"]
