"""Sharded, batched, resumable per-class adaptation: two gloo ranks (torchrun) share the classes, a killed
rank's run resumes without retraining finished classes, two runs on one cache never train a class at once,
a dead holder's lock is taken over, and an out-of-memory group falls back to smaller groups."""
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import torch

from kinemic_aug.adapt import KineMICTrainer
from kinemic_aug.adapt.cache import ArtifactCache
from kinemic_aug.adapt.shard import adapt_jobs, is_out_of_memory, resolve_rank

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
import adapt_shard_child as child  # noqa: E402

TORCHRUN = Path(sys.executable).with_name("torchrun")
TOL = 2e-5


def _lone_states(specs):
    out = {}
    for s in specs:
        j = s.job
        tr = KineMICTrainer(child.base_model(), child._schedule(), j.shots, j.pool, j.cfg, classes=j.classes)
        tr.train()
        out[s.key] = tr.state_dict()
    return out


def _assert_cache_matches(cache, specs, lone):
    for s in specs:
        got = cache.load("adapter", s.key)
        assert got is not None, f"{s.job.name} missing from the cache"
        ref = lone[s.key]
        for k in ref["lora"]:
            assert torch.allclose(got["lora"][k], ref["lora"][k], atol=TOL, rtol=1e-4), (s.job.name, k)
        assert torch.allclose(got["embed_action"], ref["embed_action"], atol=TOL)
        assert got["step"] == ref["step"] and len(got["history"]) == len(ref["history"])


def _torchrun(cache, out, *extra, check=True):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    cmd = [str(TORCHRUN), "--standalone", "--nproc_per_node", "2", str(REPO / "tests" / "adapt_shard_child.py"),
           str(cache), str(out), *extra]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    if check:
        assert p.returncode == 0, p.stderr[-3000:]
    return p


def _outcomes(out):
    recs = [json.loads(p.read_text()) for p in sorted(Path(out).glob("rank*.json"))]
    return {r["rank"]: r["outcomes"] for r in recs}


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun not installed beside this python")
def test_two_gloo_ranks_share_the_classes_and_train_each_once(tmp_path):
    specs = child.jobs(6)
    _torchrun(tmp_path / "cache", tmp_path / "out")
    outs = _outcomes(tmp_path / "out")
    assert set(outs) == {0, 1}
    trained = {r: sorted(n for n, o in oc.items() if o["status"] == "trained") for r, oc in outs.items()}
    assert trained[0] and trained[1], trained  # both ranks worked
    assert sorted(trained[0] + trained[1]) == sorted(s.job.name for s in specs)  # each class exactly once
    assert max(o["group"] for oc in outs.values() for o in oc.values()) == 2  # batched in groups of 2
    _assert_cache_matches(ArtifactCache(tmp_path / "cache"), specs, _lone_states(specs))


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun not installed beside this python")
def test_a_killed_rank_leaves_no_half_adapter_and_the_rerun_trains_only_what_is_missing(tmp_path):
    specs = child.jobs(6)
    cache = ArtifactCache(tmp_path / "cache")
    # rank 1 finishes its first group (classes 1, 3: 6 steps), then dies at step 3 of class 5 (checkpoint at 2);
    # torchrun then stops rank 0 wherever it is
    p = _torchrun(tmp_path / "cache", tmp_path / "out1", "--kill-rank", "1", "--kill-after", "9", check=False)
    assert p.returncode != 0
    done_first = {s.key for s in specs if cache.meta("adapter", s.key) is not None}
    assert {s.key for s in specs if s.job.name in ("class 1", "class 3")} <= done_first
    for s in specs:  # an entry is complete and intact, or absent
        if s.key in done_first:
            assert cache.load("adapter", s.key) is not None
        else:
            assert not (cache.entry_dir("adapter", s.key) / "payload.pt").exists()
    five = next(s for s in specs if s.job.name == "class 5")
    assert torch.load(cache.progress_path("adapter", five.key), weights_only=True)["step"] == 2
    _torchrun(tmp_path / "cache", tmp_path / "out2")
    outs = _outcomes(tmp_path / "out2")
    trained = [(n, o) for oc in outs.values() for n, o in oc.items() if o["status"] == "trained"]
    assert len({n for n, _ in trained}) == len(trained), "a class was trained twice"
    status = {n: o for oc in outs.values() for n, o in oc.items() if o["status"] == "cached"}
    status.update(dict(trained))
    for s in specs:
        o = status[s.job.name]
        if s.key in done_first:
            assert o["status"] == "cached", (s.job.name, o)  # finished classes are not retrained
        else:
            assert o["status"] == "trained"
    assert status["class 5"]["resumed_from"] == 2  # from the dead rank's checkpoint
    _assert_cache_matches(cache, specs, _lone_states(specs))


