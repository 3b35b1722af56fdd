"""``tools/demo.py`` (``make demo``): argument handling, target checks, the in-memory classifier
dataset, the no-data path, and (slow) the whole pipeline on MSR Action3D with tiny budgets."""
from __future__ import annotations

import importlib.util
import json
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.errors import DataError

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("kinemic_demo_tool", REPO / "tools" / "demo.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses resolve their annotations through sys.modules
    spec.loader.exec_module(mod)
    yield mod
    sys.modules.pop(spec.name, None)


def _target(demo, labels_train, labels_test=(), layout_path="x.pkl"):
    ann = lambda i, c: {"frame_dir": f"s{i}", "label": c, "keypoint": np.ones((1, 5, 20, 3), np.float32)}  # noqa: E731
    train = [ann(i, c) for i, c in enumerate(labels_train)]
    test = [ann(100 + i, c) for i, c in enumerate(labels_test)]
    return demo.Target(Path(layout_path), {}, train, test, {c: f"class {c}" for c in set(labels_train)})


# ------------------------------------------------------------------ arguments
def test_defaults_are_the_documented_demo(demo):
    a = demo.parse_args([])
    assert (a.shots, a.classes, a.all_classes, a.seed) == (3, None, False, 0)
    assert (a.split, a.test_split, a.layout) == ("xsub_train", "xsub_test", "msr_action3d")
    assert a.cache_dir == REPO / "work_dirs" / "demo_cache" and a.out == REPO / "demo_out"
    assert a.ann == demo.default_msr_path()
    assert a.adapt_steps > 0 and a.synthetic_per_class > 0 and a.train_steps > 0


@pytest.mark.parametrize("argv", [["--shots", "0"], ["--classes", "a,b"], ["--classes", "-1"],
                                  ["--classes", "0,4", "--all-classes"], ["--train-steps", "0"],
                                  ["--adapt-steps", "-2"]])
def test_bad_arguments_are_refused(demo, argv, capsys):
    with pytest.raises(SystemExit) as e:
        demo.parse_args(argv)
    assert e.value.code == 2
    assert "error" in capsys.readouterr().err


def test_synthesis_overrides_are_typed_and_checked(demo, capsys):
    a = demo.parse_args(["--synthesis", "guidance=3", "--synthesis", "compose_with=a jump, a spin",
                         "--sample-steps", "7"])
    cfg = demo.synthesis_config(a)
    assert (cfg.guidance, cfg.compose_with, cfg.steps) == (3.0, ("a jump", "a spin"), 7)
    assert demo.synthesis_config(demo.parse_args([])) is None  # the augmenter's own default
    # an optional field, off by default, parses as its annotated type ("none" keeps it off)
    assert demo.synthesis_config(demo.parse_args(["--synthesis", "travel_cap=1.5"])).travel_cap == 1.5
    assert demo.synthesis_config(demo.parse_args(["--synthesis", "travel_cap=none"])).travel_cap is None
    for bad in ("nope=1", "steps=x", "guidance", "travel_cap=far"):
        with pytest.raises(SystemExit):
            demo.parse_args(["--synthesis", bad])
    assert "--synthesis" in capsys.readouterr().err
    with pytest.raises(DataError, match="shot_strength") as e:
        demo.synthesis_config(demo.parse_args(["--synthesis", "shot_strength=2"]))
    assert e.value.field == "synthesis"


def test_class_selection(demo):
    t = _target(demo, [c for c in range(20) for _ in range(2)])
    assert demo.resolve_classes(demo.parse_args([]), t) == list(demo.MSR_DEMO_CLASSES)
    assert demo.resolve_classes(demo.parse_args(["--classes", "7,3,7"]), t) == [3, 7]
    assert demo.resolve_classes(demo.parse_args(["--all-classes"]), t) == list(range(20))
    # another dataset: the first six classes of its training split, not MSR's ids
    other = _target(demo, [10, 11, 12, 13, 14, 15, 16, 17])
    assert demo.resolve_classes(demo.parse_args(["--layout", "nturgb+d"]), other) == [10, 11, 12, 13, 14, 15]
    with pytest.raises(DataError, match=r"\[25\] have no sample in split 'xsub_train'") as e:
        demo.resolve_classes(demo.parse_args(["--classes", "0,25"]), t)
    assert e.value.field == "classes"
    with pytest.raises(DataError, match="at least two classes"):
        demo.resolve_classes(demo.parse_args(["--classes", "4"]), t)


def test_remap_keeps_the_subset_and_renumbers_it(demo):
    anns = [{"frame_dir": f"s{i}", "label": c} for i, c in enumerate([19, 0, 5, 4, 19])]
    out = demo.remap(anns, [0, 4, 19])
    assert [(a["frame_dir"], a["label"], a["orig_label"]) for a in out] == [
        ("s0", 2, 19), ("s1", 0, 0), ("s3", 1, 4), ("s4", 2, 19)]
    assert anns[0]["label"] == 19  # inputs untouched


# ------------------------------------------------------------------ target checks
def _pickle(path: Path, anns, split):
    with open(path, "wb") as f:
        pickle.dump({"split": split, "annotations": anns, "meta": {"classes": ["a", "b"]}}, f)
    return path


def _ann(i, label, **extra):
    rng = np.random.default_rng(i)
    return dict({"frame_dir": f"v{i}", "label": label, "keypoint": rng.normal(size=(1, 8, 20, 3)).astype(np.float32),
                 "total_frames": 8}, **extra)


def test_synthetic_samples_are_refused_as_target(demo, tmp_path):
    anns = [_ann(0, 0), _ann(1, 1, is_synthetic=True), _ann(2, 0), _ann(3, 1)]
    p = _pickle(tmp_path / "t.pkl", anns, {"xsub_train": ["v0", "v1"], "xsub_test": ["v2", "v3"]})
    with pytest.raises(DataError, match="circular") as e:
        demo.load_target(p, "xsub_train", "xsub_test", "msr_action3d")
    assert (e.value.sample, e.value.field) == ("v1", "is_synthetic")


def test_missing_test_split_is_named(demo, tmp_path):
    p = _pickle(tmp_path / "t.pkl", [_ann(0, 0), _ann(1, 1)], {"xsub_train": ["v0", "v1"]})
    with pytest.raises(DataError, match=r"unknown test split 'xsub_test'; available: \['xsub_train'\]") as e:
        demo.load_target(p, "xsub_train", "xsub_test", "msr_action3d")
    assert e.value.field == "test_split"
    t = demo.load_target(p, "xsub_train", "xsub_train", "msr_action3d")
    assert [a["frame_dir"] for a in t.train] == ["v0", "v1"] and t.class_names == {0: "a", 1: "b"}


def test_shipped_corpora_are_refused_as_target(demo):
    with pytest.raises(DataError, match="outside the package") as e:
        demo.load_target(REPO / "kinemic_aug" / "assets" / "x.pkl", "xsub_train", "xsub_test", "msr_action3d")
    assert e.value.field == "ann"


# ------------------------------------------------------------------ in-memory dataset and config
def test_memory_dataset_serves_samples_and_names_bad_ones(demo):
    pipe = [dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
            dict(type="UniformSample", clip_len=8), dict(type="PoseDecode"),
            dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    demo._MEMORY["t:ok"] = [_ann(0, 0), _ann(1, 1, is_synthetic=True)]
    demo._MEMORY["t:bad"] = [_ann(0, 0), dict(_ann(1, 0), keypoint=np.zeros((8, 20, 3), np.float32))]
    demo._MEMORY["t:label"] = [_ann(0, 3)]
    try:
        ds = demo.DemoMemoryDataset("t:ok", pipeline=pipe, layout="msr_action3d", num_classes=2)
        assert len(ds) == 2 and ds.metainfo["layout"] == "msr_action3d"
        assert [ds.get_data_info(i)["is_synthetic"] for i in range(2)] == [False, True]
        assert tuple(ds[0]["inputs"].shape) == (1, 1, 8, 20, 3)
        with pytest.raises(DataError, match=r"expected keypoint \[M, T, V, C\]") as e:
            demo.DemoMemoryDataset("t:bad", pipeline=pipe, layout="msr_action3d")
        assert (e.value.sample, e.value.field) == ("v1", "keypoint")
        with pytest.raises(DataError, match=r"label 3 outside 0..1") as e:
            demo.DemoMemoryDataset("t:label", pipeline=pipe, layout="msr_action3d", num_classes=2)
        assert e.value.field == "label"
        with pytest.raises(DataError, match="no in-memory annotation list"):
            demo.DemoMemoryDataset("t:none", pipeline=pipe)
    finally:
        for k in ("t:ok", "t:bad", "t:label"):
            demo._MEMORY.pop(k, None)


def test_both_arms_get_the_same_classifier_config(demo, tmp_path):
    kw = dict(test_name="te", layout="msr_action3d", num_classes=6, steps=50, seed=3, desc="x", verbose=False)
    a = demo.build_classifier_config(demo.DEFAULT_CONFIG, train_name="real", work_dir=tmp_path / "a", **kw)
    b = demo.build_classifier_config(demo.DEFAULT_CONFIG, train_name="aug", work_dir=tmp_path / "b", **kw)
    assert a.train_dataloader.dataset.ann_file == "real" and b.train_dataloader.dataset.ann_file == "aug"
    for cfg in (a, b):
        assert cfg.model.cls_head.num_classes == 6 and cfg.model.backbone.graph_cfg.layout == "msr_action3d"
        assert cfg.train_cfg.max_iters == 50 and cfg.train_cfg.val_interval == 50
        assert cfg.val_dataloader.dataset.ann_file == "te" and cfg.val_dataloader.dataset.test_mode
        assert cfg.randomness.seed == 3 and cfg.log_level == "WARNING"
    strip = lambda c: {k: v for k, v in c.to_dict().items() if k not in ("train_dataloader", "work_dir")}  # noqa: E731
    assert strip(a) == strip(b)


# ------------------------------------------------------------------ offline paths
def test_without_target_data_it_says_what_is_needed_and_exits_0(demo, tmp_path, capsys):
    out = tmp_path / "out"
    rc = demo.main(["--ann", str(tmp_path / "missing.pkl"), "--out", str(out), "--sample-steps", "2"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "No target data" in text and "PYSKL" in text and "No accuracy table" in text
    assert "SYNTHETIC samples of the generalist" in text
    from PIL import Image
    assert Image.open(out / "zero_shot_synthetic.gif").n_frames > 1
    assert (out / "seed_grid.gif").exists() and not (out / "demo_results.json").exists()


def test_data_only_mode_draws_without_training(demo, tmp_path, capsys):
    out = tmp_path / "out"
    assert demo.main(["--data-only", "--ann", str(tmp_path / "missing.pkl"), "--out", str(out)]) == 0
    assert "Skipping the MSR part" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["seed_grid.gif", "seed_grid.png"]


# ------------------------------------------------------------------ the whole demo (slow)
@pytest.mark.slow
def test_whole_demo_on_msr_with_tiny_budgets(demo, msr_pkl, tiny_generator, tmp_path, capsys):
    argv = ["--ann", str(msr_pkl), "--classes", "0,15", "--shots", "1", "--adapt-steps", "2",
            "--synthetic-per-class", "2", "--sample-steps", "3", "--train-steps", "6",
            # the tiny generator is barely trained: let its samples through the filter so they reach the classifier
            "--synthesis", "static_ratio=0", "--synthesis", "explode_ratio=1e9", "--synthesis", "bone_cv_max=1e9",
            "--generator", str(tiny_generator["path"]), "--cache-dir", str(tmp_path / "cache"),
            "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "out")]
    assert demo.main(argv) == 0
    text = capsys.readouterr().out
    assert "| arm | train samples (real/synthetic) | top-1 | seconds |" in text
    res = json.loads((tmp_path / "out" / "demo_results.json").read_text())
    assert res["classes"] == [0, 15] and res["class_names"] == ["high arm wave", "jogging"]
    assert res["augmenter"]["corpus"] == tiny_generator["corpus"]  # read from the checkpoint
    assert res["augmenter"]["adapt"]["steps"] == 2 and res["augmenter"]["synthesis"]["explode_ratio"] == 1e9
    real, aug = res["arms"]
    assert (real["arm"], aug["arm"]) == ("real only", "real + KineMIC")
    assert real["train_real"] == aug["train_real"] == 2 and real["train_synthetic"] == 0
    generated = sum(c["generated"] for c in res["augmenter"]["per_class"])
    assert aug["train_synthetic"] == generated == 4
    assert real["test_samples"] == aug["test_samples"] == 12 + 15  # xsub_test of the two classes
    for arm in (real, aug):
        assert 0.0 <= arm["top1"] <= 1.0 and arm["steps"] == 6 and arm["seconds"] > 0
        assert f"| {arm['arm']} | {arm['train_real']}/{arm['train_synthetic']} | {100 * arm['top1']:.1f} % |" in text
    md = (tmp_path / "out" / "demo_results.md").read_text()
    assert "| real + KineMIC | 2/" in md and "SYNTHETIC" in md
    from PIL import Image
    assert Image.open(tmp_path / "out" / "demo_preview.gif").n_frames > 1
    assert not any(c["adapt_cached"] for c in res["augmenter"]["per_class"])
    # a second run serves the adapters and synthetic sets from the cache
    assert demo.main(argv) == 0
    again = json.loads((tmp_path / "out" / "demo_results.json").read_text())
    assert all(c["adapt_cached"] and c["synth_cached"] for c in again["augmenter"]["per_class"])
    assert again["augmenter"]["real_shot_ids"] == res["augmenter"]["real_shot_ids"]
