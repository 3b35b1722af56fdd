"""Checkpoint conversion: official MDM weights into this library's denoiser and checkpoint format.

:mod:`.mdm_keys` maps state-dict keys, :mod:`.mdm_files` reads MDM's files and checks them,
:mod:`.mdm` writes a checkpoint the augmenter loads (:func:`convert_mdm_checkpoint`).
"""
from .mdm import MDMConversion, convert_mdm_checkpoint
from .mdm_files import MDMRunArgs, check_mdm_architecture, load_mdm_checkpoint, read_mdm_args, read_mdm_checkpoint
from .mdm_keys import (StateDictMismatchError, check_state_dict, denoiser_config_from_mdm, denoiser_to_mdm_keys,
                       load_mdm_state_dict, mdm_to_denoiser_keys)

__all__ = ["MDMConversion", "convert_mdm_checkpoint", "MDMRunArgs", "check_mdm_architecture", "load_mdm_checkpoint",
           "read_mdm_args", "read_mdm_checkpoint", "StateDictMismatchError", "check_state_dict",
           "denoiser_config_from_mdm", "denoiser_to_mdm_keys", "load_mdm_state_dict", "mdm_to_denoiser_keys"]
