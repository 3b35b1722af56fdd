"""kinemic_aug.data.datasets: the registry, spec files, the checks run before training, validation splits and
layouts carried by a pickle. Synthetic pickles (random joints, labelled synthetic) for the checks; the shipped
MSR Action3D and UTD-MHAD specs against the real data where it is present (skipped otherwise)."""
from __future__ import annotations

import json
import pickle
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data import datasets as dsets
from kinemic_aug.data.datasets import (DatasetSpec, check_shots, get_dataset_spec, layout_from_meta, load_dataset,
                                       register_dataset_spec, stage_data)
from kinemic_aug.errors import DataError, LayoutError
from kinemic_aug.skeleton.layout import get_layout

REPO = Path(__file__).resolve().parents[1]
#: Kinect v1 joint names and parents (UTD-MHAD's order), used to build a layout-less synthetic pickle
KINECT_NAMES = ["head", "neck", "spine", "hip_center", "left_shoulder", "left_elbow", "left_wrist", "left_hand",
                "right_shoulder", "right_elbow", "right_wrist", "right_hand", "left_hip", "left_knee", "left_ankle",
                "left_foot", "right_hip", "right_knee", "right_ankle", "right_foot"]
KINECT_PARENTS = [1, 2, 3, -1, 1, 4, 5, 6, 1, 8, 9, 10, 3, 12, 13, 14, 3, 16, 17, 18]


def synthetic_pickle(path: Path, *, per_class=(4, 4, 2), subjects=(1, 2, 3, 4), train=(1, 3), test=(2, 4),
                     meta=None) -> Path:
    """A SYNTHETIC PYSKL pickle (random joints): ``per_class[c]`` sequences of class c per subject, subject in
    ``train`` → xsub_train, in ``test`` → xsub_test (a subject in both makes a leaking split)."""
    rng = np.random.default_rng(0)
    anns, split = [], {"xsub_train": [], "xsub_test": []}
    for s in subjects:
        for c, n in enumerate(per_class):
            for r in range(n):
                fid = f"c{c}_s{s}_r{r}"
                anns.append({"frame_dir": fid, "label": c, "subject": s, "total_frames": 12, "is_synthetic": True,
                             "keypoint": rng.normal(size=(1, 12, 20, 3)).astype(np.float32)})
                if s in train:
                    split["xsub_train"].append(fid)
                if s in test:
                    split["xsub_test"].append(fid)
    data = {"split": split, "annotations": anns,
            "meta": {"classes": ["wave", "kick", "bow"], "synthetic": True, **(meta or {})}}
    path.write_bytes(pickle.dumps(data))
    return path


def toy_spec(pkl: Path, **kw) -> DatasetSpec:
    args = dict(name="toy", title="Toy (synthetic)", pickle=str(pkl), num_classes=3, fps=30.0, clip_len=8,
                layout="utd_mhad", val_holdout=(3,))
    args.update(kw)
    return DatasetSpec(**args)


# ------------------------------------------------------------------------------ registry and spec files
def test_shipped_specs_describe_msr_and_utd():
    msr, utd = get_dataset_spec("msr_action3d"), get_dataset_spec("utd_mhad")
    assert (msr.train_split, msr.test_split, msr.fps, msr.layout, msr.env) == (
        "xsub_train", "xsub_test", 15.0, "msr_action3d", "KINEMIC_MSR_PKL")
    assert msr.pickle == "../shared/data/msr_action3d/msr_action3d_skeleton.pkl" and msr.val_holdout == (9,)
    assert (utd.num_classes, utd.fps, utd.layout, utd.env, utd.val_holdout) == (27, 30.0, "utd_mhad", "KINEMIC_UTD_PKL",
                                                                               (7,))
    assert (utd.val_pool_split, utd.val_split) == ("xsub_train_val_pool", "xsub_train_val")
    assert utd.stage_splits("val") == ("xsub_train_val_pool", "xsub_train_val")
    assert utd.stage_splits("test") == ("xsub_train", "xsub_test")
    assert set(dsets.list_dataset_specs()) >= {"msr_action3d", "utd_mhad"}


def test_unknown_dataset_and_bad_fields_are_named():
    with pytest.raises(DataError, match=r"unknown dataset 'ntu_typo'.*msr_action3d.*utd_mhad"):
        get_dataset_spec("ntu_typo")
    with pytest.raises(DataError, match="field 'num_classes'.*positive integer"):
        DatasetSpec(name="x", title="x", pickle="x.pkl", num_classes=0, fps=30.0, clip_len=8)
    with pytest.raises(DataError, match="field 'test_split'.*same"):
        DatasetSpec(name="x", title="x", pickle="x.pkl", num_classes=2, fps=30.0, clip_len=8, test_split="xsub_train")
    with pytest.raises(DataError, match="unknown stage"):
        get_dataset_spec("utd_mhad").stage_splits("train")
    with pytest.raises(DataError, match="no validation rule"):
        replace(get_dataset_spec("utd_mhad"), val_holdout=()).stage_splits("val")


