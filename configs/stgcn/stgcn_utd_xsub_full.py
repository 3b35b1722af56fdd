# ST-GCN (small CPU preset) on UTD-MHAD cross-subject, all 431 training sequences, joints only.
# Recipe as configs/stgcn/stgcn_msr_xsub_full.py (600 SGD steps of batch 16, lr 0.05 Nesterov, 40-step warm-up +
# cosine, wd 5e-4, clip_len 32, 10-clip test averaging), except that the test split is read once: validation
# runs only at the last step, so `top1_last` is the only number taken from xsub_test.
_base_ = ['../_base_/models/stgcn_small.py', '../_base_/datasets/utd_mhad_xsub.py',
          '../_base_/schedules/sgd_cosine_iter.py', '../_base_/default_runtime.py']
model = dict(backbone=dict(graph_cfg=dict(layout='utd_mhad', mode='stgcn_spatial'), num_person=1),
             cls_head=dict(num_classes=27))
train_cfg = dict(val_interval={{_base_.max_iters}})
