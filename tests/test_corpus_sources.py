"""Real corpus sources: Kinect gap repair, layouts, authored captions, loaders, specs and bad input.

Loader tests on the real datasets skip when ``../shared/data`` is absent; the bad-input and spec
tests build small source pickles of their own."""
from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.corpora import GROUPS, SOURCE_INFO, load_source
from kinemic_aug.data.corpora.common import authored_captions, caption_table, repair_gaps, resolve_data_root
from kinemic_aug.data.sources import corpus_identity, describe_corpus, load_corpus
from kinemic_aug.errors import DataError
from kinemic_aug.skeleton.layout import get_layout
from kinemic_aug.skeleton.retarget import rest_pose, retarget

REPO = Path(__file__).resolve().parents[1]
DATA = REPO.parent / "shared" / "data"


def _have(name: str) -> bool:
    return (DATA / SOURCE_INFO[name].folder / SOURCE_INFO[name].file).is_file()


needs = {n: pytest.mark.skipif(not _have(n), reason=f"{n} not in {DATA} (research data, not shipped)")
         for n in SOURCE_INFO}


# ---------------------------------------------------------------------- gap repair
def test_repair_fills_short_gaps_and_cuts_long_ones():
    t = np.arange(40, dtype=np.float32)
    kp = np.stack([np.stack([t, t * 0 + 1, t * 0 + 2], -1)] * 4, 1)  # [40, 4, 3], x = frame index
    kp[10:13] = 0            # 3-frame dropout: filled linearly
    kp[20:30, 2] = 0         # one joint lost for 10 frames: cut
    segs, rep = repair_gaps(kp, max_gap=5, min_frames=5)
    assert [(off, len(s)) for off, s in segs] == [(0, 20), (30, 10)]
    assert np.allclose(segs[0][1][10:13, :, 0], [[10] * 4, [11] * 4, [12] * 4])
    assert rep.filled_frames == 3 and rep.dropped_frames == 10 and rep.segments == 2


def test_repair_trims_untracked_ends_and_drops_short_pieces():
    kp = np.ones((20, 3, 3), np.float32)
    kp[:4] = 0
    kp[-2:] = 0
    segs, _ = repair_gaps(kp, max_gap=2, min_frames=5)
    assert [(off, len(s)) for off, s in segs] == [(4, 14)]
    assert repair_gaps(kp[:6], max_gap=2, min_frames=5)[0] == []


# ---------------------------------------------------------------------- layouts
def test_kinect_orders_permute_exactly():
    rng = np.random.default_rng(0)
    msr = rng.normal(size=(7, 20, 3)).astype(np.float32)
    for lay in ("kinect_v1_sdk", "utd_mhad"):
        x = retarget(msr, "msr_action3d", lay)
        for j, name in enumerate(get_layout(lay).joint_names):
            assert np.array_equal(x[:, j], msr[:, get_layout("msr_action3d").index(name)])
        assert np.array_equal(retarget(x, lay, "msr_action3d"), msr)


def test_new_layouts_map_to_an_upright_smpl_body():
    for lay in ("kinect_v1_sdk", "utd_mhad", "bandai22"):
        j = retarget(rest_pose(lay)[None], lay, "smpl22")[0]
        smpl = get_layout("smpl22")
        assert j[smpl.index("head"), 1] > j[smpl.index("pelvis"), 1] + 0.3, lay
        assert j[smpl.index("L_ankle"), 1] < j[smpl.index("L_knee"), 1] < j[smpl.index("pelvis"), 1], lay


# ---------------------------------------------------------------------- captions
def test_caption_table_is_authored_and_complete_for_the_labels_it_names():
    for src in ("msrc12_gestures", "kinder_gator", "nw_ucla"):
        table = caption_table(src)
        assert table and all(len(v) >= 2 for v in table.values()), src
    bandai = caption_table("bandai_namco_motion")
    assert len(bandai["content"]) == 25 and len(bandai["style"]) == 19
    with pytest.raises(DataError, match="no authored captions"):
        authored_captions("kinder_gator", "juggle three balls")


@pytest.mark.parametrize("name", sorted(SOURCE_INFO))
def test_every_label_of_the_real_pickles_has_captions(name):
    if not _have(name):
        pytest.skip("research data absent")
    with open(DATA / SOURCE_INFO[name].folder / SOURCE_INFO[name].file, "rb") as f:
        meta = pickle.load(f)["meta"]
    table = caption_table(SOURCE_INFO[name].name)
    if name == "bandai":
        assert set(meta["classes"]) <= set(table["content"]) and set(meta["styles"]) <= set(table["style"])
    else:
        assert set(meta["classes"]) <= set(table)


# ---------------------------------------------------------------------- loaders on the real data
@pytest.fixture(scope="module")
def nw_ucla_parts():
    if not _have("nw_ucla"):
        pytest.skip("research data absent")
    return load_source("nw_ucla", part="train"), load_source("nw_ucla", part="heldout")


def test_loaded_clips_are_real_smpl22_with_metadata(nw_ucla_parts):
    train, held = nw_ucla_parts
    for c in list(train)[:50] + list(held)[:50]:
        assert c.layout == "smpl22" and c.fps == 20.0 and c.synthetic is False
        assert c.meta["caption_origin"] == "authored" and c.captions
        assert c.meta["dataset"] == "nw_ucla" and "licence" in c.meta and c.meta["source_layout"] == "kinect_v1_sdk"
        assert abs(float(c.joints[..., 1].min())) < 1e-5          # floor at y = 0
        assert np.max(c.joints[:, 15, 1] - c.joints[:, 0, 1]) > 0.3   # head above pelvis (standing at some point)


