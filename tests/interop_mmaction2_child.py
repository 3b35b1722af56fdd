"""Child process of tests/test_interop_mmaction2.py: mmaction2 1.2.0 on an augmented pickle.

Run with mmaction2's install folder first on PYTHONPATH (it is never in the project venv). Argument:
one JSON object with ``config`` (a config file, docs/mmaction2.md's), ``work_dir``, ``epochs`` and
``scores_pkl`` (the same augmentation with ``keypoint_score`` kept). Prints one JSON line.

Only the run's size is changed for a CPU test (small backbone, one batch holding every training
sample, one process); the data, the pipelines and the dataset class are the config's.
"""
from __future__ import annotations

import json
import math
import sys
import time
import types


def _stub(name: str, **attrs) -> None:
    m = types.ModuleType(name)
    m.__path__ = []
    m.__dict__.update(attrs)
    sys.modules[name] = m


def main() -> None:
    args = json.loads(sys.argv[1])
    import torch

    torch.set_num_threads(1)
    # the mmaction2 1.2.0 wheel lacks localizers.drn (open-mmlab/mmaction2#2714); multimodal needs timm
    _stub("mmaction.models.localizers.drn")
    _stub("mmaction.models.localizers.drn.drn", DRN=object)
    _stub("mmaction.models.multimodal")
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.hooks import Hook
    from mmengine.runner import Runner

    from mmaction.registry import DATASETS, MODELS
    from mmaction.utils import register_all_modules

    register_all_modules(init_default_scope=True)
    cfg = Config.fromfile(args["config"])
    small = dict(base_channels=16, num_stages=4, inflate_stages=[3], down_stages=[3])
    cfg.model.backbone.update(small)
    cfg.model.cls_head.in_channels = 32
    cfg.train_dataloader.update(batch_size=64, num_workers=0, persistent_workers=False)
    cfg.train_dataloader.dataset.times = 1
    for name in ("val_dataloader", "test_dataloader"):
        cfg[name].update(batch_size=16, num_workers=0, persistent_workers=False)
    cfg.test_dataloader.dataset.indices = int(args.get("test_samples", 48))  # the first N of the test split
    cfg.train_cfg = dict(type="EpochBasedTrainLoop", max_epochs=int(args["epochs"]), val_begin=10_000,
                         val_interval=10_000)
    cfg.param_scheduler = [dict(type="CosineAnnealingLR", eta_min=0, T_max=int(args["epochs"]), by_epoch=True,
                                convert_to_iter_based=True)]
    cfg.default_hooks.logger.interval = 1
    cfg.work_dir = args["work_dir"]
    cfg.log_level = "WARNING"

    record = {"losses": [], "batch_sizes": [], "input_shapes": []}

    class Record(Hook):
        def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None):
            record["losses"].append(float(outputs["loss"]))
            record["batch_sizes"].append(len(data_batch["inputs"]))
            record["input_shapes"].append(sorted({tuple(x.shape) for x in data_batch["inputs"]}))

    runner = Runner.from_cfg(cfg)
    runner.register_hook(Record())
    train_set = runner.train_dataloader.dataset.dataset  # RepeatDataset -> PoseDataset
    flags = [bool(train_set.get_data_info(i).get("is_synthetic")) for i in range(len(train_set))]
    t0 = time.time()
    runner.train()
    t1 = time.time()
    metrics = runner.test()
    seconds = {"train": round(t1 - t0, 1), "test": round(time.time() - t1, 1)}

    # the scores as a 4th channel (FormatGCNInput appends keypoint_score): the base pipeline without
    # GenSkeFeat, on the pickle that kept the scores
    pipe = [p for p in cfg.train_dataloader.dataset.dataset.pipeline if p["type"] != "GenSkeFeat"]
    ds = DATASETS.build(dict(type="PoseDataset", ann_file=args["scores_pkl"], pipeline=pipe,
                             split=cfg.train_dataloader.dataset.dataset.split))
    items = [ds[i] for i in range(len(ds))]
    syn = [bool(ds.get_data_info(i).get("is_synthetic")) for i in range(len(ds))]
    shapes = {"real": sorted({tuple(x["inputs"].shape) for x, s in zip(items, syn) if not s}),
              "synthetic": sorted({tuple(x["inputs"].shape) for x, s in zip(items, syn) if s})}
    model_cfg = cfg.model.copy()
    model_cfg.backbone = dict(model_cfg.backbone, in_channels=4)
    model = MODELS.build(model_cfg)
    model.train()
    losses4 = {}
    for name, idx in (("all_synthetic", [i for i, s in enumerate(syn) if s][:8]),
                      ("mixed", list(range(len(items)))[:16])):
        data = model.data_preprocessor(pseudo_collate([items[i] for i in idx]), training=True)
        losses4[name] = float(sum(v for k, v in model(**data, mode="loss").items() if "loss" in k))
    # what the NTU pipeline does with a 3-D sample that has scores (why --drop-fields keypoint_score)
    genske = None
    try:
        DATASETS.build(dict(type="PoseDataset", ann_file=args["scores_pkl"],
                            pipeline=cfg.train_dataloader.dataset.dataset.pipeline,
                            split=cfg.train_dataloader.dataset.dataset.split))[0]
    except AssertionError as e:
        genske = f"AssertionError: {e}"
    print(json.dumps({"train": record, "num_real": flags.count(False), "num_synthetic": flags.count(True),
                      "test": {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in metrics.items()},
                      "num_test": len(runner.test_dataloader.dataset), "score_shapes": shapes, "losses4": losses4,
                      "genskefeat_with_scores": genske,
                      "seconds": seconds}))


if __name__ == "__main__":
    main()
