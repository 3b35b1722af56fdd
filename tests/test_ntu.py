"""NTU .skeleton reading and conversion, on small files written here in the exact text format."""
import numpy as np
import pytest

from kinemic_aug.data.ntu import (XSUB_TRAIN_PERFORMERS, NTUName, ntu_splits, ntu_to_pyskl, parse_ntu_name,
                                  read_skeleton)
from kinemic_aug.data.pyskl import load_pyskl
from kinemic_aug.errors import DataError

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]

# A standing person, 25 Kinect-v2 joints (x right, y up, z depth): taller than wide.
_BASE = np.array([
    [0, 0, 3], [0, .3, 3], [0, .6, 3], [0, .75, 3],               # spine base, mid, neck, head
    [-.2, .5, 3], [-.25, .25, 3], [-.28, 0, 3], [-.29, -.05, 3],  # left arm
    [.2, .5, 3], [.25, .25, 3], [.28, 0, 3], [.29, -.05, 3],      # right arm
    [-.1, -.05, 3], [-.1, -.45, 3], [-.1, -.85, 3], [-.1, -.9, 2.9],  # left leg
    [.1, -.05, 3], [.1, -.45, 3], [.1, -.85, 3], [.1, -.9, 2.9],      # right leg
    [0, .5, 3], [-.3, -.1, 3], [-.27, -.07, 3], [.3, -.1, 3], [.27, -.07, 3],
], dtype=np.float64)
assert _BASE.shape == (25, 3)


def _person(t, amp=0.1, shift=0.0, seed=0):
    rng = np.random.default_rng(seed)
    phase = np.linspace(0, 2 * np.pi, t)[:, None, None]
    wobble = amp * np.sin(phase + rng.uniform(0, 1, size=(1, 25, 3)))
    return _BASE[None] + wobble + np.array([shift, 0, 0])


def _write(path, frames):
    """frames: list over frames of lists of (body_id, joints[25, 3]). Independent of the reader."""
    out = [str(len(frames))]
    for bodies in frames:
        out.append(str(len(bodies)))
        for bid, j in bodies:
            out.append(f"{bid} 0 1 2 1 2 0 0.1 -0.2 2")
            out.append("25")
            for k, (x, y, z) in enumerate(j):
                out.append(f"{x:.7f} {y:.7f} {z:.7f} 250.1 200.2 900.3 500.4 0.1 0.2 0.3 0.4 2")
    path.write_text("\r\n".join(out) + "\r\n")  # the released files have CRLF line ends
    return path


def _tracks(t, spec):
    """spec: {body_id: (frames, joints[t, 25, 3])} -> per-frame body lists."""
    frames = [[] for _ in range(t)]
    for bid, (idx, j) in spec.items():
        for f in idx:
            frames[f].append((bid, j[f]))
    return frames


@pytest.fixture
def ntu_dir(tmp_path):
    d = tmp_path / "nturgb+d_skeletons"
    d.mkdir()
    # 1: one person, untracked frames at both ends (trimmed)
    p = _person(30, seed=1)
    _write(d / "S001C001P001R001A001.skeleton", _tracks(30, {72057594037931101: (range(2, 27), p)}))
    # 2: multi-body frames: B present from frame 0 (moves little), A from frame 5 (moves most),
    #    C a third real person (moves least), a flat object, and a 3-frame flicker
    t = 40
    a, b, c = _person(t, 0.3, 1.0, 2), _person(t, 0.05, -1.0, 3), _person(t, 0.01, 2.0, 4)
    obj = np.zeros((t, 25, 3)) + np.linspace(-0.5, 0.5, 25)[None, :, None] * np.array([1, 0.02, 0])
    obj += np.sin(np.linspace(0, 20, t))[:, None, None] * np.array([1.0, 0, 0])  # moves a lot, but not a person
    spec = {11: (range(5, t), a), 22: (range(0, t), b), 33: (range(0, t), c), 44: (range(0, 20), obj),
            55: (range(7, 10), _person(t, 1.0, 0.0, 5))}
    _write(d / "S002C002P002R001A002.skeleton", _tracks(t, spec))
    # 3: listed as missing; its content is empty frames
    _write(d / "S003C003P003R002A003.skeleton", [[] for _ in range(5)])
    # 4: an NTU-120-only action
    _write(d / "S004C001P004R001A120.skeleton", _tracks(15, {7: (range(15), _person(15, seed=6))}))
    # 5: setup 1 is in the xsub id list but performer 6 is not: must go to xsub_val
    _write(d / "S001C002P006R001A001.skeleton", _tracks(20, {9: (range(20), _person(20, seed=7))}))
    # 6: nobody is ever tracked
    _write(d / "S002C003P007R002A002.skeleton", [[] for _ in range(10)])
    (tmp_path / "missing.txt").write_text("# ids with missing skeletons\nS003C003P003R002A003\n")
    return d


