import pickle

import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionClip
from kinemic_aug.errors import DataError, LayoutError
from kinemic_aug.skeleton import SkeletonLayout, get_layout, register_layout
from kinemic_aug.skeleton.retarget import (from_canonical, get_retarget_map, list_retarget_maps,
                                           register_retarget_map, rest_pose, retarget, retarget_clip,
                                           to_canonical)

LAYOUTS = ["smpl22", "nturgb+d", "msr_action3d", "deepmimic15", "cmu_bvh", "coco"]
# the joint at the left / right wrist and ankle of each layout (all direct copies of SMPL's)
WRIST = {"smpl22": "L_wrist", "nturgb+d": "left_wrist", "msr_action3d": "left_wrist",
         "deepmimic15": "left_wrist", "cmu_bvh": "LeftHand", "coco": "left_wrist"}
ANKLE = {"smpl22": "L_ankle", "nturgb+d": "left_ankle", "msr_action3d": "left_ankle",
         "deepmimic15": "left_ankle", "cmu_bvh": "LeftFoot", "coco": "left_ankle"}


def _mirror_name(name: str) -> str:
    for a, b in (("L_", "R_"), ("left_", "right_"), ("Left", "Right")):
        if name.startswith(a):
            return b + name[len(a):]
    raise AssertionError(name)


def _random_rotation(rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(3, 3)))
    q *= np.sign(np.diag(r))
    if np.linalg.det(q) < 0:
        q[:, 0] *= -1
    return q


def _smpl_motion(rng: np.random.Generator, t: int = 30, jitter: float = 0.0) -> np.ndarray:
    """The rest pose walking forward while the arms swing, plus optional per-joint jitter."""
    rest = rest_pose("smpl22").astype(np.float64)
    lay = get_layout("smpl22")
    out = np.repeat(rest[None], t, axis=0)
    phase = np.sin(np.linspace(0, 2 * np.pi, t))
    for side, sign in (("L", 1.0), ("R", -1.0)):
        sh = lay.index(f"{side}_shoulder")
        for j in (lay.index(f"{side}_elbow"), lay.index(f"{side}_wrist")):
            rel = rest[j] - rest[sh]
            ang = 0.6 * sign * phase
            c, s = np.cos(ang), np.sin(ang)  # rotation about x (arm swings forward/back)
            out[:, j, 1] = rest[sh, 1] + c * rel[1] - s * rel[2]
            out[:, j, 2] = rest[sh, 2] + s * rel[1] + c * rel[2]
    out[..., 2] += np.linspace(0, 1.0, t)[:, None]
    out += rng.normal(scale=jitter, size=out.shape)
    return out.astype(np.float32)


def test_every_builtin_layout_has_a_map():
    assert set(LAYOUTS) <= set(list_retarget_maps())
    assert get_retarget_map("ntu25").layout == "nturgb+d"  # aliases resolve


@pytest.mark.parametrize("src", LAYOUTS)
@pytest.mark.parametrize("dst", LAYOUTS)
@pytest.mark.parametrize("table", [WRIST, ANKLE])
def test_moving_a_left_joint_moves_only_left_or_midline_targets(src, dst, table):
    base = rest_pose(src)[None]
    moved = base.copy()
    shift = np.array([0.2, 0.3, -0.1], dtype=np.float32)
    moved[0, get_layout(src).index(table[src])] += shift
    a, b = retarget(base, src, dst), retarget(moved, src, dst)
    d = get_layout(dst)
    changed = np.linalg.norm(b - a, axis=-1)[0] > 1e-6
    # the target's own left joint follows exactly, its right twin does not move
    np.testing.assert_allclose(b[0, d.index(table[dst])] - a[0, d.index(table[dst])], shift, atol=1e-6)
    assert not changed[d.index(_mirror_name(table[dst]))]
    for j in np.nonzero(changed)[0]:
        assert d.side(int(j)) in ("left", "center"), (dst, d.joint_names[j])


