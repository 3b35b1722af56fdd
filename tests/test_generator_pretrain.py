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
from kinemic_aug.data.procedural.swing_clips import swing_corpus

REPO = Path(__file__).resolve().parents[1]
TD = 16


def embed(texts):
    """A deterministic caption embedder (bag of byte values): any callable is accepted."""
    out = np.zeros((len(texts), TD), np.float32)
    for i, t in enumerate(texts):
        for ch in t.encode():
            out[i, ch % TD] += 1.0
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def make_trainer(out=None, steps=6, save_every=3, seed=0, plot=False, corpus=None, no_dropout=False, **recipe):
    corpus = corpus if corpus is not None else swing_corpus(5, seconds=(1.0, 2.5))
    rep = XYZRepresentation("smpl22")
    ds = MotionTextDataset(corpus, rep, embed, text_dim=TD, fps=20.0)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        extra = dict(dropout=0.0, cond_drop_text=0.0) if no_dropout else {}
        model = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=rep.dim, text_dim=TD, width=32, ff_dim=64,
                                                     **extra))
    cfg = PretrainConfig(steps=steps, batch_size=3, min_seconds=0.5, max_seconds=1.5, diffusion_steps=50,
                         save_every=save_every, seed=seed, device="cpu", progress=False, plot=plot, **recipe)
    return GeneratorTrainer(model, ds, cfg, out=out)


def segmented_corpus():
    """Four chained procedural (synthetic) clips of 2-4 s plus their segment sub-clips."""
    from kinemic_aug.data.procedural import expand_segments, generate_corpus
    return expand_segments(generate_corpus(4, seed=5, min_seconds=2.0, max_seconds=4.0, chain_prob=1.0))


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


@pytest.mark.parametrize("recipe", [{}, {"crop": "caption", "lambda_vel": 0.5}, {"engine": "legacy"}],
                         ids=["random", "caption+vel", "legacy-engine"])
def test_resume_equals_uninterrupted_run(tmp_path, recipe):
    corpus = segmented_corpus() if "crop" in recipe else None
    full = make_trainer(out=tmp_path / "full.pt", steps=6, save_every=0, corpus=corpus, **recipe)
    full.train()

    first = make_trainer(out=tmp_path / "part.pt", steps=3, save_every=3, corpus=corpus, **recipe)
    first.train()
    del first  # "interrupted" after step 3
    ck = torch.load(tmp_path / "part.pt", weights_only=True)  # plain tensors and types only
    assert ck["step"] == 3 and set(ck) >= {"model", "ema", "optimizer", "rng", "config", "representation"}
    assert ck["config"]["train"]["crop"] == recipe.get("crop", "random")
    assert ck["config"]["train"]["lambda_vel"] == recipe.get("lambda_vel", 0.0)

    resumed = make_trainer(out=tmp_path / "part.pt", steps=6, save_every=3, plot=True, corpus=corpus,
                           **recipe).resume(tmp_path / "part.pt")
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
    other_seed = make_trainer(steps=2, seed=1, corpus=corpus, **recipe)
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


def run_cli(argv):
    """Run tools/pretrain_generator.py in-process (no second torch import), removing its log handlers."""
    import importlib.util
    import logging

    spec = importlib.util.spec_from_file_location("pretrain_generator_cli", REPO / "tools" / "pretrain_generator.py")
    cli = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli)
    root = logging.getLogger()
    handlers = list(root.handlers)
    try:
        return cli.main(argv)
    finally:
        for h in root.handlers[:]:
            if h not in handlers:
                root.removeHandler(h)
                h.close()


def test_cli_twenty_steps_on_toy_corpus(tmp_path):
    out = tmp_path / "gen.pt"
    argv = ["--toy-corpus",
           "--corpus", str(tmp_path / "toy.npz"), "--preset", "tiny", "--steps", "20", "--batch-size", "2",
           "--max-seconds", "1.5", "--min-seconds", "0.5", "--diffusion-steps", "50", "--text-encoder", "hashing",
           "--out", str(out), "--no-progress", "--save-every", "10"]
    assert run_cli(argv) == 0
    ck = load_checkpoint(out)
    assert ck["step"] == 20 and len(ck["losses"]) == 20
    assert ck["config"]["text"]["encoder"] == "hashing" and ck["config"]["denoiser"]["text_dim"] > 0
    assert ck["config"]["train"]["crop"] == "random" and ck["config"]["train"]["lambda_vel"] == 0.0
    assert (tmp_path / "gen.loss.png").exists() and "done: step 20" in (tmp_path / "gen.log").read_text()


