"""The fast ``--data-only`` demo of the data layer: summarise and draw MSR Action3D, retarget one of
its samples to SMPL-22 and NTU-25, draw the shipped seed corpus. No training, no generator."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from kinemic_aug.errors import KinemicError
from kinemic_aug.skeleton.render import render_gif, render_strip
from kinemic_aug.skeleton.resample import resample
from kinemic_aug.skeleton.retarget import retarget

from .settings import GRID_LABELS, MSR_FPS, MSR_LAYOUT, RETARGET_LABEL


def load_msr(path: Path) -> dict:
    """Load through the validating PYSKL loader (safe unpickling)."""
    from kinemic_aug.data.pyskl import load_pyskl

    return load_pyskl(path, layout=MSR_LAYOUT)


def summarise_msr(data: dict) -> None:
    """Print sizes, lengths, classes and splits, so one sees what the drawings are taken from."""
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
    """The training split's samples (all of them when there is none): drawings show training data only."""
    ids = set(data.get("split", {}).get("xsub_train", []))
    anns = data["annotations"]
    return [a for a in anns if a["frame_dir"] in ids] or list(anns)


def render_msr_grid(data: dict, out: Path) -> List[Path]:
    """A GIF and a strip of one training sample of each :data:`GRID_LABELS` class."""
    classes = (data.get("meta") or {}).get("classes") or []
    chosen = first_of_each(_train_pool(data), GRID_LABELS)
    seqs = [a["keypoint"] for a in chosen]  # [1, T, 20, 3]
    titles = [a["frame_dir"] for a in chosen]
    labels = [classes[a["label"]] if a["label"] < len(classes) else str(a["label"]) for a in chosen]
    gif = render_gif(seqs, MSR_LAYOUT, out / "msr_grid.gif", fps=MSR_FPS, titles=titles, labels=labels, ncols=3)
    png = render_strip(seqs, MSR_LAYOUT, out / "msr_grid.png", n_frames=8, titles=titles, labels=labels)
    return [gif, png]


def render_msr_retarget(data: dict, out: Path) -> List[Path]:
    """One MSR sample next to its SMPL-22 and NTU-25 retargetings (the layouts the generator and NTU use)."""
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
    """A few clips of each source of the shipped seed corpus; skipped with a message when it cannot load."""
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
