# CPU-sized ST-GCN: 6 blocks, widths 32/32/64/64/128/128, T/4 output (about 0.5 M parameters on 20 joints).
# The layout is a placeholder: experiment configs set graph_cfg.layout to their dataset's layout.
model = dict(
    type='RecognizerGCN',
    backbone=dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'), in_channels=3,
                  base_channels=32, num_stages=6, inflate_stages=[3, 5], down_stages=[3, 5], ch_ratio=2,
                  num_person=1, data_bn_type='VC', gcn_adaptive='importance', tcn_dropout=0.0),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=128, dropout=0.0),
    data_preprocessor=dict(type='GCNDataPreprocessor'),
    test_cfg=dict(average_clips='prob'))