def test_heldout_part_is_subject_disjoint_and_about_a_tenth(nw_ucla_parts):
    train, held = nw_ucla_parts
    assert {c.meta["subject"] for c in held} == {10}
    assert 10 not in {c.meta["subject"] for c in train}
    assert 0.05 < len(held) / (len(train) + len(held)) < 0.2
    assert all(c.meta["heldout"] for c in held) and not any(c.meta["heldout"] for c in train)


@needs["msrc12"]
def test_msrc12_gives_one_clip_per_tag_without_overlap():
    held = load_source("msrc12", part="heldout")
    by_seq = {}
    for c in held:
        by_seq.setdefault(c.name.rsplit("_tag", 1)[0], []).append(c)
    assert len(by_seq) > 40
    for seq, clips in by_seq.items():
        windows = sorted(tuple(c.meta["window"]) for c in clips)
        assert all(a[1] <= b[0] for a, b in zip(windows, windows[1:])), seq
        for c in clips:
            lo, hi = c.meta["window"]
            assert lo <= c.meta["tag_frame"] < hi
            assert 1.0 <= c.duration <= 4.2
    assert {c.meta["subject"] for c in held} == {10, 20, 30}


@needs["bandai"]
def test_bandai_captions_carry_the_style_and_long_takes_are_split():
    held = load_source("bandai", part="heldout")
    assert {c.meta["style"] for c in held} == {"youthful"}
    assert all(cap.endswith("in a youthful way") for c in held for cap in c.captions)
    assert max(c.duration for c in held) <= 10.0 + 1e-6


# ---------------------------------------------------------------------- specs and bad input on a fake root
from conftest import fake_kinder_gator as _fake_kinder_gator  # noqa: E402


def test_spec_with_a_root_loads_parts_and_keys_follow_the_data(tmp_path):
    path = _fake_kinder_gator(tmp_path)
    train = load_corpus(f"kinder_gator@{tmp_path}")
    held = load_corpus(f"kinder_gator:heldout@{tmp_path}")
    assert len(train) == 3 and len(held) == 1 and held[0].meta["subject"] == 723
    assert len(load_corpus(f"kinder_gator:all@{tmp_path}+seed")) > 4
    key = corpus_identity(f"kinder_gator@{tmp_path}")
    assert key != corpus_identity(f"kinder_gator:heldout@{tmp_path}")
    desc = describe_corpus(f"kinder_gator@{tmp_path}")
    assert desc["sources"][0]["root"] == str(tmp_path.resolve()) and len(desc["sources"][0]["sha256"]) == 64
    _fake_kinder_gator(tmp_path, t=31)   # the data changed: a new key
    assert corpus_identity(f"kinder_gator@{tmp_path}") != key
    assert path.is_file()


@pytest.mark.parametrize("mutate, field, sample", [
    (lambda d: d["annotations"][1].__setitem__("keypoint", np.zeros((1, 30, 25, 3), np.float16)), "keypoint", "trial1"),
    (lambda d: d["annotations"][2]["keypoint"].__setitem__((0, 5, 3, 1), np.nan), "keypoint", "trial2"),
    (lambda d: d["annotations"][3].__setitem__("label", 7), "label", "trial3"),
    (lambda d: d["annotations"][0].pop("subject"), "subject", "trial0"),
])
def test_bad_source_pickles_name_file_sample_and_field(tmp_path, mutate, field, sample):
    path = _fake_kinder_gator(tmp_path, mutate=mutate)
    with pytest.raises(DataError) as e:
        load_corpus(f"kinder_gator:all@{tmp_path}")
    msg = str(e.value)
    assert str(path) in msg and f"field {field!r}" in msg and repr(sample) in msg


def test_missing_corrupt_or_target_sources_are_refused(tmp_path):
    with pytest.raises(DataError, match="source file not found"):
        load_corpus(f"nw_ucla@{tmp_path}")
    path = _fake_kinder_gator(tmp_path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="kinder_gator_skeleton.pkl"):
        load_corpus(f"kinder_gator@{tmp_path}")
    with pytest.raises(DataError, match="benchmark target"):
        load_corpus("utd_mhad")
    with pytest.raises(DataError, match="unknown part"):
        load_corpus("msrc12:test")
    with pytest.raises(DataError, match="not a folder"):
        resolve_data_root(tmp_path / "nope")
    assert set(GROUPS["mocap"]) == set(SOURCE_INFO)


def test_balanced_weights_share_sources_by_sqrt_duration_and_labels_equally():
    from kinemic_aug.data.corpora.balance import balanced_weights
    from kinemic_aug.data.corpus import MotionClip, MotionCorpus

    def clip(name, src, label, frames):
        return MotionClip(joints=np.zeros((frames, 22, 3), np.float32), layout="smpl22", fps=20.0, name=name,
                          source=src, meta={"label": label}, captions=[label])

    clips = [clip(f"a{i}", "A", "x" if i < 8 else "y", 40) for i in range(10)]   # A: 20 s, labels x (8), y (2)
    clips += [clip("b0", "B", "z", 100)]                                        # B: 5 s
    w = balanced_weights(MotionCorpus(clips))
    assert np.isclose(w.sum(), 1.0)
    share_a = w[:10].sum()
    assert np.isclose(share_a, np.sqrt(20) / (np.sqrt(20) + np.sqrt(5)))
    assert np.isclose(w[:8].sum(), w[8:10].sum())          # labels equal within a source
    assert np.allclose(w[:8], w[0]) and np.isclose(w[8], w[9])
