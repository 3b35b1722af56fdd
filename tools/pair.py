#!/usr/bin/env python
"""Soft-pair a label set with a captioned motion corpus and report how well each class is covered.

    python tools/pair.py --labels msr_action3d --corpus PATH.npz [--encoder minilm] [--k 250]
                         [--threshold 0.5] [--class-reduce mean|max] [--out-dir out/pairing]

``--corpus`` is a ``MotionCorpus`` ``.npz`` (``MotionCorpus.save``) or ``seed`` for the shipped seed corpus.
Prints the coverage table and each class's best neighbours, writes ``pairing.json`` (the full
``PairingResult``) and ``coverage.png`` (bars: best / k-th / mean top-k similarity per class, with the
coverage floor; heatmap: class x most similar clips) into ``--out-dir``. Embeddings are cached in
``--cache-dir`` (default ``<out-dir>/text_cache``).
"""
from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import List, Optional

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.data.corpus import MotionCorpus  # noqa: E402
from kinemic_aug.errors import KinemicError  # noqa: E402
from kinemic_aug.pairing import PairingConfig, PairingResult, soft_pair  # noqa: E402
from kinemic_aug.pairing.similarity import class_caption_embeddings, clip_embeddings, similarity_matrix  # noqa: E402
from kinemic_aug.text import TextEncoder, get_text_encoder, load_label_set  # noqa: E402


def load_corpus(spec: str) -> MotionCorpus:
    if spec == "seed":
        from kinemic_aug.data.seed import load_seed_corpus
        return load_seed_corpus()
    return MotionCorpus.load(spec)


def plot_coverage(result: PairingResult, sim: np.ndarray, floor: float, path: Path, max_clips: int = 40) -> Path:
    """Two panels: per-class similarity bars and a class x clip heatmap of the best-matching clips."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cov = result.coverage
    n = len(cov)
    fig_h = max(4.0, 0.22 * n + 1.5)
    fig, (ax_b, ax_h) = plt.subplots(1, 2, figsize=(15, fig_h), gridspec_kw={"width_ratios": [1, 1.6]})
    y = np.arange(n)
    ax_b.barh(y, [c.top1 for c in cov], color="tab:blue", label="best")
    ax_b.barh(y, [c.mean_topk for c in cov], color="tab:orange", height=0.5, label=f"mean top-{cov[0].k}")
    ax_b.plot([c.kth_similarity for c in cov], y, "k|", markersize=8, label=f"{cov[0].k}-th")
    ax_b.axvline(floor, color="red", linestyle="--", linewidth=1, label=f"coverage floor {floor:.2f}")
    ax_b.set_yticks(y)
    ax_b.set_yticklabels([("! " if c.poorly_covered else "") + c.name[:32] for c in cov], fontsize=7)
    ax_b.invert_yaxis()
    ax_b.set_xlabel("cosine similarity")
    ax_b.set_title("coverage per class")
    ax_b.legend(fontsize=7, loc="lower right")
    best = np.argsort(-np.nanmax(sim, axis=0), kind="stable")[:max_clips]
    im = ax_h.imshow(sim[:, best], aspect="auto", cmap="viridis", interpolation="nearest")
    ax_h.set_yticks(y)
    ax_h.set_yticklabels([c.name[:24] for c in cov], fontsize=7)
    ax_h.set_xticks(np.arange(len(best)))
    ax_h.set_xticklabels([result.clip_names[i][:18] for i in best], rotation=90, fontsize=6)
    ax_h.set_title(f"similarity to the {len(best)} best-matching clips")
    fig.colorbar(im, ax=ax_h, fraction=0.03)
    fig.suptitle(f"soft pairing - {result.encoder_id[:90]}", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    # savefig to a temp name then rename: an interrupted run never leaves a half-written PNG.
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(path)
    return path


def full_similarity(labels, corpus: MotionCorpus, encoder: TextEncoder, reduce: str) -> np.ndarray:
    """[classes, clips] cosine (NaN for clips without captions); cached embeddings make this cheap."""
    clip_emb, valid = clip_embeddings([c.captions for c in corpus], encoder)
    sim = similarity_matrix(class_caption_embeddings(labels, encoder), clip_emb, reduce)
    sim[:, ~valid] = np.nan
    return sim


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", required=True, help="shipped label set (ntu120, ntu60, msr_action3d) or a file")
    ap.add_argument("--corpus", required=True, help="MotionCorpus .npz, or 'seed'")
    ap.add_argument("--encoder", default="minilm", help="minilm | clip | hashing (hashing: tests only)")
    ap.add_argument("--k", type=int, default=250)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--class-reduce", choices=("mean", "max"), default="mean")
    ap.add_argument("--coverage-floor", type=float, default=None)
    ap.add_argument("--single-person", action="store_true", help="drop two-person classes")
    ap.add_argument("--show", type=int, default=3, help="neighbours printed per class")
    ap.add_argument("--out-dir", default="out/pairing")
    ap.add_argument("--cache-dir", default=None)
    args = ap.parse_args(argv)

    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    out = Path(args.out_dir)
    try:
        labels = load_label_set(args.labels)
        if args.single_person:
            labels = labels.single_person()
        corpus = load_corpus(args.corpus)
        encoder = get_text_encoder(args.encoder, cache_dir=args.cache_dir or out / "text_cache")
        cfg = PairingConfig(k=args.k, class_reduce=args.class_reduce, threshold=args.threshold,
                            coverage_floor=args.coverage_floor)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = soft_pair(labels, corpus, encoder, cfg)
    except (KinemicError, KeyError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    floor = cfg.coverage_floor if cfg.coverage_floor is not None else encoder.coverage_floor
    n_cap = sum(bool(c.captions) for c in corpus)
    print(f"labels: {labels.name} ({len(labels)} classes)   corpus: {corpus.name} ({len(corpus)} clips, "
          f"{n_cap} captioned, {sum(c.synthetic for c in corpus)} synthetic)   k = {result.coverage[0].k}")
    print(result.coverage_table())
    print()
    for c in result.coverage:
        idx, sc = result.neighbours(c.class_id)
        top = ", ".join(f"{result.clip_names[i]} ({s:.2f})" for i, s in zip(idx[:args.show], sc[:args.show]))
        print(f"{c.class_id:>4} {c.name[:30]:<30} -> {top}")
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    result.save(out / "pairing.json")
    sim = full_similarity(labels, corpus, encoder, args.class_reduce)
    png = plot_coverage(result, sim, floor, out / "coverage.png")
    print(f"\nwrote {out / 'pairing.json'} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
