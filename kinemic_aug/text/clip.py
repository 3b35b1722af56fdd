"""CLIP (ViT-B/32 or any size) text tower from local weights, through ``transformers``.

KineMIC pairs label captions with HumanML3D captions by CLIP ViT-B/32 text embeddings (512-d), and
MDM's ``embed_text`` expects that input. No CLIP weights can be downloaded here, so the user supplies
them, in one of two forms:

* a Hugging Face folder (``config.json`` + ``model.safetensors``/``pytorch_model.bin``, e.g. a copy of
  ``openai/clip-vit-base-patch32``; a full CLIP checkpoint works, its vision half is ignored), loaded
  with ``CLIPTextModelWithProjection.from_pretrained(..., local_files_only=True)``;
* an OpenAI / open_clip state dict (``.pt``/``.bin``/``.safetensors`` with ``token_embedding.weight``,
  ``positional_embedding``, ``transformer.resblocks.N.*``, ``ln_final``, ``text_projection``; an
  OpenAI TorchScript archive also works), mapped onto the same HF module by
  :func:`openai_to_hf_clip_text`.

Tokenisation follows CLIP: ``[<|startoftext|>] + BPE ids (at most 75) + [<|endoftext|>]``, padded to 77.
Tokens come from the folder's HF tokenizer files when present, else from the BPE merges file
``bpe_simple_vocab_16e6.txt.gz`` given by ``bpe_path=`` or ``$KINEMIC_CLIP_BPE``.

Two ways to use the features, because their consumers differ:

* pairing compares captions by cosine similarity: the default ``normalize=True`` gives unit vectors;
* MDM's ``embed_text`` was trained on the *raw* projected features (``encode_text(...).float()``, no
  unit normalisation) of captions cut to 20 BPE tokens (``clip.tokenize(context_length=22,
  truncate=True)``: start + 20 + end; the zero padding MDM appends cannot reach the end token through
  the causal mask). :data:`MDM_TEXT_CONFIG` records that recipe in a generator checkpoint and
  :func:`clip_encoder_from_config` (or :func:`mdm_clip_encoder`) rebuilds it: ``context_length=22,
  normalize=False, expected_dim=512``. MDM ran CLIP with float16 weights; this runs float32, so its
  features differ from MDM's by that rounding (not measured here: no CLIP weights on this machine).
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import numpy as np
import torch

from ..errors import CacheError, DataError, MissingWeightsError
from .base import PathLike, TextEncoder, validate_texts, weights_sha256
from .clip_bpe import EOT, SOT, build_clip_bpe_tokenizer

CLIP_DIR_ENV = "KINEMIC_CLIP_DIR"
CLIP_BPE_ENV = "KINEMIC_CLIP_BPE"
HF_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
STATE_DICT_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
HF_TOKENIZER_FILES = ("tokenizer.json", "vocab.json")

HOW_TO_PROVIDE = (
    "Provide CLIP text-tower weights locally (nothing is downloaded): either set {env} (or pass path=) to "
    "a Hugging Face folder with config.json + model.safetensors (or pytorch_model.bin) and tokenizer files "
    "(tokenizer.json, or vocab.json + merges.txt), e.g. a copy of openai/clip-vit-base-patch32; or point "
    "it at an OpenAI/open_clip state dict (ViT-B-32.pt, open_clip_pytorch_model.bin or .safetensors) and "
    "also give bpe_path= / {bpe} = the path of bpe_simple_vocab_16e6.txt.gz (shipped inside the "
    "open_clip_torch wheel: `pip install --no-deps open_clip_torch`)."
).format(env=CLIP_DIR_ENV, bpe=CLIP_BPE_ENV)


def _offline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


# ----------------------------------------------------------------------------- state-dict mapping
_RESBLOCK = re.compile(r"^transformer\.resblocks\.(\d+)\.(.+)$")
_BLOCK_NAMES = {"ln_1": "layer_norm1", "ln_2": "layer_norm2", "attn.out_proj": "self_attn.out_proj",
                "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}


def _strip_prefixes(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    for prefix in ("module.", "model.", "state_dict."):
        if sd and all(k.startswith(prefix) for k in sd):
            sd = {k[len(prefix):]: v for k, v in sd.items()}
    return sd


def openai_to_hf_clip_text(sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename an OpenAI/open_clip CLIP state dict to ``CLIPTextModelWithProjection`` names.

    The fused attention input projection ``in_proj_weight`` ``[3W, W]`` is split into q/k/v;
    ``text_projection`` ``[W, P]`` (used as ``x @ P``) becomes the transposed ``Linear`` weight
    ``[P, W]``. Vision weights, ``logit_scale`` and the causal ``attn_mask`` buffer are dropped.
    """
    sd = _strip_prefixes(dict(sd))
    out: Dict[str, torch.Tensor] = {}
    for k, v in sd.items():
        if k == "token_embedding.weight":
            out["text_model.embeddings.token_embedding.weight"] = v
        elif k == "positional_embedding":
            out["text_model.embeddings.position_embedding.weight"] = v
        elif k.startswith("ln_final."):
            out["text_model.final_layer_norm." + k.split(".", 1)[1]] = v
        elif k == "text_projection":
            out["text_projection.weight"] = v.t().contiguous()
        else:
            m = _RESBLOCK.match(k)
            if not m:
                continue
            i, rest = m.group(1), m.group(2)
            base = f"text_model.encoder.layers.{i}."
            if rest in ("attn.in_proj_weight", "attn.in_proj_bias"):
                kind = rest.rsplit("_", 1)[1]  # weight | bias
                q, kk, vv = v.chunk(3, dim=0)
                for name, part in (("q_proj", q), ("k_proj", kk), ("v_proj", vv)):
                    out[f"{base}self_attn.{name}.{kind}"] = part.contiguous()
            else:
                sub, param = rest.rsplit(".", 1)
                if sub in _BLOCK_NAMES:
                    out[f"{base}{_BLOCK_NAMES[sub]}.{param}"] = v
    return out


