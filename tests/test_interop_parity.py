"""Synthetic annotations have the fields, types, dtypes and shapes of their dataset's real ones, and every
annotation of an augmented pickle says is_synthetic: on MSR Action3D and on a PYSKL-shaped dict with more
fields (filename ids, float16 arrays, per-frame scores, capture constants, varying strings and floats)."""
from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.data.annotation_template import AnnotationTemplate, field_parity
from kinemic_aug.data.pyskl import drop_fields, load_pyskl
from kinemic_aug.errors import DataError
from kinemic_aug.synthesis import SynthesisConfig

PERMISSIVE = SynthesisConfig(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                             oversample=1.0)
ADAPT = AdaptConfig(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2)


def _augment(source, tiny_generator, tmp_path, **kw):
    args = dict(split="xsub_train", shots=2, labels="msr_action3d", layout="msr_action3d", classes=[0, 14],
                synthetic_per_class=2, generator=tiny_generator["path"], corpus=tiny_generator["corpus"],
                cache_dir=tmp_path / "cache", adapt=ADAPT, synthesis=PERMISSIVE, progress=False)
    args.update(kw)
    return KineMICAugmenter(source, **args)


def _split_real_synthetic(data):
    real = [a for a in data["annotations"] if not a["is_synthetic"]]
    syn = [a for a in data["annotations"] if a["is_synthetic"]]
    return real, syn


def test_msr_synthetic_annotations_match_the_real_ones(msr_pkl, tiny_generator, tmp_path):
    aug = _augment(str(msr_pkl), tiny_generator, tmp_path)
    out = aug.save_pyskl(tmp_path / "aug.pkl")
    with open(out, "rb") as f:
        data = pickle.load(f)
    assert all(type(a["is_synthetic"]) is bool for a in data["annotations"])  # every annotation, every split
    real, syn = _split_real_synthetic(data)
    assert len(real) == 567 and len(syn) == 4
    assert field_parity(real, syn) == []
    ref = real[0]
    for a in syn:
        assert set(a) == set(ref) | {"synthetic_info"}
        t = a["total_frames"]
        assert a["keypoint_score"].dtype == np.float32 and a["keypoint_score"].shape == (1, t, 20)
        assert np.all(a["keypoint_score"] == 1.0)
        assert a["subject"] == -1 and a["repetition"] == -1 and type(a["subject"]) is type(ref["subject"])
        assert a["in_cvpr12_list"] is False  # a synthetic sample is in no published list
    # the in-memory annotations agree with the file
    assert field_parity([dict(a, is_synthetic=False) for a in aug.shot_anns], aug.synthetic_annotations()) == []


@pytest.fixture
def pyskl_shaped(msr_pkl):
    """MSR samples re-dressed as a PYSKL-style dict with fields MSR lacks (made here, not a real dataset)."""
    with open(msr_pkl, "rb") as f:
        raw = pickle.load(f)
    train = set(raw["split"]["xsub_train"])
    anns = []
    for i, a in enumerate(x for x in raw["annotations"] if x["frame_dir"] in train and x["label"] in (0, 14)):
        m, t = a["keypoint"].shape[:2]
        anns.append({"filename": a["frame_dir"], "label": np.int64(a["label"]),
                     "keypoint": a["keypoint"].astype(np.float16), "total_frames": np.int32(t),
                     "keypoint_score": a["keypoint_score"].astype(np.float16),
                     "box_score": np.full((m, t), 0.9, np.float16),        # per person and frame
                     "frame_valid": np.ones(t, np.uint8),                  # per frame
                     "img_shape": (480, 640), "original_shape": (480, 640),  # a fixed camera
                     "fps": 15.0,                                           # the same everywhere
                     "setup": f"room{i % 3}",                               # varies
                     "lux": np.float64(100.0 + i),                          # varies
                     "camera_extrinsics": np.eye(4, dtype=np.float32) * (1 + i % 2),  # fixed-shape array, varies
                     "valid": {0.5: t, 0.9: t - 1},                          # dict, varies
                     "subject": np.int16(a["subject"])})
    ids = [a["filename"] for a in anns]
    return {"split": {"xsub_train": ids[:-2], "xsub_test": ids[-2:]}, "annotations": anns,
            "meta": {"note": "MSR samples with PYSKL-style extra fields, made by a test"}}


