#!/usr/bin/env python
"""Build the procedural (synthetic) generalist motion corpus and save it as a MotionCorpus .npz.

    python tools/build_procedural_corpus.py --n 2000 --seed 0 --out data/procedural_s0.npz

The file is written atomically (MotionCorpus.save); every clip is flagged synthetic with
source 'procedural'. Deterministic for a seed.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.data.procedural import generate_corpus, list_actions  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=2000, help="number of clips")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True, help="output .npz path")
    ap.add_argument("--fps", type=float, default=20.0)
    ap.add_argument("--min-seconds", type=float, default=2.0)
    ap.add_argument("--max-seconds", type=float, default=10.0)
    ap.add_argument("--chain-prob", type=float, default=0.6)
    ap.add_argument("--actions", default=None, help="comma-separated subset of actions (default: all)")
    args = ap.parse_args(argv)
    try:
        import torch
        torch.set_num_threads(1)
    except ImportError:
        pass
    actions = args.actions.split(",") if args.actions else None
    t0 = time.time()
    corpus = generate_corpus(args.n, args.seed, fps=args.fps, min_seconds=args.min_seconds,
                             max_seconds=args.max_seconds, chain_prob=args.chain_prob, actions=actions)
    path = corpus.save(args.out)
    counts = Counter(a for c in corpus for a in c.meta["actions"])
    print(f"{corpus!r} -> {path} in {time.time() - t0:.1f} s")
    print(f"{len(counts)}/{len(actions or list_actions())} actions used; least used: {counts.most_common()[-3:]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
