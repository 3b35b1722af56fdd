"""Faults that long adaptations meet in practice: SIGKILL mid-run, two processes on one cache, an
unwritable folder, a full disk, corrupt or truncated cache entries and checkpoints. Finished work
must never be lost or served corrupt, and a resumed run must end exactly where an uninterrupted one
does (same seed, same machine). Processes are real (``fork``) and are killed with ``SIGKILL``.

The scenario helpers are plain functions so that ``benchmarks/robustness.py`` can count them.
All training data here is random (synthetic) and the models are tiny.
"""
from __future__ import annotations

import contextlib
import json
import multiprocessing as mp
import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pytest
import torch

from kinemic_aug.adapt import AdaptConfig, KineMICTrainer, SourcePool, TargetShots
from kinemic_aug.adapt.cache import ArtifactCache, make_key
from kinemic_aug.data.fewshot import make_few_shot_split
from kinemic_aug.errors import CacheError
from kinemic_aug.generator import (DenoiserConfig, GeneratorTrainer, MotionDenoiser, MotionTextDataset,
                                   PretrainConfig, XYZRepresentation, load_checkpoint)
from kinemic_aug.generator.schedulers.noise_schedule import NoiseSchedule
from kinemic_aug.data.procedural.swing_clips import swing_corpus
from kinemic_aug.utils.io import sha256_file

FORK = mp.get_context("fork")
D, E, TD = 12, 8, 16


# ------------------------------------------------------------------------------ tiny workloads
def adapt_setup(seed: int = 0):
    """Tiny denoiser, random (synthetic) shots and source pool for a 2-class adaptation."""
    rng = np.random.default_rng(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        base = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=D, text_dim=E, dropout=0.0))
    shots = TargetShots([rng.normal(size=(int(rng.integers(10, 16)), D)).astype(np.float32) for _ in range(4)],
                        [0, 0, 1, 1], rng.normal(size=(2, E)))
    pool = SourcePool([rng.normal(size=(24, D)).astype(np.float32) for _ in range(8)], rng.normal(size=(8, E)),
                      {0: np.arange(4), 1: np.arange(4, 8)}, negatives={0: np.arange(4, 8), 1: np.arange(4)})
    return base, NoiseSchedule.make("cosine", 50), shots, pool


def adapt_cfg(**kw: Any) -> AdaptConfig:
    base = dict(steps=8, batch_size=6, mic_hidden=16, progress=False, lr=1e-3, save_every=2, negatives_per_step=2,
                device="cpu")
    base.update(kw)
    return AdaptConfig(**base)


def make_trainer(seed: int = 0, **kw: Any) -> KineMICTrainer:
    base, sch, shots, pool = adapt_setup(0)
    return KineMICTrainer(base, sch, shots, pool, adapt_cfg(seed=seed, **kw))


def adapter_tensors(tr: KineMICTrainer) -> Dict[str, torch.Tensor]:
    sd = tr.state_dict()
    out = {f"lora.{k}": v for k, v in sd["lora"].items()}
    out.update({f"mic.{k}": v for k, v in sd["mic"].items()})
    out["embed_action"] = sd["embed_action"]
    out["logit_scale"] = sd["logit_scale"]
    return out


def same_tensors(a: Dict[str, torch.Tensor], b: Dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def make_gen_trainer(out: Optional[Path], steps: int = 6, save_every: int = 2, seed: int = 0) -> GeneratorTrainer:
    """A tiny pretraining run on the (synthetic) toy corpus, with a bag-of-bytes caption embedder."""
    def embed(texts: List[str]) -> np.ndarray:
        v = np.zeros((len(texts), TD), np.float32)
        for i, t in enumerate(texts):
            for ch in t.encode():
                v[i, ch % TD] += 1.0
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    corpus = swing_corpus(4, seconds=(1.0, 2.0))
    rep = XYZRepresentation("smpl22")
    ds = MotionTextDataset(corpus, rep, embed, text_dim=TD, fps=20.0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=rep.dim, text_dim=TD, width=32, ff_dim=64))
    cfg = PretrainConfig(steps=steps, batch_size=3, min_seconds=0.5, max_seconds=1.0, diffusion_steps=50,
                         save_every=save_every, seed=seed, device="cpu", progress=False, plot=False)
    return GeneratorTrainer(model, ds, cfg, out=out)


