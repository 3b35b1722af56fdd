"""Named recipes: the paper preset's fields, merging a caller's arguments over a preset, synthetic counts
that mirror the training pool, and the preset through the augmenter and the MMEngine wrapper."""
import pickle

import numpy as np
import pytest

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.errors import DataError
from kinemic_aug.augmenter.presets import preset_kwargs
from kinemic_aug.synthesis import SynthesisConfig

TINY_ADAPT = dict(steps=2, batch_size=4, mic_hidden=16, top_k=8)


def test_paper_adapt_config_is_the_reference_recipe():
    a = AdaptConfig.paper()
    assert (a.mode, a.steps, a.lr, a.weight_decay, a.batch_size, a.grad_clip) == ("joint", 10_000, 2e-5, 1e-5, 30, 1.0)
    assert (a.lora_rank, a.lora_alpha, a.lora_dropout) == (16, 32.0, 0.1)
    assert set(a.lora_targets) == {"attn", "ff", "input", "output", "timestep"}
    assert (a.bank_size, a.top_k, a.tau, a.action_init) == (60, 250, 0.07, "normal")
    assert a.use_mining and a.use_contrastive and a.window_weighting
    assert AdaptConfig.paper(steps=300).steps == 300 and AdaptConfig.paper(steps=300).lr == 2e-5
    with pytest.raises(ValueError, match="stepz"):
        AdaptConfig.paper(stepz=3)


def test_paper_synthesis_is_the_full_ancestral_chain_without_filter():
    s = SynthesisConfig.paper()
    assert (s.sampler, s.guidance, s.shot_strength, s.rechain_bones) == ("ddpm", 2.5, 1.0, False)
    assert s.steps >= 1000 and s.static_ratio == 0.0 and s.explode_ratio == float("inf")
    assert SynthesisConfig.paper(steps=8).steps == 8


def test_preset_kwargs_merge_fields_configs_and_arguments():
    kw = preset_kwargs("paper", {"adapt": {"steps": 7}, "synthesis": {"batch_size": 4}, "seed": 3})
    assert kw["adapt"].steps == 7 and kw["adapt"].mode == "joint" and kw["adapt"].lr == 2e-5
    assert kw["synthesis"].batch_size == 4 and kw["synthesis"].sampler == "ddpm"
    assert kw["seed"] == 3 and kw["synthetic_per_class"] == "mirror" and kw["target_norm"] == "generalist"
    whole = preset_kwargs("paper", {"adapt": AdaptConfig(steps=5)})
    assert whole["adapt"] == AdaptConfig(steps=5)  # a config object replaces the preset's whole config
    ratio = preset_kwargs("paper", {"synthetic_ratio": 2.0})
    assert ratio["synthetic_per_class"] is None and ratio["synthetic_ratio"] == 2.0
    assert preset_kwargs("default")["adapt"] == AdaptConfig()
    with pytest.raises(ValueError, match="unknown preset"):
        preset_kwargs("papper")
    with pytest.raises(ValueError, match="unknown AdaptConfig"):
        preset_kwargs("paper", {"adapt": {"stepz": 1}})


def _train_counts(msr_pkl):
    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    ids = set(data["split"]["xsub_train"])
    counts = {}
    for a in data["annotations"]:
        if a["frame_dir"] in ids:
            counts[int(a["label"])] = counts.get(int(a["label"]), 0) + 1
    return counts


def test_synthetic_counts_mirror_the_pool_or_follow_a_mapping(msr_pkl, tiny_generator, tmp_path):
    common = dict(split="xsub_train", shots=1, labels="msr_action3d", layout="msr_action3d", classes=[0, 4, 14],
                  generator=tiny_generator["path"], corpus=tiny_generator["corpus"], cache_dir=tmp_path, progress=False)
    counts = _train_counts(msr_pkl)
    mirror = KineMICAugmenter(str(msr_pkl), synthetic_per_class="mirror", **common)
    assert [mirror.counts.count(c) for c in (0, 4, 14)] == [counts[0], counts[4], counts[14]]
    assert len({counts[0], counts[4], counts[14]} - {1}) > 0  # more than the one shot: the pool's counts
    with pytest.warns(UserWarning, match=r"no count for class\(es\) \[4\]"):
        mapped = KineMICAugmenter(str(msr_pkl), synthetic_per_class={0: 3, "14": 1}, **common)
    assert [mapped.counts.count(c) for c in (0, 4, 14)] == [3, 0, 1]
    for bad in ("mirrors", {0: -1}, {0: 1.5}, -2, 2.5):
        with pytest.raises(DataError, match="synthetic_per_class"):
            KineMICAugmenter(str(msr_pkl), synthetic_per_class=bad, **common)


def test_paper_preset_runs_end_to_end_with_a_scaled_down_budget(msr_pkl, tiny_generator, tmp_path):
    aug = KineMICAugmenter.from_preset(
        "paper", str(msr_pkl), split="xsub_train", shots=1, labels="msr_action3d", layout="msr_action3d",
        classes=[0, 14], generator=tiny_generator["path"], corpus=tiny_generator["corpus"], cache_dir=tmp_path,
        progress=False, adapt=TINY_ADAPT, synthesis=dict(steps=4, batch_size=8), synthetic_per_class={0: 2, 14: 1})
    assert aug.preset == "paper" and aug.adapt_cfg.mode == "joint" and aug.target_norm == "generalist"
    assert aug.adapt_cfg.lr == 2e-5 and aug.adapt_cfg.action_init == "normal" and aug.synth_cfg.sampler == "ddpm"
    syn = aug.synthetic_annotations()
    assert sorted(int(s["label"]) for s in syn) == [0, 0, 14]
    assert all(s["is_synthetic"] for s in syn)


def test_wrapper_mirrors_the_wrapped_splits_class_counts(tiny_wrapper_parts, msr_pkl):
    import har.mm  # noqa: F401  (registers PoseDataset)
    import kinemic_aug.integrations.mmengine as integ

    inner, aug = tiny_wrapper_parts
    aug = {**aug, "preset": "paper", "synthesis": {**aug["synthesis"], "sampler": "ddpm", "steps": 3}}
    aug.pop("synthetic_per_class")
    inner = {**inner, "few_shot": dict(shots=1, seed=0, classes=[0, 14])}
    ds = integ.KineMICAugmentedDataset(inner, augmenter=aug)
    counts = _train_counts(msr_pkl)
    syn = [ds.get_data_info(i) for i in range(len(ds)) if ds.get_data_info(i)["is_synthetic"]]
    got = {c: sum(1 for s in syn if s["label"] == c) for c in (0, 14)}
    assert got == {0: counts[0], 14: counts[14]}
    rep = ds.report()
    assert rep["preset"] == "paper" and rep["adapt"]["mode"] == "joint"
    assert ds.dataset.metainfo["split_class_counts"] == dict(sorted(counts.items()))
