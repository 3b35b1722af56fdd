#!/usr/bin/env python
"""Convert an official MDM checkpoint into a generator checkpoint for the augmenter (``generator=<out>``).

    python tools/convert_mdm.py save/humanml_enc_512_50steps/model000750000.pt \\
        --humanml3d dataset/HumanML3D --out work_dirs/mdm_50steps.pt

Reads the run's ``args.json`` (default: next to the checkpoint) and HumanML3D's ``Mean.npy``/``Std.npy``;
takes the EMA weights when the run sampled with them. Nothing is downloaded. The text features the
result expects are raw CLIP ViT-B/32 features of captions cut to 20 tokens
(``kinemic_aug.text.clip.mdm_clip_encoder``).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kinemic_aug.errors import KinemicError  # noqa: E402
from kinemic_aug.generator.checkpoint import load_generator  # noqa: E402
from kinemic_aug.generator.conversion.mdm import convert_mdm_checkpoint  # noqa: E402
from kinemic_aug.utils.io import sha256_file  # noqa: E402


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("model", help="the MDM run's model*.pt")
    ap.add_argument("--out", required=True, help="generator checkpoint to write")
    ap.add_argument("--humanml3d", help="HumanML3D folder holding Mean.npy and Std.npy")
    ap.add_argument("--mean", help="Mean.npy (instead of --humanml3d)")
    ap.add_argument("--std", help="Std.npy (instead of --humanml3d)")
    ap.add_argument("--args", help="the run's args.json (default: next to the checkpoint)")
    ema = ap.add_mutually_exclusive_group()
    ema.add_argument("--ema", dest="use_ema", action="store_true", default=None, help="use the EMA weights (model_avg)")
    ema.add_argument("--live", dest="use_ema", action="store_false", help="use the live weights (model)")
    ap.add_argument("--allow-pickle", action="store_true",
                    help="unpickle a checkpoint the safe loader refuses (only for a file you trust)")
    a = ap.parse_args(argv)
    if not a.humanml3d and not (a.mean and a.std):
        ap.error("give --humanml3d or both --mean and --std")
    try:
        conv = convert_mdm_checkpoint(a.model, a.out, humanml3d=a.humanml3d, mean=a.mean, std=a.std, args=a.args,
                                      use_ema=a.use_ema, allow_pickle=a.allow_pickle)
        bundle = load_generator(conv.path)
    except (KinemicError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    n = sum(p.numel() for p in bundle.model.parameters())
    info = {**conv.summary(), "parameters": n, "sha256": sha256_file(conv.path),
            "size_mb": round(conv.path.stat().st_size / 1e6, 1)}
    print(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
