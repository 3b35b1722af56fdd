"""KineMICAugmenter end to end on real MSR Action3D shots with a tiny generator (pipeline, not quality)."""
import json
import pickle
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.errors import DataError
from kinemic_aug.synthesis import SynthesisConfig

# the tiny generator is barely trained: let everything through the filter so the pipeline is exercised
PERMISSIVE = SynthesisConfig(steps=4, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9,
                             oversample=1.0)
ADAPT = AdaptConfig(steps=3, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2, save_every=2)


def _aug(msr_pkl, tiny_generator, cache, **kw):
    args = dict(split="xsub_train", shots=2, labels="msr_action3d", layout="msr_action3d", classes=[0, 14],
                synthetic_per_class=3, generator=tiny_generator["path"], corpus=tiny_generator["corpus"],
                cache_dir=cache, adapt=ADAPT, synthesis=PERMISSIVE, progress=False)
    args.update(kw)
    return KineMICAugmenter(str(msr_pkl), **args)


def test_augmenter_serves_shots_plus_flagged_synthetic_in_the_dataset_layout(msr_pkl, tiny_generator, tmp_path):
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache")
    anns = aug.annotations()
    real = [a for a in anns if not a["is_synthetic"]]
    syn = [a for a in anns if a["is_synthetic"]]
    assert len(real) == 4 and len(syn) == 6
    shot_lens = [a["total_frames"] for a in real]
    for a in syn:
        assert a["frame_dir"].startswith("synthetic_kinemic_") and a["label"] in (0, 14)
        assert a["keypoint"].shape[0] == 1 and a["keypoint"].shape[2:] == (20, 3)
        assert a["keypoint"].dtype == np.float32 and a["total_frames"] == a["keypoint"].shape[1]
        # lengths come from the shots (15 fps -> 20 fps -> 15 fps may move them by a frame)
        assert min(shot_lens) - 1 <= a["total_frames"] <= max(shot_lens) + 1
        assert a["synthetic_info"]["caption"]
    assert {r.class_id for r in aug.reports.values()} == {0, 14}
    assert "side kick" in aug.report_table()


def test_second_run_is_a_cache_hit_without_training(msr_pkl, tiny_generator, tmp_path):
    first = _aug(msr_pkl, tiny_generator, tmp_path / "cache")
    t0 = time.time()
    a1 = first.annotations()
    t_first = time.time() - t0
    second = _aug(msr_pkl, tiny_generator, tmp_path / "cache")
    t0 = time.time()
    a2 = second.annotations()
    t_second = time.time() - t0
    assert all(r.adapt_cached and r.synth_cached for r in second.reports.values())
    assert not any(r.adapt_cached for r in first.reports.values())
    for x, y in zip(a1, a2):
        np.testing.assert_array_equal(x["keypoint"], y["keypoint"])
    assert t_second < t_first


def test_corrupt_adapter_entry_is_rebuilt_not_served(msr_pkl, tiny_generator, tmp_path):
    cache = tmp_path / "cache"
    first = _aug(msr_pkl, tiny_generator, cache)
    first.annotations()
    for p in (cache / "adapter").rglob("payload.pt"):
        p.write_bytes(b"garbage")
    for p in (cache / "synthetic").rglob("payload.pt"):
        p.unlink()
    again = _aug(msr_pkl, tiny_generator, cache)
    again.annotations()
    assert not any(r.adapt_cached for r in again.reports.values())  # retrained
    assert list((cache / "adapter").rglob("*.corrupt-*"))  # the bad entry was moved aside


def test_augmented_pickle_keeps_test_split_real(msr_pkl, tiny_generator, tmp_path):
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache")
    out = aug.save_pyskl(tmp_path / "aug.pkl")
    with open(out, "rb") as f:
        data = pickle.load(f)
    by_id = {a["frame_dir"]: a for a in data["annotations"]}
    assert len(data["split"]["xsub_train_kinemic"]) == 10
    assert not any(by_id[i].get("is_synthetic") for i in data["split"]["xsub_test"])
    assert data["split"]["xsub_test"] == pickle.load(open(msr_pkl, "rb"))["split"]["xsub_test"]
    assert data["meta"]["classes"][14] == "side kick"


