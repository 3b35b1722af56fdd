"""benchmarks/bridge_roundtrip: each stage of the round trip through the generator's space, on real MSR shots."""
import pickle

import numpy as np

from benchmarks.bridge_roundtrip import STAGES, stage_functions
from kinemic_aug.generator.checkpoint import load_generator
from kinemic_aug.generator.dataset_space import TargetDomain
from kinemic_aug.skeleton.layout import get_layout


def test_stages_return_placed_sequences_and_the_features_lose_nothing(msr_pkl, tiny_generator):
    with open(msr_pkl, "rb") as f:
        anns = pickle.load(f)["annotations"][:3]
    dom = TargetDomain("msr_action3d", 15)
    fns = stage_functions(dom, load_generator(tiny_generator["path"]).representation)
    assert tuple(fns) == STAGES
    for a in anns:
        kp = a["keypoint"]
        out = {s: fns[s](kp) for s in STAGES}
        np.testing.assert_array_equal(out["shots"], kp[:1])
        for s in STAGES[1:]:
            assert out[s].shape[0] == 1 and out[s].shape[2:] == kp.shape[2:] and np.isfinite(out[s]).all()
        assert out["retarget"].shape[1] == kp.shape[1]            # no resampling yet
        # placed like the shot: frame 0's root where the shot's is
        root = get_layout("msr_action3d").root
        np.testing.assert_allclose(out["retarget"][0, 0, root, [0, 2]], kp[0, 0, root, [0, 2]], atol=1e-4)
        # encoding to the generator's features and back is exact: the stage equals the one before it
        np.testing.assert_allclose(out["features"], out["resample"], atol=1e-4)
        # the retargeted body is not the raw one: the stages measure something
        assert np.abs(out["retarget"][0] - kp[0]).max() > 1e-3