def test_cli_caption_recipe_is_recorded_in_the_checkpoint(tmp_path):
    out = tmp_path / "gen.pt"
    argv = ["--corpus", "procedural:4:0", "--segments", "--crop", "caption", "--lambda-vel", "0.5",
            "--preset", "tiny", "--steps", "3", "--batch-size", "2", "--max-seconds", "2", "--diffusion-steps", "50",
            "--text-encoder", "hashing", "--out", str(out), "--no-progress"]
    assert run_cli(argv) == 0
    bundle = load_generator(out)
    assert bundle.config["train"]["crop"] == "caption" and bundle.config["train"]["lambda_vel"] == 0.5
    assert bundle.corpus["name"] == "procedural:4:0+segments" and bundle.step == 3


# ---------------------------------------------------------------- velocity loss
def test_velocity_loss_zero_when_equal_positive_when_shifted_and_masked():
    from kinemic_aug.generator.training import masked_velocity_mse
    t = torch.linspace(0, 3, 10)
    target = torch.stack([torch.sin(t), torch.cos(2 * t), t ** 2], dim=-1)[None].repeat(2, 1, 1)  # [2, 10, 3]
    mask = torch.ones(2, 10, dtype=torch.bool)
    assert masked_velocity_mse(target.clone(), target, mask).item() == 0.0
    assert masked_velocity_mse(target + 5.0, target, mask).item() == pytest.approx(0.0, abs=1e-10)  # offset: same velocity
    shifted = torch.roll(target, 1, dims=1)  # one frame late
    assert masked_velocity_mse(shifted, target, mask).item() > 1e-3
    # padding: frames 6.. of sample 0 are invalid; garbage there (and the step into it) must not count
    mask[0, 6:] = False
    pred = target.clone()
    pred[0, 6:] = 100.0
    assert masked_velocity_mse(pred, target, mask).item() == 0.0
    pred[0, 2, 0] += 1.0  # a valid frame: two differences change by ±1 on 1 of 3 channels, 5 valid pairs
    assert masked_velocity_mse(pred, target, mask).item() == pytest.approx((2 / 15) / 2)
    assert masked_velocity_mse(target[:, :1], target[:, :1], mask[:, :1]).item() == 0.0  # one frame: nothing


def test_lambda_vel_changes_the_loss_and_bad_options_are_refused():
    a = make_trainer(steps=2)
    b = make_trainer(steps=2, lambda_vel=1.0)
    a.train()
    b.train()
    assert b.losses[0] > a.losses[0]  # same batch, same prediction, plus a positive velocity term
    with pytest.raises(ValueError, match="crop"):
        PretrainConfig(crop="middle")
    with pytest.raises(ValueError, match="lambda_vel"):
        PretrainConfig(lambda_vel=-1.0)


# ---------------------------------------------------------------- caption-aware crops
ACTS = ["walk", "clap", "squat", "wave_overhead", "jumping_jacks", "bend_touch_floor"]


def planted_corpus():
    """Chained clips in which every segment holds one constant pose, distinct per action (so any
    frame tells which action it belongs to), with procedural-style segment meta and captions; then
    expanded into segment sub-clips. Synthetic test data."""
    from kinemic_aug.data.corpus import MotionClip, MotionCorpus
    from kinemic_aug.data.procedural import caption_segments, expand_segments
    rng = np.random.default_rng(0)
    poses = {a: rng.normal(size=(22, 3)).astype(np.float32) * 0.4 for a in ACTS}
    clips = []
    for i in range(6):
        acts = [ACTS[(i + k) % len(ACTS)] for k in range(3)]
        lengths = [20 + 5 * ((i + k) % 3) for k in range(3)]  # 1.0-1.5 s each, clip 3.75 s
        segs, frames, start = [], [], 0
        for a, n in zip(acts, lengths):
            segs.append({"action": a, "start": start, "end": start + n, "side": None, "speed": 1.0})
            frames.append(np.repeat(poses[a][None], n, axis=0))
            start += n
        caps, _ = caption_segments(segs, np.random.default_rng(i))
        clips.append(MotionClip(np.concatenate(frames), "smpl22", 20.0, caps, name=f"plant{i}", source="procedural",
                                synthetic=True, meta={"seed": 0, "index": i, "segments": segs}))
    return expand_segments(MotionCorpus(clips, name="planted")), poses


def _frame_actions(ds, x, mask, poses):
    """The set of actions whose pose each valid frame of a batch item shows (pairwise joint distances
    are invariant to the representation's canonical rotation and translation)."""
    names = list(poses)
    ref = np.stack([np.linalg.norm(p[:, None] - p[None], axis=-1) for p in poses.values()])
    out = []
    for b in range(len(x)):
        joints = ds.rep.decode(ds.rep.denormalize(x[b][mask[b]].numpy()))
        d = np.linalg.norm(joints[:, :, None] - joints[:, None], axis=-1)
        err = np.abs(d[:, None] - ref[None]).mean(axis=(2, 3))  # [T, actions]
        assert np.all(err.min(1) < 1e-3)  # each frame is exactly one planted pose
        out.append({names[k] for k in err.argmin(1)})
    return out


