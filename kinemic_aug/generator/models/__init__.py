"""Networks: the denoiser that predicts clean motion, and the LoRA adapters that specialise it."""
from .denoiser import DenoiserConfig, MotionDenoiser
from .lora import LoRALinear, add_lora, load_lora, lora_config, lora_state_dict, merge_lora

__all__ = ["DenoiserConfig", "MotionDenoiser", "LoRALinear", "add_lora", "load_lora", "lora_config",
           "lora_state_dict", "merge_lora"]
