import os
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionCorpus
from kinemic_aug.data.humanml3d import (HMLCaption, humanml3d_identity, load_humanml3d_corpus, load_humanml3d_stats,
                                        load_vecs, read_split, read_texts, write_humanml3d_entry,
                                        write_humanml3d_features, write_split)
from kinemic_aug.errors import DataError


def _motion(t, seed=0):
    rng = np.random.default_rng(seed)
    return (np.cumsum(rng.normal(scale=0.01, size=(t, 22, 3)), axis=0) + rng.normal(size=(1, 22, 3))).astype(np.float32)


def test_read_texts_released_format(tmp_path):
    p = tmp_path / "000001.txt"
    p.write_text(
        "a man kicks something or someone with his left leg.#a/DET man/NOUN kick/VERB something/PRON or/CCONJ "
        "someone/PRON with/ADP his/DET left/ADJ leg/NOUN#0.0#0.0\n"
        "\n"
        "he walks # then stops#he/PRON walk/VERB then/ADV stop/VERB#1.5#4.25\n"
        "a person stands.#a/DET person/NOUN stand/VERB#nan#nan\n")
    caps = read_texts(p)
    assert [c.caption for c in caps] == ["a man kicks something or someone with his left leg.",
                                         "he walks # then stops", "a person stands."]
    assert caps[0].tokens[:3] == ["a/DET", "man/NOUN", "kick/VERB"] and caps[0].whole_clip
    assert (caps[1].start, caps[1].end) == (1.5, 4.25) and not caps[1].whole_clip
    assert caps[2].whole_clip


@pytest.mark.parametrize("line, msg", [
    ("no hashes here", "line 2: expected 'caption#tokens#from#to'"),
    ("walks#walk/VERB#abc#1.0", "line 2: from time 'abc'"),
    ("walks#walk/VERB#2.0#1.0", "line 2: span ends before it starts"),
    ("walks#walk/VERB#-1#1.0", "line 2: from time -1.0"),
])
def test_read_texts_errors_name_file_and_line(tmp_path, line, msg):
    p = tmp_path / "000002.txt"
    p.write_text("ok#ok/X#0.0#0.0\n" + line + "\n")
    with pytest.raises(DataError, match=msg) as ei:
        read_texts(p)
    assert str(p) in str(ei.value)


@pytest.fixture
def hml_root(tmp_path):
    """A small HumanML3D-shaped folder (synthetic random-walk joints, new_joints only)."""
    root = tmp_path / "HumanML3D"
    write_humanml3d_entry(root, "000001", _motion(100, 1), ["a person walks forward.", "someone walks."])
    # whole-clip caption + sub-clip spans (two lines with the same span) + one span too short to keep
    write_humanml3d_entry(root, "000002", _motion(150, 2), [
        "a person jumps.", ("the person waves", 0.5, 3.5), ("someone waves a hand", 0.5, 3.5),
        ("a person sits down", 4.0, 7.0), ("a person nods", 7.0, 7.5)])
    # only sub-span captions: the whole clip is not registered
    write_humanml3d_entry(root, "000003", _motion(120, 3), [("a person turns", 1.0, 4.0)])
    write_humanml3d_entry(root, "000004", _motion(30, 4), ["too short"])     # T < 40
    write_humanml3d_entry(root, "000005", _motion(210, 5), ["too long"])     # T >= 200
    write_humanml3d_entry(root, "000006", _motion(60, 6), ["sixty frames"])
    # the whole motion is too long: its (60-frame) sub-clip goes too, as in the reference loader
    write_humanml3d_entry(root, "000007", _motion(210, 7), [("a person runs", 1.0, 4.0)])
    write_split(root, "train", ["000001", "000002", "000003", "000004", "000005", "000006", "000007"])
    write_split(root, "test", ["000001", "999999"])
    return root


def test_load_corpus_entries_spans_and_filters(hml_root):
    c = load_humanml3d_corpus(hml_root, "train")
    assert [k.name for k in c] == ["000001", "A_000002", "B_000002", "C_000002", "000002", "A_000003", "000006"]
    assert all(k.layout == "smpl22" and k.source == "humanml3d" and not k.synthetic and k.fps == 20.0 for k in c)
    assert c["000001"].captions == ["a person walks forward.", "someone walks."]
    assert c["000002"].captions == ["a person jumps."]                      # whole-clip lines only
    a2, b2 = c["A_000002"], c["B_000002"]
    assert a2.captions == ["the person waves"] and b2.captions == ["someone waves a hand"]
    assert a2.meta["span"] == b2.meta["span"] == [0.5, 3.5]
    np.testing.assert_array_equal(a2.joints, _motion(150, 2)[10:70])
    np.testing.assert_array_equal(b2.joints, a2.joints)
    assert c["C_000002"].num_frames == 60 and c["C_000002"].meta["motion_file"] == "new_joints/000002.npy"
    assert c["A_000003"].meta["id"] == "000003" and "000003" not in [k.name for k in c]
    assert c["000001"].meta["tokens"][0] == ["a/X", "person/X", "walks/X", "forward./X"]
    assert sorted(c.skipped["length"]) == ["000002#7.0#7.5", "000004", "000005", "000007"]
    # a corpus file round trip keeps names and captions
    back = MotionCorpus.load(c.save(hml_root / "corpus.npz"))
    assert back.fingerprint() == c.fingerprint()