def gen_tensors(tr: GeneratorTrainer) -> Dict[str, torch.Tensor]:
    out = {f"model.{k}": v for k, v in tr.model.state_dict().items()}
    out.update({f"ema.{k}": v for k, v in tr.ema.items()})
    return out


# ------------------------------------------------------------------------------ process control
def _child(fn: Callable[..., None], args: tuple) -> None:
    torch.set_num_threads(1)
    try:
        fn(*args)
    except BaseException:  # noqa: BLE001 - a child must not run the parent's pytest machinery
        os._exit(3)
    os._exit(0)


def run_and_kill_when(fn: Callable[..., None], args: tuple, ready: Callable[[], bool],
                      timeout: float = 60.0) -> int:
    """Start ``fn(*args)`` in a forked process, SIGKILL it as soon as ``ready()``; return its exit code
    (``-SIGKILL`` when the kill landed, ``0`` if it finished first)."""
    p = FORK.Process(target=_child, args=(fn, args))
    p.start()
    t0 = time.monotonic()
    try:
        while not ready():
            if not p.is_alive():
                break
            if time.monotonic() - t0 > timeout:
                raise TimeoutError("child never reached the kill point")
            time.sleep(0.02)
        if p.is_alive():
            os.kill(p.pid, signal.SIGKILL)
    finally:
        p.join(30)
    return p.exitcode


def _slow_adapt(ckpt: str, delay: float) -> None:
    tr = make_trainer()
    tr.train(checkpoint=ckpt, callback=lambda logs: time.sleep(delay) if logs["step"] >= 2 else None)


def _adapt_killed_in_write(ckpt: str, nth_write: int) -> None:
    """Dies by SIGKILL inside the ``nth_write``-th checkpoint write: the temporary file is complete,
    the rename over the checkpoint has not happened yet."""
    real_replace = os.replace
    count = {"n": 0}

    def replace(src, dst):
        count["n"] += 1
        if count["n"] == nth_write:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_replace(src, dst)

    os.replace = replace
    make_trainer().train(checkpoint=ckpt)


def _slow_pretrain(out: str, delay: float) -> None:
    tr = make_gen_trainer(Path(out))
    step = tr.train_step

    def slow() -> float:
        loss = step()
        if tr.step >= 2:
            time.sleep(delay)
        return loss

    tr.train_step = slow  # type: ignore[method-assign]
    tr.train()


def scenario_kill_adaptation(tmp: Path, reference: Dict[str, torch.Tensor]) -> Dict[str, Any]:
    """Kill an adaptation after its first checkpoint, resume, compare with the uninterrupted run."""
    ckpt = tmp / f"progress-{uuid.uuid4().hex[:6]}.pt"
    code = run_and_kill_when(_slow_adapt, (str(ckpt), 0.4), ckpt.exists)
    step_at_kill = int(torch.load(ckpt, weights_only=True)["step"])
    resumed = make_trainer()
    resumed.train(checkpoint=ckpt)
    return {"killed": code == -signal.SIGKILL, "step_at_kill": step_at_kill, "final_step": resumed.step,
            "identical": same_tensors(adapter_tensors(resumed), reference)}


def scenario_kill_during_write(tmp: Path, reference: Dict[str, torch.Tensor], nth_write: int = 2) -> Dict[str, Any]:
    ckpt = tmp / f"progress-{uuid.uuid4().hex[:6]}.pt"
    code = run_and_kill_when(_adapt_killed_in_write, (str(ckpt), nth_write), lambda: False)
    # the previous checkpoint, whole (none when the kill hit the very first write)
    state = torch.load(ckpt, weights_only=True) if ckpt.exists() else {"step": 0}
    strays = sorted(p.name for p in tmp.glob(f".{ckpt.name}.*.tmp"))
    resumed = make_trainer()
    resumed.train(checkpoint=ckpt)
    return {"killed": code == -signal.SIGKILL, "step_at_kill": int(state["step"]), "stray_temp_files": strays,
            "identical": same_tensors(adapter_tensors(resumed), reference)}


