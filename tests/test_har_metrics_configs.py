"""AccMetric, the shipped configs, seed handling, optional dependencies and the benchmark result helpers."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from har.metrics import AccMetric, mean_class_accuracy, topk_accuracy

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (REPO / "configs").rglob("*.py") if "_base_" not in p.parts)


def test_accuracy_functions_by_hand():
    scores = np.array([[0.9, 0.05, 0.05],   # label 0: top-1 hit
                       [0.5, 0.3, 0.2],     # label 1: top-1 miss, top-2 hit
                       [0.2, 0.7, 0.1],     # label 1: hit
                       [0.1, 0.6, 0.3]])    # label 2: miss, top-2 hit
    labels = np.array([0, 1, 1, 2])
    assert topk_accuracy(scores, labels, 1) == pytest.approx(0.5)
    assert topk_accuracy(scores, labels, 2) == pytest.approx(1.0)
    # per class: 0 → 1/1, 1 → 1/2, 2 → 0/1
    assert mean_class_accuracy(scores, labels) == pytest.approx((1 + 0.5 + 0) / 3)


def test_acc_metric_on_data_samples():
    m = AccMetric(topk=(1, 2), per_class=True)
    samples = [dict(pred_score=torch.tensor([0.1, 0.9]), gt_label=torch.tensor(1)),
               dict(pred_score=torch.tensor([0.8, 0.2]), gt_label=torch.tensor(1)),
               dict(pred_score=torch.tensor([0.6, 0.4]), gt_label=torch.tensor(0))]
    m.process({}, samples)
    out = m.evaluate(3)
    assert out["acc/top1"] == pytest.approx(2 / 3)
    assert out["acc/top2"] == pytest.approx(1.0)
    assert out["acc/mean1"] == pytest.approx((1.0 + 0.5) / 2)
    assert out["acc/class_1"] == pytest.approx(0.5)


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.stem)
def test_configs_parse_and_build_model_and_pipelines(path):
    from mmengine.config import Config

    from har.registry import MODELS, TRANSFORMS

    cfg = Config.fromfile(str(path))
    assert "har.mm" in cfg.custom_imports["imports"]
    model = MODELS.build(cfg.model)
    ds = cfg.train_dataloader.dataset
    if "kinemic" in path.stem:  # the real arm's dataset, wrapped
        assert ds.type == "KineMICAugmentedDataset"
        assert ds.augmenter.labels == ("utd_mhad" if "utd" in path.stem else "msr_action3d")
        assert "kinemic_aug.integrations.mmengine" in cfg.custom_imports["imports"]
    ds = ds.get("dataset", ds)
    for step in ds.pipeline:
        TRANSFORMS.build(step)
    assert ds.layout == model.backbone.graph.layout.name
    if "msr" in path.stem:
        assert model.cls_head.num_classes == 20 and ds.split == "xsub_train"
        assert cfg.val_dataloader.dataset.split == "xsub_test"
        assert "KINEMIC_MSR_PKL" not in ds.ann_file  # substituted (env var or default)
    if "utd" in path.stem:
        assert model.cls_head.num_classes == 27 and ds.split == "xsub_train" and ds.layout == "utd_mhad"
        assert cfg.val_dataloader.dataset.split == "xsub_test" and "KINEMIC_UTD_PKL" not in ds.ann_file
        assert cfg.train_cfg.val_interval == cfg.train_cfg.max_iters  # the test split is read once
    if "classic" in path.stem:
        assert {"RandomRot", "RandomScale", "RandomShear", "RandomGaussianNoise"} <= {s["type"] for s in ds.pipeline}
    if "shot" in path.stem:
        assert ds.few_shot["shots"] in (1, 3, 5, 10)


def test_apply_seed_drives_shots_and_training():
    from har.training import apply_seed, load_config

    cfg = load_config(REPO / "configs/stgcn/stgcn_msr_xsub_5shot_classic.py", seed=7)
    assert cfg.randomness.seed == 7
    assert cfg.train_dataloader.dataset.few_shot.seed == 7
    cfg.train_dataloader.dataset.few_shot.fixed_seed = True
    cfg.train_dataloader.dataset.few_shot.seed = 3
    apply_seed(cfg, 9)
    assert cfg.randomness.seed == 9 and cfg.train_dataloader.dataset.few_shot.seed == 3


def test_few_shot_dataset_from_dict_and_manifest(msr_pkl, tmp_path):
    from har.datasets import PoseDataset
    from kinemic_aug.data.fewshot import make_few_shot_split
    from kinemic_aug.data.pyskl import load_pyskl

    a = PoseDataset(str(msr_pkl), split="xsub_train", layout="msr_action3d", few_shot=dict(shots=3, seed=1))
    assert len(a) == 60 and set(a.class_counts().values()) == {3}
    ids_a = [a.get_data_info(i)["frame_dir"] for i in range(len(a))]
    b = PoseDataset(str(msr_pkl), split="xsub_train", layout="msr_action3d", few_shot=dict(shots=3, seed=2))
    assert ids_a != [b.get_data_info(i)["frame_dir"] for i in range(len(b))]  # the seed changes the shots
    split = make_few_shot_split(load_pyskl(msr_pkl), "xsub_train", 3, 1)
    man = tmp_path / "fs.json"
    split.save(man)
    c = PoseDataset(str(msr_pkl), split="xsub_train", layout="msr_action3d", few_shot=str(man))
    assert [c.get_data_info(i)["frame_dir"] for i in range(len(c))] == ids_a
    train_subjects = {a.get_data_info(i)["subject"] for i in range(len(a))}
    assert train_subjects <= {1, 3, 5, 7, 9}


def test_pose_dataset_reports_bad_samples(tmp_path):
    """Synthetic (all-zero / random) annotations: a broken sample is named in the error."""
    import pickle

    from har.datasets import PoseDataset
    from kinemic_aug.errors import DataError

    good = dict(frame_dir="synthetic_ok", label=0, keypoint=np.random.rand(1, 8, 20, 3).astype(np.float32),
                total_frames=8)
    bad = dict(frame_dir="synthetic_bad", label=1, keypoint=np.zeros((8, 20, 3), np.float32), total_frames=8)
    path = tmp_path / "bad.pkl"
    path.write_bytes(pickle.dumps(dict(split=dict(train=["synthetic_ok", "synthetic_bad"]), annotations=[good, bad])))
    with pytest.raises(DataError, match="synthetic_bad"):
        PoseDataset(str(path), split="train", layout="msr_action3d")
    path.write_bytes(pickle.dumps(dict(split=dict(train=["synthetic_ok"]), annotations=[good])))
    ds = PoseDataset(str(path), split="train", layout="msr_action3d")
    assert len(ds) == 1
    with pytest.raises(DataError, match="split"):
        PoseDataset(str(path), split="test", layout="msr_action3d")
    with pytest.raises(DataError, match="few_shot"):
        PoseDataset(str(path), layout="msr_action3d", few_shot=dict(shots=1))
    with pytest.raises(DataError, match="ann_file"):
        PoseDataset(str(tmp_path / "missing.pkl"), split="train")


def test_graph_without_torch_geometric_and_no_mmcv(monkeypatch):
    import importlib

    import har.graph

    assert "mmcv" not in sys.modules  # importing har never pulls mmcv in
    monkeypatch.setitem(sys.modules, "torch_geometric", None)  # as if it were not installed
    monkeypatch.delitem(sys.modules, "torch_geometric.utils", raising=False)
    try:
        g = importlib.reload(har.graph)
        assert not g.HAS_PYG
        assert g.Graph("msr_action3d").A.shape == (3, 20, 20)
        assert g.undirected_edge_index([(0, 1), (2, 1)], 3).shape == (2, 4)
    finally:
        monkeypatch.undo()
        importlib.reload(har.graph)


def test_merge_records_keeps_other_rows(tmp_path):
    from benchmarks.common import load_records, merge_records, summary_table

    path = tmp_path / "few_shot.json"
    other = dict(dataset="msr_action3d", split="xsub", arm="mixed", shots=5, seed=0, top1_last=0.7)
    path.write_text(json.dumps([other]))
    rec = dict(dataset="msr_action3d", split="xsub", arm="real", shots=5, seed=0, top1_last=0.5)
    merge_records(path, [rec])
    merge_records(path, [dict(rec, top1_last=0.6), dict(rec, seed=1, top1_last=0.4)])
    rows = load_records(path)
    assert len(rows) == 3 and other in rows
    assert [r["top1_last"] for r in rows if r["arm"] == "real"] == [0.6, 0.4]
    table = summary_table(rows)
    assert "| real | 50.0 ± 14.1 (n=2) |" in table and "| mixed | 70.0 (n=1) |" in table  # one run: no "± 0.0"
    assert not list(tmp_path.glob(".*.tmp"))


def test_format_mean_std_shows_spread_only_when_there_is_one():
    from benchmarks.common import format_mean_std, summary_table

    assert format_mean_std([]) == "–" and format_mean_std([None, float("nan")]) == "–"
    assert format_mean_std([0.319], 100.0) == "31.9 (n=1)"
    assert format_mean_std([0.5, 0.7, None], 100.0) == "60.0 ± 14.1 (n=2)"      # None is skipped, sample std
    assert format_mean_std([400.4], digits=0) == "400 (n=1)"
    rows = [dict(arm="a", shots=5, seed=0, top1_last=0.25), dict(arm="a", shots=5, seed=1, top1_last=0.35)]
    assert "| a | 30.0 |" in summary_table(rows, bare=True)                    # per-seed tables: the value only


def test_apply_seed_reaches_the_kinemic_augmenter_and_the_wrapped_shots():
    from har.training import load_config

    cfg = load_config(REPO / "configs/kinemic/stgcn_msr_xsub_5shot_kinemic.py", seed=4)
    ds = cfg.train_dataloader.dataset
    assert ds.augmenter.seed == 4 and ds.dataset.few_shot.seed == 4 and cfg.randomness.seed == 4
