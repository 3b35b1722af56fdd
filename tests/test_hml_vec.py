import os
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.hml_vec import (HML_DIM, HML_SLICES, HUMANML3D_BONE_LENGTHS, KINEMATIC_CHAINS, PARENTS,
                                      REST_DIRECTIONS, HmlVecConfig, canonical_info, from_canonical, heading_angles,
                                      joints_to_hml_vec, recover_from_ric, recover_with_last_frame, root_rotations,
                                      to_canonical, uniform_skeleton)
from kinemic_aug.errors import DataError
from kinemic_aug.skeleton.layout import get_layout

FPS = 20.0
L = get_layout("smpl22")

# A standing body in its own frame: facing +z, y up, its left side at +x (SMPL convention).
_REST = {
    "pelvis": (0, .95, 0), "L_hip": (.09, .87, 0), "R_hip": (-.09, .87, 0), "spine1": (0, 1.05, 0),
    "L_knee": (.1, .48, 0), "R_knee": (-.1, .48, 0), "spine2": (0, 1.18, 0), "L_ankle": (.1, .08, 0),
    "R_ankle": (-.1, .08, 0), "spine3": (0, 1.32, 0), "L_foot": (.1, .02, .12), "R_foot": (-.1, .02, .12),
    "neck": (0, 1.5, 0), "L_collar": (.07, 1.42, 0), "R_collar": (-.07, 1.42, 0), "head": (0, 1.62, .03),
    "L_shoulder": (.18, 1.42, 0), "R_shoulder": (-.18, 1.42, 0), "L_elbow": (.2, 1.15, 0),
    "R_elbow": (-.2, 1.15, 0), "L_wrist": (.21, .9, .02), "R_wrist": (-.21, .9, .02),
}
REST = np.array([_REST[n] for n in L.joint_names], dtype=np.float64)


def _rot_x(p, pivot, ang):
    d = p - pivot
    c, s = np.cos(ang), np.sin(ang)
    return pivot + np.stack([d[..., 0], c * d[..., 1] - s * d[..., 2], s * d[..., 1] + c * d[..., 2]], -1)


def _yaw(p, ang):
    c, s = np.cos(ang), np.sin(ang)
    return np.stack([c * p[..., 0] + s * p[..., 2], p[..., 1], -s * p[..., 0] + c * p[..., 2]], -1)


def walking(t=120, speed=1.2, turn_rate=0.5, heading0=0.3, start=(1.0, -2.0)):
    """Smooth walking-like motion: legs and arms swing, the pelvis bobs, the path curves at
    ``turn_rate`` rad/s. Returns joints [t, 22, 3] and the true heading per frame."""
    idx = L.index
    time = np.arange(t) / FPS
    w = 2 * np.pi * 0.9
    out = np.repeat(REST[None], t, axis=0)
    for side, sgn in (("L", 1.0), ("R", -1.0)):
        swing = 0.45 * sgn * np.sin(w * time)[:, None]
        hip = REST[idx(f"{side}_hip")]
        leg = [idx(f"{side}_knee"), idx(f"{side}_ankle"), idx(f"{side}_foot")]
        out[:, leg] = _rot_x(out[:, leg], hip, swing)
        bend = 0.6 * np.clip(np.sin(w * time + sgn * 1.2), 0, None)[:, None]
        knee = out[:, idx(f"{side}_knee")][:, None]
        lower = [idx(f"{side}_ankle"), idx(f"{side}_foot")]
        out[:, lower] = _rot_x(out[:, lower], knee, -bend)
        arm = [idx(f"{side}_elbow"), idx(f"{side}_wrist")]
        out[:, arm] = _rot_x(out[:, arm], REST[idx(f"{side}_shoulder")], -0.6 * swing)
    out[..., 1] += 0.02 * np.cos(2 * w * time)[:, None]
    heading = heading0 + turn_rate * time
    vel = speed / FPS * np.stack([np.sin(heading), np.zeros(t), np.cos(heading)], -1)
    path = np.cumsum(vel, axis=0) - vel[0] + np.array([start[0], 0.0, start[1]])
    return (_yaw(out, heading[:, None]) + path[:, None]).astype(np.float32), heading


