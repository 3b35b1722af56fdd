"""MotionDenoiser: shapes, frame masks, condition dropout, guidance, MDM import."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from kinemic_aug.errors import DataError
from kinemic_aug.generator import (DenoiserConfig, MotionDenoiser, StateDictMismatchError, classifier_free_guidance,
                                   denoiser_config_from_mdm, denoiser_to_mdm_keys, load_mdm_state_dict,
                                   read_mdm_checkpoint)
from kinemic_aug.errors import CacheError

D, W, L, H, FF, TD, A = 12, 32, 2, 4, 64, 16, 5


def tiny(**kw) -> MotionDenoiser:
    torch.manual_seed(0)
    cfg = dict(input_dim=D, width=W, layers=L, heads=H, ff_dim=FF, text_dim=TD, num_actions=A)
    cfg.update(kw)
    return MotionDenoiser(DenoiserConfig(**cfg))


def test_shapes_and_features():
    m = tiny().eval()
    x, t = torch.randn(3, 9, D), torch.tensor([0, 4, 49])
    out, feats = m(x, t, text_emb=torch.randn(3, TD), action=torch.tensor([0, 4, -1]), return_features=True)
    assert out.shape == (3, 9, D) and feats.shape == (3, 9, W)
    assert torch.allclose(m.output_process(feats), out)
    with pytest.raises(DataError, match="text_emb"):
        m(x, t, text_emb=torch.randn(3, TD + 1))
    with pytest.raises(DataError, match="action"):
        m(x, t, action=torch.tensor([0, 1, A]))


def test_mdm_preset_size():
    m = MotionDenoiser(DenoiserConfig.preset("mdm"))
    # MDM's HumanML3D denoiser (Tevet et al., ICLR 2023): about 17.9 M parameters without CLIP
    assert 17.5e6 < m.num_parameters() < 18.3e6


def test_padding_frames_do_not_change_valid_outputs():
    m = tiny().eval()
    n_valid = 6
    x = torch.randn(2, 10, D)
    mask = torch.zeros(2, 10, dtype=torch.bool)
    mask[:, :n_valid] = True
    t, te = torch.tensor([3, 7]), torch.randn(2, TD)
    a = m(x, t, text_emb=te, mask=mask)
    x2 = x.clone()
    x2[:, n_valid:] = 100 * torch.randn(2, 10 - n_valid, D)
    b = m(x2, t, text_emb=te, mask=mask)
    assert torch.allclose(a[:, :n_valid], b[:, :n_valid], atol=1e-5)
    # and equals running the unpadded clip alone
    c = m(x[:, :n_valid], t, text_emb=te)
    assert torch.allclose(a[:, :n_valid], c, atol=1e-5)
    # without the mask the padding does leak (the test can fail)
    d = m(x2, t, text_emb=te)
    assert not torch.allclose(a[:, :n_valid], d[:, :n_valid], atol=1e-3)


def test_condition_dropout_is_independent_per_term():
    m = tiny(cond_drop_text=0.3, cond_drop_action=0.2)
    g = torch.Generator().manual_seed(1)
    keep_t, keep_a = m.condition_dropout(40000, generator=g)
    dt, da = (~keep_t).float(), (~keep_a).float()
    assert abs(dt.mean().item() - 0.3) < 0.01 and abs(da.mean().item() - 0.2) < 0.01
    assert abs((dt * da).mean().item() - 0.3 * 0.2) < 0.006  # joint = product of marginals
    assert abs(torch.corrcoef(torch.stack([dt, da]))[0, 1].item()) < 0.02


def test_training_drops_text_and_action_as_configured():
    # dropout 0 so the only randomness is condition dropout
    x, t = torch.randn(4, 5, D), torch.tensor([1, 2, 3, 4])
    te, act = torch.randn(4, TD), torch.tensor([0, 1, 2, 3])
    m = tiny(dropout=0.0, cond_drop_text=1.0, cond_drop_action=0.0)
    ref = m.eval()(x, t, text_emb=None, action=act)  # text absent, action present
    assert torch.allclose(m.train()(x, t, text_emb=te, action=act), ref, atol=1e-6)
    m2 = tiny(dropout=0.0, cond_drop_text=0.0, cond_drop_action=1.0)
    ref2 = m2.eval()(x, t, text_emb=te, action=None)
    assert torch.allclose(m2.train()(x, t, text_emb=te, action=act), ref2, atol=1e-6)
    assert not torch.allclose(m2.eval()(x, t, text_emb=te, action=act), ref2, atol=1e-4)


def test_guidance_formula_in_one_forward():
    m = tiny().eval()
    x, t = torch.randn(3, 7, D), torch.tensor([5, 5, 5])
    te, act = torch.randn(3, TD), torch.tensor([1, 2, 3])
    calls = []
    h = m.register_forward_hook(lambda mod, args, out: calls.append(args[0].shape[0]))
    s = 2.5
    guided = classifier_free_guidance(m, x, t, scale=s, text_emb=te, action=act)
    h.remove()
    assert calls == [6]  # cond and uncond batched in a single forward
    cond = m(x, t, text_emb=te, action=act)
    uncond = m(x, t)  # no text, no action
    assert torch.allclose(guided, uncond + s * (cond - uncond), atol=1e-5)
    assert torch.allclose(classifier_free_guidance(m, x, t, scale=1.0, text_emb=te, action=act), cond)


# ----------------------------------------------------------------------------------------- MDM import
def mdm_state_dict(input_dim=D, width=W, layers=L, ff=FF, text_dim=TD, seed=0):
    """A state dict with MDM's names and shapes, written out here independently of the mapping code."""
    g = torch.Generator().manual_seed(seed)

    def r(*shape):
        return torch.randn(*shape, generator=g)

    sd = {
        "input_process.poseEmbedding.weight": r(width, input_dim), "input_process.poseEmbedding.bias": r(width),
        "output_process.poseFinal.weight": r(input_dim, width), "output_process.poseFinal.bias": r(input_dim),
        "embed_timestep.time_embed.0.weight": r(width, width), "embed_timestep.time_embed.0.bias": r(width),
        "embed_timestep.time_embed.2.weight": r(width, width), "embed_timestep.time_embed.2.bias": r(width),
        "embed_text.weight": r(width, text_dim), "embed_text.bias": r(width),
    }
    for i in range(layers):
        p = f"seqTransEncoder.layers.{i}."
        sd.update({p + "self_attn.in_proj_weight": r(3 * width, width), p + "self_attn.in_proj_bias": r(3 * width),
                   p + "self_attn.out_proj.weight": r(width, width), p + "self_attn.out_proj.bias": r(width),
                   p + "linear1.weight": r(ff, width), p + "linear1.bias": r(ff),
                   p + "linear2.weight": r(width, ff), p + "linear2.bias": r(width),
                   p + "norm1.weight": r(width), p + "norm1.bias": r(width),
                   p + "norm2.weight": r(width), p + "norm2.bias": r(width)})
    return sd