@pytest.mark.parametrize("layout", LAYOUTS[1:])
def test_round_trip_through_a_layout_keeps_direct_joints_exactly(layout):
    rng = np.random.default_rng(0)
    smpl = _smpl_motion(rng, jitter=0.01)
    back = to_canonical(from_canonical(smpl, layout), layout)
    direct = get_retarget_map(layout).direct_joints()
    assert len(direct) >= 12  # limbs at least
    idx = [get_layout("smpl22").index(j) for j, _ in direct]
    assert np.array_equal(back[:, idx], smpl[:, idx])
    # the synthesised joints land near where they started (the maps are consistent both ways); the
    # worst is SMPL's toe joint for layouts without toes (DeepMimic, COCO): placed under the ankle
    err = np.linalg.norm(back - smpl, axis=-1)
    assert err.max() < 0.2 and np.median(err) < 0.01


@pytest.mark.parametrize("src,dst", [("smpl22", "nturgb+d"), ("nturgb+d", "msr_action3d"),
                                     ("msr_action3d", "smpl22"), ("cmu_bvh", "coco"),
                                     ("deepmimic15", "nturgb+d")])
@pytest.mark.parametrize("keep", [False, True])
def test_retarget_commutes_with_rigid_motion(src, dst, keep):
    rng = np.random.default_rng(1)
    x = from_canonical(_smpl_motion(rng, jitter=0.005), src)
    rot, shift = _random_rotation(rng), rng.normal(size=3)
    moved = (x.astype(np.float64) @ rot.T + shift).astype(np.float32)
    a = retarget(x, src, dst, keep_bone_lengths=keep).astype(np.float64) @ rot.T + shift
    b = retarget(moved, src, dst, keep_bone_lengths=keep)
    np.testing.assert_allclose(b, a, atol=2e-5)


@pytest.mark.parametrize("dst", ["nturgb+d", "msr_action3d", "smpl22", "cmu_bvh"])
def test_keep_bone_lengths_makes_bones_constant(dst):
    rng = np.random.default_rng(2)
    smpl = _smpl_motion(rng, t=40, jitter=0.015)
    src = "coco" if dst == "smpl22" else "smpl22"
    x = from_canonical(smpl, src) if src != "smpl22" else smpl
    lay = get_layout(dst)
    plain = retarget(x, src, dst)
    kept = retarget(x, src, dst, keep_bone_lengths=True)

    def lengths(y):
        return np.stack([np.linalg.norm(y[:, j] - y[:, p], axis=-1) for j, p in enumerate(lay.parents) if p >= 0], 1)

    assert lengths(plain).std(axis=0).max() > 1e-3  # the jitter does stretch bones
    assert lengths(kept).std(axis=0).max() < 1e-5
    np.testing.assert_allclose(np.median(lengths(kept), 0), np.median(lengths(plain), 0), atol=1e-5)
    np.testing.assert_array_equal(kept[:, lay.root], plain[:, lay.root])
    assert np.abs(kept - plain).mean() < 0.03  # same motion, only the jitter is gone


def test_shapes_copies_and_padding():
    x = rest_pose("nturgb+d")[None].repeat(5, 0)
    same = retarget(x, "nturgb+d", "ntu25")
    assert same is not x and same.dtype == np.float32 and np.array_equal(same, x)
    two = np.stack([x, np.zeros_like(x)])  # PYSKL pads an absent second person with zeros
    out = retarget(two.astype(np.float16), "nturgb+d", "smpl22", keep_bone_lengths=True)
    assert out.shape == (2, 5, 22, 3) and out.dtype == np.float32
    assert not out[1].any()
    np.testing.assert_allclose(out[0], to_canonical(x, "nturgb+d"), atol=2e-3)  # float16 input