def clip_text_config_from_state_dict(sd: Dict[str, torch.Tensor], hidden_act: str = "quick_gelu",
                                     head_width: int = 64) -> Dict[str, object]:
    """``CLIPTextConfig`` keyword arguments read off an OpenAI-format state dict.

    Heads are ``width // head_width`` (64 in every OpenAI/open_clip text tower). OpenAI weights use
    QuickGELU; open_clip models trained without ``-quickgelu`` use exact GELU (pass ``hidden_act='gelu'``).
    """
    sd = _strip_prefixes(dict(sd))
    for key in ("token_embedding.weight", "positional_embedding", "text_projection", "ln_final.weight"):
        if key not in sd:
            raise CacheError(f"not an OpenAI/open_clip CLIP state dict: key {key!r} missing")
    vocab, width = sd["token_embedding.weight"].shape
    layers = 1 + max(int(m.group(1)) for k in sd if (m := _RESBLOCK.match(k)))
    return dict(vocab_size=int(vocab), hidden_size=int(width),
                intermediate_size=int(sd["transformer.resblocks.0.mlp.c_fc.weight"].shape[0]),
                num_hidden_layers=layers, num_attention_heads=max(1, int(width) // head_width),
                max_position_embeddings=int(sd["positional_embedding"].shape[0]),
                projection_dim=int(sd["text_projection"].shape[1]), hidden_act=hidden_act,
                layer_norm_eps=1e-5, bos_token_id=int(vocab) - 2, eos_token_id=int(vocab) - 1,
                pad_token_id=0)


def load_state_dict_file(path: PathLike) -> Dict[str, torch.Tensor]:
    """Tensors of a ``.safetensors``, a ``torch.save`` dict (read with ``weights_only=True``) or an OpenAI
    TorchScript archive (``torch.jit.load``; only its tensors are kept)."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            return load_file(str(path))
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except RuntimeError as e:
            if "TorchScript" not in str(e) and "jit" not in str(e).lower():
                raise
            obj = torch.jit.load(str(path), map_location="cpu").state_dict()
    except (OSError, RuntimeError, ValueError, EOFError) as e:
        raise CacheError(f"{path}: unreadable CLIP weights ({type(e).__name__}: {e})") from e
    if isinstance(obj, torch.nn.Module):  # torch.load dispatches TorchScript archives to torch.jit.load
        obj = obj.state_dict()
    if isinstance(obj, dict) and "state_dict" in obj and isinstance(obj["state_dict"], dict):
        obj = obj["state_dict"]
    if not isinstance(obj, dict):
        raise CacheError(f"{path}: expected a state dict, got {type(obj).__name__}")
    return {k: v for k, v in obj.items() if isinstance(v, torch.Tensor)}


# ----------------------------------------------------------------------------- weights location
def resolve_clip_weights(path: Optional[PathLike]) -> Tuple[str, Path]:
    """(``'hf'`` | ``'state_dict'``, path) for a folder or file, or :class:`MissingWeightsError`."""
    if path is None:
        env = os.environ.get(CLIP_DIR_ENV)
        if not env:
            raise MissingWeightsError(f"No CLIP weights configured ({CLIP_DIR_ENV} is unset). " + HOW_TO_PROVIDE)
        path = env
    p = Path(path)
    if p.is_dir():
        if (p / "config.json").is_file() and any((p / f).is_file() for f in HF_WEIGHT_FILES):
            return "hf", p
        files = sorted(f for f in p.iterdir() if f.is_file() and f.suffix in STATE_DICT_SUFFIXES)
        if len(files) == 1:
            return "state_dict", files[0]
        found = ", ".join(f.name for f in p.iterdir()) or "nothing"
        raise MissingWeightsError(f"CLIP weights not found in {p} (it holds: {found}). " + HOW_TO_PROVIDE)
    if p.is_file() and p.suffix in STATE_DICT_SUFFIXES:
        return "state_dict", p
    raise MissingWeightsError(f"CLIP weights not found at {p}. " + HOW_TO_PROVIDE)


class _BackendTokenizer:
    """Uniform ``ids_without_specials(texts)`` over an HF tokenizer or a ``tokenizers.Tokenizer``."""

    def __init__(self, tok, bos_id: int, eos_id: int, pad_id: int, hf: bool):
        self.tok, self.bos_id, self.eos_id, self.pad_id, self.hf = tok, bos_id, eos_id, pad_id, hf

    def ids_without_specials(self, texts: List[str]) -> List[List[int]]:
        if self.hf:
            return list(self.tok(texts, add_special_tokens=False)["input_ids"])
        return [e.ids for e in self.tok.encode_batch(texts, add_special_tokens=False)]


class ClipTextEncoder(TextEncoder):
    """CLIP text tower -> projected, L2-normalised embeddings (512-d for ViT-B/32).

    Args:
        path: HF folder, state-dict file, or folder holding one state-dict file; default ``$KINEMIC_CLIP_DIR``.
        bpe_path: CLIP BPE merges (``bpe_simple_vocab_16e6.txt.gz``) for checkpoints without HF tokenizer
            files; default ``$KINEMIC_CLIP_BPE``.
        hidden_act: activation for state-dict checkpoints (``quick_gelu`` for OpenAI weights).
        context_length: tokens per sentence including start/end (77 for CLIP; MDM: 22, i.e. 20 BPE tokens).
        normalize: unit-length outputs (default); ``False`` returns the raw projected features MDM was
            trained on. Part of :attr:`identifier`.
        expected_dim: if given, the weights must produce features of this width; checked here, before
            anything is encoded (:class:`~kinemic_aug.errors.DataError` naming the weights file).
    """

    name = "clip"
    coverage_floor = 0.8  # CLIP text cosines of unrelated captions are typically 0.6-0.8

    def __init__(self, path: Optional[PathLike] = None, bpe_path: Optional[PathLike] = None,
                 hidden_act: str = "quick_gelu", context_length: int = 77, batch_size: int = 64,
                 device: str = "cpu", normalize: bool = True, expected_dim: Optional[int] = None, **kw):
        super().__init__(batch_size=batch_size, **kw)
        if int(context_length) < 3:
            raise DataError(f"context_length must be >= 3 (start, one token, end), got {context_length}",
                            field="context_length")
        self.normalize = bool(normalize)
        self.kind, self.path = resolve_clip_weights(path)
        bpe = bpe_path if bpe_path is not None else os.environ.get(CLIP_BPE_ENV)
        self.bpe_path = Path(bpe) if bpe else None
        self.hidden_act = hidden_act
        self.context_length = int(context_length)
        self.device = torch.device(device)
        self._model = None
        self._tok: Optional[_BackendTokenizer] = None
        self._ident: Optional[str] = None
        self._config_kwargs: Optional[Dict[str, object]] = None
        self._dim: Optional[int] = None
        if self.kind == "hf":
            self._tok_dir = self.path
        else:
            self._tok_dir = self.path.parent if any((self.path.parent / f).is_file()
                                                    for f in HF_TOKENIZER_FILES) else None
        if self._tok_dir is None and self.bpe_path is None:
            raise MissingWeightsError(f"{self.path}: a CLIP state dict needs a tokenizer. " + HOW_TO_PROVIDE)
        if self.bpe_path is not None and not self.bpe_path.is_file() and self._tok_dir is None:
            raise MissingWeightsError(f"CLIP BPE vocabulary not found at {self.bpe_path}. " + HOW_TO_PROVIDE)
        if expected_dim is not None and self.dim != int(expected_dim):
            src = self.weight_files()[0]
            field = "projection_dim" if self.kind == "hf" else "text_projection"
            raise DataError(f"these CLIP weights give {self.dim}-d text features, expected {int(expected_dim)}-d "
                            f"(MDM and KineMIC use CLIP ViT-B/32: 512)", source=str(src), field=field)

    # ------------------------------------------------------------------ metadata
    def weight_files(self) -> List[Path]:
        if self.kind == "hf":
            return [next(self.path / f for f in HF_WEIGHT_FILES if (self.path / f).is_file())]
        return [self.path]

    @property
    def dim(self) -> int:
        if self._dim is None:
            if self.kind == "hf":
                _offline()
                from transformers import CLIPTextConfig
                self._dim = int(CLIPTextConfig.from_pretrained(str(self.path), local_files_only=True).projection_dim)
            else:
                self._load()
        return int(self._dim)

    @property
    def identifier(self) -> str:
        if self._ident is None:
            digest = weights_sha256(self.weight_files(), self.hash_memo_dir)
            act = "" if self.kind == "hf" else f":act={self.hidden_act}"
            raw = "" if self.normalize else ":raw"
            self._ident = f"clip:{self.kind}:sha256={digest}:ctx={self.context_length}{act}{raw}"
        return self._ident

    # ------------------------------------------------------------------ loading
    def _load_tokenizer(self, bos_id: int, eos_id: int) -> _BackendTokenizer:
        if self._tok_dir is not None:
            _offline()
            from transformers import AutoTokenizer
            tok = AutoTokenizer.from_pretrained(str(self._tok_dir), local_files_only=True)
            bos = tok.convert_tokens_to_ids(SOT)
            eos = tok.convert_tokens_to_ids(EOT)
            pad = tok.pad_token_id if tok.pad_token_id is not None else eos
            return _BackendTokenizer(tok, bos, eos, pad, hf=True)
        tok = build_clip_bpe_tokenizer(self.bpe_path)
        return _BackendTokenizer(tok, tok.token_to_id(SOT), tok.token_to_id(EOT), 0, hf=False)

    def _load(self) -> None:
        if self._model is not None:
            return
        _offline()
        from transformers import CLIPTextConfig, CLIPTextModelWithProjection

        if self.kind == "hf":
            model = CLIPTextModelWithProjection.from_pretrained(str(self.path), local_files_only=True)
        else:
            sd = load_state_dict_file(self.path)
            cfg_kw = clip_text_config_from_state_dict(sd, hidden_act=self.hidden_act)
            model = CLIPTextModelWithProjection(CLIPTextConfig(**cfg_kw))
            mapped = openai_to_hf_clip_text(sd)
            missing, unexpected = model.load_state_dict(mapped, strict=False)
            missing = [k for k in missing if not k.endswith("position_ids")]
            if missing or unexpected:
                raise CacheError(f"{self.path}: state dict does not map onto the CLIP text tower "
                                 f"(missing {missing[:4]}, unexpected {unexpected[:4]})")
        model.eval().to(self.device)
        cfg = model.config
        tok = self._load_tokenizer(cfg.bos_token_id, cfg.eos_token_id)
        if cfg.eos_token_id not in (2, tok.eos_id):
            # HF pools at the first eos_token_id position: a mismatch would pool at the wrong token.
            raise DataError(f"tokenizer end id {tok.eos_id} != model config eos_token_id {cfg.eos_token_id}",
                            source=str(self.path), field="eos_token_id")
        if cfg.eos_token_id == 2 and tok.eos_id != max(tok.eos_id, tok.bos_id, tok.pad_id):
            raise DataError("legacy config (eos_token_id=2) pools at the largest id, which is not the end token",
                            source=str(self.path), field="eos_token_id")
        if self.context_length > cfg.max_position_embeddings:
            raise DataError(f"context_length {self.context_length} > model positions {cfg.max_position_embeddings}",
                            source=str(self.path), field="context_length")
        self._model, self._tok, self._dim = model, tok, int(cfg.projection_dim)

    # ------------------------------------------------------------------ encoding
    def tokenize(self, texts: List[str]) -> torch.Tensor:
        """``[N, context_length]`` int64: start, at most ``context_length - 2`` BPE ids, end, padding.

        Long sentences are truncated and still end with the end token (as ``clip.tokenize(truncate=True)``).
        """
        self._load()
        tok = self._tok
        n_body = self.context_length - 2
        out = torch.full((len(texts), self.context_length), tok.pad_id, dtype=torch.long)
        for r, ids in enumerate(tok.ids_without_specials(list(texts))):
            row = [tok.bos_id] + list(ids)[:n_body] + [tok.eos_id]
            out[r, :len(row)] = torch.tensor(row, dtype=torch.long)
        return out

    @torch.inference_mode()
    def _encode_batch(self, texts: List[str]) -> np.ndarray:
        ids = self.tokenize(texts).to(self.device)
        # No padding mask: attention is causal and the pooled end token only sees real tokens.
        return self._model(input_ids=ids).text_embeds.float().cpu().numpy()

    def encode(self, texts: List[str], batch_size: Optional[int] = None) -> np.ndarray:
        """Embed ``texts`` (float32 ``[N, dim]``, input order): unit vectors, or the raw projected features
        when ``normalize=False`` (the base class always normalises, so that path batches here)."""
        if self.normalize:
            return super().encode(texts, batch_size)
        texts = validate_texts(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        bs = int(batch_size or self.batch_size)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(texts), bs):
            idx = order[start:start + bs]
            out[idx] = np.asarray(self._encode_batch([texts[i] for i in idx]), dtype=np.float32)
            self.num_encoded += len(idx)
        return out


#: How MDM (and KineMIC's fine-tuned copy) turns a caption into ``embed_text``'s input; stored as
#: ``config["text"]`` of a converted MDM generator checkpoint.
MDM_TEXT_CONFIG: Dict[str, object] = {
    "encoder": "clip", "model": "ViT-B/32", "dim": 512, "normalize": False, "max_tokens": 20,
    "context_length": 22, "dtype_in_mdm": "float16", "uncond": "zeros",
}


def clip_encoder_from_config(text_cfg: Dict[str, object], path: Optional[PathLike] = None, **kw) -> ClipTextEncoder:
    """The :class:`ClipTextEncoder` that makes the features a generator's ``config["text"]`` describes
    (``normalize``, ``context_length``, ``dim``), from local weights ``path`` (default ``$KINEMIC_CLIP_DIR``).

    Raises:
        DataError: the config is not a CLIP one, or the weights give features of another width.
    """
    if str(text_cfg.get("encoder", "")).lower() != "clip":
        raise DataError(f"the generator's text features come from {text_cfg.get('encoder')!r}, not CLIP",
                        field="text.encoder")
    return ClipTextEncoder(path, context_length=int(text_cfg.get("context_length", 77)),
                           normalize=bool(text_cfg.get("normalize", True)),
                           expected_dim=int(text_cfg["dim"]) if text_cfg.get("dim") else None, **kw)


def mdm_clip_encoder(path: Optional[PathLike] = None, **kw) -> ClipTextEncoder:
    """CLIP ViT-B/32 text features exactly as MDM feeds them to ``embed_text`` (see :data:`MDM_TEXT_CONFIG`)."""
    return clip_encoder_from_config(MDM_TEXT_CONFIG, path, **kw)
