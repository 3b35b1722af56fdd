# The README quickstart's MMEngine config: a small ST-GCN trained on real shots + KineMIC samples, on a TOY set.
# The toy set (work_dirs/quickstart/toy_seed.pkl, written by the quickstart) is 3 classes cut from the shipped
# seed clips, which the shipped generalist was trained on: this config shows the wiring and measures nothing.
# For your own data copy it and change ann_file, layout, num_classes, labels and the budgets (docs/usage.md).
_base_ = ['../stgcn/stgcn_msr_xsub_full.py']
custom_imports = dict(imports=['har.mm', 'kinemic_aug.integrations.mmengine'], allow_failed_imports=False)

work = 'work_dirs/quickstart'
layout = 'smpl22'          # the seed clips' skeleton (22 SMPL joints), 20 fps
num_classes = 3
model = dict(backbone=dict(graph_cfg=dict(layout=layout)), cls_head=dict(num_classes=num_classes))
train_dataloader = dict(
    batch_size=8,
    dataset=dict(
        _delete_=True, type='KineMICAugmentedDataset',
        # the wrapped dataset's samples are the shots (here the whole 'train' split: 2 per class)
        dataset=dict(type='PoseDataset', ann_file=work + '/toy_seed.pkl', split='train', layout=layout,
                     num_classes=num_classes, pipeline={{_base_.train_pipeline}}),
        # KineMICAugmenter's arguments, with budgets sized for a quick CPU run (docs/usage.md has the defaults)
        augmenter=dict(labels=work + '/toy_labels.json', fps=20, synthetic_per_class=4, seed=0,
                       adapt=dict(mode='joint', steps=20), synthesis=dict(steps=10),
                       cache_dir=work + '/cache'),
        report_dir=work + '/train'))
max_iters = 40
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters + 1)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0, by_epoch=False, begin=0, end=max_iters)]
default_hooks = dict(logger=dict(interval=10))
log_level = 'WARNING'  # the quickstart prints its own summary; 'INFO' shows the config and the loss
# no evaluation: the toy set has no test split worth reading
val_dataloader = None
val_cfg = None
val_evaluator = None
test_dataloader = None
test_cfg = None
test_evaluator = None
work_dir = work + '/train'