def _align_first_frame(a, b):
    """Yaw + translation that best maps frame 0 of ``a`` onto frame 0 of ``b``, applied to all of ``a``."""
    pa, pb = a[0].astype(np.float64), b[0].astype(np.float64)
    ca, cb = pa.mean(0), pb.mean(0)
    da, db = pa - ca, pb - cb
    # angle theta of the yaw (x' = c x + s z, z' = -s x + c z) minimising the xz error
    num = np.sum(da[:, 2] * db[:, 0] - da[:, 0] * db[:, 2])
    den = np.sum(da[:, 0] * db[:, 0] + da[:, 2] * db[:, 2])
    theta = np.arctan2(num, den)
    return _yaw(a.astype(np.float64) - ca, theta) + cb


def test_slices_cover_263_in_order():
    spans = sorted((s.start, s.stop) for s in HML_SLICES.values())
    assert spans[0][0] == 0 and spans[-1][1] == HML_DIM == 263
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))
    sizes = {k: s.stop - s.start for k, s in HML_SLICES.items()}
    assert sizes == {"root_rot_vel": 1, "root_lin_vel": 2, "root_y": 1, "ric": 63, "rot": 126, "local_vel": 66,
                     "foot_contact": 4}


@pytest.mark.parametrize("turn_rate", [0.0, 0.5, -0.45])
def test_round_trip_synthetic_walk(turn_rate):
    """Exact while the heading stays within 180 degrees of the start (see the next test)."""
    joints, _ = walking(turn_rate=turn_rate)
    feats, info = joints_to_hml_vec(joints, return_info=True)
    assert feats.shape == (119, 263) and feats.dtype == np.float32
    rec = recover_from_ric(feats)
    assert rec.shape == (119, 22, 3)
    err = np.abs(_align_first_frame(rec, joints[:-1]) - joints[:-1]).max()
    assert err < 1e-4
    # the returned canonicalisation puts the recovery exactly back in place
    assert np.abs(from_canonical(rec, info) - joints[:-1]).max() < 1e-4


def test_features_are_invariant_to_yaw_and_ground_translation():
    joints, _ = walking(turn_rate=0.8)
    moved = _yaw(joints.astype(np.float64), 2.1) + np.array([5.0, 0.7, -3.0])
    # float32 rounding of positions 5 m from the origin moves the 2 cm elbow offsets' directions by ~3e-5
    np.testing.assert_allclose(joints_to_hml_vec(moved.astype(np.float32)), joints_to_hml_vec(joints), atol=1e-4)


def test_angular_velocity_sign_glitch_when_turning_past_180_degrees():
    """HumanML3D takes arcsin of the y part of r[t+1] r[t]^-1 without choosing the quaternion sign, so the
    frame whose heading crosses +-180 degrees gets the wrong sign (HumanML3D issue #156); followed here."""
    joints, heading = walking(turn_rate=-1.5, heading0=0.0)   # -9 rad in 6 s: crosses +-pi
    f = joints_to_hml_vec(joints, config=HmlVecConfig(heading_sigma=0.0))
    true_half = -np.diff(heading) / 2                          # the rotation facing the body to +z turns the other way
    flipped = np.abs(f[:, 0] + true_half) < 1e-4
    ok = np.abs(f[:, 0] - true_half) < 1e-4
    assert np.all(ok | flipped) and 1 <= flipped.sum() <= 3
    yaw = np.unwrap(-(heading - heading[0]))
    crossing = np.nonzero(np.diff(np.floor((yaw + np.pi) / (2 * np.pi))))[0]
    assert set(np.nonzero(flipped)[0]) <= set(crossing)


def test_root_channels_mean_what_the_docstring_says():
    cfg = HmlVecConfig(heading_sigma=0.0)
    joints, heading = walking(speed=1.2, turn_rate=0.5)
    f = joints_to_hml_vec(joints, config=cfg)
    # angular velocity: half the per-frame yaw change of the rotation that faces the body to +z
    np.testing.assert_allclose(f[:, 0], -np.diff(heading) / 2, atol=1e-4)
    # straight walk: forward speed along +z of the heading frame, no sideways drift
    straight, _ = walking(speed=1.2, turn_rate=0.0)
    fs = joints_to_hml_vec(straight)
    np.testing.assert_allclose(fs[:, 2], 1.2 / FPS, atol=1e-5)
    np.testing.assert_allclose(fs[:, 1], 0.0, atol=1e-5)
    # root height: pelvis above the lowest joint of the clip
    floor = straight[..., 1].min()
    np.testing.assert_allclose(fs[:, 3], straight[:-1, 0, 1] - floor, atol=1e-5)
    # ric y is absolute height above the floor too
    ric = fs[:, HML_SLICES["ric"]].reshape(-1, 21, 3)
    np.testing.assert_allclose(ric[:, L.index("head") - 1, 1], straight[:-1, L.index("head"), 1] - floor, atol=1e-5)


