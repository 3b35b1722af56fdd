"""KineMIC adaptation on a tiny denoiser: losses, ablations, exact resume, cache integrity."""
import multiprocessing as mp
import time

import numpy as np
import pytest
import torch

from kinemic_aug.adapt import AdaptConfig, KineMICTrainer, SourcePool, TargetShots
from kinemic_aug.adapt.cache import ArtifactCache, make_key
from kinemic_aug.errors import CacheError, DataError
from kinemic_aug.generator.models.denoiser import DenoiserConfig, MotionDenoiser
from kinemic_aug.generator.schedulers.noise_schedule import NoiseSchedule

D, E = 12, 8


def _setup(seed=0):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    base = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=D, text_dim=E, dropout=0.0))
    shots = TargetShots([rng.normal(size=(int(rng.integers(10, 16)), D)).astype(np.float32) for _ in range(4)],
                        [0, 0, 1, 1], rng.normal(size=(2, E)))
    pool = SourcePool([rng.normal(size=(24, D)).astype(np.float32) for _ in range(8)], rng.normal(size=(8, E)),
                      {0: np.arange(4), 1: np.arange(4, 8)}, negatives={0: np.arange(4, 8), 1: np.arange(4)})
    return base, NoiseSchedule.make("cosine", 50), shots, pool


def _cfg(**kw):
    base = dict(steps=6, batch_size=6, mic_hidden=16, progress=False, lr=1e-3, save_every=3, negatives_per_step=2)
    base.update(kw)
    return AdaptConfig(**base)


def test_all_three_losses_are_computed_and_only_adapters_train():
    base, sch, shots, pool = _setup()
    before = {k: v.clone() for k, v in base.state_dict().items()}
    tr = KineMICTrainer(base, sch, shots, pool, _cfg(steps=3))
    hist = tr.train()
    assert {"rec", "wrec", "con", "dww_mean"} <= set(hist[-1])
    assert 0.0 <= hist[-1]["dww_mean"] <= 1.0
    for k, v in base.state_dict().items():  # the prior stream (the caller's base) is untouched
        assert torch.equal(v, before[k]), k
    trainable = {n for n, p in tr.target.named_parameters() if p.requires_grad}
    assert trainable and all(n.endswith(("lora_A", "lora_B")) or n == "embed_action" for n in trainable)


def test_reconstruction_loss_falls_when_fitting_the_shots():
    base, sch, shots, pool = _setup()
    tr = KineMICTrainer(base, sch, shots, pool, _cfg(steps=30, lr=5e-3))
    hist = tr.train()
    first = np.mean([h["rec"] for h in hist[:5]])
    last = np.mean([h["rec"] for h in hist[-5:]])
    assert last < 0.8 * first


def test_variants_switch_terms_off():
    base, sch, shots, pool = _setup()
    ft = KineMICTrainer(base, sch, shots, None, _cfg(steps=2).variant("finetune"))  # needs no source pool
    h = ft.train()
    assert set(h[-1]) == {"rec", "loss", "step"}
    nc = KineMICTrainer(base, sch, shots, pool, _cfg(steps=2).variant("nocontrastive")).train()
    assert "con" not in nc[-1] and "wrec" in nc[-1]
    nw = KineMICTrainer(base, sch, shots, pool, _cfg(steps=2).variant("noweight")).train()
    assert "dww_mean" not in nw[-1] and "con" in nw[-1]
    zs = KineMICTrainer(base, sch, shots, pool, _cfg().variant("zeroshot"))
    assert zs.train() == [] and zs.step == 0
    with pytest.raises(ValueError, match="unknown variant"):
        _cfg().variant("magic")


def test_missing_positives_are_reported():
    base, sch, shots, pool = _setup()
    pool.positives.pop(1)
    with pytest.raises(DataError, match=r"no soft positives for local classes \[1\]"):
        KineMICTrainer(base, sch, shots, pool, _cfg())


def test_resume_after_interruption_equals_uninterrupted_run(tmp_path):
    base, sch, shots, pool = _setup()
    full = KineMICTrainer(base, sch, shots, pool, _cfg())
    full.train()
    ck = tmp_path / "progress.pt"
    part = KineMICTrainer(base, sch, shots, pool, _cfg())
    part.train(checkpoint=ck, stop_after=3)  # "killed" after the step-3 checkpoint
    assert part.step == 3 and ck.exists()
    resumed = KineMICTrainer(base, sch, shots, pool, _cfg())
    resumed.train(checkpoint=ck)
    assert resumed.step == 6
    a, b = full.state_dict(), resumed.state_dict()
    for k in a["lora"]:
        assert torch.allclose(a["lora"][k], b["lora"][k], atol=1e-6), k
    assert torch.allclose(a["embed_action"], b["embed_action"], atol=1e-6)
    assert [h["loss"] for h in a["history"]] == pytest.approx([h["loss"] for h in b["history"]], rel=1e-5)