def test_parse_name():
    assert parse_ntu_name("S017C003P020R002A060") == NTUName(17, 3, 20, 2, 60)
    assert parse_ntu_name("/x/y/S001C001P106R001A120.skeleton").performer == 106
    with pytest.raises(DataError, match="SsssCcccPpppRrrrAaaa") as ei:
        parse_ntu_name("S1C1P1R1A1")
    assert ei.value.field == "name"


def test_read_skeleton_bodies_and_frames(ntu_dir):
    s = read_skeleton(ntu_dir / "S002C002P002R001A002.skeleton")
    assert s["num_frames"] == 40 and s["name"] == "S002C002P002R001A002"
    assert list(s["bodies"]) == [22, 33, 44, 11, 55]  # order of first appearance
    np.testing.assert_array_equal(s["bodies"][11]["frames"], np.arange(5, 40))
    np.testing.assert_array_equal(s["bodies"][55]["frames"], [7, 8, 9])
    assert s["bodies"][11]["joints"].shape == (35, 25, 3)
    assert s["bodies_per_frame"][8] == 5 and s["bodies_per_frame"][30] == 3
    b = s["bodies"][22]
    np.testing.assert_allclose(b["joints"], _person(40, 0.05, -1.0, 3), atol=1e-6)
    assert b["depth"][0, 0].tolist() == pytest.approx([250.1, 200.2])
    assert b["joint_tracking"].dtype == np.int8 and int(b["joint_tracking"][0, 0]) == 2
    assert b["info"].shape == (40, 10)


def test_convert_ntu120(ntu_dir, tmp_path):
    out = tmp_path / "ntu120_3d.pkl"
    data = ntu_to_pyskl(ntu_dir, out, dataset="ntu120", missing_list=tmp_path / "missing.txt")
    back = load_pyskl(out, layout="nturgb+d", num_classes=120)
    assert [a["frame_dir"] for a in back["annotations"]] == [
        "S001C001P001R001A001", "S001C002P006R001A001", "S002C002P002R001A002", "S004C001P004R001A120"]
    assert back["meta"]["skipped"] == {"missing_list": ["S003C003P003R002A003"], "other_dataset": [],
                                       "no_body": ["S002C003P007R002A002"], "two_person": []}
    by = {a["frame_dir"]: a for a in data["annotations"]}
    one = by["S001C001P001R001A001"]
    assert one["label"] == 0 and one["keypoint"].shape == (1, 25, 25, 3) and one["total_frames"] == 25
    np.testing.assert_allclose(one["keypoint"][0], _person(30, seed=1)[2:27], atol=1e-6)
    two = by["S002C002P002R001A002"]
    assert two["label"] == 1 and two["keypoint"].shape == (2, 40, 25, 3)
    # kept: A (most motion) and B; C (third), the object and the flicker are dropped;
    # B is tracked at frame 0 so it comes first
    np.testing.assert_allclose(two["keypoint"][0], _person(40, 0.05, -1.0, 3), atol=1e-6)
    np.testing.assert_allclose(two["keypoint"][1, 5:], _person(40, 0.3, 1.0, 2)[5:], atol=1e-6)
    assert np.all(two["keypoint"][1, :5] == 0)
    assert by["S004C001P004R001A120"]["label"] == 119

    sp = back["split"]
    assert sp["xsub_train"] == ["S001C001P001R001A001", "S002C002P002R001A002", "S004C001P004R001A120"]
    assert sp["xsub_val"] == ["S001C002P006R001A001"]  # the S field would have put it in train
    assert sp["xset_train"] == ["S002C002P002R001A002", "S004C001P004R001A120"]
    assert sp["xset_val"] == ["S001C001P001R001A001", "S001C002P006R001A001"]
    subj = lambda ids: {parse_ntu_name(i).performer for i in ids}  # noqa: E731
    assert not subj(sp["xsub_train"]) & subj(sp["xsub_val"])
    assert subj(sp["xsub_train"]) <= XSUB_TRAIN_PERFORMERS


