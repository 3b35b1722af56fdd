"""``SynthesisConfig.residual``: an anchored sample keeps its shot plus what the chain changed beyond the
generator's own reconstruction of that shot, so a bias the generator applies to every clean shot is removed."""
from __future__ import annotations

import numpy as np
import pytest

from kinemic_aug.data.seed import load_seed_corpus
from kinemic_aug.generator.checkpoint import load_generator
from kinemic_aug.synthesis import SynthesisConfig, synthesize_class
from kinemic_aug.synthesis.config import RECONSTRUCTION_STRENGTH


def test_needs_anchoring_is_off_by_default_and_left_out_of_the_key():
    assert SynthesisConfig().residual is False and "residual" not in SynthesisConfig().to_dict()
    assert SynthesisConfig(shot_strength=0.3, residual=True).to_dict()["residual"] is True
    with pytest.raises(ValueError, match="anchored sampling"):
        SynthesisConfig(residual=True)
    rec = SynthesisConfig(shot_strength=0.3, residual=True, sampler="ddpm", eta=1.0).reconstruction()
    assert (rec.shot_strength, rec.sampler, rec.eta, rec.residual) == (RECONSTRUCTION_STRENGTH, "ddim", 0.0, False)


def _draw(bundle, shots, text, strength, **kw):
    cfg = SynthesisConfig(steps=4, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                          rechain_bones=False, shot_strength=strength, **kw)
    return synthesize_class(bundle.model, bundle.representation, bundle.schedule, n=4, shot_joints=shots,
                            class_text_emb=text, action=None, cfg=cfg, seed=5)


def test_a_clean_shot_comes_back_as_itself_and_the_generators_bias_is_removed(tiny_generator):
    """The tiny generator is barely trained: started from a clean shot it returns something else (its bias).
    With ``residual``, a sample drawn at the reconstruction's own strength is the shot; at a higher strength
    it differs from the shot exactly by what the chain changed beyond the reconstruction."""
    bundle = load_generator(tiny_generator["path"])
    rep = bundle.representation
    shots = [c.joints[:30] for c in list(load_seed_corpus())[:2]]
    canon = [rep.decode(rep.encode(s)) for s in shots]
    text = np.random.default_rng(0).normal(size=(2, bundle.model.config.text_dim)).astype(np.float32)

    plain, _, infos = _draw(bundle, shots, text, RECONSTRUCTION_STRENGTH)
    kept, _, infos_r = _draw(bundle, shots, text, RECONSTRUCTION_STRENGTH, residual=True)
    assert infos == infos_r
    for p, k, info in zip(plain, kept, infos):
        shot = canon[info["shot_index"]]
        assert np.abs(p - shot).mean() > 0.05                              # the untrained generator's bias
        # what is left is only the difference between two draws of t=0 noise: far below that bias
        assert np.abs(k - shot).mean() < 0.1 * np.abs(p - shot).mean()

    free, _, infos = _draw(bundle, shots, text, 0.6)
    resid, _, _ = _draw(bundle, shots, text, 0.6, residual=True)
    for f, r, info in zip(free, resid, infos):
        # the same chain: the residual sample is the free one moved by (shot - reconstruction), one offset per shot
        offset = r - f
        assert np.abs(offset).mean() > 0.05
        same_shot = [r2 - f2 for f2, r2, i2 in zip(free, resid, infos) if i2["shot_index"] == info["shot_index"]]
        for o in same_shot:
            np.testing.assert_allclose(o, offset, atol=1e-5)


def test_residual_in_target_needs_residual_and_keeps_the_recorded_joints(msr_pkl):
    """A sample equal to its shot brought through the bridge is the recorded shot itself (real hands and
    Kinect noise included); a change on top of the bridged shot is carried onto the recorded one."""
    import pickle

    from kinemic_aug.augmenter.annotations import on_recorded_shot
    from kinemic_aug.generator.dataset_space import TargetDomain

    with pytest.raises(ValueError, match="needs residual"):
        SynthesisConfig(shot_strength=0.3, residual_in_target=True)
    assert "residual_in_target" not in SynthesisConfig(shot_strength=0.3, residual=True).to_dict()
    with open(msr_pkl, "rb") as f:
        shot = pickle.load(f)["annotations"][0]["keypoint"]
    dom = TargetDomain("msr_action3d", 15)
    bridged = dom.from_generator(dom.to_generator(shot), reference=shot)
    assert np.abs(bridged[0, :shot.shape[1]] - shot[0, :bridged.shape[1]]).max() > 0.01  # the bridge changes joints
    np.testing.assert_allclose(on_recorded_shot(bridged, shot, dom), shot[:1], atol=1e-5)
    lift = np.zeros_like(bridged)
    lift[0, :, 11] = [0.0, 0.1, 0.0]                                     # one joint raised by 10 cm
    out = on_recorded_shot(bridged + lift, shot, dom)
    assert out.shape == shot[:1].shape
    np.testing.assert_allclose(out[0, :, 11] - shot[0, :, 11], np.tile([0.0, 0.1, 0.0], (shot.shape[1], 1)), atol=1e-5)
    others = [j for j in range(shot.shape[2]) if j != 11]
    np.testing.assert_allclose(out[0][:, others], shot[0][:, others], atol=1e-5)


def test_residual_with_a_representation_that_drops_a_frame(tmp_path):
    """hml263 encodes T joint frames as T-1 feature frames. The canonical shot is padded like the anchored
    start, so residual samples keep their shot's length (an untrained hml263 denoiser; only shapes and the
    reconstruction offset are checked)."""
    import torch

    from kinemic_aug.generator import DenoiserConfig, MotionDenoiser, NoiseSchedule, get_representation
    from kinemic_aug.synthesis.sampling import canonical_shot

    shots = [c.joints[:30] for c in list(load_seed_corpus())[:2]]
    rep = get_representation("hml263").fit(shots)
    assert len(rep.encode(shots[0])) == 29
    canon = canonical_shot(rep, shots[0])
    assert canon.shape == shots[0].shape
    np.testing.assert_allclose(canon[:29], rep.decode(rep.encode(shots[0])), atol=1e-5)
    torch.manual_seed(0)
    model = MotionDenoiser(DenoiserConfig.preset("tiny", input_dim=263, text_dim=8))
    text = np.random.default_rng(0).normal(size=(2, 8)).astype(np.float32)
    cfg = SynthesisConfig(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                          rechain_bones=False, shot_strength=0.5, residual=True)
    kept, _, infos = synthesize_class(model, rep, NoiseSchedule.make("cosine", 50), n=4, shot_joints=shots,
                                      class_text_emb=text, action=None, cfg=cfg, seed=1)
    assert len(kept) == 4
    for k, info in zip(kept, infos):
        assert k.shape == shots[info["shot_index"]].shape and np.isfinite(k).all()
