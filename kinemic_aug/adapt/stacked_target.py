"""The class-stacked target stream of a batched adaptation run: one denoiser whose LoRA weights,
action-table rows and random streams are stacked per class, so ``C`` classes run in one forward.

Every random site (:class:`ClassDropout`, :class:`ClassSelfAttention`, the condition drop of
:class:`ClassDenoiser`) runs the module's own code on each class's rows, cut to that class's own
length, under that class's generator state (:class:`ClassStreams`): the same shapes in the same order
as a lone trainer, so the same masks (see :mod:`.batched`).
"""
import copy
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..generator.models import layers as _layers
from ..generator.models.denoiser import MotionDenoiser, SelfAttention
from ..generator.models.lora import AdapterRoute, load_stacked_lora, stack_lora
from .config import AdaptConfig


def _default_generator(device: torch.device) -> torch.Generator:
    if device.type == "cuda":
        return torch.cuda.default_generators[device.index if device.index is not None else torch.cuda.current_device()]
    return torch.default_generator


class ClassStreams:
    """One random stream per class: the state the device's default generator has after
    ``torch.manual_seed(seed)``, swapped in while that class's random ops run (:meth:`run`).

    Why swap the default generator instead of passing generators: the modules' own dropout code draws
    from the default generator and takes no ``generator`` argument; swapping runs that code unchanged."""

    def __init__(self, seeds: Sequence[int], device: torch.device):
        self.gen = _default_generator(device)
        self.states: List[Tensor] = []
        for s in seeds:
            g = torch.Generator(device=device)
            g.manual_seed(int(s))
            self.states.append(g.get_state())

    def run(self, k: int, fn: Callable[..., Any], *args: Any) -> Any:
        self.gen.set_state(self.states[k])
        try:
            return fn(*args)
        finally:
            self.states[k] = self.gen.get_state()


class ClassBatch(AdapterRoute):
    """The row layout of one batched forward: which rows are which class (the adapter route), each
    class's valid frame count (``frames``; the batch is padded to ``total``) and its random stream."""

    def __init__(self) -> None:
        super().__init__()
        self.frames: List[int] = []
        self.total = 0
        self.streams: Optional[ClassStreams] = None

    def configure(self, segments: Sequence[Tuple[int, int, int]], frames: Optional[Sequence[int]] = None,
                  total: int = 0, streams: Optional[ClassStreams] = None) -> None:
        self.set_segments(segments)
        self.frames = [int(f) for f in frames] if frames is not None else []
        self.total = int(total)
        self.streams = streams

    def cut(self, i: int, size: int) -> int:
        """Class ``i``'s extent of a sequence dimension of ``size`` (frames, or frames + condition token)."""
        extra = size - self.total
        if extra not in (0, 1):
            raise RuntimeError(f"a sequence dimension of {size} matches neither {self.total} frames nor the "
                               f"{self.total + 1} tokens of this batch (an unexpected random site?)")
        return self.frames[i] + extra

    def split(self, x: Tensor) -> Tuple[Tensor, ...]:
        """``x`` cut into its classes' row blocks (one split, so the backward costs one concatenation,
        not a full-size gradient per class as separate slices would)."""
        return x.split([e - s for _, s, e in self.segments], 0)

    def per_class(self, x: Tensor, fn: Callable[[Tensor], Tensor]) -> Tensor:
        """``fn`` applied to each class's rows, cut to its own length along dim 1 when ``x`` has a sequence
        dimension, under its own stream; the padded rest passes through unchanged."""
        out = []
        for i, ((k, _, _), xc) in enumerate(zip(self.segments, self.split(x))):
            n = self.cut(i, x.shape[1]) if x.dim() >= 3 else None
            if n is None or n == x.shape[1]:
                out.append(self.streams.run(k, fn, xc.contiguous()))
            else:
                out.append(torch.cat([self.streams.run(k, fn, xc[:, :n].contiguous()), xc[:, n:]], 1))
        return torch.cat(out, 0)


class ClassDropout(nn.Module):
    """A dropout module run per class (see :class:`ClassBatch`); the wrapped module does the dropping,
    so whatever dropout the denoiser uses (``nn.Dropout``, its fast variant) is what runs."""

    def __init__(self, inner: nn.Module, batch: ClassBatch):
        super().__init__()
        self.inner = inner
        self._class_batch = batch

    def forward(self, x: Tensor) -> Tensor:
        b = self._class_batch
        if not self.training or b.streams is None or float(getattr(self.inner, "p", 1.0)) == 0.0:
            return self.inner(x)
        return b.per_class(x, self.inner)