def test_caption_crops_always_show_the_captioned_actions():
    corpus, poses = planted_corpus()
    named = {}
    for clip in corpus:
        for c in clip.captions:
            named[c] = {seg["action"] for seg in clip.meta["segments"]}
    ds = MotionTextDataset(corpus, XYZRepresentation("smpl22"), embed, text_dim=TD, fps=20.0)
    assert all(len(ds.spans[ds.names.index(f"plant{i}")]) == 3 for i in range(6))
    rng = np.random.default_rng(1)
    wrong = {"random": 0, "caption": 0}
    for mode in ("caption", "random"):
        for _ in range(12):
            b = ds.sample_batch(rng, 16, 10, 24, crop=mode)  # 24 frames < every chained clip (75)
            shown = _frame_actions(ds, b["x"], b["mask"], poses)
            for k, cid in enumerate(b["caption"].tolist()):
                said = named[ds.captions[cid]]
                if mode == "caption":
                    assert said == shown[k], (ds.captions[cid], shown[k])  # no missing, no uncaptioned action
                    assert int(b["mask"][k].sum()) <= 24
                wrong[mode] += not said <= shown[k]
    assert wrong["caption"] == 0 and wrong["random"] > 0  # the old recipe shows the flaw this fixes


def test_caption_crop_without_spans_covers_as_much_as_allowed():
    corpus = swing_corpus(4, seconds=(2.0, 3.0))  # 40-60 frames, no segments
    ds = MotionTextDataset(corpus, XYZRepresentation("smpl22"), embed, text_dim=TD, fps=20.0)
    rng = np.random.default_rng(0)
    long = ds.sample_batch(rng, 8, 5, 30, crop="caption")
    assert torch.all(long["mask"].sum(1) == 30)  # the longest window allowed, never a short random one
    whole = ds.sample_batch(rng, 8, 5, 100, crop="caption")
    assert sorted(set(whole["mask"].sum(1).tolist())) <= sorted(len(j) for j in ds.joints)
    for k, cid in enumerate(whole["caption"].tolist()):
        n = int(whole["mask"][k].sum())
        i = [len(j) for j in ds.joints].index(n)
        assert ds.captions[cid] in [c.strip() for c in corpus[i].captions]
    with pytest.raises(ValueError, match="crop"):
        ds.sample_batch(rng, 2, 5, 30, crop="middle")


def test_old_checkpoint_config_reads_as_the_original_recipe():
    # a train config saved before crop / lambda_vel existed (the step-5000 generalist's, verbatim keys)
    train = {"steps": 8000, "batch_size": 32, "lr": 0.0002, "weight_decay": 0.0, "grad_clip": 1.0, "ema_decay": 0.999,
             "fps": 20.0, "min_seconds": 1.0, "max_seconds": 6.0, "diffusion_steps": 100, "schedule": "cosine",
             "save_every": 250, "seed": 0, "device": "auto", "progress": False, "plot": True}
    cfg = PretrainConfig.from_dict(train)
    assert cfg.crop == "random" and cfg.lambda_vel == 0.0 and cfg.steps == train["steps"]


def test_shipped_checkpoint_records_its_recipe_and_corpus():
    shipped = REPO / "kinemic_aug" / "assets" / "generator" / "generalist_small.pt"
    if not shipped.exists():
        pytest.skip("no shipped checkpoint")
    from kinemic_aug.data.sources import DEFAULT_GENERALIST_CORPUS

    ckpt = load_checkpoint(shipped)
    cfg = PretrainConfig.from_dict(ckpt["config"]["train"])
    assert cfg.crop == "caption" and cfg.lambda_vel == 0.5
    # the augmenter pairs against the corpus the shipped generalist was trained on
    assert ckpt["corpus"]["name"] == DEFAULT_GENERALIST_CORPUS


def test_caption_crop_warns_about_unexpanded_chains_and_resume_warns_on_recipe_change(tmp_path, caplog):
    from kinemic_aug.data.procedural import generate_corpus
    chains = generate_corpus(3, seed=5, min_seconds=2.0, max_seconds=4.0, chain_prob=1.0)
    with caplog.at_level("WARNING", logger="kinemic_aug.generator.training"):
        make_trainer(corpus=chains, crop="caption")
    assert "'+segments'" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="kinemic_aug.generator.training"):
        make_trainer(corpus=segmented_corpus(), crop="caption")
    assert caplog.text == ""
    old = make_trainer(out=tmp_path / "old.pt", steps=1, save_every=0)
    old.train()
    with caplog.at_level("WARNING", logger="kinemic_aug.generator.training"):
        make_trainer(crop="caption").resume(tmp_path / "old.pt")
    assert "different recipe" in caplog.text and "'crop': ('random', 'caption')" in caplog.text


