"""Low-rank adapters (LoRA) for the denoiser, without peft.

:class:`LoRALinear` *is* an ``nn.Linear`` (same ``weight``/``bias`` parameters, same state-dict keys)
plus ``lora_A [r, in]`` and ``lora_B [out, r]``: ``y = x Wᵀ + b + (alpha/r) · dropout(x) Aᵀ Bᵀ``.
Keeping the base keys unchanged means a base checkpoint still loads into an adapted model
(``strict=False``) and the adapter is saved on its own by :func:`lora_state_dict`.

KineMIC's settings are the defaults: rank 16, alpha 32, dropout 0.1, B zero-initialised (so an
adapted model starts exactly equal to the base), A Kaiming-uniform, base weights, biases and all
LayerNorms frozen.

Target groups (``targets=``), by module name in :class:`~.denoiser.MotionDenoiser`:

=============  ==========================================================
``attn``       ``seqTransEncoder.layers.*.self_attn.{q,k,v,out}_proj``
``ff``         ``seqTransEncoder.layers.*.linear1`` / ``linear2``
``input``      ``input_process.poseEmbedding``
``output``     ``output_process.poseFinal``
``timestep``   ``embed_timestep.time_embed.0`` / ``.2``
=============  ==========================================================

:class:`StackedLoRALinear` holds ``K`` adapters of one layer as stacked tensors; an :class:`AdapterRoute`
shared by a model's stacked layers says which rows of a batch go through which adapter, so many classes'
adapters train or sample in one forward (:mod:`kinemic_aug.adapt.batched`). :func:`stacked_lora_state` /
:func:`load_stacked_lora` convert one adapter to and from :func:`lora_state_dict`'s format.
"""
from __future__ import annotations

import math
import re
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...errors import CacheError
from .layers import Dropout

LORA_TARGETS: Dict[str, str] = {
    "attn": r"seqTransEncoder\.layers\.\d+\.self_attn\.(q_proj|k_proj|v_proj|out_proj)",
    "ff": r"seqTransEncoder\.layers\.\d+\.(linear1|linear2)",
    "input": r"input_process\.poseEmbedding",
    "output": r"output_process\.poseFinal",
    "timestep": r"embed_timestep\.time_embed\.(0|2)",
}
DEFAULT_TARGETS = ("attn", "ff", "input", "output", "timestep")


