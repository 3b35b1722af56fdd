"""End to end on a tiny real subset of MSR Action3D: dataset, MMEngine Runner.from_cfg training,
AccMetric, checkpoint save and weights_only reload, tools/test.py."""
from __future__ import annotations

import copy
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
CLASSES = (0, 4, 12, 15)  # high arm wave, forward punch, bend, jogging


@pytest.fixture(scope="module")
def tiny_msr(msr_pkl, tmp_path_factory) -> Path:
    """A 4-class subset of the real MSR pickle in a temp dir: 3 train / 2 test sequences per class,
    labels remapped to 0..3 (research data: never written into the repo)."""
    from kinemic_aug.data.pyskl import load_pyskl

    data = load_pyskl(msr_pkl)
    by_id = {a["frame_dir"]: a for a in data["annotations"]}
    split = {}
    for name, per_class in (("xsub_train", 3), ("xsub_test", 2)):
        ids = []
        for c in CLASSES:
            ids += [i for i in data["split"][name] if by_id[i]["label"] == c][:per_class]
        split[name] = ids
    anns = []
    for i in split["xsub_train"] + split["xsub_test"]:
        a = dict(by_id[i])
        a["label"] = CLASSES.index(a["label"])
        anns.append(a)
    out = tmp_path_factory.mktemp("msr") / "msr_tiny.pkl"
    with open(out, "wb") as f:
        pickle.dump(dict(split=split, annotations=anns, meta=dict(data["meta"], classes=[data["meta"]["classes"][c] for c in CLASSES])), f)
    return out


def tiny_cfg(ann_file: Path, work_dir: Path):
    from har.training import load_config

    cfg = load_config(REPO / "configs/stgcn/stgcn_msr_xsub_full.py", work_dir=str(work_dir), seed=0)
    pipe = lambda test: [  # noqa: E731
        dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
        dict(type="UniformSample", clip_len=16, num_clips=2 if test else 1, test_mode=test),
        dict(type="PoseDecode"), dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    ds = dict(type="PoseDataset", ann_file=str(ann_file), layout="msr_action3d", num_classes=4)
    cfg.train_dataloader = dict(
        batch_size=4, num_workers=0, sampler=dict(type="DefaultSampler", shuffle=True),
        dataset=dict(type="RepeatDataset", times=4, dataset=dict(ds, split="xsub_train", pipeline=pipe(False))))
    cfg.val_dataloader = dict(batch_size=8, num_workers=0, sampler=dict(type="DefaultSampler", shuffle=False),
                              dataset=dict(ds, split="xsub_test", pipeline=pipe(True), test_mode=True))
    cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
    cfg.model.backbone.update(base_channels=8, num_stages=3, inflate_stages=[2], down_stages=[2, 3])
    cfg.model.cls_head.update(num_classes=4, in_channels=16)
    cfg.train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=2, val_interval=1)
    cfg.param_scheduler = None
    cfg.optim_wrapper = dict(optimizer=dict(type="SGD", lr=0.05, momentum=0.9, nesterov=True))
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=1, by_epoch=True, max_keep_ckpts=1,
                                        backend_args=dict(backend="atomic_local"))
    cfg.default_hooks.logger.interval = 1
    cfg.log_processor = dict(type="LogProcessor", window_size=1, by_epoch=True)
    return cfg


