# ST-GCN at the published size (PYSKL / mmaction2): 10 blocks, 64/128/256, graph stgcn_spatial, 2 persons.
model = dict(
    type='RecognizerGCN',
    backbone=dict(type='STGCN', graph_cfg=dict(layout='nturgb+d', mode='stgcn_spatial'), in_channels=3,
                  base_channels=64, num_stages=10, inflate_stages=[5, 8], down_stages=[5, 8], ch_ratio=2,
                  num_person=2, data_bn_type='VC', gcn_adaptive='importance'),
    cls_head=dict(type='GCNHead', num_classes=60, in_channels=256, dropout=0.0),
    data_preprocessor=dict(type='GCNDataPreprocessor'),
    test_cfg=dict(average_clips='prob'))
