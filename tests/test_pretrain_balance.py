"""Generalist pretraining on a mixed real corpus: balanced draws and the held-out validation curve,
both surviving kill and resume."""
from __future__ import annotations

import numpy as np
import torch

from kinemic_aug.data.corpus import MotionClip, MotionCorpus
from kinemic_aug.generator import pretrain, DenoiserConfig, PretrainConfig, XYZRepresentation, load_checkpoint


def _embed(texts):
    out = np.zeros((len(texts), 8), np.float32)
    for i, t in enumerate(texts):
        for ch in t.encode():
            out[i, ch % 8] += 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def _corpus(seed: int, big: int = 12) -> MotionCorpus:
    rng = np.random.default_rng(seed)
    clips = []
    for i in range(big + 2):
        src, label = ("big", "walk") if i < big else ("small", "wave")
        j = rng.normal(scale=0.05, size=(30, 22, 3)).astype(np.float32) + np.linspace(0, 1, 22)[None, :, None]
        clips.append(MotionClip(joints=j, layout="smpl22", fps=20.0, captions=[f"a person does {label}"],
                                name=f"{src}{i}", source=src, meta={"label": label}))
    return MotionCorpus(clips)


def _run(out, steps, balance="source_label"):
    cfg = PretrainConfig(steps=steps, batch_size=4, min_seconds=0.5, max_seconds=1.2, diffusion_steps=50,
                         save_every=3, val_every=3, seed=0, device="cpu", progress=False, plot=False,
                         balance=balance)
    dcfg = DenoiserConfig.preset("tiny", input_dim=66, text_dim=8, width=32, ff_dim=64)
    return pretrain(_corpus(0), out, representation=XYZRepresentation("smpl22"), text_embedder=_embed,
                    denoiser=dcfg, config=cfg, val_corpus=_corpus(1, big=3))


def test_balanced_draws_follow_the_weights():
    from kinemic_aug.data.corpora.balance import balanced_weights
    from kinemic_aug.generator import MotionTextDataset

    corpus = _corpus(0)
    ds = MotionTextDataset(corpus, XYZRepresentation("smpl22"), _embed, text_dim=8)
    ds.weights = balanced_weights(corpus)
    rng = np.random.default_rng(0)
    caps = torch.cat([ds.sample_batch(rng, 64, 10, 20)["caption"] for _ in range(10)])
    small = ds.captions.index("a person does wave")
    share = float((caps == small).float().mean())
    want = np.sqrt(3.0) / (np.sqrt(18.0) + np.sqrt(3.0))  # sqrt of the sources' durations (3 s vs 18 s)
    assert abs(share - want) < 0.06 and share > 2 / 14 + 0.08  # far above its clip share


def test_validation_curve_and_balance_resume_exactly(tmp_path):
    full = _run(tmp_path / "full.pt", 6)
    assert [s for s, _ in full.val_history] == [3, 6] and all(np.isfinite(v) for _, v in full.val_history)
    _run(tmp_path / "part.pt", 3)
    resumed = _run(tmp_path / "part.pt", 6)
    assert resumed.losses == full.losses and resumed.val_history == full.val_history
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    ck = load_checkpoint(tmp_path / "part.pt")
    assert ck["config"]["train"]["balance"] == "source_label" and ck["val_history"].shape == (2, 2)
    uniform = _run(tmp_path / "uni.pt", 3, balance="none")
    assert uniform.losses != full.losses[:3]


def test_a_run_continues_from_the_weights_of_an_exported_checkpoint(tmp_path):
    """What a later run does with a shipped (sampling-only) generalist: start from its weights, step and history,
    with a fresh optimizer; then resume exactly from its own checkpoint."""
    import pytest

    from kinemic_aug.errors import DataError
    from kinemic_aug.generator.checkpoint import export_inference_checkpoint

    first = _run(tmp_path / "first.pt", 6)
    export_inference_checkpoint(tmp_path / "first.pt", tmp_path / "shipped.pt")
    cfg = PretrainConfig(steps=9, batch_size=4, min_seconds=0.5, max_seconds=1.2, diffusion_steps=50, save_every=3,
                         val_every=3, seed=0, device="cpu", progress=False, plot=False, balance="source_label")
    dcfg = DenoiserConfig.preset("tiny", input_dim=66, text_dim=8, width=32, ff_dim=64)
    kw = dict(representation=XYZRepresentation("smpl22"), text_embedder=_embed, denoiser=dcfg,
              val_corpus=_corpus(1, big=3))
    # no training: the continued trainer starts from the exported (EMA) weights at step 6
    start = pretrain(_corpus(0), tmp_path / "cont0.pt", config=PretrainConfig(**{**cfg.to_dict(), "steps": 6}),
                     init_from=tmp_path / "shipped.pt", **kw)
    assert start.step == 6 and start.losses == first.losses and start.val_history == first.val_history
    for k, v in first.ema.items():  # the position tables are rebuilt, not exported (the EMA only rounds them)
        assert torch.equal(start.model.state_dict()[k], v) or (k.endswith(".pe") and torch.allclose(
            start.model.state_dict()[k], v, atol=1e-5)), k
    cont = pretrain(_corpus(0), tmp_path / "cont.pt", config=cfg, init_from=tmp_path / "shipped.pt", **kw)
    assert cont.step == 9 and len(cont.losses) == 9 and [s for s, _ in cont.val_history] == [3, 6, 9]
    assert load_checkpoint(tmp_path / "cont.pt")["config"]["continued_from"]["step"] == 6
    # once its own checkpoint exists, a rerun resumes from it (init_from is not applied again)
    again = pretrain(_corpus(0), tmp_path / "cont.pt", config=cfg, init_from=tmp_path / "shipped.pt", **kw)
    assert again.step == 9 and again.losses == cont.losses
    other = DenoiserConfig.preset("tiny", input_dim=66, text_dim=8, width=16, ff_dim=64)
    with pytest.raises(DataError, match="denoiser config"):
        pretrain(_corpus(0), tmp_path / "bad.pt", config=cfg, init_from=tmp_path / "shipped.pt",
                 **{**kw, "denoiser": other})