def test_a_spec_is_data_a_json_file_round_trips_and_bad_keys_are_named(tmp_path):
    spec = toy_spec(tmp_path / "toy.pkl")
    path = tmp_path / "toy.json"
    path.write_text(json.dumps(spec.to_dict()))
    assert get_dataset_spec(str(path)) == spec
    bad = dict(spec.to_dict(), nmu_classes=3)
    path.write_text(json.dumps(bad))
    with pytest.raises(DataError, match=r"toy.json, field 'nmu_classes': unknown key"):
        get_dataset_spec(str(path))
    missing = {k: v for k, v in spec.to_dict().items() if k != "fps"}
    path.write_text(json.dumps(missing))
    with pytest.raises(DataError, match="field 'fps': missing"):
        get_dataset_spec(str(path))
    with pytest.raises(DataError, match="dataset spec file not found"):
        get_dataset_spec(str(tmp_path / "nope.json"))


def test_register_refuses_a_second_different_spec_of_a_name(tmp_path):
    spec = toy_spec(tmp_path / "a.pkl", name="toy_register")
    assert register_dataset_spec(spec) is spec and get_dataset_spec("toy_register") is spec
    register_dataset_spec(spec)  # the same spec again: fine
    with pytest.raises(DataError, match="already registered"):
        register_dataset_spec(replace(spec, fps=15.0))
    register_dataset_spec(replace(spec, fps=15.0), overwrite=True)
    assert get_dataset_spec("toy_register").fps == 15.0


def test_the_env_variable_overrides_the_pickle_and_a_missing_file_says_how_to_point_to_it(tmp_path, monkeypatch):
    spec = toy_spec(tmp_path / "absent.pkl", env="KINEMIC_TOY_PKL")
    monkeypatch.delenv("KINEMIC_TOY_PKL", raising=False)
    with pytest.raises(DataError, match=r"absent.pkl, field 'pickle': dataset 'toy': pickle not found \(set "
                                         r"\$KINEMIC_TOY_PKL"):
        load_dataset(spec)
    real = synthetic_pickle(tmp_path / "real.pkl")
    monkeypatch.setenv("KINEMIC_TOY_PKL", str(real))
    assert spec.pickle_path() == real
    assert len(load_dataset(spec)["annotations"]) == 40


# ------------------------------------------------------------------------------ checks before training
def test_splits_that_share_a_subject_are_refused(tmp_path):
    pkl = synthetic_pickle(tmp_path / "leak.pkl", train=(1, 2, 3), test=(2, 4))
    with pytest.raises(DataError, match=r"subjects \[2\] appear in both 'xsub_train' and 'xsub_test'"):
        load_dataset(toy_spec(pkl))


def test_a_missing_split_class_subject_field_or_holdout_is_refused(tmp_path):
    pkl = synthetic_pickle(tmp_path / "d.pkl")
    with pytest.raises(DataError, match="no split 'xsub_val'.*test_split"):
        load_dataset(toy_spec(pkl, test_split="xsub_val"))
    with pytest.raises(DataError, match="1 of 4 classes have no sample in 'xsub_train': \\[3\\]"):
        load_dataset(toy_spec(pkl, num_classes=4))
    with pytest.raises(DataError, match="no subject field 'performer'"):
        load_dataset(toy_spec(pkl, subject_key="performer"))
    with pytest.raises(DataError, match=r"hold-out subjects \[2\] are not in 'xsub_train'"):
        load_dataset(toy_spec(pkl, val_holdout=(2,)))
    with pytest.raises(DataError, match="label set 'utd_mhad' has ids"):
        load_dataset(toy_spec(pkl, labels="utd_mhad"))
    with pytest.raises(DataError, match="V = 20 joints but the layout has 25"):
        load_dataset(toy_spec(pkl, layout="nturgb+d"))


def test_a_shot_count_larger_than_a_class_offers_is_refused(tmp_path):
    spec = toy_spec(synthetic_pickle(tmp_path / "d.pkl"))   # 8 / 8 / 4 training sequences per class
    data = load_dataset(spec)
    assert check_shots(spec, data, 4, "xsub_train") == {}
    with pytest.raises(DataError, match=r"class 2 \('bow'\) has only 4 samples in 'xsub_train', fewer than 5 shots"):
        check_shots(spec, data, 5, "xsub_train")
    fewer = replace(spec, allow_fewer=True)   # MSR's rule: a short class gives what it has ...
    assert check_shots(fewer, data, 5, "xsub_train") == {2: 4}
    with pytest.raises(DataError, match="9 shots exceed every class in 'xsub_train' \\(largest class: 8"):
        check_shots(fewer, data, 9, "xsub_train")   # ... but not a K no class can give
    with pytest.raises(DataError, match="positive integer"):
        check_shots(spec, data, 0, "xsub_train")
    assert dsets.shortfall_text(data, "xsub_train", [1, 5]) == ['5-shot has 4 "bow" samples: only 4 exist']


