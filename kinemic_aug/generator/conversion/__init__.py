"""Checkpoint conversion: official MDM weights into this library's denoiser and checkpoint format."""
from .mdm import (StateDictMismatchError, convert_mdm_checkpoint, denoiser_config_from_mdm, denoiser_to_mdm_keys,
                  load_mdm_checkpoint, load_mdm_state_dict, read_mdm_checkpoint)

__all__ = ["StateDictMismatchError", "convert_mdm_checkpoint", "denoiser_config_from_mdm", "denoiser_to_mdm_keys",
           "load_mdm_checkpoint", "load_mdm_state_dict", "read_mdm_checkpoint"]
