#!/usr/bin/env python
"""Benchmark: MiniLM encoding throughput and soft-pairing time at HumanML3D-like scale.

    python benchmarks/text_pairing.py [--sentences 1000] [--clips 10000] [--threads 1]

1. Encoding: all-MiniLM-L6-v2 (self-written BERT forward) on ``--sentences`` real caption sentences (the
   shipped NTU-120 and MSR Action3D captions, extended with short suffixes to reach the count); model load
   is timed separately; then the same sentences through a warm :class:`CachedTextEncoder` (cache hits).
2. Pairing: ``--clips`` clip embeddings x 120 classes (2 captions each), k = 250, ``mean`` and ``max``
   class reduction. The clip embeddings are random unit vectors (pairing cost does not depend on their
   values); this times only the retrieval step that follows encoding.

Writes ``benchmarks/results/text_pairing.json`` and ``.md``. Runs in about a minute on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402

from kinemic_aug.pairing import PairingConfig, pair_embeddings  # noqa: E402
from kinemic_aug.text import CachedTextEncoder, load_label_set  # noqa: E402
from kinemic_aug.text.base import l2_normalize  # noqa: E402
from kinemic_aug.text.minilm import MiniLMTextEncoder  # noqa: E402
from kinemic_aug.utils.io import atomic_write_json, atomic_write_text  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
SUFFIXES = ["", " slowly", " twice", " and then stands still", " while turning slightly to the left"]


def caption_sentences(n: int) -> list:
    base = [c for name in ("ntu120", "msr_action3d") for e in load_label_set(name) for c in e.captions]
    out = []
    for suf in SUFFIXES:
        for c in base:
            out.append(c[:-1] + suf + "." if c.endswith(".") else c + suf)
            if len(out) == n:
                return out
    return out


def time_it(fn, repeats: int) -> list:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", type=int, default=1000)
    ap.add_argument("--clips", type=int, default=10000)
    ap.add_argument("--classes", type=int, default=120)
    ap.add_argument("--k", type=int, default=250)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--batch-size", type=int, default=64)
    ap.add_argument("--out", default=str(RESULTS / "text_pairing"))
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    # ---------------------------------------------------------------- encoding
    sentences = caption_sentences(args.sentences)
    t0 = time.perf_counter()
    enc = MiniLMTextEncoder(batch_size=args.batch_size)
    enc.encode(["warm up"])  # loads weights + tokenizer
    load_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    emb = enc.encode(sentences)
    encode_s = time.perf_counter() - t0
    n_tokens = float(np.mean([len(e.ids) for e in enc._tokenizer.encode_batch(sentences)]))
    with tempfile.TemporaryDirectory() as tmp:
        cached = CachedTextEncoder(enc, tmp)
        t0 = time.perf_counter()
        cached.encode(sentences)
        cold_s = time.perf_counter() - t0
        warm = CachedTextEncoder(MiniLMTextEncoder(), tmp)
        t0 = time.perf_counter()
        again = warm.encode(sentences)
        warm_s = time.perf_counter() - t0
        assert warm.encoder.num_encoded == 0 and np.allclose(again, emb, atol=1e-6)

    # ---------------------------------------------------------------- pairing
    rng = np.random.default_rng(0)
    clips = l2_normalize(rng.normal(size=(args.clips, enc.dim)).astype(np.float32))
    classes = [l2_normalize(rng.normal(size=(2, enc.dim)).astype(np.float32)) for _ in range(args.classes)]
    pairing = {}
    for reduce in ("mean", "max"):
        cfg = PairingConfig(k=args.k, class_reduce=reduce, warn=False)
        times = time_it(lambda: pair_embeddings(classes, clips, cfg), repeats=3)
        pairing[reduce] = {"median_s": statistics.median(times), "runs_s": times}

    result = {
        "benchmark": "text_pairing",
        "machine": {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
                    "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
                    "python": platform.python_version(), "load_avg_1min": os.getloadavg()[0]},
        "encoder": enc.identifier,
        "encoding": {"sentences": len(sentences), "mean_tokens": round(n_tokens, 2), "batch_size": args.batch_size,
                     "model_load_s": round(load_s, 3), "encode_s": round(encode_s, 3),
                     "sentences_per_s": round(len(sentences) / encode_s, 1),
                     "cached_cold_s": round(cold_s, 3), "cached_warm_s": round(warm_s, 4),
                     "cached_warm_sentences_per_s": round(len(sentences) / warm_s, 1)},
        "pairing": {"clips": args.clips, "classes": args.classes, "captions_per_class": 2, "k": args.k,
                    "embeddings": "random unit vectors (retrieval cost is value-independent)",
                    **{f"{r}_median_s": round(v["median_s"], 4) for r, v in pairing.items()}},
    }
    out = Path(args.out)
    atomic_write_json(out.with_suffix(".json"), result)
    e, p, m = result["encoding"], result["pairing"], result["machine"]
    md = f"""# Text encoding and soft pairing benchmark

Machine: {m['cores']} cores ({m['cpu']}), torch {m['torch']} with {m['torch_threads']} thread(s), 1-min load average
{m['load_avg_1min']:.1f} at the end of the run (the machine is shared; numbers are indicative).
Encoder: `{result['encoder']}`.

## Encoding (all-MiniLM-L6-v2, self-written BERT forward)
| item | value |
|---|---|
| sentences (shipped label captions + suffixes) | {e['sentences']} (mean {e['mean_tokens']} tokens incl. [CLS]/[SEP]) |
| model load + first call | {e['model_load_s']:.2f} s |
| encode, batch {e['batch_size']} | {e['encode_s']:.2f} s = **{e['sentences_per_s']:.0f} sentences/s** |
| through `CachedTextEncoder`, cold (encode + write) | {e['cached_cold_s']:.2f} s |
| through `CachedTextEncoder`, warm (all hits, no model work) | {e['cached_warm_s']:.3f} s = {e['cached_warm_sentences_per_s']:.0f} sentences/s |

## Pairing (retrieval step only)
{p['clips']} clip embeddings x {p['classes']} classes ({p['captions_per_class']} captions each), k = {p['k']};
embeddings are random unit vectors (the cost does not depend on their values).

| class reduction | median of 3 runs |
|---|---|
| mean (one query per class) | {p['mean_median_s'] * 1000:.0f} ms |
| max (best caption per clip) | {p['max_median_s'] * 1000:.0f} ms |

Reproduce: `python benchmarks/text_pairing.py` (writes this file and `text_pairing.json`).
"""
    atomic_write_text(out.with_suffix(".md"), md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
