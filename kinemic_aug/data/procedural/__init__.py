"""Procedural generalist motion corpus (synthetic, captioned, SMPL-22).

The real text-to-motion corpus (HumanML3D) is not obtainable here, so the generalist generator
is pretrained on motions synthesised from a parametric body (:mod:`.body`), anatomical joint
angles (:mod:`.pose`), a library of everyday actions (:mod:`.actions`, ``library_*``), chaining
with transitions (:mod:`.compose`), a contact-driven root solver (:mod:`.ground`) and templated
captions (:mod:`.captions`); :mod:`.segments` splits chained clips into single-action sub-clips
with their own captions. Everything produced here is flagged synthetic.
"""
from .actions import (ACTIONS, GENERATOR_NAME, GENERATOR_VERSION, ActionSpec, get_action, list_actions,
                      synthesize_action)
from .body import Subject, bone_lengths, forward_kinematics, rest_offsets, sample_subject
from .captions import caption_segments
from .compose import compose_clip
from .generate import generate_clip, generate_corpus
from .segments import expand_segments, segment_subclips

__all__ = ["ACTIONS", "ActionSpec", "GENERATOR_NAME", "GENERATOR_VERSION", "Subject", "bone_lengths",
           "caption_segments", "compose_clip", "expand_segments", "forward_kinematics", "generate_clip", "generate_corpus",
           "get_action", "list_actions", "rest_offsets", "sample_subject", "segment_subclips", "synthesize_action"]
