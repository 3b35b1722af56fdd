import pytest
import torch

from kinemic_aug.errors import CacheError
from kinemic_aug.utils.checksum import content_checksum, verify_checksum, with_checksum


def test_checksum_covers_tensor_bytes_and_plain_values():
    p = {"model": {"w": torch.arange(6, dtype=torch.float32).view(2, 3)}, "step": 3, "cfg": {"a": [1, 2]}}
    base = content_checksum(p)
    assert base == content_checksum({"step": 3, "cfg": {"a": [1, 2]}, "model": {"w": torch.arange(6.).view(2, 3)}})
    flipped = {**p, "model": {"w": p["model"]["w"].clone()}}
    flipped["model"]["w"].view(-1).view(torch.int32)[4] ^= 1  # one bit of one float
    assert content_checksum(flipped) != base
    assert content_checksum({**p, "step": 4}) != base
    assert content_checksum({**p, "model": {"w": p["model"]["w"].double()}}) != base  # dtype counts


def test_verify_detects_a_bit_flip_after_a_save_load_roundtrip(tmp_path):
    from kinemic_aug.generator import DenoiserConfig, MotionDenoiser, get_representation
    from kinemic_aug.generator.checkpoint import load_checkpoint, save_checkpoint

    m = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=66, text_dim=8))
    import numpy as np

    rep = get_representation("xyz", "smpl22").set_stats(np.zeros(66, np.float32), np.ones(66, np.float32))
    path = save_checkpoint(tmp_path / "g.pt", {"model": m.state_dict(), "config": {"denoiser": m.config.to_dict()},
                                               "representation": rep.state_dict(), "step": 1})
    assert load_checkpoint(path)["step"] == 1
    ck = torch.load(path, weights_only=True)
    name = next(k for k, v in ck["model"].items() if v.dtype == torch.float32 and v.numel() > 10)
    ck["model"][name].view(-1).view(torch.int32)[3] ^= 1 << 20
    torch.save(ck, path)  # a silent corruption that still unpickles
    with pytest.raises(CacheError, match="checksum mismatch"):
        load_checkpoint(path)


def test_payloads_without_checksum_still_load():
    verify_checksum({"a": 1})
    verify_checksum(with_checksum({"a": torch.ones(2)}))


def test_exported_inference_checkpoint_samples_like_the_ema_weights(tmp_path):
    import numpy as np

    from kinemic_aug.generator import DenoiserConfig, MotionDenoiser, get_representation
    from kinemic_aug.generator.checkpoint import export_inference_checkpoint, load_generator, save_checkpoint

    m = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=66, text_dim=8))
    params = {n for n, _ in m.named_parameters()}
    ema = {k: v + 1.0 if k in params else v for k, v in m.state_dict().items()}  # buffers (pe) never train
    rep = get_representation("xyz", "smpl22").set_stats(np.zeros(66, np.float32), np.ones(66, np.float32))
    cfg = {"denoiser": m.config.to_dict(), "schedule": {"kind": "cosine", "num_steps": 50}}
    src = save_checkpoint(tmp_path / "train.pt", {"model": m.state_dict(), "ema": ema, "optimizer": {"x": torch.ones(3)},
                                                  "config": cfg, "representation": rep.state_dict(), "step": 7})
    dst = export_inference_checkpoint(src, tmp_path / "infer.pt", extra={"note": "test"})
    a, b = load_generator(src), load_generator(dst)
    for k, v in a.model.state_dict().items():
        assert torch.equal(v, b.model.state_dict()[k])
    slim = torch.load(dst, weights_only=True)
    assert "optimizer" not in slim and slim["provenance"] == {"note": "test"} and b.step == 7