def test_pyskl_shaped_extra_fields_are_filled_by_what_they_are(pyskl_shaped, tiny_generator, tmp_path):
    aug = _augment(pyskl_shaped, tiny_generator, tmp_path)
    out = aug.save_pyskl(tmp_path / "aug.pkl")
    data = load_pyskl(out)
    real, syn = _split_real_synthetic(data)
    assert field_parity(real, syn) == [] and len(syn) == 4
    assert all(x in data["split"]["xsub_train_kinemic"] for x in (a["filename"] for a in syn))
    by_id = {a["filename"]: a for a in real}
    for a in syn:
        assert "frame_dir" not in a and a["filename"].startswith("synthetic_")  # the dataset's id key
        assert type(a["label"]) is np.int64 and type(a["total_frames"]) is np.int32
        m, t = a["keypoint"].shape[:2]
        assert a["keypoint"].dtype == np.float16 and a["total_frames"] == t
        assert a["keypoint_score"].dtype == np.float16 and np.all(a["keypoint_score"] == 1)
        assert a["box_score"].shape == (m, t) and np.all(a["box_score"] == 1)
        assert a["frame_valid"].shape == (t,) and a["frame_valid"].dtype == np.uint8 and np.all(a["frame_valid"] == 1)
        assert a["img_shape"] == (480, 640) and a["fps"] == 15.0  # dataset constants
        assert a["setup"] == "" and math.isnan(a["lux"]) and type(a["lux"]) is np.float64
        assert a["subject"] == -1 and type(a["subject"]) is np.int16
        anchor = by_id[a["synthetic_info"]["anchor_shot"]]  # copied from the shot the sample was drawn from
        assert a["valid"] == anchor["valid"]
        np.testing.assert_array_equal(a["camera_extrinsics"], anchor["camera_extrinsics"])


def test_field_parity_names_the_sample_and_field_that_differ(pyskl_shaped):
    real = [dict(a, is_synthetic=False) for a in pyskl_shaped["annotations"]]
    tpl = AnnotationTemplate.from_annotations(real)
    base = {"frame_dir": "synthetic_x_0", "label": 0, "keypoint": np.zeros((1, 5, 20, 3), np.float32),
            "total_frames": 5, "is_synthetic": True}
    good = tpl.conform(base, reference=real[0])
    assert field_parity(real, [good]) == []
    no_score = {k: v for k, v in good.items() if k != "keypoint_score"}
    assert field_parity(real, [no_score]) == ["synthetic sample 'synthetic_x_0': field 'keypoint_score' missing "
                                              "(every real sample has it)"]
    wrong = dict(good, keypoint=good["keypoint"].astype(np.float32))
    assert any("'synthetic_x_0': field 'keypoint' is ('ndarray', 'float32', 4)" in p for p in field_parity(real, [wrong]))
    joints = dict(good, box_score=np.ones((1, 5, 2), np.float16))
    assert any("field 'box_score'" in p for p in field_parity(real, [joints]))
    extra = dict(good, made_up=1)
    assert field_parity(real, [extra]) == ["synthetic sample 'synthetic_x_0': field 'made_up' that no real sample has"]
    unflagged = [dict(a) for a in real]
    del unflagged[0]["is_synthetic"]
    assert any("is_synthetic is None, not False" in p for p in field_parity(unflagged, [good]))
    with pytest.raises(DataError, match="sample 'synthetic_x_0', field 'camera_extrinsics': needs the real shot"):
        tpl.conform(base)  # a field copied from the shot needs the shot


def test_template_and_drop_fields_refuse_bad_input_clearly(pyskl_shaped):
    with pytest.raises(DataError, match="field 'annotations': no real annotations"):
        AnnotationTemplate.from_annotations([dict(a, is_synthetic=True) for a in pyskl_shaped["annotations"]])
    with pytest.raises(DataError, match="x.pkl, field 'keypoint': cannot drop"):
        drop_fields(pyskl_shaped, ["keypoint"], source="x.pkl")
    with pytest.raises(DataError, match="field 'keypoint_scores': no annotation has"):
        drop_fields(pyskl_shaped, ["keypoint_scores"])
    dropped = drop_fields(pyskl_shaped, ["keypoint_score", "lux"])
    assert all("keypoint_score" not in a and "lux" not in a for a in dropped["annotations"])
    assert "keypoint_score" in pyskl_shaped["annotations"][0]  # the input is left as it was
