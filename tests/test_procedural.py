"""Procedural corpus: body geometry, action library, chaining, captions, determinism."""
from __future__ import annotations

import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionCorpus
from kinemic_aug.data.procedural import (ACTIONS, Subject, bone_lengths, caption_segments, generate_corpus,
                                         list_actions, rest_offsets, synthesize_action)
from kinemic_aug.data.procedural.body import J, forward_kinematics
from kinemic_aug.data.procedural.captions import gerund, third_person
from kinemic_aug.data.procedural.compose import compose_clip
from kinemic_aug.errors import DataError
from kinemic_aug.skeleton.layout import get_layout

ANKLES, TOES = [J["L_ankle"], J["R_ankle"]], [J["L_foot"], J["R_foot"]]


def _sole_height(joints: np.ndarray, subject: Subject) -> np.ndarray:
    """Per-frame height of the lowest sole point (ankle minus heel pad, toe joint minus toe pad)."""
    s = subject.height / 1.70
    return np.minimum(joints[:, ANKLES, 1].min(1) - 0.075 * s, joints[:, TOES, 1].min(1) - 0.025 * s)


@pytest.fixture(scope="module")
def all_actions():
    subject = Subject(height=1.68)
    out = {}
    for i, name in enumerate(list_actions()):
        out[name] = synthesize_action(name, np.random.default_rng(100 + i), subject=subject)
    return subject, out


def test_vocabulary_size_and_specs():
    names = list_actions()
    assert len(names) >= 40
    for required in ("walk", "jog_in_place", "side_kick", "wave_overhead", "throw_overhand", "squat", "crawl",
                     "golf_swing", "brush_teeth", "draw_circle", "sit_down", "stand_up"):
        assert required in ACTIONS
    for spec in ACTIONS.values():
        assert spec.description and spec.tags and len(spec.templates) >= 3
        if spec.sided:
            assert any("{side}" in t for t in spec.templates), spec.name
    assert set(list_actions("kick")) >= {"front_kick", "side_kick", "back_kick", "roundhouse_kick"}


def test_rest_body_matches_subject_height_and_layout():
    lay = get_layout("smpl22")
    for h in (1.5, 1.7, 1.95):
        sub = Subject(height=h, leg_ratio=1.04, shoulder_width=0.92)
        pos = forward_kinematics(np.broadcast_to(np.eye(3), (1, 22, 3, 3)), rest_offsets(sub))[0]
        floor = pos[J["L_foot"], 1] - 0.025 * h / 1.7
        assert pos[J["head"], 1] + 0.155 * h / 1.7 - floor == pytest.approx(h, abs=0.03)
        # faces +z with the left side at +x, as the layout says
        assert pos[lay.index("L_shoulder"), 0] > 0 > pos[lay.index("R_shoulder"), 0]
        assert pos[lay.index("L_foot"), 2] > pos[lay.index("L_ankle"), 2]
    tall, short = rest_offsets(Subject(height=1.9)), rest_offsets(Subject(height=1.55))
    assert np.linalg.norm(tall[J["L_knee"]]) > np.linalg.norm(short[J["L_knee"]])


def test_every_action_is_finite_rigid_and_on_the_floor(all_actions):
    subject, out = all_actions
    ref = bone_lengths(forward_kinematics(np.broadcast_to(np.eye(3), (1, 22, 3, 3)), rest_offsets(subject)))[0]
    for name, (joints, meta) in out.items():
        assert joints.dtype == np.float32 and joints.shape[1:] == (22, 3), name
        assert np.all(np.isfinite(joints)), name
        np.testing.assert_allclose(bone_lengths(joints), np.broadcast_to(ref, (len(joints), 21)), atol=2e-4, err_msg=name)
        assert joints[..., 1].min() > -0.03, f"{name}: a joint is below the floor"
        assert joints[..., 1].max() < subject.height + 0.6, name
        sole = _sole_height(joints, subject)
        assert sole.min() > -0.02, name
        if ACTIONS[name].standing and not {"jump", "run"} & set(ACTIONS[name].tags) and name != "tennis_serve":
            # standing on the floor: the lowest sole touches it in (nearly) every frame
            assert np.mean(sole < 0.02) > 0.9, f"{name}: feet off the floor in {np.mean(sole >= 0.02):.0%} of frames"
        assert meta["generator"]["name"] and meta["generator"]["version"]


