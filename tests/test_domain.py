import numpy as np
import pytest

from kinemic_aug.generator.dataset_space import TargetDomain
from kinemic_aug.errors import DataError


def test_msr_shot_to_generator_and_back(msr_pkl):
    import pickle

    with open(msr_pkl, "rb") as f:
        ann = pickle.load(f)["annotations"][5]
    dom = TargetDomain("msr_action3d", 15.0)
    j = dom.to_generator(ann["keypoint"], sample=ann["frame_dir"])
    t = ann["keypoint"].shape[1]
    assert j.shape[1:] == (22, 3)
    assert abs((len(j) - 1) / 20.0 - (t - 1) / 15.0) <= 1 / 20.0  # duration kept
    assert abs(j[..., 1].min()) < 1e-6  # floor at y = 0
    back = dom.from_generator(j, reference=ann["keypoint"])
    assert back.shape == (1, t, 20, 3) or abs(back.shape[1] - t) <= 1
    # placed like the reference: frame-0 root where the reference's is, floor at the reference's floor
    root = 6
    np.testing.assert_allclose(back[0, 0, root, [0, 2]], ann["keypoint"][0, 0, root, [0, 2]], atol=1e-4)
    assert abs(back[0, ..., 1].min() - ann["keypoint"][0, ..., 1].min()) < 1e-4


def test_domain_errors_name_the_field():
    dom = TargetDomain("msr_action3d", 15.0)
    with pytest.raises(DataError, match="'keypoint'.*20 joints"):
        dom.to_generator(np.ones((1, 10, 25, 3), np.float32))
    with pytest.raises(DataError, match="NaN"):
        dom.to_generator(np.full((1, 10, 20, 3), np.nan, np.float32))
    with pytest.raises(DataError, match="SMPL-22"):
        dom.from_generator(np.zeros((10, 20, 3)))
    with pytest.raises(DataError, match="fps"):
        TargetDomain("msr_action3d", 0)
