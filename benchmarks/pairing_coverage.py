"""Which corpus clips each target class pairs with: top-k captions, similarity and source mix.

    python -m benchmarks.pairing_coverage [--labels msr_action3d utd_mhad] [--corpus mocap+seed] [--k 250]

For every class of each label set: the best-matching corpus labels (their caption, cosine similarity
and source), the similarity of the best and the k-th neighbour, and which sources the k neighbours
come from. MiniLM captions (the offline text encoder), the corpus's training part only.
Writes ``benchmarks/results/pairing_coverage.{json,md}``.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR  # noqa: E402


def coverage(label_set: str, corpus, encoder, k: int) -> List[Dict[str, Any]]:
    from kinemic_aug.pairing.soft import PairingConfig, soft_pair
    from kinemic_aug.text.labels import load_label_set

    labels = load_label_set(label_set)
    res = soft_pair(labels, corpus, encoder, PairingConfig(k=k, warn=False))
    rows = []
    for ci, cov in enumerate(res.coverage):
        idx, scores = res.neighbours(ci)
        seen: Dict[str, Dict[str, Any]] = {}
        for i, s in zip(idx, scores):
            c = corpus[int(i)]
            key = f"{c.source}:{c.meta.get('label', c.name)}"
            if key not in seen:
                seen[key] = {"label": key, "caption": c.captions[0] if c.captions else "", "similarity": float(s)}
        mix = Counter(corpus[int(i)].source for i in idx)
        rows.append({"class": cov.name, "top1": cov.top1, "kth": cov.kth_similarity, "mean_topk": cov.mean_topk,
                     "poorly_covered": cov.poorly_covered, "top_labels": list(seen.values())[:3],
                     "source_mix": {s: n / max(1, len(idx)) for s, n in mix.most_common()},
                     "n_labels_in_topk": len(seen)})
    return rows


def main(argv=None) -> Dict[str, Any]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--labels", nargs="+", default=["msr_action3d", "utd_mhad"])
    ap.add_argument("--corpus", default="mocap+seed")
    ap.add_argument("--k", type=int, default=250)
    a = ap.parse_args(argv)
    from kinemic_aug.data.sources import describe_corpus, load_corpus
    from kinemic_aug.text import get_text_encoder
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    corpus = load_corpus(a.corpus)
    enc = get_text_encoder("minilm")
    out: Dict[str, Any] = {"corpus": a.corpus, "corpus_identity": describe_corpus(a.corpus)["identity"], "k": a.k,
                           "encoder": enc.identifier, "clips": len(corpus),
                           "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "label_sets": {}}
    md = ["# Pairing coverage: target classes against the real corpus", "",
          f"Corpus `{a.corpus}` (training parts, {len(corpus)} clips), MiniLM captions, top-k = {a.k}; run "
          f"{out['date']} (`python -m benchmarks.pairing_coverage`). Per class: the three best-matching corpus "
          "labels (cosine of their caption to the class's captions), the best and k-th similarity, and the sources "
          "of the k neighbours. All corpus captions are authored.", ""]
    for ls in a.labels:
        rows = coverage(ls, corpus, enc, a.k)
        out["label_sets"][ls] = rows
        md += [f"## {ls}", "", "| class | best corpus labels (similarity) | top-1 | k-th | labels in top-k | sources of top-k |",
               "|---|---|---|---|---|---|"]
        for r in rows:
            best = "; ".join(f"{t['label']} ({t['similarity']:.2f})" for t in r["top_labels"])
            mix = ", ".join(f"{s} {100 * f:.0f} %" for s, f in r["source_mix"].items())
            md.append(f"| {r['class']} | {best} | {r['top1']:.2f} | {r['kth']:.2f} | {r['n_labels_in_topk']} | {mix} |")
        md.append("")
    atomic_write_json(RESULTS_DIR / "pairing_coverage.json", out, indent=1)
    atomic_write_text(RESULTS_DIR / "pairing_coverage.md", "\n".join(md) + "\n")
    print("\n".join(md[:40]))
    return out


if __name__ == "__main__":
    main()
