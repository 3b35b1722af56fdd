"""MDM state-dict keys to this denoiser's and back: the packed attention projection split into q/k/v, every other name kept; mismatches listed, never ignored."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from ...errors import CacheError
from ..models.denoiser import DenoiserConfig, MotionDenoiser


PathLike = Union[str, Path]

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


def unwrap_mdm_weights(obj: Mapping, use_ema: bool) -> Tuple[Dict[str, Tensor], str]:
    """MDM saves either a bare state dict or ``{'model': ..., 'model_avg': ...}`` (``--use_ema``).
    Returns the weights and which ones they are (``model_avg``, ``model`` or ``state_dict``)."""
    if "model_avg" in obj and use_ema and isinstance(obj["model_avg"], Mapping):
        return dict(obj["model_avg"]), "model_avg"
    if "model" in obj and isinstance(obj["model"], Mapping):
        return dict(obj["model"]), "model"
    return dict(obj), "state_dict"


def mdm_to_denoiser_keys(mdm_sd: Mapping[str, Tensor]) -> Tuple[Dict[str, Tensor], List[str], Dict[str, str]]:
    """Rename (and split) MDM tensors into this denoiser's names.

    Returns ``(converted, ignored, origin)``: ``ignored`` are ``clip_model.*`` keys; ``origin`` maps
    each converted key back to the MDM key it came from (for error messages).
    """
    out: Dict[str, Tensor] = {}
    origin: Dict[str, str] = {}
    ignored: List[str] = []
    for k, v in mdm_sd.items():
        if k.startswith(("clip_model.", "bert_model.")):
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
