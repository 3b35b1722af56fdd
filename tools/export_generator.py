#!/usr/bin/env python
"""Export a training checkpoint of tools/pretrain_generator.py as a sampling-only checkpoint (EMA weights,
config, representation statistics, corpus provenance and loss history; no optimizer state).

    python tools/export_generator.py work_dirs/pretrain/generalist_small.pt \\
        kinemic_aug/assets/generator/generalist_small.pt --note "2-core CPU, 1 thread, 2.3 h"
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.generator.checkpoint import export_inference_checkpoint, load_generator  # noqa: E402
from kinemic_aug.utils.io import sha256_file  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--live-weights", action="store_true", help="export the live weights instead of the EMA")
    ap.add_argument("--note", action="append", default=[], help="provenance note (repeatable)")
    a = ap.parse_args(argv)
    out = export_inference_checkpoint(a.src, a.dst, use_ema=not a.live_weights, extra={"notes": a.note})
    b = load_generator(out)
    n = sum(p.numel() for p in b.model.parameters())
    print(f"wrote {out}: step {b.step}, {n} parameters, {out.stat().st_size / 1e6:.1f} MB, sha256 {sha256_file(out)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
