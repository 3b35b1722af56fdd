"""Per-class adaptation at scale: sequential vs batched vs joint, 1 vs 2 processes, classes per minute as
the class count grows, and class-batched sampling; on the machine it runs on (CPU unless CUDA is there).

    python -m benchmarks.adapt_scale          # everything (about 20 min on a shared 2-core CPU)
    python -m benchmarks.adapt_scale --stages adapt,procs   # some stages

Data: MSR Action3D ``xsub_train``, 10 shots per class (seed 0; "side kick" has 9), the shipped small
generalist (4x256) and the default corpus, the augmenter's own per-class jobs (shots, soft-positive pool,
other classes' positives as negatives) with the default ``AdaptConfig`` except ``steps``. The scaling stage
adds a SYNTHETIC class set: class ``k`` is MSR class ``k mod 20``'s shots plus Gaussian noise (std 0.05 in
normalised feature units, seed ``k``) with that class's pool: each costs what a real class costs.

Stages (each arm in a fresh process, one torch thread, so its peak memory is its own):

* ``adapt``: 20 MSR classes, ``--steps`` steps: one class after another (``KineMICTrainer``), all 20
  in one ``BatchedKineMICTrainer`` (with the CPU's default of one class per forward/backward, and with up
  to 20 per forward/backward: the classes of one length bucket, lengths within 10 %), one joint adapter with the same steps and batch (16 samples a step
  for all classes, the paper's setting) and one joint adapter with as many samples a step as the batched
  run (16 x 20). Sequential and batched alternate (seq, batched, one pass, batched, seq) so load from
  other processes hits them alike. Wall and process CPU seconds, peak RSS above the loaded inputs.
* ``procs``: 20 classes through :func:`kinemic_aug.adapt.shard.adapt_jobs` (batched groups of 5) in 1
  process and in 2 (torchrun, gloo), alternating 1, 2, 2, 1; wall time from a barrier after loading.
* ``scale``: batched (groups of 10) for 5, 20, 60 and 120 classes of the synthetic set, one step each at
  batch 8; sequential for 5 and 20. Classes per minute.
* ``sample``: guided DDIM (20 steps, guidance 2.5) of 3 samples per class for 20 classes, one class
  after another and class-batched, and for 120 classes class-batched; samples per second. The adapters
  are the scale stage's (trained one step: speed does not depend on how trained they are); the filter
  is permissive so every class takes one round.

Writes ``benchmarks/results/adapt_scale.{json,md}`` (the JSON after every stage).
"""
from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import pickle
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

WORK = REPO / "work_dirs" / "adapt_scale"
JOBS = WORK / "jobs_msr20.pkl"
RESULTS = REPO / "benchmarks" / "results"
MSR = Path(os.environ.get("KINEMIC_MSR_PKL", REPO.parent / "shared" / "data" / "msr_action3d" /
                          "msr_action3d_skeleton.pkl"))
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------------------------------------- inputs
def prepare(cache: Path) -> Dict[str, Any]:
    """The augmenter's 20 per-class jobs on MSR (10 shots, seed 0), pickled once for the workers."""
    import torch
    torch.set_num_threads(1)
    from kinemic_aug.augmenter import KineMICAugmenter
    if JOBS.exists():
        try:  # a pickle of objects whose classes have since moved or changed is rebuilt, not trusted
            _load()
            return {"prepared_seconds": 0.0, "cached": True}
        except (ModuleNotFoundError, AttributeError, ImportError, pickle.UnpicklingError, EOFError):
            JOBS.unlink()
    t0 = time.time()
    aug = KineMICAugmenter(str(MSR), split="xsub_train", shots=10, labels="msr_action3d", layout="msr_action3d",
                           cache_dir=cache, progress=False, allow_fewer=True, seed=0)
    joints = aug.shot_joints
    jobs = [aug.adapters.job(c)[0] for c in aug.classes]
    b = aug.resources.generator
    WORK.mkdir(parents=True, exist_ok=True)
    tmp = JOBS.with_suffix(".tmp")
    with open(tmp, "wb") as f:
        pickle.dump({"jobs": jobs, "model": b.model, "schedule": b.schedule, "rep": aug.normalisation.representation,
                     "joints": [joints[c] for c in aug.classes], "text": [aug.class_text(c) for c in aug.classes],
                     "classes": aug.classes, "generator_step": int(b.step)}, f, protocol=4)
    os.replace(tmp, JOBS)
    return {"prepared_seconds": time.time() - t0, "cached": False}


