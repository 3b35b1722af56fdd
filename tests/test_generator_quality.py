"""benchmarks.generator_quality at toy size: held-out data, classifier, prompts, report structure."""
from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import generator_quality as gq
from kinemic_aug.errors import DataError

TOY_ACTIONS = ("jumping_jacks", "squat", "wave_overhead")


def toy_config(**kw) -> gq.QualityConfig:
    base = dict(actions=TOY_ACTIONS, clf_train_per_action=6, clf_val_per_action=3, gen_per_action=2,
                step_counts=(2, 3), unguided_steps=2, gen_batch=4, clip_frames=16, clf_epochs=6, clf_batch=8,
                clf_lr=3e-3, clf_preset=dict(base_channels=8, num_stages=3, inflate_stages=(2,), down_stages=(2, 3)),
                throughput_steps=(2,), throughput_threads=(1,), throughput_batch=2, throughput_frames=20,
                gif_prompts=2, gif_samples=1)
    base.update(kw)
    return gq.QualityConfig(**base)


def test_held_out_clips_are_deterministic_labelled_and_within_length_window():
    cfg = toy_config()
    a = gq.make_eval_clips(cfg, 0, 2)
    b = gq.make_eval_clips(cfg, 0, 2)
    c = gq.make_eval_clips(cfg, 2, 2)
    assert [x.sha256 for x in a] == [x.sha256 for x in b]
    assert not {x.sha256 for x in a} & {x.sha256 for x in c}  # train and val indices give different clips
    assert [x.label for x in a] == [0, 0, 1, 1, 2, 2]
    for x in a + c:
        assert x.joints.dtype == np.float32 and x.joints.shape[1:] == (22, 3)
        lo, hi = gq.length_range(x.action, cfg)
        assert cfg.min_seconds <= lo <= hi <= cfg.max_seconds
        assert lo * cfg.fps - 1 <= len(x.joints) <= hi * cfg.fps + 1


def test_check_disjoint_rejects_a_training_clip():
    cfg = toy_config()
    clips = gq.make_eval_clips(cfg, 0, 1)
    gq.check_disjoint(clips, {"0" * 64})
    with pytest.raises(DataError, match="identical to a generator training clip"):
        gq.check_disjoint(clips, {clips[1].sha256})
    with pytest.raises(DataError, match="duplicate"):
        gq.check_disjoint([clips[0], clips[0]], set())


def test_prompts_cycle_templates_name_the_side_and_have_lengths():
    cfg = toy_config()
    prompts = gq.make_prompts(cfg, 4, seed=0)
    assert len(prompts) == 4 * len(TOY_ACTIONS)
    wave = [p for p in prompts if p.action == "wave_overhead"]
    assert len({p.template for p in wave}) == 4
    for p in prompts:
        assert p.text.endswith(".") and "<" not in p.text and "{" not in p.text
        if p.side is not None:
            assert p.side in p.text
        lo, hi = gq.length_range(p.action, cfg)
        assert round(lo * cfg.fps) <= p.frames <= round(hi * cfg.fps)


def test_accuracy_report_and_confusion():
    rep = gq.accuracy_report([0, 0, 1, 2], [0, 1, 1, 1], ["a", "b", "c"])
    assert rep["top1"] == pytest.approx(0.5)
    assert rep["chance"] == pytest.approx(1 / 3)
    assert rep["per_action"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert rep["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]


def test_classifier_learns_distinct_procedural_actions():
    cfg = toy_config(clf_epochs=30, clf_train_per_action=8)
    train = gq.make_eval_clips(cfg, 0, cfg.clf_train_per_action)
    val = gq.make_eval_clips(cfg, 100, 4)
    model, hist = gq.train_classifier([gq.normalize_clip(c.joints) for c in train], [c.label for c in train],
                                      len(TOY_ACTIONS), cfg)
    assert hist["epoch_loss"][-1] < hist["epoch_loss"][0]
    pred = gq.classify(model, [gq.normalize_clip(c.joints) for c in val], cfg.clip_frames)
    assert pred.shape == (len(val),)
    # three very different actions: far above chance (1/3) even for a tiny, briefly trained ST-GCN
    assert (pred == np.array([c.label for c in val])).mean() >= 0.75


def test_run_end_to_end_on_tiny_generator(tiny_generator, tmp_path):
    cfg = toy_config()
    res = gq.run(tiny_generator["path"], cfg, tmp_path, stem="gen", variant="toy")
    on_disk = json.loads((tmp_path / "gen.json").read_text())
    assert on_disk["checkpoint"]["step"] == res["checkpoint"]["step"] > 0
    assert on_disk["checkpoint"]["corpus"] == tiny_generator["corpus"]
    assert on_disk["checkpoint"]["corpus_rebuilt_fingerprint_matches"] is True
    assert on_disk["held_out"]["synthetic"] is True and on_disk["held_out"]["overlap_with_training"] == 0
    assert on_disk["machine"] == gq.MACHINE
    rows = [(r["steps"], r["guidance"]) for r in on_disk["quality"]]
    assert rows == [(2, cfg.guidance), (3, cfg.guidance), (2, 1.0)]
    for r in on_disk["quality"]:
        assert r["n"] == len(TOY_ACTIONS) * cfg.gen_per_action
        assert 0.0 <= r["top1"] <= 1.0 and r["chance"] == pytest.approx(1 / 3)
        assert np.asarray(r["confusion"]).sum() == r["n"]
        assert r["mean_joint_speed"] >= 0
        n_seen = sum(bool(p["seen_verbatim"]) for p in on_disk["prompts"]["list"])
        parts = [(n_seen, r["top1_seen_prompts"]), (r["n"] - n_seen, r["top1_unseen_prompts"])]
        assert all((acc is None) == (n == 0) for n, acc in parts)
        assert sum(n * acc for n, acc in parts if n) == pytest.approx(r["top1"] * r["n"])
    assert [(t["steps"], t["threads"]) for t in on_disk["throughput"]] == [(2, 1)]
    assert on_disk["throughput"][0]["seq_per_s"] > 0
    assert len(on_disk["prompts"]["list"]) == len(TOY_ACTIONS) * cfg.gen_per_action
    assert 0.0 <= on_disk["classifier"]["val"]["top1"] <= 1.0
    png = (tmp_path / "gen_confusion.png").read_bytes()
    gif = (tmp_path / "gen_samples.gif").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and gif[:6] in (b"GIF89a", b"GIF87a")
    md = (tmp_path / "gen.md").read_text()
    assert "SYNTHETIC" in md and "| 3 | 2.5 |" in md
