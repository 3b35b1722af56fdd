# PYSKL's published recipe: 16 epochs x RepeatDataset(5) = 80 effective epochs, batch 16 x 8 GPUs,
# SGD 0.1 momentum 0.9 wd 5e-4 Nesterov, cosine to 0 per iteration. Scale lr linearly with the
# total batch (0.1 @ 128); for one GPU with batch 16 use lr 0.0125 (or auto_scale_lr below).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=16, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=True))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=16, eta_min=0.0, by_epoch=True, convert_to_iter_based=True)]
auto_scale_lr = dict(enable=False, base_batch_size=128)
