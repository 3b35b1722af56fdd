"""Classifier pretraining on a corpus (tools/pretrain_classifier.py, real MMEngine Runner) and the
checked backbone load used for fine-tuning (``model.backbone.pretrained``)."""
from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import fake_kinder_gator
from har.models.stgcn import SMALL_PRESET, STGCN
from har.pretrained import read_backbone, save_backbone
from kinemic_aug.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def _tool():
    spec = importlib.util.spec_from_file_location("pretrain_classifier", REPO / "tools" / "pretrain_classifier.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _backbone(layout="msr_action3d", **kw):
    args = dict(SMALL_PRESET, graph_cfg=dict(layout=layout, mode="stgcn_spatial"), num_person=1)
    args.update(kw)
    return STGCN(**args)


@pytest.fixture(scope="module")
def pretrained_file(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    fake_kinder_gator(root, n=8, t=40)
    out = tmp_path_factory.mktemp("pre") / "backbone.pth"
    meta = _tool().main(["--corpus", f"kinder_gator@{root}", "--layout", "msr_action3d", "--fps", "15",
                         "--out", str(out), "--steps", "4", "--val-every", "4", "--batch-size", "4"])
    return out, meta


def test_tool_writes_a_backbone_with_provenance(pretrained_file):
    out, meta = pretrained_file
    ckpt = read_backbone(out)
    assert ckpt["state_dict"] and all(k.startswith("backbone.") for k in ckpt["state_dict"])
    assert not any("cls_head" in k for k in ckpt["state_dict"])
    m = ckpt["meta"]
    assert m["layout"] == "msr_action3d" and m["num_joints"] == 20 and m["steps"] == 4
    assert m["classes"] == ["kinder_gator:bow", "kinder_gator:jump"]
    assert len(m["sources"][0]["sha256"]) == 64 and m["terms"] and m["heldout_clips"] == 2
    assert json.loads(out.with_suffix(".json").read_text())["corpus_identity"] == m["corpus_identity"]


def test_backbone_loads_exactly_for_its_layout(pretrained_file):
    out, _ = pretrained_file
    net = _backbone(pretrained=str(out))
    state = read_backbone(out)["state_dict"]
    for k, v in net.state_dict().items():
        assert torch.equal(v, state["backbone." + k]), k
    fresh = _backbone()
    assert any(not torch.equal(v, fresh.state_dict()[k]) for k, v in net.state_dict().items())
    net.init_weights()  # MMEngine's weight initialisation must not overwrite the pretrained weights
    assert all(torch.equal(v, state["backbone." + k]) for k, v in net.state_dict().items())


def test_backbone_for_another_layout_or_architecture_is_refused(pretrained_file):
    out, _ = pretrained_file
    with pytest.raises(DataError, match="meta.layout") as e:
        _backbone("utd_mhad", pretrained=str(out))
    assert str(out) in str(e.value)
    with pytest.raises(DataError, match="meta.layout"):
        _backbone("nturgb+d", pretrained=str(out))
    with pytest.raises(DataError, match="meta.arch.base_channels"):
        _backbone(pretrained=str(out), base_channels=16)


def test_corrupt_missing_or_foreign_checkpoints_are_refused(tmp_path, pretrained_file):
    out, _ = pretrained_file
    bad = tmp_path / "bad.pth"
    bad.write_bytes(out.read_bytes()[:1000])
    with pytest.raises(DataError, match="corrupt"):
        _backbone(pretrained=str(bad))
    with pytest.raises(DataError, match="not found"):
        _backbone(pretrained=str(tmp_path / "none.pth"))
    other = tmp_path / "plain.pth"
    torch.save({"state_dict": {"backbone.x": torch.zeros(1)}}, other)
    with pytest.raises(DataError, match="meta.format"):
        _backbone(pretrained=str(other))
    with pytest.raises(ValueError, match="needs 'arch'"):
        save_backbone({"backbone.x": torch.zeros(1)}, tmp_path / "x.pth", {"layout": "msr_action3d", "num_joints": 20})


def test_tool_refuses_unlabelled_or_target_corpora(tmp_path):
    tool = _tool()
    with pytest.raises(DataError, match="benchmark target"):
        tool.main(["--corpus", "msr_action3d", "--layout", "msr_action3d", "--out", str(tmp_path / "x.pth")])
    with pytest.raises(DataError, match="no class"):
        tool.main(["--corpus", "seed", "--layout", "msr_action3d", "--out", str(tmp_path / "x.pth")])


def test_the_fine_tuning_config_option_builds_the_pretrained_model(pretrained_file):
    import har.mm  # noqa: F401
    from har.registry import MODELS
    from har.training import load_config

    out, _ = pretrained_file
    cfg = load_config(REPO / "configs" / "stgcn" / "stgcn_msr_xsub_1shot.py",
                      cfg_options={"model.backbone.pretrained": str(out)})
    model = MODELS.build(cfg.model)
    state = read_backbone(out)["state_dict"]
    assert all(torch.equal(v, state["backbone." + k]) for k, v in model.backbone.state_dict().items())
    cfg = load_config(REPO / "configs" / "stgcn" / "stgcn_msr_xsub_1shot.py",
                      cfg_options={"model.backbone.pretrained": str(out),
                                   "model.backbone.graph_cfg.layout": "nturgb+d"})
    with pytest.raises(DataError, match="meta.layout"):
        MODELS.build(cfg.model)


def test_generator_real_quality_runs_on_a_real_judge(tmp_path, tiny_generator):
    from benchmarks.generator_real_quality import main as quality

    root = tmp_path / "data"
    fake_kinder_gator(root, n=8, t=40)
    out = tmp_path / "judge.pth"
    _tool().main(["--corpus", f"kinder_gator@{root}", "--layout", "smpl22", "--fps", "20", "--out", str(out),
                  "--steps", "4", "--val-every", "4", "--batch-size", "4", "--work-dir", str(tmp_path / "judge")])
    res = quality(["--judge", str(tmp_path / "judge"), "--generators", f"tiny={tiny_generator['path']}",
                   "--per-label", "2", "--steps", "5", "--out-dir", str(tmp_path)])
    row = res["generators"][0]
    assert row["n"] == 2 * res["reference"]["labels_judged"] and 0.0 <= row["recognised"] <= 1.0
    assert np.isfinite(row["fid"]) and row["step"] == 20
    assert (tmp_path / "generator_real_quality.md").read_text().count("| tiny |") == 1


def test_a_layout_file_is_passed_to_the_runner_by_its_path(tmp_path):
    """A user's own Kinect layout, given as a JSON file, reaches the Runner's process (which has not loaded it)."""
    from kinemic_aug.skeleton.layout import get_layout

    root = tmp_path / "data"
    fake_kinder_gator(root, n=8, t=40)
    d = get_layout("msr_action3d").to_dict()
    d["name"] = "my_kinect_v1"
    d.pop("aliases", None)
    lay = tmp_path / "my_kinect_v1.json"
    lay.write_text(json.dumps(d))
    out = tmp_path / "b.pth"
    meta = _tool().main(["--corpus", f"kinder_gator@{root}", "--layout", str(lay), "--fps", "15", "--out", str(out),
                         "--steps", "2", "--val-every", "2", "--batch-size", "4"])
    assert meta["layout"] == "my_kinect_v1" and read_backbone(out)["meta"]["num_joints"] == 20
    cfg = (tmp_path / "b_work" / "pretrain_config.py").read_text()
    assert str(lay.resolve()) in cfg