def test_mdm_state_dict_loads_and_matches_torch_transformer():
    sd = mdm_state_dict()
    cfg = denoiser_config_from_mdm(sd, heads=H)
    assert (cfg.input_dim, cfg.width, cfg.layers, cfg.ff_dim, cfg.text_dim) == (D, W, L, FF, TD)
    m = MotionDenoiser(cfg).eval()
    load_mdm_state_dict(m, sd)
    a = m.seqTransEncoder.layers[1].self_attn
    w = sd["seqTransEncoder.layers.1.self_attn.in_proj_weight"]
    assert torch.equal(a.q_proj.weight, w[:W]) and torch.equal(a.k_proj.weight, w[W:2 * W])
    assert torch.equal(a.v_proj.weight, w[2 * W:])
    assert torch.equal(m.embed_text.weight, sd["embed_text.weight"])
    # round trip back to MDM names reproduces every tensor
    back = denoiser_to_mdm_keys(m.state_dict())
    for k, v in sd.items():
        assert torch.equal(back[k], v), k

    # The same weights in PyTorch's own TransformerEncoder (what MDM uses) give the same output.
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(W, H, FF, 0.1, activation="gelu"), L,
                                enable_nested_tensor=False).eval()
    enc.load_state_dict({k[len("seqTransEncoder."):]: v for k, v in sd.items() if k.startswith("seqTransEncoder.")})
    x, t, te = torch.randn(2, 6, D), torch.tensor([3, 40]), torch.randn(2, TD)
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False

    def lin(p, z):
        return z @ sd[p + ".weight"].T + sd[p + ".bias"]

    with torch.no_grad():
        pe = m.sequence_pos_encoder.pe[:, 0]
        e = lin("embed_timestep.time_embed.2", torch.nn.functional.silu(lin("embed_timestep.time_embed.0", pe[t])))
        e = e + lin("embed_text", te)
        seq = torch.cat([e[None], lin("input_process.poseEmbedding", x).transpose(0, 1)], 0) + pe[:7, None]
        pad = torch.cat([torch.zeros(2, 1, dtype=torch.bool), ~mask], 1)
        ref = lin("output_process.poseFinal", enc(seq, src_key_padding_mask=pad)[1:]).transpose(0, 1)
        out = m(x, t, text_emb=te, mask=mask)
    assert torch.allclose(out[mask], ref[mask], atol=1e-4)


