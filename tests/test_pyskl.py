import os
import pickle

import numpy as np
import pytest

from kinemic_aug.data import safe_pickle
from kinemic_aug.data.pyskl import class_counts, get_split, load_pyskl, save_pyskl, validate_annotations
from kinemic_aug.errors import DataError


def _ann(sid, label=0, t=5, v=20, m=1, c=3, **extra):
    rng = np.random.default_rng(len(sid))
    a = dict(frame_dir=sid, label=label, keypoint=rng.normal(size=(m, t, v, c)).astype(np.float32), total_frames=t)
    a.update(extra)
    return a


def _data():
    anns = [_ann("a", 0), _ann("b", 1, t=7), _ann("c", 1, m=2, keypoint_score=np.ones((2, 5, 20), np.float32))]
    return {"split": {"train": ["a", "b"], "test": ["c"]}, "annotations": anns, "meta": {"classes": ["x", "y"]}}


def test_valid_data_passes_and_roundtrips_with_extra_keys(tmp_path):
    d = _data()
    d["annotations"][0]["subject"] = 3
    p = save_pyskl(d, tmp_path / "toy.pkl", layout="msr_action3d", num_classes=2)
    back = load_pyskl(p, layout="msr_action3d")
    assert back["meta"] == {"classes": ["x", "y"]}
    assert back["annotations"][0]["subject"] == 3
    np.testing.assert_array_equal(back["annotations"][2]["keypoint"], d["annotations"][2]["keypoint"])
    assert [a["frame_dir"] for a in get_split(back, "train")] == ["a", "b"]
    assert class_counts(back["annotations"]) == {0: 1, 1: 2}
    # no temp files left next to the target
    assert sorted(os.listdir(tmp_path)) == ["toy.pkl"]


@pytest.mark.parametrize("mutate, field, msg", [
    (lambda d: d["annotations"][1].pop("label"), "label", "missing key"),
    (lambda d: d["annotations"][1].update(keypoint=np.zeros((7, 20, 3))), "keypoint", "4 dims"),
    (lambda d: d["annotations"][1].update(keypoint=np.zeros((1, 7, 20, 4))), "keypoint", "C in"),
    (lambda d: d["annotations"][1].update(keypoint=np.full((1, 7, 20, 3), "x")), "keypoint", "numeric"),
    (lambda d: d["annotations"][1]["keypoint"].__setitem__((0, 3, 2, 1), np.nan), "keypoint", "NaN"),
    (lambda d: d["annotations"][1].update(keypoint=np.zeros((1, 0, 20, 3)), total_frames=0), "keypoint", "T = 0"),
    (lambda d: d["annotations"][1].update(total_frames=6), "total_frames", "T = 7"),
    (lambda d: d["annotations"][1].update(label=-1), "label", ">= 0"),
    (lambda d: d["annotations"][1].update(label=5), "label", "out of range"),
    (lambda d: d["annotations"][1].update(label=1.0), "label", "must be an int"),
    (lambda d: d["annotations"][1].update(keypoint_score=np.ones((1, 7, 19))), "keypoint_score", "shape"),
    (lambda d: d["annotations"][1].update(keypoint=np.zeros((1, 7, 25, 3))), "keypoint", "layout has 20"),
])
def test_each_defect_names_sample_and_field(mutate, field, msg):
    d = _data()
    mutate(d)
    with pytest.raises(DataError, match=msg) as ei:
        validate_annotations(d, source="toy.pkl", num_classes=2, layout="msr_action3d")
    assert ei.value.sample == "b" and ei.value.field == field
    assert str(ei.value).startswith("toy.pkl, sample 'b'")


def test_duplicates_and_dangling_split_ids():
    d = _data()
    d["annotations"].append(_ann("a", 0))
    with pytest.raises(DataError, match="duplicate") as ei:
        validate_annotations(d)
    assert ei.value.sample == "a"
    d = _data()
    d["split"]["test"].append("zzz")
    with pytest.raises(DataError, match="not in 'annotations'") as ei:
        validate_annotations(d)
    assert ei.value.sample == "zzz" and ei.value.field == "split"


def test_save_refuses_invalid_data_and_keeps_old_file(tmp_path):
    p = save_pyskl(_data(), tmp_path / "x.pkl")
    before = p.read_bytes()
    bad = _data()
    bad["annotations"][0]["total_frames"] = 99
    with pytest.raises(DataError):
        save_pyskl(bad, p)
    assert p.read_bytes() == before


def test_get_split_lists_available_names():
    with pytest.raises(DataError, match=r"available splits: \['test', 'train'\]"):
        get_split(_data(), "xsub_train")


def test_filename_key_is_accepted():
    d = _data()
    for a in d["annotations"]:
        a["filename"] = a.pop("frame_dir")
    validate_annotations(d)
    assert len(get_split(d, "test")) == 1


class _Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_safe_mode_refuses_code_and_explains_opt_out(tmp_path):
    p = tmp_path / "evil.pkl"
    d = _data()
    d["meta"] = _Evil()
    p.write_bytes(pickle.dumps(d))
    with pytest.raises(DataError, match=r"refusing to load global '(posix|os|nt)\.system'.*safe=False") as ei:
        load_pyskl(p)
    assert str(p) in str(ei.value)


def test_truncated_and_garbage_files_name_the_file(tmp_path):
    good = save_pyskl(_data(), tmp_path / "good.pkl")
    trunc = tmp_path / "trunc.pkl"
    trunc.write_bytes(good.read_bytes()[:200])
    with pytest.raises(DataError, match="trunc.pkl: not a readable pickle"):
        load_pyskl(trunc)
    junk = tmp_path / "junk.pkl"
    junk.write_bytes(b"this is not a pickle at all")
    with pytest.raises(DataError, match="junk.pkl"):
        load_pyskl(junk)
    with pytest.raises(DataError, match="junk.pkl"):
        load_pyskl(junk, safe=False)


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_safe_loader_reads_numpy_across_protocols(protocol):
    obj = {"a": np.arange(6, dtype=np.float16).reshape(2, 3), "s": np.int64(4), "set": {1, 2}, "b": b"\x00\xff",
           "o": np.array(["x", 1], dtype=object), "c": 1 + 2j}
    back = safe_pickle.safe_loads(pickle.dumps(obj, protocol=protocol))
    np.testing.assert_array_equal(back["a"], obj["a"])
    assert back["a"].dtype == np.float16 and back["s"] == 4 and back["set"] == {1, 2} and back["b"] == b"\x00\xff"
    assert list(back["o"]) == ["x", 1] and back["c"] == 1 + 2j


def test_msr_action3d_real_file(msr_pkl):
    d = load_pyskl(msr_pkl, layout="msr_action3d", num_classes=20)  # safe mode is the default
    anns = d["annotations"]
    assert len(anns) == 567
    assert len(get_split(d, "xsub_train")) == 284 and len(get_split(d, "xsub_test")) == 273
    a = anns[0]
    assert a["keypoint"].dtype == np.float32 and a["keypoint"].shape[0] == 1 and a["keypoint"].shape[2:] == (20, 3)
    for k in ("subject", "repetition", "in_cvpr12_list", "keypoint_score"):
        assert k in a
    assert isinstance(d["meta"], dict) and len(d["meta"]["classes"]) == 20
    assert sum(class_counts(anns).values()) == 567 and set(class_counts(anns)) == set(range(20))