def test_torch_style_dataset_source_and_zeroshot_variant(tiny_generator, tmp_path, msr_pkl):
    with open(msr_pkl, "rb") as f:
        raw = pickle.load(f)
    items = [(a["keypoint"][0], a["label"]) for a in raw["annotations"][:60] if a["label"] in (0, 1)]
    aug = KineMICAugmenter(items, labels="msr_action3d", layout="msr_action3d", fps=15, synthetic_per_class=2,
                           variant="zeroshot", generator=tiny_generator["path"], corpus=tiny_generator["corpus"],
                           cache_dir=tmp_path / "c", synthesis=PERMISSIVE, progress=False)
    syn = aug.synthetic_annotations()
    assert len(syn) == 4 and all(a["frame_dir"].startswith("synthetic_zeroshot_") for a in syn)


def test_bad_inputs_fail_clearly(msr_pkl, tiny_generator, tmp_path):
    with pytest.raises(DataError, match="side kick.*only 9 samples"):
        _aug(msr_pkl, tiny_generator, tmp_path, shots=10, classes=None)
    with pytest.raises(DataError, match="layout 'msr_action3d' has 20 joints"):
        KineMICAugmenter([(np.zeros((5, 25, 3), np.float32) + 1, 0)], labels="msr_action3d",
                         layout="msr_action3d", fps=15, generator=tiny_generator["path"],
                         cache_dir=tmp_path).annotations()
    with pytest.raises(DataError, match="unsupported source"):
        KineMICAugmenter(42, labels="msr_action3d", layout="msr_action3d", fps=15)


