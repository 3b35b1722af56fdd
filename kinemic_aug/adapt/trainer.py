"""One KineMIC adaptation: a frozen prior stream, a LoRA target stream, the MIC encoder, three losses.

A training step (KineMIC's, Cazzola & Alboody, arXiv 2512.11654):

1. draw ``batch_size`` target shots (with replacement when there are fewer) and, for each, one
   soft-positive source clip of its class (plus, per-class mode, a few negatives);
2. one timestep per pair; noise the shots and the sources;
3. prior stream (frozen generalist, conditioned on each source's own caption) → last-layer
   features ``h_S``; target stream (LoRA + action embedding, conditioned on class caption + action)
   → x0 prediction and features ``h_T``;
4. ``L_rec``: masked MSE of the target prediction on the shots;
5. ``L_con``: multi-positive InfoNCE between ``MIC(h_T)`` (anchors) and ``MIC(h_S)`` + memory bank;
6. mining: the MIC attention over each source picks the window of the shot's length with the most
   attention mass; the window (and the same slice of the source noise) is re-noised at the same
   timestep and reconstructed by the target stream under the *shot's* conditioning: ``L_wrec``,
   weighted per sample by ``(cos(z_T, MIC(h_window)) + 1) / 2`` when window weighting is on. When the
   shots are normalised with statistics of their own, the window is first mapped into them
   (``SourcePool.window_scale``), so both reconstruction targets are in the units samples are decoded in.

Randomness of step ``k`` comes from generators seeded by ``(seed, k)``, so a run resumed from a
checkpoint at step ``k`` continues exactly as an uninterrupted run (the memory bank and optimizer
state are in the checkpoint too).

The random draws of a step (:func:`draw_step`) and the loss terms around the two target-stream forwards
(:func:`mining_terms`, :func:`window_loss`) are module functions, so :mod:`.batched`, which trains many
classes' adapters in one forward, runs exactly the code a lone trainer runs for each of them.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import CacheError, DataError
from ..generator.models.denoiser import MotionDenoiser
from ..generator.models.lora import add_lora, load_lora, lora_state_dict
from ..generator.training.losses import masked_mse_per_sample
from ..generator.schedulers.noise_schedule import NoiseSchedule
from ..mining import ContrastiveHead, MICConfig, MICEncoder, best_window_starts, extract_windows
from ..utils.checksum import verify_checksum, with_checksum
from ..utils.device import resolve_device
from ..utils.io import atomic_torch_save
from ..utils.rng import seeded
from .config import AdaptConfig
from .data import SourcePool, TargetShots, pad_batch

log = logging.getLogger(__name__)

STATE_FORMAT = "kinemic_aug.adapter"


def build_target_stream(base: MotionDenoiser, num_actions: int, cfg: AdaptConfig) -> MotionDenoiser:
    """A copy of ``base`` with a fresh action table (zeros, or N(0,1) as in the reference: ``cfg.action_init``)
    and LoRA adapters;
    only the adapters and the action table are trainable. ``base`` itself is not modified."""
    model = copy.deepcopy(base)
    model.config = replace(model.config, num_actions=int(num_actions), cond_drop_text=cfg.cond_drop_text,
                           cond_drop_action=cfg.cond_drop_action)
    dev = next(base.parameters()).device
    # action table and LoRA A matrices drawn from the config seed, so equal configs start equal
    with seeded(int(cfg.seed) + 7919):
        init = (torch.randn(num_actions, model.config.width) if cfg.action_init == "normal"
                else torch.zeros(num_actions, model.config.width))
        model.embed_action = nn.Parameter(init.to(dev))
        if cfg.lora_targets:
            add_lora(model, targets=cfg.lora_targets, rank=cfg.lora_rank, alpha=cfg.lora_alpha,
                     dropout=cfg.lora_dropout, train_also=("embed_action",))
        else:
            for n, p in model.named_parameters():
                p.requires_grad_(n == "embed_action")
    return model


def needs_prior_stream(cfg: AdaptConfig) -> bool:
    """Whether training runs the frozen prior stream (mining or the contrastive term)."""
    return cfg.steps > 0 and (cfg.use_mining or cfg.use_contrastive)


def check_inputs(base: MotionDenoiser, shots: TargetShots, pool: Optional[SourcePool], cfg: AdaptConfig) -> None:
    """The errors a trainer raises before any work: missing pool or positives, feature sizes."""
    if needs_prior_stream(cfg):
        if pool is None:
            raise DataError("mining/contrastive adaptation needs a source pool", field="pool")
        missing = sorted(set(int(c) for c in np.unique(shots.labels)) - set(pool.positives))
        if missing:
            raise DataError(f"no soft positives for local classes {missing}", field="positives")
        if pool.feats[0].shape[-1] != shots.feats[0].shape[-1]:
            raise DataError("source and target feature sizes differ", field="feats")
    if shots.feats[0].shape[-1] != base.config.input_dim:
        raise DataError(f"shots have {shots.feats[0].shape[-1]} features, the generator {base.config.input_dim}",
                        field="feats")


@dataclass
class StepDraw:
    """Everything random about one training step except the torch stream the target forwards draw
    their dropout from (``forward_seed`` seeds that one). Target fields end in ``_t``, source fields
    (prior stream; ``None`` when it does not run) in ``_s``; ``y_s`` is -1 on the negatives."""

    y_t: np.ndarray
    yt: Tensor
    x0_t: Tensor
    len_t: Tensor
    mask_t: Tensor
    t: Tensor
    t_model: Tensor
    xt_t: Tensor
    text_t: Tensor
    forward_seed: int
    y_s: Optional[np.ndarray] = None
    x0_s: Optional[Tensor] = None
    len_s: Optional[Tensor] = None
    mask_s: Optional[Tensor] = None
    noise_s: Optional[Tensor] = None
    xt_s: Optional[Tensor] = None
    t_model_s: Optional[Tensor] = None
    text_s: Optional[Tensor] = None
    win_scale: Optional[Tensor] = None
    win_shift: Optional[Tensor] = None


def draw_step(shots: TargetShots, pool: Optional[SourcePool], cfg: AdaptConfig, schedule: NoiseSchedule, step: int,
              device: torch.device, needs_prior: bool) -> StepDraw:
    """The draws of step ``step``: from generators seeded by ``(cfg.seed, step)`` only, so a step's batch
    does not depend on what ran before it (exact resume) nor on other classes trained beside it."""
    rng = np.random.default_rng([int(cfg.seed), int(step)])
    tgen = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
    b = cfg.batch_size
    n_shots = len(shots.feats)
    idx = rng.choice(n_shots, size=b, replace=b > n_shots)
    y_t = shots.labels[idx]
    x0_t, len_t = pad_batch([shots.feats[i] for i in idx], max_len=cfg.max_frames, rng=rng, device=device)
    te = shots.text_emb
    pick = rng.integers(0, te.shape[1], size=len(y_t))
    text_t = torch.from_numpy(te[y_t, pick]).to(device)
    yt = torch.from_numpy(y_t).to(device)
    mask_t = torch.arange(x0_t.shape[1], device=device)[None] < len_t[:, None]
    t = torch.randint(0, schedule.num_steps, (b,), generator=tgen).to(device)
    noise_t = torch.randn(x0_t.shape, generator=tgen).to(device)
    d = StepDraw(y_t=y_t, yt=yt, x0_t=x0_t, len_t=len_t, mask_t=mask_t, t=t, t_model=schedule.model_timesteps(t),
                 xt_t=schedule.q_sample(x0_t, t, noise_t), text_t=text_t, forward_seed=int(rng.integers(0, 2**62)))
    if not needs_prior:
        return d
    src = np.array([pool.draw(int(c), 1, rng)[0] for c in y_t], dtype=np.int64)
    y_s = y_t.copy()
    if cfg.mode == "per_class" and cfg.negatives_per_step > 0:
        neg = np.concatenate([pool.draw_negatives(int(c), 1, rng) for c in
                              rng.choice(np.unique(y_t), size=cfg.negatives_per_step)]) \
            if pool.negatives else np.zeros(0, np.int64)
        src = np.concatenate([src, neg])
        y_s = np.concatenate([y_s, np.full(len(neg), -1, dtype=np.int64)])
    x0_s, len_s = pad_batch([pool.feats[i] for i in src], max_len=cfg.max_frames, rng=rng, device=device)
    t_s = torch.cat([t, torch.randint(0, schedule.num_steps, (len(src) - b,), generator=tgen).to(device)])
    noise_s = torch.randn(x0_s.shape, generator=tgen).to(device)
    d.y_s, d.x0_s, d.len_s, d.noise_s = y_s, x0_s, len_s, noise_s
    d.mask_s = torch.arange(x0_s.shape[1], device=device)[None] < len_s[:, None]
    d.xt_s, d.t_model_s = schedule.q_sample(x0_s, t_s, noise_s), schedule.model_timesteps(t_s)
    d.text_s = torch.from_numpy(pool.text_emb[src]).to(device)
    if pool.window_scale is not None:
        d.win_scale = torch.from_numpy(pool.window_scale).to(device)
        d.win_shift = torch.from_numpy(pool.window_shift).to(device)
    return d


@dataclass
class Windows:
    """Mined source windows of one step, cut to the shots' lengths, and their noised input."""

    x: Tensor
    lengths: Tensor
    mask: Tensor
    x_in: Tensor


