"""RealBatchNormHook's parts on a real ST-GCN and real MSR shots: only real samples count, only BatchNorm
statistics change, and a subset gives other statistics than the whole set."""
from __future__ import annotations

import copy
from pathlib import Path

import pytest
import torch

from kinemic_aug.integrations.real_bn import real_indices, reestimate_batchnorm

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def parts(msr_pkl):
    from har.training import load_config
    from mmengine.registry import DATASETS, MODELS
    import har.mm  # noqa: F401  (registers the model and the dataset)

    cfg = load_config(REPO / "configs/stgcn/stgcn_msr_xsub_full.py", work_dir="unused", seed=0)
    cfg.model.backbone.update(base_channels=8, num_stages=3, inflate_stages=[2], down_stages=[2, 3])
    cfg.model.cls_head.update(num_classes=20, in_channels=16)
    pipe = [dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
            dict(type="UniformSample", clip_len=16, num_clips=1, test_mode=True),
            dict(type="PoseDecode"), dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    ds = DATASETS.build(dict(type="PoseDataset", ann_file=str(msr_pkl), layout="msr_action3d", num_classes=20,
                             split="xsub_train", few_shot=dict(shots=2, seed=0, classes=[0, 4, 14]), pipeline=pipe,
                             serialize_data=False))  # a data list the test can flag
    ds.full_init()
    assert len(ds) == 6
    torch.manual_seed(0)
    return MODELS.build(cfg.model), ds


def _bn_state(model):
    return {k: v.clone() for k, v in model.state_dict().items() if "running" in k}


def test_real_indices_skip_synthetic_and_retrieved_samples(parts):
    _, ds = parts
    ds = copy.copy(ds)
    ds.data_list = [dict(a) for a in ds.data_list]
    ds.data_list[0]["is_synthetic"] = True
    ds.data_list[1]["retrieved"] = True
    assert real_indices(ds) == list(range(2, len(ds.data_list)))
    with pytest.raises(TypeError, match="get_data_info"):
        real_indices(object())


def test_only_batchnorm_statistics_change_and_they_follow_the_samples(parts):
    model, ds = parts
    model = copy.deepcopy(model).eval()
    weights = {k: v.clone() for k, v in model.state_dict().items() if "running" not in k and "num_batches" not in k}
    before = _bn_state(model)
    n = reestimate_batchnorm(model, ds, list(range(len(ds))), passes=1, batch_size=4)
    assert n > 0 and not model.training  # the mode it had is restored
    after_all = _bn_state(model)
    assert any(not torch.equal(before[k], after_all[k]) for k in before)
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in weights.items())  # weights untouched
    assert all(m.momentum == 0.1 for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))
    reestimate_batchnorm(model, ds, [0, 1], passes=1, batch_size=4)  # two samples: other statistics
    assert any(not torch.allclose(after_all[k], v) for k, v in _bn_state(model).items() if "mean" in k)
    with pytest.raises(ValueError, match="no real samples"):
        reestimate_batchnorm(model, ds, [])
