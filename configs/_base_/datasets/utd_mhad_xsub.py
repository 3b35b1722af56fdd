# UTD-MHAD, cross-subject (Chen et al. 2015: odd subjects 1/3/5/7 train, even 2/4/6/8 test), 27 classes,
# 20 Kinect-v1 joints in UTD's own order (layout 'utd_mhad'), 30 fps. The pickle is research data kept outside
# the repo: set KINEMIC_UTD_PKL, or keep it at ../shared/data/utd_mhad/ relative to the repository root.
# The same facts drive benchmarks/few_shot.py through kinemic_aug.data.datasets.UTD_MHAD.
ann_file = '{{$KINEMIC_UTD_PKL:../shared/data/utd_mhad/utd_mhad_skeleton.pkl}}'
layout = 'utd_mhad'
num_classes = 27
clip_len = 32          # sequences are 41-125 frames (mean 68) at 30 fps; UniformSample spans the whole sequence
num_person = 1
train_split = 'xsub_train'
test_split = 'xsub_test'

train_pipeline = [
    dict(type='PreNormalize3D'),            # layout-aware: centre hip_center, spine, shoulders of UTD's order
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSample', clip_len=clip_len),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackGCNInputs'),
]
# classic augmentation (rotation, scaling, shear, jitter, temporal crop), applied after normalisation
classic_train_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='RandomRot', theta=0.3),
    dict(type='RandomScale', scale=0.2),
    dict(type='RandomShear', shear=0.3),
    dict(type='RandomGaussianNoise', sigma=0.01),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSample', clip_len=clip_len, p_interval=(0.7, 1.0)),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackGCNInputs'),
]
test_pipeline = [
    dict(type='PreNormalize3D'),
    dict(type='GenSkeFeat', feats=['j']),
    dict(type='UniformSample', clip_len=clip_len, num_clips=10, test_mode=True),
    dict(type='PoseDecode'),
    dict(type='FormatGCNInput', num_person=num_person),
    dict(type='PackGCNInputs'),
]

train_dataloader = dict(
    batch_size=16, num_workers=0, persistent_workers=False,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(type='PoseDataset', ann_file=ann_file, split=train_split, layout=layout, num_classes=num_classes,
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='PoseDataset', ann_file=ann_file, split=test_split, layout=layout, num_classes=num_classes,
                 pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', topk=(1, 5))
test_evaluator = val_evaluator