class LoRALinear(nn.Linear):
    """``nn.Linear`` with a trainable low-rank update; see the module docstring."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rank: int = 16,
                 alpha: float = 32.0, dropout: float = 0.1, device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        if rank < 1:
            raise ValueError(f"LoRA rank must be >= 1, got {rank}")
        self.rank, self.alpha = int(rank), float(alpha)
        self.scaling = self.alpha / self.rank
        self.lora_dropout = Dropout(dropout)  # MotionDenoiser.set_fast_dropout switches it with the others
        self.lora_A = nn.Parameter(torch.empty(rank, in_features, device=device, dtype=dtype))
        self.lora_B = nn.Parameter(torch.zeros(out_features, rank, device=device, dtype=dtype))
        nn.init.kaiming_uniform_(self.lora_A, a=math.sqrt(5))

    @classmethod
    def wrap(cls, base: nn.Linear, rank: int, alpha: float, dropout: float) -> "LoRALinear":
        m = cls(base.in_features, base.out_features, bias=base.bias is not None, rank=rank, alpha=alpha,
                dropout=dropout, device=base.weight.device, dtype=base.weight.dtype)
        m.weight = base.weight  # share the base tensors: nothing is copied, keys stay the same
        m.bias = base.bias
        return m

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias) + \
            F.linear(F.linear(self.lora_dropout(x), self.lora_A), self.lora_B) * self.scaling

    def delta_weight(self) -> Tensor:
        return (self.lora_B @ self.lora_A) * self.scaling

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, rank={self.rank}, alpha={self.alpha}"


def _resolve_targets(targets: Iterable[str]) -> List[re.Pattern]:
    pats = []
    for t in targets:
        if t in LORA_TARGETS:
            pats.append(re.compile(LORA_TARGETS[t] + r"$"))
        else:
            raise ValueError(f"unknown LoRA target {t!r}; choose from {sorted(LORA_TARGETS)}")
    return pats


def _set_module(model: nn.Module, name: str, new: nn.Module) -> None:
    parent_name, _, child = name.rpartition(".")
    parent = model.get_submodule(parent_name) if parent_name else model
    setattr(parent, child, new)


def add_lora(model: nn.Module, targets: Sequence[str] = DEFAULT_TARGETS, rank: int = 16, alpha: float = 32.0,
             dropout: float = 0.1, train_also: Sequence[str] = ("embed_action",), freeze_base: bool = True) -> List[str]:
    """Wrap the targeted Linears in :class:`LoRALinear` and (by default) freeze everything else.

    ``train_also``: parameter-name prefixes kept trainable besides the adapters (KineMIC trains the
    new ``embed_action`` table). Returns the names of the wrapped modules.
    """
    pats = _resolve_targets(targets)
    wrapped = []
    for name, mod in list(model.named_modules()):
        if type(mod) is nn.Linear and any(p.match(name) for p in pats):
            _set_module(model, name, LoRALinear.wrap(mod, rank, alpha, dropout))
            wrapped.append(name)
    if not wrapped:
        raise ValueError(f"no Linear module matched LoRA targets {list(targets)}")
    if freeze_base:
        for pname, p in model.named_parameters():
            is_lora = pname.endswith(".lora_A") or pname.endswith(".lora_B")
            p.requires_grad_(is_lora or any(pname == t or pname.startswith(t + ".") for t in train_also))
    return wrapped


def lora_modules(model: nn.Module) -> Dict[str, LoRALinear]:
    return {n: m for n, m in model.named_modules() if isinstance(m, LoRALinear)}


def lora_state_dict(model: nn.Module) -> Dict[str, Tensor]:
    """Only the adapter tensors (``<module>.lora_A`` / ``.lora_B``), detached clones."""
    return {k: v.detach().clone() for k, v in model.state_dict().items()
            if k.endswith(".lora_A") or k.endswith(".lora_B")}


def lora_config(model: nn.Module) -> Dict:
    """Plain-type description of the adapters (rank/alpha per module), to save beside the tensors."""
    return {n: {"rank": m.rank, "alpha": m.alpha, "dropout": float(m.lora_dropout.p)}
            for n, m in lora_modules(model).items()}


def load_lora(model: nn.Module, sd: Dict[str, Tensor]) -> None:
    """Load adapter tensors into a model already passed through :func:`add_lora` with the same
    targets and rank; any missing, unexpected or mis-shaped key is reported, all at once."""
    own = {k: v for k, v in model.state_dict().items() if k.endswith(".lora_A") or k.endswith(".lora_B")}
    _copy_matching(own, sd, "the model")


def _copy_matching(own: Dict[str, Tensor], sd: Dict[str, Tensor], what: str) -> None:
    """Copy ``sd`` into the tensors ``own`` after checking that both have the same keys and shapes; every
    missing, unexpected or mis-shaped key is reported at once (a :class:`CacheError` naming ``what``)."""
    missing = sorted(set(own) - set(sd))
    unexpected = sorted(set(sd) - set(own))
    shapes = sorted(f"{k}: file {tuple(sd[k].shape)} vs model {tuple(own[k].shape)}"
                    for k in set(own) & set(sd) if tuple(sd[k].shape) != tuple(own[k].shape))
    if missing or unexpected or shapes:
        raise CacheError(f"LoRA state dict does not match {what}:\n" + "\n".join(
            [f"  missing: {k}" for k in missing] + [f"  unexpected: {k}" for k in unexpected] +
            [f"  shape: {s}" for s in shapes]))
    with torch.no_grad():
        for k, v in sd.items():
            own[k].copy_(v)


@torch.no_grad()
def merge_lora(model: nn.Module) -> List[str]:
    """Fold every adapter into its base weight and put a plain ``nn.Linear`` back (for fast sampling)."""
    merged = []
    for name, m in lora_modules(model).items():
        lin = nn.Linear(m.in_features, m.out_features, bias=m.bias is not None,
                        device=m.weight.device, dtype=m.weight.dtype)
        lin.weight.copy_(m.weight + m.delta_weight())
        if m.bias is not None:
            lin.bias.copy_(m.bias)
        lin.weight.requires_grad_(m.weight.requires_grad)
        if m.bias is not None:
            lin.bias.requires_grad_(m.bias.requires_grad)
        _set_module(model, name, lin)
        merged.append(name)
    return merged


# ---------------------------------------------------------------------------------------------- stacked
class AdapterRoute:
    """Which rows of a batch go through which adapter of a :class:`StackedLoRALinear`.

    ``segments``: ``(adapter, start, end)`` row ranges, contiguous and in row order, covering the batch.
    One route object is shared by every stacked layer of a model, so the caller sets it once per forward.
    """

    def __init__(self) -> None:
        self.segments: List[Tuple[int, int, int]] = []

    def set_segments(self, segments: Sequence[Tuple[int, int, int]]) -> None:
        segs = [(int(k), int(s), int(e)) for k, s, e in segments]
        pos = 0
        for k, s, e in segs:
            if s != pos or e <= s:
                raise ValueError(f"adapter segments must be contiguous, non-empty and in row order: {segs}")
            pos = e
        self.segments = segs

    @property
    def rows(self) -> int:
        return self.segments[-1][2] if self.segments else 0

    def uniform(self) -> Optional[int]:
        """Rows per segment when every segment has as many rows (the layout a batched matmul reads
        directly); ``None`` otherwise."""
        if not self.segments:
            return None
        m = self.segments[0][2] - self.segments[0][1]
        return m if all(e - s == m for _, s, e in self.segments) else None

    def adapters(self) -> List[int]:
        return [k for k, _, _ in self.segments]


class StackedLoRALinear(nn.Linear):
    """``nn.Linear`` with ``K`` low-rank updates stacked (``lora_A [K, r, in]``, ``lora_B [K, out, r]``);
    row ``i`` of a batch goes through the adapter its :class:`AdapterRoute` segment names.

    Why: training (or sampling) many classes' adapters in one forward. Adapter ``k`` computes exactly
    :class:`LoRALinear`'s ``x Wᵀ + b + (alpha/r) · dropout(x) A_kᵀ B_kᵀ``; the rows of one adapter never
    mix with another's, so the gradient of ``A_k``, ``B_k`` comes from adapter ``k``'s rows alone.
    ``lora_dropout`` sees the whole batch; a caller that needs per-adapter random streams replaces it.
    """

    def __init__(self, in_features: int, out_features: int, num: int, bias: bool = True, *, rank: int = 16,
                 alpha: float = 32.0, dropout: float = 0.1, route: Optional[AdapterRoute] = None,
                 device=None, dtype=None):
        super().__init__(in_features, out_features, bias=bias, device=device, dtype=dtype)
        if rank < 1 or num < 1:
            raise ValueError(f"LoRA rank and adapter count must be >= 1, got rank {rank}, {num} adapters")
        self.rank, self.alpha, self.num = int(rank), float(alpha), int(num)
        self.scaling = self.alpha / self.rank
        self.lora_dropout: nn.Module = nn.Dropout(dropout)
        self.lora_A = nn.Parameter(torch.zeros(num, rank, in_features, device=device, dtype=dtype))
        self.lora_B = nn.Parameter(torch.zeros(num, out_features, rank, device=device, dtype=dtype))
        self.route = route if route is not None else AdapterRoute()

    @classmethod
    def wrap(cls, base: nn.Linear, num: int, rank: int, alpha: float, dropout: float,
             route: AdapterRoute) -> "StackedLoRALinear":
        m = cls(base.in_features, base.out_features, num, bias=base.bias is not None, rank=rank, alpha=alpha,
                dropout=dropout, route=route, device=base.weight.device, dtype=base.weight.dtype)
        m.weight = base.weight  # shared, as in LoRALinear.wrap
        m.bias = base.bias
        return m

    def forward(self, x: Tensor) -> Tensor:
        segs = self.route.segments
        if not segs or segs[-1][2] != x.shape[0]:
            raise ValueError(f"the adapter route covers {self.route.rows} rows, the batch has {x.shape[0]}")
        base = F.linear(x, self.weight, self.bias)
        d = self.lora_dropout(x)
        m = self.route.uniform()
        if m is not None:
            ids = self.route.adapters()
            a, b = self.lora_A, self.lora_B
            if ids != list(range(self.num)):  # a subset or another order: gather those adapters
                idx = torch.as_tensor(ids, device=a.device)
                a, b = a.index_select(0, idx), b.index_select(0, idx)
            flat = d.reshape(len(ids), -1, self.in_features)
            low = torch.bmm(torch.bmm(flat, a.transpose(1, 2)), b.transpose(1, 2))
            lora = low.reshape(*x.shape[:-1], self.out_features)
        else:
            lora = torch.cat([F.linear(F.linear(d[s:e], self.lora_A[k]), self.lora_B[k]) for k, s, e in segs], 0)
        return base + lora * self.scaling

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, adapters={self.num}, rank={self.rank}, alpha={self.alpha}"


def stack_lora(model: nn.Module, num: int, targets: Sequence[str] = DEFAULT_TARGETS, rank: int = 16,
               alpha: float = 32.0, dropout: float = 0.1, route: Optional[AdapterRoute] = None) -> AdapterRoute:
    """Wrap the targeted Linears of a plain model (as :func:`add_lora` picks them) in
    :class:`StackedLoRALinear` with ``num`` adapters, all sharing one route (returned). Nothing is frozen here."""
    pats = _resolve_targets(targets)
    route = route if route is not None else AdapterRoute()
    wrapped = 0
    for name, mod in list(model.named_modules()):
        if type(mod) is nn.Linear and any(p.match(name) for p in pats):
            _set_module(model, name, StackedLoRALinear.wrap(mod, num, rank, alpha, dropout, route))
            wrapped += 1
    if not wrapped:
        raise ValueError(f"no Linear module matched LoRA targets {list(targets)}")
    return route


def stacked_modules(model: nn.Module) -> Dict[str, StackedLoRALinear]:
    return {n: m for n, m in model.named_modules() if isinstance(m, StackedLoRALinear)}


def stacked_lora_state(model: nn.Module, k: int) -> Dict[str, Tensor]:
    """Adapter ``k`` of a stacked model as :func:`lora_state_dict` of a :class:`LoRALinear` model writes it
    (same keys, ``[r, in]`` / ``[out, r]`` tensors): it loads into one with :func:`load_lora`."""
    out: Dict[str, Tensor] = {}
    for n, m in stacked_modules(model).items():
        out[f"{n}.lora_A"] = m.lora_A[k].detach().clone()
        out[f"{n}.lora_B"] = m.lora_B[k].detach().clone()
    return out


def load_stacked_lora(model: nn.Module, k: int, sd: Dict[str, Tensor]) -> None:
    """Load one :func:`lora_state_dict` into adapter ``k`` of a stacked model; mismatches are reported
    all at once, as :func:`load_lora` does."""
    mods = stacked_modules(model)
    own = {f"{n}.lora_{w}": getattr(m, f"lora_{w}")[k] for n, m in mods.items() for w in ("A", "B")}
    _copy_matching(own, sd, "the stacked model")
