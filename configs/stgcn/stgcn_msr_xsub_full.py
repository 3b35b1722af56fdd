# ST-GCN (small CPU preset) on MSR Action3D cross-subject, all 284 training sequences, joints only.
# Recipe: 600 SGD steps of batch 16 (~34 epochs), lr 0.05 Nesterov, 40-step warm-up + cosine, wd 5e-4,
# clip_len 32, 10-clip test averaging; validation on xsub_test every 200 steps is for reporting only
# (the headline figure is the last validation).
_base_ = ['../_base_/models/stgcn_small.py', '../_base_/datasets/msr_action3d_xsub.py',
          '../_base_/schedules/sgd_cosine_iter.py', '../_base_/default_runtime.py']
model = dict(backbone=dict(graph_cfg=dict(layout='msr_action3d', mode='stgcn_spatial'), num_person=1),
             cls_head=dict(num_classes=20))
