"""Validation splits carved from training subjects."""
import pytest

from kinemic_aug.data.splits import with_validation_split
from kinemic_aug.errors import DataError


def _data():
    anns = [{"frame_dir": f"s{s}_{i}", "subject": s, "label": i % 2} for s in (1, 2, 3, 4) for i in range(3)]
    return {"split": {"train": [a["frame_dir"] for a in anns if a["subject"] in (1, 3)],
                      "test": [a["frame_dir"] for a in anns if a["subject"] in (2, 4)]}, "annotations": anns}


def test_validation_split_holds_out_training_subjects_only():
    data = _data()
    out = with_validation_split(data, "train", [3])
    assert out["split"]["train_val"] == ["s3_0", "s3_1", "s3_2"]
    assert out["split"]["train_val_pool"] == ["s1_0", "s1_1", "s1_2"]
    assert out["split"]["test"] == data["split"]["test"] and "train_val" not in data["split"]
    assert not set(out["split"]["train_val"]) & set(out["split"]["test"])


def test_bad_holdouts_are_refused():
    with pytest.raises(DataError, match="not in split"):
        with_validation_split(_data(), "train", [2])
    with pytest.raises(DataError, match="empty split"):
        with_validation_split(_data(), "train", [1, 3])
    with pytest.raises(DataError, match="no split"):
        with_validation_split(_data(), "val", [1])