def scenario_kill_pretraining(tmp: Path, reference: Dict[str, torch.Tensor], ref_losses: List[float]) -> Dict[str, Any]:
    out = tmp / f"gen-{uuid.uuid4().hex[:6]}.pt"
    code = run_and_kill_when(_slow_pretrain, (str(out), 0.4), out.exists)
    step_at_kill = int(load_checkpoint(out)["step"])
    resumed = make_gen_trainer(out).resume(out)
    resumed.train()
    return {"killed": code == -signal.SIGKILL, "step_at_kill": step_at_kill, "final_step": resumed.step,
            "identical": same_tensors(gen_tensors(resumed), reference) and resumed.losses == ref_losses}


def cache_is_clean(root: Path) -> List[str]:
    """Problems in a cache folder: entries whose payload fails its checksum, quarantined entries,
    leftover temporary files or progress files of finished entries."""
    problems = []
    for meta in root.rglob("meta.json"):
        m = json.loads(meta.read_text())
        pay = meta.parent / "payload.pt"
        if not pay.exists() or sha256_file(pay) != m["sha256"]:
            problems.append(f"bad entry {meta.parent}")
        if (meta.parent / "progress.pt").exists():
            problems.append(f"progress file left in finished entry {meta.parent}")
    problems += [f"quarantined {p}" for p in root.rglob("*.corrupt-*")]
    problems += [f"temp file {p}" for p in root.rglob("*.tmp")]
    return problems


@contextlib.contextmanager
def tiny_tmpfs(path: Path, size: str = "64k") -> Iterator[Path]:
    """A tmpfs of ``size`` at ``path`` (a full disk in miniature); skips the test when mounting is not
    permitted (non-root or no CAP_SYS_ADMIN)."""
    path.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True,
                       text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to simulate a full disk ({r.stderr.strip() or r.returncode}); "
                    "needs root with CAP_SYS_ADMIN")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


# ------------------------------------------------------------------------------ kills and resume
@pytest.fixture(scope="module")
def adapt_reference() -> Dict[str, torch.Tensor]:
    tr = make_trainer()
    tr.train()
    return adapter_tensors(tr)


def test_killed_adaptation_resumes_to_the_uninterrupted_result(tmp_path, adapt_reference):
    res = scenario_kill_adaptation(tmp_path, adapt_reference)
    assert res["killed"], "the child finished before the kill: the test did not interrupt anything"
    assert 2 <= res["step_at_kill"] < 8 and res["final_step"] == 8
    assert res["identical"], "resumed adapter differs from the uninterrupted one"


def test_kill_inside_a_checkpoint_write_keeps_the_previous_checkpoint(tmp_path, adapt_reference):
    res = scenario_kill_during_write(tmp_path, adapt_reference, nth_write=2)
    assert res["killed"]
    assert res["step_at_kill"] == 2  # the first checkpoint survived, whole; the second never appeared
    assert res["identical"]


def test_killed_pretraining_resumes_bit_identically(tmp_path):
    full = make_gen_trainer(None)
    full.train()
    res = scenario_kill_pretraining(tmp_path, gen_tensors(full), full.losses)
    assert res["killed"] and 2 <= res["step_at_kill"] < 6 and res["final_step"] == 6
    assert res["identical"]


def test_a_different_seed_gives_a_different_adapter(adapt_reference):
    """Guards the resume tests: if training ignored its inputs, 'identical' would prove nothing."""
    other = make_trainer(seed=1)
    other.train()
    assert not same_tensors(adapter_tensors(other), adapt_reference)


