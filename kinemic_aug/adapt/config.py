"""Configuration of a KineMIC adaptation, and the named ablation variants.

Defaults follow the KineMIC paper (Cazzola & Alboody, arXiv 2512.11654) and its reference implementation where
they apply: LoRA rank 16 / alpha 32 / dropout 0.1 on attention, feed-forward, input, output and timestep layers;
loss weights 1/1/1; window weighting (DWW) on; temperature 0.07 capped at 100; memory bank 60;
AdamW, weight decay 1e-5, gradient clipping 1.0; condition dropout 0.1 per term; guidance 2.5.

Three defaults differ, because the budget differs: the reference fine-tunes the 17.9 M-parameter
MDM for 10k steps at lr 2e-5; the CPU generalist here is ~3 M parameters and an adapter gets a few
hundred steps, so lr is 1e-4, ``steps`` is small, and the action table starts at zero instead of
N(0, 1) (``action_init``; see its attribute note). All are plain fields.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any, Dict, Mapping, Tuple

VARIANTS = ("kinemic", "finetune", "nocontrastive", "noweight", "zeroshot", "retrieved")


@dataclass(frozen=True)
class AdaptConfig:
    """How to adapt the generalist to target classes.

    Attributes:
        mode: ``"per_class"`` (one adapter per class: a new class costs one adapter and the others
            stay cached) or ``"joint"`` (one adapter with an action table over all classes, as in the paper).
        steps, lr, weight_decay, grad_clip, batch_size: optimisation. ``batch_size`` targets per step,
            drawn with replacement when there are fewer shots (each draw gets its own source pair,
            timestep and noise).
        lora_*: adapter placement and size.
        use_mining: mine windows from paired source clips and reconstruct them under the target's
            conditioning (``False``: plain fine-tune on the shots).
        use_contrastive: train the MIC encoder with the multi-positive InfoNCE term.
        window_weighting: weight each window loss by ``(cos(z_T, z_window) + 1) / 2`` (DWW).
        lambda_rec, lambda_wrec, lambda_con: loss weights.
        negatives_per_step: per-class mode only: source clips added to each contrastive batch as negatives.
        negatives: per-class mode: where they come from. ``"other_classes"``: the other selected classes'
            soft positives (default; the adapter then depends on which classes are selected);
            ``"low_similarity"``: the ``low_similarity_k`` corpus clips whose captions match the class worst
            (the adapter depends on its own class only, so adding a class costs exactly one adapter, as long
            as the shots' normalisation is fixed: the augmenter's default ``target_norm="shots"`` refits it on
            every selected class's shots unless ``target_stats=`` pins it, ``"generalist"`` does not);
            ``"both"``.
        max_frames: crop limit for source clips (frames at the generator's rate).
        top_k, pairing_temperature: soft pairing (250 in the paper; uniform draw when temperature is None).
        tau, bank_size, mic_hidden: MIC encoder and contrastive head.
        save_every: resume checkpoint interval (steps).
        batched: per-class mode: train the classes' adapters together, ``group_size`` at a time, in one
            batched forward/backward per step (:mod:`kinemic_aug.adapt.batched`), instead of one class after
            another; the augmenter then also samples the classes' synthetic sets in class-batched runs. Each
            adapter is the same as when trained alone (same cache keys); what changes is wall time and memory.
            Off by default: on a CPU it measured no faster than one class after another and holds more memory
            (``benchmarks/results/adapt_scale.md``); it is meant for GPUs (not measured). Spreading classes over
            processes (``tools/adapt_classes.py`` under torchrun) works either way.
        group_size: classes per batched run (an out-of-memory group is split in halves, with a warning).
        engine: how a :class:`~.trainer.KineMICTrainer` step runs the denoiser. ``"legacy"`` (default): padded
            batches and torch's dropout, the step every committed adapter was trained with. ``"fast"``: the
            packed, length-grouped forward of generator pretraining (:meth:`MotionDenoiser.forward_sorted`:
            padding frames skip the per-token layers) and 16-bit dropout masks, LoRA dropout included. The
            same losses as a function of the batch (equal without dropout), a different random stream, so a
            different adapter and cache key. Not for ``batched=True`` (that trainer is padded by design).
        action_init: how the learned action table starts. ``"zeros"`` (default): the target stream
            starts as the generalist prompted with the class caption, and training moves it from there
            (as LoRA's zero-initialised B does). ``"normal"``: N(0, 1) rows, as the reference code does;
            with its 10k fine-tuning steps that is harmless, but with a few hundred steps a random vector
            of norm ~sqrt(width) added to the condition dominates it and the samples leave the motion
            manifold (measured: FID 66-70 vs 25-28 for the unadapted generalist, benchmarks/results/few_shot.md).
        seed: seeds pairing draws, timesteps, noise and dropout.
    """

    mode: str = "per_class"
    steps: int = 300
    lr: float = 1e-4
    weight_decay: float = 1e-5
    grad_clip: float = 1.0
    batch_size: int = 16
    lora_targets: Tuple[str, ...] = ("attn", "ff", "input", "output", "timestep")
    lora_rank: int = 16
    lora_alpha: float = 32.0
    lora_dropout: float = 0.1
    use_mining: bool = True
    use_contrastive: bool = True
    window_weighting: bool = True
    lambda_rec: float = 1.0
    lambda_wrec: float = 1.0
    lambda_con: float = 1.0
    negatives_per_step: int = 8
    negatives: str = "other_classes"
    low_similarity_k: int = 64
    max_frames: int = 120
    top_k: int = 250
    pairing_temperature: Any = None
    tau: float = 0.07
    bank_size: int = 60
    mic_hidden: int = 256
    cond_drop_text: float = 0.1
    cond_drop_action: float = 0.1
    action_init: str = "zeros"
    save_every: int = 50
    batched: bool = False
    group_size: int = 20
    engine: str = "legacy"
    seed: int = 0
    device: str = "auto"
    progress: bool = True

    def __post_init__(self) -> None:
        if self.mode not in ("per_class", "joint"):
            raise ValueError(f"mode must be 'per_class' or 'joint', got {self.mode!r}")
        if self.negatives not in ("other_classes", "low_similarity", "both"):
            raise ValueError(f"negatives must be 'other_classes', 'low_similarity' or 'both', got {self.negatives!r}")
        if self.engine not in ("legacy", "fast"):
            raise ValueError(f"engine must be 'legacy' or 'fast', got {self.engine!r}")
        if self.engine == "fast" and self.batched:
            raise ValueError("engine='fast' runs in KineMICTrainer only; batched=True needs engine='legacy'")
        if self.action_init not in ("zeros", "normal"):
            raise ValueError(f"action_init must be 'zeros' or 'normal', got {self.action_init!r}")
        if self.steps < 0 or self.batch_size < 1 or self.save_every < 1 or self.group_size < 1:
            raise ValueError("steps must be >= 0, batch_size >= 1, save_every >= 1 and group_size >= 1")
        if not self.use_mining and self.window_weighting and self.lambda_wrec > 0:
            object.__setattr__(self, "window_weighting", False)

    @classmethod
    def paper(cls, **overrides: Any) -> "AdaptConfig":
        """The reference recipe, as far as this library can run it: ONE joint adapter over all classes,
        AdamW lr 2e-5, weight decay 1e-5, gradient clipping 1.0, batch 30, 10,000 steps, LoRA rank 16 /
        alpha 32 / dropout 0.1 on attention, feed-forward, input, output and timestep layers, loss weights
        1/1/1 with window weighting, InfoNCE temperature 0.07, memory bank 60, top-k 250, condition dropout
        0.1 per term, and the action table drawn from N(0, 1) as the reference code does.

        ``overrides`` replace fields (a CPU budget: ``AdaptConfig.paper(steps=300)``); a benchmark that
        scales the steps down says so next to every number. What differs whatever the fields: the
        denoiser (this library's generalist unless the official MDM weights are converted) and its
        diffusion schedule (the checkpoint's own).
        """
        base = dict(mode="joint", steps=10_000, lr=2e-5, weight_decay=1e-5, grad_clip=1.0, batch_size=30,
                    lora_targets=("attn", "ff", "input", "output", "timestep"), lora_rank=16, lora_alpha=32.0,
                    lora_dropout=0.1, use_mining=True, use_contrastive=True, window_weighting=True, lambda_rec=1.0,
                    lambda_wrec=1.0, lambda_con=1.0, top_k=250, pairing_temperature=None, tau=0.07, bank_size=60,
                    cond_drop_text=0.1, cond_drop_action=0.1, action_init="normal")
        unknown = sorted(set(overrides) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"unknown AdaptConfig field(s) {unknown}")
        base.update(overrides)
        if "lora_targets" in base:
            base["lora_targets"] = tuple(base["lora_targets"])
        return cls(**base)

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["lora_targets"] = list(self.lora_targets)
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "AdaptConfig":
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ValueError(f"unknown AdaptConfig field(s) {unknown}; known: {sorted(names)}")
        kw = dict(d)
        if "lora_targets" in kw:
            kw["lora_targets"] = tuple(kw["lora_targets"])
        return cls(**kw)

    def cache_dict(self) -> Dict[str, Any]:
        """The fields that change the trained adapter (not progress display, device, save cadence, nor
        whether classes are trained together: a batched adapter equals the lone one). ``engine`` enters only
        when it is not the default, so adapters cached before the field existed keep their keys."""
        d = self.to_dict()
        for k in ("progress", "device", "save_every", "batched", "group_size"):
            d.pop(k)
        if d["engine"] == "legacy":
            d.pop("engine")
        return d

    def variant(self, name: str) -> "AdaptConfig":
        """The config of a named ablation:

        ``kinemic``: everything on. ``finetune``: plain fine-tune of the target stream on the shots
        (L_rec only; no mining, no contrastive term). ``nocontrastive``: mining with an untrained
        MIC encoder (λ_con = 0). ``noweight``: no window weighting. ``zeroshot``: no training at all
        (``steps = 0``: the generalist prompted with the class caption). ``retrieved``: no generator at all,
        the class's soft-paired corpus clips themselves (:mod:`kinemic_aug.augmenter.retrieved`; no adaptation).
        """
        if name == "kinemic":
            return self
        if name == "finetune":
            return replace(self, use_mining=False, use_contrastive=False, window_weighting=False, lambda_con=0.0,
                           lambda_wrec=0.0)
        if name == "nocontrastive":
            return replace(self, use_contrastive=False, lambda_con=0.0)
        if name == "noweight":
            return replace(self, window_weighting=False)
        if name in ("zeroshot", "retrieved"):
            return replace(self, steps=0, use_mining=False, use_contrastive=False, window_weighting=False)
        raise ValueError(f"unknown variant {name!r}; choose from {VARIANTS}")
