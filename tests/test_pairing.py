"""Soft pairing: top-k retrieval, caps, thresholds, sampling determinism, coverage warnings, files, tool."""
from __future__ import annotations

import importlib.util
import io
import warnings
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionClip, MotionCorpus
from kinemic_aug.errors import CacheError, DataError, MissingWeightsError
from kinemic_aug.pairing import (CoverageWarning, PairingConfig, PairingResult, pair_embeddings, soft_pair)
from kinemic_aug.text import HashingTextEncoder, LabelSet, load_label_set
from kinemic_aug.text.base import l2_normalize

REPO = Path(__file__).resolve().parents[1]

CORPUS_CAPTIONS = [
    ["a person walks forward slowly", "someone walks straight ahead"],
    ["a person kicks to the side with the right leg"],
    ["a man does a side kick and then steps back"],
    [],  # no caption: must never be paired
    ["a person jumps up and down in place"],
    ["a person sits down on a chair"],
    ["a person waves the right hand above the head", "someone waves hello"],
    ["a person runs in place"],
]


def labels_of(*pairs) -> LabelSet:
    return LabelSet.from_records([{"id": i, "name": n, "captions": c} for i, (n, c) in enumerate(pairs)])


def small_motion_corpus(captions=CORPUS_CAPTIONS, synthetic_every=2) -> MotionCorpus:
    rng = np.random.default_rng(0)
    clips = [MotionClip(joints=rng.normal(size=(10, 22, 3)).astype(np.float32), layout="smpl22", fps=20.0,
                        captions=list(c), name=f"m{i:02d}", source="test-synthetic",
                        synthetic=(i % synthetic_every == 0)) for i, c in enumerate(captions)]
    return MotionCorpus(clips, name="tiny")


# ---------------------------------------------------------------------- retrieval on hand-made vectors
def test_scores_are_cosines_sorted_and_k_capped():
    rng = np.random.default_rng(1)
    clips = l2_normalize(rng.normal(size=(7, 16)))
    valid = np.array([1, 1, 0, 1, 1, 1, 1], bool)
    cls = [rng.normal(size=(2, 16)), rng.normal(size=(1, 16))]
    cls = [l2_normalize(c) for c in cls]
    res = pair_embeddings(cls, clips, PairingConfig(k=250, warn=False), clip_valid=valid)
    assert res.indices.shape == (2, 6)  # capped by the 6 valid clips
    for r, ce in enumerate(cls):
        q = l2_normalize(ce.mean(0))
        idx, sc = res.neighbours(r)
        assert 2 not in idx and sorted(idx.tolist()) == [0, 1, 3, 4, 5, 6]
        np.testing.assert_allclose(sc, clips[idx] @ q, atol=1e-6)
        assert np.all(np.diff(sc) <= 0)
        assert res.coverage[r].k == 6 and res.coverage[r].top1 == pytest.approx(float(sc[0]))
        assert res.coverage[r].kth_similarity == pytest.approx(float(sc[-1]))
        assert res.coverage[r].mean_topk == pytest.approx(float(sc.mean()), abs=1e-6)
        assert res.coverage[r].margin == pytest.approx(float(sc[0] - np.median(clips[valid] @ q)), abs=1e-6)


def test_class_reduce_mean_vs_max():
    e1, e2 = np.eye(4, dtype=np.float32)[:2]
    clip_a = e1  # matches caption 1 exactly
    clip_b = l2_normalize((e1 + e2)[None])[0]  # halfway between both captions
    clips = np.stack([clip_a, clip_b])
    cls = [np.stack([e1, e2])]
    mean = pair_embeddings(cls, clips, PairingConfig(k=2, class_reduce="mean", warn=False))
    mx = pair_embeddings(cls, clips, PairingConfig(k=2, class_reduce="max", warn=False))
    assert mean.indices[0].tolist() == [1, 0] and mean.scores[0, 0] == pytest.approx(1.0)
    assert mx.indices[0].tolist() == [0, 1] and mx.scores[0, 0] == pytest.approx(1.0)
    assert mx.scores[0, 1] == pytest.approx(np.sqrt(0.5))


def test_ties_break_by_corpus_order():
    clips = np.tile(np.eye(3, dtype=np.float32)[:1], (5, 1))  # five identical clips
    res = pair_embeddings([np.eye(3, dtype=np.float32)[:1]], clips, PairingConfig(k=3, warn=False))
    assert res.indices[0].tolist() == [0, 1, 2]