# ------------------------------------------------------------------------------ two processes, one cache
def _build_entry(root: str, key: str, out: str) -> None:
    """The augmenter's protocol for one adapter: lock, load or (train with a resume file, save)."""
    cache = ArtifactCache(root)
    tr = make_trainer()
    with cache.lock("adapter", key):
        state = cache.load("adapter", key)
        if state is not None:
            tr.load_state(state)
            trained = False
        else:
            tr.train(checkpoint=cache.progress_path("adapter", key))
            cache.save("adapter", key, tr.state_dict(), parts={"test": "concurrent"})
            trained = True
    torch.save({"trained": trained, **adapter_tensors(tr)}, out)


def scenario_two_processes_one_entry(tmp: Path) -> Dict[str, Any]:
    root = tmp / "cache"
    key = make_key({"class": 0, "run": uuid.uuid4().hex})
    outs = [tmp / f"out{i}.pt" for i in range(2)]
    procs = [FORK.Process(target=_child, args=(_build_entry, (str(root), key, str(o)))) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    res = [torch.load(o, weights_only=True) for o in outs if o.exists()]
    return {"exit_codes": [p.exitcode for p in procs], "trained": [bool(r.pop("trained")) for r in res],
            "same_result": len(res) == 2 and same_tensors(res[0], res[1]),
            "served": ArtifactCache(root).load("adapter", key) is not None, "problems": cache_is_clean(root)}


def test_two_processes_adapting_one_class_into_one_cache(tmp_path):
    res = scenario_two_processes_one_entry(tmp_path)
    assert res["exit_codes"] == [0, 0]
    assert sorted(res["trained"]) == [False, True], "exactly one process trains; the other waits and loads"
    assert res["same_result"] and res["served"]
    assert res["problems"] == []


@pytest.mark.slow
def test_two_augmenters_share_one_cache(msr_pkl, tiny_generator, tmp_path):
    """The full augmenter in two processes at once: one trains and samples, the other waits for the
    entry locks and serves the same arrays from the cache."""
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.synthesis import SynthesisConfig

    def run(out: str) -> None:
        aug = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=2, labels="msr_action3d",
                               layout="msr_action3d", classes=[0], synthetic_per_class=2,
                               generator=tiny_generator["path"], corpus=tiny_generator["corpus"],
                               cache_dir=tmp_path / "cache", progress=False,
                               adapt=AdaptConfig(steps=3, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2,
                                                 save_every=2),
                               synthesis=SynthesisConfig(steps=4, batch_size=8, static_ratio=0.0, explode_ratio=1e9,
                                                         bone_cv_max=1e9, oversample=1.0))
        anns = aug.synthetic_annotations()
        np.savez(out, *[a["keypoint"] for a in anns], cached=np.array([aug.reports[0].adapt_cached]))

    outs = [str(tmp_path / f"a{i}.npz") for i in range(2)]
    procs = [FORK.Process(target=_child, args=(run, (o,))) for o in outs]
    for p in procs:
        p.start()
    for p in procs:
        p.join(300)
    assert [p.exitcode for p in procs] == [0, 0]
    z = [np.load(o) for o in outs]
    assert sorted(bool(x["cached"][0]) for x in z) == [False, True]
    arrays = [[x[k] for k in sorted(x.files) if k.startswith("arr_")] for x in z]
    assert len(arrays[0]) == 2 and all(np.array_equal(a, b) for a, b in zip(*arrays))
    assert cache_is_clean(tmp_path / "cache") == []


