"""LoRA adapters: identity at init, only adapters train, save/load apart from the base, merge."""
from __future__ import annotations

import pytest
import torch

from kinemic_aug.errors import CacheError
from kinemic_aug.generator import (DenoiserConfig, LoRALinear, MotionDenoiser, add_lora, load_lora, lora_state_dict,
                                   merge_lora)
from kinemic_aug.generator.conversion import load_mdm_state_dict, denoiser_to_mdm_keys

CFG = DenoiserConfig(input_dim=10, width=32, layers=2, heads=4, ff_dim=64, text_dim=8, num_actions=3)


def make(seed=0):
    torch.manual_seed(seed)
    return MotionDenoiser(CFG)


def inputs():
    g = torch.Generator().manual_seed(5)
    return (torch.randn(2, 6, 10, generator=g), torch.tensor([3, 9]),
            dict(text_emb=torch.randn(2, 8, generator=g), action=torch.tensor([0, 2])))


def test_lora_at_init_is_identity_and_only_adapters_train():
    m = make().eval()
    x, t, kw = inputs()
    ref = m(x, t, **kw)
    wrapped = add_lora(m, rank=4, alpha=8, dropout=0.1)
    # 2 layers × (q, k, v, out, linear1, linear2) + input + output + 2 timestep linears
    assert len(wrapped) == 2 * 6 + 4
    assert all(isinstance(m.get_submodule(n), LoRALinear) for n in wrapped)
    assert torch.equal(m.eval()(x, t, **kw), ref)
    trainable = {n for n, p in m.named_parameters() if p.requires_grad}
    assert trainable == {n for n in trainable if n.endswith((".lora_A", ".lora_B"))} | {"embed_action"}
    assert not any("norm" in n or n.endswith(".bias") for n in trainable)
    base = {k: v.clone() for k, v in m.state_dict().items() if not k.endswith((".lora_A", ".lora_B"))}
    opt = torch.optim.AdamW([p for p in m.parameters() if p.requires_grad], lr=1e-2)
    m.train()
    for _ in range(3):
        loss = m(x, t, **kw).pow(2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    after = m.state_dict()
    assert all(torch.equal(after[k], v) for k, v in base.items() if k != "embed_action")
    assert not torch.equal(after["embed_action"], base["embed_action"])
    assert any(v.abs().sum() > 0 for k, v in after.items() if k.endswith(".lora_B"))
    assert not torch.allclose(m.eval()(x, t, **kw), ref)


def test_lora_saved_and_loaded_apart_from_base_and_merge():
    m = make().eval()
    add_lora(m, targets=("attn", "ff"), rank=4, alpha=8, dropout=0.0)
    with torch.no_grad():
        for n, p in m.named_parameters():
            if n.endswith(".lora_B"):
                p.normal_()
    x, t, kw = inputs()
    want = m(x, t, **kw)
    sd = lora_state_dict(m)
    assert sd and all(k.endswith((".lora_A", ".lora_B")) for k in sd)
    # base weights exported under MDM names carry no adapter tensors
    assert not any("lora" in k for k in denoiser_to_mdm_keys(m.state_dict()))

    fresh = make().eval()  # same base weights (seed 0), new adapters
    add_lora(fresh, targets=("attn", "ff"), rank=4, alpha=8, dropout=0.0)
    fresh.embed_action.data.copy_(m.embed_action.data)
    assert not torch.allclose(fresh(x, t, **kw), want)
    load_lora(fresh, sd)
    assert torch.allclose(fresh(x, t, **kw), want, atol=1e-6)

    merged = merge_lora(fresh)
    assert merged and not any(isinstance(mod, LoRALinear) for mod in fresh.modules())
    # merging rounds W + s·BA to float32 once, where the unmerged path rounds W·x and s·B(A·x) apart: with
    # B ~ N(0, 1) that differs by up to ~2e-5 on some CPUs' kernels, far below a wrong merge's O(1) error
    assert torch.allclose(fresh(x, t, **kw), want, atol=1e-5, rtol=1e-4)

    other = make().eval()
    add_lora(other, targets=("attn",), rank=2, alpha=4)
    with pytest.raises(CacheError) as ei:
        load_lora(other, sd)
    assert "unexpected: seqTransEncoder.layers.0.linear1.lora_A" in str(ei.value)
    assert "shape: seqTransEncoder.layers.0.self_attn.q_proj.lora_A" in str(ei.value)


def test_base_checkpoint_still_loads_into_adapted_model():
    m = make()
    add_lora(m, rank=4)
    src = make(seed=1)
    load_mdm_state_dict(m, denoiser_to_mdm_keys(src.state_dict()))
    assert torch.equal(m.seqTransEncoder.layers[0].self_attn.q_proj.weight,
                       src.seqTransEncoder.layers[0].self_attn.q_proj.weight)
