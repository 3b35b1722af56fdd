"""BVH reader, forward kinematics and writer on small hand-written files with known answers."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.bvh import (BVH, CMU_UNIT_TO_METRES, bvh_to_layout, bvh_to_positions, euler_to_matrix,
                                  write_bvh)
from kinemic_aug.data.bvh_parse import read_bvh
from kinemic_aug.errors import DataError, LayoutError
from kinemic_aug.skeleton import get_layout

# Root with a 6-channel header, a child one unit up, a grandchild one unit along +x, and an end site.
CHAIN = """HIERARCHY
ROOT Root
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition @ORDER@
  JOINT Mid
  {
    OFFSET 0 1 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    JOINT Tip
    {
      OFFSET 1 0 0
      CHANNELS 3 Zrotation Xrotation Yrotation
      End Site
      {
        OFFSET 0 0 2
      }
    }
  }
}
MOTION
Frames: @N@
Frame Time: 0.0083333
@ROWS@
"""


def _fill(order: str, rows) -> str:
    body = "\n".join(" ".join(str(v) for v in r) for r in rows)
    return CHAIN.replace("@ORDER@", order).replace("@N@", str(len(rows))).replace("@ROWS@", body)


def chain_file(tmp_path: Path, rows, order: str = "Zrotation Yrotation Xrotation", name: str = "chain.bvh") -> Path:
    text = _fill(order, rows)
    p = tmp_path / name
    p.write_text(text)
    return p


def test_header_and_channels(tmp_path):
    b = read_bvh(chain_file(tmp_path, [[0] * 12, [1] * 12]))
    assert b.joint_names == ["Root", "Mid", "Tip"]
    assert b.parents == [-1, 0, 1]
    assert b.channels[0] == ("Xposition", "Yposition", "Zposition", "Zrotation", "Yrotation", "Xrotation")
    assert b.num_channels == 12 and b.motion.shape == (2, 12)
    assert b.end_site_parents == [2]
    np.testing.assert_allclose(b.end_site_offsets, [[0, 0, 2]])
    assert b.fps == pytest.approx(120.0, rel=1e-4)


def test_rest_pose_is_offsets(tmp_path):
    b = read_bvh(chain_file(tmp_path, [[0] * 12]))
    p = bvh_to_positions(b, include_end_sites=True)
    np.testing.assert_allclose(p[0], [[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 1, 2]], atol=1e-12)


def test_root_translation_and_90_degree_rotation(tmp_path):
    # root moved to (5, 0, -2) and rotated +90 degrees about z: the Mid offset (0,1,0) turns to (-1,0,0)
    # and the Tip offset (1,0,0) to (0,1,0).
    row = [5, 0, -2, 90, 0, 0] + [0] * 6
    p = bvh_to_positions(read_bvh(chain_file(tmp_path, [row])))
    np.testing.assert_allclose(p[0], [[5, 0, -2], [4, 0, -2], [4, 1, -2]], atol=1e-9)


def test_child_rotation_moves_only_descendants(tmp_path):
    # Mid rotated +90 about y: Tip's offset (1,0,0) turns to (0,0,-1); Root and Mid stay put.
    row = [0] * 6 + [0, 0, 90] + [0] * 3
    p = bvh_to_positions(read_bvh(chain_file(tmp_path, [row])), include_end_sites=True)
    np.testing.assert_allclose(p[0, :3], [[0, 0, 0], [0, 1, 0], [0, 1, -1]], atol=1e-9)
    # the end site (0,0,2) under Tip's (inherited) rotation Ry(90) becomes (2,0,0)
    np.testing.assert_allclose(p[0, 3], [2, 1, -1], atol=1e-9)


def test_rotations_accumulate_down_the_chain(tmp_path):
    # Root +90 about z, Mid +90 about z: Tip offset (1,0,0) is turned 180 degrees to (-1,0,0).
    row = [0, 0, 0, 90, 0, 0, 90, 0, 0, 0, 0, 0]
    p = bvh_to_positions(read_bvh(chain_file(tmp_path, [row])))
    np.testing.assert_allclose(p[0, 2] - p[0, 1], [-1, 0, 0], atol=1e-9)


def test_rotation_order_matters(tmp_path):
    # Same root angles (x = 90, z = 90) in two channel orders, applied to the Mid offset (0,1,0).
    # "Xrotation Yrotation Zrotation" is Rx @ Ry @ Rz: Rz turns it to (-1,0,0), then Rx keeps it.
    # "Zrotation Yrotation Xrotation" is Rz @ Ry @ Rx: Rx turns it to (0,0,1), then Rz keeps it.
    xyz = chain_file(tmp_path, [[0, 0, 0, 90, 0, 90] + [0] * 6], order="Xrotation Yrotation Zrotation", name="a.bvh")
    zyx = chain_file(tmp_path, [[0, 0, 0, 90, 0, 90] + [0] * 6], order="Zrotation Yrotation Xrotation", name="b.bvh")
    p_xyz = bvh_to_positions(read_bvh(xyz))[0, 1]
    p_zyx = bvh_to_positions(read_bvh(zyx))[0, 1]
    np.testing.assert_allclose(p_xyz, [-1, 0, 0], atol=1e-9)
    np.testing.assert_allclose(p_zyx, [0, 0, 1], atol=1e-9)


def test_euler_matrix_is_orthonormal_and_ordered():
    rng = np.random.default_rng(0)
    ang = rng.uniform(-180, 180, size=(20, 3))
    r = euler_to_matrix(ang, "ZXY")
    np.testing.assert_allclose(r @ np.swapaxes(r, -1, -2), np.broadcast_to(np.eye(3), r.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(r), 1.0, atol=1e-12)
    rz, rx, ry = (euler_to_matrix(ang[:, [k]], ax) for k, ax in enumerate("ZXY"))
    np.testing.assert_allclose(r, rz @ rx @ ry, atol=1e-12)


def test_position_channels_on_a_joint(tmp_path):
    text = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 3 Xposition Yposition Zposition
  JOINT Slider
  {
    OFFSET 0 2 0
    CHANNELS 6 Xposition Yposition Zposition Xrotation Yrotation Zrotation
    End Site
    {
      OFFSET 0 1 0
    }
  }
}
MOTION
Frames: 1
Frame Time: 0.05
1 0 0 0.5 3 0 0 0 0
"""
    p = tmp_path / "slider.bvh"
    p.write_text(text)
    b = read_bvh(p)
    replace = bvh_to_positions(b)  # position channels replace the offset
    add = bvh_to_positions(b, position_mode="add")
    np.testing.assert_allclose(replace[0], [[1, 0, 0], [1.5, 3, 0]])
    np.testing.assert_allclose(add[0], [[1, 0, 0], [1.5, 5, 0]])


