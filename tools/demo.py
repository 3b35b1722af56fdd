#!/usr/bin/env python
"""``make demo``: the whole KineMIC pipeline on the offline default, ending in a table of real-only
against augmented accuracy.

What it does (about 10-20 minutes on a 2-core CPU the first time; a rerun reuses the cached adapters
and synthetic sets, so only the two classifier runs cost time):

1. loads the *target* data: a PYSKL pickle (``--ann``, default MSR Action3D at
   ``../shared/data/msr_action3d/msr_action3d_skeleton.pkl`` relative to the repository, or
   ``$KINEMIC_MSR_PKL``). Research data is read in place, never copied: the classifier reads the
   selected samples from memory (:class:`DemoMemoryDataset`);
2. draws ``--shots`` real shots per class from ``--split`` (seeded by ``--seed``), for a fixed class
   subset (:data:`MSR_DEMO_CLASSES`; ``--classes`` or ``--all-classes`` to change it);
3. runs :class:`~kinemic_aug.augmenter.KineMICAugmenter` with the offline default (shipped
   generalist generator, MiniLM captions, the generator's own corpus) and demo-sized budgets
   (``--adapt-steps``, ``--synthetic-per-class``), cached under ``work_dirs/demo_cache``;
4. trains the same small ST-GCN twice through MMEngine's Runner (``configs/stgcn/stgcn_msr_xsub_full.py``:
   same model, optimizer, schedule, steps, seed and evaluation), once on the real shots alone and once
   on the same shots + the synthetic samples, and evaluates both on ``--test-split`` restricted to the
   chosen classes (labels remapped to ``0..K-1`` for both arms alike);
5. prints the table and writes ``demo_out/demo_results.json``, ``demo_out/demo_results.md`` and
   ``demo_out/demo_preview.gif`` (real shots next to synthetic samples, the latter tagged SYNTHETIC).

Without target data it says what is needed, still draws the shipped seed corpus and a zero-shot
GIF of the generalist generator (both need no target data; the GIF is tagged SYNTHETIC), and exits 0.
The seed and procedural corpora are never used as the target: they are the generator's training
data, so "augmenting" them would measure nothing.

``--data-only`` is the fast data-layer demo: summarise, draw and retarget MSR, draw the seed corpus.
"""
from __future__ import annotations

import argparse
import math
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import har.mm  # noqa: E402,F401  (registers the har components in MMEngine's registries)
from har.datasets.pose_dataset import PoseDataset  # noqa: E402
from har.registry import DATASETS, HOOKS  # noqa: E402
from kinemic_aug.errors import DataError, KinemicError  # noqa: E402
from kinemic_aug.skeleton.resample import resample  # noqa: E402
from kinemic_aug.skeleton.retarget import retarget  # noqa: E402
from kinemic_aug.utils.device import resolve_device  # noqa: E402
from kinemic_aug.utils.io import atomic_write_json, atomic_write_text  # noqa: E402
from kinemic_aug.skeleton.render import render_gif, render_strip  # noqa: E402
from mmengine.hooks import Hook  # noqa: E402

MSR_LAYOUT = "msr_action3d"
MSR_FPS = 15.0
#: The demo's default MSR Action3D classes (0-based): high arm wave, forward punch, bend, forward kick,
#: jogging, pick up & throw. Six classes keep the demo inside its time budget on a CPU; they were picked
#: to span arm-only, leg-only and whole-body motion, one class from each body region of each MSR action
#: set, before any accuracy was looked at. ``--all-classes`` runs all 20.
MSR_DEMO_CLASSES = (0, 4, 12, 13, 15, 19)
#: classes drawn in the data-layer grid (the same six)
GRID_LABELS = MSR_DEMO_CLASSES
#: the sample retargeted to SMPL-22 and NTU-25 (high throw: whole-body motion)
RETARGET_LABEL = 5
#: prompts of the zero-shot GIF shown when there is no target data
ZERO_SHOT_PROMPTS = ("a person waves the right hand high above the head", "a person jogs in place",
                     "a person bends down and picks something up from the floor", "a person kicks forward with the right leg")
DEFAULT_CONFIG = REPO / "configs" / "stgcn" / "stgcn_msr_xsub_full.py"
NO_DATA_HELP = ("The full demo needs target data: a PYSKL skeleton pickle with a training and a test split, "
                "e.g. MSR Action3D (msr_action3d_skeleton.pkl at ../shared/data/msr_action3d/ or $KINEMIC_MSR_PKL) "
                "or NTU RGB+D .skeleton files converted by kinemic_aug.data.ntu.ntu_to_pyskl (then pass --ann, "
                "--layout nturgb+d, --labels ntu120, --split xsub_train --test-split xsub_val and "
                "--config configs/stgcn/stgcn_ntu120_xsub_3d.py). Research data is never shipped or downloaded.")


# ============================================================================ data-layer drawings
def default_msr_path() -> Path:
    env = os.environ.get("KINEMIC_MSR_PKL")
    return Path(env) if env else REPO.parent / "shared" / "data" / "msr_action3d" / "msr_action3d_skeleton.pkl"


