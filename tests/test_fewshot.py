import copy
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.fewshot import (FewShotSplit, check_disjoint_subjects, make_few_shot_split, subject_from_key,
                                      subject_from_ntu_name)
from kinemic_aug.data.pyskl import get_split, load_pyskl, save_pyskl
from kinemic_aug.errors import DataError

REPO = Path(__file__).resolve().parents[1]


def _ann(sid, label, **extra):
    return dict(frame_dir=sid, label=label, keypoint=np.zeros((1, 4, 25, 3), np.float32), total_frames=4, **extra)


def _ntu_data():
    """Fake NTU names where setup (S) and performer (P) differ: every performer acts in both setups
    1 and 2 (both in the 53-id xsub list); performers 1 and 2 are xsub-train, 3 and 6 are not."""
    anns, train, val = [], [], []
    for label in range(3):
        for setup in (1, 2):
            for perf in (1, 2, 3, 6):
                for rep in (1, 2):
                    sid = f"S{setup:03d}C001P{perf:03d}R{rep:03d}A{label + 1:03d}"
                    anns.append(_ann(sid, label))
                    (train if perf in (1, 2) else val).append(sid)
    by_setup = [a["frame_dir"] for a in anns if a["frame_dir"][1:4] == "001"]  # the leaky rule
    rest = [a["frame_dir"] for a in anns if a["frame_dir"][1:4] != "001"]
    return {"split": {"xsub_train": train, "xsub_val": val, "leaky_train": by_setup, "leaky_val": rest},
            "annotations": anns}


def test_ntu_subject_is_the_performer():
    assert subject_from_ntu_name({"frame_dir": "S017C002P041R001A007"}) == 41
    d = _ntu_data()
    fs = make_few_shot_split(d, "xsub_train", 2, seed=3, test_split="xsub_val", subject_of=subject_from_ntu_name)
    assert fs.meta["train_subjects"] == [1, 2] and fs.meta["test_subjects"] == [3, 6]
    assert all(subject_from_ntu_name({"frame_dir": i}) in (1, 2) for i in fs.ids)
    # splitting by the setup field puts the same performers on both sides: refused
    with pytest.raises(DataError, match=r"subjects \[1, 2, 3, 6\] appear in both 'leaky_train' and 'leaky_val'"):
        make_few_shot_split(d, "leaky_train", 2, seed=3, test_split="leaky_val", subject_of=subject_from_ntu_name)


def test_draw_is_deterministic_and_follows_the_documented_rule():
    d = _ntu_data()
    a = make_few_shot_split(d, "xsub_train", 3, seed=7)
    b = make_few_shot_split(copy.deepcopy(d), "xsub_train", 3, seed=7)
    assert a.ids == b.ids and a.per_class == b.per_class
    # shuffling the annotation order does not change the draw (ids are sorted before drawing)
    shuffled = copy.deepcopy(d)
    shuffled["annotations"].reverse()
    shuffled["split"]["xsub_train"].reverse()
    assert make_few_shot_split(shuffled, "xsub_train", 3, seed=7).ids == a.ids
    # re-derive independently: sorted pool per class, one Generator, classes in label order
    rng = np.random.default_rng(7)
    train = get_split(d, "xsub_train")
    for c in range(3):
        pool = sorted(x["frame_dir"] for x in train if x["label"] == c)
        assert a.per_class[c] == [pool[i] for i in sorted(rng.choice(len(pool), 3, replace=False))]
    seeds = {tuple(make_few_shot_split(d, "xsub_train", 3, seed=s).ids) for s in range(6)}
    assert len(seeds) > 1
    assert a.ids == [i for c in (0, 1, 2) for i in a.per_class[c]] and len(set(a.ids)) == 9


def test_too_few_and_zero_samples_name_the_class():
    d = _ntu_data()
    d["split"]["xsub_train"] = [i for i in d["split"]["xsub_train"] if not (i.endswith("A002") and "S002" in i)]
    with pytest.raises(DataError, match="class 1 has only 4 samples in split 'xsub_train', fewer than shots=5"):
        make_few_shot_split(d, "xsub_train", 5, seed=0)
    d["split"]["xsub_train"] = [i for i in d["split"]["xsub_train"] if not i.endswith("A003")]
    with pytest.raises(DataError, match="class 2 has no samples in split 'xsub_train'"):
        make_few_shot_split(d, "xsub_train", 1, seed=0)
    # restricting the classes avoids it
    assert make_few_shot_split(d, "xsub_train", 1, seed=0, classes=[0, 1]).classes == [0, 1]


def test_bad_arguments():
    d = _ntu_data()
    with pytest.raises(DataError, match="shots"):
        make_few_shot_split(d, "xsub_train", 0, seed=0)
    with pytest.raises(DataError, match="the same"):
        make_few_shot_split(d, "xsub_train", 1, seed=0, test_split="xsub_train")
    with pytest.raises(DataError, match="available splits"):
        make_few_shot_split(d, "train", 1, seed=0)
    d["split"]["overlap"] = d["split"]["xsub_train"][:1]
    with pytest.raises(DataError, match="in both 'xsub_train' and 'overlap'"):
        make_few_shot_split(d, "xsub_train", 1, seed=0, test_split="overlap")


