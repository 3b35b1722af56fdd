"""Pipeline steps (har.datasets.transforms): each step's effect on a PYSKL results dict.

The skeletons here are procedural (random joint offsets along the layout's tree): synthetic test
fixtures, not real motion.
"""
from __future__ import annotations

import numpy as np
import pytest

from har.datasets.transforms import (FormatGCNInput, GenSkeFeat, PackGCNInputs, PoseDecode, PreNormalize3D,
                                     RandomGaussianNoise, RandomRot, RandomScale, RandomShear, UniformSample)
from kinemic_aug.errors import DataError
from kinemic_aug.skeleton import get_layout


def synthetic_skeleton(layout="msr_action3d", m=1, t=30, seed=0) -> np.ndarray:
    """[M, T, V, 3] tree-shaped skeletons (synthetic): each joint = parent + a fixed bone + small drift."""
    lay = get_layout(layout)
    rng = np.random.default_rng(seed)
    bones = rng.normal(0, 0.15, size=(m, 1, lay.num_joints, 3))
    drift = rng.normal(0, 0.01, size=(m, t, lay.num_joints, 3)).cumsum(1)
    kp = np.zeros((m, t, lay.num_joints, 3))
    order = sorted(range(lay.num_joints), key=lambda j: _depth(lay, j))
    for j in order:
        p = lay.parents[j]
        kp[:, :, j] = (kp[:, :, p] if p >= 0 else 1.0) + bones[:, :, j] + drift[:, :, j]
    return kp.astype(np.float32)


def _depth(lay, j):
    d = 0
    while lay.parents[j] != -1:
        j, d = lay.parents[j], d + 1
    return d


def results_for(layout="msr_action3d", **kw) -> dict:
    kp = synthetic_skeleton(layout, **kw)
    return dict(frame_dir="synthetic_000", label=3, keypoint=kp, total_frames=kp.shape[1], layout=layout,
                is_synthetic=True)


def bone_lengths(kp: np.ndarray, layout="msr_action3d") -> np.ndarray:
    lay = get_layout(layout)
    return np.stack([np.linalg.norm(kp[..., j, :] - kp[..., p, :], axis=-1) for j, p in lay.edges()], -1)


def test_prenormalize_uses_the_layout_joints():
    lay = get_layout("msr_action3d")
    r = PreNormalize3D()(results_for())
    kp = r["keypoint"]
    np.testing.assert_allclose(kp[0, 0, lay.center], 0.0, atol=1e-6)  # hip_center at the origin
    spine = kp[0, 0, lay.zaxis[1]] - kp[0, 0, lay.zaxis[0]]
    np.testing.assert_allclose(spine / np.linalg.norm(spine), [0, 0, 1], atol=1e-5)
    across = kp[0, 0, lay.xaxis[0]] - kp[0, 0, lay.xaxis[1]]
    assert across[0] > 0 and abs(across[1]) < 1e-5
    assert r["total_frames"] == kp.shape[1]
    np.testing.assert_allclose(bone_lengths(kp), bone_lengths(results_for()["keypoint"]), rtol=1e-4)


def test_prenormalize_without_layout_is_an_error_not_an_ntu_guess():
    res = results_for()
    del res["layout"]
    with pytest.raises(DataError, match="layout"):
        PreNormalize3D()(res)
    with pytest.raises(DataError, match="joints"):
        PreNormalize3D(layout="nturgb+d")(results_for())  # 20 joints are not NTU's 25


def test_random_rot_preserves_bone_lengths_and_changes_coordinates():
    np.random.seed(0)
    res = results_for()
    before = res["keypoint"].copy()
    after = RandomRot(theta=0.3)(res)["keypoint"]
    assert not np.allclose(after, before)
    np.testing.assert_allclose(bone_lengths(after), bone_lengths(before), rtol=1e-4, atol=1e-6)
    # norms about the origin are kept too (a pure rotation)
    np.testing.assert_allclose(np.linalg.norm(after, axis=-1), np.linalg.norm(before, axis=-1), rtol=1e-4)


def test_random_scale_scales_bones():
    np.random.seed(1)
    res = results_for()
    before = bone_lengths(res["keypoint"])
    out = RandomScale(scale=0.2, anisotropic=False)(res)
    f = out["scale_factor"][0]
    assert 0.8 <= f <= 1.2 and f != 1.0
    np.testing.assert_allclose(bone_lengths(out["keypoint"]), before * f, rtol=1e-4)
    # anisotropic: each axis scaled by its own factor within bounds
    res = results_for()
    kp0 = res["keypoint"].copy()
    out = RandomScale(scale=0.2)(res)
    ratio = out["keypoint"][..., :] / kp0
    np.testing.assert_allclose(ratio, np.broadcast_to(out["scale_factor"], ratio.shape), rtol=1e-4)
    assert np.all(np.abs(out["scale_factor"] - 1) <= 0.2)


def test_random_shear_is_linear_and_keeps_missing_joints_zero():
    np.random.seed(2)
    res = results_for()
    res["keypoint"][0, :, 5] = 0  # a missing joint
    kp0 = res["keypoint"].copy()
    out = RandomShear(shear=0.5)(res)["keypoint"]
    assert np.all(out[0, :, 5] == 0)
    # recover the matrix from three independent points and check it is I + off-diagonal terms
    pts = kp0[0, 0, [0, 1, 2]]
    mat = np.linalg.solve(pts, out[0, 0, [0, 1, 2]]).T
    np.testing.assert_allclose(np.diag(mat), 1.0, atol=1e-4)
    off = mat - np.diag(np.diag(mat))
    assert np.all(np.abs(off) <= 0.5 + 1e-4) and np.abs(off).max() > 0