def load_msr(path: Path) -> dict:
    """Load through the validating PYSKL loader (safe unpickling)."""
    from kinemic_aug.data.pyskl import load_pyskl

    return load_pyskl(path, layout=MSR_LAYOUT)


def summarise_msr(data: dict) -> None:
    anns = data["annotations"]
    meta = data.get("meta") or {}
    classes = meta.get("classes") or []
    standard = [a for a in anns if a.get("in_cvpr12_list", True)]  # the 557-sequence CVPR'12 list
    lengths = np.array([a["keypoint"].shape[1] for a in standard])
    fps = float(meta.get("fps") or MSR_FPS)
    print(f"MSR Action3D: {len(anns)} sequences ({len(standard)} in the standard list), "
          f"{len(classes) or len({a['label'] for a in anns})} classes, {fps:g} fps; standard list: "
          f"{lengths.min()}-{lengths.max()} frames (mean {lengths.mean():.1f}), {lengths.sum() / fps / 60:.1f} min")
    if classes:
        print("  classes: " + ", ".join(f"{i}={c}" for i, c in enumerate(classes)))
    sizes = ", ".join(f"{k} {len(v)}" for k, v in sorted(data.get("split", {}).items()))
    print(f"  splits: {sizes}")


def first_of_each(anns: Sequence[dict], labels: Sequence[int]) -> List[dict]:
    """The first annotation of each wanted label, in the order of ``labels`` (missing ones skipped)."""
    found: Dict[int, dict] = {}
    for a in anns:
        found.setdefault(int(a["label"]), a)
    return [found[lab] for lab in labels if lab in found]


def _train_pool(data: dict) -> List[dict]:
    ids = set(data.get("split", {}).get("xsub_train", []))
    anns = data["annotations"]
    return [a for a in anns if a["frame_dir"] in ids] or list(anns)


def render_msr_grid(data: dict, out: Path) -> List[Path]:
    classes = (data.get("meta") or {}).get("classes") or []
    chosen = first_of_each(_train_pool(data), GRID_LABELS)
    seqs = [a["keypoint"] for a in chosen]  # [1, T, 20, 3]
    titles = [a["frame_dir"] for a in chosen]
    labels = [classes[a["label"]] if a["label"] < len(classes) else str(a["label"]) for a in chosen]
    gif = render_gif(seqs, MSR_LAYOUT, out / "msr_grid.gif", fps=MSR_FPS, titles=titles, labels=labels, ncols=3)
    png = render_strip(seqs, MSR_LAYOUT, out / "msr_grid.png", n_frames=8, titles=titles, labels=labels)
    return [gif, png]


def render_msr_retarget(data: dict, out: Path) -> List[Path]:
    chosen = first_of_each(_train_pool(data), [RETARGET_LABEL]) or data["annotations"][:1]
    ann = chosen[0]
    kp = ann["keypoint"][0]  # [T, 20, 3]
    smpl = retarget(kp, MSR_LAYOUT, "smpl22", keep_bone_lengths=True, sample=ann["frame_dir"])
    ntu = retarget(kp, MSR_LAYOUT, "nturgb+d", keep_bone_lengths=True, sample=ann["frame_dir"])
    smpl20 = resample(smpl, MSR_FPS, 20.0)
    t = kp.shape[0]
    print(f"Retargeted {ann['frame_dir']} ({t} frames): MSR-20 -> SMPL-22 {smpl.shape} and NTU-25 {ntu.shape} "
          f"(constant bone lengths); at HumanML3D's 20 fps the SMPL clip has {len(smpl20)} frames "
          f"({(t - 1) / MSR_FPS:.2f} s -> {(len(smpl20) - 1) / 20.0:.2f} s)")
    seqs = [kp, smpl, ntu]
    layouts = [MSR_LAYOUT, "smpl22", "nturgb+d"]
    titles = [f"{ann['frame_dir']} MSR-20", "retargeted SMPL-22", "retargeted NTU-25"]
    gif = render_gif(seqs, layouts, out / "msr_retarget.gif", fps=MSR_FPS, titles=titles, ncols=3, view="oblique")
    png = render_strip(seqs, layouts, out / "msr_retarget.png", n_frames=8, titles=titles)
    return [gif, png]


