"""Consistency filter: a shots-only classifier judges synthetic samples (real model, real test pipeline)."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from kinemic_aug.errors import DataError

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs/stgcn/stgcn_msr_xsub_full.py"


def _biased_checkpoint(path: Path, winner: int) -> Path:
    """The config's ST-GCN with its last layer biased so that it always answers ``winner``."""
    import har.mm  # noqa: F401
    from har.registry import MODELS
    from har.training import load_config

    torch.manual_seed(0)
    model = MODELS.build(load_config(CONFIG).model)
    with torch.no_grad():
        model.cls_head.fc.weight.zero_()
        model.cls_head.fc.bias.zero_()
        model.cls_head.fc.bias[winner] = 10.0
    torch.save({"state_dict": model.state_dict(), "meta": {"iter": 1}}, path)
    return path


def _samples(msr_pkl, labels=(0, 4, 14), per_class=2):
    from kinemic_aug.data.pyskl import get_split, load_pyskl

    anns = get_split(load_pyskl(msr_pkl), "xsub_train")
    out = []
    for c in labels:
        out += [dict(a, frame_dir=f"synthetic_test_{a['frame_dir']}") for a in anns if a["label"] == c][:per_class]
    return out


def test_filter_keeps_exactly_what_the_judge_assigns_to_the_samples_own_class(msr_pkl, tmp_path):
    from kinemic_aug.integrations.consistency import ConsistencyFilter

    ckpt = _biased_checkpoint(tmp_path / "judge.pth", winner=4)
    samples = _samples(msr_pkl)
    flt = ConsistencyFilter(CONFIG, ckpt, layout="msr_action3d")
    probs = flt.probabilities(samples)
    assert probs.shape == (6, 20) and np.allclose(probs.sum(1), 1, atol=1e-5)
    keep = flt.keep_mask(samples)
    assert keep.tolist() == [s["label"] == 4 for s in samples]
    # a work dir with MMEngine's last_checkpoint file resolves to its checkpoint
    (tmp_path / "last_checkpoint").write_text(str(ckpt))
    assert ConsistencyFilter(CONFIG, tmp_path, layout="msr_action3d").keep_mask(samples).tolist() == keep.tolist()
    # min_prob: the biased judge gives class 4 about e^10 / (e^10 + 19) = 0.9991
    assert not ConsistencyFilter(CONFIG, ckpt, min_prob=0.9995, layout="msr_action3d").keep_mask(samples).any()


def test_filter_refuses_bad_checkpoints_and_samples_by_name(msr_pkl, tmp_path):
    from kinemic_aug.integrations.consistency import ConsistencyFilter

    samples = _samples(msr_pkl, labels=(0,), per_class=1)
    with pytest.raises(DataError, match="last_checkpoint"):
        ConsistencyFilter(CONFIG, tmp_path, layout="msr_action3d").keep_mask(samples)
    bad = tmp_path / "corrupt.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(DataError, match="corrupt.pth.*checkpoint|checkpoint.*corrupt.pth"):
        ConsistencyFilter(CONFIG, bad, layout="msr_action3d").keep_mask(samples)
    wrong = tmp_path / "wrong.pth"
    torch.save({"state_dict": {"cls_head.fc.weight": torch.zeros(3, 3)}}, wrong)
    with pytest.raises(DataError, match="does not fit"):
        ConsistencyFilter(CONFIG, wrong, layout="msr_action3d").keep_mask(samples)
    ckpt = _biased_checkpoint(tmp_path / "judge.pth", winner=0)
    flat = [dict(samples[0], keypoint=samples[0]["keypoint"][0])]
    with pytest.raises(DataError, match="field 'keypoint'"):
        ConsistencyFilter(CONFIG, ckpt, layout="msr_action3d").keep_mask(flat)
    with pytest.raises(DataError, match="field 'label'"):
        ConsistencyFilter(CONFIG, ckpt, layout="msr_action3d").keep_mask([dict(samples[0], label=25)])
    with pytest.raises(ValueError, match="min_prob"):
        ConsistencyFilter(CONFIG, ckpt, min_prob=1.0)


def test_wrapper_serves_only_the_judged_consistent_synthetic_samples(tiny_wrapper_parts, tmp_path):
    import json

    import kinemic_aug.integrations.mmengine as integ

    ckpt = _biased_checkpoint(tmp_path / "judge.pth", winner=14)
    inner, aug = tiny_wrapper_parts
    ds = integ.KineMICAugmentedDataset(inner, augmenter=aug, report_dir=str(tmp_path / "report"),
                                       consistency=dict(config=str(CONFIG), checkpoint=str(ckpt)))
    syn = [ds.get_data_info(i) for i in range(len(ds)) if ds.get_data_info(i)["is_synthetic"]]
    assert len(syn) == 2 and all(s["label"] == 14 for s in syn)
    rep = json.loads((tmp_path / "report" / "kinemic_report.json").read_text())
    assert rep["consistency"]["kept"] == 2 and rep["consistency"]["dropped"] == 4
    assert rep["consistency"]["per_class"]["0"] == {"kept": 0, "dropped": 2}
    assert rep["num_synthetic"] == 2
    assert rep["generator_step"] == 20 and len(rep["generator_sha256"]) == 64  # the tiny generator: 20 steps
