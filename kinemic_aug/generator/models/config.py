"""The denoiser's shape (:class:`DenoiserConfig`): widths, depth, heads, conditioning, and named presets."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, Dict


@dataclass
class DenoiserConfig:
    """Size and conditioning of a :class:`MotionDenoiser`.

    Attributes:
        input_dim: per-frame feature size (263 for HumanML3D ``hml_vec``, 66 for SMPL-22 xyz).
        width: transformer width (MDM ``latent_dim``).
        layers, heads, ff_dim: encoder depth, attention heads, feed-forward width.
        dropout: dropout in positions, attention and feed-forward (MDM: 0.1).
        activation: ``"gelu"`` (MDM) or ``"relu"``.
        text_dim: input size of ``embed_text`` = the text encoder's output size (512 CLIP, 384 MiniLM);
            0 disables text conditioning.
        num_actions: rows of the learned action embedding; 0 disables it.
        cond_drop_text, cond_drop_action: training-time drop probabilities, applied independently.
        max_len: rows of the sinusoidal table; also the largest timestep index (MDM: 5000).
    """

    input_dim: int = 263
    width: int = 512
    layers: int = 8
    heads: int = 4
    ff_dim: int = 1024
    dropout: float = 0.1
    activation: str = "gelu"
    text_dim: int = 512
    num_actions: int = 0
    cond_drop_text: float = 0.1
    cond_drop_action: float = 0.1
    max_len: int = 5000

    def __post_init__(self) -> None:
        if self.width % self.heads:
            raise ValueError(f"width {self.width} is not divisible by heads {self.heads}")
        if self.activation not in ("gelu", "relu"):
            raise ValueError(f"activation must be 'gelu' or 'relu', got {self.activation!r}")
        for name in ("cond_drop_text", "cond_drop_action", "dropout"):
            p = getattr(self, name)
            if not 0.0 <= p <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {p}")

    @classmethod
    def preset(cls, name: str, **overrides: Any) -> "DenoiserConfig":
        """``"mdm"`` (8×512, FF 1024: the official HumanML3D model), ``"small"`` (4×256, a CPU-trainable
        generalist), ``"tiny"`` (2×64, unit tests). Keyword overrides win."""
        if name not in _PRESETS:
            raise ValueError(f"unknown denoiser preset {name!r}; choose from {sorted(_PRESETS)}")
        return cls(**{**_PRESETS[name], **overrides})

    def to_dict(self) -> Dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: Dict[str, Any]) -> "DenoiserConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in names})


_PRESETS: Dict[str, Dict[str, Any]] = {
    "mdm": dict(width=512, layers=8, heads=4, ff_dim=1024, dropout=0.1, text_dim=512, input_dim=263),
    "small": dict(width=256, layers=4, heads=4, ff_dim=512, dropout=0.1, text_dim=384),
    "tiny": dict(width=64, layers=2, heads=4, ff_dim=128, dropout=0.1, text_dim=384),
}
