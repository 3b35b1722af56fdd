# Runtime shared by every har config: registration, hooks, logging, seeding.
# `har.mm` registers the models, datasets, transforms, metric and hooks in MMEngine's root registries.
custom_imports = dict(imports=['har.mm'], allow_failed_imports=False)

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=50, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # atomic_local: checkpoints are written to a temp file and renamed (never half-written)
    checkpoint=dict(type='CheckpointHook', interval=-1, by_epoch=False, save_last=True, max_keep_ckpts=1,
                    backend_args=dict(backend='atomic_local')),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
# every validation result is kept in <work_dir>/acc_history.json (last- and best-epoch reporting)
custom_hooks = [dict(type='AccuracyHistoryHook', key='acc/top1')]

env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='gloo'))
log_processor = dict(type='LogProcessor', window_size=50, by_epoch=False)
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
visualizer = dict(type='Visualizer', vis_backends=[dict(type='LocalVisBackend')])
