"""Skeleton data: real formats (PYSKL, NTU, HumanML3D, BVH, DeepMimic), the MotionCorpus container,
few-shot splits, and the shipped seed and procedural (synthetic) corpora."""
from .corpus import MotionClip, MotionCorpus
from .fewshot import FewShotSplit, make_few_shot_split
from .pyskl import get_split, load_pyskl, save_pyskl, validate_annotations
from .seed import load_seed_corpus
from .sources import DEFAULT_GENERALIST_CORPUS, load_corpus

__all__ = ["MotionClip", "MotionCorpus", "FewShotSplit", "make_few_shot_split", "load_pyskl", "save_pyskl",
           "get_split", "validate_annotations", "load_seed_corpus", "load_corpus", "DEFAULT_GENERALIST_CORPUS"]