def test_errors_name_the_field():
    x = rest_pose("smpl22")[None]
    with pytest.raises(LayoutError, match="unknown skeleton layout 'nope'"):
        retarget(x, "smpl22", "nope")
    with pytest.raises(DataError, match=r"sample 'clip7', field 'joints'.*25 joints, data has 22"):
        retarget(x, "nturgb+d", "smpl22", sample="clip7")
    with pytest.raises(DataError, match="field 'joints'.*shape"):
        retarget(x[0], "smpl22", "coco")
    bad = x.copy()
    bad[0, 3, 1] = np.nan
    with pytest.raises(DataError, match="NaN"):
        retarget(bad, "smpl22", "coco")
    lonely = register_layout(SkeletonLayout("no_map_3", ("a", "b", "c"), (-1, 0, 1), 0, (0, 1), (0, 2)),
                             overwrite=True)
    with pytest.raises(LayoutError, match="no retarget map for layout 'no_map_3'.*register_retarget_map"):
        retarget(np.zeros((2, 3, 3)), lonely, "smpl22")


def _toy_layout() -> SkeletonLayout:
    # a 7-point stick figure: pelvis, chest, head, left/right hand, left/right foot
    return register_layout(SkeletonLayout(
        "toy7", ("pelvis", "chest", "head", "left_hand", "right_hand", "left_foot", "right_foot"),
        (-1, 0, 1, 1, 1, 0, 0), 0, (0, 1), (4, 3)), overwrite=True)


_TOY_TO = {"pelvis": "pelvis", "spine1": {"pelvis": 0.8, "chest": 0.2}, "spine2": {"pelvis": 0.5, "chest": 0.5},
           "spine3": {"pelvis": 0.3, "chest": 0.7}, "neck": "chest", "head": "head",
           "L_collar": {"chest": 0.9, "left_hand": 0.1}, "R_collar": {"chest": 0.9, "right_hand": 0.1},
           "L_shoulder": {"chest": 0.7, "left_hand": 0.3}, "R_shoulder": {"chest": 0.7, "right_hand": 0.3},
           "L_elbow": {"chest": 0.4, "left_hand": 0.6}, "R_elbow": {"chest": 0.4, "right_hand": 0.6},
           "L_wrist": "left_hand", "R_wrist": "right_hand",
           "L_hip": {"pelvis": 0.9, "left_foot": 0.1}, "R_hip": {"pelvis": 0.9, "right_foot": 0.1},
           "L_knee": {"pelvis": 0.5, "left_foot": 0.5}, "R_knee": {"pelvis": 0.5, "right_foot": 0.5},
           "L_ankle": "left_foot", "R_ankle": "right_foot", "L_foot": "left_foot", "R_foot": "right_foot"}
_TOY_FROM = {"pelvis": "pelvis", "chest": "neck", "head": "head", "left_hand": "L_wrist",
             "right_hand": "R_wrist", "left_foot": "L_ankle", "right_foot": "R_ankle"}


def test_user_layout_can_register_its_own_map():
    toy = _toy_layout()
    register_retarget_map(toy, to_smpl=_TOY_TO, from_smpl=_TOY_FROM, overwrite=True)
    with pytest.raises(LayoutError, match="already registered"):
        register_retarget_map("toy7", to_smpl=_TOY_TO, from_smpl=_TOY_FROM)
    pose = from_canonical(rest_pose()[None], "toy7")
    np.testing.assert_array_equal(pose[0, 3], rest_pose()[get_layout("smpl22").index("L_wrist")])
    ntu = retarget(pose, "toy7", "nturgb+d")
    assert ntu.shape == (1, 25, 3) and np.isfinite(ntu).all()
    assert ntu[0, get_layout("nturgb+d").index("left_wrist"), 0] > 0  # left hand on the +x (left) side


