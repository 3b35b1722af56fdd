"""DeepMimic motion JSON reader and forward kinematics, on hand-written frames with known answers."""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.deepmimic import (COLUMNS, URDF_SCALE, deepmimic_to_joints, frame_times, quat_to_matrix,
                                        read_deepmimic)
from kinemic_aug.errors import DataError
from kinemic_aug.skeleton import get_layout

LAY = get_layout("deepmimic15")
J = {n: i for i, n in enumerate(LAY.joint_names)}
# link lengths in metres (URDF units x 0.25)
CHEST, NECK = 0.944604 * URDF_SCALE, 0.895576 * URDF_SCALE
HIP_Z = 0.339548 * URDF_SCALE
THIGH, SHIN = 1.686184 * URDF_SCALE, 1.639480 * URDF_SCALE
UPPER, FORE = 1.099152 * URDF_SCALE, 1.035788 * URDF_SCALE


def rest_frame(root=(0.0, 0.9, 0.0), dt=1 / 30) -> np.ndarray:
    f = np.zeros(44)
    f[0] = dt
    f[1:4] = root
    for name, sl in COLUMNS.items():
        if isinstance(sl, slice) and sl.stop - sl.start == 4:
            f[sl] = [1, 0, 0, 0]
    return f


def quat(axis, deg):
    axis = np.asarray(axis, float) / np.linalg.norm(axis)
    h = math.radians(deg) / 2
    return [math.cos(h), *(axis * math.sin(h))]


def test_rest_pose_matches_urdf_offsets():
    j = deepmimic_to_joints(rest_frame()[None])[0]
    assert j.shape == (15, 3) and j.dtype == np.float32
    np.testing.assert_allclose(j[J["chest"]], [0, 0.9 + CHEST, 0], atol=1e-6)
    np.testing.assert_allclose(j[J["neck"]], [0, 0.9 + CHEST + NECK, 0], atol=1e-6)
    np.testing.assert_allclose(j[J["right_hip"]], [0, 0.9, HIP_Z], atol=1e-6)
    np.testing.assert_allclose(j[J["left_hip"]], [0, 0.9, -HIP_Z], atol=1e-6)
    np.testing.assert_allclose(j[J["right_ankle"]], [0, 0.9 - THIGH - SHIN, HIP_Z], atol=1e-6)
    np.testing.assert_allclose(j[J["left_wrist"]],
                               [-0.0962 * URDF_SCALE, 0.9 + CHEST + 0.974 * URDF_SCALE - UPPER - FORE,
                                -0.73244 * URDF_SCALE], atol=1e-6)


def test_knee_flexion_moves_the_ankle_backwards():
    f = rest_frame()
    f[COLUMNS["right_knee"]] = -math.pi / 2  # the URDF limits the knee to [-pi, 0]
    j = deepmimic_to_joints(f[None])[0]
    np.testing.assert_allclose(j[J["right_ankle"]] - j[J["right_knee"]], [-SHIN, 0, 0], atol=1e-6)
    # the other leg is untouched
    np.testing.assert_allclose(j[J["left_ankle"]], [0, 0.9 - THIGH - SHIN, -HIP_Z], atol=1e-6)


def test_elbow_flexion_moves_the_wrist_forwards():
    f = rest_frame()
    f[COLUMNS["left_elbow"]] = math.pi / 2
    j = deepmimic_to_joints(f[None])[0]
    np.testing.assert_allclose(j[J["left_wrist"]] - j[J["left_elbow"]], [FORE, 0, 0], atol=1e-6)


def test_root_yaw_turns_the_whole_body():
    # +90 degrees about y maps +z to +x: the right hip (at +z) swings to +x, the facing (+x) to -z
    f = rest_frame()
    f[COLUMNS["root_rot"]] = quat([0, 1, 0], 90)
    f[COLUMNS["right_knee"]] = -math.pi / 2
    j = deepmimic_to_joints(f[None])[0]
    np.testing.assert_allclose(j[J["right_hip"]], [HIP_Z, 0.9, 0], atol=1e-6)
    np.testing.assert_allclose(j[J["right_ankle"]] - j[J["right_knee"]], [0, 0, SHIN], atol=1e-6)


def test_shoulder_abduction_and_chest_rotation_compose():
    f = rest_frame()
    f[COLUMNS["right_shoulder"]] = quat([1, 0, 0], -90)  # raise the right arm sideways (towards +z)
    j = deepmimic_to_joints(f[None])[0]
    np.testing.assert_allclose(j[J["right_elbow"]] - j[J["right_shoulder"]], [0, 0, UPPER], atol=1e-6)
    # bending the chest 90 degrees forward (-90 about z turns +y to +x, the facing direction)
    g = rest_frame()
    g[COLUMNS["chest"]] = quat([0, 0, 1], -90)
    k = deepmimic_to_joints(g[None])[0]
    np.testing.assert_allclose(k[J["neck"]] - k[J["chest"]], [NECK, 0, 0], atol=1e-6)
    # the arms hang from the rotated chest: their rest direction -y is turned to -x
    np.testing.assert_allclose(k[J["left_elbow"]] - k[J["left_shoulder"]], [-UPPER, 0, 0], atol=1e-6)