def mining_terms(cfg: AdaptConfig, schedule: NoiseSchedule, mic: MICEncoder, head: ContrastiveHead, d: StepDraw,
                 h_s: Tensor, h_t: Tensor, logs: Dict[str, float]) -> Tuple[Tensor, Optional[Windows], Optional[Tensor]]:
    """What comes between the first target forward and the window forward: the MIC embeddings, the
    contrastive term (pushes this step's sources into ``head``'s bank) and the mined windows.
    Returns ``(weighted contrastive term, windows or None, z_t or None)``."""
    device = h_t.device
    b = len(d.y_t)
    z_s, a_s = mic(h_s.detach(), d.len_s)
    extra = torch.zeros((), device=device)
    z_t = None
    if cfg.use_contrastive or cfg.window_weighting:
        z_t, _ = mic(h_t, d.len_t)
    if cfg.use_contrastive:
        l_con = head(z_t, d.yt, z_s, torch.from_numpy(d.y_s).to(device))
        extra = extra + cfg.lambda_con * l_con
        logs["con"] = l_con.item()
        logs["logit_scale"] = head.logit_scale.exp().item()
    win = None
    if cfg.use_mining and cfg.lambda_wrec > 0:
        starts = best_window_starts(a_s[:b].detach(), d.len_s[:b], d.len_t)
        out_len = d.x0_t.shape[1]
        xw, len_w = extract_windows(d.x0_s[:b], starts, d.len_s[:b], d.len_t, out_len)
        nw, _ = extract_windows(d.noise_s[:b], starts, d.len_s[:b], d.len_t, out_len)
        mask_w = torch.arange(out_len, device=device)[None] < len_w[:, None]
        if d.win_scale is not None:  # into the shots' normalisation (SourcePool.window_scale)
            xw = xw * d.win_scale + d.win_shift
        win = Windows(xw, len_w, mask_w, schedule.q_sample(xw, d.t, nw))
    return extra, win, z_t