def test_manifest_roundtrip_and_corruption(tmp_path):
    d = _ntu_data()
    fs = make_few_shot_split(d, "xsub_train", 2, seed=1, test_split="xsub_val", subject_of=subject_from_ntu_name,
                             dataset="toy-ntu")
    p = fs.save(tmp_path / "m.json")
    back = FewShotSplit.load(p)
    assert back == fs and list(back.per_class) == [0, 1, 2]
    assert [a["frame_dir"] for a in back.annotations(d)] == fs.ids
    raw = json.loads(p.read_text())
    raw["ids"] = raw["ids"][:-1]
    (tmp_path / "bad.json").write_text(json.dumps(raw))
    with pytest.raises(DataError, match="bad.json.*disagree"):
        FewShotSplit.load(tmp_path / "bad.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(DataError, match="junk.json"):
        FewShotSplit.load(tmp_path / "junk.json")


def test_subject_from_key_errors():
    with pytest.raises(DataError, match="no subject key 'subject'") as ei:
        subject_from_key("subject")({"frame_dir": "x", "label": 0})
    assert ei.value.sample == "x"
    with pytest.raises(DataError, match=r"subjects \[2\]"):
        check_disjoint_subjects([{"subject": 1}, {"subject": 2}], [{"subject": 2}], subject_from_key())


def test_msr_odd_subjects_train(msr_pkl):
    d = load_pyskl(msr_pkl)
    fs = make_few_shot_split(d, "xsub_train", 5, seed=0, test_split="xsub_test", subject_of=subject_from_key("subject"),
                             dataset="msr_action3d")
    assert len(fs.ids) == 100 and all(len(v) == 5 for v in fs.per_class.values())
    train_ids = set(d["split"]["xsub_train"])
    by_id = {a["frame_dir"]: a for a in d["annotations"]}
    assert set(fs.ids) <= train_ids
    assert {by_id[i]["subject"] % 2 for i in fs.ids} == {1}
    assert all(by_id[i]["label"] == c for c, ids in fs.per_class.items() for i in ids)
    assert fs.meta["train_subjects"] == [1, 3, 5, 7, 9] and fs.meta["test_subjects"] == [2, 4, 6, 8, 10]
    # MSR's xsub_train has only 9 'side kick' samples: 10 shots is refused by name
    with pytest.raises(DataError, match=r"class 14 \('side kick'\) has only 9 samples"):
        make_few_shot_split(d, "xsub_train", 10, seed=0)
    # an 'all' split as test shares samples and subjects with train
    with pytest.raises(DataError, match="in both"):
        make_few_shot_split(d, "xsub_train", 5, seed=0, test_split="all_567", subject_of=subject_from_key("subject"))


def _cli():
    spec = importlib.util.spec_from_file_location("make_few_shot", REPO / "tools" / "make_few_shot.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_writes_manifest_and_refuses_leaks(tmp_path, capsys):
    cli = _cli()
    pkl = save_pyskl(_ntu_data(), tmp_path / "ntu_toy.pkl")
    out = tmp_path / "m.json"
    rc = cli.main([str(pkl), "--train-split", "xsub_train", "--test-split", "xsub_val", "--shots", "2",
                   "--seed", "4", "--out", str(out)])
    assert rc == 0 and out.exists()
    fs = FewShotSplit.load(out)
    assert fs.dataset == "ntu_toy" and fs.meta["subject_of"] == "subject_from_ntu_name"
    assert fs.ids == make_few_shot_split(load_pyskl(pkl), "xsub_train", 2, seed=4).ids
    rc = cli.main([str(pkl), "--train-split", "leaky_train", "--test-split", "leaky_val", "--shots", "1",
                   "--out", str(tmp_path / "leak.json")])
    assert rc == 2 and not (tmp_path / "leak.json").exists()
    assert "appear in both" in capsys.readouterr().err


def test_msr_ten_shots_refused_unless_capped_and_the_cap_is_recorded(msr_pkl):
    from kinemic_aug.data.pyskl import load_pyskl

    data = load_pyskl(msr_pkl)
    with pytest.raises(DataError, match="only 9 samples.*allow_fewer"):
        make_few_shot_split(data, "xsub_train", 10, 0, test_split="xsub_test")
    with pytest.warns(UserWarning, match="using 9 shots"):
        split = make_few_shot_split(data, "xsub_train", 10, 0, test_split="xsub_test", allow_fewer=True)
    assert split.meta["capped_classes"] == {"14": 9}
    assert len(split.per_class[14]) == 9 and all(len(v) == 10 for c, v in split.per_class.items() if c != 14)
