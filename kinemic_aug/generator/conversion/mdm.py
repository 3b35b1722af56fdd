"""Import official MDM (``trans_enc``) checkpoints into :class:`~.denoiser.MotionDenoiser`.

Two levels:

* :func:`load_mdm_checkpoint` builds a denoiser from a ``model*.pt`` (EMA weights ``model_avg`` when
  present, else ``model``, else the bare state dict), checked against the run's ``args.json`` when
  one is given or lies next to the file;
* :func:`convert_mdm_checkpoint` (CLI: ``tools/convert_mdm.py``) writes a generator checkpoint the
  augmenter loads with ``generator=<path>``: the weights, the run's noise schedule, the text
  recipe (raw CLIP ViT-B/32 features of captions cut to 20 tokens,
  :data:`~kinemic_aug.text.clip.MDM_TEXT_CONFIG`) and the ``hml263`` representation with HumanML3D's
  own ``Mean.npy``/``Std.npy`` (an MDM normalises with exactly those).

Parameter-name mapping (MDM → this denoiser). Everything not listed maps to the identical name.

=====================================================================  ==================================================
MDM key                                                                 MotionDenoiser key
=====================================================================  ==================================================
``seqTransEncoder.layers.{i}.self_attn.in_proj_weight`` ``[3W, W]``     ``…self_attn.{q,k,v}_proj.weight`` (rows split in 3)
``seqTransEncoder.layers.{i}.self_attn.in_proj_bias`` ``[3W]``          ``…self_attn.{q,k,v}_proj.bias``
``embed_action.action_embedding`` ``[A, W]`` (action-conditioned MDM)   ``embed_action``
``clip_model.*`` / ``bert_model.*`` (if present)                        ignored (the text encoder lives elsewhere)
=====================================================================  ==================================================

Identical names: ``input_process.poseEmbedding``, ``output_process.poseFinal``,
``embed_timestep.time_embed.{0,2}``, ``embed_text``, ``seqTransEncoder.layers.{i}.self_attn.out_proj``,
``…linear1``, ``…linear2``, ``…norm1``, ``…norm2``, ``sequence_pos_encoder.pe`` and its alias
``embed_timestep.sequence_pos_encoder.pe`` (the sinusoid buffers are optional: they are a fixed formula).
``embed_action`` may be absent (KineMIC adds it fresh, N(0,1)).

Where the names come from: MDM's ``model/mdm.py`` builds ``input_process.poseEmbedding`` and
``output_process.poseFinal`` (Linears 263 ↔ latent), ``sequence_pos_encoder`` (a ``pe`` buffer
``[max_len, 1, W]``, shared with ``embed_timestep``), ``embed_timestep.time_embed`` (Linear, SiLU,
Linear), ``embed_text`` (Linear 512 → W) and ``seqTransEncoder`` = ``nn.TransformerEncoder`` of
``nn.TransformerEncoderLayer`` (whose own parameter names give the ``layers.{i}.*`` keys, GELU,
4 heads, FF 1024). Its training loop deletes ``clip_model.*`` before saving and, with ``--use_ema``,
saves ``{"model": ..., "model_avg": ...}``. Any difference from these assumptions surfaces as a
:class:`StateDictMismatchError` listing every missing, unexpected and mis-shaped key.
"""
from __future__ import annotations

import json
import re
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

import torch
from torch import Tensor

from ...errors import CacheError, DataError, MissingWeightsError
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


def _unwrap(obj: Mapping, use_ema: bool) -> Tuple[Dict[str, Tensor], str]:
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


def _read_mdm_weights(path: PathLike, use_ema: bool, allow_pickle: bool) -> Tuple[Dict[str, Tensor], str]:
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
    sd, which = _unwrap(obj, use_ema)
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
    return _read_mdm_weights(path, use_ema, allow_pickle)[0]


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