def _load() -> Dict[str, Any]:
    with open(JOBS, "rb") as f:
        return pickle.load(f)


def _with(job, **cfg):
    from kinemic_aug.adapt.batched import AdapterJob
    return AdapterJob(job.shots, job.pool, dataclasses.replace(job.cfg, progress=False, **cfg), job.classes, job.name)


def synthetic_jobs(d: Dict[str, Any], n: int, **cfg) -> List[Any]:
    """``n`` SYNTHETIC classes: MSR class ``k mod 20``'s shots + N(0, 0.05^2) noise (seed ``k``), its pool."""
    import numpy as np
    from kinemic_aug.adapt import TargetShots
    from kinemic_aug.adapt.batched import AdapterJob
    out = []
    base = d["jobs"]
    for k in range(n):
        j = base[k % len(base)]
        r = np.random.default_rng(1000 + k)
        feats = [(f + r.normal(0.0, 0.05, size=f.shape)).astype(np.float32) for f in j.shots.feats]
        shots = TargetShots(feats, j.shots.labels, j.shots.text_emb, [f"synthetic{k}_{i}" for i in range(len(feats))])
        out.append(AdapterJob(shots, j.pool, dataclasses.replace(j.cfg, progress=False, **cfg), [k],
                              f"synthetic class {k}"))
    return out


def joint_inputs(d: Dict[str, Any], batch_size: int, steps: int):
    """One joint adapter's shots and pool over the 20 classes (as the augmenter's joint mode builds them)."""
    import numpy as np
    from kinemic_aug.adapt import SourcePool, TargetShots
    feats, labels = [], []
    for li, j in enumerate(d["jobs"]):
        feats += list(j.shots.feats)
        labels += [li] * len(j.shots.feats)
    p = max(j.shots.text_emb.shape[1] for j in d["jobs"])
    text = np.stack([np.concatenate([j.shots.text_emb[0], j.shots.text_emb[0][np.arange(p - j.shots.text_emb.shape[1])
                                                                              % j.shots.text_emb.shape[1]]])
                     for j in d["jobs"]])
    clips: Dict[int, int] = {}
    pool_feats, pool_text, positives = [], [], {}
    for li, j in enumerate(d["jobs"]):
        idx = []
        for i in j.pool.positives[0]:
            arr = j.pool.feats[int(i)]
            if id(arr) not in clips:
                clips[id(arr)] = len(pool_feats)
                pool_feats.append(arr)
                pool_text.append(j.pool.text_emb[int(i)])
            idx.append(clips[id(arr)])
        positives[li] = np.array(idx)
    cfg = dataclasses.replace(d["jobs"][0].cfg, mode="joint", batch_size=batch_size, steps=steps, progress=False)
    return TargetShots(feats, labels, text), SourcePool(pool_feats, np.stack(pool_text), positives), cfg


# ---------------------------------------------------------------------------------------------- workers
def worker_train(arm: str, steps: int) -> Dict[str, Any]:
    import torch
    torch.set_num_threads(1)
    from kinemic_aug.adapt import KineMICTrainer
    from kinemic_aug.adapt.batched import BatchedKineMICTrainer
    d = _load()
    base_mb = _rss_mb()
    model, sch = d["model"], d["schedule"]
    jobs = [_with(j, steps=steps) for j in d["jobs"]]
    w0, c0 = time.time(), time.process_time()
    if arm == "sequential":
        for j in jobs:
            KineMICTrainer(copy.deepcopy(model), sch, j.shots, j.pool, j.cfg, classes=j.classes).train()
    elif arm == "batched":  # the device's default pass size (CPU: one class per forward/backward)
        BatchedKineMICTrainer(copy.deepcopy(model), sch, jobs).train()
    elif arm == "batched_one_pass":  # up to all 20 classes per forward/backward (still split by length buckets)
        BatchedKineMICTrainer(copy.deepcopy(model), sch, jobs, micro_classes=len(jobs)).train()
    elif arm in ("joint", "joint_rows"):
        bs = jobs[0].cfg.batch_size * (len(jobs) if arm == "joint_rows" else 1)
        shots, pool, cfg = joint_inputs(d, bs, steps)
        KineMICTrainer(copy.deepcopy(model), sch, shots, pool, cfg).train()
    else:
        raise ValueError(arm)
    return {"arm": arm, "steps": steps, "classes": len(jobs), "wall_s": time.time() - w0,
            "cpu_s": time.process_time() - c0, "base_rss_mb": base_mb, "peak_rss_mb": _peak_mb(),
            "peak_above_inputs_mb": _peak_mb() - base_mb}


