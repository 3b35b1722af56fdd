#!/usr/bin/env python
"""Look at skeleton sequences: an animated GIF grid plus a PNG strip of evenly spaced frames.

Examples::

    # MSR Action3D samples by id, or six samples of different classes from a split
    python tools/visualize.py --pkl ../shared/data/msr_action3d/msr_action3d_skeleton.pkl \\
        --ids a01_s01_e01 a05_s02_e01 --out demo_out/msr.gif
    python tools/visualize.py --pkl msr.pkl --split xsub_train --n 6 --out demo_out/msr.gif
    # clips of a MotionCorpus (.npz), retargeted to NTU-25 and seen from the side
    python tools/visualize.py --corpus corpus.npz --n 6 --retarget nturgb+d --view side --out c.gif

Writes ``OUT`` (GIF) and ``OUT`` with suffix ``.png`` (strip). The layout of a PYSKL pickle is
guessed from the joint count unless ``--layout`` is given; a corpus knows each clip's layout.
Clips with different frame rates are resampled to one rate (``--fps``) so they play in step.
"""
from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.data.corpus import MotionCorpus  # noqa: E402
from kinemic_aug.data.pyskl import get_split, load_pyskl, sample_id  # noqa: E402
from kinemic_aug.errors import DataError  # noqa: E402
from kinemic_aug.skeleton.layout import get_layout  # noqa: E402
from kinemic_aug.skeleton.resample import resample  # noqa: E402
from kinemic_aug.skeleton.retarget import retarget  # noqa: E402
from kinemic_aug.skeleton.render import VIEWS, render_gif, render_strip  # noqa: E402

#: layout guessed from the joint count of a 3-D PYSKL pickle
LAYOUT_BY_JOINTS = {25: "nturgb+d", 20: "msr_action3d", 22: "smpl22", 17: "coco", 15: "deepmimic15"}


def pick_diverse(items: Sequence, key, n: int, seed: Optional[int] = None) -> List:
    """``n`` items, one per distinct key first (so a grid shows different classes), then the rest;
    in file order, or shuffled with ``seed``."""
    items = list(items)
    if seed is not None:
        random.Random(seed).shuffle(items)
    seen, first, rest = set(), [], []
    for it in items:
        (rest if key(it) in seen else first).append(it)
        seen.add(key(it))
    return (first + rest)[:n]


def _parse_view(text: str):
    if text in VIEWS:
        return text
    try:
        elev, azim = (float(v) for v in text.split(","))
    except ValueError:
        raise SystemExit(f"--view must be one of {sorted(VIEWS)} or 'ELEV,AZIM' in degrees, got {text!r}")
    return elev, azim


def _from_pkl(args) -> dict:
    data = load_pyskl(args.pkl, layout=args.layout)
    anns = data["annotations"]
    meta = data.get("meta") or {}
    classes = meta.get("classes") or []
    if args.ids:
        by_id = {sample_id(a): a for a in anns}
        missing = [i for i in args.ids if i not in by_id]
        if missing:
            raise DataError(f"ids not in the pickle: {missing}", source=str(args.pkl), field="ids")
        chosen = [by_id[i] for i in args.ids]
    else:
        pool = get_split(data, args.split) if args.split else anns
        chosen = pick_diverse(pool, lambda a: int(a["label"]), args.n, args.seed)
    kp0 = np.asarray(chosen[0]["keypoint"])
    if kp0.shape[-1] != 3:
        raise DataError(f"only 3-D keypoints can be drawn, got C={kp0.shape[-1]}", source=str(args.pkl),
                        sample=sample_id(chosen[0]), field="keypoint")
    layout = args.layout or LAYOUT_BY_JOINTS.get(kp0.shape[-2])
    if layout is None:
        raise DataError(f"cannot guess the layout of {kp0.shape[-2]} joints; pass --layout",
                        source=str(args.pkl), field="keypoint")
    fps = args.fps or float(meta.get("fps") or get_layout(layout).fps or 20.0)

    def label(a) -> str:
        lab = int(a["label"])
        return classes[lab] if 0 <= lab < len(classes) else f"label {lab}"

    return {
        "seqs": [np.asarray(a["keypoint"], dtype=np.float32) for a in chosen],
        "layouts": [layout] * len(chosen), "fps": fps,
        "titles": [sample_id(a) for a in chosen], "labels": [label(a) for a in chosen],
        "synthetic": [bool(a.get("is_synthetic", False)) or str(sample_id(a)).startswith("synthetic_")
                      for a in chosen],
    }


