"""Named augmenter recipes: a preset is a set of ``KineMICAugmenter`` arguments, merged under the caller's.

``default`` is the library's own recipe (per-class adapters, shots normalised with their own statistics,
DDIM 20 steps with the degenerate-sample filter). ``paper`` is the reference recipe as far as this library
can run it (:meth:`AdaptConfig.paper`, :meth:`SynthesisConfig.paper`, a synthetic set mirroring the class
counts of the training pool, shots normalised with the generalist's statistics). Only an arm run with
``paper`` may be called "the paper's recipe", and only with its budget stated when the steps were scaled down.

    aug = KineMICAugmenter.from_preset("paper", "msr.pkl", split="xsub_train", shots=10, adapt=dict(steps=300))

In an MMEngine config: ``augmenter=dict(preset='paper', adapt=dict(steps=300), ...)``. ``adapt`` and
``synthesis`` given as dicts replace single fields of the preset's configs; given as config objects they
replace the preset's whole config; every other argument replaces the preset's value.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Callable, Dict, Mapping

from ..adapt import AdaptConfig
from ..synthesis import SynthesisConfig


def _default() -> Dict[str, Any]:
    return {"adapt": AdaptConfig(), "synthesis": SynthesisConfig(), "synthetic_per_class": 50, "target_norm": "shots"}


def _paper() -> Dict[str, Any]:
    return {"adapt": AdaptConfig.paper(), "synthesis": SynthesisConfig.paper(), "synthetic_per_class": "mirror",
            "target_norm": "generalist"}


PRESETS: Dict[str, Callable[[], Dict[str, Any]]] = {"default": _default, "paper": _paper}


def _merge_config(base: Any, over: Any, cls: type) -> Any:
    if over is None:
        return base
    if isinstance(over, cls):
        return over
    if not isinstance(over, Mapping):
        raise TypeError(f"expected a {cls.__name__} or a dict of its fields, got {type(over).__name__}")
    if cls is AdaptConfig:
        return AdaptConfig.from_dict({**base.to_dict(), **over})
    kw = dict(over)
    if "compose_with" in kw:
        kw["compose_with"] = tuple(kw["compose_with"])
    return replace(base, **kw)


def preset_kwargs(name: str, overrides: Mapping[str, Any] = ()) -> Dict[str, Any]:
    """The augmenter arguments of preset ``name`` with ``overrides`` merged in (see the module docstring)."""
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
    out = PRESETS[name]()
    over = dict(overrides or {})
    out["adapt"] = _merge_config(out["adapt"], over.pop("adapt", None), AdaptConfig)
    out["synthesis"] = _merge_config(out["synthesis"], over.pop("synthesis", None), SynthesisConfig)
    if "synthetic_ratio" in over and over["synthetic_ratio"] is not None and "synthetic_per_class" not in over:
        out["synthetic_per_class"] = None  # a ratio asked instead of the preset's counts
    out.update(over)
    return out
