"""Synthesis: adapted generators sample synthetic sequences per class, and degenerate ones are dropped.

Lengths are drawn from the real shots' lengths (never from data the few-shot setting should not
see). Conditioning is the class caption(s) plus, for an adapted target stream, the class's action
id; *dual conditioning* swaps the caption for an unrelated one (``compose_with``) while keeping the
action id, which composes the two behaviours.

The filter (in the generator's SMPL-22 space, against statistics of the real shots) drops:

* **static** samples: mean per-frame joint speed (root-relative) below ``static_ratio`` × the
  slowest shot's;
* **exploding** samples: non-finite values, a bounding-box extent above ``explode_ratio`` × the
  largest shot extent, or bones whose length varies by more than ``bone_cv_max`` (relative std over
  time) - a body cannot stretch.

The requested count is met by drawing more: a first round of ``n × oversample`` samples, then rounds
sized by the pass rate seen so far, until ``n`` are kept or ``draw_limit × n`` have been drawn (the
stated bound on the cost of a class the generator cannot do). A class that stops at the bound is
short, and its :class:`FilterReport` says by how much and why (``shortfall``, ``reason``).

Kept samples are then re-chained to a real body (``rechain_bones``): the generator predicts joint
positions, so its bones stretch a little from frame to frame; each sample is rebuilt from the root
along its own bone directions with the bone lengths of one real shot of the class (the shot it was
anchored on, or a drawn one), so its bones stay constant and match a real body (after retargeting to
SMPL-22, real subjects differ by about a centimetre per bone, so this mostly removes stretch).

Modules: :mod:`.config` (the recipe), :mod:`.filter` (what is dropped and why), :mod:`.sampling` (one
class), :mod:`.batched` (all classes in one run), :mod:`kinemic_aug.augmenter.retrieved` (the no-generator baseline).
"""
from .batched import MULTI_ROWS, ClassRequest, synthesize_classes
from .config import SynthesisConfig
from .filter import FilterReport, ShotStats, bone_cv, classify, extent, motion_speed
from .sampling import sample_sequences, synthesize_class

__all__ = ["SynthesisConfig", "FilterReport", "ShotStats", "bone_cv", "classify", "extent", "motion_speed",
           "sample_sequences", "synthesize_class", "MULTI_ROWS", "ClassRequest", "synthesize_classes"]
