"""Do two checkouts of the library sample the same synthetic motion? A behaviour check for refactors.

    python -m benchmarks.tree_equivalence --old /path/to/old/checkout --new . --label reorganisation

Runs the same small augmentation in each checkout (its own ``kinemic_aug`` first on ``PYTHONPATH``, one
thread, CPU): two real MSR Action3D shots of classes 0 and 14 from the training subjects, the shipped
``small`` generalist and the seed corpus, 3 adaptation steps, 10 sampling steps, 3 samples per class, seed 0,
for the ``zeroshot`` and ``kinemic`` variants. It then compares the synthetic keypoint arrays bit for bit.
A classifier trained on the samples is not part of the check: its runs differ between repeats on this CPU
anyway, so only the samples can show whether a refactor changed behaviour.

Writes ``benchmarks/results/tree_equivalence.json`` (one row per label, replacing an older row of that label).
"""
from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "tree_equivalence.json"

#: run inside each checkout; argv: shots pickle, output pickle
_SAMPLER = r'''
import pickle, sys, tempfile, warnings
warnings.filterwarnings("ignore")
import torch
torch.set_num_threads(1)
from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.synthesis import SynthesisConfig
data = pickle.load(open(sys.argv[1], "rb"))
out = {}
for variant in ("zeroshot", "kinemic"):
    aug = KineMICAugmenter(data, split="train", labels="msr_action3d", layout="msr_action3d", fps=15,
                           synthetic_per_class=3, generator="kinemic_aug/assets/generator/generalist_small.pt",
                           corpus="seed", cache_dir=tempfile.mkdtemp(), adapt=AdaptConfig(steps=3, top_k=4),
                           synthesis=SynthesisConfig(steps=10), device="cpu", progress=False, seed=0, variant=variant)
    out[variant] = [(int(a["label"]), a["keypoint"]) for a in aug.synthetic_annotations()]
pickle.dump(out, open(sys.argv[2], "wb"))
'''


def _shots(msr: Path, out: Path) -> Path:
    from kinemic_aug.data.pyskl import load_pyskl  # the restricted unpickler: research data is not trusted code

    d = load_pyskl(msr)
    train = set(d["split"]["xsub_train"])
    sel = [a for c in (0, 14) for a in [a for a in d["annotations"] if a["frame_dir"] in train and a["label"] == c][:2]]
    with open(out, "wb") as f:
        pickle.dump({"split": {"train": [a["frame_dir"] for a in sel]}, "annotations": sel}, f)
    return out


def _git_head(tree: Path) -> str:
    r = subprocess.run(["git", "-C", str(tree), "rev-parse", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(tree), "status", "--porcelain", "--untracked-files=no", "--", "kinemic_aug"],
                           capture_output=True, text=True).stdout.strip()
    return r.stdout.strip() + (" (with uncommitted changes to kinemic_aug)" if dirty else "")


def _sample(tree: Path, shots: Path, out: Path) -> Dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    subprocess.run([sys.executable, "-c", _SAMPLER, str(shots), str(out)], cwd=tree, env=env, check=True)
    with open(out, "rb") as f:
        return pickle.load(f)


def compare(old: Dict[str, Any], new: Dict[str, Any]) -> Dict[str, Any]:
    """Per variant: sample counts, whether labels and arrays are bit-identical, and the largest difference."""
    import numpy as np

    out: Dict[str, Any] = {}
    for v in sorted(set(old) | set(new)):
        a, b = old.get(v, []), new.get(v, [])
        same_shape = len(a) == len(b) and all(x[0] == y[0] and x[1].shape == y[1].shape for x, y in zip(a, b))
        out[v] = {"samples_old": len(a), "samples_new": len(b),
                  "identical": bool(same_shape and all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))),
                  "max_abs_diff": (max((float(np.abs(x[1] - y[1]).max()) for x, y in zip(a, b)), default=0.0)
                                   if same_shape else None)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--old", required=True, type=Path, help="checkout before the change")
    ap.add_argument("--new", default=REPO, type=Path, help="checkout after it (default: this one)")
    ap.add_argument("--label", required=True, help="what the change is, e.g. reorganisation")
    ap.add_argument("--msr", type=Path, default=Path(os.environ.get(
        "KINEMIC_MSR_PKL", REPO.parent / "shared" / "data" / "msr_action3d" / "msr_action3d_skeleton.pkl")))
    a = ap.parse_args()
    from kinemic_aug.utils.io import atomic_write_json

    with tempfile.TemporaryDirectory() as tmp:
        shots = _shots(a.msr, Path(tmp) / "shots.pkl")
        old = _sample(a.old.resolve(), shots, Path(tmp) / "old.pkl")
        new = _sample(a.new.resolve(), shots, Path(tmp) / "new.pkl")
    row = {"label": a.label, "old": _git_head(a.old), "new": _git_head(a.new), "variants": compare(old, new),
           "data": "MSR Action3D, 2 training-subject shots of classes 0 and 14", "seed": 0,
           "machine": "shared 2-core CPU, one thread"}
    rows = json.loads(RESULTS.read_text()) if RESULTS.exists() else []
    rows = [r for r in rows if r.get("label") != a.label] + [row]
    atomic_write_json(RESULTS, rows, indent=1)
    print(json.dumps(row, indent=1))


if __name__ == "__main__":
    main()