def test_foot_contacts():
    still = np.repeat(REST[None], 10, axis=0).astype(np.float32)
    f = joints_to_hml_vec(still)
    assert np.all(f[:, HML_SLICES["foot_contact"]] == 1)
    assert np.allclose(f[:, HML_SLICES["local_vel"]], 0) and np.allclose(f[:, :3], 0)
    fast, _ = walking(speed=3.0, turn_rate=0.0)  # 0.15 m/frame: feet always move > sqrt(0.002)
    fc = joints_to_hml_vec(fast)[:, HML_SLICES["foot_contact"]]
    assert fc.sum() < fc.size * 0.5
    assert set(np.unique(fc)) <= {0.0, 1.0}


def _rest_pose(hip=0.1, collar=0.2, bone=0.2):
    """A body built from HumanML3D's rest directions (so every joint rotation is the identity)."""
    lengths = np.full(22, bone)
    lengths[[L.index("L_hip"), L.index("R_hip")]] = hip
    lengths[[L.index("L_collar"), L.index("R_collar")]] = collar
    pose = np.zeros((22, 3))
    for chain in KINEMATIC_CHAINS:
        for a, b in zip(chain[:-1], chain[1:]):
            pose[b] = pose[a] + lengths[b] * REST_DIRECTIONS[b]
    pose[:, 1] += 1.0 - pose[:, 1].min()
    return pose


