"""``SynthesisConfig.travel_cap``: samples that wander farther than the class's shots are pulled back on the
ground plane, their pose and vertical motion kept; off, nothing changes and no cache key moves."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from kinemic_aug.generator.checkpoint import load_generator
from kinemic_aug.generator.dataset_space import TargetDomain
from kinemic_aug.synthesis import SynthesisConfig, synthesize_class
from kinemic_aug.synthesis.filter import ShotStats, cap_travel, motion_speed, root_travel


def _walker(t: int = 40, speed: float = 0.05) -> np.ndarray:
    """A 22-joint body whose joints sway and bob while the whole body walks along +x and drifts in z."""
    rng = np.random.default_rng(0)
    pose = rng.normal(size=(22, 3)).astype(np.float32) * 0.3
    k = np.arange(t, dtype=np.float32)[:, None, None]
    x = np.repeat(pose[None], t, 0)
    limbs = (np.arange(22) > 0)[None, :, None]
    x = x + 0.05 * np.sin(0.3 * k + np.arange(22)[None, :, None]) * limbs  # limbs move relative to the root
    x[:, :, 0] += speed * k[:, :, 0]
    x[:, :, 2] += 0.5 * speed * k[:, :, 0]
    x[:, :, 1] += 0.1 * np.sin(0.5 * k[:, :, 0])  # vertical bob
    return x


def test_cap_travel_bounds_the_ground_path_and_keeps_pose_and_height():
    x = _walker()
    before = root_travel(x)
    assert before == pytest.approx(np.hypot(0.05, 0.025) * 39, rel=1e-5)
    y = cap_travel(x, 0.4)
    assert root_travel(y) == pytest.approx(0.4, rel=1e-5)
    np.testing.assert_allclose(y - y[:, :1], x - x[:, :1], atol=1e-6)      # the pose relative to the root
    np.testing.assert_allclose(y[:, :, 1], x[:, :, 1], atol=1e-6)           # vertical motion untouched
    np.testing.assert_allclose(y[0], x[0], atol=1e-6)                       # it still starts where it started
    assert motion_speed(y) == pytest.approx(motion_speed(x), rel=1e-5)      # the static filter sees the same
    # the path keeps its direction: every frame's ground displacement is the original's, scaled
    d0, d1 = x[:, 0, [0, 2]] - x[0, 0, [0, 2]], y[:, 0, [0, 2]] - y[0, 0, [0, 2]]
    np.testing.assert_allclose(d1, d0 * (0.4 / before), atol=1e-6)
    assert cap_travel(x, before + 1.0) is x                                 # within the cap: returned as is


def test_shot_stats_record_the_farthest_shot():
    a, b = _walker(speed=0.01), _walker(speed=0.03)
    assert ShotStats.from_shots([a, b]).max_travel == pytest.approx(root_travel(b))


def test_off_by_default_and_left_out_of_the_key():
    assert SynthesisConfig().travel_cap is None
    assert "travel_cap" not in SynthesisConfig().to_dict()         # keys of sets made before the option still match
    assert SynthesisConfig(travel_cap=1.0).to_dict()["travel_cap"] == 1.0
    for bad in (0.0, -1.0):
        with pytest.raises(ValueError, match="travel_cap"):
            SynthesisConfig(travel_cap=bad)


def test_sampled_classes_travel_no_farther_than_their_shots(msr_pkl, tiny_generator):
    bundle = load_generator(tiny_generator["path"])
    with open(msr_pkl, "rb") as f:
        anns = pickle.load(f)["annotations"]
    dom = TargetDomain("msr_action3d", 15)
    shots = [dom.to_generator(a["keypoint"]) for a in anns if a["label"] == 15][:2]  # jogging
    text = np.random.default_rng(0).normal(size=(2, bundle.model.config.text_dim)).astype(np.float32)
    cap = max(root_travel(s) for s in shots)

    def draw(**kw):
        cfg = SynthesisConfig(steps=3, batch_size=16, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9, **kw)
        return synthesize_class(bundle.model, bundle.representation, bundle.schedule, n=6, shot_joints=shots,
                                class_text_emb=text, action=None, cfg=cfg, seed=3)[0]

    free, capped = draw(), draw(travel_cap=0.5)
    assert max(root_travel(s) for s in free) > 0.5 * cap  # the untrained generator wanders: the cap has work to do
    assert all(root_travel(s) <= 0.5 * cap + 1e-5 for s in capped)
    for f, c in zip(free, capped):  # the same draws, only the ground path moved
        np.testing.assert_allclose(c - c[:, :1], f - f[:, :1], atol=1e-5)
