"""Former home of :class:`TargetDomain`; it now lives in :mod:`kinemic_aug.generator.dataset_space`."""
from .generator.dataset_space import GENERATOR_LAYOUT, TargetDomain

__all__ = ["GENERATOR_LAYOUT", "TargetDomain"]
