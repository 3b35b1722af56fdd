#!/usr/bin/env python
"""Augment a PYSKL pickle with KineMIC synthetic samples and write previews.

Example (MSR Action3D, 5 shots per class drawn from the cross-subject train split)::

    python tools/augment.py ../shared/data/msr_action3d/msr_action3d_skeleton.pkl --split xsub_train \\
        --shots 5 --labels msr_action3d --layout msr_action3d --per-class 60 --out work_dirs/msr_5shot_aug.pkl

Writes the augmented pickle (original splits untouched, plus ``<split>_kinemic`` = shots + synthetic),
one preview GIF per class (real shots next to synthetic samples, synthetic ones titled SYNTHETIC), and
a per-class time report (markdown) beside the pickle. Adapters and synthetic sets are cached in
``--cache-dir``: rerunning is a cache hit.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from kinemic_aug.utils.threads import pin_threads_from_argv  # noqa: E402  (stdlib only)


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pkl", help="PYSKL annotation pickle")
    ap.add_argument("--split", required=True, help="training split holding the real samples")
    ap.add_argument("--shots", type=int, default=None, help="shots per class drawn from --split (default: all)")
    ap.add_argument("--allow-fewer", action="store_true", help="accept classes with fewer samples than --shots")
    ap.add_argument("--classes", default=None, help="comma-separated class ids (default: all)")
    ap.add_argument("--labels", default=None, help="label set name or metadata file (default: the pickle's meta)")
    ap.add_argument("--layout", required=True, help="skeleton layout of the data, e.g. msr_action3d, nturgb+d")
    ap.add_argument("--fps", type=float, default=None, help="frame rate of the data (default: meta or layout)")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--per-class", type=int, default=50, help="synthetic samples per class")
    g.add_argument("--ratio", type=float, default=None, help="synthetic samples per real shot")
    ap.add_argument("--variant", default="kinemic", help="kinemic | finetune | nocontrastive | noweight | zeroshot")
    ap.add_argument("--adapt-steps", type=int, default=None, help="override the adaptation steps")
    ap.add_argument("--mode", choices=["per_class", "joint"], default="per_class",
                    help="one adapter per class or one joint adapter over all classes (cheaper, the paper's)")
    ap.add_argument("--negatives", choices=["other_classes", "low_similarity", "both"], default="other_classes",
                    help="per-class contrastive negatives; low_similarity makes each class's adapter independent of "
                         "the other classes selected (with --target-stats, adding a class trains that class only)")
    ap.add_argument("--target-norm", choices=["shots", "generalist"], default="shots",
                    help="normalise the shots with their own statistics (default) or the generalist's corpus ones")
    ap.add_argument("--target-stats", default=None,
                    help="pin the shots' normalisation to a file from --save-target-stats (adding classes then "
                         "keeps the earlier classes' adapters)")
    ap.add_argument("--save-target-stats", default=None,
                    help="write the statistics the shots were normalised with (.npz) for a later --target-stats")
    ap.add_argument("--shot-strength", type=float, default=1.0,
                    help="1: sample from pure noise (the paper); <1: start from the real shots noised this far (partial diffusion)")
    ap.add_argument("--sample-steps", type=int, default=20, help="DDIM steps")
    ap.add_argument("--guidance", type=float, default=2.5)
    ap.add_argument("--compose-with", action="append", default=[],
                    help="unrelated caption for dual conditioning (repeatable)")
    ap.add_argument("--compose-fraction", type=float, default=0.0)
    ap.add_argument("--generator", default=None, help="generalist checkpoint (default: the shipped one)")
    ap.add_argument("--corpus", default=None, help="corpus spec the generator was trained on")
    ap.add_argument("--encoder", default="minilm")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=None, help="CPU threads (torch, BLAS, OpenMP)")
    ap.add_argument("--out", required=True, help="augmented pickle to write")
    ap.add_argument("--preview", type=int, default=4, help="synthetic samples per class in the preview GIF (0: none)")
    a = ap.parse_args(argv)
    if a.target_norm != "shots" and (a.target_stats or a.save_target_stats):  # refuse before any work is done
        ap.error("--target-stats / --save-target-stats pin or save the statistics of --target-norm shots")
    return a


def main(argv=None) -> int:
    pin_threads_from_argv(argv)  # before numpy loads: --threads covers BLAS/OpenMP too (kinemic_aug.utils.threads)
    a = parse_args(argv)
    import torch

    if a.threads:
        torch.set_num_threads(a.threads)
    from dataclasses import replace

    from kinemic_aug.adapt import AdaptConfig
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.data.sources import DEFAULT_GENERALIST_CORPUS
    from kinemic_aug.errors import KinemicError
    from kinemic_aug.synthesis import SynthesisConfig
    from kinemic_aug.utils.io import atomic_write_text
    from kinemic_aug.viz import render_gif

    adapt = AdaptConfig(mode=a.mode, negatives=a.negatives)
    if a.adapt_steps is not None:
        adapt = replace(adapt, steps=a.adapt_steps)
    synth = SynthesisConfig(steps=a.sample_steps, guidance=a.guidance, compose_with=tuple(a.compose_with),
                            compose_fraction=a.compose_fraction, shot_strength=a.shot_strength)
    t0 = time.time()
    try:
        aug = KineMICAugmenter(
            a.pkl, split=a.split, shots=a.shots, allow_fewer=a.allow_fewer, labels=a.labels, layout=a.layout,
            fps=a.fps, synthetic_per_class=None if a.ratio is not None else a.per_class, synthetic_ratio=a.ratio,
            variant=a.variant, adapt=adapt, synthesis=synth, generator=a.generator,
            corpus=a.corpus or DEFAULT_GENERALIST_CORPUS, encoder=a.encoder, cache_dir=a.cache_dir, device=a.device,
            seed=a.seed, classes=[int(c) for c in a.classes.split(",")] if a.classes else None, progress=True,
            target_norm=a.target_norm, target_stats=a.target_stats)
        out = aug.save_pyskl(a.out)
        if a.save_target_stats:
            aug.save_target_stats(a.save_target_stats)
    except KinemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    total = time.time() - t0
    out = Path(out)
    report = [f"# KineMIC augmentation of {Path(a.pkl).name}", "",
              f"variant `{a.variant}`, split `{a.split}`, shots {a.shots or 'all'}, seed {a.seed}, "
              f"shots normalised with the {a.target_norm} statistics"
              f"{f' pinned to `{a.target_stats}`' if a.target_stats else ''}, "
              f"total {total:.1f} s. Synthetic samples are flagged `is_synthetic=True`.", "", aug.report_table(), ""]
    atomic_write_text(out.with_suffix(".report.md"), "\n".join(report))
    if a.preview > 0:
        syn = aug.synthetic_annotations()
        for c in aug.classes:
            shots = [x for x in aug.shot_anns if int(x["label"]) == c][:2]
            fake = [x for x in syn if int(x["label"]) == c][:a.preview]
            seqs = [x["keypoint"][0] for x in shots + fake]
            if not seqs:
                continue
            titles = [f"real {x['frame_dir']}" for x in shots] + [f"#{i}" for i in range(len(fake))]
            render_gif(seqs, a.layout, out.with_name(f"{out.stem}_class{c:03d}.gif"), fps=aug.domain.fps,
                       titles=titles, synthetic=[False] * len(shots) + [True] * len(fake))
    print(aug.report_table())
    print(f"wrote {out} ({len(aug.synthetic_annotations())} synthetic samples) in {total:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