def worker_shard(cache: str, steps: int, group: int) -> Dict[str, Any]:
    import torch
    import torch.distributed as dist
    torch.set_num_threads(1)
    from kinemic_aug.adapt.cache import ArtifactCache
    from kinemic_aug.adapt.cache import make_key
    from kinemic_aug.adapt.shard import AdapterSpec, adapt_jobs, resolve_rank
    if int(os.environ.get("WORLD_SIZE", 1)) > 1:
        dist.init_process_group("gloo")
    d = _load()
    specs = [AdapterSpec(_with(j, steps=steps), make_key({"bench": "procs", "class": k, "steps": steps}))
             for k, j in enumerate(d["jobs"])]
    rank, world = resolve_rank()
    if dist.is_initialized():
        dist.barrier()
    w0 = time.time()
    out = adapt_jobs(copy.deepcopy(d["model"]), d["schedule"], ArtifactCache(cache), specs, group_size=group,
                     batched=True, poll=0.2)
    mine = time.time() - w0
    if dist.is_initialized():
        dist.barrier()
    wall = time.time() - w0
    rec = {"rank": rank, "world": world, "wall_s": wall, "own_s": mine, "peak_rss_mb": _peak_mb(),
           "trained": sum(o.status == "trained" for o in out.values())}
    if dist.is_initialized():
        recs = [None] * world
        dist.all_gather_object(recs, rec)
        dist.destroy_process_group()
        return {"ranks": recs, "wall_s": max(r["wall_s"] for r in recs)} if rank == 0 else {}
    return {"ranks": [rec], "wall_s": wall}


def _run_worker(args: List[str], torchrun: int = 0, timeout: int = 1800) -> Dict[str, Any]:
    out = WORK / f"worker_{time.time_ns()}.json"
    script = str(Path(__file__).resolve())
    cmd = ([str(Path(sys.executable).with_name("torchrun")), "--standalone", "--nproc_per_node", str(torchrun), script]
           if torchrun else [sys.executable, script]) + args + ["--out", str(out)]
    p = subprocess.run(cmd, env=ENV, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"worker {args} failed:\n{p.stderr[-3000:]}")
    rec = json.loads(out.read_text())
    out.unlink()
    return rec


# ---------------------------------------------------------------------------------------------- stages
def stage_adapt(steps: int) -> Dict[str, Any]:
    runs = []
    for arm in ("joint", "sequential", "batched", "batched_one_pass", "batched", "sequential", "joint", "joint_rows"):
        rec = _run_worker(["--worker", "train", "--arm", arm, "--steps", str(steps)])
        print(f"adapt {arm}: {rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} s cpu, peak +{rec['peak_above_inputs_mb']:.0f} MB",
              flush=True)
        runs.append(rec)
    return {"steps": steps, "runs": runs}


def stage_procs(steps: int, group: int) -> Dict[str, Any]:
    import shutil
    runs = []
    for n in (1, 2, 2, 1):
        cache = WORK / f"procs_cache_{n}"
        shutil.rmtree(cache, ignore_errors=True)
        args = ["--worker", "shard", "--steps", str(steps), "--group", str(group), "--cache", str(cache)]
        rec = _run_worker(args, torchrun=n if n > 1 else 0)
        rec["processes"] = n
        print(f"procs {n}: {rec['wall_s']:.1f} s", flush=True)
        runs.append(rec)
        shutil.rmtree(cache, ignore_errors=True)
    return {"steps": steps, "group_size": group, "runs": runs}