# ------------------------------------------------------------------------------ unwritable folder, full disk
def test_unwritable_cache_folder_fails_with_cache_error(tmp_path):
    """A path below a regular file fails with ENOTDIR for every user (root included)."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    key = make_key({"x": 1})
    with pytest.raises(CacheError, match="file.txt"):
        ArtifactCache(blocker / "sub").save("adapter", key, {"x": torch.zeros(2)})
    with pytest.raises(CacheError, match="file.txt"):
        with ArtifactCache(blocker / "sub").lock("adapter", key):
            pass
    with pytest.raises(CacheError, match="cannot write resume checkpoint"):
        make_trainer(steps=2).train(checkpoint=blocker / "sub" / "progress.pt")
    with pytest.raises(CacheError, match="cannot write checkpoint"):
        make_gen_trainer(blocker / "sub" / "gen.pt", steps=2).train()


def test_a_failed_write_leaves_existing_entries_intact(tmp_path):
    cache = ArtifactCache(tmp_path / "c")
    old = make_key({"old": 1})
    cache.save("adapter", old, {"w": torch.arange(5.0)})
    new = make_key({"new": 2})
    block = cache.root / "adapter" / new[:2]
    if block.exists():  # the two keys share a prefix folder: block the entry folder itself
        block = cache.entry_dir("adapter", new)
    block.write_text("a file where the folder should be")
    with pytest.raises(CacheError):
        cache.save("adapter", new, {"w": torch.ones(3)})
    assert torch.equal(cache.load("adapter", old)["w"], torch.arange(5.0))
    assert cache_is_clean(cache.root) == []


def scenario_full_disk(mount_point: Path) -> Dict[str, Any]:
    """Fill a 64 KiB file system: the failing save raises CacheError, the entry written before is still
    served, and no temporary file is left behind (a 5 KiB entry first, then a 400 KiB one)."""
    cache = ArtifactCache(mount_point / "cache")
    small = make_key({"small": 1})
    cache.save("synthetic", small, {"frames": torch.arange(1000.0)})
    big = make_key({"big": 1})
    try:
        cache.save("synthetic", big, {"frames": torch.randn(100_000)})
        raised = None
    except CacheError as e:
        raised = str(e)
    served = cache.load("synthetic", small)
    return {"raised": raised, "old_entry_intact": served is not None and torch.equal(served["frames"],
                                                                                     torch.arange(1000.0)),
            "big_served": cache.load("synthetic", big) is not None, "problems": cache_is_clean(cache.root)}


def test_full_disk_fails_clearly_and_keeps_the_cache(tmp_path):
    with tiny_tmpfs(tmp_path / "disk") as mnt:
        res = scenario_full_disk(mnt)
        # a generator checkpoint that does not fit: CacheError, and no half-written file anywhere
        with pytest.raises(CacheError, match="No space left|cannot write"):
            make_gen_trainer(mnt / "gen.pt", steps=2, save_every=1).train()
        assert list(mnt.glob("*.tmp")) == [] and list(mnt.glob(".gen.pt.*")) == []
    assert res["raised"] and "No space left" in res["raised"]
    assert res["old_entry_intact"] and not res["big_served"]
    assert res["problems"] == []


# ------------------------------------------------------------------------------ corruption is detected
CORRUPTIONS = ("truncate", "bit_flip", "zero_fill", "garbage", "empty", "delete_meta", "garble_meta", "swap_payload")


def corrupt(path: Path, how: str, rnd: random.Random) -> None:
    blob = bytearray(path.read_bytes())
    if how == "truncate":
        blob = blob[: rnd.randrange(0, len(blob))]
    elif how == "bit_flip":
        k = rnd.randrange(len(blob))
        blob[k] ^= 1 << rnd.randrange(8)
    elif how == "zero_fill":
        a = rnd.randrange(len(blob))
        blob[a:a + 64] = bytes(len(blob[a:a + 64]))
    elif how == "garbage":
        blob = bytearray(rnd.getrandbits(8) for _ in range(len(blob)))
    elif how == "empty":
        blob = bytearray()
    else:
        raise ValueError(how)
    path.write_bytes(bytes(blob))


def scenario_corrupt_cache_entry(tmp: Path, how: str, rnd: random.Random) -> str:
    """'rebuilt' when the corrupt entry is refused and a rebuild is served; 'served_corrupt' otherwise."""
    cache = ArtifactCache(tmp / f"c-{uuid.uuid4().hex[:6]}")
    key = make_key({"k": how})
    good = {"w": torch.randn(64, generator=torch.Generator().manual_seed(0))}
    cache.save("adapter", key, good)
    d = cache.entry_dir("adapter", key)
    if how == "delete_meta":
        (d / "meta.json").unlink()
    elif how == "garble_meta":
        (d / "meta.json").write_text('{"sha256": ')
    elif how == "swap_payload":  # a valid payload of another entry under this entry's meta
        other = make_key({"other": how})
        cache.save("adapter", other, {"w": torch.zeros(64)})
        (d / "payload.pt").write_bytes((cache.entry_dir("adapter", other) / "payload.pt").read_bytes())
    else:
        corrupt(d / "payload.pt", how, rnd)
    got = cache.load("adapter", key)
    if got is not None and not torch.equal(got["w"], good["w"]):
        return "served_corrupt"
    if got is not None:
        return "unchanged"  # the corruption did not touch the payload (cannot happen with sha256, but count it)
    cache.save("adapter", key, good)  # the caller's rebuild
    again = cache.load("adapter", key)
    return "rebuilt" if again is not None and torch.equal(again["w"], good["w"]) else "lost"


@pytest.mark.parametrize("how", CORRUPTIONS)
def test_corrupt_cache_entries_are_never_served(tmp_path, how):
    for seed in range(3):
        assert scenario_corrupt_cache_entry(tmp_path, how, random.Random(seed)) == "rebuilt"


def scenario_corrupt_checkpoint(tmp: Path, kind: str, how: str, rnd: random.Random) -> str:
    """A corrupted adapter-progress or generator checkpoint: 'reported' (CacheError), 'unchanged'
    (the damage hit bytes that carry no data; the state loads equal), or 'silent' (loads, differs)."""
    if kind == "adapter":
        tr = make_trainer(steps=2, save_every=2)
        path = tmp / f"progress-{uuid.uuid4().hex[:6]}.pt"
        tr.train(checkpoint=path)
        good = adapter_tensors(tr)
        corrupt(path, how, rnd)
        try:
            fresh = make_trainer(steps=2, save_every=2)
            fresh.load_state(KineMICTrainer._read(path))
        except CacheError:
            return "reported"
        except Exception as e:  # noqa: BLE001
            return f"wrong_type:{type(e).__name__}"
        return "unchanged" if same_tensors(adapter_tensors(fresh), good) else "silent"
    tr = make_gen_trainer(tmp / f"gen-{uuid.uuid4().hex[:6]}.pt", steps=1, save_every=1)
    tr.train()
    good = gen_tensors(tr)
    corrupt(tr.out, how, rnd)
    try:
        ck = load_checkpoint(tr.out)
        fresh = make_gen_trainer(None, steps=1).resume(tr.out)
    except CacheError:
        return "reported"
    except Exception as e:  # noqa: BLE001
        return f"wrong_type:{type(e).__name__}"
    del ck
    return "unchanged" if same_tensors(gen_tensors(fresh), good) else "silent"


@pytest.mark.parametrize("kind", ["adapter", "generator"])
@pytest.mark.parametrize("how", ["truncate", "garbage", "empty"])
def test_truncated_or_garbled_checkpoints_are_reported(tmp_path, kind, how):
    for seed in range(2):
        assert scenario_corrupt_checkpoint(tmp_path, kind, how, random.Random(seed)) == "reported"


# ------------------------------------------------------------------------------ determinism
def _few_shot(seed: int) -> List[str]:
    anns = [{"frame_dir": f"s{i:03d}", "label": int(i % 5), "keypoint": np.zeros((1, 3, 20, 3), np.float32),
             "total_frames": 3} for i in range(100)]
    data = {"split": {"train": [a["frame_dir"] for a in anns]}, "annotations": anns}
    return make_few_shot_split(data, "train", 3, seed).ids


def _synthetic(seed: int) -> List[np.ndarray]:
    from kinemic_aug.synthesis import SynthesisConfig, synthesize_class

    tr = make_gen_trainer(None, steps=1)
    model, rep, sch = tr.model.eval(), tr.dataset.rep, tr.schedule
    rng = np.random.default_rng(0)
    shots = [np.cumsum(rng.normal(scale=0.01, size=(12, 22, 3)), axis=0).astype(np.float32) + rng.normal(size=(1, 22, 3))
             for _ in range(2)]
    cfg = SynthesisConfig(steps=3, batch_size=4, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9, oversample=1.0)
    seqs, _, _ = synthesize_class(model, rep, sch, n=3, shot_joints=shots, class_text_emb=rng.normal(size=(2, TD)),
                                  action=None, cfg=cfg, seed=seed)
    return seqs


def _determinism_child(out: str) -> None:
    tr = make_trainer(steps=3)
    tr.train()
    torch.save({"shots": _few_shot(0), "adapter": adapter_tensors(tr),
                "synthetic": [torch.from_numpy(s) for s in _synthetic(0)]}, out)


def test_same_seed_same_shots_adapters_and_synthetic_data_across_processes(tmp_path):
    """Computed here and in a separate process: bit-identical. A different seed changes each of them."""
    out = tmp_path / "child.pt"
    p = FORK.Process(target=_child, args=(_determinism_child, (str(out),)))
    p.start()
    p.join(120)
    assert p.exitcode == 0
    child = torch.load(out, weights_only=True)
    tr = make_trainer(steps=3)
    tr.train()
    assert child["shots"] == _few_shot(0) and _few_shot(1) != _few_shot(0)
    assert same_tensors(child["adapter"], adapter_tensors(tr))
    syn = _synthetic(0)
    assert len(syn) == 3 and all(np.array_equal(a.numpy(), b) for a, b in zip(child["synthetic"], syn))
    assert not all(np.array_equal(a, b) for a, b in zip(syn, _synthetic(1)))


# ------------------------------------------------------------------------------ killed synthesis
def _augmenter(msr_pkl, tiny_generator, cache: Path, classes):
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.synthesis import SynthesisConfig

    return KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=1, labels="msr_action3d", layout="msr_action3d",
                            classes=classes, synthetic_per_class=2, generator=tiny_generator["path"],
                            corpus=tiny_generator["corpus"], cache_dir=cache, progress=False,
                            adapt=AdaptConfig(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2),
                            synthesis=SynthesisConfig(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9,
                                                      bone_cv_max=1e9, oversample=1.0))


def test_killed_synthesis_resumes_to_the_uninterrupted_result(msr_pkl, tiny_generator, tmp_path):
    """SIGKILL once the first class's synthetic set is cached; the rerun keeps that class (a cache hit),
    builds the rest, and every array equals an uninterrupted run's."""
    classes = [0, 9, 15]
    reference = _augmenter(msr_pkl, tiny_generator, tmp_path / "ref", classes).synthetic_annotations()
    cache = tmp_path / "killed"

    def run() -> None:
        _augmenter(msr_pkl, tiny_generator, cache, classes).synthetic_annotations()

    def first_class_done() -> bool:
        return len(list((cache / "synthetic").rglob("meta.json"))) >= 1 if (cache / "synthetic").exists() else False

    code = run_and_kill_when(run, (), first_class_done, timeout=240)
    assert code == -signal.SIGKILL, "the run finished before the kill point"
    done_before = len(list((cache / "synthetic").rglob("meta.json")))
    assert 1 <= done_before < len(classes)
    again = _augmenter(msr_pkl, tiny_generator, cache, classes)
    anns = again.synthetic_annotations()
    assert sum(r.synth_cached for r in again.reports.values()) == done_before
    assert [a["frame_dir"] for a in anns] == [a["frame_dir"] for a in reference]
    assert all(np.array_equal(a["keypoint"], b["keypoint"]) for a, b in zip(anns, reference))
    assert cache_is_clean(cache) == []
