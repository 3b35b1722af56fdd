"""The denoiser's fast paths: packed forward == padded forward, fast dropout, length groups, shipped weights."""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from kinemic_aug.errors import DataError
from kinemic_aug.generator import DenoiserConfig, MotionDenoiser, denoiser_to_mdm_keys, load_generator
from kinemic_aug.generator.models.layers import fast_dropout
from kinemic_aug.generator.length_groups import CPU_COST, GroupCost, length_groups

REPO = Path(__file__).resolve().parents[1]
D, W, TD = 12, 32, 16


def model(**kw) -> MotionDenoiser:
    torch.manual_seed(0)
    cfg = dict(input_dim=D, width=W, layers=2, heads=4, ff_dim=64, text_dim=TD, num_actions=3)
    cfg.update(kw)
    return MotionDenoiser(DenoiserConfig(**cfg))


def batch(lengths, frames=None, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.tensor(lengths)
    t_max = frames or int(lengths.max())
    mask = torch.arange(t_max)[None] < lengths[:, None]
    b = len(lengths)
    return (torch.randn(b, t_max, D, generator=g), torch.randint(0, 50, (b,), generator=g),
            torch.randn(b, TD, generator=g), mask)


GROUPINGS = [[(0, 6)], [(0, 2), (2, 5), (5, 6)], [(i, i + 1) for i in range(6)]]


@pytest.mark.parametrize("groups", GROUPINGS, ids=["one", "three", "per-clip"])
def test_packed_forward_equals_padded_forward(groups):
    m = model().eval()
    x, t, te, mask = batch([1, 4, 7, 7, 12, 20], frames=23)  # frames past the longest clip too
    act = torch.tensor([0, -1, 2, 1, 0, 2])
    ref, ref_h = m(x, t, text_emb=te, action=act, mask=mask, return_features=True)
    out, h = m(x, t, text_emb=te, action=act, mask=mask, groups=groups, return_features=True)
    assert out.shape == ref.shape and h.shape == ref_h.shape
    assert torch.allclose(out[mask], ref[mask], atol=1e-5) and torch.allclose(h[mask], ref_h[mask], atol=1e-5)
    assert torch.all(out[~mask] == 0) and torch.all(h[~mask] == 0)
    # a mask with holes (not a prefix) is packed by position too
    holes = mask.clone()
    holes[4, 3] = holes[5, 0] = False
    assert torch.allclose(m(x, t, text_emb=te, mask=holes, groups=groups)[holes],
                          m(x, t, text_emb=te, mask=holes)[holes], atol=1e-5)


def test_packed_gradients_equal_padded_gradients():
    m = model(dropout=0.0, cond_drop_text=0.0, cond_drop_action=0.0).train()
    x, t, te, mask = batch([2, 5, 5, 9, 14, 20], seed=1)

    def grads(groups):
        m.zero_grad()
        out = m(x, t, text_emb=te, mask=mask, groups=groups)
        ((out - x) ** 2)[mask].mean().backward()
        return torch.cat([p.grad.reshape(-1) for p in m.parameters() if p.grad is not None])

    ref, got = grads(None), grads([(0, 3), (3, 5), (5, 6)])
    assert torch.allclose(got, ref, rtol=1e-4, atol=1e-6 * float(ref.abs().max()))


def test_packed_forward_refuses_bad_groups():
    m = model().eval()
    x, t, te, mask = batch([3, 4, 5, 6, 7, 8])
    for bad in ([], [(0, 3)], [(0, 3), (4, 6)], [(0, 3), (3, 3), (3, 6)], [(0, 7)]):
        with pytest.raises(DataError, match="groups"):
            m(x, t, text_emb=te, mask=mask, groups=bad)
    with pytest.raises(DataError, match="mask"):
        m(x, t, text_emb=te, groups=[(0, 6)])


def test_fast_dropout_keeps_the_rate_scale_and_seed():
    x = torch.ones(2000, 500)
    for p in (0.1, 0.5):
        torch.manual_seed(3)
        y = fast_dropout(x, p)
        dropped = (y == 0).float().mean().item()
        assert abs(dropped - p) < 0.003  # 1e6 draws: sd 3e-4 at p = 0.1
        assert torch.allclose(y[y != 0], torch.full_like(y[y != 0], 1 / (1 - p)))
        assert abs(y.mean().item() - 1.0) < 0.005
        torch.manual_seed(3)
        assert torch.equal(fast_dropout(x, p), y)  # the global torch seed fixes the mask
        assert not torch.equal(fast_dropout(x, p), y)  # and the stream moves on
    assert fast_dropout(x, 0.0) is x and torch.all(fast_dropout(x, 1.0) == 0)
    # neighbouring elements are independent (the mask is four values per 64-bit draw)
    torch.manual_seed(0)
    k = (fast_dropout(torch.ones(1_000_000), 0.5) > 0).float()
    assert abs(torch.corrcoef(torch.stack([k[:-1], k[1:]]))[0, 1].item()) < 0.005


def test_fast_dropout_switch_changes_training_draws_only():
    m = model()
    x, t, te, mask = batch([3, 6, 9, 9, 10, 12])
    m.eval()
    ref = m(x, t, text_emb=te, mask=mask)
    assert torch.equal(m.set_fast_dropout(True)(x, t, text_emb=te, mask=mask), ref)
    m.train()
    outs = {}
    for fast in (False, True):
        m.set_fast_dropout(fast)
        torch.manual_seed(5)
        a = m(x, t, text_emb=te, mask=mask)
        torch.manual_seed(5)
        b = m(x, t, text_emb=te, mask=mask)
        assert torch.equal(a, b)  # seeded either way
        assert not torch.allclose(a[mask], ref[mask], atol=1e-3)  # dropout really runs
        outs[fast] = a
    assert not torch.allclose(outs[False][mask], outs[True][mask], atol=1e-3)  # other draws
    assert set(model().state_dict()) == set(m.state_dict())


def test_length_groups_are_optimal_and_cover_the_batch():
    cost = GroupCost(overhead=50.0, quad=0.01)
    rng = np.random.default_rng(0)
    for _ in range(20):
        lengths = sorted(rng.integers(1, 120, size=int(rng.integers(1, 8))).tolist())
        groups = length_groups(lengths, cost)
        assert groups[0][0] == 0 and groups[-1][1] == len(lengths)
        assert all(a[1] == b[0] for a, b in zip(groups, groups[1:]))

        def total(gs):
            return sum(cost(hi - lo, lengths[hi - 1]) for lo, hi in gs)

        best = min(total(list(zip((0,) + cut, cut + (len(lengths),))))
                   for r in range(len(lengths)) for cut in itertools.combinations(range(1, len(lengths)), r))
        assert total(groups) == pytest.approx(best)
        assert length_groups(lengths, cost) == groups
    assert length_groups([5] * 32, CPU_COST) == [(0, 32)]  # equal lengths: nothing to gain from splitting
    assert length_groups([], CPU_COST) == []
    with pytest.raises(ValueError, match="sorted"):
        length_groups([5, 3], CPU_COST)


def test_shipped_generalist_loads_and_its_outputs_are_the_transformers():
    shipped = REPO / "kinemic_aug" / "assets" / "generator" / "generalist_small.pt"
    if not shipped.exists():
        pytest.skip("no shipped checkpoint")
    bundle = load_generator(shipped)  # strict load: the state-dict keys are unchanged
    m = bundle.model.eval()
    cfg = m.config
    sd = denoiser_to_mdm_keys(m.state_dict())
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(cfg.width, cfg.heads, cfg.ff_dim, 0.1, activation="gelu"),
                                cfg.layers, enable_nested_tensor=False).eval()
    enc.load_state_dict({k[len("seqTransEncoder."):]: v for k, v in sd.items() if k.startswith("seqTransEncoder.")})
    g = torch.Generator().manual_seed(0)
    lengths = torch.tensor([8, 20, 33, 40])
    mask = torch.arange(40)[None] < lengths[:, None]
    x, t = torch.randn(4, 40, cfg.input_dim, generator=g), torch.tensor([0, 10, 50, 99])
    te = torch.nn.functional.normalize(torch.randn(4, cfg.text_dim, generator=g), dim=1)

    def lin(p, z):
        return z @ sd[p + ".weight"].T + sd[p + ".bias"]

    with torch.no_grad():  # MDM's arithmetic with PyTorch's own encoder, written out independently
        pe = m.sequence_pos_encoder.pe[:, 0]
        e = lin("embed_timestep.time_embed.2", torch.nn.functional.silu(lin("embed_timestep.time_embed.0", pe[t])))
        e = e + lin("embed_text", te)
        seq = torch.cat([e[None], lin("input_process.poseEmbedding", x).transpose(0, 1)], 0) + pe[:41, None]
        pad = torch.cat([torch.zeros(4, 1, dtype=torch.bool), ~mask], 1)
        ref = lin("output_process.poseFinal", enc(seq, src_key_padding_mask=pad)[1:]).transpose(0, 1)
        padded = m(x, t, text_emb=te, mask=mask)
        packed = m(x, t, text_emb=te, mask=mask, groups=[(0, 2), (2, 4)])
        fast_flag = m.set_fast_dropout(True)(x, t, text_emb=te, mask=mask)
    m.set_fast_dropout(False)
    assert torch.allclose(padded[mask], ref[mask], atol=1e-4)
    assert torch.allclose(packed[mask], ref[mask], atol=1e-4)
    assert torch.equal(fast_flag, padded)