def render_seed(out: Path, n: int = 6) -> List[Path]:
    try:
        from kinemic_aug.data.seed import load_seed_corpus
    except ImportError as e:
        print(f"Seed corpus: skipped (kinemic_aug.data.seed not available: {e})")
        return []
    try:
        corpus = load_seed_corpus()
    except (KinemicError, OSError) as e:
        print(f"Seed corpus: skipped ({e})")
        return []
    print(f"Seed corpus: {corpus!r}; by source {corpus.summary()['by_source']}")
    # a few clips from each source, shown at one rate
    by_source: Dict[str, list] = {}
    for clip in corpus:
        by_source.setdefault(clip.source, []).append(clip)
    clips, i = [], 0
    while len(clips) < min(n, len(corpus)):
        for group in by_source.values():
            if i < len(group) and len(clips) < n:
                clips.append(group[i])
        i += 1
    fps = float(clips[0].fps)
    seqs = [resample(c.joints, c.fps, fps, sample=c.name) for c in clips]
    kw = dict(titles=[c.name for c in clips], labels=[c.captions[0] if c.captions else "" for c in clips],
              synthetic=[c.synthetic for c in clips])
    layouts = [c.layout for c in clips]
    gif = render_gif(seqs, layouts, out / "seed_grid.gif", fps=fps, ncols=3, **kw)
    png = render_strip(seqs, layouts, out / "seed_grid.png", n_frames=8, **kw)
    return [gif, png]


def data_layer_demo(ann: Path, out: Path) -> List[Path]:
    """The fast ``--data-only`` mode: MSR summary, grid and retargeting (if present), seed corpus."""
    written: List[Path] = []
    if ann.is_file():
        data = load_msr(ann)
        summarise_msr(data)
        written += render_msr_grid(data, out)
        written += render_msr_retarget(data, out)
    else:
        print(f"MSR Action3D not found at {ann} (research data, not shipped; set KINEMIC_MSR_PKL). "
              "Skipping the MSR part.")
    written += render_seed(out)
    return written


# ============================================================================ zero-shot preview (no target data)
def render_zero_shot(out: Path, generator: Optional[Path], encoder: str, synthesis: Any, seed: int,
                     prompts: Sequence[str] = ZERO_SHOT_PROMPTS, seconds: float = 3.0) -> List[Path]:
    """Sample the generalist generator (no adaptation) for a few prompts and draw them, tagged SYNTHETIC.

    Shows what the shipped generator does before it has seen any target shot."""
    import torch

    from kinemic_aug.generator.checkpoint import load_generator, resolve_generator
    from kinemic_aug.synthesis import sample_sequences
    from kinemic_aug.text import get_text_encoder

    path = resolve_generator(generator)
    if not path.exists():
        print(f"Zero-shot preview: skipped (generator checkpoint not found: {path})")
        return []
    bundle = load_generator(path, use_ema=True, device="cpu")
    fps = float((bundle.config.get("train") or {}).get("fps") or 20.0)
    text = get_text_encoder(encoder).encode(list(prompts))
    n = max(2, int(round(seconds * fps)))
    t0 = time.perf_counter()
    with torch.no_grad():
        seqs = sample_sequences(bundle.model, bundle.representation, bundle.schedule, [n] * len(prompts), text,
                                None, synthesis, seed=seed)
    print(f"Zero-shot preview: {len(seqs)} SYNTHETIC samples of the generalist (step {bundle.step}, "
          f"{synthesis.steps} {synthesis.sampler.upper()} steps) in {time.perf_counter() - t0:.1f} s")
    gif = render_gif(seqs, "smpl22", out / "zero_shot_synthetic.gif", fps=fps, ncols=2,
                     titles=[f"zero-shot #{i}" for i in range(len(seqs))], labels=list(prompts),
                     synthetic=True)
    return [gif]


# ============================================================================ classifier plumbing (MMEngine)
#: annotation lists the demo's datasets read, by name (in-process only: research data stays in memory)
_MEMORY: Dict[str, List[dict]] = {}


@DATASETS.register_module(force=True)
class DemoMemoryDataset(PoseDataset):
    """A :class:`PoseDataset` over annotation dicts held in this process; ``ann_file`` names the list
    in :data:`_MEMORY`. Why: the demo's subsets (few shots, synthetic samples, a class subset with
    remapped labels) are never written to disk, so research data is not copied anywhere."""

    def load_data_list(self) -> List[dict]:
        anns = _MEMORY.get(str(self.ann_file))
        if anns is None:
            raise DataError(f"no in-memory annotation list named {self.ann_file!r}", field="ann_file")
        out = []
        for a in anns:
            sid = a.get("frame_dir")
            kp = a.get("keypoint")
            if not isinstance(kp, np.ndarray) or kp.ndim != 4:
                raise DataError(f"expected keypoint [M, T, V, C], got {getattr(kp, 'shape', type(kp).__name__)}",
                                source=self.ann_file, sample=sid, field="keypoint")
            label = int(a["label"])
            if self.num_classes is not None and not 0 <= label < self.num_classes:
                raise DataError(f"label {label} outside 0..{self.num_classes - 1}", source=self.ann_file, sample=sid,
                                field="label")
            info = dict(a, label=label)
            info.setdefault("total_frames", kp.shape[1])
            info.setdefault("is_synthetic", False)
            if self.layout is not None:
                info["layout"] = self.layout
            out.append(info)
        if not out:
            raise DataError("no samples", source=self.ann_file, field="annotations")
        self._metainfo["layout"] = self.layout
        return out