def test_threshold_drops_neighbours_and_empty_class_cannot_sample():
    clips = l2_normalize(np.array([[1, 0], [0.8, 0.6], [0, 1], [-1, 0]], np.float32))
    cls = [np.array([[1.0, 0.0]], np.float32), np.array([[-0.6, -0.8]], np.float32)]
    with pytest.warns(CoverageWarning, match="threshold"):
        res = pair_embeddings(cls, clips, PairingConfig(k=4, threshold=0.7, coverage_floor=0.0))
    idx, sc = res.neighbours(0)
    assert idx.tolist() == [0, 1] and np.all(sc >= 0.7)
    assert res.indices[0, 2:].tolist() == [-1, -1] and np.isnan(res.scores[0, 2:]).all()
    assert set(res.sample(0, 200, rng=0).tolist()) == {0, 1}
    assert res.coverage[1].n_kept == 0 and res.coverage[1].poorly_covered
    with pytest.raises(DataError, match="neighbours"):
        res.sample(1, 3, rng=0)


# ---------------------------------------------------------------------- sampling
def _toy_result() -> PairingResult:
    rng = np.random.default_rng(3)
    clips = l2_normalize(rng.normal(size=(40, 8)))
    return pair_embeddings([clips[:1] + 0.1], clips, PairingConfig(k=10, warn=False))


def test_sampling_is_deterministic_under_a_seed():
    res = _toy_result()
    a = res.sample(0, 50, rng=123)
    b = res.sample(0, 50, rng=np.random.default_rng(123))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, res.sample(0, 50, rng=124))
    assert set(a.tolist()) <= set(res.neighbours(0)[0].tolist())


def test_temperature_weighting():
    res = _toy_result()
    idx, sc = res.neighbours(0)
    uniform = res.sample(0, 20000, rng=0)
    freq = np.array([(uniform == i).mean() for i in idx])
    np.testing.assert_allclose(freq, 0.1, atol=0.015)
    p = res.probabilities(0, temperature=0.05)
    expect = np.exp((sc - sc.max()) / 0.05)
    np.testing.assert_allclose(p, expect / expect.sum(), rtol=1e-6)
    sharp = res.sample(0, 5000, rng=0, temperature=0.05)
    assert (sharp == idx[0]).mean() == pytest.approx(p[0], abs=0.03)
    assert (sharp == idx[0]).mean() > (uniform == idx[0]).mean() + 0.1


# ---------------------------------------------------------------------- end to end with encoders
def test_soft_pair_on_motion_corpus_records_names_flags_and_is_deterministic():
    corpus = small_motion_corpus()
    labels = labels_of(("walk", ["a person walks forward"]), ("side kick", ["a person does a side kick"]))
    enc = HashingTextEncoder(dim=512)
    cfg = PairingConfig(k=250, coverage_floor=0.0)
    r1 = soft_pair(labels, corpus, enc, cfg)
    r2 = soft_pair(labels, corpus, HashingTextEncoder(dim=512), cfg)
    np.testing.assert_array_equal(r1.indices, r2.indices)
    np.testing.assert_array_equal(r1.scores, r2.scores)
    assert r1.indices.shape == (2, 7)  # 8 clips, one without caption
    assert "m03" not in r1.neighbour_names(0) + r1.neighbour_names(1)
    assert r1.neighbour_names(0)[0] == "m00"
    assert r1.corpus_fingerprint == corpus.fingerprint() and r1.encoder_id == enc.identifier
    assert r1.coverage[0].n_synthetic == sum(corpus[n].synthetic for n in r1.neighbour_names(0))
    np.testing.assert_array_equal(r1.sample(1, 20, rng=7), r2.sample(1, 20, rng=7))
    # plain caption lists give the same neighbours as the corpus object
    r3 = soft_pair(labels, corpus.captions(), enc, cfg)
    np.testing.assert_array_equal(r3.indices, r1.indices)


def test_bad_corpus_captions_are_named():
    labels = labels_of(("walk", ["a person walks"]))
    with pytest.raises(DataError) as ei:
        soft_pair(labels, [["ok"], "not a list"], HashingTextEncoder())
    assert "sample 1" in str(ei.value) and "'captions'" in str(ei.value)
    with pytest.raises(DataError, match="no clip has a caption"):
        soft_pair(labels, [[], []], HashingTextEncoder())