class ClassSelfAttention(SelfAttention):
    """:class:`~..generator.models.denoiser.SelfAttention` whose attention core runs per class in training: the
    projections see the whole batch; the core runs on each class's rows cut to its own length, under its
    stream, with the module's own code path (``F.scaled_dot_product_attention``, or the fast variant).
    Cut, not masked: attention over padded keys rounds differently (measured on CPU), so even without
    dropout a padded class would drift from its lone run in the last bits."""

    _class_batch: ClassBatch

    def forward(self, x: Tensor, attn_mask: Optional[Tensor] = None) -> Tensor:
        batch = self._class_batch
        if batch.streams is None or not (attn_mask is None or torch.is_tensor(attn_mask)):
            # sampling (nothing random: one attention call over the whole batch), or the denoiser's packed path
            return super().forward(x, attn_mask)
        b, n, w = x.shape
        h = self.heads

        def split(t: Tensor) -> Tensor:
            return t.view(b, n, h, w // h).transpose(1, 2)

        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        masks = batch.split(attn_mask) if attn_mask is not None else [None] * len(batch.segments)
        outs = []
        for i, ((a, _, _), qc, kc, vc, mc) in enumerate(zip(batch.segments, batch.split(q), batch.split(k),
                                                             batch.split(v), masks)):
            ln = batch.cut(i, n)
            oc = batch.streams.run(a, self._core, qc[:, :, :ln], kc[:, :, :ln], vc[:, :, :ln],
                                   None if mc is None else mc[..., :ln])
            if ln < n:  # padded queries: zeros (no valid token attends to them)
                oc = torch.cat([oc, oc.new_zeros(oc.shape[0], oc.shape[1], n - ln, oc.shape[3])], 2)
            outs.append(oc)
        o = torch.cat(outs, 0)
        return self.out_proj(o.transpose(1, 2).reshape(b, n, w))

    def _core(self, q: Tensor, k: Tensor, v: Tensor, m: Optional[Tensor]) -> Tensor:
        attend = getattr(super(), "_attend", None)
        if attend is not None:  # the module's own attention core, whatever it does
            return attend(q, k, v, m)
        p = self.dropout if self.training else 0.0
        fast = getattr(_layers, "_attention_fast_dropout", None)
        if getattr(self, "fast", False) and fast is not None and p > 0:
            return fast(q, k, v, m, p)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=m, dropout_p=p)


class ClassDenoiser(MotionDenoiser):
    """A :class:`MotionDenoiser` whose training-time condition drop is drawn per class."""

    _class_batch: ClassBatch

    def condition_dropout(self, batch: int, device=None, generator: Optional[torch.Generator] = None):
        cb = self._class_batch
        if generator is not None or cb.streams is None:
            return super().condition_dropout(batch, device=device, generator=generator)
        draw = super().condition_dropout
        parts = [cb.streams.run(k, draw, e - s, device) for k, s, e in cb.segments]
        return torch.cat([p[0] for p in parts]), torch.cat([p[1] for p in parts])


def build_class_target(prior: MotionDenoiser, cfg: AdaptConfig, actions: Sequence[int]) -> Tuple[ClassDenoiser, ClassBatch]:
    """A copy of ``prior`` with ``len(actions)`` stacked adapters (zeros; fill them from lone streams) and
    an action table of ``sum(actions)`` rows; every random site runs per class. ``prior`` is not modified."""
    if type(prior) is not MotionDenoiser:
        raise TypeError(f"batched adaptation needs a plain MotionDenoiser, got {type(prior).__name__}")
    model = copy.deepcopy(prior)
    batch = ClassBatch()
    model.config = type(model.config)(**{**model.config.to_dict(), "num_actions": int(sum(actions)),
                                         "cond_drop_text": cfg.cond_drop_text,
                                         "cond_drop_action": cfg.cond_drop_action})
    dev = next(prior.parameters()).device
    model.embed_action = nn.Parameter(torch.zeros(int(sum(actions)), model.config.width, device=dev))
    if cfg.lora_targets:
        stack_lora(model, len(actions), targets=cfg.lora_targets, rank=cfg.lora_rank, alpha=cfg.lora_alpha,
                   dropout=cfg.lora_dropout, route=batch)
    for n, p in model.named_parameters():
        p.requires_grad_(n == "embed_action" or n.endswith(".lora_A") or n.endswith(".lora_B"))
    for name, mod in list(model.named_modules()):
        if isinstance(mod, nn.Dropout):
            parent, _, child = name.rpartition(".")
            setattr(model.get_submodule(parent) if parent else model, child, ClassDropout(mod, batch))
        elif type(mod) is SelfAttention:
            mod.__class__ = ClassSelfAttention
            mod._class_batch = batch
        elif isinstance(mod, SelfAttention):
            raise TypeError(f"{name}: unknown attention module {type(mod).__name__}")
    model.__class__ = ClassDenoiser
    model._class_batch = batch
    return model, batch


def stacked_target(prior: MotionDenoiser, cfg: AdaptConfig, states: Sequence[Dict[str, Any]]) -> ClassDenoiser:
    """One model holding the adapters of ``states`` (lone-format adapter states, e.g. cache entries), for
    sampling many classes in one batch: adapter ``k``'s action rows start at row ``sum of the earlier
    states' table sizes`` (``k`` for per-class adapters). Eval mode; ``prior`` is not modified."""
    actions = [int(sd["embed_action"].shape[0]) for sd in states]
    model, _ = build_class_target(prior, cfg, actions)
    dev = next(prior.parameters()).device
    off = 0
    with torch.no_grad():
        for k, sd in enumerate(states):
            if cfg.lora_targets:
                load_stacked_lora(model, k, {n: v.to(dev) for n, v in sd["lora"].items()})
            model.embed_action[off:off + actions[k]].copy_(sd["embed_action"].to(dev))
            off += actions[k]
    for p in model.parameters():
        p.requires_grad_(False)
    return model.eval()


def pad_time(x: Tensor, total: int) -> Tensor:
    """Pad dim 1 to ``total`` with zeros (False for masks)."""
    if x.shape[1] == total:
        return x
    pad = x.new_zeros((x.shape[0], total - x.shape[1]) + tuple(x.shape[2:]))
    return torch.cat([x, pad], 1)

