"""Pretraining the generalist: recipe, batches, losses, the trainer (with EMA and checkpoints) and its plot."""
from .config import PretrainConfig
from .dataset import MotionTextDataset
from .losses import masked_mse, masked_mse_per_sample, masked_velocity_mse, masked_velocity_mse_per_sample
from .plotting import save_loss_plot
from .pretrain import pretrain
from .trainer import GeneratorTrainer

__all__ = ["PretrainConfig", "MotionTextDataset", "masked_mse", "masked_mse_per_sample", "masked_velocity_mse",
           "masked_velocity_mse_per_sample", "save_loss_plot", "pretrain", "GeneratorTrainer"]