def test_convert_ntu60_views_and_filters(ntu_dir):
    data = ntu_to_pyskl(ntu_dir, None, dataset="ntu60", missing_list=["S003C003P003R002A003"], max_bodies=1)
    ids = [a["frame_dir"] for a in data["annotations"]]
    assert "S004C001P004R001A120" not in ids and data["meta"]["skipped"]["other_dataset"] == ["S004C001P004R001A120"]
    assert set(data["split"]) == {"xsub_train", "xsub_val", "xview_train", "xview_val"}
    assert data["split"]["xview_train"] == ["S001C002P006R001A001", "S002C002P002R001A002"]
    assert data["split"]["xview_val"] == ["S001C001P001R001A001"]
    two = next(a for a in data["annotations"] if a["frame_dir"] == "S002C002P002R001A002")
    # one body: the most-moving real person (A), trimmed to where it is tracked
    assert two["keypoint"].shape == (1, 35, 25, 3)


def test_splits_use_performer_not_setup():
    names = ["S001C001P006R001A001", "S006C001P001R001A001"]
    sp = ntu_splits(names, "ntu120")
    assert sp["xsub_train"] == ["S006C001P001R001A001"] and sp["xsub_val"] == ["S001C001P006R001A001"]


def _good_lines():
    frames = _tracks(3, {5: (range(3), _person(3))})
    return frames


@pytest.mark.parametrize("edit, field, msg", [
    (lambda L: L[:-28], "body count", "frame 2, line 58.*end of file"),  # last frame cut off
    (lambda L: L[:-20], "joint", "frame 2, line 66.*end of file"),       # cut inside a joint block
    (lambda L: L[:3] + ["24"] + L[4:], "joint count", "frame 0.*expected 25 joints"),
    (lambda L: L[:10] + [" ".join(L[10].split()[:11])] + L[11:], "joint", r"frame 0, line 11: joint 6.*got 11"),
    (lambda L: L[:32] + [L[32].replace("250.1", "abc")] + L[33:], "joint", "frame 1, line 33: joint 0: non-numeric"),
    (lambda L: L[:33] + [L[33].replace("250.1", "nan")] + L[34:], "joint", "frame 1, line 34: joint 1: NaN"),
    (lambda L: L[:2] + [" ".join(L[2].split()[:9])] + L[3:], "body info", "frame 0.*10 body fields"),
    (lambda L: ["x3"] + L[1:], "frame count", "expected an integer"),
    (lambda L: L + ["1"], "end of file", "after the last of 3 frames"),
])
def test_malformed_files_name_file_frame_and_field(tmp_path, edit, field, msg):
    p = _write(tmp_path / "S001C001P001R001A001.skeleton", _good_lines())
    lines = p.read_text().splitlines()
    p.write_text("\n".join(edit(lines)) + "\n")
    with pytest.raises(DataError, match=msg) as ei:
        read_skeleton(p)
    assert ei.value.field == field and ei.value.source == str(p)
    assert ei.value.sample == "S001C001P001R001A001"