def test_the_val_stage_holds_training_subjects_out_and_drops_the_test_split(tmp_path):
    spec = toy_spec(synthetic_pickle(tmp_path / "d.pkl"))
    data = load_dataset(spec)
    val = stage_data(spec, data, "val")
    assert set(val["split"]) == {"xsub_train", "xsub_train_val_pool", "xsub_train_val"}
    subj = {a["frame_dir"]: a["subject"] for a in val["annotations"]}
    assert {subj[i] for i in val["split"]["xsub_train_val_pool"]} == {1}
    assert {subj[i] for i in val["split"]["xsub_train_val"]} == {3}
    assert set(subj.values()) == {1, 3}   # no test sequence is in the val stage's data at all
    assert val["meta"]["validation"]["holdout_subjects"] == [3]
    with pytest.raises(DataError, match="fewer than 3 shots"):   # shots come from the smaller pool (2 'bow' left)
        check_shots(spec, val, 3, "xsub_train_val_pool")
    out = dsets.write_stage_pickle(spec, data, "val", tmp_path / "val.pkl")
    assert sorted(pickle.loads(out.read_bytes())["split"]) == sorted(val["split"])
    assert stage_data(spec, data, "test")["split"] == data["split"]


# ------------------------------------------------------------------------------ layouts
def test_a_pickle_can_carry_its_layout_as_joint_names_and_parents(tmp_path):
    pkl = synthetic_pickle(tmp_path / "k.pkl", meta={"joint_names": KINECT_NAMES, "parents": KINECT_PARENTS,
                                                     "fps": 30})
    spec = toy_spec(pkl, name="toy_meta_layout", layout="")
    data = load_dataset(spec)
    lay = dsets.resolve_layout(spec, data)
    assert lay.name == "toy_meta_layout" and lay.center == 3 and lay.fps == 30.0
    assert lay.zaxis == (3, 2) and lay.xaxis == (8, 4)   # root -> spine; right -> left shoulder, found by name
    assert get_layout("toy_meta_layout") is lay           # registered: the name resolves downstream
    same = get_layout("utd_mhad")
    assert (lay.parents, lay.center, lay.zaxis, lay.xaxis) == (same.parents, same.center, same.zaxis, same.xaxis)
    assert layout_from_meta({"layout": "utd_mhad"}, "x") is same
    with pytest.raises(LayoutError, match="carries no layout"):
        layout_from_meta({"classes": []}, "x", source="k.pkl")
    with pytest.raises(LayoutError, match="2 parents for 20 joints"):
        layout_from_meta({"joint_names": KINECT_NAMES, "parents": [-1, 0]}, "toy_bad")


def test_a_layout_file_works_wherever_a_layout_name_does(tmp_path):
    from har.graph import Graph

    d = dict(get_layout("utd_mhad").to_dict(), name="toy_file_layout")
    path = tmp_path / "my_layout.json"
    path.write_text(json.dumps(d))
    lay = get_layout(str(path))
    assert lay.name == "toy_file_layout" and get_layout("toy_file_layout") is lay
    assert Graph(str(path), "stgcn_spatial").A.shape[-1] == 20   # a graph config can name the file
    d["parents"][7] = 5   # another layout under the same name: the left hand hangs off the elbow
    other = tmp_path / "other.json"
    other.write_text(json.dumps(d))
    with pytest.raises(LayoutError, match="differs from the registered layout"):
        get_layout(str(other))
    with pytest.raises(LayoutError, match="layout file not found"):
        get_layout(str(tmp_path / "missing.json"))
    spec = toy_spec(synthetic_pickle(tmp_path / "d.pkl"), layout=str(path))
    assert dsets.resolve_layout(spec).name == "toy_file_layout"