def test_augment_tool_writes_pickle_previews_and_report(msr_pkl, tiny_generator, tmp_path, monkeypatch):
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("augment_tool", Path(__file__).resolve().parents[1] / "tools/augment.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    # shrink the adaptation for the test through the tool's own flags
    out = tmp_path / "aug.pkl"
    rc = tool.main([str(msr_pkl), "--split", "xsub_train", "--shots", "1", "--classes", "0,15", "--labels",
                    "msr_action3d", "--layout", "msr_action3d", "--per-class", "2", "--adapt-steps", "2",
                    "--sample-steps", "3", "--generator", str(tiny_generator["path"]), "--corpus",
                    tiny_generator["corpus"], "--cache-dir", str(tmp_path / "c"), "--out", str(out), "--preview", "2",
                    "--target-norm", "generalist", "--adapt-engine", "fast"])
    assert rc == 0
    payloads = (tmp_path / "c").glob("adapter/*/*/payload.pt")
    engines = {torch.load(p, weights_only=True)["config"]["engine"] for p in payloads}
    assert engines == {"fast"}  # the flag reached the adapters
    assert out.exists() and out.with_suffix(".report.md").exists()
    gifs = sorted(p.name for p in tmp_path.glob("aug_class*.gif"))
    assert gifs == ["aug_class000.gif", "aug_class015.gif"]
    from PIL import Image
    assert Image.open(tmp_path / gifs[0]).n_frames > 1
    assert "jogging" in out.with_suffix(".report.md").read_text()
    assert "normalised with the generalist statistics" in out.with_suffix(".report.md").read_text()
    # the shots' statistics saved by one run and pinned in the next
    common = [str(msr_pkl), "--split", "xsub_train", "--shots", "1", "--labels", "msr_action3d", "--layout",
              "msr_action3d", "--per-class", "1", "--adapt-steps", "2", "--sample-steps", "3", "--generator",
              str(tiny_generator["path"]), "--corpus", tiny_generator["corpus"], "--cache-dir", str(tmp_path / "c"),
              "--preview", "0", "--negatives", "low_similarity"]
    stats = tmp_path / "stats.npz"
    assert tool.main(common + ["--classes", "0", "--out", str(tmp_path / "a.pkl"), "--save-target-stats",
                               str(stats)]) == 0
    assert tool.main(common + ["--classes", "0,15", "--out", str(tmp_path / "b.pkl"), "--target-stats",
                               str(stats)]) == 0
    report = (tmp_path / "b.report.md").read_text()
    assert f"pinned to `{stats}`" in report
    row = {line.split("|")[1].split()[0]: line.split("|")[4].strip() for line in report.splitlines()
           if line.startswith("| 0 ") or line.startswith("| 15 ")}
    assert row == {"0": "yes", "15": "no"}  # class 0's adapter served from the first run, class 15 trained
    assert tool.main(common + ["--classes", "0", "--out", str(tmp_path / "c.pkl"), "--target-stats",
                               str(tmp_path / "nope.npz")]) == 2
    with pytest.raises(SystemExit):
        tool.main(common + ["--classes", "0", "--out", str(tmp_path / "d.pkl"), "--target-norm", "generalist",
                            "--save-target-stats", str(stats)])


def test_pairing_against_another_corpus_than_the_generators_warns(msr_pkl, tiny_generator, tmp_path):
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache", corpus="seed")
    with pytest.warns(UserWarning, match="not the one the generator was trained on"):
        aug.resources.corpus


def test_a_split_source_without_split_is_refused_so_test_samples_never_become_shots(msr_pkl, tiny_generator):
    with pytest.raises(DataError, match="pass split=.*never drawn from a test split"):
        KineMICAugmenter(str(msr_pkl), shots=1, labels="msr_action3d", layout="msr_action3d",
                         generator=tiny_generator["path"])


def test_joint_mode_trains_one_adapter_for_all_classes_and_conditions_on_each_action(msr_pkl, tiny_generator,
                                                                                      tmp_path):
    cache = tmp_path / "cache"
    aug = _aug(msr_pkl, tiny_generator, cache, adapt=AdaptConfig(**{**ADAPT.to_dict(), "mode": "joint"}))
    syn = aug.synthetic_annotations()
    assert sorted({a["label"] for a in syn}) == [0, 14] and len(syn) == 6
    assert len(list((cache / "adapter").rglob("payload.pt"))) == 1  # one adapter, not one per class
    assert len({a["synthetic_info"]["adapter"] for a in syn}) == 1
    # the one adapter conditions on the class: with the seed, the shots and everything else fixed, changing only
    # the action row or only the caption changes the samples (the augmenter's own draws use a seed per class, so
    # comparing them across classes would pass even if both were ignored)
    from kinemic_aug.synthesis import synthesize_class
    joints = aug.shot_joints
    trainer = aug.adapters.joint(aug.classes)[0]
    b = aug.resources.generator

    def draw(action, caption_class):
        seqs, _, _ = synthesize_class(trainer.target, aug.normalisation.representation, b.schedule, n=3, shot_joints=joints[0],
                                      class_text_emb=aug.class_text(caption_class)[:1], action=action,
                                      cfg=PERMISSIVE, seed=0)
        return np.concatenate([s.ravel() for s in seqs])

    base = draw(0, 0)
    np.testing.assert_array_equal(base, draw(0, 0))      # same inputs, same samples: differences below are conditioning
    for other in (draw(aug.classes.index(14), 0), draw(0, 14)):  # class 14's action row; class 14's caption
        assert other.shape == base.shape and not np.allclose(other, base)
    again = _aug(msr_pkl, tiny_generator, cache, adapt=AdaptConfig(**{**ADAPT.to_dict(), "mode": "joint"}))
    again.synthetic_annotations()
    assert all(r.adapt_cached and r.synth_cached for r in again.reports.values())


def test_shot_anchored_synthesis_keeps_each_shots_length_and_uses_shots_in_turn(msr_pkl, tiny_generator, tmp_path):
    from dataclasses import replace
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache", synthetic_per_class=4,
               synthesis=replace(PERMISSIVE, shot_strength=0.5))
    syn = aug.synthetic_annotations()
    for c in (0, 14):
        shots = [a["total_frames"] for a in aug.shot_anns if a["label"] == c]
        lens = [a["total_frames"] for a in syn if a["label"] == c]
        # samples 0,1,2,3 start from shots 0,1,0,1 and keep their lengths (up to 15->20->15 fps rounding)
        for i, n in enumerate(lens):
            assert abs(n - shots[i % len(shots)]) <= 1


def test_kept_samples_carry_their_shots_bone_lengths_and_name_it(msr_pkl, tiny_generator, tmp_path):
    from dataclasses import replace
    from kinemic_aug.skeleton.layout import get_layout
    from kinemic_aug.skeleton.retarget import bone_lengths
    from kinemic_aug.synthesis import synthesize_class
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache")
    shots = aug.shot_joints[0]
    b = aug.resources.generator
    parents = get_layout("smpl22").parents
    for rechain_on in (True, False):
        cfg = replace(PERMISSIVE, rechain_bones=rechain_on)
        seqs, _, infos = synthesize_class(b.model, b.representation, b.schedule, n=3, shot_joints=shots,
                                          class_text_emb=aug.class_text(0), action=None, cfg=cfg, seed=0)
        for s, info in zip(seqs, infos):
            got = bone_lengths(s, parents)
            want = bone_lengths(shots[info["shot_index"]], parents)
            per_frame = np.linalg.norm(s[:, 18] - s[:, 16], axis=-1)  # left upper arm over time
            if rechain_on:
                np.testing.assert_allclose(got, want, atol=1e-4)
                assert np.ptp(per_frame) < 1e-4
            else:  # the tiny generator's raw bones stretch
                assert np.ptp(per_frame) > 1e-3
    syn = aug.synthetic_annotations()
    shot_ids = {a["frame_dir"] for a in aug.shot_anns}
    assert all(a["synthetic_info"]["anchor_shot"] in shot_ids for a in syn)


