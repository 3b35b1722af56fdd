"""kinemic_aug.generator: the generalist text-to-motion diffusion model, in swappable parts.

* :mod:`.denoiser`: :class:`MotionDenoiser` (MDM-style transformer, x0 prediction) and its config;
* :mod:`.schedule`: :class:`NoiseSchedule` (cosine/linear, q_sample, posterior, respacing);
* :mod:`.sampler`: :class:`DDPMSampler`, :class:`DDIMSampler`, classifier-free guidance;
* :mod:`.representation`: joints ↔ features with normalisation (:class:`XYZRepresentation`);
* :mod:`.pretrain`: dataset, masked loss and :class:`GeneratorTrainer` (EMA, checkpoints, resume);
* :mod:`.checkpoint`: safe checkpoint files and :func:`load_generator`;
* :mod:`.lora`: LoRA adapters; :mod:`.mdm_import`: official MDM weights;
* :mod:`.pipeline`: :class:`MotionGenerator` (text in, joints out); :mod:`.toy`: a procedural test corpus.
"""
from .checkpoint import GeneratorBundle, load_checkpoint, load_generator, save_checkpoint
from .denoiser import DenoiserConfig, MotionDenoiser
from .lora import LoRALinear, add_lora, load_lora, lora_config, lora_state_dict, merge_lora
from .mdm_import import (StateDictMismatchError, denoiser_config_from_mdm, denoiser_to_mdm_keys,
                         load_mdm_checkpoint, load_mdm_state_dict, read_mdm_checkpoint)
from .pipeline import MotionGenerator
from .pretrain import GeneratorTrainer, MotionTextDataset, PretrainConfig, masked_mse, pretrain, save_loss_plot
from .representation import (HML263Representation, MotionRepresentation, XYZRepresentation, get_representation,
                             register_representation, representation_from_state_dict)
from .sampler import DDIMSampler, DDPMSampler, classifier_free_guidance, guided_model_fn, make_sampler
from .schedule import NoiseSchedule, ScheduleConfig, make_betas

__all__ = [
    "DenoiserConfig", "MotionDenoiser", "NoiseSchedule", "ScheduleConfig", "make_betas", "DDPMSampler",
    "DDIMSampler", "classifier_free_guidance", "guided_model_fn", "make_sampler", "MotionRepresentation",
    "XYZRepresentation", "HML263Representation", "get_representation", "register_representation", "representation_from_state_dict",
    "GeneratorTrainer", "MotionTextDataset", "PretrainConfig", "masked_mse", "pretrain", "save_loss_plot",
    "GeneratorBundle", "load_checkpoint", "load_generator", "save_checkpoint", "LoRALinear", "add_lora",
    "load_lora", "lora_config", "lora_state_dict", "merge_lora", "StateDictMismatchError",
    "denoiser_config_from_mdm", "denoiser_to_mdm_keys", "load_mdm_checkpoint", "load_mdm_state_dict",
    "read_mdm_checkpoint", "MotionGenerator",
]
