"""Official MDM checkpoints → generator checkpoints, and MDM's text recipe.

No MDM weights can be downloaded here, so the checkpoints are written by ``OfficialShapedMDM``: a
randomly initialised module laid out like MDM's ``model/mdm.py`` (GuyTevet/motion-diffusion-model), so
that its ``state_dict()`` has the official key names and shapes because PyTorch makes them the same way:

* ``input_process.poseEmbedding`` / ``output_process.poseFinal``: ``nn.Linear(263, W)`` / ``nn.Linear(W, 263)``
  (MDM's ``InputProcess`` / ``OutputProcess``, ``njoints * nfeats = 263 * 1`` for HumanML3D);
* ``sequence_pos_encoder.pe``: a buffer ``[max_len, 1, W]`` (``PositionalEncoding``), the same module
  also held by ``embed_timestep`` (so ``embed_timestep.sequence_pos_encoder.pe`` is in the dict too);
* ``embed_timestep.time_embed.{0,2}``: ``nn.Sequential(Linear, SiLU, Linear)`` (``TimestepEmbedder``);
* ``embed_text``: ``nn.Linear(512, W)`` (``clip_dim = 512``);
* ``seqTransEncoder``: ``nn.TransformerEncoder(nn.TransformerEncoderLayer(W, 4, FF, 0.1, "gelu"), L)``,
  whose own parameter names give ``layers.{i}.self_attn.in_proj_weight`` etc.;
* the training loop's file: ``{"model": sd, "model_avg": ema_sd}`` with ``--use_ema``, the bare state
  dict before that; ``clip_model.*`` deleted (older files may still hold some: ignored).

Its ``reference`` forward is MDM's arithmetic written sequence-first (condition token = time embedding +
``embed_text`` of the CLIP feature, sinusoidal positions, encoder, drop the first token), independent of
:class:`MotionDenoiser`.
"""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from kinemic_aug.errors import CacheError, DataError, MissingWeightsError
from kinemic_aug.generator import MotionGenerator, load_generator
from kinemic_aug.generator.conversion import (MDMRunArgs, StateDictMismatchError, convert_mdm_checkpoint,
                                          load_mdm_checkpoint, read_mdm_args)

W, L, FF, H, CLIP_DIM, D = 64, 2, 128, 4, 512, 263


class _PositionalEncoding(nn.Module):
    def __init__(self, width: int, max_len: int):
        super().__init__()
        pos = torch.arange(max_len, dtype=torch.float32)[:, None]
        div = torch.exp(torch.arange(0, width, 2).float() * (-math.log(10000.0) / width))
        pe = torch.zeros(max_len, width)
        pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
        self.register_buffer("pe", pe[:, None, :])


class _TimestepEmbedder(nn.Module):
    def __init__(self, width: int, pos: _PositionalEncoding):
        super().__init__()
        self.sequence_pos_encoder = pos
        self.time_embed = nn.Sequential(nn.Linear(width, width), nn.SiLU(), nn.Linear(width, width))


class _Holder(nn.Module):
    def __init__(self, name: str, layer: nn.Module):
        super().__init__()
        setattr(self, name, layer)