def test_unnormalised_quaternions_are_normalised():
    f = rest_frame()
    f[COLUMNS["root_rot"]] = np.array(quat([1, 2, 3], 40)) * 1.3
    g = rest_frame()
    g[COLUMNS["root_rot"]] = quat([1, 2, 3], 40)
    np.testing.assert_allclose(deepmimic_to_joints(f[None]), deepmimic_to_joints(g[None]), atol=1e-6)
    r = quat_to_matrix(np.array([quat([0.3, -1, 2], 77)]))[0]
    np.testing.assert_allclose(r @ r.T, np.eye(3), atol=1e-12)
    bad = rest_frame()
    bad[COLUMNS["neck"]] = 0
    with pytest.raises(DataError, match="neck"):
        deepmimic_to_joints(bad[None])


def test_frame_shape_checked():
    with pytest.raises(DataError, match=r"\[T, 44\]"):
        deepmimic_to_joints(np.zeros((3, 43)))


def _write(tmp_path: Path, obj, name="m.txt") -> Path:
    p = tmp_path / name
    p.write_text(obj if isinstance(obj, str) else json.dumps(obj))
    return p


def test_read_deepmimic(tmp_path):
    frames = [rest_frame(root=(0.1 * i, 0.9, 0), dt=1 / 30).tolist() for i in range(4)]
    frames[-1][0] = 0.0  # DeepMimic's last frame has no duration
    d = read_deepmimic(_write(tmp_path, {"Loop": "wrap", "Frames": frames}))
    assert d["frames"].shape == (4, 44) and d["loop"] == "wrap"
    assert d["fps"] == pytest.approx(30.0)
    np.testing.assert_allclose(frame_times(d["dt"]), [0, 1 / 30, 2 / 30, 3 / 30])
    j = deepmimic_to_joints(d["frames"])
    np.testing.assert_allclose(j[:, 0, 0], [0, 0.1, 0.2, 0.3], atol=1e-6)


@pytest.mark.parametrize("doc,match", [
    ("{not json", "not JSON"),
    ({"Loop": "none"}, "Frames"),
    ({"Frames": []}, "non-empty"),
    ({"Frames": [[0.1] * 44, [0.1] * 43]}, r"frame 1.*44 floats per frame, got 43"),
    ({"Frames": [[0.1] * 43 + ["x"]]}, "non-numeric"),
    ({"Frames": [[0.1] * 43 + [float("nan")]]}, "frame 0.*NaN"),
    ({"Frames": [[-0.1] + [0.1] * 43]}, "negative frame duration"),
])
def test_read_deepmimic_rejects_bad_files(tmp_path, doc, match):
    p = _write(tmp_path, doc)
    with pytest.raises(DataError, match=match) as ei:
        read_deepmimic(p)
    assert "m.txt" in str(ei.value)


# ---------------------------------------------------------------- real pybullet clips (when downloaded)
def _motions_dir():
    from kinemic_aug.data.seed import default_workdir
    hit = sorted(default_workdir().glob("pybullet/**/data/motions/humanoid3d_run.txt"))
    return hit[0].parent if hit else None


def test_real_deepmimic_clips():
    d = _motions_dir()
    if d is None:
        pytest.skip("pybullet motion files not downloaded (run tools/build_seed_corpus.py)")
    run = read_deepmimic(d / "humanoid3d_run.txt")
    j = deepmimic_to_joints(run["frames"])
    t = frame_times(run["dt"])
    speed = (j[-1, 0, 0] - j[0, 0, 0]) / t[-1]
    assert t[-1] == pytest.approx(0.8, abs=0.01) and speed == pytest.approx(2.85 / 0.8, rel=0.03)
    for name in ("walk", "run", "jump", "kick", "punch", "spin"):
        m = read_deepmimic(d / f"humanoid3d_{name}.txt")
        x = deepmimic_to_joints(m["frames"])
        ankles = x[:, [J["right_ankle"], J["left_ankle"]], 1]
        assert 0.02 < np.median(ankles.min(axis=1)) < 0.1, name
        assert -0.02 < ankles.min() < 0.07, name
        assert 1.1 < x[0, J["neck"], 1] < 1.4, name
    # side check: the character's left is -z (right hip at +z), and turning left drifts towards -z
    left = read_deepmimic(d / "walker" / "turn_left0.txt")
    x = deepmimic_to_joints(left["frames"])
    assert x[-1, 0, 2] - x[0, 0, 2] < -0.2
