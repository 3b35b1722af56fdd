# ST-GCN++ at the published size: learnable graph initialised from 'spatial', residual GCN, multi-scale TCN.
model = dict(
    type='RecognizerGCN',
    backbone=dict(type='STGCNPP', graph_cfg=dict(layout='nturgb+d', mode='spatial'), in_channels=3,
                  base_channels=64, num_stages=10, inflate_stages=[5, 8], down_stages=[5, 8], ch_ratio=2,
                  num_person=2, data_bn_type='VC', gcn_adaptive='init', gcn_with_res=True, tcn_type='mstcn'),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=256, dropout=0.0),
    data_preprocessor=dict(type='GCNDataPreprocessor'),
    test_cfg=dict(average_clips='prob'))