class OfficialShapedMDM(nn.Module):
    """Random MDM-shaped weights under MDM's module names (see the module docstring)."""

    def __init__(self, width=W, layers=L, ff=FF, max_len=5000, input_dim=D, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.input_process = _Holder("poseEmbedding", nn.Linear(input_dim, width))
        self.sequence_pos_encoder = _PositionalEncoding(width, max_len)
        self.seqTransEncoder = nn.TransformerEncoder(
            nn.TransformerEncoderLayer(width, H, ff, 0.1, activation="gelu"), layers, enable_nested_tensor=False)
        self.embed_timestep = _TimestepEmbedder(width, self.sequence_pos_encoder)
        self.embed_text = nn.Linear(CLIP_DIM, width)
        self.output_process = _Holder("poseFinal", nn.Linear(width, input_dim))
        self.eval()

    @torch.no_grad()
    def reference(self, x: torch.Tensor, t: torch.Tensor, text: torch.Tensor, mask=None) -> torch.Tensor:
        """MDM's forward: x ``[B, T, 263]`` batch-first in and out, sequence-first inside."""
        pe = self.sequence_pos_encoder.pe
        emb = self.embed_timestep.time_embed(pe[t, 0]) + self.embed_text(text)          # [B, W]
        seq = torch.cat([emb[None], self.input_process.poseEmbedding(x.transpose(0, 1))], 0)
        seq = seq + pe[: seq.shape[0]]
        pad = None
        if mask is not None:
            pad = torch.cat([torch.zeros(x.shape[0], 1, dtype=torch.bool), ~mask], 1)
        out = self.seqTransEncoder(seq, src_key_padding_mask=pad)[1:]
        return self.output_process.poseFinal(out).transpose(0, 1)


def _args(**over):
    """An args.json as a recent MDM run writes it (50-step model trained with --mask_frames --use_ema)."""
    d = {"arch": "trans_enc", "dataset": "humanml", "latent_dim": W, "layers": L, "cond_mask_prob": 0.1,
         "text_encoder_type": "clip", "mask_frames": True, "pos_embed_max_len": 5000, "use_ema": True,
         "diffusion_steps": 50, "noise_schedule": "cosine", "sigma_small": True, "emb_trans_dec": False,
         "emb_before_mask": False, "unconstrained": False, "lambda_vel": 0.0, "lambda_rcxyz": 0.0, "lambda_fc": 0.0,
         "batch_size": 64, "lr": 1e-4, "save_dir": "save/humanml_enc_512_50steps", "seed": 10, "pred_len": 0,
         "context_len": 0}
    d.update(over)
    return {k: v for k, v in d.items() if v is not None}


def _stats(root: Path, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    mean, std = rng.normal(size=263).astype(np.float32), rng.uniform(0.05, 1.0, size=263).astype(np.float32)
    np.save(root / "Mean.npy", mean)
    np.save(root / "Std.npy", std)
    return mean, std


@pytest.fixture
def mdm_run(tmp_path):
    """A run folder with model000123456.pt ({model, model_avg}), args.json, and a HumanML3D stats folder."""
    run = tmp_path / "save" / "humanml_enc_tiny_50steps"
    run.mkdir(parents=True)
    live, ema = OfficialShapedMDM(seed=0), OfficialShapedMDM(seed=1)
    torch.save({"model": live.state_dict(), "model_avg": ema.state_dict()}, run / "model000123456.pt")
    (run / "args.json").write_text(json.dumps(_args(), indent=4))
    mean, std = _stats(tmp_path / "HumanML3D")
    return {"run": run, "ckpt": run / "model000123456.pt", "live": live, "ema": ema, "hml": tmp_path / "HumanML3D",
            "mean": mean, "std": std, "tmp": tmp_path}


def _compare(model, mdm: OfficialShapedMDM, mask=True, seed=0):
    g = torch.Generator().manual_seed(seed)
    x, te = torch.randn(3, 12, D, generator=g), torch.randn(3, CLIP_DIM, generator=g)
    t = torch.tensor([0, 17, 49])
    m = torch.ones(3, 12, dtype=torch.bool)
    if mask:
        m[1, 9:], m[2, 5:] = False, False
    ref = mdm.reference(x, t, te, m if mask else None)
    with torch.no_grad():
        out = model.eval()(x, t, text_emb=te, mask=m if mask else None)
        uncond = model(x, t, text_emb=te, mask=m if mask else None, force_uncond=torch.ones(3, dtype=torch.bool))
    assert torch.allclose(out[m], ref[m], atol=1e-4), (out[m] - ref[m]).abs().max()
    # unconditional = embed_text of a zero vector (MDM's mask_cond zeroes the CLIP feature)
    ref_u = mdm.reference(x, t, torch.zeros_like(te), m if mask else None)
    assert torch.allclose(uncond[m], ref_u[m], atol=1e-4)


# ----------------------------------------------------------------------------- conversion
def test_convert_ema_mask_frames_run_then_sample(mdm_run):
    out = mdm_run["tmp"] / "gen" / "mdm_tiny.pt"
    conv = convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
    assert conv.weights == "model_avg" and conv.step == 123456 and conv.run.mask_frames
    b = load_generator(out)
    cfg = b.config
    assert cfg["schedule"] == {"kind": "cosine", "num_steps": 50, "variance": "fixed_small"}
    assert b.schedule.num_steps == 50 and b.step == 123456
    assert cfg["text"]["encoder"] == "clip" and cfg["text"]["model"] == "ViT-B/32" and cfg["text"]["dim"] == 512
    assert cfg["text"]["normalize"] is False and cfg["text"]["max_tokens"] == 20 and cfg["text"]["context_length"] == 22
    assert cfg["mdm"]["weights"] == "model_avg" and cfg["mdm"]["mask_frames"] is True
    assert cfg["mdm"]["args"]["save_dir"] == "save/humanml_enc_512_50steps" and cfg["mdm"]["args"]["batch_size"] == 64
    d = cfg["denoiser"]
    assert (d["input_dim"], d["width"], d["layers"], d["heads"], d["ff_dim"], d["text_dim"]) == (263, W, L, H, FF, 512)
    assert d["cond_drop_text"] == 0.1 and d["num_actions"] == 0 and d["max_len"] == 5000
    assert b.representation.name == "hml263"
    np.testing.assert_array_equal(b.representation.mean, mdm_run["mean"])
    np.testing.assert_array_equal(b.representation.std, mdm_run["std"])
    prov = torch.load(out, weights_only=True)["provenance"]
    assert prov["checkpoint"] == "model000123456.pt" and len(prov["checkpoint_sha256"]) == 64
    assert prov["mean_sha256"] and prov["std_sha256"] and prov["args_sha256"]
    # the weights are the EMA ones, and the network computes what MDM computes with them
    _compare(b.model, mdm_run["ema"], mask=True)
    # sampled through the pipeline: variable lengths (frame masks, as --mask_frames was trained with)
    gen = MotionGenerator(b.model, b.representation, b.schedule)
    te = np.random.default_rng(0).normal(size=(2, 512)).astype(np.float32)
    feats = gen.generate_features([30, 24], text_emb=te, steps=5, sampler="ddpm", seed=3)
    assert [f.shape for f in feats] == [(30, 263), (24, 263)] and all(np.isfinite(f).all() for f in feats)
    again = gen.generate_features([30, 24], text_emb=te, steps=5, sampler="ddpm", seed=3)
    np.testing.assert_array_equal(feats[0], again[0])
    joints = gen.generate([30], text_emb=te[:1], steps=5, seed=3)[0]
    assert joints.shape == (30, 22, 3) and np.isfinite(joints).all()


def test_convert_older_run_bare_state_dict_and_sparse_args(tmp_path):
    """Before EMA and the newer flags: a bare state dict (here still holding a few clip_model.* tensors) and an
    args.json without diffusion_steps, mask_frames, use_ema, text_encoder_type or pos_embed_max_len."""
    mdm = OfficialShapedMDM(seed=2)
    sd = dict(mdm.state_dict())
    sd["clip_model.token_embedding.weight"] = torch.zeros(10, 8)
    run = tmp_path / "humanml_trans_enc_512"
    run.mkdir()
    torch.save(sd, run / "model000475000.pt")
    old = _args(diffusion_steps=None, mask_frames=None, use_ema=None, text_encoder_type=None, pos_embed_max_len=None,
                emb_before_mask=None, pred_len=None, context_len=None)
    (run / "args.json").write_text(json.dumps(old))
    _stats(tmp_path / "HumanML3D", seed=4)
    conv = convert_mdm_checkpoint(run / "model000475000.pt", tmp_path / "old.pt", humanml3d=tmp_path / "HumanML3D")
    assert conv.weights == "state_dict" and conv.step == 475000
    b = load_generator(tmp_path / "old.pt")
    assert b.config["schedule"]["num_steps"] == 1000 and b.config["mdm"]["mask_frames"] is False
    _compare(b.model, mdm, mask=False)


def test_ema_choice(mdm_run):
    out = mdm_run["tmp"] / "live.pt"
    assert convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"], use_ema=False).weights == "model"
    _compare(load_generator(out).model, mdm_run["live"], mask=False)
    # a run that did not sample with EMA takes the live weights by default
    (mdm_run["run"] / "args.json").write_text(json.dumps(_args(use_ema=False)))
    assert convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"]).weights == "model"
    # asking for EMA from a file without model_avg falls back to the live weights, as MDM's loader does
    torch.save({"model": mdm_run["live"].state_dict()}, mdm_run["ckpt"])
    assert convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"], use_ema=True).weights == "model"


def test_load_mdm_checkpoint_reads_args_next_to_it(mdm_run):
    m = load_mdm_checkpoint(mdm_run["ckpt"])
    assert m.config.cond_drop_text == 0.1 and m.config.max_len == 5000 and m.config.width == W
    _compare(m, mdm_run["ema"])
    (mdm_run["run"] / "args.json").write_text(json.dumps(_args(cond_mask_prob=0.25, pos_embed_max_len=5000)))
    assert load_mdm_checkpoint(mdm_run["ckpt"], use_ema=False).config.cond_drop_text == 0.25
    with pytest.raises(DataError, match="says layers=3 but the weights have 2"):
        load_mdm_checkpoint(mdm_run["ckpt"], args=_args(layers=3))


def _cli_main():
    spec = importlib.util.spec_from_file_location("kinemic_convert_mdm_tool",
                                                  Path(__file__).resolve().parents[1] / "tools" / "convert_mdm.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.main


def test_cli(mdm_run, capsys):
    main = _cli_main()
    out = mdm_run["tmp"] / "cli.pt"
    assert main([str(mdm_run["ckpt"]), "--humanml3d", str(mdm_run["hml"]), "--out", str(out)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["weights"] == "model_avg" and info["step"] == 123456 and info["schedule"]["num_steps"] == 50
    (mdm_run["hml"] / "Std.npy").unlink()
    assert main([str(mdm_run["ckpt"]), "--humanml3d", str(mdm_run["hml"]), "--out", str(out)]) == 2
    assert "Std.npy, field 'Std'" in capsys.readouterr().err


# ----------------------------------------------------------------------------- bad input
def test_missing_or_bad_stats_fail_before_the_checkpoint_is_read(mdm_run):
    out = mdm_run["tmp"] / "never.pt"
    mdm_run["ckpt"].write_bytes(b"not a checkpoint")       # reading it would raise CacheError
    (mdm_run["hml"] / "Std.npy").unlink()
    with pytest.raises(DataError, match=r"Std.npy, field 'Std': Std.npy not found"):
        convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
    np.save(mdm_run["hml"] / "Std.npy", np.ones(251, np.float32))
    with pytest.raises(DataError, match=r"field 'Std': expected 263 real values"):
        convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
    with pytest.raises(DataError, match="Mean.npy and Std.npy"):
        convert_mdm_checkpoint(mdm_run["ckpt"], out)
    np.save(mdm_run["hml"] / "Std.npy", np.ones(263, np.float32))
    with pytest.raises(CacheError, match="weights_only"):
        convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
    assert not out.exists()


def test_missing_or_unsupported_args_json(mdm_run):
    out = mdm_run["tmp"] / "never.pt"
    args = mdm_run["run"] / "args.json"
    args.unlink()
    with pytest.raises(DataError, match=r"args.json, field 'args.json': args.json not found"):
        convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
    for over, fld in [({"arch": "trans_dec"}, "arch"), ({"dataset": "kit"}, "dataset"),
                      ({"text_encoder_type": "bert"}, "text_encoder_type"), ({"emb_before_mask": True}, "emb_before_mask"),
                      ({"pred_len": 20, "context_len": 20}, "pred_len"), ({"latent_dim": "512"}, "latent_dim"),
                      ({"diffusion_steps": 0}, "diffusion_steps")]:
        args.write_text(json.dumps(_args(**over)))
        with pytest.raises(DataError) as ei:
            convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
        assert ei.value.field == fld and str(args) in str(ei.value), over
    args.write_text("{not json")
    with pytest.raises(DataError, match="not a readable JSON file"):
        read_mdm_args(args)
    assert not out.exists()


def test_checkpoints_of_other_architectures_are_refused(mdm_run):
    out, hml, ckpt = mdm_run["tmp"] / "never.pt", mdm_run["hml"], mdm_run["ckpt"]
    sd = dict(mdm_run["ema"].state_dict())
    # a transformer-decoder MDM (weights say so even if args.json does not)
    dec = {k.replace("seqTransEncoder.", "seqTransDecoder."): v for k, v in sd.items()}
    torch.save(dec, ckpt)
    with pytest.raises(DataError, match="seqTransDecoder.* weights: an MDM 'trans_dec' model") as ei:
        convert_mdm_checkpoint(ckpt, out, humanml3d=hml)
    assert ei.value.field == "arch" and str(ckpt) in str(ei.value)
    # KIT-ML (251-d features)
    kit = OfficialShapedMDM(input_dim=251).state_dict()
    torch.save(kit, ckpt)
    with pytest.raises(DataError, match="KIT-ML's 251-d features") as ei:
        convert_mdm_checkpoint(ckpt, out, humanml3d=hml)
    assert ei.value.field == "input_process.poseEmbedding.weight"
    # something else entirely
    torch.save(nn.Linear(4, 4).state_dict(), ckpt)
    with pytest.raises(DataError, match="not an MDM trans_enc checkpoint"):
        convert_mdm_checkpoint(ckpt, out, humanml3d=hml)
    # args.json and weights disagree
    torch.save(sd, ckpt)
    (mdm_run["run"] / "args.json").write_text(json.dumps(_args(latent_dim=128)))
    with pytest.raises(DataError, match="latent_dim=128 but the weights have 64") as ei:
        convert_mdm_checkpoint(ckpt, out, humanml3d=hml)
    assert ei.value.field == "latent_dim"
    # right architecture, a damaged tensor: every bad key is listed
    (mdm_run["run"] / "args.json").write_text(json.dumps(_args()))
    sd["seqTransEncoder.layers.1.linear2.weight"] = torch.zeros(W, FF + 3)
    torch.save(sd, ckpt)
    with pytest.raises(StateDictMismatchError, match=r"linear2.weight: checkpoint \(64, 131\) vs model \(64, 128\)"):
        convert_mdm_checkpoint(ckpt, out, humanml3d=hml)
    with pytest.raises(MissingWeightsError, match="nothing is downloaded"):
        convert_mdm_checkpoint(ckpt.parent / "model000000001.pt", out, humanml3d=hml)
    assert not out.exists()


def test_run_args_types_and_defaults():
    run = MDMRunArgs.from_dict({"arch": "trans_enc", "latent_dim": 512.0, "cond_mask_prob": 0})
    assert run.latent_dim == 512 and run.cond_mask_prob == 0.0 and run.diffusion_steps == 1000 and not run.mask_frames
    with pytest.raises(DataError, match="field 'mask_frames': expected bool"):
        MDMRunArgs.from_dict({"mask_frames": "yes"}, source="args.json")
    with pytest.raises(DataError, match="field 'layers': expected int"):
        MDMRunArgs.from_dict({"layers": 8.5})


# ----------------------------------------------------------------------------- text, as MDM embeds it
needs_transformers = pytest.mark.skipif(importlib.util.find_spec("transformers") is None,
                                        reason="transformers not installed (extra 'clip')")


@pytest.fixture
def tiny_clip(tmp_path):
    """A random OpenAI-format CLIP text tower (projection 512, as ViT-B/32) and its BPE file (test helpers
    of tests/test_text.py)."""
    from test_text import random_openai_text_state_dict, write_small_bpe

    from kinemic_aug.text.clip_bpe import clip_vocab_from_bpe

    bpe = write_small_bpe(tmp_path / "bpe.txt.gz")
    vocab, _ = clip_vocab_from_bpe(bpe)
    sd = random_openai_text_state_dict(len(vocab), width=64, layers=2, proj=512, seed=3)
    path = tmp_path / "ViT-B-32-tiny.pt"
    torch.save(sd, path)
    return path, bpe, sd


@needs_transformers
def test_mdm_text_features_are_raw_and_cut_to_20_tokens(tiny_clip):
    from test_text import openai_reference_forward

    from kinemic_aug.text.clip import ClipTextEncoder, mdm_clip_encoder

    path, bpe, sd = tiny_clip
    enc = mdm_clip_encoder(path, bpe_path=bpe)
    assert enc.dim == 512 and not enc.normalize and enc.context_length == 22
    long = " ".join(["a person walks forward"] * 8)                         # 32 BPE tokens
    texts = ["a person walks forward", long]
    out = enc.encode(texts)
    ids = enc.tokenize(texts)
    assert ids.shape == (2, 22) and (ids[1, 1:21] != ids[1, 21]).all()      # start + 20 tokens + end
    with torch.no_grad():
        ref = openai_reference_forward(sd, ids, heads=1).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-4)                          # raw: not unit length
    assert abs(float(np.linalg.norm(out[0])) - 1.0) > 1e-2
    # the 77-token, normalised pairing encoder sees the whole long caption and gives unit vectors
    pair = ClipTextEncoder(path, bpe_path=bpe)
    full = pair.encode(texts)
    np.testing.assert_allclose(np.linalg.norm(full, axis=1), 1.0, atol=1e-5)
    np.testing.assert_allclose(full[0], out[0] / np.linalg.norm(out[0]), atol=1e-5)
    assert np.abs(full[1] - out[1] / np.linalg.norm(out[1])).max() > 1e-3
    assert enc.identifier != pair.identifier and enc.identifier.endswith(":raw") and ":ctx=22" in enc.identifier


@needs_transformers
def test_clip_weights_of_the_wrong_size_are_refused_at_once(tmp_path):
    from test_text import random_openai_text_state_dict, write_small_bpe

    from kinemic_aug.text.clip import clip_encoder_from_config, mdm_clip_encoder
    from kinemic_aug.text.clip_bpe import clip_vocab_from_bpe

    bpe = write_small_bpe(tmp_path / "bpe.txt.gz")
    vocab, _ = clip_vocab_from_bpe(bpe)
    path = tmp_path / "ViT-L-14-tiny.pt"
    torch.save(random_openai_text_state_dict(len(vocab), width=64, proj=768), path)
    with pytest.raises(DataError, match=r"give 768-d text features, expected 512-d") as ei:
        mdm_clip_encoder(path, bpe_path=bpe)
    assert ei.value.field == "text_projection" and str(path) in str(ei.value)
    with pytest.raises(DataError, match="not CLIP"):
        clip_encoder_from_config({"encoder": "minilm", "dim": 384}, path, bpe_path=bpe)


@needs_transformers
def test_converted_generator_samples_from_captions_with_its_recorded_text_recipe(mdm_run, tiny_clip):
    from kinemic_aug.text.clip import clip_encoder_from_config

    path, bpe, _ = tiny_clip
    out = mdm_run["tmp"] / "gen.pt"
    convert_mdm_checkpoint(mdm_run["ckpt"], out, humanml3d=mdm_run["hml"])
    b = load_generator(out)
    enc = clip_encoder_from_config(b.config["text"], path, bpe_path=bpe)
    gen = MotionGenerator(b.model, b.representation, b.schedule, text_encoder=enc)
    caps = ["a person walks forward", "a person jumps"]
    a = gen.generate_features([20, 20], texts=caps, steps=4, seed=0)
    c = gen.generate_features([20, 20], text_emb=enc.encode(caps), steps=4, seed=0)
    np.testing.assert_allclose(a[0], c[0], atol=1e-5)
    assert np.abs(a[0] - a[1]).max() > 1e-3