def test_cli_writes_the_layout_a_pickle_carries_and_check_reports_bad_input(tmp_path, capsys):
    pkl = synthetic_pickle(tmp_path / "k.pkl", meta={"joint_names": KINECT_NAMES, "parents": KINECT_PARENTS})
    out = tmp_path / "lay.json"
    assert dsets.main(["layout", str(pkl), "--name", "toy_cli_layout", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["xaxis"] == [8, 4]
    assert dsets.main(["check", "no_such_dataset"]) == 2
    assert "unknown dataset 'no_such_dataset'" in capsys.readouterr().err


# ------------------------------------------------------------------------------ configs agree with the specs
@pytest.mark.parametrize("name", ["msr_action3d", "utd_mhad"])
def test_the_dataset_configs_say_what_the_spec_says(name):
    from mmengine.config import Config

    spec = get_dataset_spec(name)
    base = Config.fromfile(str(REPO / "configs" / "_base_" / "datasets" / f"{name}_xsub.py"))
    assert (base.layout, base.num_classes, base.clip_len, base.num_person) == (spec.layout, spec.num_classes,
                                                                               spec.clip_len, spec.num_person)
    assert (base.train_split, base.test_split) == (spec.train_split, spec.test_split)
    assert base.ann_file.endswith(Path(spec.pickle).name)
    full = Config.fromfile(str(REPO / "configs" / "stgcn" / f"{spec.config_stem}_full.py"))
    assert full.model.cls_head.num_classes == spec.num_classes
    assert full.model.backbone.graph_cfg.layout == spec.layout
    kin = Config.fromfile(str(REPO / spec.kinemic_base))
    assert kin.kinemic.labels == spec.labels
    assert get_layout(spec.layout).fps == spec.fps


# ------------------------------------------------------------------------------ real data (skipped when absent)
def _need(spec: DatasetSpec) -> DatasetSpec:
    if not spec.pickle_path().is_file():
        pytest.skip(f"{spec.title} pickle not found at {spec.pickle_path()} (research data, not shipped)")
    return spec


def test_utd_mhad_loads_and_passes_every_check():
    from kinemic_aug.data.pyskl import get_split
    from kinemic_aug.text.labels import load_label_set

    spec = _need(get_dataset_spec("utd_mhad"))
    data = load_dataset(spec)
    assert (len(get_split(data, "xsub_train")), len(get_split(data, "xsub_test"))) == (431, 430)
    assert {a["subject"] for a in get_split(data, "xsub_train")} == {1, 3, 5, 7}
    val = stage_data(spec, data, "val")
    assert {a["subject"] for a in get_split(val, spec.val_pool_split)} == {1, 3, 5}
    assert {a["subject"] for a in get_split(val, spec.val_split)} == {7}
    for k in (1, 3, 5, 10):
        assert check_shots(spec, data, k, "xsub_train") == {}
        assert check_shots(spec, val, k, spec.val_pool_split) == {}
    with pytest.raises(DataError, match="has only 15 samples in 'xsub_train', fewer than 16 shots"):
        check_shots(spec, data, 16, "xsub_train")   # "right hand draw x" misses a8_s1_t4
    labels = load_label_set("utd_mhad")
    assert labels.names == list(data["meta"]["classes"])
    assert all(e.meta.get("caption_origin") == "authored" and len(e.captions) >= 2 for e in labels)
    assert dsets.resolve_layout(replace(spec, layout="", name="utd_from_meta"), data).parents == \
        get_layout("utd_mhad").parents   # the pickle's own joint list gives the registered layout


def test_msr_validation_rule_holds_out_subject_9():
    from kinemic_aug.data.pyskl import get_split

    spec = _need(get_dataset_spec("msr_action3d"))
    data = load_dataset(spec)
    val = stage_data(spec, data, "val")
    assert {a["subject"] for a in get_split(val, spec.val_split)} == {9}
    assert {a["subject"] for a in get_split(val, spec.val_pool_split)} == {1, 3, 5, 7}
    assert check_shots(spec, data, 10, "xsub_train") == {14: 9}   # "side kick": 9 sequences, taken whole


def test_kinect_joints_in_a_new_order_need_only_a_layout_file(tmp_path):
    """A layout file with UTD-MHAD's joints reversed: the augmenter's retargeting to SMPL-22 takes the mapped
    layout's name-keyed tables, so both orders give the same SMPL-22 motion."""
    from kinemic_aug.skeleton.retarget import retarget

    utd = get_layout("utd_mhad")
    order = list(range(utd.num_joints))[::-1]
    inv = {o: i for i, o in enumerate(order)}
    d = dict(utd.to_dict(), name="toy_utd_reversed", joint_names=[utd.joint_names[o] for o in order],
             parents=[-1 if utd.parents[o] == -1 else inv[utd.parents[o]] for o in order], center=inv[utd.center],
             zaxis=[inv[j] for j in utd.zaxis], xaxis=[inv[j] for j in utd.xaxis])
    path = tmp_path / "reversed.json"
    path.write_text(json.dumps(d))
    x = np.random.default_rng(0).normal(size=(6, 20, 3))   # SYNTHETIC positions
    np.testing.assert_allclose(retarget(x[:, order], str(path), "smpl22"), retarget(x, "utd_mhad", "smpl22"))
    smpl = retarget(x, "utd_mhad", "smpl22")
    np.testing.assert_allclose(retarget(smpl, "smpl22", "toy_utd_reversed"), retarget(smpl, "smpl22", "utd_mhad")[:, order])