def window_loss(cfg: AdaptConfig, mic: MICEncoder, win: Windows, xhat_w: Tensor, h_w: Tensor, z_t: Optional[Tensor],
                logs: Dict[str, float]) -> Tensor:
    """``lambda_wrec * L_wrec`` from the window forward's outputs (DWW-weighted when it is on)."""
    per = masked_mse_per_sample(xhat_w, win.x, win.mask)
    if cfg.window_weighting:
        with torch.no_grad():
            z_w, _ = mic(h_w, win.lengths)
            w = (F.cosine_similarity(z_t.detach(), z_w, dim=-1) + 1.0) / 2.0
        logs["dww_mean"] = float(w.mean())
    else:
        w = torch.ones_like(per)
    l_wrec = (w * per).mean()
    logs["wrec"] = l_wrec.item()
    return cfg.lambda_wrec * l_wrec


class KineMICTrainer:
    """Adapts ``base`` to the classes in ``shots`` using the soft-paired ``pool``.

    ``classes``: the global class ids behind the local labels 0..C-1 (kept in the state for the
    augmenter; training only sees local labels).

    ``base`` becomes the frozen prior stream *in place* (moved to the device, eval mode, gradients off);
    pass a copy if you keep training it elsewhere. The target stream is a deep copy.
    """

    def __init__(self, base: MotionDenoiser, schedule: NoiseSchedule, shots: TargetShots, pool: Optional[SourcePool],
                 cfg: AdaptConfig, classes: Optional[List[int]] = None):
        self.cfg = cfg
        self.device = resolve_device(cfg.device)
        self.schedule = schedule
        self.shots = shots
        self.pool = pool
        self.classes = list(classes) if classes is not None else list(range(shots.num_classes))
        self.needs_prior = needs_prior_stream(cfg)
        check_inputs(base, shots, pool, cfg)
        self.prior = base.to(self.device).eval()
        for p in self.prior.parameters():
            p.requires_grad_(False)
        self.target = build_target_stream(self.prior, shots.num_classes, cfg).to(self.device)
        self.fast = cfg.engine == "fast"
        if self.fast:
            self.target.set_fast_dropout(True)
        width = base.config.width
        with seeded(int(cfg.seed)):  # seeded MIC init without touching the caller's RNG
            self.mic = MICEncoder(MICConfig(in_dim=width, hidden=cfg.mic_hidden, out_dim=cfg.mic_hidden))
        self.mic = self.mic.to(self.device)
        self.head = ContrastiveHead(tau=cfg.tau, bank_size=cfg.bank_size).to(self.device)
        params = [p for p in self.target.parameters() if p.requires_grad]
        if self.needs_prior:
            params += list(self.mic.parameters()) + list(self.head.parameters())
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay) if params else None
        self.step = 0
        self.history: List[Dict[str, float]] = []

    # ------------------------------------------------------------------ one step
    def _run(self, model: MotionDenoiser, x: Tensor, t: Tensor, **kw: Any) -> Tuple[Tensor, Tensor]:
        """``(x0 prediction, last-layer features)`` of ``model``: padded, or packed with ``engine='fast'``."""
        if self.fast:
            return model.forward_sorted(x, t, return_features=True, **kw)
        return model(x, t, return_features=True, **kw)

    def train_step(self) -> Dict[str, float]:
        cfg = self.cfg
        d = draw_step(self.shots, self.pool, cfg, self.schedule, self.step, self.device, self.needs_prior)
        logs: Dict[str, float] = {}
        self.target.train()
        with seeded(d.forward_seed):
            xhat_t, h_t = self._run(self.target, d.xt_t, d.t_model, text_emb=d.text_t, action=d.yt, mask=d.mask_t)
            l_rec = masked_mse_per_sample(xhat_t, d.x0_t, d.mask_t).mean()
            loss = cfg.lambda_rec * l_rec
            logs["rec"] = l_rec.item()
            if self.needs_prior:
                with torch.no_grad():
                    _, h_s = self._run(self.prior, d.xt_s, d.t_model_s, text_emb=d.text_s, mask=d.mask_s)
                extra, win, z_t = mining_terms(cfg, self.schedule, self.mic, self.head, d, h_s, h_t, logs)
                if win is not None:
                    xhat_w, h_w = self._run(self.target, win.x_in, d.t_model, text_emb=d.text_t, action=d.yt,
                                            mask=win.mask)
                    extra = extra + window_loss(cfg, self.mic, win, xhat_w, h_w, z_t, logs)
                loss = loss + extra
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if cfg.grad_clip:
            torch.nn.utils.clip_grad_norm_([p for g in self.optimizer.param_groups for p in g["params"]
                                            if p is not self.head.logit_scale], cfg.grad_clip)
        self.optimizer.step()
        self.head.clamp_()
        self.step += 1
        logs["loss"] = loss.item()
        logs["step"] = self.step
        self.history.append(logs)
        return logs

    # ------------------------------------------------------------------ loop
    def train(self, checkpoint: Optional[Union[str, Path]] = None,
              callback: Optional[Callable[[Dict[str, float]], None]] = None,
              stop_after: Optional[int] = None) -> List[Dict[str, float]]:
        """Run until ``cfg.steps``; write a resume checkpoint every ``save_every`` steps and at the end.
        ``stop_after`` (steps in this call) exists to simulate interruptions in tests."""
        cfg = self.cfg
        if checkpoint is not None and Path(checkpoint).exists():
            self.load_state(self._read(checkpoint))
        bar = None
        if cfg.progress and cfg.steps > self.step:
            from tqdm.auto import tqdm
            bar = tqdm(total=cfg.steps, initial=self.step, desc="adapt", leave=False, disable=None)
        done = 0
        while self.step < cfg.steps:
            logs = self.train_step()
            done += 1
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{logs['loss']:.3f}")
            if callback is not None:
                callback(logs)
            if checkpoint is not None and (self.step % cfg.save_every == 0 or self.step == cfg.steps):
                try:
                    atomic_torch_save(checkpoint, with_checksum(self.state_dict(include_optimizer=True)))
                except OSError as e:  # full disk, unwritable folder: the previous checkpoint stays intact
                    raise CacheError(f"cannot write resume checkpoint {checkpoint}: {e}") from e
            if stop_after is not None and done >= stop_after:
                break
        if bar is not None:
            bar.close()
        self.target.eval()
        return self.history

    # ------------------------------------------------------------------ state
    def state_dict(self, include_optimizer: bool = False) -> Dict[str, Any]:
        """Tensors and plain types only (loads with ``weights_only=True``)."""
        sd: Dict[str, Any] = {
            "format": STATE_FORMAT, "version": 1, "step": self.step, "config": self.cfg.to_dict(),
            "classes": [int(c) for c in self.classes],
            "lora": lora_state_dict(self.target) if self.cfg.lora_targets else {},
            "embed_action": self.target.embed_action.detach().cpu().clone(),
            "mic": {k: v.cpu() for k, v in self.mic.state_dict().items()},
            "logit_scale": self.head.logit_scale.detach().cpu().clone(),
            "bank": {"size": self.head.bank.size, "z": self.head.bank.z, "y": self.head.bank.y},
            "history": [{k: float(v) for k, v in h.items()} for h in self.history],
        }
        if include_optimizer and self.optimizer is not None:
            sd["optimizer"] = self.optimizer.state_dict()
        return sd

    def load_state(self, sd: Dict[str, Any]) -> None:
        if sd.get("format") != STATE_FORMAT:
            raise CacheError(f"not an adapter state (format={sd.get('format')!r})")
        if self.cfg.lora_targets:
            load_lora(self.target, {k: v.to(self.device) for k, v in sd["lora"].items()})
        with torch.no_grad():
            if tuple(sd["embed_action"].shape) != tuple(self.target.embed_action.shape):
                raise CacheError(f"action table shape {tuple(sd['embed_action'].shape)} != "
                                 f"{tuple(self.target.embed_action.shape)}")
            self.target.embed_action.copy_(sd["embed_action"].to(self.device))
            self.head.logit_scale.copy_(sd["logit_scale"].to(self.device))
        self.mic.load_state_dict(sd["mic"])
        bank = sd.get("bank") or {}
        self.head.bank.load_state_dict({"size": bank.get("size", self.cfg.bank_size), "z": bank.get("z"),
                                        "y": bank.get("y")})
        if "optimizer" in sd and self.optimizer is not None:
            self.optimizer.load_state_dict(sd["optimizer"])
        self.step = int(sd["step"])
        self.history = [dict(h) for h in sd.get("history", [])]

    @staticmethod
    def _read(path: Union[str, Path]) -> Dict[str, Any]:
        try:
            sd = torch.load(path, map_location="cpu", weights_only=True)
        except FileNotFoundError:
            raise
        except Exception as e:
            raise CacheError(f"{path}: unreadable adapter state ({type(e).__name__}: {str(e)[:200]})") from e
        verify_checksum(sd, str(path))
        return sd
