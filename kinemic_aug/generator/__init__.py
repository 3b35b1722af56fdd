"""kinemic_aug.generator: the generalist text-to-motion diffusion model, in swappable parts.

* :mod:`.models`: :class:`MotionDenoiser` (MDM-style transformer, x0 prediction) and LoRA adapters;
* :mod:`.schedulers`: :class:`NoiseSchedule` (cosine/linear, q_sample, posterior, respacing) and the
  :class:`DDPMSampler` / :class:`DDIMSampler` with classifier-free guidance;
* :mod:`.pipelines`: :class:`MotionGenerator` (text in, joints out);
* :mod:`.training`: recipe, dataset, masked losses and :class:`GeneratorTrainer` (EMA, checkpoints, resume);
* :mod:`.conversion`: official MDM weights into this format;
* :mod:`.representation`: joints ↔ features with normalisation (:class:`XYZRepresentation`);
* :mod:`.conditioning`: any text embedder to caption features; :mod:`.length_groups`: length-bucketed batches;
* :mod:`.checkpoint`: safe checkpoint files and :func:`load_generator`.
"""
from .checkpoint import GeneratorBundle, load_checkpoint, load_generator, save_checkpoint
from .models.denoiser import DenoiserConfig, MotionDenoiser
from .models.lora import LoRALinear, add_lora, load_lora, lora_config, lora_state_dict, merge_lora
from .conversion import (StateDictMismatchError, denoiser_config_from_mdm, denoiser_to_mdm_keys,
                         load_mdm_checkpoint, load_mdm_state_dict, read_mdm_checkpoint)
from .pipelines.text_to_motion import MotionGenerator
from .training import GeneratorTrainer, MotionTextDataset, PretrainConfig, masked_mse, pretrain, save_loss_plot
from .representation import (HML263Representation, MotionRepresentation, XYZRepresentation, get_representation,
                             register_representation, representation_from_state_dict)
from .schedulers.samplers import DDIMSampler, DDPMSampler, classifier_free_guidance, guided_model_fn, make_sampler
from .schedulers.noise_schedule import NoiseSchedule, ScheduleConfig, make_betas

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
