# 5-shot MSR Action3D with classic augmentation (rotation, scale, shear, jitter, temporal crop).
_base_ = ['./stgcn_msr_xsub_5shot.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.classic_train_pipeline}}))