@HOOKS.register_module(force=True)
class DemoProgressHook(Hook):
    """A tqdm bar over the optimizer steps (the demo keeps MMEngine's console log at WARNING)."""

    priority = "VERY_LOW"

    def __init__(self, desc: str = "train") -> None:
        self.desc = desc
        self._bar = None

    def before_train(self, runner) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=runner.max_iters, desc=self.desc, leave=True)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if self._bar is None:
            return
        self._bar.update(1)
        loss = (outputs or {}).get("loss")
        if loss is not None:
            value = float(loss.detach()) if hasattr(loss, "detach") else float(loss)
            self._bar.set_postfix(loss=f"{value:.3f}", refresh=False)

    def after_train(self, runner) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def remap(anns: Sequence[dict], classes: Sequence[int]) -> List[dict]:
    """Keep the samples of ``classes`` with labels renumbered ``0..K-1`` (the original id is kept as
    ``orig_label``), so both arms' classifiers have exactly K outputs."""
    index = {int(c): i for i, c in enumerate(classes)}
    return [dict(a, label=index[int(a["label"])], orig_label=int(a["label"])) for a in anns if int(a["label"]) in index]


def build_classifier_config(config: Path, *, train_name: str, test_name: str, layout: str, num_classes: int,
                            steps: int, seed: int, work_dir: Path, desc: str, verbose: bool):
    """The base config's model, pipelines, optimizer and runtime; the training and test sets swapped for
    in-memory ones; ``steps`` optimizer steps with the base's warm-up + cosine shape; one validation at
    the end (the reported number)."""
    from har.training import load_config

    cfg = load_config(config, work_dir=str(work_dir), seed=seed)
    train_pipe, test_pipe = cfg.get("train_pipeline"), cfg.get("test_pipeline")
    if train_pipe is None or test_pipe is None:
        raise DataError(f"{config} defines no train_pipeline/test_pipeline to reuse", source=str(config),
                        field="config")
    ds = dict(type="DemoMemoryDataset", layout=layout, num_classes=num_classes)
    cfg.train_dataloader = dict(batch_size=cfg.train_dataloader.get("batch_size", 16), num_workers=0,
                                persistent_workers=False, sampler=dict(type="InfiniteSampler", shuffle=True),
                                dataset=dict(ds, ann_file=train_name, pipeline=train_pipe))
    cfg.val_dataloader = dict(batch_size=cfg.val_dataloader.get("batch_size", 32), num_workers=0,
                              persistent_workers=False, sampler=dict(type="DefaultSampler", shuffle=False),
                              dataset=dict(ds, ann_file=test_name, pipeline=test_pipe, test_mode=True))
    cfg.test_dataloader = cfg.val_dataloader
    cfg.model.backbone.graph_cfg.layout = layout
    cfg.model.cls_head.num_classes = num_classes
    cfg.train_cfg = dict(type="IterBasedTrainLoop", max_iters=steps, val_interval=steps)
    warm = max(1, min(40, steps // 10))
    cfg.param_scheduler = [
        dict(type="LinearLR", start_factor=0.1, by_epoch=False, begin=0, end=warm),
        dict(type="CosineAnnealingLR", T_max=steps, eta_min=0.0, by_epoch=False, begin=0, end=steps)]
    cfg.default_hooks.logger.interval = max(1, min(50, steps))
    cfg.log_processor = dict(type="LogProcessor", window_size=max(1, min(50, steps)), by_epoch=False)
    cfg.custom_hooks = list(cfg.get("custom_hooks", []) or []) + [dict(type="DemoProgressHook", desc=desc)]
    if not verbose:
        cfg.log_level = "WARNING"
    return cfg


def train_arm(name: str, train: List[dict], test: List[dict], *, config: Path, layout: str, num_classes: int,
              steps: int, seed: int, work_root: Path, verbose: bool) -> Dict[str, Any]:
    """One classifier run through ``har.training.run_training`` (MMEngine Runner); top-1/top-5 of the
    final validation on the test set and the wall time (training + evaluation)."""
    from har.training import run_training

    slug = name.replace(" ", "_").replace("+", "plus")
    _MEMORY[f"demo:{slug}:train"], _MEMORY[f"demo:{slug}:test"] = train, test
    cfg = build_classifier_config(config, train_name=f"demo:{slug}:train", test_name=f"demo:{slug}:test",
                                  layout=layout, num_classes=num_classes, steps=steps, seed=seed,
                                  work_dir=work_root / slug, desc=name, verbose=verbose)
    t0 = time.perf_counter()
    try:
        summary = run_training(cfg)
    finally:
        _MEMORY.pop(f"demo:{slug}:train", None)
        _MEMORY.pop(f"demo:{slug}:test", None)
    seconds = time.perf_counter() - t0
    last = summary.get("last") or {}
    if "acc/top1" not in last:
        raise DataError(f"arm {name!r}: the run recorded no validation (see {summary.get('log_dir')})",
                        field="acc/top1")
    n_syn = sum(bool(a.get("is_synthetic")) for a in train)
    return {"arm": name, "train_real": len(train) - n_syn, "train_synthetic": n_syn, "test_samples": len(test),
            "top1": float(last["acc/top1"]), "top5": float(last.get("acc/top5", float("nan"))),
            "steps": steps, "seconds": seconds, "work_dir": summary.get("work_dir")}


# ============================================================================ the pipeline
@dataclass
class Target:
    """The target data the demo uses: training pool, held-out test set (original labels) and names."""

    path: Path
    data: dict
    train: List[dict]
    test: List[dict]
    class_names: Dict[int, str]


def load_target(path: Path, split: str, test_split: str, layout: str) -> Target:
    """Load and check the target pickle; refuses synthetic samples as the target (circular)."""
    from kinemic_aug.data.pyskl import get_split, load_pyskl

    if path.resolve().is_relative_to((REPO / "kinemic_aug").resolve()):
        raise DataError("the target must be real data outside the package: the shipped corpora are the generator's "
                        "training data", source=str(path), field="ann")
    data = load_pyskl(path, layout=layout)
    splits = data.get("split") or {}
    for name, field in ((split, "split"), (test_split, "test_split")):
        if name not in splits:
            raise DataError(f"unknown {field.replace('_', ' ')} {name!r}; available: {sorted(splits)}",
                            source=str(path), field=field)
    train, test = list(get_split(data, split)), list(get_split(data, test_split))
    for a in train + test:
        if a.get("is_synthetic") or a.get("synthetic") or a.get("source") in ("procedural", "seed"):
            raise DataError("the target holds synthetic / generator-corpus samples; the demo needs real data "
                            "(augmenting the generator's own corpus would be circular)", source=str(path),
                            sample=a.get("frame_dir", a.get("filename")), field="is_synthetic")
    names = list((data.get("meta") or {}).get("classes") or [])
    labels = sorted({int(a["label"]) for a in train + test})
    class_names = {c: (names[c] if c < len(names) else str(c)) for c in labels}
    return Target(path, data, train, test, class_names)


def resolve_classes(args: argparse.Namespace, target: Target) -> List[int]:
    """``--all-classes``: every class of the training split; ``--classes``: those; otherwise the fixed
    MSR subset for MSR data, else the first six classes of the training split."""
    present = sorted({int(a["label"]) for a in target.train})
    if args.all_classes:
        return present
    if args.classes is not None:
        wanted = list(args.classes)
    elif args.layout == MSR_LAYOUT:
        wanted = list(MSR_DEMO_CLASSES)
    else:
        wanted = present[:6]
    missing = [c for c in wanted if c not in present]
    if missing:
        raise DataError(f"class id(s) {missing} have no sample in split {args.split!r} (present: {present})",
                        source=str(target.path), field="classes")
    if len(set(wanted)) < 2:
        raise DataError("at least two classes are needed for a classifier", field="classes")
    return sorted(set(wanted))


def _generator_corpus(generator: Optional[Path]) -> Optional[str]:
    """The corpus spec recorded in the generator checkpoint (pairing must use the generator's corpus)."""
    from kinemic_aug.generator.checkpoint import load_checkpoint, resolve_generator

    ckpt = load_checkpoint(resolve_generator(generator))
    return (ckpt.get("corpus") or {}).get("name")


def _generator_step(synthetic: Sequence[dict]) -> Optional[int]:
    """The generator checkpoint's training step, as recorded in the synthetic samples."""
    for a in synthetic:
        step = (a.get("synthetic_info") or {}).get("generator_step")
        if step is not None:
            return int(step)
    return None


def _repo_relative(path: Path) -> str:
    """``path`` relative to the repository when inside it (results files stay machine-independent)."""
    p = path.resolve()
    return str(p.relative_to(REPO)) if p.is_relative_to(REPO) else str(path)


def _finite(x: Any) -> Any:
    return None if isinstance(x, float) and not math.isfinite(x) else x


def render_preview(real: List[dict], synthetic: List[dict], classes: Sequence[int], names: Dict[int, str],
                   layout: str, fps: float, path: Path, n_classes: int = 3, n_syn: int = 2) -> Optional[Path]:
    """One row per class: a real shot, then synthetic samples (tagged SYNTHETIC)."""
    seqs, titles, labels, flags = [], [], [], []
    for c in list(classes)[:n_classes]:
        r = [a for a in real if int(a["label"]) == c][:1]
        s = [a for a in synthetic if int(a["label"]) == c][:n_syn]
        for i, a in enumerate(r + s):
            seqs.append(a["keypoint"])
            syn = bool(a.get("is_synthetic"))
            titles.append(f"synthetic #{i - len(r)}" if syn else f"real {a['frame_dir']}")
            labels.append(names.get(c, str(c)))
            flags.append(syn)
    if not seqs:
        return None
    return render_gif(seqs, layout, path, fps=fps, titles=titles, labels=labels, synthetic=flags, ncols=1 + n_syn)


def results_markdown(res: Dict[str, Any]) -> str:
    arms = res["arms"]
    lines = ["# make demo: real-only vs KineMIC-augmented", "",
             f"Data: `{res['data']['ann']}` ({res['data']['split']} -> {res['data']['test_split']}), "
             f"{len(res['classes'])} classes ({', '.join(res['class_names'])}), {res['shots']} shot(s) per class, "
             f"seed {res['seed']}. One draw and one seed: an indication, not a benchmark "
             "(see benchmarks/results/ for multi-seed numbers).", "",
             f"Augmenter: {res['augmenter']['adapt_steps']} adaptation steps per class, "
             f"{res['augmenter']['synthetic_per_class']} synthetic (SYNTHETIC, generated) samples per class, "
             f"generator `{res['augmenter']['generator']}` (step {res['augmenter']['generator_step']}), "
             f"{res['augmenter']['seconds']:.1f} s.", "",
             "| arm | train samples (real/synthetic) | top-1 | seconds |", "|---|---|---|---|"]
    for a in arms:
        lines.append(f"| {a['arm']} | {a['train_real']}/{a['train_synthetic']} | {100 * a['top1']:.1f} % | "
                     f"{a['seconds']:.1f} |")
    if arms[-1]["train_synthetic"] == 0:
        lines += ["", "**No synthetic sample passed the filter**: the augmented arm trained on the real shots only."]
    lines += ["", f"Both arms: the same ST-GCN config (`{res['classifier']['config']}`), {res['classifier']['steps']} "
              f"SGD steps, seed {res['seed']}, evaluated once at the end on {arms[0]['test_samples']} test sequences.",
              "", "Per class (augmenter report):", "", res["augmenter"]["report_table"], "",
              f"Machine: {res['machine']['platform']}, torch {res['machine']['torch']}, "
              f"{res['machine']['threads']} thread(s), device {res['machine']['device']}; total {res['seconds']:.1f} s.", ""]
    return "\n".join(lines)


def full_demo(args: argparse.Namespace, target: Target) -> Dict[str, Any]:
    """Steps 2-5 of the module docstring; returns the results dict (also written to ``--out``)."""
    import torch

    from kinemic_aug.adapt import AdaptConfig
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.generator.checkpoint import resolve_generator
    from kinemic_aug.utils.io import sha256_file

    t_start = time.perf_counter()
    classes = resolve_classes(args, target)
    names = [target.class_names[c] for c in classes]
    print(f"Target: {target.path} ({len(target.train)} in {args.split}, {len(target.test)} in {args.test_split}); "
          f"{len(classes)} classes: " + ", ".join(f"{c}={n}" for c, n in zip(classes, names)))
    generator = resolve_generator(args.generator)
    corpus = args.corpus or _generator_corpus(generator)
    labels = args.labels if args.labels is not None else (MSR_LAYOUT if args.layout == MSR_LAYOUT else None)
    synth = synthesis_config(args)

    print(f"\n[1/3] KineMIC: {args.shots} shot(s) per class (seed {args.seed}), {args.adapt_steps} adaptation steps and "
          f"{args.synthetic_per_class} synthetic samples per class; cache {args.cache_dir}")
    t0 = time.perf_counter()
    kw = dict(corpus=corpus) if corpus else {}
    aug = KineMICAugmenter(target.data, split=args.split, shots=args.shots, allow_fewer=True, labels=labels,
                           layout=args.layout, synthetic_per_class=args.synthetic_per_class,
                           adapt=AdaptConfig(steps=args.adapt_steps), synthesis=synth, generator=generator,
                           cache_dir=args.cache_dir, device=args.device, seed=args.seed, classes=classes,
                           progress=True, **kw)
    anns = aug.annotations()
    aug_seconds = time.perf_counter() - t0
    real = [a for a in anns if not a.get("is_synthetic")]
    synthetic = [a for a in anns if a.get("is_synthetic")]
    table = aug.report_table()
    print(table)
    print(f"augmentation: {len(real)} real shots + {len(synthetic)} synthetic samples in {aug_seconds:.1f} s")
    if not synthetic:
        print("warning: no synthetic sample passed the filter; the augmented arm trains on the real shots only")

    test = remap(target.test, classes)
    if not test:
        raise DataError(f"split {args.test_split!r} has no sample of classes {classes}", source=str(target.path),
                        field="test_split")
    arms = []
    common = dict(config=Path(args.config), layout=args.layout, num_classes=len(classes), steps=args.train_steps,
                  seed=args.seed, work_root=Path(args.work_dir), verbose=args.verbose)
    print(f"\n[2/3] ST-GCN on the real shots only ({len(real)} samples, {args.train_steps} steps)")
    arms.append(train_arm("real only", remap(real, classes), test, **common))
    print(f"\n[3/3] ST-GCN on real + KineMIC ({len(real)} + {len(synthetic)} samples, {args.train_steps} steps)")
    arms.append(train_arm("real + KineMIC", remap(real + synthetic, classes), test, **common))

    out = Path(args.out)
    preview = render_preview(real, synthetic, classes, target.class_names, args.layout, aug.domain.fps,
                             out / "demo_preview.gif")
    res = {
        "kind": "kinemic-aug make demo", "synthetic_note": "train_synthetic counts generated samples (is_synthetic=True)",
        "data": {"ann": str(target.path), "split": args.split, "test_split": args.test_split, "layout": args.layout},
        "classes": classes, "class_names": names, "shots": args.shots, "seed": args.seed,
        "augmenter": {"adapt_steps": args.adapt_steps, "synthetic_per_class": args.synthetic_per_class,
                      "sample_steps": aug.synth_cfg.steps, "synthesis": aug.synth_cfg.to_dict(),
                      "adapt": aug.adapt_cfg.cache_dict(), "generator": str(generator),
                      "generator_sha256": sha256_file(generator), "generator_step": _generator_step(synthetic),
                      "corpus": aug.corpus_spec, "cache_dir": str(args.cache_dir), "seconds": aug_seconds,
                      "real_shot_ids": [a["frame_dir"] for a in real],
                      "per_class": [{k: _finite(v) for k, v in asdict(aug.reports[c]).items()} for c in aug.classes
                                    if c in aug.reports],
                      "report_table": table},
        "classifier": {"config": _repo_relative(Path(args.config)), "steps": args.train_steps},
        "arms": [{k: _finite(v) for k, v in a.items()} for a in arms],
        "preview": str(preview) if preview else None,
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "threads": torch.get_num_threads(), "device": str(resolve_device(args.device))},
        "seconds": time.perf_counter() - t_start,
    }
    atomic_write_json(out / "demo_results.json", res)
    atomic_write_text(out / "demo_results.md", results_markdown(res))
    print("\n| arm | train samples (real/synthetic) | top-1 | seconds |\n|---|---|---|---|")
    for a in arms:
        print(f"| {a['arm']} | {a['train_real']}/{a['train_synthetic']} | {100 * a['top1']:.1f} % | {a['seconds']:.1f} |")
    print(f"({len(test)} test sequences of {args.test_split}; synthetic = generated samples, flagged is_synthetic)")
    print(f"\nWrote {out / 'demo_results.json'}, {out / 'demo_results.md'}" + (f", {preview}" if preview else "")
          + f" in {res['seconds']:.1f} s")
    return res


# ============================================================================ command line
def _class_list(text: str) -> List[int]:
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--classes takes comma-separated integer ids, got {text!r}") from None
    if not ids or min(ids) < 0:
        raise argparse.ArgumentTypeError(f"--classes takes non-negative class ids, got {text!r}")
    return ids


def _int_at_least(minimum: int):
    """An argparse type: an integer >= ``minimum``, with the offending text in the error."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {v}")
        return v
    return parse


_positive = _int_at_least(1)
_non_negative = _int_at_least(0)


def _synthesis_option(text: str) -> Tuple[str, Any]:
    """``KEY=VALUE`` for a :class:`~kinemic_aug.synthesis.SynthesisConfig` field, the value parsed as
    the field's default type (so a typo or a wrong type fails at the command line, not mid-run)."""
    from kinemic_aug.synthesis import SynthesisConfig

    key, sep, value = text.partition("=")
    defaults = {f.name: getattr(SynthesisConfig(), f.name) for f in fields(SynthesisConfig)}
    if not sep or key not in defaults:
        raise argparse.ArgumentTypeError(f"--synthesis takes KEY=VALUE with KEY one of {sorted(defaults)}, got {text!r}")
    kind = type(defaults[key])
    try:
        if kind is tuple:
            return key, tuple(v.strip() for v in value.split(",") if v.strip())
        if kind is bool:
            return key, {"true": True, "1": True, "false": False, "0": False}[value.lower()]
        return key, kind(value)
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"--synthesis {key}: expected {kind.__name__}, got {value!r}") from None


