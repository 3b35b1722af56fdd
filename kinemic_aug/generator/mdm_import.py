"""Import official MDM (``trans_enc``) checkpoints into :class:`~.denoiser.MotionDenoiser`.

Parameter-name mapping (MDM → this denoiser). Everything not listed maps to the identical name.

=====================================================================  ==================================================
MDM key                                                                 MotionDenoiser key
=====================================================================  ==================================================
``seqTransEncoder.layers.{i}.self_attn.in_proj_weight`` ``[3W, W]``     ``…self_attn.{q,k,v}_proj.weight`` (rows split in 3)
``seqTransEncoder.layers.{i}.self_attn.in_proj_bias`` ``[3W]``          ``…self_attn.{q,k,v}_proj.bias``
``embed_action.action_embedding`` ``[A, W]`` (action-conditioned MDM)   ``embed_action``
``clip_model.*`` (if present)                                           ignored (the text encoder lives elsewhere)
=====================================================================  ==================================================

Identical names: ``input_process.poseEmbedding``, ``output_process.poseFinal``,
``embed_timestep.time_embed.{0,2}``, ``embed_text``, ``seqTransEncoder.layers.{i}.self_attn.out_proj``,
``…linear1``, ``…linear2``, ``…norm1``, ``…norm2``, ``sequence_pos_encoder.pe`` and its alias
``embed_timestep.sequence_pos_encoder.pe`` (the sinusoid buffers are optional: they are a fixed formula).
``embed_action`` may be absent (KineMIC adds it fresh, N(0,1)).

The names and shapes come from formats.md §13 and are partly unverified against a real
checkpoint; any difference surfaces as a :class:`StateDictMismatchError` that lists every missing,
unexpected and mis-shaped key, so a wrong assumption cannot load silently.
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from ..errors import CacheError
from .denoiser import DenoiserConfig, MotionDenoiser

_QKV = re.compile(r"^(seqTransEncoder\.layers\.\d+\.self_attn)\.in_proj_(weight|bias)$")
_OPTIONAL = ("sequence_pos_encoder.pe", "embed_timestep.sequence_pos_encoder.pe", "embed_action")


class StateDictMismatchError(CacheError):
    """A checkpoint's tensors do not fit the model; ``missing``, ``unexpected`` and ``mismatched``
    hold the offending keys (mismatched as ``(key, checkpoint_shape, model_shape)``)."""

    def __init__(self, missing: List[str], unexpected: List[str], mismatched: List[Tuple[str, tuple, tuple]],
                 source: str = "state dict"):
        self.missing, self.unexpected, self.mismatched = missing, unexpected, mismatched
        lines = [f"{source} does not match the MotionDenoiser "
                 f"({len(missing)} missing, {len(unexpected)} unexpected, {len(mismatched)} mis-shaped):"]
        lines += [f"  missing:     {k}" for k in missing]
        lines += [f"  unexpected:  {k}" for k in unexpected]
        lines += [f"  mis-shaped:  {k}: checkpoint {c} vs model {m}" for k, c, m in mismatched]
        super().__init__("\n".join(lines))


def _unwrap(obj: Mapping, use_ema: bool) -> Dict[str, Tensor]:
    """MDM saves either a bare state dict or ``{'model': ..., 'model_avg': ..., 'opt': ...}``."""
    if "model_avg" in obj and use_ema:
        return dict(obj["model_avg"])
    if "model" in obj and isinstance(obj["model"], Mapping):
        return dict(obj["model"])
    return dict(obj)


def mdm_to_denoiser_keys(mdm_sd: Mapping[str, Tensor]) -> Tuple[Dict[str, Tensor], List[str], Dict[str, str]]:
    """Rename (and split) MDM tensors into this denoiser's names.

    Returns ``(converted, ignored, origin)``: ``ignored`` are ``clip_model.*`` keys; ``origin`` maps
    each converted key back to the MDM key it came from (for error messages).
    """
    out: Dict[str, Tensor] = {}
    origin: Dict[str, str] = {}
    ignored: List[str] = []
    for k, v in mdm_sd.items():
        if k.startswith("clip_model."):
            ignored.append(k)
            continue
        m = _QKV.match(k)
        if m:
            prefix, kind = m.groups()
            if v.shape[0] % 3:
                out[k] = v  # cannot split: will be reported as unexpected
                origin[k] = k
                continue
            for part, chunk in zip(("q_proj", "k_proj", "v_proj"), v.chunk(3, dim=0)):
                out[f"{prefix}.{part}.{kind}"] = chunk
                origin[f"{prefix}.{part}.{kind}"] = k
            continue
        name = "embed_action" if k == "embed_action.action_embedding" else k
        out[name] = v
        origin[name] = k
    return out, ignored, origin


def denoiser_to_mdm_keys(sd: Mapping[str, Tensor]) -> Dict[str, Tensor]:
    """Inverse of :func:`mdm_to_denoiser_keys` (LoRA tensors are dropped; merge adapters first)."""
    out: Dict[str, Tensor] = {}
    for k, v in sd.items():
        if k.endswith(".lora_A") or k.endswith(".lora_B"):
            continue
        m = re.match(r"^(seqTransEncoder\.layers\.\d+\.self_attn)\.q_proj\.(weight|bias)$", k)
        if m:
            p, kind = m.groups()
            out[f"{p}.in_proj_{kind}"] = torch.cat([sd[f"{p}.{x}_proj.{kind}"] for x in "qkv"], 0)
            continue
        if re.match(r"^seqTransEncoder\.layers\.\d+\.self_attn\.(k|v)_proj\.", k):
            continue
        out["embed_action.action_embedding" if k == "embed_action" else k] = v
    return out


def check_state_dict(model: MotionDenoiser, converted: Mapping[str, Tensor], origin: Optional[Mapping[str, str]] = None,
                     source: str = "state dict") -> None:
    """Raise :class:`StateDictMismatchError` listing every key that does not fit ``model``.

    Keys are reported under the checkpoint's own names (``origin``), shapes as the checkpoint and the
    model would store them (a split ``in_proj_*`` is shown at its packed size).
    """
    origin = origin or {}
    own = {k: v for k, v in model.state_dict().items() if not (k.endswith(".lora_A") or k.endswith(".lora_B"))}
    missing = sorted(k for k in own if k not in converted and k not in _OPTIONAL)
    unexpected = sorted({origin.get(k, k) for k in converted if k not in own})
    mismatched = {}
    for k, v in converted.items():
        if k in own and tuple(v.shape) != tuple(own[k].shape):
            src = origin.get(k, k)
            packed = src != k and ".in_proj_" in src
            ck = (3 * v.shape[0],) + tuple(v.shape[1:]) if packed else tuple(v.shape)
            mk = (3 * own[k].shape[0],) + tuple(own[k].shape[1:]) if packed else tuple(own[k].shape)
            mismatched[src] = (src, ck, mk)
    if missing or unexpected or mismatched:
        raise StateDictMismatchError(missing, unexpected, sorted(mismatched.values()), source)


def load_mdm_state_dict(model: MotionDenoiser, mdm_sd: Mapping[str, Tensor], source: str = "state dict") -> List[str]:
    """Copy MDM tensors into ``model`` after checking every name and shape. Returns the ignored keys."""
    converted, ignored, origin = mdm_to_denoiser_keys(mdm_sd)
    check_state_dict(model, converted, origin, source)
    own = model.state_dict()
    with torch.no_grad():
        for k, v in converted.items():
            own[k].copy_(v.to(own[k].dtype))
    return ignored


def denoiser_config_from_mdm(mdm_sd: Mapping[str, Tensor], heads: int = 4, **overrides) -> DenoiserConfig:
    """Infer sizes from tensor shapes (heads cannot be inferred: MDM uses 4)."""
    try:
        w_in = mdm_sd["input_process.poseEmbedding.weight"]
        layers = {int(m.group(1)) for k in mdm_sd for m in [re.match(r"^seqTransEncoder\.layers\.(\d+)\.", k)] if m}
        ff = mdm_sd["seqTransEncoder.layers.0.linear1.weight"].shape[0]
    except KeyError as e:
        raise StateDictMismatchError([e.args[0]], [], [], "MDM checkpoint") from None
    text = mdm_sd.get("embed_text.weight")
    act = mdm_sd.get("embed_action.action_embedding")
    kw = dict(input_dim=int(w_in.shape[1]), width=int(w_in.shape[0]), layers=len(layers), heads=heads, ff_dim=int(ff),
              text_dim=int(text.shape[1]) if text is not None else 0,
              num_actions=int(act.shape[0]) if act is not None else 0)
    pe = mdm_sd.get("sequence_pos_encoder.pe")
    if pe is not None:
        kw["max_len"] = int(pe.shape[0])
    kw.update(overrides)
    return DenoiserConfig(**kw)


def read_mdm_checkpoint(path: Union[str, Path], use_ema: bool = True, allow_pickle: bool = False) -> Dict[str, Tensor]:
    """Read an MDM ``.pt`` with ``torch.load(weights_only=True)``.

    Some checkpoints carry non-tensor objects (an ``argparse.Namespace``); the safe loader refuses
    them and this raises :class:`~kinemic_aug.errors.CacheError` explaining the choice. Only for a
    file you trust, ``allow_pickle=True`` falls back to full unpickling (which can run code).
    """
    path = Path(path)
    if not path.exists():
        from ..errors import MissingWeightsError
        raise MissingWeightsError(f"MDM checkpoint not found: {path}. Download humanml_enc_512_50steps/"
                                  "model000750000.pt from the MDM README links and pass its path; nothing is downloaded here.")
    try:
        obj = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # UnpicklingError for foreign objects, RuntimeError/EOFError for broken files
        if not allow_pickle:
            raise CacheError(
                f"{path}: torch.load(weights_only=True) refused the file ({type(e).__name__}: {str(e)[:300]}). "
                "MDM checkpoints sometimes embed non-tensor objects such as an argparse Namespace. If you trust "
                "the file, call read_mdm_checkpoint(path, allow_pickle=True) once and re-save the state dict "
                "with torch.save(sd, new_path).") from e
        obj = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(obj, Mapping):
        raise CacheError(f"{path}: expected a state dict, got {type(obj).__name__}")
    sd = _unwrap(obj, use_ema)
    bad = [k for k, v in sd.items() if not isinstance(v, Tensor)]
    if bad:
        raise CacheError(f"{path}: non-tensor entries in the state dict: {bad[:10]}")
    return sd


def load_mdm_checkpoint(path: Union[str, Path], model: Optional[MotionDenoiser] = None, use_ema: bool = True,
                        heads: int = 4, allow_pickle: bool = False, **config_overrides) -> MotionDenoiser:
    """Build (or fill) a :class:`MotionDenoiser` from an official MDM checkpoint file."""
    sd = read_mdm_checkpoint(path, use_ema=use_ema, allow_pickle=allow_pickle)
    if model is None:
        model = MotionDenoiser(denoiser_config_from_mdm(sd, heads=heads, **config_overrides))
    load_mdm_state_dict(model, sd, source=str(path))
    return model
