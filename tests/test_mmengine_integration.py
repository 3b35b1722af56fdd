"""The MMEngine config with KineMICAugmentedDataset trains through the real Runner."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def test_kinemic_augmented_dataset_trains_through_the_runner(msr_pkl, tiny_generator, tmp_path):
    from mmengine.runner import Runner

    from har.training import load_config, history_summary
    import kinemic_aug.integrations.mmengine  # noqa: F401  (registers KineMICAugmentedDataset)

    cfg = load_config(REPO / "configs/stgcn/stgcn_msr_xsub_full.py", work_dir=str(tmp_path / "work"), seed=0)
    pipe = lambda test: [  # noqa: E731
        dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
        dict(type="UniformSample", clip_len=16, num_clips=1, test_mode=test),
        dict(type="PoseDecode"), dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    inner = dict(type="PoseDataset", ann_file=str(msr_pkl), layout="msr_action3d", num_classes=20,
                 split="xsub_train", few_shot=dict(shots=1, seed=0, classes=[0, 4, 14]), pipeline=pipe(False))
    aug = dict(labels="msr_action3d", synthetic_per_class=3, generator=str(tiny_generator["path"]),
               corpus=tiny_generator["corpus"], cache_dir=str(tmp_path / "cache"),
               adapt=dict(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2),
               synthesis=dict(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9))
    cfg.train_dataloader = dict(batch_size=4, num_workers=0, sampler=dict(type="DefaultSampler", shuffle=True),
                                dataset=dict(type="KineMICAugmentedDataset", dataset=inner, augmenter=aug))
    test_ids = dict(type="PoseDataset", ann_file=str(msr_pkl), layout="msr_action3d", num_classes=20,
                    split="xsub_test", pipeline=pipe(True), test_mode=True)
    cfg.val_dataloader = dict(batch_size=16, num_workers=0, sampler=dict(type="DefaultSampler", shuffle=False),
                              dataset=test_ids)
    cfg.test_dataloader = copy.deepcopy(cfg.val_dataloader)
    cfg.model.backbone.update(base_channels=8, num_stages=3, inflate_stages=[2], down_stages=[2, 3])
    cfg.model.cls_head.update(num_classes=20, in_channels=16)
    cfg.train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=2, val_interval=2)
    cfg.param_scheduler = None
    cfg.optim_wrapper = dict(optimizer=dict(type="SGD", lr=0.05, momentum=0.9))
    cfg.default_hooks.checkpoint = dict(type="CheckpointHook", interval=-1)
    cfg.custom_hooks = list(cfg.get("custom_hooks", [])) + [dict(type="RealBatchNormHook", passes=1)]
    runner = Runner.from_cfg(cfg)
    ds = runner.train_dataloader.dataset
    assert type(ds).__name__ == "KineMICAugmentedDataset"
    assert ds.metainfo["num_real"] == 3 and ds.metainfo["num_synthetic"] == 9
    flags = [ds.get_data_info(i)["is_synthetic"] for i in range(len(ds))]
    assert flags.count(True) == 9 and flags.count(False) == 3
    sample = ds[len(ds) - 1]  # a synthetic sample through the wrapped pipeline
    assert tuple(sample["inputs"].shape[-3:]) == (16, 20, 3)
    runner.train()
    assert runner.iter == 2 * 3  # 12 samples / batch 4 = 3 iterations per epoch
    bn_hook = next(h for h in runner.hooks if type(h).__name__ == "RealBatchNormHook")
    assert bn_hook.done == 3  # ran once, at the last iteration, on the 3 real shots only
    hist = history_summary(tmp_path / "work")
    assert hist is not None and "last" in hist
    # the checkpoint a fine-tune reads with load_from (the kinemic-pretrained arms) loads with weights_only=True:
    # nothing the wrapper puts into the run's meta needs arbitrary unpickling
    import torch

    ckpt = Path((tmp_path / "work" / "last_checkpoint").read_text(encoding="utf-8").strip())
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    assert any(k.startswith("backbone.") for k in state["state_dict"])


def test_real_repeat_lists_each_real_shot_k_times_and_maps_back_to_it(tiny_wrapper_parts):
    import kinemic_aug.integrations.mmengine as integ
    from kinemic_aug.errors import DataError

    inner, aug = tiny_wrapper_parts
    ds = integ.KineMICAugmentedDataset(inner, augmenter=aug, real_repeat=3)
    assert len(ds) == 3 * 3 + 6
    assert ds.metainfo["num_real"] == 9 and ds.metainfo["num_real_unique"] == 3 and ds.metainfo["real_repeat"] == 3
    real = [ds.get_data_info(i) for i in range(9)]
    assert [r["frame_dir"] for r in real[3:6]] == [r["frame_dir"] for r in real[:3]]
    assert not any(r["is_synthetic"] for r in real) and all(ds.get_data_info(i)["is_synthetic"] for i in range(9, 15))
    assert ds._get_ori_dataset_idx(7) == ("real", 1) and ds._get_ori_dataset_idx(9) == ("synthetic", 0)
    assert sorted(ds.get_cat_ids(i)[0] for i in range(9)) == [0, 0, 0, 4, 4, 4, 14, 14, 14]
    with pytest.raises(DataError, match="real_repeat"):
        integ.KineMICAugmentedDataset(inner, augmenter=aug, real_repeat=-1)
    # 0: the synthetic samples alone (to pretrain a classifier on them), the same ones as with the shots listed
    only = integ.KineMICAugmentedDataset(inner, augmenter=aug, real_repeat=0)
    assert len(only) == 6 and only.metainfo["num_real"] == 0 and only.metainfo["num_real_unique"] == 3
    assert all(only.get_data_info(i)["is_synthetic"] for i in range(6))
    assert [only.get_data_info(i)["frame_dir"] for i in range(6)] == [ds.get_data_info(i)["frame_dir"] for i in range(9, 15)]
    assert only._get_ori_dataset_idx(0) == ("synthetic", 0)


def test_an_augmenter_with_fixed_seed_keeps_its_seed_under_a_run_seed_and_builds(tiny_wrapper_parts):
    from mmengine.config import Config

    import kinemic_aug.integrations.mmengine as integ
    from har.training import apply_seed

    inner, aug = tiny_wrapper_parts
    cfg = Config(dict(train_dataloader=dict(dataset=dict(type="KineMICAugmentedDataset", dataset=inner,
                                                         augmenter=dict(aug, seed=3, fixed_seed=True)))))
    apply_seed(cfg, 9)  # varies the shots and the training, not the augmenter (its adapters stay cached)
    d = cfg.train_dataloader.dataset
    assert d.augmenter.seed == 3 and d.dataset.few_shot.seed == 9
    ds = integ.KineMICAugmentedDataset(d.dataset.to_dict(), augmenter=d.augmenter.to_dict())
    ds.full_init()
    assert ds.augmenter.seed == 3 and ds.report()["seed"] == 3 and ds.metainfo["num_synthetic"] == 6


def test_synthetic_pipeline_transforms_only_the_synthetic_samples(tiny_wrapper_parts, tmp_path):
    import har.mm  # noqa: F401  (registers the transforms)
    import kinemic_aug.integrations.mmengine as integ

    inner, aug = tiny_wrapper_parts  # the wrapped dataset has an empty pipeline: real samples come back raw
    pipe = [dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
            dict(type="UniformSample", clip_len=8, num_clips=1, test_mode=True), dict(type="PoseDecode"),
            dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    ds = integ.KineMICAugmentedDataset(inner, augmenter=aug, synthetic_pipeline=pipe, report_dir=str(tmp_path))
    real, syn = ds[0], ds[len(ds) - 1]
    assert "inputs" not in real and real["keypoint"].shape == ds.get_data_info(0)["keypoint"].shape
    assert tuple(syn["inputs"].shape[-3:]) == (8, 20, 3)
    report = json.loads((tmp_path / "kinemic_report.json").read_text())
    assert report["synthetic_pipeline"] == [t["type"] for t in pipe]
    plain = integ.KineMICAugmentedDataset(inner, augmenter=aug)
    assert "inputs" not in plain[len(plain) - 1] and plain.report()["synthetic_pipeline"] is None


def test_a_retrieved_run_writes_its_corpus_clips_apart_from_synthetic_samples(tiny_wrapper_parts, tmp_path):
    import har.mm  # noqa: F401  (registers PoseDataset)
    import kinemic_aug.integrations.mmengine as integ
    from kinemic_aug.data.pyskl import load_pyskl

    inner, aug = tiny_wrapper_parts
    ds = integ.KineMICAugmentedDataset(inner, augmenter={**aug, "variant": "retrieved"}, report_dir=str(tmp_path))
    added = [ds.get_data_info(i) for i in range(len(ds)) if ds.get_data_info(i).get("retrieved")]
    assert len(added) == 3 * 2
    real_clips = [a for a in added if not a["is_synthetic"]]
    procedural = [a for a in added if a["is_synthetic"]]
    if real_clips:
        kept = load_pyskl(tmp_path / "retrieved.pkl")
        assert sorted(a["frame_dir"] for a in kept["annotations"]) == sorted(a["frame_dir"] for a in real_clips)
        assert kept["meta"]["synthetic"] is False
    else:
        assert not (tmp_path / "retrieved.pkl").exists()
    if procedural:  # procedural corpus clips stay flagged synthetic and go with the synthetic samples
        syn = load_pyskl(tmp_path / "synthetic.pkl")
        assert {a["frame_dir"] for a in procedural} <= {a["frame_dir"] for a in syn["annotations"]}
    assert real_clips or procedural
