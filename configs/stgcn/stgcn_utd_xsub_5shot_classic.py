# 5-shot UTD-MHAD with classic augmentation (rotation, scale, shear, jitter, temporal crop).
_base_ = ['./stgcn_utd_xsub_5shot.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.classic_train_pipeline}}))
