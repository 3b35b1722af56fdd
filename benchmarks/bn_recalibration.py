"""Do synthetic samples hurt through the classifier's BatchNorm statistics? A diagnostic for finished cells.

    python -m benchmarks.bn_recalibration work_dirs/travel_val/real_classic_3shot_s0 \\
        work_dirs/travel_val/real_classic_kinemic-anchored_3shot_s0 --stem bn_recalibration_val

For each finished few-shot cell (a work dir with the dumped config and ``iter_600.pth``), the classifier is
scored as trained, then again after its BatchNorm running statistics are re-estimated (cumulative average,
``--passes`` passes, no weight changes) on the cell's **real** training samples alone, through the cell's own
training pipeline. Batches that mix real and synthetic samples set those statistics during training; if the
synthetic samples sit elsewhere in feature space, real test samples are then normalised with the wrong
statistics (``RealBatchNormHook`` does the same at the end of training). A large gain after re-estimation in
the KineMIC cells, and none in the real-only cells, points at that mechanism; what re-estimation does not
recover was learned in the weights.

The score is the cell's own test loader: the validation subjects for a ``--stage val`` cell (use those for any
choice), the test split for a test-stage cell. Writes ``benchmarks/results/<stem>.{json,md}``.
"""
from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.common import RESULTS_DIR  # noqa: E402


def recalibrate(cell: Path, passes: int = 10, seed: int = 0) -> Dict[str, Any]:
    """The cell's top-1 as trained and after its BatchNorm statistics are re-estimated on its real samples."""
    from mmengine.config import Config
    from mmengine.registry import DATASETS
    from mmengine.runner import Runner

    from kinemic_aug.integrations.real_bn import reestimate_batchnorm

    configs = sorted(cell.glob("*.py"))
    ckpt = cell / "iter_600.pth"
    if len(configs) != 1 or not ckpt.exists():
        raise FileNotFoundError(f"{cell}: expected one dumped config and iter_600.pth (a finished few-shot cell)")
    cfg = Config.fromfile(str(configs[0]))
    cfg.work_dir = str(REPO / "work_dirs" / "bn_recalibration" / cell.name)
    cfg.load_from, cfg.resume = str(ckpt), False
    runner = Runner.from_cfg(cfg)
    as_trained = float(runner.test()["acc/top1"])  # loads the checkpoint once; a second test() keeps the model
    inner = cfg.train_dataloader.dataset
    inner = inner.get("dataset", inner) if inner.get("type") == "KineMICAugmentedDataset" else inner
    real = DATASETS.build(copy.deepcopy(inner))  # the real shots only, with the cell's training pipeline
    reestimate_batchnorm(runner.model, real, list(range(len(real))), passes=passes, seed=seed)
    return {"cell": cell.name, "config": configs[0].name, "real_samples": len(real), "passes": passes,
            "top1_as_trained": as_trained, "top1_bn_on_real": float(runner.test()["acc/top1"])}


def main(argv=None) -> List[Dict[str, Any]]:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cells", nargs="+", type=Path)
    ap.add_argument("--passes", type=int, default=10)
    ap.add_argument("--stem", default="bn_recalibration")
    ap.add_argument("--note", default="", help="what the cells are (data, stage, shots, seed, generator)")
    a = ap.parse_args(argv)
    import torch

    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text

    torch.set_num_threads(1)
    t0 = time.time()
    rows = [recalibrate(c, a.passes) for c in a.cells]
    out = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "machine": "2-core CPU (shared), one thread",
           "note": a.note, "rows": rows, "seconds": round(time.time() - t0, 1)}
    atomic_write_json(RESULTS_DIR / f"{a.stem}.json", out, indent=1)
    md = ["# BatchNorm statistics re-estimated on the real samples", "",
          f"Run {out['date']}, {out['machine']}. {a.note} Each classifier scored as trained, then with its BatchNorm "
          f"running statistics re-estimated on the cell's real training samples alone ({a.passes} passes, cumulative "
          "average, the cell's training pipeline, no weight change), on the cell's own test loader.", "",
          "| cell | real samples | top-1 as trained | top-1, BN on real | difference (points) |", "|---|---|---|---|---|"]
    for r in rows:
        md.append(f"| {r['cell']} | {r['real_samples']} | {100 * r['top1_as_trained']:.1f} | "
                  f"{100 * r['top1_bn_on_real']:.1f} | {100 * (r['top1_bn_on_real'] - r['top1_as_trained']):+.1f} |")
    atomic_write_text(RESULTS_DIR / f"{a.stem}.md", "\n".join(md) + "\n")
    print("\n".join(md))
    return rows


if __name__ == "__main__":
    main()
