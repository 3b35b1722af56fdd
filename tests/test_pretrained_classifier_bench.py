"""benchmarks/pretrained_classifier on any dataset spec: val-stage splits, options that reach the configs,
and a backbone of another layout refused before any training."""
import pickle

import pytest

import benchmarks.pretrained_classifier as pc
from kinemic_aug.data.datasets import get_dataset_spec


@pytest.mark.parametrize("name,held", [("msr_action3d", (9,)), ("utd_mhad", (7,))])
def test_val_stage_options_use_the_specs_own_splits_and_reach_the_config(name, held, tmp_path):
    from har.training import load_config

    spec = get_dataset_spec(name)
    assert tuple(spec.val_holdout) == held
    ann = tmp_path / "x.pkl"
    opts = pc.cell_options(spec, "val", ann, "", 600)
    pool, scored = spec.stage_splits("val")
    cfg = load_config(pc.REPO / pc.config_path(spec, "classic", 3), cfg_options=opts, seed=1)
    assert cfg.train_dataloader.dataset.split == pool and cfg.train_dataloader.dataset.ann_file == str(ann)
    assert cfg.train_dataloader.dataset.few_shot.test_split == scored
    assert cfg.test_dataloader.dataset.split == scored == cfg.val_dataloader.dataset.split
    assert cfg.train_cfg.val_interval == 600
    test = pc.cell_options(spec, "test", ann, "", 600)
    tcfg = load_config(pc.REPO / pc.config_path(spec, "classic", 3), cfg_options=test, seed=1)
    assert tcfg.train_dataloader.dataset.split == spec.train_split  # the configs' own splits: the test split,
    assert tcfg.test_dataloader.dataset.split == spec.test_split    # read once at the end
    assert tcfg.train_cfg.val_interval == 600
    # the pickle the benchmark was given is the one every loader reads
    assert tcfg.train_dataloader.dataset.ann_file == tcfg.test_dataloader.dataset.ann_file == str(ann)


def test_val_pickle_holds_the_specs_validation_subjects_out(tmp_path):
    spec = get_dataset_spec("utd_mhad")
    try:
        pkl = spec.require_pickle()
    except Exception:
        pytest.skip("UTD-MHAD pickle not found (research data, not shipped)")
    out = pc.val_pickle(spec, pkl, tmp_path)
    with open(out, "rb") as f:
        data = pickle.load(f)
    pool, scored = spec.stage_splits("val")
    subj = {a["frame_dir"]: a["subject"] for a in data["annotations"]}
    assert {subj[i] for i in data["split"][scored]} == set(spec.val_holdout)
    assert not {subj[i] for i in data["split"][pool]} & set(spec.val_holdout)
    assert set(data["split"][pool]) | set(data["split"][scored]) == set(data["split"][spec.train_split])
    assert not set(data["split"][scored]) & set(data["split"][spec.test_split])


def test_a_backbone_of_another_layout_is_refused_before_training(tmp_path, monkeypatch):
    import torch

    from har.pretrained import save_backbone

    monkeypatch.setattr(pc, "OUT_JSON", tmp_path / "r.json")
    monkeypatch.setattr(pc, "OUT_MD", tmp_path / "r.md")
    bb = tmp_path / "b.pth"
    save_backbone({"backbone.w": torch.zeros(2)}, bb, {"layout": "msr_action3d", "num_joints": 20, "arch": {}})
    utd = get_dataset_spec("utd_mhad")
    try:
        pkl = utd.require_pickle()
    except Exception:
        pytest.skip("UTD-MHAD pickle not found (research data, not shipped)")
    with pytest.raises(SystemExit, match="layout 'msr_action3d'.*utd_mhad"):
        pc.main(["--dataset", "utd_mhad", "--ann", str(pkl), "--stage", "test", "--backbones", f"x={bb}",
                 "--work", str(tmp_path / "w")])
    assert not (tmp_path / "r.json").exists()


def test_kinemic_arms_pair_with_both_references_and_their_options_reach_the_wrapped_config(tmp_path):
    from har.training import load_config

    assert pc.references(pc.arm_label("classic+kinemic", "k")) == ["real+classic+kinemic", "pre[k]+classic"]
    assert pc.references(pc.arm_label("kinemic")) == ["real"]
    spec = get_dataset_spec("msr_action3d")
    bb = tmp_path / "b.pth"
    opts = pc.cell_options(spec, "val", tmp_path / "x.pkl", str(bb), 600, kinemic=True,
                           aug_options={"generator": "g.pt", "corpus": "mocap+seed"})
    cfg = load_config(pc.REPO / pc.config_path(spec, "classic+kinemic", 3), cfg_options=opts, seed=0)
    ds = cfg.train_dataloader.dataset
    assert ds.type == "KineMICAugmentedDataset"
    assert ds.dataset.split == spec.val_pool_split and ds.dataset.few_shot.test_split == spec.val_split
    assert ds.augmenter.generator == "g.pt" and ds.augmenter.corpus == "mocap+seed"
    assert cfg.model.backbone.pretrained == str(bb.resolve())
    plain = pc.cell_options(spec, "val", tmp_path / "x.pkl", "", 600, aug_options={"generator": "g.pt"})
    assert not any(k.startswith(pc.AUG) for k in plain)  # augmenter options never reach arms without one


def test_a_backbone_lr_multiplier_reaches_the_optimizer_groups(tmp_path):
    """--lr-mult: MMEngine builds the backbone's parameters at the scaled rate (0 freezes them), the head's not."""
    from mmengine.optim import build_optim_wrapper

    from har.registry import MODELS
    from har.training import load_config

    spec = get_dataset_spec("msr_action3d")
    opts = {"optim_wrapper.paramwise_cfg.custom_keys.backbone.lr_mult": 0.1,
            "optim_wrapper.paramwise_cfg.custom_keys.backbone.decay_mult": 1.0}
    cfg = load_config(pc.REPO / pc.config_path(spec, "classic", 1), cfg_options=opts, seed=0)
    model = MODELS.build(cfg.model)
    ow = build_optim_wrapper(model, cfg.optim_wrapper)
    base = cfg.optim_wrapper.optimizer.lr
    ids = {id(p): n for n, p in model.named_parameters()}
    lrs = {}
    for g in ow.optimizer.param_groups:
        for p in g["params"]:
            lrs[ids[id(p)].split(".")[0]] = g["lr"]
    assert abs(lrs["backbone"] - 0.1 * base) < 1e-12 and abs(lrs["cls_head"] - base) < 1e-12
