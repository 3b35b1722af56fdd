# 1-shot UTD-MHAD + classic augmentation + KineMIC: the real+classic arm's exact shots and pipeline (rotation,
# scale, shear, jitter, temporal crop applied to real AND synthetic samples), with the training set wrapped in
# KineMICAugmentedDataset. Everything else as configs/stgcn/stgcn_utd_xsub_1shot_classic.py.
_base_ = ['../stgcn/stgcn_utd_xsub_1shot_classic.py', '../_base_/kinemic/utd_default.py']
custom_imports = dict(imports=['har.mm', 'kinemic_aug.integrations.mmengine'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(_delete_=True, type='KineMICAugmentedDataset',
                                     dataset={{_base_.train_dataloader.dataset}}, augmenter={{_base_.kinemic}},
                                     real_repeat={{_base_.kinemic_real_repeat}}))