def stage_scale(counts=(5, 20, 60, 120), batch_size: int = 8, group: int = 10) -> Dict[str, Any]:
    import shutil

    import torch
    torch.set_num_threads(1)
    from kinemic_aug.adapt import KineMICTrainer
    from kinemic_aug.adapt.cache import ArtifactCache, make_key
    from kinemic_aug.adapt.shard import AdapterSpec, adapt_jobs
    d = _load()
    rows = []
    cache = WORK / "scale_cache"
    shutil.rmtree(cache, ignore_errors=True)
    for n in counts:
        jobs = synthetic_jobs(d, n, steps=1, batch_size=batch_size)
        specs = [AdapterSpec(j, make_key({"bench": "scale", "class": k, "n": n})) for k, j in enumerate(jobs)]
        w0, c0 = time.time(), time.process_time()
        adapt_jobs(copy.deepcopy(d["model"]), d["schedule"], ArtifactCache(cache), specs, rank=0, world_size=1,
                   group_size=group, batched=True)
        rows.append({"arm": "batched", "classes": n, "wall_s": time.time() - w0, "cpu_s": time.process_time() - c0})
        print(f"scale batched {n}: {rows[-1]['wall_s']:.1f} s", flush=True)
        if n <= 20:
            w0, c0 = time.time(), time.process_time()
            for j in jobs:
                KineMICTrainer(copy.deepcopy(d["model"]), d["schedule"], j.shots, j.pool, j.cfg).train()
            rows.append({"arm": "sequential", "classes": n, "wall_s": time.time() - w0, "cpu_s": time.process_time() - c0})
            print(f"scale sequential {n}: {rows[-1]['wall_s']:.1f} s", flush=True)
        if n == max(counts):
            keys = [s.key for s in specs]
    for r in rows:
        r["classes_per_min"] = 60.0 * r["classes"] / r["wall_s"]
    (WORK / "scale_keys.json").write_text(json.dumps(keys))
    return {"steps": 1, "batch_size": batch_size, "group_size": group, "rows": rows}


def stage_sample(per_class: int = 3, arms=((20, "sequential"), (20, "batched"), (120, "batched"))) -> Dict[str, Any]:
    import numpy as np
    import torch
    torch.set_num_threads(1)
    from kinemic_aug.adapt import KineMICTrainer
    from kinemic_aug.adapt.stacked_target import stacked_target
    from kinemic_aug.adapt.cache import ArtifactCache
    from kinemic_aug.synthesis import ClassRequest, SynthesisConfig, synthesize_class, synthesize_classes
    d = _load()
    keys = json.loads((WORK / "scale_keys.json").read_text())
    cache = ArtifactCache(WORK / "scale_cache")
    states = [cache.load("adapter", k) for k in keys]
    scfg = SynthesisConfig(steps=20, guidance=2.5, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                           oversample=1.0)
    cfg = d["jobs"][0].cfg
    rows = []

    def requests(n):
        return [ClassRequest(n=per_class, shot_joints=d["joints"][k % 20], class_text_emb=d["text"][k % 20], action=k,
                             seed=k, adapter=k) for k in range(n)]

    for n, arm in arms:
        reqs = requests(n)
        b0 = time.time()  # the models are built outside the timed part (one stacked, or one per class)
        if arm == "batched":
            model = stacked_target(d["model"], cfg, states[:n])
        else:
            lone = []
            for k in range(n):
                tr = KineMICTrainer(copy.deepcopy(d["model"]), d["schedule"], d["jobs"][k].shots, None,
                                    dataclasses.replace(cfg, steps=0, progress=False))
                tr.load_state(states[k])
                lone.append(tr.target.eval())
        build = time.time() - b0
        w0, c0 = time.time(), time.process_time()
        if arm == "batched":
            res = synthesize_classes(model, d["rep"], d["schedule"], reqs, scfg)
        else:
            res = [synthesize_class(lone[k], d["rep"], d["schedule"], n=r.n, shot_joints=r.shot_joints,
                                    class_text_emb=r.class_text_emb, action=0, cfg=scfg, seed=r.seed)
                   for k, r in enumerate(reqs)]
        wall = time.time() - w0
        drawn = sum(x[1].drawn for x in res)
        frames = sum(len(s) for x in res for s in x[0])
        rows.append({"arm": arm, "classes": n, "samples": drawn, "frames": frames, "wall_s": wall, "build_s": build,
                     "cpu_s": time.process_time() - c0, "samples_per_s": drawn / wall})
        print(f"sample {arm} {n}: {drawn} samples in {wall:.1f} s", flush=True)
    return {"per_class": per_class, "ddim_steps": 20, "guidance": 2.5, "rows": rows}