def test_low_similarity_negatives_make_a_class_adapter_independent_of_the_other_classes(msr_pkl, tiny_generator,
                                                                                        tmp_path):
    cache = tmp_path / "cache"
    adapt = AdaptConfig(**{**ADAPT.to_dict(), "negatives": "low_similarity", "low_similarity_k": 6})
    # target_norm='generalist': with 'shots' the normalisation is fitted on every selected class's shots, so adding
    # a class changes it and every adapter (tested below)
    first = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4], target_norm="generalist")
    first.synthetic_annotations()
    pool = first.pools.class_pool(0)
    pair = first.paired.pairs
    # the negatives are the clips whose captions match the class worst, never its own positives
    from kinemic_aug.pairing import least_similar
    low = least_similar(first.labels.subset([0]), first.resources.corpus, first.resources.encoder, 6)[0]
    assert len(pool.negatives[0]) == 6 and not set(low) & {int(i) for i in pair.neighbours(0)[0]}
    # adding class 14 trains class 14 only: class 0's and 4's adapters are cache hits (the seeded shot draw goes
    # class by class in id order, so a class added with a higher id leaves the others' shots as they were)
    second = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4, 14], target_norm="generalist")
    second.synthetic_annotations()
    assert second.reports[0].adapt_cached and second.reports[4].adapt_cached
    assert not second.reports[14].adapt_cached
    # with the other classes' positives as negatives, class 0's adapter does change
    other = AdaptConfig(**{**ADAPT.to_dict(), "negatives": "other_classes"})
    a = _aug(msr_pkl, tiny_generator, cache, adapt=other, classes=[0, 14])
    b = _aug(msr_pkl, tiny_generator, cache, adapt=other, classes=[0, 4, 14])
    assert a.pools.class_pool(0).fingerprint() != b.pools.class_pool(0).fingerprint()


def test_target_norm_feeds_the_shots_at_corpus_scale_and_keys_adapters_by_it(msr_pkl, tiny_generator, tmp_path):
    cache = tmp_path / "cache"
    shots_norm = _aug(msr_pkl, tiny_generator, cache, classes=[0, 4, 14])
    corpus_norm = _aug(msr_pkl, tiny_generator, cache, classes=[0, 4, 14], target_norm="generalist")
    gen_rep = corpus_norm.resources.generator.representation
    assert corpus_norm.normalisation.representation is gen_rep
    trep = shots_norm.normalisation.representation
    joints = [j for js in shots_norm.shot_joints.values() for j in js]
    feats = np.concatenate([trep.normalize(trep.encode(j)) for j in joints])
    raw = np.concatenate([gen_rep.normalize(gen_rep.encode(j)) for j in joints])
    # the shots' hips sit many corpus std off; matched, every dimension is centred and at most unit scale
    assert np.abs(raw.mean(0)).max() > 2.0
    np.testing.assert_allclose(feats.mean(0), 0.0, atol=1e-3)
    assert feats.std(0).max() <= 1.0 + 1e-4
    shots_norm.synthetic_annotations()
    corpus_norm.synthetic_annotations()
    assert not corpus_norm.reports[0].adapt_cached  # a different normalisation is a different adapter
    # adding a class refits the statistics, so the existing classes' adapters are retrained (documented)
    more = _aug(msr_pkl, tiny_generator, cache, classes=[0, 4, 14, 19])
    more.synthetic_annotations()
    assert not more.reports[0].adapt_cached
    with pytest.raises(ValueError, match="target_norm"):
        _aug(msr_pkl, tiny_generator, cache, target_norm="dataset")