def test_mdm_mismatch_lists_every_bad_key():
    sd = mdm_state_dict()
    del sd["seqTransEncoder.layers.0.linear2.bias"]
    sd["seqTransEncoder.layers.1.linear1.weight"] = torch.zeros(FF + 1, W)
    sd["seqTransEncoder.layers.0.self_attn.in_proj_weight"] = torch.zeros(3 * (W + 2), W)
    sd["some_extra.weight"] = torch.zeros(3)
    sd["clip_model.token_embedding.weight"] = torch.zeros(3)  # ignored, not an error
    m = MotionDenoiser(DenoiserConfig(input_dim=D, width=W, layers=L, heads=H, ff_dim=FF, text_dim=TD))
    before = {k: v.clone() for k, v in m.state_dict().items()}
    with pytest.raises(StateDictMismatchError) as ei:
        load_mdm_state_dict(m, sd)
    msg = str(ei.value)
    assert "missing:     seqTransEncoder.layers.0.linear2.bias" in msg
    assert "unexpected:  some_extra.weight" in msg
    assert f"seqTransEncoder.layers.1.linear1.weight: checkpoint ({FF + 1}, {W}) vs model ({FF}, {W})" in msg
    assert f"seqTransEncoder.layers.0.self_attn.in_proj_weight: checkpoint ({3 * (W + 2)}, {W}) vs model ({3 * W}, {W})" in msg
    assert "clip_model" not in msg
    assert all(torch.equal(before[k], v) for k, v in m.state_dict().items())  # nothing half-loaded


def test_mdm_checkpoint_file(tmp_path):
    import argparse

    sd = mdm_state_dict()
    p = tmp_path / "model.pt"
    torch.save({"model": sd, "model_avg": {k: v + 1 for k, v in sd.items()}}, p)
    got = read_mdm_checkpoint(p, use_ema=True)
    assert torch.equal(got["embed_text.bias"], sd["embed_text.bias"] + 1)
    got = read_mdm_checkpoint(p, use_ema=False)
    assert torch.equal(got["embed_text.bias"], sd["embed_text.bias"])
    bad = tmp_path / "with_args.pt"
    torch.save({"model": sd, "args": argparse.Namespace(arch="trans_enc")}, bad)
    with pytest.raises(CacheError, match="weights_only"):
        read_mdm_checkpoint(bad)