def test_write_read_round_trip(tmp_path):
    rng = np.random.default_rng(1)
    b = read_bvh(chain_file(tmp_path, rng.uniform(-90, 90, size=(5, 12)).round(4).tolist()))
    out = write_bvh(tmp_path / "copy.bvh", b)
    c = read_bvh(out)
    assert c.joint_names == b.joint_names and c.parents == b.parents and c.channels == b.channels
    np.testing.assert_allclose(c.motion, b.motion, atol=1e-6)
    np.testing.assert_allclose(c.end_site_offsets, b.end_site_offsets)
    assert c.frame_time == pytest.approx(b.frame_time)
    np.testing.assert_allclose(bvh_to_positions(c), bvh_to_positions(b), atol=1e-5)


def test_bvh_to_layout_selects_by_name_and_scales(tmp_path):
    from kinemic_aug.skeleton.layout import SkeletonLayout, register_layout
    lay = SkeletonLayout(name="test_bvh_two", joint_names=("Tip", "Root"), parents=(1, -1), center=1,
                         zaxis=(1, 0), xaxis=(0, 1))
    register_layout(lay, overwrite=True)
    b = read_bvh(chain_file(tmp_path, [[0, 0, 0, 90, 0, 0] + [0] * 6]))
    x = bvh_to_layout(b, "test_bvh_two", scale=0.5)
    assert x.dtype == np.float32 and x.shape == (1, 2, 3)
    np.testing.assert_allclose(x[0], [[-0.5, 0.5, 0], [0, 0, 0]], atol=1e-6)
    y = bvh_to_layout(b, "test_bvh_two", scale=1.0, name_map={"Tip": "Mid"})
    np.testing.assert_allclose(y[0, 0], [-1, 0, 0], atol=1e-6)
    with pytest.raises(LayoutError, match="Hips"):
        bvh_to_layout(b, "cmu_bvh")


