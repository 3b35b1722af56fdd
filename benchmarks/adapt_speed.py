"""Adaptation step speed: the ``legacy`` engine against the ``fast`` one, interleaved in one run.

The adapter is the few-shot grid's (``benchmarks/few_shot.py --budget``): one joint adapter over MSR Action3D's
20 classes (``xsub_train``, ``--shots`` per class, seed 0), the shipped ``bandai`` generalist with the
``bandai+seed`` corpus, batch 16, LoRA rank 16, mining, contrastive term and window weighting on. Both
trainers start from the same weights and seed, so they draw the same batches; steps alternate in blocks
(legacy, fast, fast, legacy, ...) so load from other processes hits both alike. The speed-up is the median
over blocks of the paired ratio legacy / fast, in wall time and in the process's CPU time (one torch
thread; CPU time leaves out the time other jobs take the core away). Also recorded: how much of the
padded target and source batches is padding, and a check that the packed forward equals the padded one
on a real batch (eval mode, so nothing random).

    python -m benchmarks.adapt_speed                 # 1 shot per class, 6 blocks of 2 steps (a few minutes)
    python -m benchmarks.adapt_speed --shots 3 --blocks 8

Writes ``benchmarks/results/adapt_speed.{json,md}``.
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"


def build_inputs(shots: int, cache: Path) -> Dict[str, Any]:
    """The grid's joint adapter job: target shots, source pool, generalist and config."""
    from kinemic_aug.adapt import AdaptConfig
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.data.dataset_spec import get_dataset_spec

    spec = get_dataset_spec("msr_action3d")
    pkl = spec.require_pickle()
    adapt = AdaptConfig(mode="joint", steps=200, lr=3e-4, progress=False)
    aug = KineMICAugmenter(str(pkl), split=spec.train_split, shots=shots, allow_fewer=spec.allow_fewer,
                           labels=spec.labels, layout=spec.layout, fps=spec.fps, adapt=adapt, generator="bandai",
                           corpus="bandai+seed", cache_dir=str(cache), seed=0, progress=False)
    job = aug.adapters.joint_job(aug.classes).job
    gen = aug.resources.generator
    return {"shots": job.shots, "pool": job.pool, "model": gen.model, "schedule": gen.schedule, "cfg": job.cfg,
            "classes": aug.classes, "data": str(pkl), "generator_step": int(gen.step)}


def padding_share(trainer: Any, steps: int = 4) -> Dict[str, float]:
    """Valid share of the padded target and source batches over a few of the run's draws."""
    from kinemic_aug.adapt.trainer import draw_step

    t_valid = t_all = s_valid = s_all = 0
    for k in range(steps):
        d = draw_step(trainer.shots, trainer.pool, trainer.cfg, trainer.schedule, k, trainer.device, True)
        t_valid, t_all = t_valid + int(d.mask_t.sum()), t_all + d.mask_t.numel()
        s_valid, s_all = s_valid + int(d.mask_s.sum()), s_all + d.mask_s.numel()
    return {"target_valid": t_valid / t_all, "source_valid": s_valid / s_all}


def forward_check(trainer: Any) -> Dict[str, float]:
    """max |packed - padded| on the valid frames of step 0's source batch, prior stream, eval mode."""
    import torch

    from kinemic_aug.adapt.trainer import draw_step

    d = draw_step(trainer.shots, trainer.pool, trainer.cfg, trainer.schedule, 0, trainer.device, True)
    m = trainer.prior.eval()
    with torch.no_grad():
        a = m(d.xt_s, d.t_model_s, text_emb=d.text_s, mask=d.mask_s)
        b = m.forward_sorted(d.xt_s, d.t_model_s, text_emb=d.text_s, mask=d.mask_s)
    return {"max_abs_diff": float((a - b)[d.mask_s].abs().max()), "max_abs_output": float(a[d.mask_s].abs().max())}