# ---------------------------------------------------------------------------------------------- report
def _each(rs, key):
    return ", ".join(f"{r[key]:.1f}" for r in rs)


def _med(xs):
    return statistics.median(xs) if xs else float("nan")


def markdown(res: Dict[str, Any]) -> str:
    m = res["machine"]
    lines = ["# Per-class adaptation at scale", "",
             f"Machine: {m['machine']}, {m['cpus']} CPUs shared with other jobs, torch {m['torch']}, one torch "
             f"thread per process, CUDA: {m['cuda']}. Runs (1-minute load average at their start): "
             + "; ".join(f"{r['date']} stages {r['stages']} (load {r['load_start']})" for r in res.get("runs", []))
             + ". "
             "No GPU was available for these runs: every number is CPU. "
             f"Data: MSR Action3D xsub_train, 10 shots per class, seed 0; generalist `generalist_small.pt` "
             f"(step {res.get('generator_step', '?')}); default `AdaptConfig` (batch 16, LoRA rank 16, 8 negatives, "
             "MIC 256) except the steps given. Each arm ran in its own process; wall seconds include other "
             "jobs' load, CPU seconds are this process's own.", ""]
    if "adapt" in res:
        a = res["adapt"]
        by: Dict[str, List[Dict[str, Any]]] = {}
        for r in a["runs"]:
            by.setdefault(r["arm"], []).append(r)
        j = _med([r["wall_s"] for r in by["joint"]])
        lines += [f"## 20 MSR classes, {a['steps']} step(s) (order: joint, seq, batched, one pass, batched, seq, joint, "
                  "joint x20)", "",
                  "| arm | runs | wall s (each) | CPU s (each) | wall / joint | peak RSS above inputs |",
                  "|---|---|---|---|---|---|"]
        names = {"sequential": "per-class, one after another (KineMICTrainer)",
                 "batched": "per-class, 20 in one batched run (CPU default: one class per forward/backward)",
                 "batched_one_pass": "per-class, 20 batched, up to 20 classes per forward/backward (length buckets)",
                 "joint": "one joint adapter, batch 16", "joint_rows": "one joint adapter, batch 320 (= batched rows)"}
        for arm in ("sequential", "batched", "batched_one_pass", "joint", "joint_rows"):
            rs = by.get(arm, [])
            if not rs:
                continue
            lines.append(f"| {names[arm]} | {len(rs)} | {_each(rs, 'wall_s')} | "
                         f"{_each(rs, 'cpu_s')} | {_med([r['wall_s'] for r in rs]) / j:.1f}x | "
                         f"{_med([r['peak_above_inputs_mb'] for r in rs]):.0f} MB |")
        s, b = by["sequential"], by["batched"]
        lines += ["", f"Batched / sequential: wall {_med([r['wall_s'] for r in b]) / _med([r['wall_s'] for r in s]):.2f}, "
                  f"CPU {_med([r['cpu_s'] for r in b]) / _med([r['cpu_s'] for r in s]):.2f}. Inputs (jobs, model) "
                  f"took {_med([r['base_rss_mb'] for r in a['runs']]):.0f} MB before training.", ""]
    if "procs" in res:
        p = res["procs"]
        one = [r["wall_s"] for r in p["runs"] if r["processes"] == 1]
        two = [r["wall_s"] for r in p["runs"] if r["processes"] == 2]
        lines += [f"## 1 vs 2 processes: 20 MSR classes, {p['steps']} step(s), batched groups of {p['group_size']} "
                  "(order 1, 2, 2, 1; 2 = torchrun, gloo)", "",
                  "| processes | wall s (each) | classes trained per rank |", "|---|---|---|"]
        for n, xs in ((1, one), (2, two)):
            per = [", ".join(str(x["trained"]) for x in r["ranks"]) for r in p["runs"] if r["processes"] == n]
            lines.append(f"| {n} | {', '.join(f'{x:.1f}' for x in xs)} | {' / '.join(per)} |")
        lines += ["", f"2 / 1 processes: {_med(two) / _med(one):.2f} of the wall time.", ""]
    if "scale" in res:
        s = res["scale"]
        lines += [f"## Classes per minute vs class count (SYNTHETIC class set, 1 step, batch {s['batch_size']}, "
                  f"batched groups of {s['group_size']})", "",
                  "| classes | arm | wall s | CPU s | classes / min |", "|---|---|---|---|---|"]
        for r in s["rows"]:
            lines.append(f"| {r['classes']} | {r['arm']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | {r['classes_per_min']:.1f} |")
        lines.append("")
    if "sample" in res:
        s = res["sample"]
        lines += [f"## Sampling: guided DDIM ({s['ddim_steps']} steps, guidance {s['guidance']}), {s['per_class']} "
                  "samples per class (model building not timed: 'build s')", "",
                  "| classes | arm | samples | wall s | CPU s | samples / s | build s |", "|---|---|---|---|---|---|---|"]
        for r in s["rows"]:
            lines.append(f"| {r['classes']} | {r['arm']} | {r['samples']} | {r['wall_s']:.1f} | {r['cpu_s']:.1f} | "
                         f"{r['samples_per_s']:.2f} | {r.get('build_s', float('nan')):.1f} |")
        lines.append("")
    lines += res.get("notes", [])
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--stages", default="adapt,procs,scale,sample")
    ap.add_argument("--steps", type=int, default=1, help="adaptation steps of the adapt and procs stages")
    ap.add_argument("--report-only", action="store_true", help="rewrite the markdown from the JSON")
    ap.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--arm", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--group", type=int, default=5, help=argparse.SUPPRESS)
    ap.add_argument("--cache", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help=argparse.SUPPRESS)
    a = ap.parse_args(argv)
    if a.worker:
        rec = worker_train(a.arm, a.steps) if a.worker == "train" else worker_shard(a.cache, a.steps, a.group)
        if rec:
            Path(a.out).write_text(json.dumps(rec))
        return 0
    import torch
    from kinemic_aug.utils.io import atomic_write_json, atomic_write_text
    WORK.mkdir(parents=True, exist_ok=True)
    json_path = RESULTS / "adapt_scale.json"
    res: Dict[str, Any] = json.loads(json_path.read_text()) if json_path.exists() else {}
    if a.report_only:
        atomic_write_text(RESULTS / "adapt_scale.md", markdown(res) + "\n")
        return 0
    res["machine"] = {"machine": platform.machine(), "cpus": os.cpu_count(), "torch": torch.__version__,
                      "cuda": torch.cuda.is_available()}
    res.setdefault("runs", []).append({"stages": a.stages, "load_start": round(os.getloadavg()[0], 2),
                                       "date": time.strftime("%Y-%m-%d %H:%M")})
    res["prepare"] = prepare(WORK / "cache")
    res["generator_step"] = _load().get("generator_step")
    t0 = time.time()
    for st in a.stages.split(","):
        s0 = time.time()
        if st == "adapt":
            res["adapt"] = stage_adapt(a.steps)
        elif st == "procs":
            res["procs"] = stage_procs(a.steps, a.group)
        elif st == "scale":
            res["scale"] = stage_scale()
        elif st == "sample":
            res["sample"] = stage_sample()
        else:
            raise SystemExit(f"unknown stage {st!r}")
        res.setdefault("stage_seconds", {})[st] = time.time() - s0
        atomic_write_json(json_path, res)
        atomic_write_text(RESULTS / "adapt_scale.md", markdown(res) + "\n")
    print(f"done in {time.time() - t0:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
