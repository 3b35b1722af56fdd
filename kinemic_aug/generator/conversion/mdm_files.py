"""Reading official MDM files: the weights (EMA when saved, pickle only when allowed), the run's ``args.json`` and checks that the architecture matches it."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from ...errors import CacheError, DataError, MissingWeightsError
from ..models.denoiser import MotionDenoiser
from .mdm_keys import PathLike, unwrap_mdm_weights, denoiser_config_from_mdm, load_mdm_state_dict


def read_mdm_weights(path: PathLike, use_ema: bool, allow_pickle: bool) -> Tuple[Dict[str, Tensor], str]:
    path = Path(path)
    if not path.exists():
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
    sd, which = unwrap_mdm_weights(obj, use_ema)
    bad = [k for k, v in sd.items() if not isinstance(v, Tensor)]
    if bad:
        raise CacheError(f"{path}: non-tensor entries in the state dict: {bad[:10]}")
    return sd, which


def read_mdm_checkpoint(path: Union[str, Path], use_ema: bool = True, allow_pickle: bool = False) -> Dict[str, Tensor]:
    """Read an MDM ``.pt`` with ``torch.load(weights_only=True)``; the EMA weights (``model_avg``) when
    ``use_ema`` and present, else ``model``, else the bare state dict.

    Some checkpoints carry non-tensor objects (an ``argparse.Namespace``); the safe loader refuses
    them and this raises :class:`~kinemic_aug.errors.CacheError` explaining the choice. Only for a
    file you trust, ``allow_pickle=True`` falls back to full unpickling (which can run code).
    """
    return read_mdm_weights(path, use_ema, allow_pickle)[0]


# ----------------------------------------------------------------------------- the run's args.json
@dataclass
class MDMRunArgs:
    """The fields of an MDM run's ``args.json`` that decide what its weights mean.

    Defaults are what a field's absence meant in older MDM versions (before ``--diffusion_steps``,
    ``--mask_frames``, ``--use_ema``, ``--text_encoder_type`` and ``--pos_embed_max_len`` existed:
    1000 steps, no frame mask, no EMA, CLIP, 5000 positions). ``raw`` keeps the whole file.
    """

    dataset: str = "humanml"
    arch: str = "trans_enc"
    latent_dim: int = 512
    layers: int = 8
    cond_mask_prob: float = 0.1
    text_encoder_type: str = "clip"
    mask_frames: bool = False
    pos_embed_max_len: int = 5000
    use_ema: bool = False
    diffusion_steps: int = 1000
    noise_schedule: str = "cosine"
    sigma_small: bool = True
    emb_before_mask: bool = False
    unconstrained: bool = False
    pred_len: int = 0
    context_len: int = 0
    source: str = "args"
    raw: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "args") -> "MDMRunArgs":
        """Typed fields from an ``args.json`` dict; a value of the wrong type is a :class:`DataError`
        naming ``source`` and the field."""
        kw: Dict[str, Any] = {}
        for f in fields(cls):
            if f.name in ("source", "raw") or f.name not in d or d[f.name] is None:
                continue
            v, want = d[f.name], type(f.default)
            ok = isinstance(v, bool) if want is bool else (
                isinstance(v, (int, float)) and not isinstance(v, bool) if want in (int, float) else isinstance(v, str))
            if not ok or (want is int and float(v) != int(v)):
                raise DataError(f"expected {want.__name__}, got {v!r}", source=source, field=f.name)
            kw[f.name] = want(v)
        return cls(source=source, raw=json.loads(json.dumps(dict(d))), **kw)

    def check_supported(self) -> None:
        """Refuse runs whose weights this denoiser cannot reproduce, naming the field."""
        def bad(name: str, why: str) -> DataError:
            return DataError(f"{name}={getattr(self, name)!r}: {why}", source=self.source, field=name)

        if self.arch != "trans_enc":
            raise bad("arch", "only MDM's transformer encoder ('trans_enc') maps onto MotionDenoiser")
        if self.dataset != "humanml":
            raise bad("dataset", "only HumanML3D models (263-d hml_vec, text-conditioned) are supported")
        if self.text_encoder_type != "clip":
            raise bad("text_encoder_type", "only CLIP-conditioned MDMs are supported")
        if self.emb_before_mask:
            raise bad("emb_before_mask", "this run drops the text after embed_text; MotionDenoiser drops it before")
        if self.pred_len or self.context_len:
            raise bad("pred_len" if self.pred_len else "context_len", "prefix-completion (DiP) models are not supported")
        if self.noise_schedule not in ("cosine", "linear"):
            raise bad("noise_schedule", "expected 'cosine' or 'linear'")
        if not 1 <= self.diffusion_steps <= 100000:
            raise bad("diffusion_steps", "expected a positive step count")


def read_mdm_args(path: PathLike) -> MDMRunArgs:
    """Parse and check an MDM run's ``args.json``.

    Raises:
        DataError: the file is missing, is not a JSON object, has a field of the wrong type, or
            describes a model this library cannot load (another architecture, dataset or text encoder).
    """
    path = Path(path)
    if not path.is_file():
        raise DataError("args.json not found: MDM writes it next to model*.pt; pass args= its path",
                        source=str(path), field="args.json")
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as e:
        raise DataError(f"not a readable JSON file ({type(e).__name__}: {e})", source=str(path),
                        field="args.json") from e
    if not isinstance(d, dict):
        raise DataError(f"expected a JSON object, got {type(d).__name__}", source=str(path), field="args.json")
    run = MDMRunArgs.from_dict(d, source=str(path))
    run.check_supported()
    return run


def resolve_args(path: Path, args: Union[None, PathLike, Mapping[str, Any], MDMRunArgs],
                  required: bool) -> Optional[MDMRunArgs]:
    if isinstance(args, MDMRunArgs):
        args.check_supported()
        return args
    if isinstance(args, Mapping):
        run = MDMRunArgs.from_dict(args)
        run.check_supported()
        return run
    if args is None:
        default = path.parent / "args.json"
        if not default.is_file() and not required:
            return None
        args = default
    return read_mdm_args(args)


# ----------------------------------------------------------------------------- architecture check
def check_mdm_architecture(sd: Mapping[str, Tensor], run: Optional[MDMRunArgs] = None,
                           source: str = "MDM checkpoint", input_dim: Optional[int] = 263) -> None:
    """Refuse a state dict that is not an MDM ``trans_enc`` (on ``input_dim``-wide frames: HumanML3D's
    263 unless None) or disagrees with its ``args.json``, naming the file and the key or field, before
    anything is built."""
    keys = list(sd)
    for prefix, arch in (("seqTransDecoder.", "trans_dec"), ("gru.", "gru")):
        if any(k.startswith(prefix) for k in keys):
            raise DataError(f"holds {prefix}* weights: an MDM '{arch}' model, only 'trans_enc' is supported",
                            source=source, field="arch")
    need = ("input_process.poseEmbedding.weight", "seqTransEncoder.layers.0.self_attn.in_proj_weight",
            "seqTransEncoder.layers.0.linear1.weight", "output_process.poseFinal.weight")
    missing = [k for k in need if k not in sd]
    if missing:
        raise DataError(f"not an MDM trans_enc checkpoint: no {missing[0]!r} (it has e.g. {keys[:3]})",
                        source=source, field=missing[0])
    w_in = sd["input_process.poseEmbedding.weight"]
    if w_in.dim() != 2 or (input_dim is not None and int(w_in.shape[1]) != input_dim):
        what = " (KIT-ML's 251-d features)" if w_in.dim() == 2 and int(w_in.shape[1]) == 251 else ""
        raise DataError(f"frame features are {tuple(w_in.shape[1:])}-d{what}, expected HumanML3D's {input_dim}",
                        source=source, field="input_process.poseEmbedding.weight")
    if run is None:
        return
    width = int(w_in.shape[0])
    layers = len({int(m.group(1)) for k in keys for m in [re.match(r"^seqTransEncoder\.layers\.(\d+)\.", k)] if m})
    for name, have, key in (("latent_dim", width, "input_process.poseEmbedding.weight"),
                            ("layers", layers, "seqTransEncoder.layers.*")):
        if getattr(run, name) != have:
            raise DataError(f"{run.source} says {name}={getattr(run, name)} but the weights have {have} ({key})",
                            source=source, field=name)
    if not run.unconstrained and "embed_text.weight" not in sd:
        raise DataError("a text-conditioned run without embed_text weights", source=source, field="embed_text.weight")


def load_mdm_checkpoint(path: Union[str, Path], model: Optional[MotionDenoiser] = None, use_ema: bool = True,
                        heads: int = 4, allow_pickle: bool = False,
                        args: Union[None, PathLike, Mapping[str, Any], MDMRunArgs] = None,
                        **config_overrides) -> MotionDenoiser:
    """Build (or fill) a :class:`MotionDenoiser` from an official MDM checkpoint file.

    ``args`` (a path, a dict or :class:`MDMRunArgs`; default: ``args.json`` next to the file, if it
    exists) is checked against the weights and sets the classifier-free-guidance drop rate
    (``cond_mask_prob``) and the position table length (``pos_embed_max_len``). ``use_ema`` takes
    ``model_avg`` when the file has it.
    """
    path = Path(path)
    run = resolve_args(path, args, required=False)
    sd, _ = read_mdm_weights(path, use_ema, allow_pickle)
    check_mdm_architecture(sd, run, source=str(path), input_dim=263 if run is not None else None)
    if model is None:
        kw: Dict[str, Any] = {}
        if run is not None:
            kw = dict(cond_drop_text=run.cond_mask_prob, cond_drop_action=run.cond_mask_prob,
                      max_len=run.pos_embed_max_len)
        model = MotionDenoiser(denoiser_config_from_mdm(sd, heads=heads, **{**kw, **config_overrides}))
    load_mdm_state_dict(model, sd, source=str(path))
    return model