def test_rot_block_is_identity_in_rest_pose_and_orthonormal():
    f = joints_to_hml_vec(np.repeat(_rest_pose()[None], 3, axis=0).astype(np.float32))
    rot = f[:, HML_SLICES["rot"]].reshape(-1, 21, 6)
    np.testing.assert_allclose(rot, np.tile([1, 0, 0, 0, 1, 0], (2, 21, 1)), atol=1e-6)
    walk, _ = walking()
    r6 = joints_to_hml_vec(walk)[:, HML_SLICES["rot"]].reshape(-1, 21, 2, 3)
    np.testing.assert_allclose(np.linalg.norm(r6, axis=-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(np.sum(r6[..., 0, :] * r6[..., 1, :], -1), 0.0, atol=1e-5)


def test_heading_uses_humanml3d_hip_order():
    """HumanML3D's per-frame heading subtracts the hips the other way round from its first-frame
    facing: twisting the pelvis turns the heading against the twist, the facing with it."""
    pose = _rest_pose(hip=0.1, collar=0.2)
    hips = [L.index("L_hip"), L.index("R_hip")]
    twisted = pose.copy()
    twisted[hips] = _yaw(pose[hips] - pose[0], 0.4) + pose[0]     # pelvis yawed by +0.4 rad
    phi = heading_angles(np.stack([twisted, twisted]), sigma=0.0)
    assert phi[0] < -0.05                                          # against the twist
    info = canonical_info(np.stack([twisted, twisted]), HmlVecConfig())
    assert info["heading0"] > 0.05                                 # with the twist
    # hips wider than shoulders: the heading points backwards
    wide = _rest_pose(hip=0.3, collar=0.1)
    assert abs(abs(heading_angles(wide[None].repeat(2, 0), sigma=0.0)[0]) - np.pi) < 1e-6


def test_root_velocity_uses_next_frame_heading():
    turning, _ = walking(turn_rate=1.5)
    f, info = joints_to_hml_vec(turning, return_info=True)
    x = to_canonical(turning, info)
    r = root_rotations(x)
    step = x[1:, 0] - x[:-1, 0]
    nxt = np.stack([_yaw(step[i], 2 * np.arctan2(r[i + 1, 2], r[i + 1, 0])) for i in range(len(step))])
    np.testing.assert_allclose(f[:, 1:3], nxt[:, [0, 2]], atol=1e-6)
    cur = np.stack([_yaw(step[i], 2 * np.arctan2(r[i, 2], r[i, 0])) for i in range(len(step))])
    assert np.abs(f[:, 1:3] - cur[:, [0, 2]]).max() > 1e-4
    # the joint velocities use the current frame's heading
    np.testing.assert_allclose(f[:, 193:196], cur, atol=1e-6)


def test_uniform_skeleton_rescales_bones_and_root():
    joints, _ = walking(turn_rate=0.4)
    u = uniform_skeleton(joints)
    bones = np.linalg.norm(u[:, 1:] - u[:, list(PARENTS[1:])], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(HUMANML3D_BONE_LENGTHS[1:], bones.shape), atol=1e-9)
    src_leg = sum(np.linalg.norm(joints[0, c] - joints[0, PARENTS[c]]) for c in (5, 8))
    ratio = (HUMANML3D_BONE_LENGTHS[5] + HUMANML3D_BONE_LENGTHS[8]) / src_leg
    np.testing.assert_allclose(u[:, 0], joints[:, 0] * ratio, atol=1e-6)
    # directions are kept: the joint rotations are unchanged
    a = joints_to_hml_vec(joints)[:, HML_SLICES["rot"]]
    b = joints_to_hml_vec(joints, config=HmlVecConfig(uniform_skeleton=True))[:, HML_SLICES["rot"]]
    np.testing.assert_allclose(a, b, atol=1e-5)
    with pytest.raises(DataError, match="bone_lengths"):
        uniform_skeleton(joints, bone_lengths=np.ones(21))


def test_torch_input_matches_numpy_and_batches():
    torch = pytest.importorskip("torch")
    joints, _ = walking(t=40, turn_rate=1.0)
    f = joints_to_hml_vec(joints)
    batch = np.stack([f, f * 0.5])
    ref = recover_from_ric(batch)
    assert ref.shape == (2, 39, 22, 3)
    np.testing.assert_allclose(ref[0], recover_from_ric(f), atol=1e-6)
    tt = torch.from_numpy(batch).double().requires_grad_(True)
    out = recover_from_ric(tt)
    assert isinstance(out, torch.Tensor) and tuple(out.shape) == (2, 39, 22, 3)
    np.testing.assert_allclose(out.detach().numpy(), ref, atol=1e-5)
    out.sum().backward()
    assert tt.grad is not None and torch.isfinite(tt.grad).all()


@pytest.mark.parametrize("bad", [np.zeros((10, 21, 3)), np.zeros((1, 22, 3)), np.zeros((10, 22)),
                                 np.full((5, 22, 3), np.nan)])
def test_bad_joints_raise(bad):
    with pytest.raises(DataError, match="joints"):
        joints_to_hml_vec(bad)


@pytest.mark.parametrize("bad", [np.zeros((10, 262)), np.zeros((263,)), np.full((4, 263), np.inf)])
def test_bad_features_raise(bad):
    with pytest.raises(DataError, match="feats"):
        recover_from_ric(bad)


# MSR Action3D (Kinect v1, 20 joints) → SMPL-22 by picking and interpolating joints. Only the round
# trip is tested here, so a rough mapping of a real, noisy capture is what we want.
_MSR_TO_SMPL = {
    "pelvis": "hip_center", "L_hip": "left_hip", "R_hip": "right_hip", "L_knee": "left_knee",
    "R_knee": "right_knee", "spine2": "spine", "L_ankle": "left_ankle", "R_ankle": "right_ankle",
    "L_foot": "left_foot", "R_foot": "right_foot", "neck": "neck", "head": "head",
    "L_shoulder": "left_shoulder", "R_shoulder": "right_shoulder", "L_elbow": "left_elbow",
    "R_elbow": "right_elbow", "L_wrist": "left_wrist", "R_wrist": "right_wrist",
}
_MSR_MID = {"spine1": ("hip_center", "spine"), "spine3": ("spine", "neck"), "L_collar": ("neck", "left_shoulder"),
            "R_collar": ("neck", "right_shoulder")}


def test_round_trip_real_msr_clip(msr_pkl):
    from kinemic_aug.data.pyskl import load_pyskl

    msr = get_layout("msr_action3d")
    data = load_pyskl(msr_pkl, validate=False)
    tested = 0
    for ann in data["annotations"]:
        kp = ann["keypoint"][0]
        if kp.shape[0] < 30 or np.any(np.all(kp == 0, axis=-1)):
            continue
        j = np.zeros((kp.shape[0], 22, 3), dtype=np.float32)
        for name, src in _MSR_TO_SMPL.items():
            j[:, L.index(name)] = kp[:, msr.index(src)]
        for name, (a, b) in _MSR_MID.items():
            j[:, L.index(name)] = 0.5 * (kp[:, msr.index(a)] + kp[:, msr.index(b)])
        feats = joints_to_hml_vec(j)
        rec = recover_from_ric(feats)
        assert np.abs(_align_first_frame(rec, j[:-1]) - j[:-1]).max() < 1e-4, ann["frame_dir"]
        tested += 1
        if tested == 5:
            break
    assert tested == 5


# ------------------------------------------------------------------ golden: HumanML3D's own reference clip
# new_joints/012314.npy, new_joint_vecs/012314.npy and Mean/Std.npy, byte-identical to the HumanML3D repo
# (research data outside the repo; skipped when absent). HumanML3D wrote new_joints as the decoding of
# new_joint_vecs, so the features hold one frame more than new_joints (the last joint velocities).
HML_REF = Path(os.environ.get("KINEMIC_HML_REF", Path(__file__).resolve().parents[1].parent / "shared" / "data"
                              / "humanml3d_reference" / "HumanML3D"))


@pytest.fixture(scope="module")
def hml_ref():
    need = [HML_REF / "new_joints" / "012314.npy", HML_REF / "new_joint_vecs" / "012314.npy"]
    if not all(p.exists() for p in need):
        pytest.skip(f"HumanML3D reference files not found under {HML_REF} (research data, not shipped)")
    return np.load(need[0]), np.load(need[1])


def test_golden_official_features_decode_to_official_joints(hml_ref):
    joints, vecs = hml_ref
    assert joints.shape == (170, 22, 3) and vecs.shape == (170, 263)
    assert np.abs(recover_from_ric(vecs) - joints).max() < 1e-5          # measured 2.4e-7
    torch = pytest.importorskip("torch")
    rec_t = recover_from_ric(torch.from_numpy(vecs))
    assert np.abs(rec_t.numpy() - joints).max() < 1e-5


def test_golden_official_joints_encode_to_official_features(hml_ref):
    joints, vecs = hml_ref
    # the whole clip (new_joints plus the last frame the features imply) encodes to every feature row
    full = recover_with_last_frame(vecs)
    assert full.shape == (171, 22, 3) and np.abs(full[:-1] - joints).max() < 1e-5
    feats = joints_to_hml_vec(full)
    assert np.abs(feats - vecs).max() < 1e-4                             # measured 2.1e-6
    np.testing.assert_array_equal(feats[:, HML_SLICES["foot_contact"]], vecs[:, HML_SLICES["foot_contact"]])
    # new_joints alone lacks that last frame: rows whose 80-frame heading window (4 sigma) stays inside
    # the clip match within 1e-4; the last rows drift (measured max 0.013) because the smoothing sees
    # one frame less at the end.
    own = joints_to_hml_vec(joints)
    assert own.shape == (169, 263)
    assert np.abs(own[:89] - vecs[:89]).max() < 1e-4                    # measured 7.7e-6
    assert np.abs(own - vecs[:-1]).max() < 0.05


def test_golden_target_skeleton_and_stats(hml_ref):
    joints, vecs = hml_ref
    bones = np.linalg.norm(joints[:, 1:] - joints[:, list(PARENTS[1:])], axis=-1)
    np.testing.assert_allclose(bones, np.broadcast_to(HUMANML3D_BONE_LENGTHS[1:], bones.shape), atol=1e-5)
    full = recover_with_last_frame(vecs)
    np.testing.assert_allclose(uniform_skeleton(full), full, atol=1e-5)   # already on the target skeleton
    uni = joints_to_hml_vec(full, config=HmlVecConfig(uniform_skeleton=True))
    assert np.abs(uni - vecs).max() < 1e-4
    mean, std = np.load(HML_REF / "Mean.npy"), np.load(HML_REF / "Std.npy")
    z = (vecs - mean) / std
    assert np.all(np.isfinite(z)) and np.abs(z).mean() < 2.0
