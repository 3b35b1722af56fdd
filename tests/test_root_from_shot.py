"""``SynthesisConfig.root_from_shot``: each sample moves along the root path of its class's shot (ground plane
and height, resampled, turned to the sample's heading) with its own pose kept; off, nothing changes and no
cache key moves."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from kinemic_aug.generator.checkpoint import load_generator
from kinemic_aug.generator.dataset_space import TargetDomain
from kinemic_aug.skeleton.layout import get_layout
from kinemic_aug.synthesis import SynthesisConfig, synthesize_class
from kinemic_aug.synthesis.root_path import resample_path, root_path_from

SMPL = get_layout("smpl22")


def _body(t: int, heading: float, path: np.ndarray) -> np.ndarray:
    """A real SMPL-22 rest pose, turned to ``heading`` (radians about +y), its limbs swinging, moved along ``path``."""
    from kinemic_aug.data.seed import load_seed_corpus

    pose = np.asarray(next(iter(load_seed_corpus())).joints[0], dtype=np.float64)
    pose = pose - pose[SMPL.root]
    c, s = np.cos(heading), np.sin(heading)
    rot = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    k = np.arange(t)[:, None, None]
    x = np.repeat(pose[None], t, 0) + 0.03 * np.sin(0.4 * k + np.arange(22)[None, :, None]) * (np.arange(22) > 0)[
        None, :, None]
    return (x @ rot.T + path[:, None, :]).astype(np.float32)


def test_resample_path_keeps_ends_and_interpolates():
    p = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 3.0]])
    r = resample_path(p, 5)
    np.testing.assert_allclose(r[[0, -1]], p)
    np.testing.assert_allclose(r[2], [0.5, 1.0, 1.5])
    np.testing.assert_allclose(resample_path(p, 2), p)


def test_the_sample_takes_the_shots_path_turned_to_its_heading_and_keeps_its_pose():
    t = 30
    k = np.arange(t, dtype=np.float64)[:, None]
    drift = np.hstack([0.04 * k, 0.9 + 0.0 * k, 0.02 * k])                  # a sample that walks off
    shot_path = np.hstack([0.01 * np.sin(k), 0.9 - 0.2 * np.sin(0.2 * k), 0.003 * k])  # a shot that bends on the spot
    sample = _body(t, 0.0, drift)
    shot = _body(20, np.pi / 2, resample_path(shot_path, 20))               # faces +x instead of +z, 20 frames
    out = root_path_from(sample, shot)
    np.testing.assert_allclose(out - out[:, :1], sample - sample[:, :1], atol=1e-5)  # pose relative to the root
    np.testing.assert_allclose(out[0], sample[0], atol=1e-5)                          # starts where it started
    # its displacement is the shot's, resampled to 30 frames and turned from +x-facing to +z-facing
    theirs = resample_path(shot[:, SMPL.root] - shot[0, SMPL.root], t)
    back = np.array([[0.0, 0.0, -1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])  # -90 degrees about +y: +x-facing -> +z
    np.testing.assert_allclose(back @ [1.0, 0.0, 0.0], [0.0, 0.0, 1.0])
    np.testing.assert_allclose(out[:, SMPL.root] - out[0, SMPL.root], theirs @ back.T, atol=1e-4)
    # the shot's drift along +z (sideways for a body facing +x) becomes the sample's drift along -x
    assert (out[-1, SMPL.root, 0] - out[0, SMPL.root, 0]) * (theirs[-1, 2]) < 0
    # the vertical motion is the shot's bend, not the sample's flat path
    np.testing.assert_allclose(out[:, SMPL.root, 1] - out[0, SMPL.root, 1], theirs[:, 1], atol=1e-5)
    with pytest.raises(ValueError, match="must both be"):
        root_path_from(sample, shot[:, :10])


def test_off_by_default_and_left_out_of_the_key():
    assert SynthesisConfig().root_from_shot is False
    assert "root_from_shot" not in SynthesisConfig().to_dict()      # keys of sets made before the option still match
    assert SynthesisConfig(root_from_shot=True).to_dict()["root_from_shot"] is True


def test_sampled_classes_follow_their_shots(msr_pkl, tiny_generator):
    bundle = load_generator(tiny_generator["path"])
    with open(msr_pkl, "rb") as f:
        anns = pickle.load(f)["annotations"]
    dom = TargetDomain("msr_action3d", 15)
    shots = [dom.to_generator(a["keypoint"]) for a in [a for a in anns if a["label"] == 12][:2]]  # bend
    text = np.random.default_rng(0).normal(size=(2, bundle.model.config.text_dim)).astype(np.float32)

    def draw(**kw):
        cfg = SynthesisConfig(steps=3, batch_size=16, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                              rechain_bones=False, shot_strength=0.5, **kw)
        return synthesize_class(bundle.model, bundle.representation, bundle.schedule, n=4, shot_joints=shots,
                                class_text_emb=text, action=None, cfg=cfg, seed=3)

    free, _, _ = draw()
    moved, _, infos = draw(root_from_shot=True)
    r = SMPL.root
    for f, m, info in zip(free, moved, infos):
        shot = shots[info["shot_index"]]
        np.testing.assert_allclose(m - m[:, :1], f - f[:, :1], atol=1e-5)   # the same draws, only the path moved
        own = np.abs(f[:, r, 1] - f[0, r, 1] - (shot[:, r, 1] - shot[0, r, 1])).max()
        np.testing.assert_allclose(m[:, r, 1] - m[0, r, 1], shot[:, r, 1] - shot[0, r, 1], atol=1e-4)  # the bend
        assert own > 1e-3                                                    # the untrained generator's was not it