def test_gaussian_noise_is_relative_to_extent():
    np.random.seed(3)
    res = results_for(t=200)
    kp0 = res["keypoint"].copy()
    out = RandomGaussianNoise(sigma=0.01)(res)["keypoint"]
    noise = out - kp0
    extent = kp0.max(axis=2) - kp0.min(axis=2)  # [M, T, 3]
    rel = noise / extent[:, :, None, :]
    assert abs(rel.std() - 0.01) < 0.001
    # a ten times bigger skeleton gets ten times the noise
    np.random.seed(3)
    res = results_for(t=200)
    res["keypoint"] = res["keypoint"] * 10
    out10 = RandomGaussianNoise(sigma=0.01)(res)["keypoint"]
    np.testing.assert_allclose(out10 - kp0 * 10, noise * 10, rtol=1e-3, atol=1e-5)


def test_genskefeat_bones_and_motion():
    lay = get_layout("msr_action3d")
    res = results_for()
    kp = res["keypoint"].copy()
    out = GenSkeFeat(feats=["j", "b", "jm", "bm"])(res)["keypoint"]
    assert out.shape == kp.shape[:-1] + (12,)
    np.testing.assert_allclose(out[..., :3], kp)
    for j, p in lay.bones():
        np.testing.assert_allclose(out[..., j, 3:6], kp[..., j, :] - kp[..., p, :], atol=1e-6)
    assert np.all(out[..., lay.root, 3:6] == 0)  # the root is paired with itself
    np.testing.assert_allclose(out[:, :-1, :, 6:9], kp[:, 1:] - kp[:, :-1], atol=1e-6)
    assert np.all(out[:, -1, :, 6:9] == 0)
    np.testing.assert_allclose(out[:, :-1, :, 9:12], out[:, 1:, :, 3:6] - out[:, :-1, :, 3:6], atol=1e-6)


def test_genskefeat_uses_ntu_bone_pairs():
    lay = get_layout("nturgb+d")
    res = results_for("nturgb+d")
    kp = res["keypoint"].copy()
    b = GenSkeFeat(feats=["b"])(res)["keypoint"]
    np.testing.assert_allclose(b[..., 21, :], kp[..., 21, :] - kp[..., 22, :], atol=1e-6)  # hand tip - thumb
    assert lay.bones()  # sanity


def test_uniform_sample_train_and_test_modes():
    res = dict(frame_dir="synthetic_1", total_frames=50)
    us = UniformSample(clip_len=10)
    inds = us(dict(res))["frame_inds"]
    assert inds.shape == (10,) and np.all(np.diff(inds) > 0) and inds.max() < 50
    # one index per segment of 5 frames
    np.testing.assert_array_equal(inds // 5, np.arange(10))
    test = UniformSample(clip_len=10, num_clips=10, test_mode=True)
    np.random.seed(0)
    a = test(dict(res))["frame_inds"]
    np.random.seed(123)
    b = test(dict(res))["frame_inds"]
    np.testing.assert_array_equal(a, b)
    assert a.shape == (100,)
    assert len({tuple(c) for c in a.reshape(10, 10)}) > 1  # the clips differ from each other
    # short sequences loop
    short = us(dict(frame_dir="s", total_frames=4))["frame_inds"]
    assert short.shape == (10,) and set(short.tolist()) == {0, 1, 2, 3}


def test_uniform_sample_p_interval_crops():
    np.random.seed(0)
    us = UniformSample(clip_len=8, p_interval=(0.5, 0.5))
    spans = []
    for _ in range(50):
        inds = us(dict(frame_dir="s", total_frames=100))["frame_inds"]
        spans.append(inds.max() - inds.min())
        assert inds.min() >= 0 and inds.max() < 100
    assert max(spans) < 50


def test_pose_decode_and_format_gcn_input_pads_persons():
    res = results_for(m=1, t=40)
    res = UniformSample(clip_len=16, num_clips=2, test_mode=True)(res)
    res = PoseDecode()(res)
    assert res["keypoint"].shape == (1, 32, 20, 3)
    zero = FormatGCNInput(num_person=2, mode="zero")(dict(res))["keypoint"]
    assert zero.shape == (2, 2, 16, 20, 3)
    assert np.all(zero[:, 1] == 0) and np.any(zero[:, 0] != 0)
    loop = FormatGCNInput(num_person=2, mode="loop")(dict(res))["keypoint"]
    np.testing.assert_array_equal(loop[:, 1], loop[:, 0])
    # truncation of extra persons
    two = results_for(m=3, t=16)
    out = FormatGCNInput(num_person=2)(two)["keypoint"]
    assert out.shape == (1, 2, 16, 20, 3)


def test_pack_inputs_and_bad_input_errors():
    res = results_for()
    for step in (PreNormalize3D(), GenSkeFeat(), UniformSample(clip_len=8), PoseDecode(), FormatGCNInput(1)):
        res = step(res)
    packed = PackGCNInputs()(res)
    assert tuple(packed["inputs"].shape) == (1, 1, 8, 20, 3)
    assert int(packed["data_samples"].gt_label) == 3
    assert packed["data_samples"].metainfo["is_synthetic"] is True
    bad = dict(frame_dir="broken_01", keypoint=np.zeros((20, 3)), total_frames=20, layout="msr_action3d")
    with pytest.raises(DataError, match="broken_01"):
        GenSkeFeat(feats=["b"])(bad)
    with pytest.raises(DataError, match="total_frames"):
        UniformSample(clip_len=8)(dict(frame_dir="x", keypoint=np.zeros((1, 5, 20, 3)), total_frames=7))