# ---------------------------------------------------------------- step engines
def original_step(tr):
    """The training step as it was before the fast engine existed, written out here (one padded
    batch, torch.nn dropout, per-tensor EMA loop), to pin the legacy engine to it."""
    from kinemic_aug.generator.training import masked_velocity_mse
    batch = tr.dataset.sample_batch(tr.np_rng, tr.cfg.batch_size, tr.min_frames, tr.max_frames, crop=tr.cfg.crop)
    x0, mask, text = batch["x"], batch["mask"], batch["text_emb"]
    t = torch.randint(0, tr.schedule.num_steps, (x0.shape[0],), generator=tr.gen)
    noise = torch.randn(x0.shape, generator=tr.gen)
    step_seed = int(torch.randint(0, 2 ** 62, (1,), generator=tr.gen))
    tr.model.train()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(step_seed)
        pred = tr.model(tr.schedule.q_sample(x0, t, noise), t, text_emb=text, mask=mask)
        loss = masked_mse(pred, x0, mask)
        if tr.cfg.lambda_vel > 0:
            loss = loss + tr.cfg.lambda_vel * masked_velocity_mse(pred, x0, mask)
        tr.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(list(tr.model.parameters()), tr.cfg.grad_clip)
        tr.optimizer.step()
    tr.step += 1
    d = min(tr.cfg.ema_decay, (1.0 + tr.step) / (10.0 + tr.step))
    with torch.no_grad():
        for k, v in tr.model.state_dict().items():
            tr.ema[k].mul_(d).add_(v.detach(), alpha=1.0 - d)
    return float(loss.detach())


def test_legacy_engine_is_the_original_step_bit_for_bit():
    corpus = segmented_corpus()
    recipe = dict(crop="caption", lambda_vel=0.5, engine="legacy")
    a, b = make_trainer(corpus=corpus, **recipe), make_trainer(corpus=corpus, **recipe)
    for _ in range(3):
        assert a.train_step() == original_step(b)
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k]), k
    for k, v in a.ema.items():
        assert torch.equal(v, b.ema[k]), k
    fast = make_trainer(corpus=corpus, crop="caption", lambda_vel=0.5)
    fast.train()
    assert fast.losses != a.losses[:len(fast.losses)]  # the fast engine draws its dropout differently


@pytest.mark.parametrize("recipe", [{}, {"crop": "caption", "lambda_vel": 0.5}], ids=["random", "caption+vel"])
def test_fast_engine_computes_the_legacy_loss_and_gradients(recipe):
    """Without dropout the two engines are the same function of the batch: same loss, same gradients."""
    corpus = segmented_corpus()
    trainers = {}
    for engine in ("legacy", "fast"):
        tr = make_trainer(corpus=corpus, engine=engine, no_dropout=True, **recipe)
        trainers[engine] = tr
    b = trainers["fast"].dataset.sample_batch(np.random.default_rng(4), 8, 10, 30, crop=recipe.get("crop", "random"))
    t = torch.randint(0, 50, (8,), generator=torch.Generator().manual_seed(0))
    noise = torch.randn(b["x"].shape, generator=torch.Generator().manual_seed(1))
    out = {}
    for engine, tr in trainers.items():
        tr.model.train()
        step = tr._forward_backward_packed if engine == "fast" else tr._forward_backward_legacy
        loss = step(b["x"], b["mask"], b["text_emb"], t, noise)
        grads = torch.cat([p.grad.reshape(-1) for p in tr.model.parameters()])
        out[engine] = (float(loss), grads)
    assert out["fast"][0] == pytest.approx(out["legacy"][0], rel=1e-5)
    ref = out["legacy"][1]
    assert torch.allclose(out["fast"][1], ref, rtol=1e-4, atol=1e-6 * float(ref.abs().max()))


def test_engine_option_old_configs_and_timings(tmp_path, caplog):
    with pytest.raises(ValueError, match="engine"):
        PretrainConfig(engine="turbo")
    assert PretrainConfig().engine == "fast"
    assert PretrainConfig.from_dict({"steps": 3}).engine == "legacy"  # saved before the option existed
    old = make_trainer(out=tmp_path / "old.pt", steps=1, save_every=0, engine="legacy")
    old.train()
    with caplog.at_level("INFO", logger="kinemic_aug.generator.training"):
        make_trainer().resume(tmp_path / "old.pt")
    assert "engine 'legacy'; continuing with 'fast'" in caplog.text
    tr = make_trainer()
    tr.timings = {}
    tr.train_step()
    assert set(tr.timings) == {"data", "forward", "backward", "optimizer", "ema"}
    assert all(v >= 0 for v in tr.timings.values())
