"""Does the generalist generator follow its prompts? Prompt-following accuracy and sampling throughput.

The figure: an ST-GCN action classifier (``har``) is trained on *held-out procedural* clips (synthetic,
drawn by :func:`kinemic_aug.data.procedural.synthesize_action` with rng seeds disjoint from the
generator's training corpus, checked by content hash), labelled by action. The generator then samples
clips from text prompts of those actions and the classifier labels them: the top-1 accuracy against the
prompted action says how often a sample shows the action that was asked for (chance = 1/#actions).
It is reported per DDIM step count with classifier-free guidance, and once without guidance (scale 1)
to show what guidance adds. The classifier's accuracy on held-out procedural clips is reported too:
the figure means something only if that is high.

Why procedural data for the classifier: the generalist is pretrained on procedural clips (HumanML3D is
not obtainable here), so its prompt vocabulary is the procedural action library. The evaluation clips
are SYNTHETIC, and the results say so.

Throughput: sequences/s of end-to-end ``MotionGenerator.generate`` (text encoding + DDIM sampling
with guidance + decoding) for a batch of equal-length sequences, at 1 and 2 torch threads.

    python -m benchmarks.generator_quality --checkpoint work_dirs/pretrain/generalist_small.pt [--small]

Outputs (``benchmarks/results/``; ``--small`` writes ``generator_small*`` so a quick check never
overwrites a full result): ``generator.json``, ``generator.md``, ``generator_samples.gif``,
``generator_confusion.png``.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import hashlib
import logging
import platform
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Set, Tuple

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # `har` lives at the repository root
    sys.path.insert(0, str(REPO))

from kinemic_aug.data.procedural import get_action, synthesize_action  # noqa: E402
from kinemic_aug.data.procedural.captions import SUBJECTS, render  # noqa: E402
from kinemic_aug.errors import DataError  # noqa: E402
from kinemic_aug.skeleton.normalize import prenormalize_3d  # noqa: E402
from kinemic_aug.skeleton.resample import resample_to_length  # noqa: E402
from kinemic_aug.utils.io import atomic_save_figure, atomic_write_json, atomic_write_text  # noqa: E402

from .common import RESULTS_DIR  # noqa: E402

log = logging.getLogger("generator_quality")

LAYOUT = "smpl22"
MACHINE = "2-core CPU (shared)"
#: distinct single actions of the procedural library (arms, legs, whole body, locomotion, posture change).
#: ``boxing`` stands for "punch": the one-armed ``straight_punch`` was confused with ``clap`` by the
#: classifier on held-out clips (0/6 right in a 14-clips-per-action trial), which would blur the figure.
DEFAULT_ACTIONS: Tuple[str, ...] = ("walk", "jog_in_place", "jump_in_place", "jumping_jacks", "wave_overhead", "clap",
                                    "squat", "side_kick", "boxing", "bend_touch_floor", "sit_down",
                                    "golf_swing")


@dataclass
class QualityConfig:
    """Sizes of one benchmark run. :meth:`small` is the quick variant (a few minutes)."""

    actions: Tuple[str, ...] = DEFAULT_ACTIONS
    clf_train_per_action: int = 30
    clf_val_per_action: int = 12
    gen_per_action: int = 20
    step_counts: Tuple[int, ...] = (10, 20, 50)
    guidance: float = 2.5
    unguided_steps: int = 20          # the scale-1.0 (no guidance) comparison row
    gen_batch: int = 32
    min_seconds: float = 2.0          # clip lengths: each action's natural range, clipped to this window
    max_seconds: float = 4.0
    fps: float = 20.0
    clip_frames: int = 32             # classifier input length after PreNormalize + resampling
    clf_epochs: int = 20
    clf_batch: int = 16
    clf_lr: float = 3e-3
    clf_preset: Dict[str, Any] = field(default_factory=lambda: dict(base_channels=32, num_stages=6,
                                                                    inflate_stages=(3, 5), down_stages=(3, 5)))
    throughput_steps: Tuple[int, ...] = (10, 20, 50)
    throughput_threads: Tuple[int, ...] = (1, 2)
    throughput_batch: int = 32
    throughput_frames: int = 60
    throughput_repeats: int = 1
    gif_prompts: int = 8
    gif_samples: int = 1
    eval_seed: int = 987654           # rng seeds of the held-out clips: default_rng([eval_seed, action, i])
    seed: int = 0                     # generator sampling and classifier training seed

    @classmethod
    def small(cls) -> "QualityConfig":
        return cls(clf_train_per_action=14, clf_val_per_action=6, gen_per_action=4, throughput_batch=16)


# ------------------------------------------------------------------------------ held-out data
@dataclass
class EvalClip:
    """One labelled held-out procedural clip (SYNTHETIC)."""

    joints: np.ndarray   # [T, 22, 3] float32, metres, y-up
    label: int
    action: str
    side: Optional[str]
    rng_seed: Tuple[int, int, int]
    sha256: str


def joints_sha256(joints: np.ndarray) -> str:
    """Content hash of a joint array (float32, C order): equal hashes mean identical motion."""
    return hashlib.sha256(np.ascontiguousarray(np.asarray(joints, dtype=np.float32)).tobytes()).hexdigest()


def length_range(action: str, cfg: QualityConfig) -> Tuple[float, float]:
    """Seconds: the action's natural duration range clipped to ``[min_seconds, max_seconds]``, so that
    held-out clips and generated clips of an action share one length distribution (the classifier
    then cannot tell real from generated by length)."""
    lo, hi = get_action(action).duration
    lo = min(max(lo, cfg.min_seconds), cfg.max_seconds)
    hi = max(min(hi, cfg.max_seconds), lo)
    return lo, hi


def make_eval_clips(cfg: QualityConfig, start: int, count: int) -> List[EvalClip]:
    """``count`` clips per action with indices ``start .. start+count-1``; clip ``i`` of action ``a``
    uses ``default_rng([eval_seed, a, i])``, a seed family the corpus builder (``[seed, index]``,
    two entries) never uses."""
    out: List[EvalClip] = []
    for a, name in enumerate(cfg.actions):
        lo, hi = length_range(name, cfg)
        for i in range(start, start + count):
            key = (int(cfg.eval_seed), a, i)
            rng = np.random.default_rng(list(key))
            joints, meta = synthesize_action(name, rng, duration=float(rng.uniform(lo, hi)), fps=cfg.fps)
            joints = np.asarray(joints, dtype=np.float32)
            out.append(EvalClip(joints, a, name, meta.get("side"), key, joints_sha256(joints)))
    return out


def training_corpus_hashes(spec: str) -> Tuple[Set[str], Set[str], str, int]:
    """Rebuild the generator's training corpus from its spec; returns (joint hashes, lower-cased
    captions, fingerprint, clip count)."""
    from kinemic_aug.data.sources import load_corpus

    corpus = load_corpus(spec)
    hashes = {joints_sha256(c.joints) for c in corpus}
    captions = {t.strip().lower() for c in corpus for t in c.captions}
    return hashes, captions, corpus.fingerprint(), len(corpus)


def check_disjoint(clips: Sequence[EvalClip], train_hashes: Set[str]) -> None:
    """Raise :class:`DataError` if any evaluation clip equals a training clip."""
    for c in clips:
        if c.sha256 in train_hashes:
            raise DataError("held-out clip is identical to a generator training clip", sample=f"{c.action}{c.rng_seed}",
                            field="joints")
    if len({c.sha256 for c in clips}) != len(clips):
        raise DataError("duplicate held-out clips", field="joints")


# ------------------------------------------------------------------------------ classifier
def normalize_clip(joints: np.ndarray, sample: str = "") -> np.ndarray:
    """PreNormalize3D in the SMPL-22 body frame (z up, pelvis at the origin, shoulders along x in
    frame 0): ``[T, 22, 3]`` -> ``[T, 22, 3]`` float32."""
    kp, _ = prenormalize_3d(np.asarray(joints, dtype=np.float32)[None], LAYOUT, sample=sample or None)
    return kp[0]


def to_input(norm: np.ndarray, frames: int, rng: Optional[np.random.Generator] = None) -> np.ndarray:
    """Fixed-length classifier input ``[frames, V, 3]``; with ``rng`` a random 85-100 % temporal
    crop first (training augmentation)."""
    t = len(norm)
    if rng is not None and t > 4:
        keep = max(int(round(t * rng.uniform(0.85, 1.0))), 2)
        s = int(rng.integers(0, t - keep + 1))
        norm = norm[s:s + keep]
    return resample_to_length(norm, frames).astype(np.float32)


class ActionClassifier(nn.Module):
    """The project's ST-GCN (``har.models.STGCN`` + ``GCNHead``) on SMPL-22, one person."""

    def __init__(self, num_classes: int, preset: Dict[str, Any]) -> None:
        super().__init__()
        from har.models import GCNHead, STGCN

        self.backbone = STGCN(graph_cfg=dict(layout=LAYOUT, mode="stgcn_spatial"), in_channels=3, num_person=1,
                              **preset)
        self.head = GCNHead(num_classes, self.backbone.out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # [N, T, V, 3]
        return self.head(self.backbone(x.unsqueeze(1)))


def _augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """Random scale (0.9-1.1) and turn about the vertical z axis (+-15 deg): body size and heading
    should not decide the class."""
    n = x.shape[0]
    scale = 0.9 + 0.2 * torch.rand(n, generator=g)
    ang = (torch.rand(n, generator=g) - 0.5) * (np.pi / 6)
    c, s = torch.cos(ang), torch.sin(ang)
    rot = torch.zeros(n, 3, 3)
    rot[:, 0, 0], rot[:, 0, 1], rot[:, 1, 0], rot[:, 1, 1], rot[:, 2, 2] = c, -s, s, c, 1.0
    return torch.einsum("ntvc,ndc->ntvd", x, rot) * scale[:, None, None, None]


def train_classifier(norm_clips: Sequence[np.ndarray], labels: Sequence[int], num_classes: int,
                     cfg: QualityConfig) -> Tuple[ActionClassifier, Dict[str, Any]]:
    """Train the ST-GCN on normalised clips; returns the model (eval mode) and a small history."""
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    g = torch.Generator().manual_seed(cfg.seed)
    model = ActionClassifier(num_classes, cfg.clf_preset)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.clf_lr, weight_decay=1e-4)
    n = len(norm_clips)
    steps_per_epoch = max(1, int(np.ceil(n / cfg.clf_batch)))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.clf_lr, total_steps=cfg.clf_epochs * steps_per_epoch)
    y_all = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    losses: List[float] = []
    t0 = time.perf_counter()
    model.train()
    for _ in range(cfg.clf_epochs):
        order = rng.permutation(n)
        x_all = torch.from_numpy(np.stack([to_input(norm_clips[i], cfg.clip_frames, rng) for i in order]))
        y_ep = y_all[torch.as_tensor(order)]
        tot = 0.0
        for b in range(steps_per_epoch):
            sl = slice(b * cfg.clf_batch, (b + 1) * cfg.clf_batch)
            x, y = _augment(x_all[sl], g), y_ep[sl]
            if len(y) < 2:  # BatchNorm needs two samples
                continue
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(y)
        losses.append(tot / n)
    model.eval()
    return model, {"epoch_loss": [round(v, 4) for v in losses], "seconds": round(time.perf_counter() - t0, 1),
                   "train_clips": n}