def _features(t, seed):
    """Features of a synthetic (random, smooth) motion, in the released layout: encoded from t+1 frames."""
    from kinemic_aug.data.hml_vec import joints_to_hml_vec

    rng = np.random.default_rng(seed)
    base = np.array([[0, .95, 0], [.09, .87, 0], [-.09, .87, 0]] + [[0, 1.0 + .02 * i, .01 * i] for i in range(19)])
    base[16], base[17] = (.18, 1.42, 0), (-.18, 1.42, 0)                     # shoulders wider than hips
    walk = np.cumsum(rng.normal(scale=0.004, size=(t + 1, 22, 3)), axis=0) + base
    return joints_to_hml_vec(walk.astype(np.float32))


def test_corpus_from_features_matches_joints(tmp_path):
    root = tmp_path / "HumanML3D"
    write_humanml3d_features(root, "000010", _features(80, 0), ["a person walks.", ("a person stops", 0.5, 3.0)])
    write_humanml3d_features(root, "M000010", _features(90, 1), ["a person walks mirrored."])
    write_split(root, "train", ["000010", "M000010"])
    by_vecs = load_humanml3d_corpus(root)                                      # auto: new_joint_vecs
    by_joints = load_humanml3d_corpus(root, motion="joints")
    assert [k.name for k in by_vecs] == [k.name for k in by_joints] == ["A_000010", "000010", "M000010"]
    assert by_vecs["000010"].num_frames == 80 and by_vecs["A_000010"].num_frames == 50
    assert by_vecs["000010"].meta["motion_file"] == "new_joint_vecs/000010.npy"
    for a, b in zip(by_vecs, by_joints):
        np.testing.assert_allclose(a.joints, b.joints, atol=1e-5)
    with pytest.raises(DataError, match="no new_joint_vecs/ folder"):
        load_humanml3d_corpus(_joints_only(tmp_path), motion="vecs")


def _joints_only(tmp_path):
    root = tmp_path / "joints_only"
    write_humanml3d_entry(root, "000001", _motion(60, 1), ["a person walks."])
    write_split(root, "train", ["000001"])
    return root


def test_identity_covers_exactly_the_files_read(hml_root, tmp_path):
    import shutil

    ident = humanml3d_identity(hml_root)
    assert len(ident) == 64 and ident == humanml3d_identity(hml_root)
    copy = tmp_path / "elsewhere" / "HumanML3D"
    shutil.copytree(hml_root, copy)
    assert humanml3d_identity(copy) == ident                                   # location-independent
    assert humanml3d_identity(hml_root, "test") != ident
    write_humanml3d_entry(copy, "123456", _motion(60, 9), ["not in any split"])
    assert humanml3d_identity(copy) == ident                                   # an unlisted id is not read
    (copy / "texts" / "000003.txt").write_text("a person turns#a/X#1.0#4.5\n")
    assert humanml3d_identity(copy) != ident
    shutil.rmtree(copy)
    shutil.copytree(hml_root, copy)
    np.save(copy / "new_joints" / "000006.npy", _motion(60, 60))
    assert humanml3d_identity(copy) != ident


def test_folder_errors_come_before_any_array_is_read(hml_root):
    import shutil

    (hml_root / "new_joints" / "000001.npy").write_bytes(b"garbage")          # would fail if it were read
    (hml_root / "texts" / "000006.txt").write_text("a person walks#a/X#1.0#x\n")
    with pytest.raises(DataError, match=r"000006.txt, field 'texts': line 1: to time 'x'"):
        load_humanml3d_corpus(hml_root)
    shutil.rmtree(hml_root / "texts")
    with pytest.raises(DataError, match="no texts/ folder") as ei:
        load_humanml3d_corpus(hml_root)
    assert ei.value.field == "texts" and str(hml_root) in str(ei.value)
    with pytest.raises(DataError, match="no texts/ folder"):
        humanml3d_identity(hml_root)
    with pytest.raises(DataError, match="HumanML3D folder not found"):
        load_humanml3d_corpus(hml_root / "nope")


