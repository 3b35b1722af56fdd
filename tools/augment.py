#!/usr/bin/env python
"""Augment a PYSKL pickle with KineMIC synthetic samples and write previews.

Example (MSR Action3D, 5 shots per class drawn from the cross-subject train split)::

    python tools/augment.py ../shared/data/msr_action3d/msr_action3d_skeleton.pkl --split xsub_train \\
        --shots 5 --labels msr_action3d --layout msr_action3d --per-class 60 --out work_dirs/msr_5shot_aug.pkl

Writes the augmented pickle (original splits untouched, plus ``<split>_kinemic`` = shots + synthetic),
one preview GIF per class (real shots next to synthetic samples, synthetic ones titled SYNTHETIC), and
a per-class report (markdown: times, counts, column legend, classes that fell short, the mmaction2
config lines for the layout) beside the pickle. Adapters and synthetic sets are cached in
``--cache-dir``: rerunning is a cache hit.

The pickle is read as it is by PYSKL / mmaction2's ``PoseDataset`` (docs/mmaction2.md): every
annotation says ``is_synthetic``, synthetic ones carry the real ones' fields (e.g. ``keypoint_score``
of ones, ``subject=-1``), and numpy 1.x and 2.x both load it. Progress is one line per class on
stderr (beside the bar on a terminal); warnings are one plain line each.
"""
from __future__ import annotations

import argparse
import logging
import sys
import time
import warnings
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
    ap.add_argument("--adapt-engine", choices=["legacy", "fast"], default="legacy",
                    help="adaptation step: padded (legacy, the default) or packed with cheap dropout masks (fast: "
                         "about 1.5x on a 2-core CPU; another random stream, so other adapters)")
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
    ap.add_argument("--draw-limit", type=float, default=8.0,
                    help="draw at most this many samples per sample asked before a class is reported short")
    ap.add_argument("--drop-fields", default=None,
                    help="comma-separated per-sample fields to leave out of every annotation, e.g. keypoint_score "
                         "for mmaction2's 3-D configs (their GenSkeFeat refuses 3-D keypoints with scores)")
    ap.add_argument("--sample-steps", type=int, default=20, help="DDIM steps")
    ap.add_argument("--guidance", type=float, default=2.5)
    ap.add_argument("--compose-with", action="append", default=[],
                    help="unrelated caption for dual conditioning (repeatable)")
    ap.add_argument("--compose-fraction", type=float, default=0.0)
    ap.add_argument("--generator", default=None, help="generalist checkpoint, or the name of a shipped one (default: small)")
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


def _plain_warnings() -> None:
    """Warnings and the library's warning logs as one line each on stderr (no source line, no traceback)."""
    def show(message, category, filename, lineno, file=None, line=None):  # noqa: ARG001 - warnings' signature
        print(f"warning: {message}", file=sys.stderr, flush=True)

    warnings.showwarning = show
    lib = logging.getLogger("kinemic_aug")
    for h in [h for h in lib.handlers if getattr(h, "_augment_tool", False)]:  # a second main() in one process
        lib.removeHandler(h)
    handler = logging.StreamHandler(sys.stderr)  # the stderr of now (a test may have swapped it)
    handler.setFormatter(logging.Formatter("warning: %(message)s"))
    handler.setLevel(logging.WARNING)
    handler._augment_tool = True
    lib.addHandler(handler)


