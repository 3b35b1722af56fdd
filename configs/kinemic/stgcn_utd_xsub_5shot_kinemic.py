# 5-shot UTD-MHAD + KineMIC: the real 5-shot arm's exact shots (the same PoseDataset few-shot draw, wrapped),
# plus synthetic samples from per-class adapted generators. Classifier, optimizer steps, pipeline and evaluation
# are those of configs/stgcn/stgcn_utd_xsub_5shot.py. Variants (ablations) by
# --cfg-options train_dataloader.dataset.augmenter.variant=finetune|nocontrastive|noweight|zeroshot.
_base_ = ['../stgcn/stgcn_utd_xsub_5shot.py', '../_base_/kinemic/utd_default.py']
custom_imports = dict(imports=['har.mm', 'kinemic_aug.integrations.mmengine'], allow_failed_imports=False)
train_dataloader = dict(dataset=dict(_delete_=True, type='KineMICAugmentedDataset',
                                     dataset={{_base_.train_dataloader.dataset}}, augmenter={{_base_.kinemic}},
                                     real_repeat={{_base_.kinemic_real_repeat}}))