def test_body_proportions_stay_plausible_during_actions(all_actions):
    subject, out = all_actions
    for name in ("walk", "wave_overhead", "front_kick", "squat", "golf_swing"):
        j = out[name][0]
        head_above_pelvis = j[:, J["head"], 1] - j[:, J["pelvis"], 1]
        assert head_above_pelvis.min() > 0.2, name      # upright actions never fold the trunk under the hips


def _travel(j: np.ndarray, joint: int) -> float:
    return float(np.linalg.norm(np.diff(j[:, joint] - j[:, J["pelvis"]], axis=0), axis=-1).sum())


@pytest.mark.parametrize("name", ["wave_overhead", "wave_sideways", "straight_punch", "hammer", "draw_circle",
                                  "throw_overhand", "brush_teeth"])
def test_sided_arm_actions_move_the_named_hand_more(name):
    for side, own, other in (("right", "R_wrist", "L_wrist"), ("left", "L_wrist", "R_wrist")):
        j, meta = synthesize_action(name, np.random.default_rng(7), subject=Subject(), side=side)
        assert meta["side"] == side
        assert _travel(j, J[own]) > 1.5 * _travel(j, J[other]), (name, side)


@pytest.mark.parametrize("name", ["side_kick", "front_kick", "roundhouse_kick", "back_kick"])
def test_kicks_raise_the_named_foot(name):
    for side, own, other in (("left", "L_ankle", "R_ankle"), ("right", "R_ankle", "L_ankle")):
        j, _ = synthesize_action(name, np.random.default_rng(3), subject=Subject(), side=side)
        assert j[:, J[own], 1].max() > 0.4, (name, side)
        assert j[:, J[other], 1].max() < 0.2, (name, side)
    j, _ = synthesize_action("side_kick", np.random.default_rng(3), subject=Subject(), side="left")
    peak = int(np.argmax(j[:, J["L_ankle"], 1]))
    assert j[peak, J["L_ankle"], 0] - j[peak, J["pelvis"], 0] > 0.3   # out to the person's left (+x)


@pytest.mark.parametrize("name", ["jog", "run", "jog_in_place", "walk"])
def test_gaits_alternate_feet(name):
    j, _ = synthesize_action(name, np.random.default_rng(11), subject=Subject(), duration=5.0)
    diff = j[:, J["L_ankle"], 1] - j[:, J["R_ankle"], 1]
    mid = diff[20:-20]
    assert mid.max() > 0.05 and mid.min() < -0.05
    # the higher foot switches sides repeatedly (left, right, left ...)
    sign = np.sign(mid[np.abs(mid) > 0.03])
    assert np.count_nonzero(np.diff(sign)) >= 4


def test_walk_speed_is_human():
    speeds = []
    for seed in range(6):
        j, _ = synthesize_action("walk", np.random.default_rng(seed), duration=6.0)
        a, b = 30, 90                                  # steady state, after gait initiation
        speeds.append(np.linalg.norm(j[b, 0, [0, 2]] - j[a, 0, [0, 2]]) / ((b - a) / 20))
        assert j[b, 0, 2] > j[a, 0, 2]                 # forward is +z
    assert 1.0 <= np.median(speeds) <= 1.6, speeds
    assert min(speeds) > 0.8 and max(speeds) < 1.9, speeds


def test_in_place_actions_stay_in_place_and_travel_actions_travel():
    for name in ("jog_in_place", "clap", "jumping_jacks", "wave_both_hands"):
        j, _ = synthesize_action(name, np.random.default_rng(5), duration=4.0)
        assert np.linalg.norm(j[-1, 0, [0, 2]] - j[0, 0, [0, 2]]) < 0.4, name
    j, _ = synthesize_action("walk_backwards", np.random.default_rng(5), duration=5.0)
    assert j[-1, 0, 2] - j[0, 0, 2] < -1.0
    j, _ = synthesize_action("sidestep", np.random.default_rng(5), duration=5.0, side="left")
    assert j[-1, 0, 0] - j[0, 0, 0] > 0.4
    j, _ = synthesize_action("jump_in_place", np.random.default_rng(5), duration=3.0)
    assert _sole_height(j, Subject()).max() > 0.08    # actually leaves the floor


def test_bad_arguments_raise_data_error():
    with pytest.raises(DataError, match="unknown action"):
        synthesize_action("moonwalk_backflip", np.random.default_rng(0))
    with pytest.raises(DataError, match="side"):
        synthesize_action("wave_overhead", np.random.default_rng(0), side="middle")
    with pytest.raises(DataError, match="side"):
        synthesize_action("clap", np.random.default_rng(0), side="left")


