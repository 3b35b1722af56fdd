"""Batched per-class adaptation: each class's adapter equals the one trained alone, states are the lone
trainer's format both ways, and the bad inputs of a batched run are refused clearly."""
import copy

import numpy as np
import pytest
import torch

from kinemic_aug.adapt import AdaptConfig, KineMICTrainer, SourcePool, TargetShots
from kinemic_aug.adapt.batched import AdapterJob, BatchedKineMICTrainer
from kinemic_aug.adapt.stacked_target import ClassStreams
from kinemic_aug.errors import CacheError
from kinemic_aug.generator.models.denoiser import DenoiserConfig, MotionDenoiser
from kinemic_aug.generator.models.lora import AdapterRoute, StackedLoRALinear, load_lora, stacked_lora_state
from kinemic_aug.generator.schedulers.noise_schedule import NoiseSchedule

D, E = 12, 8
# float tolerance: a batch padded to another length runs matrix products of another shape, whose rounding
# differs in the last bits (measured: up to 2e-6 on these adapters after 6 AdamW steps at lr 1e-3)
TOL = 2e-5


def _base(dropout=0.1, seed=0):
    torch.manual_seed(seed)
    return MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=D, text_dim=E, dropout=dropout))


def _job(c, seed=0, **kw):
    """Class ``c``: its own shot count and lengths (so the classes' batches pad differently), two prompts,
    its own positives and negatives."""
    r = np.random.default_rng(100 + c)
    n = 3 + c
    shots = TargetShots([r.normal(size=(int(r.integers(8, 22)), D)).astype(np.float32) for _ in range(n)],
                        np.zeros(n, int), r.normal(size=(1, 2, E)))
    pool = SourcePool([r.normal(size=(int(r.integers(10, 40)), D)).astype(np.float32) for _ in range(8)],
                      r.normal(size=(8, E)), {0: np.arange(4)}, negatives={0: np.arange(4, 8)})
    cfg = dict(steps=6, batch_size=5, mic_hidden=16, progress=False, lr=1e-3, negatives_per_step=2, seed=seed,
               max_frames=30, save_every=3)
    cfg.update(kw)
    return AdapterJob(shots, pool, AdaptConfig(**cfg), [c], f"class {c}")


def _lone(base, sch, job, **train_kw):
    tr = KineMICTrainer(copy.deepcopy(base), sch, job.shots, job.pool, job.cfg, classes=job.classes)
    tr.train(**train_kw)
    return tr


def _assert_same_state(a, b, tol=TOL):
    assert set(a["lora"]) == set(b["lora"])
    for k in a["lora"]:
        assert torch.allclose(a["lora"][k], b["lora"][k], atol=tol, rtol=1e-4), k
    assert torch.allclose(a["embed_action"], b["embed_action"], atol=tol)
    for k in a["mic"]:
        assert torch.allclose(a["mic"][k], b["mic"][k], atol=tol), k
    assert torch.allclose(a["logit_scale"], b["logit_scale"], atol=tol)
    for x, y in zip(a["history"], b["history"]):
        assert x.keys() == y.keys()
        assert [x[k] for k in x] == pytest.approx([y[k] for k in x], rel=1e-5, abs=1e-5)
    assert len(a["history"]) == len(b["history"]) and a["step"] == b["step"] and a["classes"] == b["classes"]


@pytest.mark.parametrize("variant,extra", [("kinemic", {}), ("kinemic", {"grad_clip": 0.05}), ("noweight", {}),
                                           ("nocontrastive", {}), ("finetune", {})])