def test_two_person_actions_are_kept_dropped_or_refused(ntu_dir, tmp_path):
    from kinemic_aug.data.ntu import TWO_PERSON_ACTIONS

    assert {50, 60, 106, 120} <= TWO_PERSON_ACTIONS and not {49, 61, 105} & TWO_PERSON_ACTIONS
    # A120 (a two-person action of NTU-120) is in the folder
    kept = ntu_to_pyskl(ntu_dir, None, dataset="ntu120")
    assert "S004C001P004R001A120" in [a["frame_dir"] for a in kept["annotations"]]
    dropped = ntu_to_pyskl(ntu_dir, None, dataset="ntu120", two_person="drop")
    assert dropped["meta"]["skipped"]["two_person"] == ["S004C001P004R001A120"]
    assert "S004C001P004R001A120" not in [a["frame_dir"] for a in dropped["annotations"]]
    with pytest.raises(DataError, match="A120 is a two-person action") as e:
        ntu_to_pyskl(ntu_dir, None, dataset="ntu120", two_person="refuse")
    assert "S004C001P004R001A120" in str(e.value)
    with pytest.raises(DataError, match="two_person"):
        ntu_to_pyskl(ntu_dir, None, two_person="maybe")


def test_preprocessed_arrays_convert_with_the_same_splits(tmp_path):
    from kinemic_aug.data.ntu import arrays_to_pyskl

    names = ["S001C001P001R001A001", "S002C002P006R001A002", "S001C003P001R001A055"]
    x = np.zeros((3, 3, 12, 25, 2), np.float32)
    x[0, :, :10, :, 0] = np.transpose(_person(10, seed=1), (2, 0, 1))       # one person, 10 of 12 frames
    x[1, :, :, :, 0] = np.transpose(_person(12, seed=2), (2, 0, 1))
    x[1, :, :, :, 1] = np.transpose(_person(12, seed=3), (2, 0, 1))         # two persons
    x[2, :, :, :, 0] = 1.0
    out = tmp_path / "ntu.pkl"
    data = arrays_to_pyskl(x, names, out, dataset="ntu60", two_person="drop")
    by = {a["frame_dir"]: a for a in data["annotations"]}
    assert set(by) == set(names[:2]) and data["meta"]["skipped"]["two_person"] == [names[2]]
    assert by[names[0]]["keypoint"].shape == (1, 10, 25, 3) and by[names[0]]["label"] == 0
    np.testing.assert_allclose(by[names[0]]["keypoint"][0], _person(10, seed=1), atol=1e-6)
    assert by[names[1]]["keypoint"].shape == (2, 12, 25, 3)
    assert data["split"]["xsub_train"] == [names[0]] and data["split"]["xsub_val"] == [names[1]]
    assert data["split"]["xview_train"] == [names[1]] and data["split"]["xview_val"] == [names[0]]
    assert load_pyskl(out, layout="nturgb+d", num_classes=60)["annotations"][0]["frame_dir"] == names[0]
    with pytest.raises(DataError, match="2 names for 3 samples"):
        arrays_to_pyskl(x, names[:2])
    with pytest.raises(DataError, match="expected"):
        arrays_to_pyskl(x[:, :2], names)


def test_cli_converts_a_folder(ntu_dir, tmp_path):
    import subprocess
    import sys

    out = tmp_path / "cli.pkl"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "ntu_to_pyskl.py"), str(ntu_dir), "--out", str(out),
                        "--dataset", "ntu120", "--two-person", "drop", "--missing", str(tmp_path / "missing.txt")],
                       capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr
    data = load_pyskl(out, layout="nturgb+d", num_classes=120)
    assert len(data["annotations"]) == 3 and "two-person: 1" in r.stdout