def test_pinned_target_stats_let_a_run_add_a_class_and_keep_the_other_adapters(msr_pkl, tiny_generator, tmp_path):
    cache = tmp_path / "cache"
    # low-similarity negatives: a class's adapter then depends on its own class only, not on the others selected
    adapt = AdaptConfig(**{**ADAPT.to_dict(), "negatives": "low_similarity", "low_similarity_k": 6})
    first = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4])
    a1 = first.synthetic_annotations()
    stats = first.save_target_stats(tmp_path / "stats.npz")
    # the file holds exactly the statistics the run normalised with, and says where they came from
    with np.load(stats, allow_pickle=False) as z:
        np.testing.assert_array_equal(z["mean"], first.normalisation.representation.mean)
        np.testing.assert_array_equal(z["std"], first.normalisation.representation.std)
        assert json.loads(str(z["provenance"]))["classes"] == [0, 4]
    # pinned, a run with one more class trains that class only and serves the first run's samples
    more = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4, 14], target_stats=stats)
    a2 = more.synthetic_annotations()
    assert more.reports[0].adapt_cached and more.reports[4].adapt_cached and more.reports[0].synth_cached
    assert not more.reports[14].adapt_cached
    same = [a for a in a2 if a["label"] in (0, 4)]
    assert len(same) == len(a1)
    for x, y in zip(a1, same):
        np.testing.assert_array_equal(x["keypoint"], y["keypoint"])
    np.testing.assert_array_equal(more.normalisation.representation.mean, first.normalisation.representation.mean)
    # unpinned, the same three classes refit the statistics, so class 0 is a new adapter (the default's cost)
    refit = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4, 14])
    assert refit._norm_key() != more._norm_key()
    assert not np.allclose(refit.normalisation.representation.mean, first.normalisation.representation.mean)
    # edited statistics are other statistics: keyed by their values, never served the first run's adapters
    with np.load(stats, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    d["mean"] = d["mean"] + np.float32(0.5)
    np.savez(tmp_path / "edited.npz", **d)
    edited = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4], target_stats=tmp_path / "edited.npz")
    assert edited._norm_key() not in (first._norm_key(), more._norm_key())
    assert "pinned_stats" in edited._norm_key()
    # the same values fitted under another generator (or domain, or feature code) are not the first run's
    # statistics for this generator: keyed by their values, so no unpinned run's adapter can be served
    with np.load(stats, allow_pickle=False) as z:
        d = {k: z[k] for k in z.files}
    prov = json.loads(str(d["provenance"]))
    prov["context"]["generator"] = "0" * 64
    d["provenance"] = np.array(json.dumps(prov))
    np.savez(tmp_path / "other_gen.npz", **d)
    other = _aug(msr_pkl, tiny_generator, cache, adapt=adapt, classes=[0, 4], target_stats=tmp_path / "other_gen.npz")
    np.testing.assert_array_equal(other.normalisation.representation.mean, first.normalisation.representation.mean)  # same values...
    assert set(other._norm_key()) == {"pinned_stats"} and other._norm_key() != first._norm_key()  # ...own key


def test_unpinned_cache_keys_are_the_ones_earlier_versions_wrote(msr_pkl, tiny_generator, tmp_path):
    from kinemic_aug.adapt.cache import make_key
    from kinemic_aug.adapt.input_digests import KEY_VERSION, feature_code_sha, shots_digest
    from kinemic_aug.data.pyskl import id_key

    for norm in ("shots", "generalist"):
        aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache", target_norm=norm)
        aug.resources.generator
        # the shared key parts exactly as the version before target_stats built them (caches stay valid)
        before = {"key_version": KEY_VERSION, "generator": aug.resources.generator_sha, "encoder": aug.resources.encoder.identifier,
                  "domain": [aug.domain.layout, float(aug.domain.fps), float(aug.domain.generator_fps)],
                  "target_norm": norm,
                  "norm_shots": shots_digest(aug.shot_anns, id_key(aug.shot_anns)) if norm == "shots" else None,
                  "code": feature_code_sha()}
        if norm == "generalist":
            assert make_key(aug.keys.shared) == make_key(before)
        else:  # mined windows are now mapped into the shots' statistics: those adapters are new ones
            assert make_key(aug.keys.shared) != make_key(before)
            assert make_key(aug.keys.shared) == make_key({**before, "window_norm": "shots"})