def test_a_class_locked_by_another_run_is_left_to_it_and_picked_up_when_it_is_done(tmp_path):
    specs = child.jobs(3)
    cache = ArtifactCache(tmp_path / "cache")
    lone = _lone_states(specs)
    other = cache.try_lock("adapter", specs[1].key, {"rank": "another run"})  # another run is training class 1
    assert other is not None and cache.try_lock("adapter", specs[1].key) is None
    assert cache.lock_holder("adapter", specs[1].key)["rank"] == "another run"
    result = {}
    th = threading.Thread(target=lambda: result.update(adapt_jobs(child.base_model(), child._schedule(), cache, specs,
                                                                  rank=0, world_size=1, group_size=3, poll=0.05)))
    th.start()
    t0 = time.time()
    while cache.meta("adapter", specs[2].key) is None and time.time() - t0 < 120:
        time.sleep(0.05)
    time.sleep(0.3)
    assert th.is_alive()  # it trained the free classes and waits for class 1
    cache.save("adapter", specs[1].key, lone[specs[1].key], parts={"by": "the other run"})
    other.release()
    th.join(60)
    assert not th.is_alive()
    assert result[specs[0].key].status == "trained" and result[specs[2].key].status == "trained"
    assert result[specs[1].key].status == "elsewhere"
    assert cache.meta("adapter", specs[1].key)["parts"] == {"by": "the other run"}  # not trained a second time
    assert result[specs[0].key].group == 2  # the two free classes were batched together
    _assert_cache_matches(cache, specs, lone)


def test_a_lock_left_by_a_killed_process_is_not_stale_and_its_class_is_trained(tmp_path):
    specs = child.jobs(1)
    cache = ArtifactCache(tmp_path / "cache")
    code = ("import sys, time; sys.path.insert(0, %r); from kinemic_aug.adapt.cache import ArtifactCache; "
            "lk = ArtifactCache(%r).try_lock('adapter', %r, {'rank': 7}); print('locked', flush=True); time.sleep(600)"
            % (str(REPO), str(tmp_path / "cache"), specs[0].key))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "locked"
        holder = cache.lock_holder("adapter", specs[0].key)
        assert holder["rank"] == 7 and holder["pid"] == proc.pid
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    lock_file = cache.entry_dir("adapter", specs[0].key) / ".lock"
    assert lock_file.exists() and json.loads(lock_file.read_text())["pid"] == proc.pid  # the record stays ...
    assert cache.lock_holder("adapter", specs[0].key) is None  # ... but nobody holds the lock
    out = adapt_jobs(child.base_model(), child._schedule(), cache, specs, rank=0, world_size=1, wait_timeout=30)
    assert out[specs[0].key].status == "trained"


def test_sequential_mode_and_cached_classes(tmp_path):
    specs = child.jobs(2)
    cache = ArtifactCache(tmp_path / "cache")
    out = adapt_jobs(child.base_model(), child._schedule(), cache, specs, rank=0, world_size=1, batched=False)
    assert all(o.status == "trained" and o.group == 1 for o in out.values())
    _assert_cache_matches(cache, specs, _lone_states(specs))
    again = adapt_jobs(child.base_model(), child._schedule(), cache, specs, rank=0, world_size=1)
    assert all(o.status == "cached" for o in again.values())


