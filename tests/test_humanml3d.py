import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionCorpus
from kinemic_aug.data.humanml3d import (HMLCaption, load_humanml3d_corpus, load_vecs, read_texts,
                                        write_humanml3d_entry, write_split)
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
    root = tmp_path / "HumanML3D"
    write_humanml3d_entry(root, "000001", _motion(100, 1), ["a person walks forward.", "someone walks."])
    # whole-clip caption + two sub-clip spans (one shared by two captions) + one span too short to keep
    write_humanml3d_entry(root, "000002", _motion(150, 2), [
        "a person jumps.", ("the person waves", 0.5, 3.5), ("someone waves a hand", 0.5, 3.5),
        ("a person sits down", 4.0, 7.0), ("a person nods", 7.0, 7.5)])
    # only sub-span captions: the whole clip is not registered
    write_humanml3d_entry(root, "000003", _motion(120, 3), [("a person turns", 1.0, 4.0)])
    write_humanml3d_entry(root, "000004", _motion(30, 4), ["too short"])     # T < 40
    write_humanml3d_entry(root, "000005", _motion(210, 5), ["too long"])     # T >= 200
    write_humanml3d_entry(root, "000006", _motion(60, 6), ["with vectors"], vecs=True)
    write_split(root, "train", ["000001", "000002", "000003", "000004", "000005", "000006"])
    write_split(root, "test", ["000001", "999999"])
    return root


def test_load_corpus_entries_spans_and_filters(hml_root):
    c = load_humanml3d_corpus(hml_root, "train")
    assert [k.name for k in c] == ["000001", "000002", "A_000002", "B_000002", "A_000003", "000006"]
    assert all(k.layout == "smpl22" and k.source == "humanml3d" and not k.synthetic and k.fps == 20.0 for k in c)
    assert c["000001"].captions == ["a person walks forward.", "someone walks."]
    a2 = c["A_000002"]
    assert a2.captions == ["the person waves", "someone waves a hand"] and a2.meta["span"] == [0.5, 3.5]
    np.testing.assert_array_equal(a2.joints, _motion(150, 2)[10:70])
    assert c["B_000002"].num_frames == 60
    assert c["A_000003"].meta["id"] == "000003" and "000003" not in [k.name for k in c]
    assert c["000001"].meta["tokens"][0] == ["a/X", "person/X", "walks/X", "forward./X"]
    assert sorted(c.skipped["length"]) == ["000004", "000005", "C_000002"]
    # a corpus file round trip keeps names and captions
    back = MotionCorpus.load(c.save(hml_root / "corpus.npz"))
    assert back.fingerprint() == c.fingerprint()


def test_length_window_is_configurable(hml_root):
    c = load_humanml3d_corpus(hml_root, "train", min_len=10, max_len=1000)
    assert {"000004", "000005", "C_000002"} <= {k.name for k in c}


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


def test_vectors_written_and_checked(hml_root):
    v = load_vecs(hml_root, "000006", num_frames=60)
    assert v.shape == (59, 263)
    with pytest.raises(DataError, match=r"expected \[60, 263\]"):
        load_vecs(hml_root, "000006", num_frames=61)


def test_writer_validates_and_roundtrips_caption_objects(tmp_path):
    with pytest.raises(DataError, match="joints"):
        write_humanml3d_entry(tmp_path, "x", np.zeros((10, 20, 3)), ["a"])
    write_humanml3d_entry(tmp_path, "y", _motion(50), [HMLCaption("a b", ["a/DET", "b/NOUN"], 0.0, 2.0)])
    (c,) = read_texts(tmp_path / "texts" / "y.txt")
    assert c == HMLCaption("a b", ["a/DET", "b/NOUN"], 0.0, 2.0)