def _resolve_args(path: Path, args: Union[None, PathLike, Mapping[str, Any], MDMRunArgs],
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
    run = _resolve_args(path, args, required=False)
    sd, _ = _read_mdm_weights(path, use_ema, allow_pickle)
    check_mdm_architecture(sd, run, source=str(path), input_dim=263 if run is not None else None)
    if model is None:
        kw: Dict[str, Any] = {}
        if run is not None:
            kw = dict(cond_drop_text=run.cond_mask_prob, cond_drop_action=run.cond_mask_prob,
                      max_len=run.pos_embed_max_len)
        model = MotionDenoiser(denoiser_config_from_mdm(sd, heads=heads, **{**kw, **config_overrides}))
    load_mdm_state_dict(model, sd, source=str(path))
    return model


# ----------------------------------------------------------------------------- conversion
@dataclass
class MDMConversion:
    """What :func:`convert_mdm_checkpoint` wrote: the file, which weights, the step and the run."""

    path: Path
    weights: str
    step: int
    run: MDMRunArgs
    denoiser: DenoiserConfig

    def summary(self) -> Dict[str, Any]:
        return {"path": str(self.path), "weights": self.weights, "step": self.step,
                "denoiser": self.denoiser.to_dict(),
                "schedule": {"kind": self.run.noise_schedule, "num_steps": self.run.diffusion_steps}}


def _step_from_name(path: Path) -> int:
    m = re.search(r"model(\d+)\.pt$", path.name)
    return int(m.group(1)) if m else 0


def convert_mdm_checkpoint(model_path: PathLike, out: PathLike, *, humanml3d: Optional[PathLike] = None,
                           mean: Optional[PathLike] = None, std: Optional[PathLike] = None,
                           args: Union[None, PathLike, Mapping[str, Any], MDMRunArgs] = None,
                           use_ema: Optional[bool] = None, heads: int = 4,
                           allow_pickle: bool = False) -> MDMConversion:
    """Turn an official MDM run into a generator checkpoint the augmenter loads (``generator=out``).

    Args:
        model_path: the run's ``model*.pt`` (EMA or not, any MDM version with ``trans_enc``).
        out: where to write the generator checkpoint (atomically).
        humanml3d: the HumanML3D folder holding ``Mean.npy``/``Std.npy``; or give ``mean``/``std``.
        args: the run's ``args.json`` (default: next to ``model_path``; required), a dict or
            :class:`MDMRunArgs`.
        use_ema: take the EMA weights ``model_avg``; default: as the run sampled (its ``use_ema``), and
            like MDM, the live weights when the file has no ``model_avg``.

    The checkpoint records ``config["schedule"]`` (the run's ``noise_schedule`` and
    ``diffusion_steps``; MDM samples with the fixed-small posterior variance, as the DDPM sampler
    here), ``config["text"]`` (:data:`~kinemic_aug.text.clip.MDM_TEXT_CONFIG`), ``config["mdm"]``
    (the run's fields and whole ``args.json``), the ``hml263`` representation with the given
    statistics, and the sha256 of every input file under ``provenance``.

    Raises:
        DataError: missing or unsupported ``args.json``, missing or malformed Mean/Std, a checkpoint of
            another architecture; all checked before the (large) checkpoint is converted.
        MissingWeightsError: ``model_path`` does not exist.
    """
    from ...data.humanml3d import load_humanml3d_stats
    from ...text.clip import MDM_TEXT_CONFIG
    from ...utils.io import sha256_file
    from ..checkpoint import save_checkpoint
    from ..representation import get_representation

    model_path, out = Path(model_path), Path(out)
    if not model_path.exists():
        raise MissingWeightsError(f"MDM checkpoint not found: {model_path}. Download it from the MDM README links "
                                  "(e.g. humanml_enc_512_50steps/model000750000.pt); nothing is downloaded here.")
    run = _resolve_args(model_path, args, required=True)
    assert run is not None
    mean_a, std_a = load_humanml3d_stats(humanml3d, mean=mean, std=std)
    rep = get_representation("hml263", "smpl22").set_stats(mean_a, std_a)
    if not run.sigma_small:
        warnings.warn(f"{run.source}: sigma_small=false (fixed-large variance); the samplers here use the fixed-small "
                      "posterior variance MDM samples with by default", RuntimeWarning, stacklevel=2)
    want_ema = run.use_ema if use_ema is None else bool(use_ema)
    sd, which = _read_mdm_weights(model_path, want_ema, allow_pickle)
    check_mdm_architecture(sd, run, source=str(model_path))
    cfg = denoiser_config_from_mdm(sd, heads=heads, cond_drop_text=run.cond_mask_prob,
                                   cond_drop_action=run.cond_mask_prob, max_len=run.pos_embed_max_len)
    model = MotionDenoiser(cfg)
    load_mdm_state_dict(model, sd, source=str(model_path))
    step = _step_from_name(model_path)
    stat_files = {"mean": Path(mean) if mean else Path(humanml3d) / "Mean.npy",
                  "std": Path(std) if std else Path(humanml3d) / "Std.npy"}
    args_file = Path(run.source) if Path(run.source).is_file() else None
    mdm = {k: v for k, v in asdict(run).items() if k not in ("raw", "source")}
    payload = {
        "model": {k: v.detach().clone() for k, v in model.state_dict().items() if not k.endswith(".pe")},
        "config": {
            "denoiser": cfg.to_dict(),
            "schedule": {"kind": run.noise_schedule, "num_steps": int(run.diffusion_steps),
                         "variance": "fixed_small" if run.sigma_small else "fixed_large"},
            "text": dict(MDM_TEXT_CONFIG),
            "train": {"fps": 20.0, "max_frames": 196, "trained_by": "MDM (imported, not trained here)"},
            "mdm": {**mdm, "weights": which, "args": run.raw},
        },
        "representation": rep.state_dict(),
        "step": step,
        "corpus": {"name": "humanml3d:train", "note": "MDM's own pretraining data; not re-read here"},
        "provenance": {
            "converter": "kinemic_aug.generator.conversion.mdm.convert_mdm_checkpoint",
            "checkpoint": model_path.name, "checkpoint_sha256": sha256_file(model_path),
            "args_sha256": sha256_file(args_file) if args_file else None,
            "mean_sha256": sha256_file(stat_files["mean"]), "std_sha256": sha256_file(stat_files["std"]),
        },
    }
    save_checkpoint(out, payload)
    return MDMConversion(path=out, weights=which, step=step, run=run, denoiser=cfg)
