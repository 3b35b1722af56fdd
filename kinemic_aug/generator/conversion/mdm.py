"""Import official MDM (``trans_enc``) checkpoints into :class:`~..models.denoiser.MotionDenoiser`.

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

import re
import warnings
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Dict, Mapping, Optional, Union


from ...errors import MissingWeightsError
from ..models.denoiser import DenoiserConfig, MotionDenoiser
from .mdm_files import MDMRunArgs, check_mdm_architecture, read_mdm_weights, resolve_args
from .mdm_keys import PathLike, denoiser_config_from_mdm, load_mdm_state_dict


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
    run = resolve_args(model_path, args, required=True)
    assert run is not None
    mean_a, std_a = load_humanml3d_stats(humanml3d, mean=mean, std=std)
    rep = get_representation("hml263", "smpl22").set_stats(mean_a, std_a)
    if not run.sigma_small:
        warnings.warn(f"{run.source}: sigma_small=false (fixed-large variance); the samplers here use the fixed-small "
                      "posterior variance MDM samples with by default", RuntimeWarning, stacklevel=2)
    want_ema = run.use_ema if use_ema is None else bool(use_ema)
    sd, which = read_mdm_weights(model_path, want_ema, allow_pickle)
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
            # the name converted checkpoints have always recorded (kept, so a reconversion is byte-identical)
            "converter": "kinemic_aug.generator.mdm_import.convert_mdm_checkpoint",
            "checkpoint": model_path.name, "checkpoint_sha256": sha256_file(model_path),
            "args_sha256": sha256_file(args_file) if args_file else None,
            "mean_sha256": sha256_file(stat_files["mean"]), "std_sha256": sha256_file(stat_files["std"]),
        },
    }
    save_checkpoint(out, payload)
    return MDMConversion(path=out, weights=which, step=step, run=run, denoiser=cfg)