@pytest.mark.parametrize("change,msg", [
    (lambda to, fr: to.update(spine1={"pelvis": 0.5, "chest": 0.6}), "weights sum to 1.1"),
    (lambda to, fr: to.pop("neck"), r"no entry for target joints \['neck'\]"),
    (lambda to, fr: to.update(L_wrist={"right_hand": 1.0}), "left must stay left"),
    (lambda to, fr: fr.update(head="nose"), r"\['nose'\] are not joints of layout 'smpl22'"),
    (lambda to, fr: to.update(bogus="pelvis"), r"\['bogus'\] are not joints"),
])
def test_bad_maps_are_rejected(change, msg):
    _toy_layout()
    to, fr = dict(_TOY_TO), dict(_TOY_FROM)
    change(to, fr)
    with pytest.raises(LayoutError, match=msg):
        register_retarget_map("toy7", to_smpl=to, from_smpl=fr, overwrite=True)


def test_retarget_clip_keeps_flags():
    clip = MotionClip(joints=rest_pose("deepmimic15")[None].repeat(3, 0), layout="deepmimic15", fps=30.0,
                      captions=["a person stands"], name="dm0", source="procedural", synthetic=True)
    out = retarget_clip(clip, "humanml3d", keep_bone_lengths=True)
    assert out.layout == "smpl22" and out.joints.shape == (3, 22, 3)
    assert out.synthetic and out.captions == clip.captions and out.meta["retargeted_from"] == "deepmimic15"


def _body_height(x: np.ndarray, layout: str) -> float:
    """Median over frames of head height above the lowest foot/ankle point."""
    lay = get_layout(layout)
    head = x[:, lay.index("head"), 1]
    feet = [j for j, n in enumerate(lay.joint_names) if "foot" in n.lower() or "ankle" in n.lower()]
    return float(np.median(head - x[:, feet, 1].min(axis=1)))


def test_real_msr_samples_retarget_plausibly(msr_pkl):
    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    by_label = {}
    for ann in data["annotations"]:
        if ann.get("in_cvpr12_list", True):
            by_label.setdefault(ann["label"], ann)
    assert len(by_label) == 20
    for ann in by_label.values():
        kp = ann["keypoint"]  # [1, T, 20, 3]
        for dst in ("smpl22", "nturgb+d"):
            for keep in (False, True):
                out = retarget(kp, "msr_action3d", dst, keep_bone_lengths=keep, sample=ann["frame_dir"])
                assert out.shape == kp.shape[:2] + (get_layout(dst).num_joints, 3)
                assert np.isfinite(out).all()
                height = _body_height(out[0], dst)
                assert 1.2 < height < 2.1, (ann["frame_dir"], dst, keep, height)
        # the head stays above the pelvis in every frame for an upright subject (y up)
        smpl = to_canonical(kp[0], "msr_action3d")
        assert np.median(smpl[:, 15, 1] - smpl[:, 0, 1]) > 0.4


def test_rechain_imposes_given_bone_lengths_and_keeps_directions_and_root():
    from kinemic_aug.skeleton.layout import get_layout
    from kinemic_aug.skeleton.retarget import bone_lengths, rechain, rest_pose
    parents = get_layout("smpl22").parents
    rng = np.random.default_rng(0)
    base = rest_pose("smpl22")
    clip = base[None] + 0.03 * rng.standard_normal((12, 22, 3))  # bones stretch from frame to frame
    target = bone_lengths(base[None], parents) * 1.1  # a taller subject
    out = rechain(clip, parents, target)
    for j, p in enumerate(parents):
        if p < 0:
            np.testing.assert_allclose(out[:, j], clip[:, j], atol=1e-6)
            continue
        got = np.linalg.norm(out[:, j] - out[:, p], axis=-1)
        np.testing.assert_allclose(got, target[j], rtol=1e-4)
        d_in = clip[:, j] - clip[:, p]
        d_out = out[:, j] - out[:, p]
        cos = (d_in * d_out).sum(-1) / np.linalg.norm(d_in, axis=-1) / np.linalg.norm(d_out, axis=-1)
        assert np.all(cos > 0.9999)
    assert np.std(np.linalg.norm(clip[:, 18] - clip[:, 16], axis=-1)) > 1e-3  # the input really did stretch