def test_chained_clip_segments_tile_and_captions_name_each_action():
    rng = np.random.default_rng(1)
    j, segs = compose_clip([("wave_overhead", "right", 60), ("jog_in_place", None, 80), ("turn", "left", 50)],
                           rng, Subject())
    assert segs[0]["start"] == 0 and segs[-1]["end"] == len(j)
    assert all(a["end"] == b["start"] for a, b in zip(segs[:-1], segs[1:]))
    assert [s["action"] for s in segs] == ["wave_overhead", "jog_in_place", "turn"]
    # the wave happens in its own span: the right wrist is above the head there, not later
    s0 = segs[0]
    assert (j[s0["start"]:s0["end"], J["R_wrist"], 1] > j[s0["start"]:s0["end"], J["head"], 1]).any()
    caps, used = caption_segments(segs, np.random.default_rng(0), n=3)
    assert len(caps) == 3 and len(set(caps)) == 3
    for c in caps:
        assert c == c.lower() and c.endswith(".")
        assert any(w in c for w in ("then", "before", "after"))
        assert "left" in c or "turn" in c or "rotat" in c


def test_verb_forms():
    assert third_person("wave") == "waves" and third_person("do") == "does" and third_person("carry") == "carries"
    assert third_person("shadow box") == "shadow boxes" and third_person("punch") == "punches"
    assert gerund("run") == "running" and gerund("wave") == "waving" and gerund("lie") == "lying"
    assert gerund("jump") == "jumping" and gerund("see") == "seeing"


def test_corpus_is_deterministic_synthetic_and_captioned(tmp_path):
    a = generate_corpus(12, seed=3)
    b = generate_corpus(12, seed=3)
    c = generate_corpus(12, seed=4)
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert generate_corpus(5, seed=3).fingerprint() == a[:5].fingerprint()   # clip i depends only on (seed, i)
    chained = 0
    for clip in a:
        assert clip.synthetic and clip.source == "procedural" and clip.layout == "smpl22" and clip.fps == 20
        assert 2.0 <= clip.duration <= 10.0
        meta = clip.meta
        assert meta["caption_origin"] == "template" and meta["generator"]["name"]
        assert meta["subject"]["height"] > 1.4 and meta["caption_templates"]
        segs = meta["segments"]
        assert segs[0]["start"] == 0 and segs[-1]["end"] == clip.num_frames
        assert all(x["end"] == y["start"] for x, y in zip(segs[:-1], segs[1:]))
        assert len(clip.captions) >= 2
        for seg in segs:
            if seg["side"] is not None:
                assert any(seg["side"] in cap for cap in clip.captions) or not any(
                    "{side}" in t for t in ACTIONS[seg["action"]].templates)
        chained += len(segs) > 1
    assert 0 < chained < len(a)
    back = MotionCorpus.load(a.save(tmp_path / "proc.npz"))
    assert back.fingerprint() == a.fingerprint() and all(x.synthetic for x in back)
    assert back[0].meta["segments"] == a[0].meta["segments"]


def test_corpus_restricted_actions_and_bad_args():
    corp = generate_corpus(6, seed=0, actions=["walk", "clap"], chain_prob=1.0, max_seconds=8)
    assert {a for c in corp for a in c.meta["actions"]} <= {"walk", "clap"}
    with pytest.raises(DataError):
        generate_corpus(2, seed=0, actions=["nope"])
    with pytest.raises(DataError):
        generate_corpus(2, seed=0, min_seconds=5, max_seconds=3)


def test_sit_and_stand_only_chain_compatibly():
    corp = generate_corpus(40, seed=9, actions=["sit_down", "stand_up", "walk", "clap"], chain_prob=1.0)
    for clip in corp:
        acts = clip.meta["actions"]
        for x, y in zip(acts[:-1], acts[1:]):
            assert ACTIONS[x].end_pose == ACTIONS[y].start_pose, acts


