#!/usr/bin/env python
"""The data-layer demo (``make demo``): load MSR Action3D, summarise it, draw it, retarget it, and
draw the shipped seed corpus.

Inputs (nothing is downloaded):
- MSR Action3D at ``../shared/data/msr_action3d/msr_action3d_skeleton.pkl`` relative to the
  repository root, or ``$KINEMIC_MSR_PKL``. Research data, read in place; if it is absent the demo
  says so and continues.
- the seed corpus through ``kinemic_aug.data.seed.load_seed_corpus()``, skipped if that module or
  its asset is missing.

Outputs go to ``demo_out/`` (or ``--out``): GIF grids and PNG strips, listed at the end.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kinemic_aug.errors import KinemicError  # noqa: E402
from kinemic_aug.skeleton.resample import resample  # noqa: E402
from kinemic_aug.skeleton.retarget import retarget  # noqa: E402
from kinemic_aug.viz import render_gif, render_strip  # noqa: E402

MSR_LAYOUT = "msr_action3d"
MSR_FPS = 15.0
#: classes drawn in the grid (0-based MSR labels): wave, punch, bend, forward kick, jogging, pick up & throw
GRID_LABELS = (0, 4, 12, 13, 15, 19)
#: the sample retargeted to SMPL-22 and NTU-25 (high throw: whole-body motion)
RETARGET_LABEL = 5


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


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description="kinemic-aug data-layer demo")
    p.add_argument("--msr", type=Path, default=None, help="MSR Action3D pickle (default: $KINEMIC_MSR_PKL or "
                   "../shared/data/msr_action3d/msr_action3d_skeleton.pkl)")
    p.add_argument("--out", type=Path, default=REPO / "demo_out", help="output folder (default demo_out/)")
    args = p.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    start = time.perf_counter()
    written: List[Path] = []
    msr = args.msr or default_msr_path()
    if msr.is_file():
        data = load_msr(msr)
        summarise_msr(data)
        written += render_msr_grid(data, args.out)
        written += render_msr_retarget(data, args.out)
    else:
        print(f"MSR Action3D not found at {msr} (research data, not shipped; set KINEMIC_MSR_PKL). "
              "Skipping the MSR part.")
    written += render_seed(args.out)
    print(f"\nWrote {len(written)} files in {time.perf_counter() - start:.1f} s:")
    for path in written:
        print(f"  {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
