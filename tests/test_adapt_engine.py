"""The adaptation step's two engines: ``legacy`` (padded) and ``fast`` (packed, 16-bit dropout masks)."""
import dataclasses

import numpy as np
import pytest
import torch

from kinemic_aug.adapt import AdaptConfig, KineMICTrainer, SourcePool, TargetShots
from kinemic_aug.errors import DataError
from kinemic_aug.generator.models.denoiser import DenoiserConfig, MotionDenoiser
from kinemic_aug.generator.models.layers import Dropout
from kinemic_aug.generator.models.lora import LoRALinear
from kinemic_aug.generator.schedulers.noise_schedule import NoiseSchedule

D, E = 12, 8


def _setup(dropout=0.0, seed=0):
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    base = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=D, text_dim=E, dropout=dropout))
    shots = TargetShots([rng.normal(size=(int(rng.integers(6, 18)), D)).astype(np.float32) for _ in range(6)],
                        [0, 0, 1, 1, 2, 2], rng.normal(size=(3, E)))
    pool = SourcePool([rng.normal(size=(int(rng.integers(12, 30)), D)).astype(np.float32) for _ in range(9)],
                      rng.normal(size=(9, E)), {0: np.arange(3), 1: np.arange(3, 6), 2: np.arange(6, 9)})
    return base, NoiseSchedule.make("cosine", 50), shots, pool


def _cfg(**kw):
    base = dict(mode="joint", steps=4, batch_size=8, mic_hidden=16, progress=False, lr=1e-3, save_every=2)
    base.update(kw)
    return AdaptConfig(**base)


def _one_step(engine, **kw):
    base, sch, shots, pool = _setup()
    tr = KineMICTrainer(base, sch, shots, pool, _cfg(engine=engine, **kw))
    logs = tr.train_step()
    grads = {n: p.grad.clone() for n, p in tr.target.named_parameters() if p.grad is not None}
    grads.update({"mic." + n: p.grad.clone() for n, p in tr.mic.named_parameters() if p.grad is not None})
    return logs, grads


def test_without_dropout_the_fast_engine_computes_the_legacy_losses_and_gradients():
    """Same batch, no random draws inside the forwards: the packed step is the padded step's function.
    Rows of the target and source batches are paired (mining, contrastive anchors), so a packed forward that
    returned its rows in sorted order would fail here."""
    quiet = dict(lora_dropout=0.0, cond_drop_text=0.0, cond_drop_action=0.0)
    la, ga = _one_step("legacy", **quiet)
    lb, gb = _one_step("fast", **quiet)
    for k in ("rec", "wrec", "con", "dww_mean", "loss"):
        assert lb[k] == pytest.approx(la[k], rel=1e-5, abs=1e-6), k
    assert set(ga) == set(gb) and len(ga) > 10
    for n in ga:
        assert torch.allclose(gb[n], ga[n], rtol=1e-4, atol=1e-6), n


def test_fast_engine_draws_its_dropout_elsewhere_and_resumes_exactly(tmp_path):
    la, _ = _one_step("legacy")
    lb, _ = _one_step("fast")
    assert lb["rec"] != la["rec"]  # LoRA and condition dropout: a different random stream
    base, sch, shots, pool = _setup()
    tr = KineMICTrainer(base, sch, shots, pool, _cfg(engine="fast"))
    lora_drops = [m.lora_dropout for m in tr.target.modules() if isinstance(m, LoRALinear)]
    assert lora_drops and all(isinstance(d, Dropout) and d.fast for d in lora_drops)
    full = tr.train()
    ck = tmp_path / "progress.pt"
    base2, _, _, _ = _setup()
    part = KineMICTrainer(base2, sch, shots, pool, _cfg(engine="fast"))
    part.train(checkpoint=ck, stop_after=2)
    base3, _, _, _ = _setup()
    resumed = KineMICTrainer(base3, sch, shots, pool, _cfg(engine="fast"))
    hist = resumed.train(checkpoint=ck)
    assert [h["loss"] for h in hist] == [h["loss"] for h in full]
    for (n, a), (_, b) in zip(tr.target.named_parameters(), resumed.target.named_parameters()):
        assert torch.equal(a, b), n


def test_forward_sorted_matches_the_padded_forward_in_the_callers_order():
    torch.manual_seed(0)
    model = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=D, text_dim=E, num_actions=3)).eval()
    lengths = torch.tensor([9, 3, 14, 3, 7, 14, 1])
    b, n = len(lengths), int(lengths.max())
    mask = torch.arange(n)[None] < lengths[:, None]
    x, t, text = torch.randn(b, n, D), torch.randint(0, 50, (b,)), torch.randn(b, E)
    action = torch.tensor([0, 2, -1, 1, 0, 2, 1])
    with torch.no_grad():
        out, h = model(x, t, text_emb=text, action=action, mask=mask, return_features=True)
        out_s, h_s = model.forward_sorted(x, t, text_emb=text, action=action, mask=mask, return_features=True)
        only = model.forward_sorted(x, t, text_emb=text, action=action, mask=mask)
    assert torch.allclose(out_s[mask], out[mask], atol=1e-5) and torch.allclose(h_s[mask], h[mask], atol=1e-5)
    assert torch.equal(only, out_s)
    assert torch.count_nonzero(out_s[~mask]) == 0
    with pytest.raises(DataError, match="mask"):
        model.forward_sorted(x, t, text_emb=text, mask=mask[:, :-1])


def test_engine_field_validation_and_cache_keys():
    legacy = AdaptConfig()
    assert "engine" not in legacy.cache_dict()  # adapters cached before the field existed keep their keys
    fast = dataclasses.replace(legacy, engine="fast")
    assert fast.cache_dict()["engine"] == "fast" and fast.cache_dict() != legacy.cache_dict()
    with pytest.raises(ValueError, match="engine"):
        AdaptConfig(engine="quick")
    with pytest.raises(ValueError, match="batched"):
        AdaptConfig(engine="fast", batched=True)
