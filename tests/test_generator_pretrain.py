"""Pretraining loop: masked loss, checkpoints that load with weights_only, exact resume, the CLI, sampling."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from kinemic_aug.errors import CacheError, DataError
from kinemic_aug.generator import (DenoiserConfig, GeneratorTrainer, MotionDenoiser, MotionGenerator,
                                   MotionTextDataset, PretrainConfig, XYZRepresentation, load_checkpoint,
                                   load_generator, masked_mse)
from kinemic_aug.generator.toy import toy_corpus

REPO = Path(__file__).resolve().parents[1]
TD = 16


def embed(texts):
    """A deterministic caption embedder (bag of byte values): any callable is accepted."""
    out = np.zeros((len(texts), TD), np.float32)
    for i, t in enumerate(texts):
        for ch in t.encode():
            out[i, ch % TD] += 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def make_trainer(out=None, steps=6, save_every=3, seed=0, plot=False):
    corpus = toy_corpus(5, seconds=(1.0, 2.5))
    rep = XYZRepresentation("smpl22")
    ds = MotionTextDataset(corpus, rep, embed, text_dim=TD, fps=20.0)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=rep.dim, text_dim=TD, width=32, ff_dim=64))
    cfg = PretrainConfig(steps=steps, batch_size=3, min_seconds=0.5, max_seconds=1.5, diffusion_steps=50,
                         save_every=save_every, seed=seed, device="cpu", progress=False, plot=plot)
    return GeneratorTrainer(model, ds, cfg, out=out)


def test_masked_mse_ignores_padding():
    pred, tgt = torch.zeros(2, 4, 3), torch.ones(2, 4, 3)
    mask = torch.tensor([[1, 1, 0, 0], [1, 1, 1, 1]], dtype=torch.bool)
    assert masked_mse(pred, tgt, mask).item() == pytest.approx(1.0)
    pred[0, 2:] = 50.0  # padding frames: no effect
    assert masked_mse(pred, tgt, mask).item() == pytest.approx(1.0)
    pred[1, 0] = 3.0  # error 2 → squared 4 on 3 of 12 elements: clip mean (9 + 12)/12
    assert masked_mse(pred, tgt, mask).item() == pytest.approx((1.0 + 21 / 12) / 2)


def test_dataset_batches_are_masked_crops_with_captions():
    tr = make_trainer()
    b = tr.dataset.sample_batch(np.random.default_rng(0), 8, 10, 30)
    assert b["x"].shape[0] == 8 and b["x"].shape[2] == 66 and b["text_emb"].shape == (8, TD)
    lengths = b["mask"].sum(1)
    assert lengths.min() >= 10 and lengths.max() <= 30 and b["x"].shape[1] == lengths.max()
    assert torch.all(b["x"][~b["mask"]] == 0)
    assert b["has_text"].all() and torch.allclose(b["text_emb"].norm(dim=1), torch.ones(8))


def test_layout_mismatch_is_a_data_error():
    from kinemic_aug.data.corpus import MotionClip, MotionCorpus
    bad = MotionCorpus([MotionClip(np.zeros((30, 20, 3), np.float32), "msr_action3d", 15.0, ["x"], name="m1")])
    with pytest.raises(DataError, match="sample 'm1', field 'layout'"):
        MotionTextDataset(bad, XYZRepresentation("smpl22"), embed, text_dim=TD)


def test_resume_equals_uninterrupted_run(tmp_path):
    full = make_trainer(out=tmp_path / "full.pt", steps=6, save_every=0)
    full.train()

    first = make_trainer(out=tmp_path / "part.pt", steps=3, save_every=3)
    first.train()
    del first  # "interrupted" after step 3
    ck = torch.load(tmp_path / "part.pt", weights_only=True)  # plain tensors and types only
    assert ck["step"] == 3 and set(ck) >= {"model", "ema", "optimizer", "rng", "config", "representation"}

    resumed = make_trainer(out=tmp_path / "part.pt", steps=6, save_every=3, plot=True).resume(tmp_path / "part.pt")
    assert resumed.step == 3
    resumed.train()
    assert resumed.step == 6
    assert resumed.losses == full.losses
    for k, v in full.model.state_dict().items():
        assert torch.equal(v, resumed.model.state_dict()[k]), k
    for k, v in full.ema.items():
        assert torch.equal(v, resumed.ema[k]), k
    # the run changed the weights and the loss plot exists
    assert (tmp_path / "part.loss.png").stat().st_size > 1000
    other_seed = make_trainer(steps=2, seed=1)
    other_seed.train()
    assert other_seed.losses != full.losses[:2]


def test_checkpoint_to_generator_and_corrupt_file(tmp_path):
    tr = make_trainer(out=tmp_path / "g.pt", steps=2, save_every=0)
    tr.train()
    bundle = load_generator(tmp_path / "g.pt")
    assert bundle.step == 2 and bundle.schedule.num_steps == 50
    assert np.array_equal(bundle.representation.std, tr.dataset.rep.std)
    gen = MotionGenerator(bundle.model, bundle.representation, bundle.schedule, text_encoder=embed)
    a = gen.generate([12, 20], texts=["a person walks forward.", "someone waves hello."], steps=5, seed=3)
    b = gen.generate([12, 20], texts=["a person walks forward.", "someone waves hello."], steps=5, seed=3)
    assert [x.shape for x in a] == [(12, 22, 3), (20, 22, 3)]
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    data = (tmp_path / "g.pt").read_bytes()
    (tmp_path / "bad.pt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CacheError):
        load_checkpoint(tmp_path / "bad.pt")


def test_cli_twenty_steps_on_toy_corpus(tmp_path):
    out = tmp_path / "gen.pt"
    import importlib.util
    import logging

    spec = importlib.util.spec_from_file_location("pretrain_generator_cli", REPO / "tools" / "pretrain_generator.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)  # in-process: no second torch import
    argv = ["--toy-corpus",
           "--corpus", str(tmp_path / "toy.npz"), "--preset", "tiny", "--steps", "20", "--batch-size", "2",
           "--max-seconds", "1.5", "--min-seconds", "0.5", "--diffusion-steps", "50", "--text-encoder", "hashing",
           "--out", str(out), "--no-progress", "--save-every", "10"]
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        assert cli.main(argv) == 0
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
                h.close()
    ck = load_checkpoint(out)
    assert ck["step"] == 20 and len(ck["losses"]) == 20
    assert ck["config"]["text"]["encoder"] == "hashing" and ck["config"]["denoiser"]["text_dim"] > 0
    assert (tmp_path / "gen.loss.png").exists() and "done: step 20" in (tmp_path / "gen.log").read_text()