def synthesis_config(args: argparse.Namespace):
    """``None`` (the augmenter's default) unless ``--sample-steps`` or ``--synthesis`` change a field."""
    from kinemic_aug.synthesis import SynthesisConfig

    over = dict(args.synthesis or [])
    if args.sample_steps:
        over["steps"] = args.sample_steps
    if not over:
        return None
    try:
        return SynthesisConfig(**over)
    except (TypeError, ValueError) as e:
        raise DataError(f"bad synthesis option: {e}", field="synthesis") from None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="kinemic-aug demo: few real shots -> KineMIC synthetic samples -> "
                                "ST-GCN real-only vs augmented (see the module docstring)")
    p.add_argument("--dataset", default=None, help="a dataset spec (kinemic_aug.data.datasets: msr_action3d, utd_mhad, "
                   "or a spec .json) whose pickle, splits, layout, labels and config are the defaults below")
    p.add_argument("--ann", "--msr", dest="ann", type=Path, default=None,
                   help="target PYSKL pickle (default: $KINEMIC_MSR_PKL or "
                   "../shared/data/msr_action3d/msr_action3d_skeleton.pkl)")
    p.add_argument("--split", default=None, help="split the shots are drawn from (default xsub_train)")
    p.add_argument("--test-split", default=None, help="held-out evaluation split (default xsub_test)")
    p.add_argument("--layout", default=None, help="skeleton layout of the data: a name or a layout .json "
                   "(default msr_action3d)")
    p.add_argument("--labels", default=None, help="label set name or file (default: msr_action3d for MSR, "
                   "else the pickle's meta classes)")
    p.add_argument("--shots", type=_positive, default=3, help="real shots per class (default 3)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--classes", type=_class_list, default=None,
                   help=f"comma-separated class ids (default for MSR: {','.join(map(str, MSR_DEMO_CLASSES))})")
    g.add_argument("--all-classes", action="store_true", help="use every class (slower: one adapter per class)")
    p.add_argument("--seed", type=int, default=0, help="seeds the shot draw, adapters, synthesis and training")
    p.add_argument("--adapt-steps", type=_non_negative, default=60,
                   help="adaptation steps per class (default 60; 0 = zero-shot prompting)")
    p.add_argument("--synthetic-per-class", type=_non_negative, default=12, help="synthetic samples per class (default 12)")
    p.add_argument("--sample-steps", type=_positive, default=None, help="DDIM steps (default: SynthesisConfig's)")
    p.add_argument("--synthesis", type=_synthesis_option, action="append", default=None, metavar="KEY=VALUE",
                   help="override a SynthesisConfig field, e.g. guidance=3.0 or shot_strength=0.6 (repeatable)")
    p.add_argument("--train-steps", type=_positive, default=600,
                   help="classifier SGD steps of batch 16, both arms (default 600, as benchmarks.har_few_shot)")
    p.add_argument("--config", type=Path, default=None, help="classifier config whose model, pipelines "
                   "and optimizer both arms use (default configs/stgcn/stgcn_msr_xsub_full.py)")
    p.add_argument("--generator", type=Path, default=None, help="generalist checkpoint, or the name of a shipped one (default: small)")
    p.add_argument("--corpus", default=None, help="the generator's corpus spec (default: read from the checkpoint)")
    p.add_argument("--encoder", default="minilm", help="text encoder of the zero-shot preview (default minilm)")
    p.add_argument("--cache-dir", type=Path, default=REPO / "work_dirs" / "demo_cache")
    p.add_argument("--work-dir", type=Path, default=REPO / "work_dirs" / "demo", help="classifier run folders")
    p.add_argument("--out", type=Path, default=REPO / "demo_out", help="output folder (default demo_out/)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (augmenter)")
    p.add_argument("--threads", type=_positive, default=int(os.environ.get("KINEMIC_THREADS", "1")),
                   help="torch CPU threads (default 1, or $KINEMIC_THREADS)")
    p.add_argument("--data-only", action="store_true", help="only the fast data-layer drawings")
    p.add_argument("--verbose", action="store_true", help="MMEngine's INFO log on the console")
    args = p.parse_args(argv)
    if args.dataset is not None:  # the spec fills what the command line left open
        from kinemic_aug.data.datasets import get_dataset_spec

        spec = get_dataset_spec(args.dataset)
        args.ann = args.ann or spec.pickle_path()
        args.split, args.test_split = args.split or spec.train_split, args.test_split or spec.test_split
        args.layout, args.labels = args.layout or spec.layout or None, args.labels or spec.labels or None
        args.config = args.config or REPO / "configs" / "stgcn" / f"{spec.config_stem}_full.py"
    if args.ann is None:
        args.ann = default_msr_path()
    args.split, args.test_split = args.split or "xsub_train", args.test_split or "xsub_test"
    args.layout, args.config = args.layout or MSR_LAYOUT, args.config or DEFAULT_CONFIG
    return args


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = parse_args(argv)
    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.data_only:
        written = data_layer_demo(args.ann, args.out)
        print(f"\nWrote {len(written)} files in {time.perf_counter() - start:.1f} s:")
        for path in written:
            print(f"  {path}")
        return 0
    try:
        if args.ann.is_file():
            full_demo(args, load_target(args.ann, args.split, args.test_split, args.layout))
        else:
            no_data_demo(args, start)
    except KinemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


def no_data_demo(args: argparse.Namespace, start: float) -> None:
    """What runs without target data: say what is needed, draw the seed corpus and zero-shot samples."""
    from kinemic_aug.synthesis import SynthesisConfig

    print(f"No target data: {args.ann} does not exist.\n{NO_DATA_HELP}\n"
          "Running the parts that need no target data (seed corpus drawings, zero-shot generator samples).\n")
    written = render_seed(args.out)
    written += render_zero_shot(args.out, args.generator, args.encoder, synthesis_config(args) or SynthesisConfig(),
                                args.seed)
    print(f"\nWrote {len(written)} files in {time.perf_counter() - start:.1f} s:")
    for path in written:
        print(f"  {path}")
    print(f"\nNo accuracy table: no target data. {NO_DATA_HELP}")


if __name__ == "__main__":
    sys.exit(main())