def test_each_batched_adapter_equals_the_one_trained_alone(variant, extra):
    """Dropout everywhere (denoiser 0.1, LoRA 0.1, condition drops), classes of different lengths, two
    seeds; a small clip norm makes per-class clipping matter (a shared norm would couple the classes)."""
    base, sch = _base(), NoiseSchedule.make("cosine", 50)
    jobs = [_job(c, seed=c % 2, **extra) for c in range(3)]
    jobs = [AdapterJob(j.shots, j.pool if variant != "finetune" else None, j.cfg.variant(variant), j.classes, j.name)
            for j in jobs]
    bt = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs)
    histories = bt.train()
    assert histories is bt.histories and len(histories) == len(jobs) and all(histories)
    assert not bt.target.training  # left ready for sampling, as a lone trainer is
    for k, j in enumerate(jobs):
        _assert_same_state(_lone(base, sch, j).state_dict(), bt.state_dict(k))
    if variant == "kinemic":  # the classes did learn, and differently
        s0, s1 = bt.state_dict(0), bt.state_dict(1)
        name = next(k for k in s0["lora"] if k.endswith("lora_B"))
        assert s0["lora"][name].abs().max() > 0
        assert not torch.allclose(s0["embed_action"], s1["embed_action"])


def test_one_forward_for_all_classes_gives_the_same_adapters_as_length_buckets_and_one_backward_per_class():
    base, sch = _base(), NoiseSchedule.make("cosine", 50)
    jobs = [_job(c) for c in range(3)]
    one = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs, bucket_slack=float("inf"), micro_classes=100)
    assert len(one.length_buckets([10, 20, 30])) == 1
    many = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs, bucket_slack=0.0)
    assert len(many.length_buckets([10, 20, 30])) == 3
    singles = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs, bucket_slack=float("inf"), micro_classes=1)
    assert singles.length_buckets([30, 10, 20]) == [[1], [2], [0]]  # a backward per class, shortest first
    for tr in (one, many, singles):
        tr.train()
    for k in range(3):
        _assert_same_state(one.state_dict(k), many.state_dict(k))
        _assert_same_state(one.state_dict(k), singles.state_dict(k))


def test_batched_checkpoints_resume_in_a_lone_trainer_and_lone_ones_in_a_batched_run(tmp_path):
    base, sch = _base(), NoiseSchedule.make("cosine", 50)
    jobs = [_job(c) for c in range(2)]
    full = [_lone(base, sch, j).state_dict() for j in jobs]
    ck = [tmp_path / f"c{k}.pt" for k in range(2)]
    part = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs)
    part.train(checkpoints=ck, stop_after=3)  # "killed" after the step-3 checkpoint
    assert part.step == 3 and all(p.exists() for p in ck)
    # class 0 goes on alone from the batched checkpoint
    lone = KineMICTrainer(copy.deepcopy(base), sch, jobs[0].shots, jobs[0].pool, jobs[0].cfg, classes=jobs[0].classes)
    lone.train(checkpoint=ck[0])
    _assert_same_state(full[0], lone.state_dict())
    # a lone checkpoint at step 3 for class 1, resumed batched beside class 0's batched one
    lck = tmp_path / "lone1.pt"
    _lone(base, sch, jobs[1], checkpoint=lck, stop_after=3)
    ck0 = tmp_path / "c0b.pt"
    part0 = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs[:1])
    part0.train(checkpoints=[ck0], stop_after=3)
    both = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs)
    both.train(checkpoints=[ck0, lck])
    for k in range(2):
        _assert_same_state(full[k], both.state_dict(k))
    # the optimiser state a batched run writes is the lone trainer's, entry for entry
    a = KineMICTrainer._read(ck[1])["optimizer"]
    b = KineMICTrainer._read(lck)["optimizer"]
    assert a["param_groups"] == b["param_groups"] and set(a["state"]) == set(b["state"])