def test_segment_subclips_are_parent_spans_with_their_own_captions(tmp_path):
    from kinemic_aug.data.corpus import MotionClip
    from kinemic_aug.data.procedural import expand_segments
    from kinemic_aug.data.procedural.captions import render

    corpus = generate_corpus(12, seed=3)
    out = expand_segments(corpus)
    chained = [c for c in corpus if len(c.meta["segments"]) > 1]
    subs = [c for c in out if "segment_of" in c.meta]
    assert chained and len(subs) == sum(len(c.meta["segments"]) for c in chained)
    assert len(out) == len(corpus) + len(subs)
    for whole in corpus:  # the whole clips stay, with their chained captions
        assert out[whole.name].captions == whole.captions and out[whole.name] is whole
    for sub in subs:
        parent = corpus[sub.meta["segment_of"]]
        k = sub.meta["segment_index"]
        seg = parent.meta["segments"][k]
        s, e = sub.meta["span_frames"]
        assert (s, e) == (seg["start"], seg["end"]) and sub.meta["span"] == [s / parent.fps, e / parent.fps]
        np.testing.assert_array_equal(sub.joints, parent.joints[s:e])
        assert sub.synthetic and sub.source == "procedural" and sub.layout == parent.layout
        assert sub.meta["actions"] == [seg["action"]] and sub.meta["segments"][0]["end"] == e - s
        assert len(sub.captions) >= 2 and not set(sub.captions) & set(parent.captions)
        spec = ACTIONS[seg["action"]]
        phrases = [render(t, "3rd", seg["side"]) for t in spec.templates]
        for cap, used in zip(sub.captions, sub.meta["caption_templates"]):
            ids = used.split("|")
            assert ids[0].startswith("pattern1:") and len(ids) == 2 and ids[1].startswith(seg["action"] + ":")
            assert any(p.lower() in cap for p in phrases), (cap, seg["action"])
            for other in parent.meta["actions"]:
                if other != seg["action"]:
                    assert not any(used.endswith(f"|{other}:{i}") for i in range(len(ACTIONS[other].templates)))
    # deterministic from the clip seed, whatever else is expanded; survives a file round trip
    assert expand_segments(generate_corpus(12, seed=3)).fingerprint() == out.fingerprint()
    small = expand_segments(generate_corpus(5, seed=3))
    assert small.fingerprint() == out[:len(small)].fingerprint()
    back = MotionCorpus.load(out.save(tmp_path / "seg.npz"))
    assert back.fingerprint() == out.fingerprint()
    assert [c.meta.get("segment_of") for c in back] == [c.meta.get("segment_of") for c in out]
    # a span outside the clip is named, not sliced silently
    bad = MotionClip(np.zeros((10, 22, 3), np.float32), "smpl22", 20.0, ["x"], name="bad", synthetic=True,
                     meta={"seed": 0, "index": 0, "segments": [{"action": "walk", "start": 0, "end": 6},
                                                               {"action": "clap", "start": 6, "end": 14}]})
    with pytest.raises(DataError, match="sample 'bad', field 'meta.segments'"):
        expand_segments(MotionCorpus([bad]))


def test_corpus_spec_segments_suffix():
    from kinemic_aug.data.procedural import expand_segments
    from kinemic_aug.data.sources import load_corpus

    c = load_corpus("procedural:6:3+segments")
    assert c.name == "procedural:6:3+segments"
    assert c.fingerprint() == expand_segments(generate_corpus(6, seed=3)).fingerprint()
    assert len(c) > 6 and all(x.synthetic for x in c)
    with pytest.raises(DataError, match="must come last"):
        load_corpus("segments+procedural:3:0")


def test_corpus_identity_names_the_recipe_and_files_without_building_clips(tmp_path, monkeypatch):
    from kinemic_aug.data import procedural
    from kinemic_aug.data.sources import corpus_identity, load_corpus

    ids = {spec: corpus_identity(spec) for spec in
           ("procedural:6:3", "procedural:6:4", "procedural:7:3", "procedural:6:3+segments", "seed",
            "seed+procedural:6:3")}
    assert len(set(ids.values())) == len(ids)
    assert corpus_identity("procedural:6:3") == corpus_identity(" procedural:6:3 ")
    # no clip is generated: the identity does not depend on the computed floats
    monkeypatch.setattr(procedural, "generate_corpus", lambda *a, **k: pytest.fail("clips were generated"))
    assert corpus_identity("seed+procedural:6:3+segments")
    monkeypatch.undo()
    # a corpus file is named by its bytes, not its path
    path = tmp_path / "a.npz"
    load_corpus("procedural:3:0").save(path)
    first = corpus_identity(str(path))
    path.rename(tmp_path / "b.npz")
    assert corpus_identity(str(tmp_path / "b.npz")) == first
    load_corpus("procedural:3:1").save(tmp_path / "b.npz")
    assert corpus_identity(str(tmp_path / "b.npz")) != first
    # bad specs fail as load_corpus does
    for spec, msg in (("segments+procedural:3:0", "must come last"), ("procedural:x", "procedural:N"),
                      (str(tmp_path / "missing.npz"), "not found"), ("", "empty")):
        with pytest.raises(DataError, match=msg):
            corpus_identity(spec)