def _from_corpus(args) -> dict:
    corpus = MotionCorpus.load(args.corpus)
    if args.ids:
        try:
            clips = [corpus[i] for i in args.ids]
        except KeyError as e:
            raise DataError(f"clip not in the corpus: {e.args[0]!r}", source=str(args.corpus), field="ids") from None
    else:
        clips = pick_diverse(corpus, lambda c: c.captions[0] if c.captions else c.name, args.n, args.seed)
    if not clips:
        raise DataError("the corpus is empty", source=str(args.corpus))
    fps = args.fps or float(clips[0].fps)
    return {
        "seqs": [resample(c.joints, c.fps, fps, sample=c.name) for c in clips],
        "layouts": [args.layout or c.layout for c in clips], "fps": fps,
        "titles": [c.name for c in clips], "labels": [c.captions[0] if c.captions else "" for c in clips],
        "synthetic": [c.synthetic for c in clips],
    }


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--pkl", type=Path, help="PYSKL annotation pickle")
    src.add_argument("--corpus", type=Path, help="MotionCorpus .npz")
    p.add_argument("--ids", nargs="+", help="sample ids (frame_dir) or clip names to show")
    p.add_argument("--split", help="take samples from this split of the pickle (default: all)")
    p.add_argument("--n", type=int, default=6, help="how many sequences when --ids is not given (default 6)")
    p.add_argument("--seed", type=int, default=None, help="shuffle before picking (default: file order)")
    p.add_argument("--layout", help="layout of the data (default: guessed / the corpus' own)")
    p.add_argument("--retarget", metavar="LAYOUT", help="retarget everything to this layout before drawing")
    p.add_argument("--fps", type=float, help="playback rate (default: the data's)")
    p.add_argument("--view", default="front", help=f"{sorted(VIEWS)} or 'ELEV,AZIM' (default front)")
    p.add_argument("--ncols", type=int, help="grid columns (default: square-ish)")
    p.add_argument("--loop", action="store_true", help="loop short clips instead of holding their last frame")
    p.add_argument("--strip-frames", type=int, default=8, help="frames per row in the PNG strip (default 8)")
    p.add_argument("--out", type=Path, default=Path("demo_out/visualize.gif"), help="output GIF (PNG next to it)")
    return p


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    if args.n < 1:
        raise SystemExit("--n must be >= 1")
    view = _parse_view(args.view)
    got = _from_pkl(args) if args.pkl else _from_corpus(args)
    seqs, layouts = got["seqs"], got["layouts"]
    if args.retarget:
        seqs = [retarget(s, lay, args.retarget, sample=t) for s, lay, t in zip(seqs, layouts, got["titles"])]
        layouts = [get_layout(args.retarget).name] * len(seqs)
    gif = render_gif(seqs, layouts, args.out, fps=got["fps"], titles=got["titles"], ncols=args.ncols, view=view,
                     labels=got["labels"], synthetic=got["synthetic"], loop=args.loop)
    png = render_strip(seqs, layouts, args.out.with_suffix(".png"), n_frames=args.strip_frames,
                       titles=got["titles"], labels=got["labels"], synthetic=got["synthetic"], view=view)
    print(f"wrote {gif} ({len(seqs)} sequences, {got['fps']:g} fps) and {png}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (DataError, FileNotFoundError) as err:  # bad input: one readable line, no traceback
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