@torch.no_grad()
def classify(model: ActionClassifier, norm_clips: Sequence[np.ndarray], frames: int, batch: int = 64) -> np.ndarray:
    """Predicted class per normalised clip."""
    preds = []
    for b in range(0, len(norm_clips), batch):
        x = torch.from_numpy(np.stack([to_input(c, frames) for c in norm_clips[b:b + batch]]))
        preds.append(model(x).argmax(-1).numpy())
    return np.concatenate(preds) if preds else np.zeros(0, dtype=np.int64)


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int], k: int) -> np.ndarray:
    cm = np.zeros((k, k), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[int(t), int(p)] += 1
    return cm


def accuracy_report(y_true: Sequence[int], y_pred: Sequence[int], names: Sequence[str]) -> Dict[str, Any]:
    """Top-1, chance level, per-class accuracy and the confusion matrix (rows = true/prompted)."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    cm = confusion_matrix(y_true, y_pred, len(names))
    per = {n: (float(cm[i, i] / cm[i].sum()) if cm[i].sum() else float("nan")) for i, n in enumerate(names)}
    return {"top1": float((y_true == y_pred).mean()) if len(y_true) else float("nan"), "n": int(len(y_true)),
            "chance": 1.0 / len(names), "per_action": per, "confusion": cm.tolist()}


# ------------------------------------------------------------------------------ prompts and generation
@dataclass
class Prompt:
    action: str
    label: int
    text: str
    template: str
    side: Optional[str]
    frames: int
    seen_verbatim: Optional[bool] = None   # the exact text is a caption of the training corpus


def make_prompts(cfg: QualityConfig, n_per_action: int, seed: int) -> List[Prompt]:
    """Single-action prompts cycling through every caption template of each action, in the corpus
    caption style ("<subject> <verb phrase>."). One-sided actions also get their side-free templates,
    which the corpus captions never use for them (they always name the side), so some prompts are
    phrasings the generator has not seen for that action."""
    rng = np.random.default_rng([int(seed), 4242])
    out: List[Prompt] = []
    for a, name in enumerate(cfg.actions):
        spec = get_action(name)
        lo, hi = length_range(name, cfg)
        for i in range(n_per_action):
            tpl = spec.templates[i % len(spec.templates)]
            side = (["left", "right"][int(rng.integers(2))] if "{side}" in tpl else None) if spec.sided else None
            subj = SUBJECTS[int(rng.integers(len(SUBJECTS)))]
            text = f"{subj} {render(tpl, '3rd', side)}.".lower()
            frames = int(round(rng.uniform(lo, hi) * cfg.fps))
            out.append(Prompt(name, a, text, tpl, side, frames))
    return out


def generate_clips(generator, prompts: Sequence[Prompt], *, steps: int, guidance: float, seed: int,
                   batch: int) -> Tuple[List[np.ndarray], float]:
    """Sample one clip per prompt in batches (batch ``b`` uses seed ``seed + b``, so every condition
    starts from the same noise); returns clips and wall seconds."""
    clips: List[np.ndarray] = []
    t0 = time.perf_counter()
    for b in range(0, len(prompts), batch):
        chunk = prompts[b:b + batch]
        clips.extend(generator.generate([p.frames for p in chunk], texts=[p.text for p in chunk], steps=steps,
                                        sampler="ddim", guidance=guidance, seed=seed + b // batch))
    return [np.asarray(c, dtype=np.float32) for c in clips], time.perf_counter() - t0


def mean_joint_speed(clips: Sequence[np.ndarray], fps: float) -> float:
    """Mean joint speed (m/s) over all clips, frames and joints: near 0 flags frozen (static) samples."""
    v = [np.linalg.norm(np.diff(c, axis=0), axis=-1).mean() * fps for c in clips if len(c) > 1]
    return float(np.mean(v)) if v else float("nan")


def measure_throughput(generator, cfg: QualityConfig, text: str = "a person walks forward.") -> List[Dict[str, Any]]:
    """Sequences/s of ``generate`` at each step count and thread count (median over repeats, after
    one warm-up call per thread count). Restores the previous torch thread count."""
    prev = torch.get_num_threads()
    rows: List[Dict[str, Any]] = []
    lengths = [cfg.throughput_frames] * cfg.throughput_batch
    texts = [text] * cfg.throughput_batch
    try:
        for threads in cfg.throughput_threads:
            torch.set_num_threads(int(threads))
            generator.generate(lengths[:2], texts=texts[:2], steps=2, guidance=cfg.guidance, seed=0)  # warm-up
            for steps in cfg.throughput_steps:
                secs = []
                for r in range(cfg.throughput_repeats):
                    t0 = time.perf_counter()
                    generator.generate(lengths, texts=texts, steps=steps, sampler="ddim", guidance=cfg.guidance, seed=r)
                    secs.append(time.perf_counter() - t0)
                med = float(np.median(secs))
                rows.append({"steps": int(steps), "threads": int(threads), "guidance": cfg.guidance,
                             "batch": cfg.throughput_batch, "frames": cfg.throughput_frames,
                             "seconds_per_batch": round(med, 3), "seq_per_s": round(cfg.throughput_batch / med, 3),
                             "repeats": cfg.throughput_repeats})
                log.info("throughput: %d steps, %d thread(s): %.2f seq/s", steps, threads, rows[-1]["seq_per_s"])
    finally:
        torch.set_num_threads(prev)
    return rows


# ------------------------------------------------------------------------------ figures
def plot_confusion(cm: np.ndarray, names: Sequence[str], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(cm, dtype=np.float64)
    rows = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    k = len(names)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * k, 1.0 + 0.5 * k), dpi=110)
    ax.imshow(rows, cmap="Blues", vmin=0, vmax=1)
    for i in range(k):
        for j in range(k):
            if cm[i, j]:
                ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if rows[i, j] > 0.6 else "black")
    ax.set_xticks(range(k))
    ax.set_xticklabels(names, rotation=60, ha="right", fontsize=7)
    ax.set_yticks(range(k))
    ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel("classifier prediction")
    ax.set_ylabel("prompted action")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return atomic_save_figure(fig, path)


def render_samples(clips: Sequence[np.ndarray], prompts: Sequence[Prompt], cfg: QualityConfig, path: Path) -> Path:
    """Grid GIF of generated samples for ``gif_prompts`` actions (``gif_samples`` each), prompt as title."""
    from kinemic_aug.skeleton.render import render_gif

    chosen: List[int] = []
    per_action: Dict[str, List[int]] = {}
    for i, p in enumerate(prompts):
        per_action.setdefault(p.action, []).append(i)
    for name in list(per_action)[:cfg.gif_prompts]:
        chosen.extend(per_action[name][:cfg.gif_samples])
    seqs = [clips[i] for i in chosen]
    titles = [prompts[i].text for i in chosen]
    return render_gif(seqs, LAYOUT, path, fps=cfg.fps, titles=titles, synthetic=True, ncols=4, loop=True)


# ------------------------------------------------------------------------------ report
def markdown_report(res: Dict[str, Any]) -> str:
    q = res["quality"]
    thr = {(r["steps"], r["threads"]): r["seq_per_s"] for r in res["throughput"]}
    threads = sorted({r["threads"] for r in res["throughput"]})
    gif = Path(res["files"].get("samples_gif", "")).name or "-"
    png = Path(res["files"].get("confusion_png", "")).name or "-"
    steps_max = max(res["config"]["step_counts"])
    lines = [
        "# Generalist generator: prompt following and sampling throughput", "",
        f"Checkpoint `{res['checkpoint']['path']}` at training step **{res['checkpoint']['step']}** "
        f"(corpus `{res['checkpoint']['corpus']}`); run {res['date']} on {res['machine']}, variant `{res['variant']}`, "
        f"seed {res['config']['seed']}.", "",
        "Evaluation clips are **SYNTHETIC** (procedural `synthesize_action`, rng seeds disjoint from the generator's "
        f"training corpus; {res['held_out']['overlap_with_training']} of {res['held_out']['n_total']} equal a "
        "training clip by content hash). An ST-GCN (`har`, SMPL-22, PreNormalize3D, "
        f"{res['config']['clip_frames']} frames) is trained on {res['held_out']['n_train']} of them and labels the "
        "generated clips; accuracy = share labelled as the prompted action.", "",
        f"Classifier top-1 on {res['classifier']['val']['n']} held-out procedural val clips: "
        f"**{100 * res['classifier']['val']['top1']:.1f} %** (chance {100 * q[0]['chance']:.1f} %).", "",
        "| DDIM steps | guidance | top-1 on generated (%) | chance (%) | n | top-1 seen / new prompts (%) | "
        "mean joint speed (m/s) | " + " | ".join(f"seq/s, {t} thread{'s' if t > 1 else ''}" for t in threads) + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(threads),
    ]
    for r in q:
        guided = r["guidance"] == res["config"]["guidance"]
        cells = [f"{thr[(r['steps'], t)]:.2f}" if guided and (r["steps"], t) in thr else "–" for t in threads]
        split = " / ".join("–" if r.get(k) is None else f"{100 * r[k]:.1f}"
                           for k in ("top1_seen_prompts", "top1_unseen_prompts"))
        lines.append(f"| {r['steps']} | {r['guidance']} | {100 * r['top1']:.1f} | {100 * r['chance']:.1f} | {r['n']} | "
                     f"{split} | {r['mean_joint_speed']:.3f} | " + " | ".join(cells) + " |")
    lines += [
        "", f"Held-out procedural clips: mean joint speed {res['held_out']['mean_joint_speed']:.3f} m/s "
        "(for comparison with the generated clips; near 0 means frozen samples).", "",
        f"Throughput: end-to-end `MotionGenerator.generate` (text encoding + DDIM + decoding), batch of "
        f"{res['throughput'][0]['batch']} sequences x {res['throughput'][0]['frames']} frames, guidance "
        f"{res['config']['guidance']}, median of {res['throughput'][0]['repeats']} run(s) after a warm-up.", "",
        "Actions: " + ", ".join(f"`{a}`" for a in res["config"]["actions"]) + ". Prompts cycle through every caption "
        f"template of the action; {res['prompts']['seen_verbatim']} of {res['prompts']['n']} are verbatim training "
        "captions (\"seen\"), the rest are new phrasings (e.g. side-free templates of one-sided actions). "
        f"Files: `{gif}` ({steps_max}-step samples, prompt as title), `{png}` ({steps_max} steps). "
        "Full numbers in the JSON.",
    ]
    return "\n".join(lines) + "\n"


def run(checkpoint: Path, cfg: QualityConfig, out_dir: Path = RESULTS_DIR, stem: str = "generator",
        variant: str = "full", text_encoder=None, corpus_spec: Optional[str] = None,
        checkpoint_label: Optional[str] = None) -> Dict[str, Any]:
    """The whole benchmark; writes ``{stem}.json``, ``{stem}.md``, ``{stem}_samples.gif`` and
    ``{stem}_confusion.png`` under ``out_dir`` and returns the result dict.

    ``corpus_spec`` overrides the training corpus recorded in the checkpoint (used for the
    disjointness check); ``checkpoint_label`` is the path written to the report (default: ``checkpoint``)."""
    from kinemic_aug.generator import MotionGenerator, load_checkpoint

    started = _dt.datetime.now(_dt.timezone.utc)
    out_dir = Path(out_dir)
    names = list(cfg.actions)
    for n in names:
        get_action(n)
    ckpt = load_checkpoint(checkpoint)
    ck_corpus = ckpt.get("corpus") or {}
    spec = corpus_spec or ck_corpus.get("name")
    text_cfg = ckpt["config"].get("text", {})
    step = int(ckpt["step"])
    del ckpt
    if text_encoder is None:
        from kinemic_aug.text import get_text_encoder
        text_encoder = get_text_encoder(text_cfg.get("encoder", "minilm"))
    generator = MotionGenerator.from_checkpoint(checkpoint, text_encoder=text_encoder)

    # 1) held-out procedural data, checked against the generator's training corpus
    t0 = time.perf_counter()
    train_clips = make_eval_clips(cfg, 0, cfg.clf_train_per_action)
    val_clips = make_eval_clips(cfg, cfg.clf_train_per_action, cfg.clf_val_per_action)
    if not spec:
        raise DataError("the checkpoint records no training corpus; pass corpus_spec", field="corpus")
    train_hashes, train_captions, fingerprint, n_corpus = training_corpus_hashes(spec)
    check_disjoint(train_clips + val_clips, train_hashes)
    fp_ok = (fingerprint == ck_corpus.get("fingerprint")) if ck_corpus.get("fingerprint") else None
    log.info("held-out clips: %d train, %d val (%.1f s); corpus %s rebuilt (%d clips, fingerprint match %s)",
             len(train_clips), len(val_clips), time.perf_counter() - t0, spec, n_corpus, fp_ok)

    # 2) classifier
    norm_train = [normalize_clip(c.joints, f"{c.action}{c.rng_seed}") for c in train_clips]
    norm_val = [normalize_clip(c.joints, f"{c.action}{c.rng_seed}") for c in val_clips]
    clf, hist = train_classifier(norm_train, [c.label for c in train_clips], len(names), cfg)
    val_rep = accuracy_report([c.label for c in val_clips], classify(clf, norm_val, cfg.clip_frames), names)
    log.info("classifier: val top-1 %.3f (%d clips, %.0f s training)", val_rep["top1"], val_rep["n"], hist["seconds"])

    # 3) generation from prompts, classified
    prompts = make_prompts(cfg, cfg.gen_per_action, cfg.seed)
    for p in prompts:
        p.seen_verbatim = p.text in train_captions
    conditions = [(s, cfg.guidance) for s in cfg.step_counts] + [(cfg.unguided_steps, 1.0)]
    quality: List[Dict[str, Any]] = []
    gif_clips: Optional[List[np.ndarray]] = None
    cm_row: Optional[Dict[str, Any]] = None
    for steps, scale in conditions:
        clips, secs = generate_clips(generator, prompts, steps=steps, guidance=scale, seed=cfg.seed,
                                     batch=cfg.gen_batch)
        norm = [normalize_clip(c, p.text) for c, p in zip(clips, prompts)]
        pred = classify(clf, norm, cfg.clip_frames)
        rep = accuracy_report([p.label for p in prompts], pred, names)
        hit = pred == np.array([p.label for p in prompts])
        seen = np.array([bool(p.seen_verbatim) for p in prompts])
        row = {"steps": int(steps), "guidance": float(scale), **rep, "generation_seconds": round(secs, 1),
               "mean_joint_speed": mean_joint_speed(clips, cfg.fps),
               # prompts that are verbatim training captions vs new phrasings (None when a group is empty)
               "top1_seen_prompts": float(hit[seen].mean()) if seen.any() else None,
               "top1_unseen_prompts": float(hit[~seen].mean()) if (~seen).any() else None}
        quality.append(row)
        log.info("generated %d clips, %d steps, guidance %.1f: top-1 %.3f (%.0f s)", len(clips), steps, scale,
                 rep["top1"], secs)
        if scale == cfg.guidance and (cm_row is None or steps >= cm_row["steps"]):
            gif_clips, cm_row = clips, row

    # 4) throughput
    throughput = measure_throughput(generator, cfg)

    # 5) figures
    out_dir.mkdir(parents=True, exist_ok=True)
    files: Dict[str, str] = {}
    if cm_row is not None and gif_clips is not None:
        title = (f"prompted vs classified, {cm_row['steps']} DDIM steps, guidance {cm_row['guidance']} "
                 f"(step {step}); top-1 {100 * cm_row['top1']:.1f} %, chance {100 * cm_row['chance']:.1f} %\n"
                 "classifier trained on SYNTHETIC procedural clips")
        files["confusion_png"] = str(plot_confusion(np.asarray(cm_row["confusion"]), names,
                                                    out_dir / f"{stem}_confusion.png", title))
        files["samples_gif"] = str(render_samples(gif_clips, prompts, cfg, out_dir / f"{stem}_samples.gif"))

    res: Dict[str, Any] = {
        "benchmark": "generator_quality", "variant": variant, "machine": MACHINE,
        "platform": f"{platform.system()} {platform.machine()}, torch {torch.__version__}",
        "date": started.strftime("%Y-%m-%d %H:%M UTC"),
        "finished": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "checkpoint": {"path": checkpoint_label or str(checkpoint), "step": step, "corpus": spec,
                       "corpus_fingerprint": ck_corpus.get("fingerprint"), "corpus_rebuilt_fingerprint_matches": fp_ok,
                       "text_encoder": text_cfg.get("identifier", text_cfg.get("encoder"))},
        "config": {**asdict(cfg), "actions": names},
        "held_out": {"synthetic": True, "source": "procedural (kinemic_aug.data.procedural.synthesize_action)",
                     "rng": f"default_rng([{cfg.eval_seed}, action_index, i])", "n_train": len(train_clips),
                     "n_val": len(val_clips), "n_total": len(train_clips) + len(val_clips),
                     "training_corpus_clips_checked": n_corpus, "overlap_with_training": 0,
                     "mean_joint_speed": mean_joint_speed([c.joints for c in val_clips], cfg.fps)},
        "classifier": {"model": "har.models.STGCN + GCNHead", "layout": LAYOUT, "preset": dict(cfg.clf_preset),
                       "input": f"PreNormalize3D -> resample to {cfg.clip_frames} frames, xyz joints",
                       "train": hist, "val": val_rep},
        "quality": quality,
        "throughput": throughput,
        "prompts": {"n": len(prompts), "seen_verbatim": int(sum(bool(p.seen_verbatim) for p in prompts)),
                    "list": [asdict(p) for p in prompts]},
        "files": files,
    }
    atomic_write_json(out_dir / f"{stem}.json", res)
    atomic_write_text(out_dir / f"{stem}.md", markdown_report(res))
    return res


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True, type=Path)
    ap.add_argument("--small", action="store_true", help="quick variant (writes generator_small.*)")
    ap.add_argument("--out-dir", type=Path, default=RESULTS_DIR)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[generator_quality] %(message)s")
    torch.set_num_threads(1)
    cfg = replace(QualityConfig.small() if args.small else QualityConfig(), seed=args.seed)
    # snapshot the checkpoint first: the trainer rewrites its file every few hundred steps
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / args.checkpoint.name
        shutil.copyfile(args.checkpoint, local)
        res = run(local, cfg, args.out_dir, "generator_small" if args.small else "generator",
                  "small" if args.small else "full", checkpoint_label=str(args.checkpoint))
    print(markdown_report(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