def _train_loss(model, ann_file) -> float:
    """Cross-entropy on the training sequences with a deterministic 1-clip pipeline.

    Measured with batch statistics (BatchNorm in training mode, on a copy, without gradients): after
    24 steps the BN running averages still lag behind, which would blur a clear drop of the fit.
    """
    from har.datasets import PoseDataset

    ds = PoseDataset(str(ann_file), split="xsub_train", layout="msr_action3d", test_mode=True, pipeline=[
        dict(type="PreNormalize3D"), dict(type="GenSkeFeat"), dict(type="UniformSample", clip_len=16, test_mode=True),
        dict(type="PoseDecode"), dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")])
    items = [ds[i] for i in range(len(ds))]
    x = torch.stack([it["inputs"] for it in items])
    y = torch.stack([it["data_samples"].gt_label for it in items])
    model = copy.deepcopy(model).train()
    with torch.no_grad():
        logits = model(x, mode="tensor")[:, 0]
    return float(torch.nn.functional.cross_entropy(logits, y))


@pytest.fixture(scope="module")
def trained(tiny_msr, tmp_path_factory):
    from mmengine.runner import Runner

    import har.mm  # noqa: F401
    from har.hooks import AccuracyHistoryHook

    work = tmp_path_factory.mktemp("run")
    cfg = tiny_cfg(tiny_msr, work)
    cfg.custom_hooks = [dict(type="AccuracyHistoryHook")]
    runner = Runner.from_cfg(cfg)
    initial = copy.deepcopy(runner.model)
    runner.train()
    hist = next(h for h in runner.hooks if isinstance(h, AccuracyHistoryHook)).summary()
    return dict(runner=runner, initial=initial, work=work, history=hist, cfg=cfg, ann=tiny_msr)


def test_dataset_reads_real_subset_and_sets_layout(tiny_msr):
    from har.datasets import PoseDataset

    ds = PoseDataset(str(tiny_msr), split="xsub_train", layout="kinect_v1")
    assert len(ds) == 12 and ds.class_counts() == {0: 3, 1: 3, 2: 3, 3: 3}
    info = ds.get_data_info(0)
    assert info["layout"] == "msr_action3d" and info["keypoint"].shape[2] == 20
    assert info["is_synthetic"] is False
    from kinemic_aug.errors import DataError

    with pytest.raises(DataError, match="xsub_nope"):
        PoseDataset(str(tiny_msr), split="xsub_nope")


def test_two_epochs_lower_the_training_loss(trained):
    before = _train_loss(trained["initial"], trained["ann"])
    after = _train_loss(trained["runner"].model, trained["ann"])
    assert after < before - 0.1, (before, after)
    hist = trained["history"]["history"]
    assert [h["epoch"] for h in hist] == [1, 2]
    for h in hist:
        assert 0.0 <= h["acc/top1"] <= h["acc/top5"] <= 1.0 and "acc/mean1" in h


def test_checkpoint_reloads_with_weights_only(trained):
    import har.registry  # noqa: F401  (allow-lists MMEngine's HistoryBuffer)

    ckpt = trained["work"] / "epoch_2.pth"
    assert ckpt.exists()
    assert not list(trained["work"].glob(".*.tmp"))  # atomic writes leave no temp files
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    model_sd = trained["runner"].model.state_dict()
    for k, v in state["state_dict"].items():
        torch.testing.assert_close(v, model_sd[k])
    # without the allow-list, torch >= 2.6 refuses the same file (the problem har.registry fixes),
    # while a tensors-only export loads in a bare torch process
    from har.training import export_weights

    out = export_weights(ckpt, trained["work"] / "weights.pth")
    code = ("import torch, sys\n"
            f"try:\n    torch.load({str(ckpt)!r}, weights_only=True)\n    print('loaded')\n"
            "except Exception as e:\n    print('refused', 'Unsupported global' in str(e))\n"
            f"d = torch.load({str(out)!r}, weights_only=True)\nprint(len(d['state_dict']))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.split("\n")
    assert lines[0] == "refused True"
    assert int(lines[1]) == len(state["state_dict"])


def test_restricted_getattr_refuses_other_attributes():
    import pickle

    from mmengine.logging.history_buffer import HistoryBuffer

    from har.registry import _history_buffer_getattr

    assert _history_buffer_getattr(HistoryBuffer, "mean") is HistoryBuffer.mean
    for obj, name in ((HistoryBuffer, "__init__"), (os, "system"), (HistoryBuffer, "update")):
        with pytest.raises(pickle.UnpicklingError):
            _history_buffer_getattr(obj, name)


def test_tools_test_reproduces_last_validation(trained, tmp_path):
    sys.path.insert(0, str(REPO / "tools"))
    try:
        import importlib

        tool = importlib.import_module("test")
        # tools/test.py is named like the stdlib module; make sure we got ours
        assert hasattr(tool, "main") and "checkpoint" in (tool.__doc__ or "")
    finally:
        sys.path.pop(0)
    cfg_path = tmp_path / "tiny.py"
    trained["cfg"].dump(str(cfg_path))
    out = tmp_path / "m.json"
    metrics = tool.main([str(cfg_path), str(trained["work"] / "epoch_2.pth"), "--work-dir", str(tmp_path / "t"),
                         "--json-out", str(out)])
    last = trained["history"]["last"]
    assert metrics["acc/top1"] == pytest.approx(last["acc/top1"])
    assert json.loads(out.read_text())["acc/top1"] == pytest.approx(last["acc/top1"])


def test_last_checkpoint_reads_what_the_runner_names(tmp_path):
    from har.training import last_checkpoint
    from kinemic_aug.errors import DataError

    assert last_checkpoint(tmp_path) is None  # no save yet: "not trained", not an error
    (tmp_path / "last_checkpoint").write_text(str(tmp_path / "iter_7.pth") + "\n")
    assert last_checkpoint(tmp_path) == tmp_path / "iter_7.pth"
    # a relative name is taken against the directory the run was launched from
    (tmp_path / "last_checkpoint").write_text("work_dirs/cell/iter_7.pth")
    assert last_checkpoint(tmp_path, base="/repo") == Path("/repo/work_dirs/cell/iter_7.pth")
    (tmp_path / "last_checkpoint").write_text("  \n")
    with pytest.raises(DataError, match="last_checkpoint is empty") as err:
        last_checkpoint(tmp_path)
    assert str(tmp_path / "last_checkpoint") in str(err.value)
