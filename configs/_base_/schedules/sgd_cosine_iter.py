# Iteration-based schedule: few-shot sets have 20-200 samples, so "epochs" say little about how much a
# model was trained; the budget is counted in optimizer steps instead.
# SGD + Nesterov as in PYSKL, lr scaled from 0.1 @ batch 128 to batch 16 and raised for the small model,
# linear warm-up then cosine decay to 0 (per iteration).
max_iters = 600
val_interval = 200
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=val_interval)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=5e-4, nesterov=True))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=40),
    dict(type='CosineAnnealingLR', T_max=max_iters, eta_min=0.0, by_epoch=False, begin=0, end=max_iters),
]
