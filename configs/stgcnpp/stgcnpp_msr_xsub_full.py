# ST-GCN++ (small CPU preset, graph mode 'spatial') on MSR Action3D cross-subject, all training data.
_base_ = ['../_base_/models/stgcnpp_small.py', '../_base_/datasets/msr_action3d_xsub.py',
          '../_base_/schedules/sgd_cosine_iter.py', '../_base_/default_runtime.py']
model = dict(backbone=dict(graph_cfg=dict(layout='msr_action3d', mode='spatial'), num_person=1),
             cls_head=dict(num_classes=20))