def test_bad_target_stats_files_are_refused_naming_the_file_and_field(msr_pkl, tiny_generator, tmp_path):
    cache = tmp_path / "cache"
    good = _aug(msr_pkl, tiny_generator, cache).save_target_stats(tmp_path / "good.npz")
    with np.load(good, allow_pickle=False) as z:
        base = {k: z[k] for k in z.files}

    def bad(name, **changes):
        d = {k: v for k, v in {**base, **changes}.items() if v is not None}
        np.savez(tmp_path / name, **d)
        return _aug(msr_pkl, tiny_generator, cache, target_stats=tmp_path / name)

    cases = {"nan.npz": (dict(mean=np.where(np.arange(base["mean"].size) == 3, np.nan, base["mean"])), "mean"),
             "short.npz": (dict(std=base["std"][:10]), "std"),
             "zero.npz": (dict(std=np.zeros_like(base["std"])), "std"),
             "nomean.npz": (dict(mean=None), "mean"),
             "other.npz": (dict(representation=np.array("hml263")), "representation"),
             "layout.npz": (dict(layout=np.array("nturgb+d")), "layout"),
             "overflow.npz": (dict(std=np.full(base["std"].shape, 1e-60)), "std")}
    for name, (changes, field) in cases.items():
        aug = bad(name, **changes)
        with pytest.raises(DataError, match=f"{name}.*field '{field}'"):
            aug.normalisation.representation
    (tmp_path / "junk.npz").write_bytes(b"not a zip at all")
    with pytest.raises(DataError, match="junk.npz.*not a readable"):
        _aug(msr_pkl, tiny_generator, cache, target_stats=tmp_path / "junk.npz").normalisation.representation
    with pytest.raises(DataError, match="missing.npz.*target_stats"):
        _aug(msr_pkl, tiny_generator, cache, target_stats=tmp_path / "missing.npz")
    with pytest.raises(ValueError, match="target_stats pins"):
        _aug(msr_pkl, tiny_generator, cache, target_norm="generalist", target_stats=good)
    with pytest.raises(ValueError, match="only target_norm='shots'"):
        _aug(msr_pkl, tiny_generator, cache, target_norm="generalist").save_target_stats(tmp_path / "x.npz")


def test_cache_keys_hash_the_inputs_so_last_bit_feature_differences_still_hit(msr_pkl, tiny_generator, tmp_path,
                                                                               monkeypatch):
    cache = tmp_path / "cache"
    first = _aug(msr_pkl, tiny_generator, cache)
    a1 = first.annotations()
    # another machine, BLAS build or thread count: the same inputs give features that differ in the last bits
    from kinemic_aug.generator.representation import MotionRepresentation
    normalize = MotionRepresentation.normalize
    monkeypatch.setattr(MotionRepresentation, "normalize", lambda self, x: normalize(self, x) * (1 + 1e-6))
    second = _aug(msr_pkl, tiny_generator, cache)
    a2 = second.annotations()
    assert all(r.adapt_cached and r.synth_cached for r in second.reports.values())
    for x, y in zip(a1, a2):
        np.testing.assert_array_equal(x["keypoint"], y["keypoint"])


