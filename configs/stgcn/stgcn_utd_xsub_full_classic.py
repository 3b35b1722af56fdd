# As stgcn_utd_xsub_full.py, with classic augmentation: RandomRot(0.3 rad), RandomScale(0.2),
# RandomShear(0.3), RandomGaussianNoise(0.01 x extent), temporal crop UniformSample(p_interval=(0.7, 1)).
_base_ = ['./stgcn_utd_xsub_full.py']
train_dataloader = dict(dataset=dict(pipeline={{_base_.classic_train_pipeline}}))
