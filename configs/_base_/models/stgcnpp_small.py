# CPU-sized ST-GCN++ (same switches as the published one, 6 blocks, widths 32/64/128).
_base_ = ['./stgcnpp.py']
model = dict(backbone=dict(base_channels=32, num_stages=6, inflate_stages=[3, 5], down_stages=[3, 5], num_person=1),
             cls_head=dict(in_channels=128))