def test_a_group_resumes_only_from_one_step_and_jobs_must_share_the_arithmetic(tmp_path):
    base, sch = _base(), NoiseSchedule.make("cosine", 50)
    jobs = [_job(c) for c in range(2)]
    ck = tmp_path / "one.pt"
    _lone(base, sch, jobs[0], checkpoint=ck, stop_after=3)
    bt = BatchedKineMICTrainer(copy.deepcopy(base), sch, jobs)
    with pytest.raises(CacheError, match="same step"):
        bt.train(checkpoints=[ck, None])
    with pytest.raises(ValueError, match=r"config differs .* \['lr'\]"):
        BatchedKineMICTrainer(copy.deepcopy(base), sch, [jobs[0], _job(1, lr=5e-3)])
    with pytest.raises(ValueError, match="no adapter jobs"):
        BatchedKineMICTrainer(copy.deepcopy(base), sch, [])
    # seeds may differ (each class keeps its own streams)
    BatchedKineMICTrainer(copy.deepcopy(base), sch, [jobs[0], _job(1, seed=7)])


def test_class_streams_reproduce_a_seeded_global_generator():
    streams = ClassStreams([11, 22], torch.device("cpu"))
    a = [streams.run(k, torch.rand, 4) for k in (0, 1, 0)]
    torch.manual_seed(11)
    first = torch.rand(4), torch.rand(4)
    torch.manual_seed(22)
    assert torch.equal(a[0], first[0]) and torch.equal(a[2], first[1]) and torch.equal(a[1], torch.rand(4))


def test_stacked_lora_rows_use_their_own_adapter_and_export_loads_into_a_lone_model():
    torch.manual_seed(0)
    lin = torch.nn.Linear(6, 5)
    route = AdapterRoute()
    m = StackedLoRALinear.wrap(lin, 3, rank=2, alpha=4.0, dropout=0.0, route=route)
    with torch.no_grad():
        m.lora_A.normal_()
        m.lora_B.normal_()
    x = torch.randn(6, 6)
    route.set_segments([(0, 0, 2), (1, 2, 4), (2, 4, 6)])
    y = m(x)
    for k in range(3):
        ref = lin(x[2 * k:2 * k + 2]) + (x[2 * k:2 * k + 2] @ m.lora_A[k].T @ m.lora_B[k].T) * 2.0
        assert torch.allclose(y[2 * k:2 * k + 2], ref, atol=1e-5)
    route.set_segments([(2, 0, 2), (0, 2, 6)])  # another order and uneven blocks: the same per-row result
    y2 = m(x)
    assert torch.allclose(y2[:2], lin(x[:2]) + (x[:2] @ m.lora_A[2].T @ m.lora_B[2].T) * 2.0, atol=1e-5)
    with pytest.raises(ValueError, match="contiguous"):
        route.set_segments([(0, 0, 2), (1, 3, 6)])
    route.set_segments([(0, 0, 2)])
    with pytest.raises(ValueError, match="covers 2 rows"):
        m(x)
    # the export has lone LoRA keys and loads into a LoRALinear model
    from kinemic_aug.generator.models.lora import add_lora
    base = _base(dropout=0.0)
    from kinemic_aug.adapt.stacked_target import build_class_target
    stacked, _ = build_class_target(base, AdaptConfig(), [1, 1])
    lone = copy.deepcopy(base)
    add_lora(lone, targets=AdaptConfig().lora_targets)
    load_lora(lone, stacked_lora_state(stacked, 1))