def test_rank_resolution_and_oom_detection(monkeypatch):
    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "3")
    assert resolve_rank() == (1, 3)
    assert resolve_rank(0, 1) == (0, 1)
    with pytest.raises(ValueError, match="not in a world"):
        resolve_rank(3, 3)
    assert is_out_of_memory(RuntimeError("DefaultCPUAllocator: can't allocate memory: you tried to allocate 8 bytes"))
    assert is_out_of_memory(MemoryError())
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    specs = child.jobs(2)
    with pytest.raises(ValueError, match="share one cache key"):
        adapt_jobs(child.base_model(), child._schedule(), ArtifactCache("/nonexistent"), [specs[0], specs[0]])


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc and RLIMIT_AS")
def test_an_out_of_memory_group_falls_back_to_smaller_groups_with_a_warning(tmp_path):
    """A real allocation failure: the child caps its address space 260 MB above its set-up (one of these
    classes needs about 190 MB at its peak, two about 300, measured), and runs each group's classes in one
    forward/backward pass, so the group of 4 and then of 2 fail."""
    specs = child.jobs(4, steps=2, batch_size=16, max_frames=120, long=True)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MALLOC_MMAP_THRESHOLD_": "65536"}  # freed blocks go back
    p = subprocess.run([sys.executable, str(REPO / "tests" / "adapt_shard_child.py"), str(tmp_path / "cache"),
                        str(tmp_path / "out"), "--long", "--classes", "4", "--group-size", "4", "--steps", "2",
                        "--mem-limit-mb", "260", "--micro", "4"], env=env, capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    rec = json.loads((tmp_path / "out" / "rank0.json").read_text())
    oom = [w for w in rec["warnings"] if w.startswith("out of memory adapting 4 classes together")]
    assert oom and "retrying in groups of 2" in oom[0]
    assert all(o["status"] == "trained" and o["group"] < 4 for o in rec["outcomes"].values())
    _assert_cache_matches(ArtifactCache(tmp_path / "cache"), specs, _lone_states(specs))


@pytest.mark.slow
@pytest.mark.skipif(not TORCHRUN.exists(), reason="torchrun not installed beside this python")
def test_adapt_classes_tool_under_torchrun_matches_one_process_and_reruns_from_the_cache(msr_pkl, tiny_generator,
                                                                                     tmp_path):
    common = [str(msr_pkl), "--split", "xsub_train", "--shots", "2", "--labels", "msr_action3d", "--layout",
              "msr_action3d", "--classes", "0,4,14,19", "--adapt-steps", "2", "--generator",
              str(tiny_generator["path"]), "--corpus", tiny_generator["corpus"], "--per-class", "2",
              "--sample-steps", "3", "--group-size", "2"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    tool = str(REPO / "tools" / "adapt_classes.py")

    def run(cache, *extra, nproc=2):
        cmd = ([str(TORCHRUN), "--standalone", "--nproc_per_node", str(nproc), tool] if nproc > 1
               else [sys.executable, tool]) + common + ["--cache-dir", str(cache), *extra]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
        assert p.returncode == 0, p.stderr[-3000:]
        return p

    run(tmp_path / "c2", "--synthesize", "shard", "--out", str(tmp_path / "aug.pkl"), "--summary",
        str(tmp_path / "s.json"))
    summ = [json.loads((tmp_path / f"s.rank{r}.json").read_text()) for r in (0, 1)]
    trained = [c for s in summ for c, o in s["outcomes"].items() if o["status"] == "trained"]
    assert sorted(trained) == ["0", "14", "19", "4"]  # every class once, over the two ranks
    assert all(any(o["status"] == "trained" for o in s["outcomes"].values()) for s in summ)
    import pickle
    with open(tmp_path / "aug.pkl", "rb") as f:
        data = pickle.load(f)
    syn = [a for a in data["annotations"] if a.get("is_synthetic")]
    assert sorted({a["label"] for a in syn}) == [0, 4, 14, 19] and len(syn) == 8
    # one process, one class at a time: the same keys, the same adapters
    run(tmp_path / "c1", "--sequential", nproc=1)
    c1, c2 = ArtifactCache(tmp_path / "c1"), ArtifactCache(tmp_path / "c2")
    keys = sorted(p.name for p in (tmp_path / "c1" / "adapter").glob("*/*"))
    assert keys == sorted(p.name for p in (tmp_path / "c2" / "adapter").glob("*/*")) and len(keys) == 4
    for k in keys:
        x, y = c1.load("adapter", k), c2.load("adapter", k)
        for n in x["lora"]:
            assert torch.allclose(x["lora"][n], y["lora"][n], atol=TOL, rtol=1e-4), n
    # a rerun trains nothing
    run(tmp_path / "c2", "--summary", str(tmp_path / "again.json"))
    again = [json.loads((tmp_path / f"again.rank{r}.json").read_text()) for r in (0, 1)]
    assert all(o["status"] == "cached" for s in again for o in s["outcomes"].values())
