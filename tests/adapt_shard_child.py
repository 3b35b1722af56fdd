"""Child process of tests/test_adapt_shard.py: one rank of a sharded adaptation of tiny classes.

    torchrun --standalone --nproc_per_node 2 tests/adapt_shard_child.py CACHE OUT_DIR [options]

Builds the same tiny jobs as :func:`jobs` (deterministic), joins a gloo process group when started by
torchrun, runs :func:`kinemic_aug.adapt.shard.adapt_jobs` and writes ``OUT_DIR/rank<r>.json`` (the
outcomes). ``--kill-rank R --kill-after N`` makes rank R kill itself (SIGKILL, no clean-up) after N
training steps, to test what a dead rank leaves behind. ``--mem-limit-mb M`` caps this process's
address space M MB above what it uses after set-up (a real allocation failure, to test the OOM fallback);
``--micro N``: classes per forward/backward pass (the group's memory grows with it).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

D, E = 12, 8


def base_model(dropout: float = 0.1):
    from kinemic_aug.generator.models.denoiser import DenoiserConfig, MotionDenoiser
    torch.manual_seed(0)
    return MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=D, text_dim=E, dropout=dropout))


def jobs(n: int, steps: int = 6, batch_size: int = 5, max_frames: int = 30, long: bool = False):
    """``n`` tiny classes (``long``: 120-frame clips and bigger batches, to make memory matter)."""
    from kinemic_aug.adapt import AdaptConfig, SourcePool, TargetShots
    from kinemic_aug.adapt.batched import AdapterJob
    from kinemic_aug.adapt.cache import make_key
    from kinemic_aug.adapt.shard import AdapterSpec
    out = []
    lo, hi = (110, 120) if long else (8, 22)
    for c in range(n):
        r = np.random.default_rng(100 + c)
        k = 3 + c % 3
        shots = TargetShots([r.normal(size=(int(r.integers(lo, hi)), D)).astype(np.float32) for _ in range(k)],
                            np.zeros(k, int), r.normal(size=(1, 2, E)))
        pool = SourcePool([r.normal(size=(int(r.integers(lo, hi + 20)), D)).astype(np.float32) for _ in range(8)],
                          r.normal(size=(8, E)), {0: np.arange(4)}, negatives={0: np.arange(4, 8)})
        cfg = AdaptConfig(steps=steps, batch_size=batch_size, mic_hidden=16, progress=False, lr=1e-3,
                          negatives_per_step=2, max_frames=max_frames, save_every=2, seed=c % 2)
        job = AdapterJob(shots, pool, cfg, [c], f"class {c}")
        out.append(AdapterSpec(job, make_key({"test": "shard", "class": c, "long": long, "steps": steps}),
                               {"class": c}))
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("cache")
    ap.add_argument("out")
    ap.add_argument("--classes", type=int, default=6)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--group-size", type=int, default=2)
    ap.add_argument("--sequential", action="store_true")
    ap.add_argument("--kill-rank", type=int, default=-1)
    ap.add_argument("--kill-after", type=int, default=0)
    ap.add_argument("--long", action="store_true")
    ap.add_argument("--mem-limit-mb", type=float, default=0)
    ap.add_argument("--micro", type=int, default=None, help="classes per forward/backward (default: the device's)")
    a = ap.parse_args(argv)
    torch.set_num_threads(1)
    import torch.distributed as dist
    if int(os.environ.get("WORLD_SIZE", 1)) > 1:
        dist.init_process_group("gloo")
    from kinemic_aug.adapt.cache import ArtifactCache
    from kinemic_aug.adapt.shard import adapt_jobs
    specs = jobs(a.classes, steps=a.steps, batch_size=16 if a.long else 5, max_frames=120 if a.long else 30,
                 long=a.long)
    rank = int(os.environ.get("RANK", 0))
    steps = [0]

    def callback(_specs, _logs):
        steps[0] += 1
        if rank == a.kill_rank and steps[0] >= a.kill_after:
            os.kill(os.getpid(), signal.SIGKILL)

    if a.mem_limit_mb:
        import resource
        with open("/proc/self/status") as f:
            vm = next(int(line.split()[1]) for line in f if line.startswith("VmSize:")) * 1024
        lim = int(vm + a.mem_limit_mb * 2**20)
        resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = adapt_jobs(base_model(), _schedule(), ArtifactCache(a.cache), specs, group_size=a.group_size,
                         batched=not a.sequential, poll=0.2, micro_classes=a.micro, callback=callback)
    Path(a.out).mkdir(parents=True, exist_ok=True)
    rec = {"rank": rank, "outcomes": {o.name: vars(o) for o in out.values()},
           "warnings": [str(w.message) for w in caught]}
    (Path(a.out) / f"rank{rank}.json").write_text(json.dumps(rec, indent=1))
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return 0


def _schedule():
    from kinemic_aug.generator.schedulers.noise_schedule import NoiseSchedule
    return NoiseSchedule.make("cosine", 50)


if __name__ == "__main__":
    sys.exit(main())