# ---------------------------------------------------------------- malformed input
def _bad(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "bad.bvh"
    p.write_text(text)
    return p


def _good_text() -> str:
    return _fill("Zrotation Yrotation Xrotation", [[0] * 12] * 2)


@pytest.mark.parametrize("old,new,line,field", [
    ("  OFFSET 0 1 0\n", "  OFFSET 0 1\n", 8, "OFFSET"),
    ("CHANNELS 3 Zrotation Xrotation Yrotation\n    JOINT Tip",
     "CHANNELS 2 Zrotation Xrotation Yrotation\n    JOINT Tip", 9, "CHANNELS"),
    ("CHANNELS 3 Zrotation Xrotation Yrotation\n    JOINT Tip",
     "CHANNELS 3 Zrotation Xrotation Wrotation\n    JOINT Tip", 9, "CHANNELS"),
    ("Frames: 2", "Frames: two", 22, "Frames"),
    ("Frame Time: 0.0083333", "Frame Time: 0", 23, "Frame Time"),
    ("  OFFSET 0 1 0\n", "  OFFSET 0 x 0\n", 8, "OFFSET"),
])
def test_malformed_header_names_file_line_and_field(tmp_path, old, new, line, field):
    text = _good_text()
    assert old in text
    p = _bad(tmp_path, text.replace(old, new, 1))
    with pytest.raises(DataError) as ei:
        read_bvh(p)
    msg = str(ei.value)
    assert "bad.bvh" in msg and f"line {line}" in msg and repr(field) in msg


def test_malformed_motion_rows(tmp_path):
    lines = _good_text().splitlines()
    short = lines[:-1] + [" ".join(["0"] * 11)]
    with pytest.raises(DataError, match=r"line 25.*MOTION.*expected 12"):
        read_bvh(_bad(tmp_path, "\n".join(short) + "\n"))
    nan = lines[:-1] + [" ".join(["0"] * 11 + ["abc"])]
    with pytest.raises(DataError, match=r"line 25"):
        read_bvh(_bad(tmp_path, "\n".join(nan) + "\n"))
    missing = lines[:-1]
    with pytest.raises(DataError, match=r"declares 2 frames, file has 1 rows"):
        read_bvh(_bad(tmp_path, "\n".join(missing) + "\n"))
    extra = lines + [" ".join(["1"] * 12)]
    with pytest.warns(UserWarning, match="1 motion row"):
        b = read_bvh(_bad(tmp_path, "\n".join(extra) + "\n"))
    assert b.num_frames == 2 and not b.motion.any()


def test_unclosed_hierarchy_and_missing_file(tmp_path):
    text = _good_text().replace("  }\n}\nMOTION", "  }\nMOTION", 1)
    with pytest.raises(DataError, match="MOTION"):
        read_bvh(_bad(tmp_path, text))
    with pytest.raises(DataError, match="HIERARCHY"):
        read_bvh(_bad(tmp_path, "ROOT x\n"))
    with pytest.raises(DataError, match="cannot read"):
        read_bvh(tmp_path / "nope.bvh")


def test_bvh_object_validates():
    with pytest.raises(DataError, match="motion"):
        BVH(["a"], [-1], np.zeros((1, 3)), [("Xrotation",)], 0.01, np.zeros((3, 2)))
    with pytest.raises(DataError, match="parent"):
        BVH(["a", "b"], [-1, 1], np.zeros((2, 3)), [(), ()], 0.01, np.zeros((3, 0)))


# ---------------------------------------------------------------- real CMU files (when downloaded)
def _cmu_dir():
    from kinemic_aug.data.seed import default_workdir
    cands = [Path(os.environ["KINEMIC_SEED_WORKDIR"]) / "assimp" if os.environ.get("KINEMIC_SEED_WORKDIR") else None,
             default_workdir() / "assimp", Path("/usr")]
    for c in cands:
        if c is None:
            continue
        hit = sorted(c.glob("**/assimp/models/BVH/01_01.bvh")) if c.exists() else []
        if hit:
            return hit[0].parent
    return None


def test_real_cmu_bvh():
    d = _cmu_dir()
    if d is None:
        pytest.skip("CMU BVH files not downloaded (run tools/build_seed_corpus.py)")
    b = read_bvh(d / "01_01.bvh")
    assert b.num_joints == 31 and b.num_channels == 96 and b.num_frames == 2752
    assert b.fps == pytest.approx(120, rel=1e-3)
    x = bvh_to_layout(b, "cmu_bvh")[1:240]  # the first row is the converter's reference pose
    lay = get_layout("cmu_bvh")
    floor = x[..., 1].min()
    pelvis = x[:, lay.index("Hips"), 1] - floor
    assert 0.85 < np.median(pelvis) < 1.1
    # facing +z at the start (toes ahead of ankles), left hip on the +x side of the right one
    toe_ahead = x[0, lay.index("LeftToeBase"), 2] - x[0, lay.index("LeftFoot"), 2]
    assert toe_ahead > 0.05
    assert x[0, lay.index("LeftUpLeg"), 0] > x[0, lay.index("RightUpLeg"), 0]
    assert CMU_UNIT_TO_METRES == pytest.approx(0.056444, rel=1e-4)
