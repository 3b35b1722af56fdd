# ST-GCN at the published size on NTU RGB+D 120 cross-subject, 3D joints (PYSKL's published recipe):
# 2 persons, clip_len 100, RepeatDataset x5 for 16 epochs, SGD 0.1 (for 8 x 16 = 128 samples per step)
# Nesterov wd 5e-4, cosine; 10-clip test. Published top-1: 82.1 (PYSKL), 82.15 (mmaction2).
# NTU-120 is not redistributable: set NTU120_PKL to your ntu120_3danno.pkl.
_base_ = ['../_base_/models/stgcn.py', '../_base_/schedules/pyskl_80e.py', '../_base_/default_runtime.py']
ann_file = '{{$NTU120_PKL:data/nturgb+d/ntu120_3danno.pkl}}'
layout = 'nturgb+d'
model = dict(backbone=dict(graph_cfg=dict(layout=layout, mode='stgcn_spatial'), num_person=2),
             cls_head=dict(num_classes=120))
train_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSample', clip_len=100),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackGCNInputs'),
]
val_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSample', clip_len=100, num_clips=1, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackGCNInputs'),
]
test_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSample', clip_len=100, num_clips=10, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=2),
    dict(type='PackGCNInputs'),
]
train_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RepeatDataset', times=5,
                 dataset=dict(type='PoseDataset', ann_file=ann_file, split='xsub_train', layout=layout,
                              pipeline=train_pipeline)))
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file=ann_file, split='xsub_val', layout=layout, pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file=ann_file, split='xsub_val', layout=layout, pipeline=test_pipeline,
                 test_mode=True))
val_evaluator = dict(type='AccMetric', topk=(1, 5))
test_evaluator = val_evaluator
# xsub_val is NTU's official test split: report the last checkpoint, never pick the best one on it
default_hooks = dict(checkpoint=dict(interval=1, by_epoch=True, save_best=None))