def test_augmenter_batched_switch_gives_the_sequential_adapters_and_samples(msr_pkl, tiny_generator, tmp_path):
    """``AdaptConfig(batched=True)`` on real MSR shots: the same cache keys and adapters as one class after
    another, the synthetic sets sampled for all classes in one batch match the per-class ones, and the
    reports say the adapters were trained and the sets sampled (not served from the cache)."""
    from kinemic_aug.augmenter import KineMICAugmenter
    from kinemic_aug.synthesis import SynthesisConfig
    synth = SynthesisConfig(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9, oversample=1.0)
    runs = {}
    for batched in (False, True):
        adapt = AdaptConfig(steps=3, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2, batched=batched)
        aug = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=2, labels="msr_action3d", layout="msr_action3d",
                               classes=[0, 4, 14], synthetic_per_class=2, generator=tiny_generator["path"],
                               corpus=tiny_generator["corpus"], cache_dir=tmp_path / f"cache{batched}", adapt=adapt,
                               synthesis=synth, progress=False)
        runs[batched] = (aug, aug.synthetic_annotations())
    (seq, a_seq), (bat, a_bat) = runs[False], runs[True]
    assert not any(r.adapt_cached or r.synth_cached for r in bat.reports.values())
    assert all(r.adapt_seconds > 0 and r.synth_seconds > 0 for r in bat.reports.values())
    keys = lambda aug: sorted(p.name for p in (aug.cache.root / "adapter").glob("*/*"))  # noqa: E731
    assert keys(seq) == keys(bat) and len(keys(seq)) == 3
    for k in keys(seq):
        x, y = seq.cache.load("adapter", k), bat.cache.load("adapter", k)
        for n in x["lora"]:
            assert torch.allclose(x["lora"][n], y["lora"][n], atol=TOL, rtol=1e-4), n
    assert len(a_seq) == len(a_bat) == 6
    for x, y in zip(a_seq, a_bat):
        assert x["frame_dir"] == y["frame_dir"]
        np.testing.assert_allclose(x["keypoint"], y["keypoint"], atol=1e-3)


@pytest.mark.parametrize("sampler,guidance,strength,extra", [
    ("ddim", 2.5, 1.0, {}), ("ddim", 1.0, 0.6, {}), ("ddpm", 2.5, 1.0, {}),
    ("ddim", 2.5, 0.6, {"residual": True, "root_from_shot": True})])  # + the shots' reconstruction pass
def test_sampling_many_classes_in_one_batch_equals_sampling_each_alone(tiny_generator, sampler, guidance, strength,
                                                                       extra):
    """Three adapted classes (different shot lengths, captions, seeds) sampled as one stacked batch against
    each class's lone target stream: same filter decisions, same infos, frames to float tolerance."""
    from kinemic_aug.adapt.stacked_target import stacked_target
    from kinemic_aug.data.seed import load_seed_corpus
    from kinemic_aug.generator.checkpoint import load_generator
    from kinemic_aug.synthesis import ClassRequest, SynthesisConfig, synthesize_class, synthesize_classes
    b = load_generator(tiny_generator["path"], use_ema=True, device="cpu")
    rep, corp = b.representation, load_seed_corpus()
    rng = np.random.default_rng(0)
    cfg = AdaptConfig(steps=2, batch_size=4, progress=False, use_mining=False, use_contrastive=False, lr=1e-2)
    scfg = SynthesisConfig(steps=4, batch_size=3, sampler=sampler, guidance=guidance, shot_strength=strength,
                           static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9, **extra)
    trainers, reqs = [], []
    for c in range(3):
        shots = [corp[3 * c + i].joints[:20 + 5 * c + 3 * i] for i in range(2)]
        te = rng.normal(size=(2, b.model.config.text_dim)).astype(np.float32)
        feats = [rep.normalize(rep.encode(j)).astype(np.float32) for j in shots]
        tr = KineMICTrainer(copy.deepcopy(b.model), b.schedule, TargetShots(feats, [0, 0], te[None]), None, cfg)
        tr.train()
        trainers.append(tr)
        reqs.append(ClassRequest(n=4 + c, shot_joints=shots, class_text_emb=te, action=c, seed=c, adapter=c))
    multi = synthesize_classes(stacked_target(b.model, cfg, [t.state_dict() for t in trainers]), rep, b.schedule,
                               reqs, scfg, max_rows=8)
    for c, tr in enumerate(trainers):
        tr.target.eval()
        seqs, frep, infos = synthesize_class(tr.target, rep, b.schedule, n=reqs[c].n, shot_joints=reqs[c].shot_joints,
                                             class_text_emb=reqs[c].class_text_emb, action=0, cfg=scfg, seed=c)
        assert frep.to_dict() == multi[c][1].to_dict() and infos == multi[c][2]
        assert len(seqs) == reqs[c].n
        for x, y in zip(seqs, multi[c][0]):
            assert x.shape == y.shape
            np.testing.assert_allclose(x, y, atol=1e-4)