def report_markdown(aug, a, total: float, out: Path) -> str:
    """The report written beside the pickle."""
    from kinemic_aug.integrations.mmaction2 import config_lines

    short = aug.shortfalls()
    asked = f"{a.ratio:g} per real shot" if a.ratio is not None else f"{a.per_class} per class"
    n_syn = len(aug.synthetic_annotations())
    lines = [f"# KineMIC augmentation of {Path(a.pkl).name}", "",
             f"variant `{a.variant}`, split `{a.split}`, shots {a.shots or 'all'}, seed {a.seed}, "
             f"shots normalised with the {a.target_norm} statistics"
             f"{f' pinned to `{a.target_stats}`' if a.target_stats else ''}, "
             f"total {total:.1f} s. Synthetic samples are flagged `is_synthetic=True` (real ones `False`) and carry "
             "the real samples' fields.", "",
             f"Synthetic samples asked: {asked}; written: {n_syn} "
             f"(the filter may draw up to {a.draw_limit:g} x the count asked per class).", "",
             aug.report_table(), "", aug.REPORT_LEGEND, ""]
    if short:
        lines += ["## Classes that fell short", "", *[f"- {x}" for x in short], "",
                  "Raise `--draw-limit`, loosen the filter or train the adapter longer (`--adapt-steps`) for them.", ""]
    else:
        lines += ["Every class got the synthetic samples asked.", ""]
    lines += ["## Reading it with mmaction2", "",
              f"Split `{a.split}_kinemic` holds the shots and the synthetic samples. In an mmaction2 ST-GCN 3-D config, "
              "change the graph layout and PreNormalize3D's axes (docs/mmaction2.md):", "", "```python",
              config_lines(a.layout), "```", ""]
    if a.drop_fields:
        lines += [f"Fields left out of every annotation: {a.drop_fields}.", ""]
    return "\n".join(lines)


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
    from kinemic_aug.skeleton.render import render_gif

    adapt = AdaptConfig(mode=a.mode, negatives=a.negatives, engine=a.adapt_engine)
    if a.adapt_steps is not None:
        adapt = replace(adapt, steps=a.adapt_steps)
    _plain_warnings()
    from kinemic_aug.data.pyskl import drop_fields, save_pyskl, sample_id
    t0 = time.time()
    try:
        synth = SynthesisConfig(steps=a.sample_steps, guidance=a.guidance, compose_with=tuple(a.compose_with),
                                compose_fraction=a.compose_fraction, shot_strength=a.shot_strength,
                                draw_limit=a.draw_limit)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    try:
        aug = KineMICAugmenter(
            a.pkl, split=a.split, shots=a.shots, allow_fewer=a.allow_fewer, labels=a.labels, layout=a.layout,
            fps=a.fps, synthetic_per_class=None if a.ratio is not None else a.per_class, synthetic_ratio=a.ratio,
            variant=a.variant, adapt=adapt, synthesis=synth, generator=a.generator,
            corpus=a.corpus or DEFAULT_GENERALIST_CORPUS, encoder=a.encoder, cache_dir=a.cache_dir, device=a.device,
            seed=a.seed, classes=[int(c) for c in a.classes.split(",")] if a.classes else None, progress=True,
            target_norm=a.target_norm, target_stats=a.target_stats)
        dropped = [f.strip() for f in a.drop_fields.split(",") if f.strip()] if a.drop_fields else []
        if dropped:  # a typo fails now, not after the adapters are trained
            drop_fields({"annotations": aug.anns_all}, dropped, source=a.pkl)
        data = aug.to_pyskl()
        if dropped:
            data = drop_fields(data, dropped, source=a.pkl)
        out = save_pyskl(data, a.out)
        if a.save_target_stats:
            aug.save_target_stats(a.save_target_stats)
    except KinemicError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    total = time.time() - t0
    out = Path(out)
    atomic_write_text(out.with_suffix(".report.md"), report_markdown(aug, a, total, out))
    if a.preview > 0:
        syn = aug.synthetic_annotations()
        for c in aug.classes:
            shots = [x for x in aug.shot_anns if int(x["label"]) == c][:2]
            fake = [x for x in syn if int(x["label"]) == c][:a.preview]
            seqs = [x["keypoint"][0] for x in shots + fake]
            if not seqs:
                continue
            titles = [f"real {sample_id(x)}" for x in shots] + [f"#{i}" for i in range(len(fake))]
            render_gif(seqs, a.layout, out.with_name(f"{out.stem}_class{c:03d}.gif"), fps=aug.domain.fps,
                       titles=titles, synthetic=[False] * len(shots) + [True] * len(fake))
    print(aug.report_table())
    asked = sum(r.requested for r in aug.reports.values())
    print(f"wrote {out}: {len(aug.synthetic_annotations())} of {asked} synthetic samples asked, in {total:.1f} s "
          f"(report: {out.with_suffix('.report.md')})")
    for line in aug.shortfalls():
        print(f"short: {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
