"""The augmenter: few real shots per class in, real + synthetic training samples out.

:class:`KineMICAugmenter` (:mod:`.facade`) wires the stages, in data-flow order:

``inputs`` → ``shots`` → ``normalisation`` → ``paired_sources`` → ``source_pools`` → ``adapters`` →
``synthetic_sets`` → ``annotations`` (``retrieved`` replaces the last three for the no-generator baseline;
``cache_keys`` keys adapters and synthetic sets; ``resources`` loads generator, encoders and corpus;
``presets`` names recipes; ``reports`` says what happened per class).
"""
from .facade import DEFAULT_CACHE, DEFAULT_GENERATOR, KineMICAugmenter
from .inputs import SECOND_PERSON_SHARE
from .normalisation import TARGET_NORMS
from .reports import ClassReport

__all__ = ["KineMICAugmenter", "ClassReport", "DEFAULT_CACHE", "DEFAULT_GENERATOR", "TARGET_NORMS",
           "SECOND_PERSON_SHARE"]
