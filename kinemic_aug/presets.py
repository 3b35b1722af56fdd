"""Former home of the named augmenter recipes; they now live in :mod:`kinemic_aug.augmenter.presets`."""
from .augmenter.presets import PRESETS, preset_kwargs

__all__ = ["PRESETS", "preset_kwargs"]