def test_stats_are_checked_and_name_the_file(tmp_path):
    root = tmp_path / "HumanML3D"
    root.mkdir()
    with pytest.raises(DataError, match=r"Mean.npy, field 'Mean': Mean.npy not found"):
        load_humanml3d_stats(root)
    np.save(root / "Mean.npy", np.zeros(263, np.float32))
    with pytest.raises(DataError, match=r"Std.npy, field 'Std': Std.npy not found"):
        load_humanml3d_stats(root)
    np.save(root / "Std.npy", np.ones(262, np.float32))
    with pytest.raises(DataError, match=r"field 'Std': expected 263 real values"):
        load_humanml3d_stats(root)
    std = np.ones(263, np.float32)
    std[7] = 0.0
    np.save(root / "Std.npy", std)
    with pytest.raises(DataError, match=r"1 std values are <= 0 \(first at index 7\)"):
        load_humanml3d_stats(root)
    np.save(root / "Std.npy", np.full(263, 0.5, np.float32))
    mean, s = load_humanml3d_stats(root)
    assert mean.shape == s.shape == (263,) and mean.dtype == np.float32 and np.all(s == 0.5)


def test_length_window_is_configurable(hml_root):
    c = load_humanml3d_corpus(hml_root, "train", min_len=10, max_len=1000)
    assert {"000004", "000005", "D_000002", "A_000007"} <= {k.name for k in c}


def test_missing_files(hml_root):
    with pytest.raises(DataError, match="999999") as ei:
        load_humanml3d_corpus(hml_root, "test")
    assert ei.value.sample == "999999" and ei.value.field == "new_joints"
    c = load_humanml3d_corpus(hml_root, "test", on_missing="skip")
    assert [k.name for k in c] == ["000001"] and c.skipped["missing"] == ["999999"]
    with pytest.raises(DataError, match=r"no split file val.txt; found \['test', 'train'\]"):
        load_humanml3d_corpus(hml_root, "val")


def test_bad_joint_files_name_the_file(hml_root):
    np.save(hml_root / "new_joints" / "000001.npy", np.zeros((50, 21, 3), np.float32))
    with pytest.raises(DataError, match=r"000001.npy.*expected \[T, 22, 3\]"):
        load_humanml3d_corpus(hml_root, "train")
    bad = np.zeros((50, 22, 3), np.float32)
    bad[3, 4, 1] = np.nan
    np.save(hml_root / "new_joints" / "000001.npy", bad)
    with pytest.raises(DataError, match="000001.npy.*NaN"):
        load_humanml3d_corpus(hml_root, "train")
    (hml_root / "new_joints" / "000001.npy").write_bytes(b"garbage")
    with pytest.raises(DataError, match="000001.npy, field 'new_joints': not a readable"):
        load_humanml3d_corpus(hml_root, "train")


def test_vectors_written_and_checked(tmp_path):
    write_humanml3d_entry(tmp_path, "000006", _motion(60, 6), ["with vectors"], vecs=True)
    v = load_vecs(tmp_path, "000006", num_frames=60)
    assert v.shape == (59, 263)
    with pytest.raises(DataError, match=r"expected \[60, 263\]"):
        load_vecs(tmp_path, "000006", num_frames=61)


def test_writer_validates_and_roundtrips_caption_objects(tmp_path):
    with pytest.raises(DataError, match="joints"):
        write_humanml3d_entry(tmp_path, "x", np.zeros((10, 20, 3)), ["a"])
    write_humanml3d_entry(tmp_path, "y", _motion(50), [HMLCaption("a b", ["a/DET", "b/NOUN"], 0.0, 2.0)])
    (c,) = read_texts(tmp_path / "texts" / "y.txt")
    assert c == HMLCaption("a b", ["a/DET", "b/NOUN"], 0.0, 2.0)


HML_REF = Path(os.environ.get("KINEMIC_HML_REF", Path(__file__).resolve().parents[1].parent / "shared" / "data"
                              / "humanml3d_reference" / "HumanML3D"))


def test_reference_folder_without_texts_is_refused_and_its_stats_load():
    """The shipped HumanML3D reference files (real split lists, Mean/Std, one clip) have no texts/."""
    if not (HML_REF / "train.txt").exists():
        pytest.skip(f"HumanML3D reference files not found under {HML_REF} (research data, not shipped)")
    with pytest.raises(DataError, match="no texts/ folder") as ei:
        load_humanml3d_corpus(HML_REF)
    assert ei.value.field == "texts"
    assert len(read_split(HML_REF, "train")) == 23384
    mean, std = load_humanml3d_stats(HML_REF)
    assert mean.shape == std.shape == (263,) and np.all(std > 0)