def test_cache_roundtrip_corruption_and_unwritable_folder(tmp_path, caplog):
    cache = ArtifactCache(tmp_path / "c")
    key = make_key({"a": 1, "b": [1, 2]})
    assert key == make_key({"b": [1, 2], "a": 1})
    assert cache.load("adapter", key) is None
    cache.save("adapter", key, {"x": torch.arange(3)}, parts={"a": 1})
    assert torch.equal(cache.load("adapter", key)["x"], torch.arange(3))
    pay = cache.entry_dir("adapter", key) / "payload.pt"
    pay.write_bytes(pay.read_bytes()[:-7])  # truncated
    assert cache.load("adapter", key) is None  # detected, never served
    assert "corrupt" in caplog.text
    assert not pay.exists()  # moved aside, so the caller rebuilds
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        import os
        if os.geteuid() == 0:
            pytest.skip("root ignores folder permissions")
        with pytest.raises(CacheError, match="cannot"):
            ArtifactCache(ro).save("adapter", key, {"x": torch.zeros(1)})
    finally:
        ro.chmod(0o700)


def test_key_digests_follow_the_stored_values_not_their_computation():
    from kinemic_aug.adapt.input_digests import FEATURE_CODE, _PACKAGE, array_sha, feature_code_sha, pool_ids, shots_digest
    a = np.arange(12, dtype=np.float32).reshape(1, 3, 2, 2)
    assert array_sha(a) == array_sha(a.copy()) == array_sha(np.asfortranarray(a))
    assert array_sha(a) != array_sha(a.astype(np.float64))  # the stored dtype is part of the value
    assert array_sha(a) != array_sha(a.reshape(1, 2, 3, 2))
    b = a.copy()
    b[0, 0, 0, 0] = np.nextafter(b[0, 0, 0, 0], 1)  # one ulp
    assert array_sha(a) != array_sha(b)
    anns = [{"frame_dir": "s1", "label": 0, "keypoint": a}, {"frame_dir": "s2", "label": 1, "keypoint": b}]
    d = shots_digest(anns, "frame_dir")
    assert d == shots_digest([dict(x) for x in anns], "frame_dir")
    assert d != shots_digest(anns[::-1], "frame_dir")
    assert d != shots_digest([anns[0], {**anns[1], "label": 2}], "frame_dir")
    assert d != shots_digest([anns[0], {**anns[1], "frame_dir": "s3"}], "frame_dir")
    # every listed module exists (a rename would otherwise break every key), and the digest is stable
    assert all((_PACKAGE / rel).is_file() for rel in FEATURE_CODE)
    assert len(feature_code_sha()) == 64 and feature_code_sha() == feature_code_sha()
    assert pool_ids([5, 2], {9, 1}) == {"positives": [5, 2], "negatives": [1, 9]}


def _hold_lock(root, key, q):
    cache = ArtifactCache(root)
    with cache.lock("adapter", key):
        q.put("locked")
        time.sleep(1.0)


def test_lock_excludes_a_second_process(tmp_path):
    key = make_key({"k": 1})
    q = mp.get_context("fork").Queue()
    p = mp.get_context("fork").Process(target=_hold_lock, args=(str(tmp_path), key, q))
    p.start()
    assert q.get(timeout=10) == "locked"
    with pytest.raises(CacheError, match="timed out"):
        with ArtifactCache(tmp_path).lock("adapter", key, timeout=0.3):
            pass
    p.join()
    with ArtifactCache(tmp_path).lock("adapter", key, timeout=2):
        pass


def test_bad_pools_configs_and_labels_fail_clearly():
    from kinemic_aug.adapt import AdaptConfig

    rng = np.random.default_rng(0)
    good = [rng.normal(size=(10, D)).astype(np.float32) for _ in range(3)]
    bad = good[:2] + [np.full((10, D), np.nan, np.float32)]
    with pytest.raises(DataError, match="'source 2'.*NaN"):
        SourcePool(bad, rng.normal(size=(3, E)), {0: np.arange(3)})
    with pytest.raises(DataError, match="'source 1'.*expected"):
        SourcePool([good[0], good[1][:, :5], good[2]], rng.normal(size=(3, E)), {0: np.arange(3)})
    with pytest.raises(DataError, match="'negatives'"):
        SourcePool(good, rng.normal(size=(3, E)), {0: np.arange(3)}, negatives={0: np.array([7])})
    with pytest.raises(DataError, match="labels must be >= 0"):
        TargetShots(good, [0, -1, 0], rng.normal(size=(1, E)))
    with pytest.raises(ValueError, match="unknown AdaptConfig field"):
        AdaptConfig.from_dict({"stepz": 3})
    with pytest.raises(ValueError, match="save_every"):
        AdaptConfig(save_every=0)


def test_target_stream_starts_as_the_prior_with_zero_action_init_and_not_with_normal():
    import torch as _torch
    from kinemic_aug.adapt import AdaptConfig as _AC
    from kinemic_aug.adapt.trainer import build_target_stream
    from kinemic_aug.generator.models.denoiser import DenoiserConfig, MotionDenoiser
    _torch.manual_seed(0)
    base = MotionDenoiser(DenoiserConfig.preset("tiny")).eval()
    x = _torch.randn(2, 9, base.config.input_dim)
    t = _torch.tensor([3, 40])
    text = _torch.randn(2, base.config.text_dim)
    with _torch.no_grad():
        want = base(x, t, text_emb=text)
        for init, same in (("zeros", True), ("normal", False)):
            tgt = build_target_stream(base, 3, _AC(action_init=init)).eval()
            got = tgt(x, t, text_emb=text, action=_torch.tensor([0, 2]))
            assert _torch.allclose(got, want, atol=1e-5) is same
    with pytest.raises(ValueError, match="action_init"):
        _AC(action_init="uniform")