@pytest.fixture(scope="module")
def minilm():
    from kinemic_aug.text.minilm import MiniLMTextEncoder
    try:
        return MiniLMTextEncoder()
    except MissingWeightsError as e:
        pytest.skip(str(e))


def test_minilm_pairing_finds_the_right_clips_and_warns_for_an_unrelated_class(minilm):
    labels = labels_of(("side kick", ["a person does a side kick.", "a person kicks sideways with one leg."]),
                       ("jump", ["a person jumps in place."]),
                       ("play violin", ["a person plays the violin."]))
    with pytest.warns(CoverageWarning, match="play violin"):
        res = soft_pair(labels, CORPUS_CAPTIONS, minilm, PairingConfig(k=3))
    assert set(res.neighbours(0)[0][:2].tolist()) == {1, 2}  # the two side-kick clips
    assert res.neighbours(1)[0][0] == 4
    flags = {c.name: c.poorly_covered for c in res.coverage}
    assert flags == {"side kick": False, "jump": False, "play violin": True}
    assert res.poorly_covered() == [2]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a well-covered label set raises no warning
        soft_pair(labels.subset([0, 1]), CORPUS_CAPTIONS, minilm, PairingConfig(k=3))


# ---------------------------------------------------------------------- files
@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_result_round_trip_and_corruption(tmp_path, suffix):
    corpus = small_motion_corpus()
    labels = labels_of(("walk", ["a person walks forward"]), ("wave", ["a person waves"]))
    res = soft_pair(labels, corpus, HashingTextEncoder(dim=256), PairingConfig(k=4, threshold=0.1, warn=False))
    path = res.save(tmp_path / f"pairing{suffix}")
    back = PairingResult.load(path)
    np.testing.assert_array_equal(back.indices, res.indices)
    np.testing.assert_array_equal(back.scores, res.scores)  # NaN positions included
    assert back.coverage == res.coverage and back.config == res.config and back.clip_names == res.clip_names
    np.testing.assert_array_equal(back.sample(0, 10, rng=1), res.sample(0, 10, rng=1))
    raw = path.read_bytes()
    if suffix == ".json":
        text = raw.decode()
        i = text.index('"indices"')
        j = text.index("[", i) + 1
        k = text.index(",", j)  # first index value of the first class
        other = "0" if text[j:k].strip() != "0" else "1"
        path.write_text(text[:j] + other + text[k:])
    else:
        path.write_bytes(raw[: len(raw) - 40])
    with pytest.raises(CacheError):
        PairingResult.load(path)


# ---------------------------------------------------------------------- tool
def _load_tool():
    spec = importlib.util.spec_from_file_location("kinemic_tool_pair", REPO / "tools" / "pair.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_pair_tool_prints_and_plots(tmp_path):
    corpus_path = small_motion_corpus().save(tmp_path / "corpus.npz")
    tool = _load_tool()
    buf = io.StringIO()
    with redirect_stdout(buf), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = tool.main(["--labels", "msr_action3d", "--corpus", str(corpus_path), "--encoder", "hashing",
                        "--k", "5", "--out-dir", str(tmp_path / "out")])
    out = buf.getvalue()
    assert rc == 0
    assert "side kick" in out and "hashing-test-only" in out and "k = 5" in out
    png = tmp_path / "out" / "coverage.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    assert min(Image.open(png).size) > 200
    res = PairingResult.load(tmp_path / "out" / "pairing.json")
    assert res.indices.shape == (20, 5) and res.class_names == load_label_set("msr_action3d").names
    assert rc == 0 and tool.main(["--labels", "nope", "--corpus", str(corpus_path), "--encoder", "hashing",
                                  "--out-dir", str(tmp_path / "o2")]) == 2


# ---------------------------------------------------------------------- top-k helper
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from kinemic_aug.pairing import top_k_stable  # noqa: E402


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(-3, 3), min_size=1, max_size=40), st.integers(1, 45))
def test_top_k_stable_equals_stable_full_sort(values, k):
    s = np.asarray(values, dtype=np.float32) / 3.0  # many ties
    np.testing.assert_array_equal(top_k_stable(s, min(k, len(s))), np.argsort(-s, kind="stable")[:k])