def test_a_changed_shot_caption_or_feature_code_is_a_new_adapter(msr_pkl, tiny_generator, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    adapt = AdaptConfig(**{**ADAPT.to_dict(), "negatives": "low_similarity", "low_similarity_k": 6})
    kw = dict(adapt=adapt, target_norm="generalist")
    _aug(msr_pkl, tiny_generator, cache, **kw).synthetic_annotations()
    # one keypoint of one class-14 shot moves by a millimetre
    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    probe = _aug(msr_pkl, tiny_generator, cache, **kw)
    shot = next(a for a in probe.shot_anns if a["label"] == 14)["frame_dir"]
    for a in data["annotations"]:
        if a["frame_dir"] == shot:
            a["keypoint"] = a["keypoint"].copy()
            a["keypoint"][0, 0, 0, 0] += 1e-3
    edited = KineMICAugmenter(data, **{**dict(split="xsub_train", shots=2, labels="msr_action3d",
                                              layout="msr_action3d", classes=[0, 14], synthetic_per_class=3,
                                              generator=tiny_generator["path"], corpus=tiny_generator["corpus"],
                                              cache_dir=cache, synthesis=PERMISSIVE, progress=False), **kw})
    edited.synthetic_annotations()
    assert edited.reports[0].adapt_cached and not edited.reports[14].adapt_cached
    # the code that computes the features from the inputs is part of every key
    import kinemic_aug.augmenter.cache_keys as cache_keys
    monkeypatch.setattr(cache_keys, "feature_code_sha", lambda: "edited retargeting code")
    recoded = _aug(msr_pkl, tiny_generator, cache, **kw)
    recoded.synthetic_annotations()
    assert not any(r.adapt_cached or r.synth_cached for r in recoded.reports.values())


def test_progress_bars_stay_out_of_redirected_output(msr_pkl, tiny_generator, tmp_path, capfd):
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache", progress=True, classes=[0])
    aug.synthetic_annotations()
    out, err = capfd.readouterr()
    assert aug.reports[0].generated > 0
    assert "KineMIC (" not in err + out and "it/s" not in err + out and "\r" not in err + out  # no bars
    # instead, plain lines: one per class saying how the adapter came, what was sampled and kept
    lines = [x for x in err.splitlines() if x.startswith("[kinemic] class 0 ")]
    assert len(lines) == 1 and "adapter trained" in lines[0] and "kept 3 of 3" in lines[0], err


def _mined_windows(aug, c=0, step=0):
    """One training step's draws and mined windows for class ``c``, as the trainer computes them."""
    import copy

    from kinemic_aug.adapt.trainer import KineMICTrainer, draw_step, mining_terms

    job, _, _ = aug.adapters.job(c)
    bundle = aug.resources.generator
    tr = KineMICTrainer(copy.deepcopy(bundle.model), bundle.schedule, job.shots, job.pool, job.cfg, classes=[c])
    d = draw_step(job.shots, job.pool, job.cfg, tr.schedule, step, tr.device, True)
    with torch.no_grad():
        _, h_t = tr.target(d.xt_t, d.t_model, text_emb=d.text_t, action=d.yt, mask=d.mask_t, return_features=True)
        _, h_s = tr.prior(d.xt_s, d.t_model_s, text_emb=d.text_s, mask=d.mask_s, return_features=True)
        _, win, _ = mining_terms(job.cfg, tr.schedule, tr.mic, tr.head, d, h_s, h_t, {})
    return d, win


@pytest.mark.parametrize("norm", ["shots", "generalist"])
def test_mined_windows_reach_the_target_stream_in_the_shots_normalisation(msr_pkl, tiny_generator, tmp_path, norm):
    """The target stream reconstructs shots and mined windows alike, and its samples are decoded with the shots'
    statistics: so a window, decoded with them, must be the source clip's own motion (a slice of it), not the
    clip rescaled by the ratio of the two statistics."""
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache", target_norm=norm)
    gen_rep, trep = aug.resources.generator.representation, aug.normalisation.representation
    d, win = _mined_windows(aug)
    assert win is not None
    for k in range(len(win.x)):
        n = int(win.lengths[k])
        got = trep.denormalize(win.x[k, :n].numpy())
        src = gen_rep.denormalize(d.x0_s[k, :int(d.len_s[k])].numpy())
        err = min(np.abs(src[s:s + n] - got).max() for s in range(len(src) - n + 1))
        assert err < 1e-3 * max(1.0, np.abs(src).max()), (k, err)
        if n < win.x.shape[1]:  # padding repeats the window's last frame, in the same units
            np.testing.assert_allclose(trep.denormalize(win.x[k, -1].numpy()), got[-1], rtol=1e-5, atol=1e-4)


def test_source_pool_window_map_is_checked_and_keyed():
    from kinemic_aug.adapt.data import SourcePool

    feats = [np.zeros((4, 3), np.float32), np.ones((5, 3), np.float32)]
    text = np.zeros((2, 2), np.float32)
    plain = SourcePool(feats, text, {0: np.array([0, 1])})
    mapped = SourcePool(feats, text, {0: np.array([0, 1])}, window_scale=np.full(3, 2.0), window_shift=np.zeros(3))
    assert plain.fingerprint() != mapped.fingerprint()
    with pytest.raises(DataError, match="window_scale"):
        SourcePool(feats, text, {0: np.array([0])}, window_scale=np.ones(3))
    with pytest.raises(DataError, match="window_shift"):
        SourcePool(feats, text, {0: np.array([0])}, window_scale=np.ones(3), window_shift=np.ones(2))
    with pytest.raises(DataError, match="window_scale"):
        SourcePool(feats, text, {0: np.array([0])}, window_scale=np.array([1.0, np.nan, 1.0]), window_shift=np.ones(3))


def test_retrieved_variant_serves_the_paired_corpus_clips_without_a_generator(msr_pkl, tiny_generator, tmp_path):
    aug = _aug(msr_pkl, tiny_generator, tmp_path / "cache", variant="retrieved", synthetic_per_class=3)
    anns = aug.synthetic_annotations()
    kinds = {p.name for p in (tmp_path / "cache").iterdir()}
    assert not kinds & {"adapter", "adapter-joint", "synthetic"}  # nothing adapted, nothing sampled
    corpus = aug.resources.corpus
    by_name = {clip.name: clip for clip in corpus}
    for c in (0, 14):
        mine = [a for a in anns if a["label"] == c]
        assert len(mine) == 3 and aug.reports[c].generated == 3
        assert [a["retrieved_info"]["corpus_clip"] for a in mine] == aug.paired.pairs.neighbour_names(c)[:3]
        for a in mine:
            clip = by_name[a["retrieved_info"]["corpus_clip"]]
            assert a["retrieved"] is True and a["is_synthetic"] is clip.synthetic  # procedural clips stay flagged
            assert a["keypoint"].shape[2:] == (20, 3) and np.isfinite(a["keypoint"]).all()
    data = aug.to_pyskl()  # field parity holds for the added corpus clips
    ids = set(data["split"]["xsub_train_kinemic"])
    assert {a["frame_dir"] for a in anns} <= ids
    assert {a["frame_dir"] for a in anns} <= {a["frame_dir"] for a in data["annotations"]}


def test_a_two_person_shot_is_refused_and_a_brief_second_detection_is_not(msr_pkl, tiny_generator, tmp_path):
    import copy

    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    data = copy.deepcopy({"split": data["split"], "annotations": data["annotations"], "meta": data.get("meta", {})})
    train = set(data["split"]["xsub_train"])
    first = next(a for a in data["annotations"] if a["frame_dir"] in train and a["label"] == 0)
    kp = first["keypoint"]
    two = np.concatenate([kp, kp + np.float32(0.5)], axis=0)            # a second person all along
    blip = np.concatenate([kp, np.zeros_like(kp)], axis=0)
    blip[1, :3] = kp[0, :3] + 0.5                                       # a 3-frame spurious detection
    for a in data["annotations"]:
        if a["frame_dir"] in train and a["label"] == 0:
            a["keypoint"] = two
            a["total_frames"] = two.shape[1]
        elif a["frame_dir"] in train and a["label"] == 14:
            a["keypoint"] = np.concatenate([a["keypoint"], np.zeros_like(a["keypoint"])], axis=0)
            a["keypoint"][1, :3] = a["keypoint"][0, :3] + 0.5
    for a in data["annotations"]:
        a.pop("keypoint_score", None)  # scores are per person: not needed here
    pkl = tmp_path / "two.pkl"
    pkl.write_bytes(pickle.dumps(data, protocol=4))
    aug = _aug(pkl, tiny_generator, tmp_path / "cache", classes=[0, 14])
    with pytest.raises(DataError, match="class 0: a second person is present") as e:
        aug.shot_joints
    assert e.value.field == "keypoint"
    ok = _aug(pkl, tiny_generator, tmp_path / "cache", classes=[14])
    assert len(ok.shot_joints[14]) == 2  # the brief detection is not a second actor


def test_a_shipped_generalist_is_named_and_a_path_is_a_path(tmp_path):
    from kinemic_aug.generator.checkpoint import SHIPPED_DIR, SHIPPED_GENERATORS, resolve_generator

    assert resolve_generator() == resolve_generator("small") == SHIPPED_DIR / SHIPPED_GENERATORS["small"]
    from kinemic_aug.generator.checkpoint import load_generator

    for name in SHIPPED_GENERATORS:  # every name points at a file the package ships, which loads
        assert resolve_generator(name).is_file(), name
        assert load_generator(resolve_generator(name)).step > 0
    # the real-motion generalist says what it learned from (its terms are in the NOTICE beside it)
    assert load_generator(resolve_generator("bandai")).corpus["name"] == "bandai+seed"
    assert "CC BY-NC 4.0" in (SHIPPED_DIR / "NOTICE.md").read_text()
    assert resolve_generator(tmp_path / "g.pt") == tmp_path / "g.pt"
    assert resolve_generator("work_dirs/g.pt") == Path("work_dirs/g.pt")
