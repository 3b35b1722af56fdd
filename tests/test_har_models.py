"""ST-GCN / ST-GCN++ backbones, head and recognizer: shapes, layouts, persons, modes."""
from __future__ import annotations

import pytest
import torch
from mmengine.structures import BaseDataElement

from har.models import GCNHead, GraphConv, MultiScaleTemporalConv, RecognizerGCN, STGCN, STGCNPP
from har.registry import MODELS
from kinemic_aug.skeleton import get_layout

TINY = dict(base_channels=8, num_stages=3, inflate_stages=[2], down_stages=[2, 3])


@pytest.mark.parametrize("layout,num_person", [("msr_action3d", 1), ("msr_action3d", 2), ("nturgb+d", 2),
                                               ("coco", 1), ("smpl22", 2)])
def test_stgcn_output_shape(layout, num_person):
    torch.manual_seed(0)
    v = get_layout(layout).num_joints
    net = STGCN(dict(layout=layout, mode="stgcn_spatial"), num_person=num_person, **TINY)
    x = torch.randn(2, num_person, 16, v, 3)
    y = net(x)
    assert y.shape == (2, num_person, 16, 4, v)
    assert torch.isfinite(y).all()


def test_stgcnpp_switches_and_shape():
    net = STGCNPP(dict(layout="msr_action3d"), num_person=1, **TINY)
    assert net.graph.mode == "spatial"
    gcn = net.gcn[0].gcn
    assert isinstance(gcn.A, torch.nn.Parameter) and gcn.with_res
    assert isinstance(net.gcn[0].tcn, MultiScaleTemporalConv)
    y = net(torch.randn(3, 1, 12, 20, 3))
    assert y.shape == (3, 1, 16, 3, 20)


def test_published_size_channels_and_params():
    net = STGCN(dict(layout="nturgb+d", mode="stgcn_spatial"))
    assert net.out_channels == 256 and len(net.gcn) == 10
    n_params = sum(p.numel() for p in net.parameters())
    assert 2.8e6 < n_params < 3.4e6  # about 3.1 M (published ST-GCN)
    with torch.no_grad():
        y = net.eval()(torch.randn(1, 2, 8, 25, 3))
    assert y.shape == (1, 2, 256, 2, 25)


def test_graph_conv_matches_explicit_sum():
    torch.manual_seed(0)
    A = torch.rand(3, 5, 5)
    gc = GraphConv(4, 6, A, adaptive=None).eval()
    x = torch.randn(2, 4, 7, 5)
    w = gc.conv(x).view(2, 3, 6, 7, 5)
    expect = sum(w[:, k] @ A[k] for k in range(3))  # x[..., v] A[v, w]
    expect = torch.relu(gc.bn(expect))
    torch.testing.assert_close(gc(x), expect, rtol=1e-5, atol=1e-5)


def test_data_bn_mvc_needs_matching_persons():
    net = STGCN(dict(layout="msr_action3d"), num_person=2, data_bn_type="MVC", **TINY)
    assert net(torch.randn(2, 2, 8, 20, 3)).shape[1] == 2
    with pytest.raises(ValueError):
        net(torch.randn(2, 1, 8, 20, 3))
    with pytest.raises(ValueError):
        net(torch.randn(2, 2, 8, 25, 3))


def test_head_pools_and_classifies():
    head = GCNHead(num_classes=7, in_channels=16, dropout=0.5)
    x = torch.randn(4, 2, 16, 5, 20)
    assert head(x).shape == (4, 7)
    torch.testing.assert_close(head.pool(x), x.mean(dim=(1, 3, 4)))


def _recognizer(num_person=1, average="prob"):
    return MODELS.build(dict(
        type="RecognizerGCN",
        backbone=dict(type="STGCN", graph_cfg=dict(layout="msr_action3d", mode="stgcn_spatial"),
                      num_person=num_person, **TINY),
        cls_head=dict(type="GCNHead", num_classes=5, in_channels=16),
        test_cfg=dict(average_clips=average)))


def test_recognizer_modes_and_clip_averaging():
    torch.manual_seed(0)
    model = _recognizer(num_person=2)
    assert isinstance(model, RecognizerGCN)
    samples = [BaseDataElement(gt_label=torch.tensor(i % 5)) for i in range(3)]
    batch = dict(inputs=[torch.randn(1, 2, 8, 20, 3) for _ in range(3)], data_samples=samples)
    data = model.data_preprocessor(batch, True)
    assert data["inputs"].shape == (3, 1, 2, 8, 20, 3)
    losses = model(**data, mode="loss")
    assert losses["loss_cls"].ndim == 0 and losses["loss_cls"].requires_grad
    # test: 4 clips per sample, averaged probabilities equal the mean of per-clip softmax
    model.eval()
    x = torch.randn(2, 4, 2, 8, 20, 3)
    logits = model(x, mode="tensor")
    assert logits.shape == (2, 4, 5)
    out = model(x, [BaseDataElement(gt_label=torch.tensor(0)) for _ in range(2)], mode="predict")
    torch.testing.assert_close(out[0].pred_score, logits[0].softmax(-1).mean(0))
    assert out[0].pred_score.sum().item() == pytest.approx(1.0, abs=1e-5)
    model_s = _recognizer(num_person=2, average="score").eval()
    model_s.load_state_dict(model.state_dict())
    out_s = model_s(x, mode="predict")
    torch.testing.assert_close(out_s[1].pred_score, logits[1].mean(0))


def test_recognizer_rejects_mixed_shapes():
    model = _recognizer()
    batch = dict(inputs=[torch.randn(1, 1, 8, 20, 3), torch.randn(1, 1, 6, 20, 3)],
                 data_samples=[BaseDataElement(gt_label=torch.tensor(0))] * 2)
    with pytest.raises(ValueError, match="differ in shape"):
        model.data_preprocessor(batch, True)
