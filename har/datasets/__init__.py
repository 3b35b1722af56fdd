"""PYSKL-pickle dataset and skeleton pipeline steps."""
from .pose_dataset import PoseDataset, few_shot_ids, load_annotations
from .transforms import (FormatGCNInput, GenSkeFeat, PackGCNInputs, PoseDecode, PreNormalize3D, RandomGaussianNoise,
                         RandomRot, RandomScale, RandomShear, UniformSample, classic_augmentation)

__all__ = ["PoseDataset", "few_shot_ids", "load_annotations", "PreNormalize3D", "RandomRot", "RandomScale",
           "RandomShear", "RandomGaussianNoise", "GenSkeFeat", "UniformSample", "PoseDecode", "FormatGCNInput",
           "PackGCNInputs", "classic_augmentation"]
