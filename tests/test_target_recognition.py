"""benchmarks/target_recognition end to end: real MSR shots, the tiny generator, a briefly trained judge
(the real MMEngine Runner), the retrieved and zeroshot sets judged class by class."""
import json

import pytest

from benchmarks.target_recognition import main


@pytest.mark.slow  # trains a judge through the Runner (about 75 s on the 2-core CPU)
def test_added_sets_are_judged_per_class_and_written(msr_pkl, tiny_generator, tmp_path, monkeypatch):
    monkeypatch.setenv("KINEMIC_MSR_PKL", str(msr_pkl))
    out = main(["--generators", f"tiny={tiny_generator['path']}", "--variants", "retrieved", "zeroshot",
                "--shots", "1", "--per-class", "2", "--evaluator-options", "train_cfg.max_iters=4",
                "train_cfg.val_interval=4", "param_scheduler.1.T_max=4", "param_scheduler.1.end=4",
                "--evaluator-root", str(tmp_path / "ev"), "--cache", str(tmp_path / "cache"),
                "--work", str(tmp_path / "work"), "--out-dir", str(tmp_path), "--stem", "tr"])
    rows = {r["variant"]: r for r in out["rows"]}
    assert set(rows) == {"retrieved", "zeroshot"}
    for r in rows.values():
        assert r["n"] == 2 * 20 and set(r["per_class"]) == set(range(20))
        assert 0.0 <= r["recognised"] <= 1.0 and r["corpus"] == tiny_generator["corpus"]
        assert abs(r["recognised"] - sum(r["per_class"].values()) / 20) < 1e-9  # 2 per class: mean of classes
    saved = json.loads((tmp_path / "tr.json").read_text())
    assert saved["shots"] == 1 and len(saved["rows"]) == 2
    md = (tmp_path / "tr.md").read_text()
    assert "tiny retrieved" in md and "| 0 " in md
    assert (tmp_path / "work" / "tiny_retrieved.pkl").exists()


def test_the_judge_without_shots_is_trained_on_the_training_split_minus_exactly_the_shots(msr_pkl, tmp_path):
    import pickle

    from benchmarks.target_recognition import JUDGE_SPLIT, without_shots

    with open(msr_pkl, "rb") as f:
        data = pickle.load(f)
    train = data["split"]["xsub_train"]
    shots = set(train[:5])
    out, n = without_shots(msr_pkl, "xsub_train", shots, tmp_path)
    with open(out, "rb") as f:
        got = pickle.load(f)
    assert n == len(train) - 5 and got["split"][JUDGE_SPLIT] == [i for i in train if i not in shots]
    assert got["split"]["xsub_test"] == data["split"]["xsub_test"]
    # another draw of as many shots gets a file (and so a judge) of its own; the same draw the same file
    other, _ = without_shots(msr_pkl, "xsub_train", set(train[5:10]), tmp_path)
    again, _ = without_shots(msr_pkl, "xsub_train", set(train[:5]), tmp_path)
    assert other != out and again == out