def run(a: argparse.Namespace) -> Dict[str, Any]:
    import torch

    torch.set_num_threads(1)
    from kinemic_aug.adapt import KineMICTrainer

    t0 = time.time()
    inp = build_inputs(a.shots, Path(a.cache))
    startup = time.time() - t0
    trainers = {}
    for engine in ("legacy", "fast"):
        cfg = dataclasses.replace(inp["cfg"], engine=engine)
        trainers[engine] = KineMICTrainer(copy.deepcopy(inp["model"]), inp["schedule"], inp["shots"], inp["pool"],
                                          cfg, classes=inp["classes"])
        trainers[engine].train_step()  # warm-up, not timed
    times: Dict[str, List[Dict[str, float]]] = {"legacy": [], "fast": []}
    for blk in range(a.blocks):
        for engine in (("legacy", "fast") if blk % 2 == 0 else ("fast", "legacy")):
            c0, w0 = time.process_time(), time.time()
            for _ in range(a.steps_per_block):
                trainers[engine].train_step()
            times[engine].append({"wall": (time.time() - w0) / a.steps_per_block,
                                  "cpu": (time.process_time() - c0) / a.steps_per_block})
    ratio = {k: [lg[k] / fs[k] for lg, fs in zip(times["legacy"], times["fast"])] for k in ("wall", "cpu")}
    losses = {e: [h["loss"] for h in tr.history] for e, tr in trainers.items()}
    return {
        "benchmark": "adapt_speed", "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "torch": torch.__version__,
                    "cuda": torch.cuda.is_available(), "threads": 1,
                    "load_average_start_end": [a.load_start, os.getloadavg()[0]]},
        "data": {"dataset": "msr_action3d", "pickle": inp["data"], "split": "xsub_train", "shots": a.shots, "seed": 0,
                 "classes": len(inp["classes"]), "target_clips": len(inp["shots"].feats),
                 "pool_clips": len(inp["pool"].feats), "generator": "bandai", "generator_step": inp["generator_step"],
                 "corpus": "bandai+seed"},
        "config": {k: v for k, v in inp["cfg"].to_dict().items() if k not in ("progress", "device")},
        "startup_s": startup, "blocks": a.blocks, "steps_per_block": a.steps_per_block, "times": times,
        "speedup": {k: {"median": statistics.median(v), "min": min(v), "max": max(v)} for k, v in ratio.items()},
        "s_per_step": {e: {k: statistics.median(x[k] for x in v) for k in ("wall", "cpu")} for e, v in times.items()},
        "padding": padding_share(trainers["legacy"]), "forward_check": forward_check(trainers["legacy"]),
        "losses": losses,
    }


def markdown(r: Dict[str, Any]) -> str:
    d, s, sp, m = r["data"], r["s_per_step"], r["speedup"], r["machine"]
    load = ", ".join(f"{x:.1f}" for x in m["load_average_start_end"])
    lines = [
        "# Adaptation step speed: legacy engine vs fast engine (joint adapter, 1 torch thread)", "",
        f"Data: MSR Action3D `{d['split']}`, {d['shots']} shot(s) per class (seed {d['seed']}; {d['target_clips']} target "
        f"clips, {d['classes']} classes), {d['pool_clips']} soft-positive source clips of `{d['corpus']}`; generalist "
        f"`{d['generator']}` (step {d['generator_step']}); the few-shot grid's adapter settings (joint, batch "
        f"{r['config']['batch_size']}, LoRA rank {r['config']['lora_rank']}, mining + contrastive + window weighting). "
        f"{r['finished']}, torch {m['torch']}, {m['cpus']} CPUs (shared; 1-minute load average {load} at start and "
        f"end), CUDA: {m['cuda']}. No GPU was used.", "",
        "| engine | s/step, wall (median) | s/step, CPU (median) |", "|---|---|---|",
        f"| legacy (padded, torch dropout) | {s['legacy']['wall']:.3f} | {s['legacy']['cpu']:.3f} |",
        f"| fast (packed, 16-bit dropout masks) | {s['fast']['wall']:.3f} | {s['fast']['cpu']:.3f} |", "",
        f"Speed-up, median of {r['blocks']} paired blocks of {r['steps_per_block']} steps: **{sp['wall']['median']:.2f}x "
        f"wall** ({sp['wall']['min']:.2f}-{sp['wall']['max']:.2f}), **{sp['cpu']['median']:.2f}x CPU time** "
        f"({sp['cpu']['min']:.2f}-{sp['cpu']['max']:.2f}).", "",
        f"Padded batches are {100 * r['padding']['target_valid']:.0f} % valid frames (targets) and "
        f"{100 * r['padding']['source_valid']:.0f} % (sources); the packed forward sends only valid frames through "
        f"the per-token layers. Packed vs padded forward of the prior stream on one source batch (eval mode): max "
        f"|diff| {r['forward_check']['max_abs_diff']:.1e} (outputs up to {r['forward_check']['max_abs_output']:.1f}).",
        "",
        "The engines draw dropout differently, so their adapters differ (`AdaptConfig.engine` is part of the cache "
        "key when it is `fast`); without dropout they compute the same losses and gradients "
        "(`tests/test_adapt_engine.py`). `legacy` stays the default, so committed results reproduce.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shots", type=int, default=1)
    ap.add_argument("--blocks", type=int, default=6)
    ap.add_argument("--steps-per-block", type=int, default=2)
    ap.add_argument("--cache", default=str(REPO / "work_dirs" / "adapt_speed" / "cache"))
    ap.add_argument("--out", default=str(RESULTS / "adapt_speed"))
    a = ap.parse_args(argv)
    a.load_start = os.getloadavg()[0]
    r = run(a)
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(r, indent=1))
    out.with_suffix(".md").write_text(markdown(r))
    print(markdown(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
