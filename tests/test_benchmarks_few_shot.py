"""benchmarks.few_shot / generation_metrics / run: arm table → command line, records, resume logic,
reports with missing cells, generation metrics on known feature sets, and the augmenter report that
``KineMICAugmentedDataset`` writes. No MSR training run here except in the one slow end-to-end test."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks import few_shot as fs
from benchmarks import generation_metrics as gm
from benchmarks.common import load_records, merge_records
from benchmarks.train_runner import format_cfg_options, parse_cfg_options, train_command
from kinemic_aug.errors import DataError

REPO = Path(__file__).resolve().parents[1]
AUG = fs.AUG


def _train_parse_args(argv):
    """tools/train.py's own argument parser (the command must parse exactly as the child will)."""
    spec = importlib.util.spec_from_file_location("kinemic_tools_train", REPO / "tools" / "train.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.parse_args(argv)


def _summary(last=0.5, best=0.6):
    return {"last": {"acc/top1": last, "acc/top5": 0.9, "acc/mean1": last - 0.01, "iter": 600},
            "best": {"acc/top1": best, "iter": 400}, "train_seconds": 80.0}


def _report(cached_first=False):
    cls = []
    for c in range(3):
        cls.append({"class_id": c, "name": f"c{c}", "shots": 5, "adapt_seconds": 10.0 * (c + 1),
                    "adapt_cached": cached_first and c == 0, "synth_seconds": 2.0, "synth_cached": False,
                    "generated": 10, "dropped_static": c, "dropped_exploding": 1,
                    "top1_similarity": None, "kth_similarity": None})
    return {"variant": "kinemic", "seed": 0, "num_real": 15, "num_synthetic": 30, "augment_seconds": 70.0,
            "adapt": {"mode": "per_class", "steps": 300}, "synthesis": {"steps": 20, "guidance": 2.5},
            "synthetic_per_class": 10, "synthetic_ratio": None, "classes": cls}


# ------------------------------------------------------------------------------ arm table → command line
@pytest.mark.parametrize("arm", list(fs.ARMS))
def test_every_arm_has_its_configs(arm):
    for k in (1, 3, 5, 10):
        assert fs.config_for(arm, k).exists()
    if fs.ARMS[arm].full:
        assert fs.config_for(arm, None).name.startswith("stgcn_msr_xsub_full")
    else:
        with pytest.raises(ValueError, match="no full-data config"):
            fs.config_for(arm, None)


def test_kinemic_arm_command_parses_as_train_py_reads_it(tmp_path):
    opts = fs.options_for("real+kinemic-noweight", fs.FULL, {"train_cfg.max_iters": 50})
    assert opts == {AUG + "variant": "noweight", "train_cfg.max_iters": 50}
    cmd = train_command(fs.config_for("real+kinemic-noweight", 5), 2, tmp_path / "w", opts)
    assert cmd[2].endswith("configs/kinemic/stgcn_msr_xsub_5shot_kinemic.py")
    args = _train_parse_args(cmd[2:])
    assert args.seed == 2 and args.work_dir == str(tmp_path / "w")
    assert args.cfg_options == {AUG + "variant": "noweight", "train_cfg.max_iters": 50}


def test_arm_options_land_in_the_config():
    from har.training import load_config

    cfg = load_config(fs.config_for("real+zeroshot", 3), cfg_options=fs.options_for("real+zeroshot", fs.SMALL), seed=4)
    ds = cfg.train_dataloader.dataset
    assert ds.type == "KineMICAugmentedDataset"
    assert ds.augmenter.variant == "zeroshot" and ds.augmenter.seed == 4
    assert ds.augmenter.adapt.steps == fs.SMALL.kinemic_options[AUG + "adapt.steps"]
    assert ds.dataset.few_shot.shots == 3 and ds.dataset.few_shot.seed == 4
    assert cfg.train_cfg.max_iters == cfg.param_scheduler[1].T_max == fs.SMALL.common_options["train_cfg.max_iters"]


def test_augmenter_options_never_reach_real_arms():
    cli = {AUG + "synthetic_per_class": 5, "train_cfg.max_iters": 10, "train_dataloader.dataset.real_repeat": 3}
    assert fs.options_for("real", fs.SMALL, cli) == {**fs.SMALL.common_options, "train_cfg.max_iters": 10}
    assert fs.options_for("real+zeroshot", fs.SMALL, cli)["train_dataloader.dataset.real_repeat"] == 3
    assert fs.options_for("real+kinemic", fs.SMALL, cli)[AUG + "synthetic_per_class"] == 5  # CLI wins over SMALL
    assert fs.options_for("real+classic", fs.FULL) == {}


def test_a_pretrained_arm_starts_from_the_kinemic_only_cell_of_the_same_shots_and_seed(tmp_path):
    from har.training import load_config

    variant = fs.replace(fs.FULL, work_root=tmp_path / "work")
    for arm in ("real+kinemic-pretrained", "real+classic+kinemic-pretrained"):
        opts = fs.cell_options(arm, 3, 1, variant)
        assert opts["load_from"] == str((tmp_path / "work" / "kinemic-only_3shot_s1" / "iter_600.pth").resolve())
        assert fs.prerequisites(arm) == ["kinemic-only"] and fs.waits_for(arm) == ["kinemic-only"]
        assert not fs.ARMS[arm].kinemic and AUG + "variant" not in opts   # a plain few-shot config, no augmenter
        cfg = load_config(fs.config_for(arm, 3), cfg_options=opts, seed=1)
        assert cfg.load_from.endswith("kinemic-only_3shot_s1/iter_600.pth") and not cfg.resume
    assert "load_from" not in fs.cell_options("real+classic", 3, 1, variant) and fs.prerequisites("real") == []
    # the step-matched controls start from the same arm's own cell
    assert fs.cell_options("real+classic-restart", 3, 1, variant)["load_from"].endswith("real_classic_3shot_s1/iter_600.pth")
    assert fs.config_for("real-restart", 3) == fs.config_for("real", 3)
    # the starting point serves the synthetic samples alone, drawn like the anchored arms' (plus residual and root)
    only = load_config(fs.config_for("kinemic-only", 3), cfg_options=fs.cell_options("kinemic-only", 3, 1, variant))
    assert only.train_dataloader.dataset.real_repeat == 0
    assert only.train_dataloader.dataset.augmenter.synthesis.residual is True
    assert fs.prerequisites("real+kinemic-filtered") == ["real"]
    # the step count the source cell runs with names its last checkpoint; once it ran, its last_checkpoint does
    small = fs.replace(fs.SMALL, work_root=tmp_path / "small")
    steps = fs.options_for("kinemic-only", small)["train_cfg.max_iters"]
    assert steps != 600 and fs.init_options("real+classic", 5, 0, small) == {}
    assert fs.init_options("real-restart", 5, 0, small)["load_from"].endswith(f"real_5shot_s0/iter_{steps}.pth")
    assert fs.init_options("real+kinemic-pretrained", 5, 0, small)["load_from"].endswith(f"iter_{steps}.pth")
    cell = tmp_path / "small" / "kinemic-only_5shot_s0"
    cell.mkdir(parents=True)
    (cell / "last_checkpoint").write_text(str(cell / "iter_7.pth"))
    assert fs.init_options("real+kinemic-pretrained", 5, 0, small)["load_from"] == str((cell / "iter_7.pth").resolve())
    # a starting point without a checkpoint is trained first, even when its record exists
    assert fs.missing_prerequisites("real+kinemic-pretrained", 5, 0, small) == []
    assert fs.missing_prerequisites("real-restart", 5, 0, small) == ["real"]
    assert fs.missing_prerequisites("real+classic", 5, 0, small) == []


def test_a_run_of_dependent_arms_includes_and_orders_their_starting_points():
    variant = fs.replace(fs.FULL, arms=("real+classic+kinemic-pretrained", "real+kinemic-pretrained"),
                         shots=("3",), seeds=(0, 1))
    cells = fs.expected_cells(variant)
    assert cells == [("kinemic-only", 3, 0), ("real+classic+kinemic-pretrained", 3, 0), ("real+kinemic-pretrained", 3, 0),
                     ("kinemic-only", 3, 1), ("real+classic+kinemic-pretrained", 3, 1), ("real+kinemic-pretrained", 3, 1)]
    shuffled = [cells[1], cells[4], cells[0], cells[2], cells[3], cells[5]]
    order = fs._dependency_order(shuffled)
    assert order.index(("kinemic-only", 3, 0)) < order.index(("real+classic+kinemic-pretrained", 3, 0))
    assert order.index(("kinemic-only", 3, 1)) < order.index(("real+classic+kinemic-pretrained", 3, 1))
    assert sorted(order) == sorted(cells)
    assert fs.waits_for("real+classic-restart") == ["real+classic"] and fs.waits_for("real") == []


def test_a_judged_arm_filters_with_the_real_cell_of_the_same_shots_and_seed(tmp_path):
    from har.training import load_config

    variant = fs.replace(fs.FULL, work_root=tmp_path / "work")
    opts = fs.cell_options("real+kinemic-filtered", 3, 1, variant)
    assert opts[fs.CONSISTENCY + "checkpoint"] == str((tmp_path / "work" / "real_3shot_s1").resolve())
    assert opts[fs.CONSISTENCY + "config"] == "configs/stgcn/stgcn_msr_xsub_3shot.py"
    cfg = load_config(fs.config_for("real+kinemic-filtered", 3), cfg_options=opts, seed=1)
    assert cfg.train_dataloader.dataset.consistency.checkpoint.endswith("real_3shot_s1")
    assert fs.judge_options("real+kinemic", 3, 1, variant) == {}
    # the judge's keys never reach an arm without an augmenter
    cli = {fs.CONSISTENCY + "min_prob": 0.5}
    assert fs.CONSISTENCY + "min_prob" not in fs.options_for("real", variant, cli)
    ext = fs.kinemic_extras({**_report(), "consistency": {"kept": 7, "dropped": 3, "checkpoint": "w", "per_class": {}},
                             "target_norm": "shots", "generator_step": 8000, "generator_sha256": "ab" * 32})
    assert ext["consistency"] == {"kept": 7, "dropped": 3, "checkpoint": "w"} and ext["target_norm"] == "shots"
    assert ext["generator_step"] == 8000 and ext["generator_sha256"] == "ab" * 32
    assert fs.kinemic_extras(_report())["target_norm"] == "generalist"
    old = fs.build_record("real+kinemic", 5, 0, _summary(), 1.0, fs.config_for("real+kinemic", 5), {}, "full", _report())
    old.pop("generator_step")
    new = dict(old, arm="real+kinemic-filtered", **ext)
    real = fs.build_record("real", 5, 0, _summary(), 1.0, fs.config_for("real", 5), {}, "full")
    assert fs.generator_provenance([old, new, real, dict(new, seed=1)]) == {
        "real+kinemic": ["step not recorded with generalist statistics"],
        "real+kinemic-filtered": ["step 8000 with shots statistics"]}
    rerun = dict(old, shots=10, **ext)  # an arm whose cells were made with two generalists names them
    assert fs.generator_provenance([old, rerun]) == {"real+kinemic": [
        "step not recorded with generalist statistics (5-shot s0)", "step 8000 with shots statistics (10-shot s0)"]}


def test_cfg_option_values_round_trip_or_are_refused():
    opts = {"a.b": 3, "c": 0.0001, "d": True, "e": None, "f": "joint", "g": [1, 2], "h": (0.7, 1.0), "i": ("x",)}
    assert parse_cfg_options(format_cfg_options(opts)) == opts
    with pytest.raises(ValueError, match="a b"):
        format_cfg_options({"k": "a b"})          # DictAction strips spaces
    with pytest.raises(ValueError, match="read back"):
        format_cfg_options({"k": "3"})            # would come back as the int 3
    with pytest.raises(ValueError, match="dotted keys"):
        format_cfg_options({"k": {"x": 1}})


# ------------------------------------------------------------------------------ records
def test_build_record_real_and_kinemic():
    cfg = fs.config_for("real", 5)
    rec = fs.build_record("real", 5, 1, _summary(), 123.45, cfg, {}, "full")
    assert rec["dataset"] == "msr_action3d" and rec["split"] == "xsub" and rec["shots"] == 5 and rec["seed"] == 1
    assert (rec["top1_last"], rec["top1_best"], rec["seconds"]) == (0.5, 0.6, 123.5)
    assert rec["config"] == "configs/stgcn/stgcn_msr_xsub_5shot.py" and "n_synthetic" not in rec

    kin = fs.build_record("real+kinemic", 5, 0, _summary(), 200.0, fs.config_for("real+kinemic", 5),
                          {AUG + "variant": "kinemic"}, "full", _report(cached_first=True))
    assert kin["n_synthetic"] == 30 and kin["n_real"] == 15
    assert kin["adapt_seconds_per_class"] == pytest.approx(25.0)  # classes 1, 2 only: class 0 came from the cache
    assert kin["adapt_cached_classes"] == 1
    assert kin["synth_seconds"] == 6.0 and kin["synth_per_second"] == pytest.approx(5.0)
    assert kin["filter"] == {"kept": 30, "static": 3, "exploding": 3}
    assert kin["kinemic_options"]["adapt_steps"] == 300


def test_build_record_refuses_a_run_without_validation():
    with pytest.raises(ValueError, match="real_5shot_s0"):
        fs.build_record("real", 5, 0, {"last": None, "best": None}, 1.0, fs.config_for("real", 5), {}, "full")


def test_zeroshot_extras_have_zero_adaptation():
    rep = _report()
    rep["adapt"]["steps"] = 0
    assert fs.kinemic_extras(rep)["adapt_seconds_per_class"] == 0.0


# ------------------------------------------------------------------------------ resume
def test_cell_action_resume_logic(tmp_path):
    real = fs.build_record("real", 5, 0, _summary(), 1.0, fs.config_for("real", 5), {}, "full")
    kin = fs.build_record("real+kinemic", 5, 0, _summary(), 1.0, fs.config_for("real+kinemic", 5), {}, "full", _report())
    rows = [real, kin]
    work = tmp_path / "cell"
    work.mkdir()
    assert fs.cell_action(rows, "real", 5, 1, work) == "run"           # other seed: not done
    assert fs.cell_action(rows, "real", 5, 0, work) == "skip"
    assert fs.cell_action(rows, "real", 5, 0, work, force=True) == "run"
    assert fs.cell_action(rows, "real+kinemic", 5, 0, work) == "skip"   # no synthetic.pkl to measure
    (work / "synthetic.pkl").write_bytes(b"")
    assert fs.cell_action(rows, "real+kinemic", 5, 0, work) == "gen"    # trained, metrics missing
    assert fs.cell_action(rows, "real+kinemic", 5, 0, work, with_gen=False) == "skip"
    assert fs.cell_action([dict(kin, gen_fid=1.0)], "real+kinemic", 5, 0, work) == "skip"
    # metrics measured with the evaluator's 10 clips in a grid that measures one: measured again
    assert fs.cell_action([dict(kin, gen_fid=1.0)], "real+kinemic", 5, 0, work, gen_clips=1) == "gen"
    assert fs.cell_action([dict(kin, gen_fid=1.0, gen_clips=1)], "real+kinemic", 5, 0, work, gen_clips=1) == "skip"
    assert fs.cell_action([dict(kin, gen_fid=1.0)], "real+kinemic", 5, 0, work, gen_clips=10) == "skip"


def test_a_cell_recorded_with_another_recipe_runs_again_and_paths_do_not_count(tmp_path):
    v = fs.variant_for(name="budget2")
    now = fs.options_for("real+kinemic", v)
    rec = fs.build_record("real+kinemic", 3, 0, _summary(), 1.0, fs.config_for("real+kinemic", 3),
                          {**now, "load_from": "/elsewhere/iter_300.pth", AUG + "cache_dir": "work_dirs/other",
                           AUG + "dataset.ann_file": "/another/clone/val_split.pkl"}, "budget2", _report())
    rec = json.loads(json.dumps(rec))   # as read back from the results file
    work = tmp_path / "cell"
    assert fs.recipe_changes(rec, now) == {}   # where data and checkpoints lie is not the recipe
    assert fs.cell_action([rec], "real+kinemic", 3, 0, work, with_gen=False, options=now) == "skip"
    old = dict(rec, cfg_options={**rec["cfg_options"], "train_cfg.max_iters": 600})
    assert fs.recipe_changes(old, now) == {"train_cfg.max_iters": (600, None)}
    assert fs.cell_action([old], "real+kinemic", 3, 0, work, with_gen=False, options=now) == "run"
    fewer = {k: x for k, x in now.items() if k != AUG + "adapt.engine"}
    assert fs.recipe_changes(rec, fewer) == {AUG + "adapt.engine": ("fast", None)}
    assert fs.cell_action([rec], "real+kinemic", 3, 0, work, with_gen=False, options=fewer) == "run"
    assert fs.cell_action([old], "real+kinemic", 3, 0, work, with_gen=False) == "skip"   # no options: key only
    legacy = {k: x for k, x in old.items() if k != "cfg_options"}   # a row from before options were recorded
    assert fs.cell_action([legacy], "real+kinemic", 3, 0, work, with_gen=False, options=now) == "skip"


def test_a_flag_that_became_a_number_is_a_recipe_change():
    rec = {"cfg_options": {AUG + "synthesis.rechain_bones": True, AUG + "synthetic_per_class": 20}}
    assert fs.recipe_changes(rec, {AUG + "synthesis.rechain_bones": 1, AUG + "synthetic_per_class": 20}) == {
        AUG + "synthesis.rechain_bones": (True, 1)}
    assert fs.recipe_changes(rec, {AUG + "synthesis.rechain_bones": True, AUG + "synthetic_per_class": 20.0}) == {
        AUG + "synthetic_per_class": (20, 20.0)}
    assert fs.recipe_changes(rec, dict(rec["cfg_options"])) == {}


def test_a_cell_whose_starting_point_was_trained_again_runs_again(tmp_path):
    """real-restart is fine-tuned from the real cell's checkpoint: once real is trained again (a changed recipe,
    a forced run), the restart's numbers came from a checkpoint that is gone and it runs again, in this
    invocation or a later one; a starting point trained inside the cell's own run does not count."""
    assert fs.prerequisites("real-restart") == ["real"]
    real = dict(fs.build_record("real", 3, 0, _summary(), 1.0, fs.config_for("real", 3), {}, "full"),
                started=100.0, finished=200.0)
    restart = dict(fs.build_record("real-restart", 3, 0, _summary(), 1.0, fs.config_for("real-restart", 3), {},
                                   "full"), started=150.0, finished=400.0)   # real trained inside its run
    work = tmp_path / "cell"
    assert fs.cell_reason([real, restart], "real-restart", 3, 0, work) == ("skip", "")
    again = dict(real, started=500.0, finished=600.0)
    action, why = fs.cell_reason([again, restart], "real-restart", 3, 0, work)
    assert action == "run" and "real_3shot_s0 (its starting point) finished later" in why
    assert fs.cell_action([again, restart], "real-restart", 3, 0, work) == "run"
    assert fs.cell_action([again, restart], "real-restart", 3, 1, work) == "run"          # no record of seed 1
    # the restart's only record is seed 1's: it does not stand for seed 0
    assert fs.cell_action([again, dict(restart, seed=1)], "real-restart", 3, 0, work) == "run"
    assert fs.cell_action([dict(again, seed=1), restart], "real-restart", 3, 0, work) == "skip"  # other seed's real
    untimed = {k: v for k, v in restart.items() if k not in ("started", "finished")}
    assert fs.cell_action([again, untimed], "real-restart", 3, 0, work) == "skip"   # rows without times stand
    assert fs.cell_action([again, restart], "real", 3, 0, work) == "skip"           # no prerequisite of its own


def test_retrieved_cells_are_measured_on_their_corpus_clips(tmp_path):
    """The retrieved arm writes its real corpus clips to retrieved.pkl, not synthetic.pkl: its generation metrics
    are computed on those, and a cell with neither says so instead of blaming the filter."""
    ret = fs.build_record("real+retrieved", 5, 0, _summary(), 1.0, fs.config_for("real+retrieved", 5), {}, "full",
                          _report())
    work = tmp_path / "cell"
    work.mkdir()
    assert fs.samples_pickle(work) is None
    assert fs.cell_action([ret], "real+retrieved", 5, 0, work) == "skip"
    (work / "retrieved.pkl").write_bytes(b"")
    assert fs.samples_pickle(work) == (work / "retrieved.pkl", "retrieved")
    assert fs.cell_action([ret], "real+retrieved", 5, 0, work) == "gen"
    (work / "synthetic.pkl").write_bytes(b"")   # generated samples win where a cell has both...
    assert fs.samples_pickle(work) == (work / "synthetic.pkl", "synthetic")
    # ...except in the retrieved arm, whose synthetic.pkl holds only a corpus's procedural clips
    assert fs.samples_pickle(work, retrieved_first=True) == (work / "retrieved.pkl", "retrieved")
    ev0 = type("Ev0", (), {"metrics": lambda self, pkl, split: {"gen_fid": 2.0, "split": split}})()
    assert fs.add_generation_metrics(ret, work, ev0)["split"] == "retrieved"

    class Ev:
        def metrics(self, pkl, split):
            self.seen = (pkl.name, split)
            time.sleep(0.3)                  # an evaluator trained on first use: outside the metrics' own seconds
            return {"gen_fid": 1.5, "gen_seconds": 0.0}

    ev = Ev()
    (work / "synthetic.pkl").unlink()
    measured = fs.add_generation_metrics(dict(ret, gen_error="old"), work, ev)
    assert measured["gen_fid"] == 1.5 and "gen_error" not in measured
    assert abs(measured["gen_started"] - time.time()) < 60   # when they were measured, for elapsed_hours
    assert measured["gen_wall_seconds"] >= 0.3 and measured["gen_seconds"] == 0.0
    assert ev.seen == ("retrieved.pkl", "retrieved")

    class Failing:
        def metrics(self, pkl, split):
            time.sleep(0.3)                  # trained, then failed: the time was spent all the same
            raise RuntimeError("evaluator broke")

    failed = fs.add_generation_metrics(ret, work, Failing())
    assert failed["gen_error"] == "RuntimeError: evaluator broke" and failed["gen_wall_seconds"] >= 0.3
    assert "gen_fid" not in failed and fs.elapsed_hours([dict(failed, started=0.0, finished=0.0)]) > 0
    (work / "retrieved.pkl").unlink()
    err = fs.add_generation_metrics(ret, work, ev)["gen_error"]
    assert "neither synthetic.pkl nor retrieved.pkl" in err and str(work) in err


def test_finished_cells_are_not_rerun_and_legacy_rows_count(tmp_path, capsys):
    results = tmp_path / "few_shot.json"
    # a row as benchmarks/har_few_shot.py wrote them before few_shot.py existed (no variant, no cfg_options)
    legacy = {"dataset": "msr_action3d", "split": "xsub", "arm": "real", "shots": 1, "seed": 0,
              "top1_last": 0.19047619047619047, "top1_best": 0.19047619047619047, "mean1_last": 0.18268398268398273,
              "top5_last": 0.46153846153846156, "best_iter": 600, "last_iter": 600, "seconds": 237.4,
              "model": "stgcn_small", "config": "configs/stgcn/stgcn_msr_xsub_1shot.py",
              "source": "benchmarks/har_few_shot.py"}
    variant = fs.replace(fs.FULL, results=results, work_root=tmp_path / "w", log_dir=tmp_path / "logs",
                         seeds=(legacy["seed"],), shots=(str(legacy["shots"]),), arms=(legacy["arm"], "real+kinemic"))
    kin = fs.build_record("real+kinemic", legacy["shots"], legacy["seed"], _summary(), 1.0,
                          fs.config_for("real+kinemic", legacy["shots"]), fs.options_for("real+kinemic", variant),
                          "full", _report())
    merge_records(results, [legacy, dict(kin, gen_fid=3.0)])
    assert fs.run_variant(variant, {}) == []       # both finished: no child process, nothing new
    out = capsys.readouterr().out
    assert out.count("done, skipped") == 2
    assert load_records(results)[0] == legacy      # untouched


def test_har_few_shot_is_a_thin_entry():
    from benchmarks import har_few_shot

    argv = har_few_shot.legacy_argv(["--seeds", "3"])
    assert argv[argv.index("--arms") + 1:argv.index("--arms") + 3] == ["real", "real+classic"]
    assert argv[argv.index("--work-root") + 1].endswith("work_dirs/har_few_shot")
    assert har_few_shot.legacy_argv(["--arms", "real"]).count("--arms") == 1
    assert har_few_shot.config_for("real+classic", None).name == "stgcn_msr_xsub_full_classic.py"


# ------------------------------------------------------------------------------ reports
def test_report_names_missing_cells_and_shows_generation_and_speed(tmp_path):
    results = tmp_path / "few_shot.json"
    cfg = fs.config_for("real", 5)
    rows = [fs.build_record("real", 5, s, _summary(0.5 + s / 100), 100.0, cfg, {}, "full") for s in (0, 1, 2)]
    ref = {"fid": 0.8, "diversity": 5.0, "multimodality": 3.0, "eval_acc": 0.7, "n": 273, "evaluator": "abc",
           "n_train": 284}
    kin = fs.build_record("real+kinemic", 5, 0, _summary(0.3), 400.0, fs.config_for("real+kinemic", 5),
                          {AUG + "variant": "kinemic"}, "full", _report())
    kin.update(gen_fid=12.5, gen_diversity=4.0, gen_multimodality=2.0, gen_eval_acc=0.25, gen_n=30, gen_reference=ref)
    bad = fs.build_record("real+zeroshot", 5, 0, _summary(0.2), 50.0, fs.config_for("real+zeroshot", 5), {}, "full",
                          _report())
    bad["gen_error"] = "no synthetic.pkl"
    merge_records(results, rows + [kin, bad])
    fs.write_reports(results, fs.FULL)
    md = results.with_suffix(".md").read_text()
    assert results.with_suffix(".png").stat().st_size > 1000
    assert "**Missing cells**" in md
    assert "`real+kinemic`: 1-shot (seeds 0, 1, 2), 3-shot (seeds 0, 1, 2), 5-shot (seeds 1, 2), 10-shot" in md
    assert "`real+finetune`: all 12 cells" in md
    assert "| real | 51.0 ± 1.0 (n=3) |" in md                                # headline row, mean ± std (n)
    assert "| real+finetune | – |" in md                                      # absent arm shown as empty
    assert "| real+kinemic | 5-shot | 12.50 (n=1) |" in md                    # generation table; one run, no spread
    assert "reference: real xsub_test vs real xsub_train" in md and "| 0.80 |" in md
    assert "real_zeroshot_5shot_s0: no synthetic.pkl" in md
    assert "| real+kinemic | 5-shot | 20.0 (n=1) | 5.00 (n=1) | 400 (n=1) |" in md  # speed
    assert "`train_dataloader.dataset.augmenter.variant=kinemic`" in md       # recipe from the records / ARMS


def test_recipe_lists_the_options_of_recorded_arms_outside_the_grid(tmp_path):
    """A probe runs arms the grid does not name (``kinemic-only``); its options (the engine, say) must reach the
    report, not only the JSON rows."""
    results = tmp_path / "few_shot_budget.json"
    opts = {**fs.options_for("kinemic-only", fs.BUDGET), AUG + "adapt.engine": "fast"}
    merge_records(results, [fs.build_record("kinemic-only", 3, 0, _summary(0.5), 10.0,
                                            fs.config_for("kinemic-only", 3), opts, "budget", _report())])
    assert "kinemic-only" not in fs.BUDGET.arms
    fs.write_reports(results, fs.BUDGET)
    recipe = results.with_suffix(".md").read_text().split("## Recipe")[1]
    line = next(x for x in recipe.splitlines() if x.startswith("  - `kinemic-only`"))
    assert "`train_dataloader.dataset.augmenter.adapt.engine=fast`" in line


def test_small_report_says_it_is_a_check(tmp_path):
    results = tmp_path / "few_shot_small.json"
    merge_records(results, [fs.build_record("real", 5, 0, _summary(), 10.0, fs.config_for("real", 5),
                                            fs.options_for("real", fs.SMALL), "small")])
    fs.write_reports(results, fs.SMALL)
    md = results.with_suffix(".md").read_text()
    assert "SMALL variant (smoke/regression check, not the headline)" in md
    assert "`real+zeroshot`: all 1 cell" in md and "real+classic" not in md.split("## Recipe")[0]
    assert "`train_cfg.max_iters=120`" in md


# ------------------------------------------------------------------------------ generation metrics
def test_generation_metrics_on_known_feature_sets():
    rng = np.random.default_rng(0)
    real = rng.normal(size=(400, 8))
    same = gm.metrics_from_features(real, real, np.zeros(400, int))
    assert abs(same["gen_fid"]) < 1e-6
    shifted = gm.metrics_from_features(real, real + 3.0, np.zeros(400, int))
    assert shifted["gen_fid"] == pytest.approx(8 * 9.0, rel=1e-6)            # |Δμ|² with equal covariances
    assert shifted["gen_diversity"] == pytest.approx(same["gen_diversity"])   # a shift keeps pair distances
    labels = np.repeat(np.arange(4), 3)
    probs = np.eye(4)[[0, 0, 0, 1, 1, 2, 2, 2, 2, 3, 3, 3]]
    small = gm.metrics_from_features(real, rng.normal(size=(12, 8)), labels, probs)
    assert "exact over all 66 pairs" in small["gen_notes"]["diversity"]       # 66 < 300 pairs: exact mean
    assert small["gen_eval_acc"] == pytest.approx(11 / 12) and small["gen_n"] == 12
    one = gm.metrics_from_features(real, real[:1], [0])
    assert one["gen_fid"] is None and "at least 2" in one["gen_notes"]["fid"]
    assert one["gen_diversity"] is None and one["gen_multimodality"] is None


def test_generation_metrics_refuse_mismatched_probabilities():
    from kinemic_aug.errors import DataError

    with pytest.raises(DataError, match="probs"):
        gm.metrics_from_features(np.ones((3, 2)) + np.eye(3, 2), np.ones((4, 2)), [0] * 4, np.ones((3, 2)))


# ------------------------------------------------------------------------------ the augmenter's report
def test_wrapper_writes_report_and_synthetic_pickle_that_the_evaluator_embeds(msr_pkl, tiny_generator, tmp_path):
    import har.mm  # noqa: F401
    from kinemic_aug.data.pyskl import load_pyskl
    from kinemic_aug.integrations.mmengine import KineMICAugmentedDataset

    pipe = [dict(type="PreNormalize3D"), dict(type="GenSkeFeat", feats=["j"]),
            dict(type="UniformSample", clip_len=16, num_clips=2, test_mode=True), dict(type="PoseDecode"),
            dict(type="FormatGCNInput", num_person=1), dict(type="PackGCNInputs")]
    inner = dict(type="PoseDataset", ann_file=str(msr_pkl), layout="msr_action3d", num_classes=20,
                 split="xsub_train", few_shot=dict(shots=1, seed=0, classes=[0, 4, 14]), pipeline=pipe)
    aug = dict(labels="msr_action3d", synthetic_per_class=3, generator=str(tiny_generator["path"]),
               corpus=tiny_generator["corpus"], cache_dir=str(tmp_path / "cache"),
               adapt=dict(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2),
               synthesis=dict(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9, bone_cv_max=1e9))
    KineMICAugmentedDataset(inner, aug, report_dir=str(tmp_path / "work"))
    report = json.loads((tmp_path / "work" / "kinemic_report.json").read_text())
    assert report["num_real"] == 3 and report["num_synthetic"] == 9 and report["variant"] == "kinemic"
    assert report["real_repeat"] == 1 and report["num_real_unique"] == 3
    assert [c["class_id"] for c in report["classes"]] == [0, 4, 14]
    assert all(c["generated"] == 3 and c["adapt_seconds"] > 0 for c in report["classes"])
    extras = fs.kinemic_extras(report)
    assert extras["n_synthetic"] == 9 and extras["filter"]["kept"] == 9 and extras["adapt_cached_classes"] == 0
    data = load_pyskl(tmp_path / "work" / "synthetic.pkl")
    assert len(data["split"]["synthetic"]) == 9 and data["meta"]["synthetic"] is True
    assert all(a["is_synthetic"] and a["frame_dir"].startswith("synthetic_") for a in data["annotations"])

    # same shots again, real shots listed twice: adapters come from the cache and the extras say so
    KineMICAugmentedDataset(inner, aug, report_dir=str(tmp_path / "again"), real_repeat=2)
    again = fs.kinemic_extras(json.loads((tmp_path / "again" / "kinemic_report.json").read_text()))
    assert again["n_real"] == 3 and again["kinemic_options"]["real_repeat"] == 2
    assert again["adapt_cached_classes"] == 3 and again["adapt_seconds_per_class"] is None
    assert again["synth_cached_classes"] == 3 and again["synth_per_second"] is None

    # the evaluator's embedding path on that pickle (an untrained, tiny evaluator: shapes and wiring only)
    ev = _tiny_evaluator(tmp_path, num_clips=(), pipeline=pipe)
    feats, probs, labels = gm.embed(ev, tmp_path / "work" / "synthetic.pkl", "synthetic", batch_size=4)
    assert feats.shape == (9, 16) and probs.shape == (9, 20)
    assert np.allclose(probs.sum(1), 1.0, atol=1e-5)
    assert sorted(set(labels.tolist())) == [0, 4, 14]


def _tiny_evaluator(tmp_path, num_clips=(1, 2), pipeline=None):
    """An untrained tiny evaluator over MSR's test pipeline (or ``pipeline``), with cached random real features
    for each of ``num_clips`` (no data read)."""
    import torch

    import har.mm  # noqa: F401
    from har.registry import MODELS
    from har.training import load_config

    cfg = load_config(REPO / "configs/stgcn/stgcn_msr_xsub_full.py")
    cfg.model.backbone.update(base_channels=8, num_stages=3, inflate_stages=[2], down_stages=[2, 3])
    cfg.model.cls_head.update(in_channels=16)
    if pipeline is not None:
        cfg.val_dataloader.dataset.pipeline = pipeline
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).eval()
    rng = np.random.default_rng(0)
    for n in num_clips:
        np.savez(tmp_path / f"real_features_{n}clip.npz", train_feats=rng.normal(size=(40, 16)),
                 test_feats=rng.normal(size=(30, 16)), test_probs=np.full((30, 20), 0.05),
                 test_labels=np.arange(30) % 20)
    return gm.Evaluator(tmp_path, REPO / "configs/stgcn/stgcn_msr_xsub_full.py", {}, model, cfg, {"key": "tiny"})


def _synthetic_pickle(path, keypoints, names="s"):
    from kinemic_aug.data.pyskl import save_pyskl

    anns = [dict(frame_dir=f"synthetic_{names}{i}", filename="", label=i % 3, keypoint=kp.astype(np.float32),
                 total_frames=kp.shape[1], is_synthetic=True) for i, kp in enumerate(keypoints)]
    save_pyskl({"split": {"synthetic": [a["frame_dir"] for a in anns]}, "annotations": anns,
                "meta": {"synthetic": True}}, path, layout="msr_action3d", num_classes=20)
    return path


def test_generation_metrics_are_cached_by_sample_content_clip_count_and_seed(tmp_path):
    ev = _tiny_evaluator(tmp_path)
    assert [t["num_clips"] for t in gm.test_pipeline(ev, 1) if t["type"] == "UniformSample"] == [1]
    assert [t["num_clips"] for t in gm.test_pipeline(ev) if t["type"] == "UniformSample"] == [10]  # the config's
    with pytest.raises(ValueError, match="num_clips must be >= 1"):
        gm.test_pipeline(ev, 0)
    rng = np.random.default_rng(1)
    kps = [rng.normal(size=(1, 24, 20, 3)) for _ in range(6)]
    a = _synthetic_pickle(tmp_path / "a.pkl", kps)
    first = gm.synthetic_metrics(ev, a, num_clips=1)
    assert first["gen_cached"] is False and first["gen_clips"] == 1 and first["gen_n"] == 6
    # the same samples under other names (a second cell served them by the augmenter cache): read back
    b = _synthetic_pickle(tmp_path / "b.pkl", kps, names="other")
    again = gm.synthetic_metrics(ev, b, num_clips=1)
    assert again["gen_cached"] is True
    assert {k: again[k] for k in ("gen_fid", "gen_diversity", "gen_eval_acc")} == \
        {k: first[k] for k in ("gen_fid", "gen_diversity", "gen_eval_acc")}
    # one keypoint changed, another clip count, another seed or another metrics version: measured anew
    d0, version = gm.samples_digest(a), gm.METRICS_VERSION
    assert first["gen_digest"].startswith(d0) and gm.samples_digest(b) == d0
    try:
        gm.METRICS_VERSION = version + 1
        assert gm.samples_digest(a) != d0
    finally:
        gm.METRICS_VERSION = version
    moved = [k.copy() for k in kps]
    moved[3][0, 5, 2, 1] += 0.01
    assert gm.synthetic_metrics(ev, _synthetic_pickle(tmp_path / "c.pkl", moved), num_clips=1)["gen_cached"] is False
    two = gm.synthetic_metrics(ev, a, num_clips=2)
    assert two["gen_cached"] is False and two["gen_clips"] == 2
    assert gm.synthetic_metrics(ev, a, num_clips=1, seed=1)["gen_cached"] is False
    assert gm.synthetic_metrics(ev, a, num_clips=1, cache=False)["gen_cached"] is False
    # a damaged entry is measured again and rewritten, never trusted
    entry = tmp_path / "synthetic_metrics" / f"{first['gen_digest']}.json"
    entry.write_text("{not json")
    redo = gm.synthetic_metrics(ev, a, num_clips=1)
    assert redo["gen_cached"] is False and redo["gen_fid"] == first["gen_fid"]
    assert json.loads(entry.read_text())["gen_fid"] == first["gen_fid"]


# ------------------------------------------------------------------------------ entry points
def test_benchmarks_run_help_and_plan():
    out = subprocess.run([sys.executable, "-m", "benchmarks.run", "--help"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0 and "--small" in out.stdout
    plan = subprocess.run([sys.executable, "-m", "benchmarks.run", "--small", "--list"], cwd=REPO, capture_output=True,
                          text=True)
    assert plan.returncode == 0
    lines = plan.stdout.splitlines()
    assert lines[0].startswith("few_shot:") and "-m benchmarks.few_shot --small" in lines[1]
    assert "benchmarks/results/small" in plan.stdout and "har_throughput" not in plan.stdout
    bad = subprocess.run([sys.executable, "-m", "benchmarks.run", "--only", "nope"], cwd=REPO, capture_output=True,
                         text=True)
    assert bad.returncode != 0 and "unknown benchmark 'nope'" in bad.stderr


@pytest.mark.slow
def test_small_variant_end_to_end_with_tiny_budgets(msr_pkl, tmp_path):
    """--small through tools/train.py for real and real+kinemic with tiny budgets, then generation metrics."""
    results = tmp_path / "few_shot_small.json"
    tiny = ["train_cfg.max_iters=10", "train_cfg.val_interval=10", "param_scheduler.1.T_max=10",
            "param_scheduler.1.end=10", AUG + "adapt.steps=1", AUG + "synthetic_per_class=2",
            AUG + "synthesis.steps=5", f"{AUG}cache_dir={tmp_path / 'cache'}"]
    fs.main(["--small", "--arms", "real", "real+kinemic", "--results", str(results), "--work-root", str(tmp_path / "w"),
             "--log-dir", str(tmp_path / "logs"), "--evaluator-root", str(tmp_path / "ev"), "--cfg-options", *tiny,
             "--evaluator-options", "train_cfg.max_iters=10", "train_cfg.val_interval=10",
             "param_scheduler.1.T_max=10", "param_scheduler.1.end=10"])
    rows = {r["arm"]: r for r in load_records(results)}
    assert set(rows) == {"real", "real+kinemic"}
    kin = rows["real+kinemic"]
    assert kin["last_iter"] == 10 and kin["n_real"] == 100 and 2 <= kin["n_synthetic"] <= 40  # the filter may drop some
    assert kin["filter"]["kept"] == kin["n_synthetic"] == kin["gen_n"]
    assert kin["gen_fid"] is not None and 0.0 <= kin["gen_eval_acc"] <= 1.0
    assert kin["gen_reference"]["n"] == 273 and kin["gen_reference"]["n_train"] == 284
    assert (tmp_path / "w" / "real_kinemic_5shot_s0" / "kinemic_report.json").exists()
    md = results.with_suffix(".md").read_text()
    assert "SMALL variant" in md and "`real+zeroshot`: all 1 cell" in md


def test_kinemic_e2e_report_reads_the_cell_and_refuses_a_missing_one(tmp_path):
    import json as _json
    from benchmarks.kinemic_e2e import build, markdown
    work = tmp_path / "work"
    results = tmp_path / "few_shot.json"
    with pytest.raises(FileNotFoundError, match="run `python -m benchmarks.few_shot"):
        build(10, 0, work_root=work, results=results)
    cell = work / "real_kinemic_10shot_s0"
    cell.mkdir(parents=True)
    classes = [{"class_id": c, "name": f"class {c}", "shots": 10, "adapt_seconds": 60.0 + c, "synth_seconds": 5.0,
                "generated": 20, "dropped_static": 1, "dropped_exploding": 2, "top1_similarity": 0.5} for c in range(3)]
    (cell / "kinemic_report.json").write_text(_json.dumps({
        "variant": "kinemic", "num_real_unique": 30, "real_repeat": 2, "num_synthetic": 60, "augment_seconds": 300.0,
        "synthetic_per_class": 20, "classes": classes,
        "adapt": {"mode": "per_class", "steps": 60, "batch_size": 16, "lr": 1e-4, "lora_rank": 16},
        "synthesis": {"steps": 20, "guidance": 2.5, "shot_strength": 1.0}}))
    base = {"dataset": "msr_action3d", "split": "xsub", "shots": 10, "seed": 0, "top1_best": 0.5}
    results.write_text(_json.dumps([dict(base, arm="real", top1_last=0.6),
                                    dict(base, arm="real+kinemic", top1_last=0.55, seconds=900.0, train_seconds=240.0)]))
    d = build(10, 0, work_root=work, results=results)
    assert d["adapt_seconds_total"] == pytest.approx(183.0) and d["compare"]["real"] == 0.6
    assert d["compare"]["real+classic"] is None
    md = markdown(d)
    assert "| real | 60.0 % |" in md and "**55.0 %**" in md and "| 2 class 2 | 10 | 62 |" in md
    assert "SYNTHETIC" in md and "from the cache" not in md
    # a class whose adapter came from the cache is said so, with the generator the report names
    rep = _json.loads((cell / "kinemic_report.json").read_text())
    rep["classes"][1]["adapt_cached"] = True
    rep.update(generator_step=8000, generator_sha256="6cd0de96" + "0" * 56)
    (cell / "kinemic_report.json").write_text(_json.dumps(rep))
    md = markdown(build(10, 0, work_root=work, results=results))
    assert "adapters of 1 of the 3 classes came from the cache" in md and "training step 8000, sha256 `6cd0de96…`" in md
    # the work dir holds a newer run than the recorded row: refused rather than mixed
    rows = _json.loads(results.read_text())
    rows[1].update(generator_sha256="f" * 64)
    results.write_text(_json.dumps(rows))
    with pytest.raises(LookupError, match="generator_sha256.*is not from the run recorded"):
        build(10, 0, work_root=work, results=results)
    rows[1].update(generator_sha256="6cd0de96" + "0" * 56, augment_seconds=299.0)
    results.write_text(_json.dumps(rows))
    with pytest.raises(LookupError, match="augment_seconds"):
        build(10, 0, work_root=work, results=results)


def test_difference_section_pairs_by_seed_from_unrounded_values():
    base = {"dataset": "msr_action3d", "split": "xsub"}
    acc = {("real", 0): 130 / 273, ("real", 1): 126 / 273, ("real", 2): 121 / 273,      # counts of 273 test clips
           ("real+kinemic", 0): 87 / 273, ("real+kinemic", 1): 91 / 273, ("real+kinemic", 2): 97 / 273,
           ("real+finetune", 2): 0.40}
    rows = [dict(base, arm=a, shots=3, seed=sd, top1_last=v) for (a, sd), v in acc.items()]
    rows.append(dict(base, arm="real+finetune", shots=5, seed=0, top1_last=0.5))   # no real cell to pair with
    md = "\n".join(fs.difference_section(rows, ["real", "real+kinemic", "real+finetune"]))
    # -43/273 = -15.75 points; differencing the rounded cells (31.9 - 47.6) would give -15.7
    assert "| real+kinemic | −15.8 / −12.8 / −8.8 (mean −12.5) | – |" in md
    assert "| real+finetune | s2 −4.3 | – |" in md                                  # the lone seed is named
    assert "| real |" not in md
    assert fs.difference_section([dict(base, arm="real", shots=3, seed=0, top1_last=0.4)], ["real"]) == []
    # the ablations are also paired with KineMIC itself
    rows.append(dict(base, arm="real+kinemic-noweight", shots=3, seed=1, top1_last=94 / 273))
    md = "\n".join(fs.difference_section(rows, ["real+kinemic-noweight"], base="real+kinemic", title="Ablations minus"))
    assert "## Ablations minus `real+kinemic`" in md and "| real+kinemic-noweight | s1 +1.1 |" in md



def test_control_section_pairs_each_pretrained_arm_with_its_step_matched_control():
    base = {"dataset": "utd_mhad", "split": "xsub"}
    acc = {("real-restart", 1, 0): 0.20, ("real+kinemic-pretrained", 1, 0): 0.35,
           ("real-restart", 1, 1): 0.25, ("real+kinemic-pretrained", 1, 1): 0.30,
           ("real+classic-restart", 3, 0): 0.70, ("real+classic+kinemic-pretrained", 3, 0): 0.65,
           ("real", 1, 0): 0.10}
    rows = [dict(base, arm=a, shots=k, seed=sd, top1_last=v) for (a, k, sd), v in acc.items()]
    arms = ["real", "real+kinemic-pretrained", "real+classic+kinemic-pretrained", "real-restart",
            "real+classic-restart"]
    md = "\n".join(fs.control_section(rows, arms))
    assert "| real+kinemic-pretrained − real-restart | +15.0 / +5.0 (mean +10.0) | – |" in md
    assert "| real+classic+kinemic-pretrained − real+classic-restart | – | −5.0 |" in md
    assert "| real −" not in md                                        # an arm without a control has no row
    # without its control in the run's arms, a pretrained arm is not paired
    assert fs.control_section(rows, ["real", "real+kinemic-pretrained"]) == []
    assert fs.ARMS["real+kinemic-pretrained"].control == "real-restart"

# ------------------------------------------------------------------------------ datasets and stages
UTD = "utd_mhad"


def _data_or_skip(name):
    from kinemic_aug.data.datasets import get_dataset_spec

    spec = get_dataset_spec(name)
    if not spec.pickle_path().is_file():
        pytest.skip(f"{spec.title} pickle not found at {spec.pickle_path()} (research data, not shipped)")
    return spec


@pytest.mark.parametrize("arm", list(fs.ARMS))
def test_every_arm_has_its_utd_configs(arm):
    for k in (1, 3, 5, 10):
        path = fs.config_for(arm, k, UTD)
        assert path.exists() and "stgcn_utd_xsub" in path.name
    if fs.ARMS[arm].full:
        assert fs.config_for(arm, None, UTD).name.startswith("stgcn_utd_xsub_full")


def test_a_results_file_of_its_own_gets_a_log_dir_and_work_root_of_its_own(tmp_path):
    parse = fs.build_parser().parse_args
    own = fs.make_variant(parse(["--budget", "--stage", "val", "--results", str(tmp_path / "probe_a.json")]))
    assert own.log_dir == tmp_path / "logs" / "probe_a"
    other = fs.make_variant(parse(["--budget", "--stage", "val", "--results", str(tmp_path / "probe_b.json")]))
    assert other.log_dir != own.log_dir
    named = fs.make_variant(parse(["--results", str(tmp_path / "probe_a.json"), "--log-dir", str(tmp_path / "x")]))
    assert named.log_dir == tmp_path / "x"
    assert fs.make_variant(parse(["--budget"])).log_dir == fs.variant_for(name="budget2").log_dir
    assert fs.make_variant(parse(["--budget", "1"])).log_dir == fs.variant_for(name="budget").log_dir
    # and cell dirs of its own, while the adapters stay shared through the variant's augmenter cache
    assert own.work_root == fs.REPO / "work_dirs" / "probe_a" and other.work_root != own.work_root
    assert own.kinemic_options == fs.variant_for(stage="val", name="budget2").kinemic_options
    assert fs.make_variant(parse(["--results", str(tmp_path / "p.json"), "--work-root", str(tmp_path / "w")])
                           ).work_root == tmp_path / "w"
    assert fs.make_variant(parse(["--budget"])).work_root == fs.variant_for(name="budget2").work_root
    # a results file of its own is a probe; naming the variant's own file is not
    assert own.probe and named.probe and not fs.make_variant(parse(["--budget"])).probe
    b2 = fs.variant_for(name="budget2")
    itself = fs.make_variant(parse(["--budget", "--results", str(b2.results)]))
    assert not itself.probe and (itself.log_dir, itself.work_root) == (b2.log_dir, b2.work_root)   # its own logs


def test_a_probe_report_says_so_and_lists_no_missing_cells(tmp_path):
    parse = fs.build_parser().parse_args
    results = tmp_path / "probe.json"
    v = fs.make_variant(parse(["--budget", "--results", str(results), "--seeds", "0", "--shots", "3"]))
    rec = fs.build_record("real", 3, 0, _summary(), 1.0, fs.config_for("real", 3), {}, "budget2")
    merge_records(results, [rec])
    fs.write_reports(results, v)
    md = results.with_suffix(".md").read_text()
    first = md.splitlines()[0]
    assert "a probe on the 4-hour grid's recipe (`--budget` with the options" in first and "the 4-hour grid" not in \
        first.replace("the 4-hour grid's", "")
    assert "A probe: 1 cell in a results file of its own" in md and "**Missing cells**" not in md
    grid = fs.replace(v, probe=False)
    fs.write_reports(results, grid)
    md = results.with_suffix(".md").read_text()
    assert md.splitlines()[0].endswith(": the 4-hour grid") and "**Missing cells**" in md


def test_relative_work_root_and_log_dir_mean_the_launchers_cwd_for_every_child(tmp_path, monkeypatch):
    # the cells run from the repository root, so a relative path kept as given would name another folder
    monkeypatch.chdir(tmp_path)
    v = fs.make_variant(fs.build_parser().parse_args(["--work-root", "w", "--log-dir", "l"]))
    assert v.work_root == tmp_path.resolve() / "w" and v.log_dir == tmp_path.resolve() / "l"
    assert fs.judge_options("real+kinemic-filtered", 3, 0, v)[fs.CONSISTENCY + "checkpoint"].startswith(
        str(tmp_path.resolve() / "w"))


def test_msr_keeps_its_files_and_other_datasets_and_stages_get_their_own():
    assert fs.variant_for() == fs.FULL and fs.variant_for(small=True) == fs.SMALL
    utd = fs.variant_for(UTD)
    assert utd.results.name == "few_shot_utd_mhad.json" and utd.work_root.name == "few_shot_utd_mhad"
    assert utd.log_dir == fs.RESULTS_DIR / "logs" / UTD and utd.arms == fs.FULL.arms and utd.seeds == fs.FULL.seeds
    small = fs.variant_for(UTD, small=True)
    assert small.results.name == "few_shot_utd_mhad_small.json"
    assert small.kinemic_options[AUG + "cache_dir"] == "work_dirs/few_shot_utd_mhad_small/kinemic_cache"
    assert fs.variant_for(stage="val").results.name == "few_shot_val.json"
    assert fs.variant_for(UTD, stage="val").log_dir == fs.RESULTS_DIR / "logs" / UTD / "val"
    assert (fs.row_split(utd), fs.row_split(fs.variant_for(UTD, stage="val"))) == ("xsub", "xsub_val")
    rec = fs.build_record("real", 5, 0, _summary(), 1.0, fs.config_for("real", 5, UTD), {}, "full",
                          dataset=UTD, split="xsub_val", stage="val")
    assert (rec["dataset"], rec["split"], rec["stage"]) == (UTD, "xsub_val", "val")
    assert fs.build_record("real", 5, 0, _summary(), 1.0, fs.config_for("real", 5), {}, "full")["stage"] == "test"


def test_utd_test_stage_reads_the_test_split_once_and_msr_keeps_its_schedule():
    from har.training import load_config

    for arm in ("real", "real+classic", "real+kinemic", "real+classic+kinemic-anchored"):
        cfg = load_config(fs.config_for(arm, 3, UTD), seed=0)
        assert cfg.train_cfg.val_interval == cfg.train_cfg.max_iters == 600
        inner = cfg.train_dataloader.dataset.get("dataset", cfg.train_dataloader.dataset)
        assert inner.few_shot.test_split == "xsub_test" and inner.layout == UTD and inner.num_classes == 27
    assert load_config(fs.config_for("real", 3), seed=0).train_cfg.val_interval == 200  # comparable with the records


@pytest.mark.parametrize("arm", ["real", "real+kinemic", "real+classic+kinemic-anchored"])
def test_val_stage_options_point_every_loader_at_the_stage_pickle(arm, tmp_path):
    from har.training import load_config

    stage_pkl = str(tmp_path / "utd_mhad_val_split.pkl")
    variant = fs.replace(fs.variant_for(UTD, stage="val"), ann_file=stage_pkl)
    cfg = load_config(fs.config_for(arm, 3, UTD), cfg_options=fs.cell_options(arm, 3, 1, variant), seed=1)
    train = cfg.train_dataloader.dataset
    if fs.ARMS[arm].kinemic:
        assert train.type == "KineMICAugmentedDataset"
        train = train.dataset
    assert (train.ann_file, train.split, train.few_shot.test_split) == (stage_pkl, "xsub_train_val_pool",
                                                                        "xsub_train_val")
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        assert (loader.dataset.ann_file, loader.dataset.split) == (stage_pkl, "xsub_train_val")
    assert "xsub_test" not in json.dumps(fs.cell_options(arm, 3, 1, variant))
    full = fs.cell_options("real", None, 1, variant)
    assert "train_dataloader.dataset.few_shot.test_split" not in full  # a full-data config has no draw
    assert fs.stage_options(arm, 3, fs.variant_for(UTD)) == {}         # the test stage: the configs' own splits
    with pytest.raises(RuntimeError, match="not prepared"):
        fs.stage_options(arm, 3, fs.variant_for(UTD, stage="val"))


def test_reports_are_per_dataset_with_paired_tables_vs_real_and_real_classic(tmp_path):
    results = tmp_path / "mixed.json"
    rows = []
    for ds, cfg_ds in ((fs.DATASET, fs.DATASET), (UTD, UTD)):
        for arm, acc in (("real", 0.40), ("real+classic", 0.50), ("real+kinemic", 0.45)):
            for seed in (0, 1):
                cfg = fs.config_for(arm, 5, cfg_ds)
                summ = {"last": {"acc/top1": acc + seed / 100 + (0.2 if ds == UTD else 0), "acc/mean1": acc,
                                 "iter": 600}, "best": {"acc/top1": acc + 0.3, "iter": 600 if ds == UTD else 400}}
                rows.append(fs.build_record(arm, 5, seed, summ, 10.0, cfg, {}, "full", dataset=ds))
    merge_records(results, rows)
    fs.write_reports(results, fs.variant_for(UTD))
    md = results.with_suffix(".md").read_text()
    assert md.startswith("# Few-shot HAR on UTD-MHAD (cross-subject)") and "27 classes" in md
    assert "| real | 60.5 ± 0.7 (n=2) |" in md                  # UTD rows only (MSR's are 20 points lower)
    assert "## Difference from `real` on the same shots" in md and "| real+classic | +10.0 / +10.0 (mean +10.0) |" in md
    assert "## Difference from `real+classic` on the same shots" in md
    assert "| real+kinemic | −5.0 / −5.0 (mean −5.0) |" in md
    assert "validated once, at its last step" in md            # one validation: no best-validation table
    assert "`configs/kinemic/stgcn_utd_xsub_{shots}_kinemic.py`" in md and "utd_default.py" in md
    assert "For orientation" not in md and "kinemic_probe" not in md  # MSR-only notes stay on MSR
    assert results.with_suffix(".png").stat().st_size > 1000
    fs.write_reports(results, fs.FULL)
    md = results.with_suffix(".md").read_text()
    assert md.startswith("# Few-shot HAR on MSR Action3D (cross-subject)") and "| real | 40.5 ± 0.7 (n=2) |" in md
    assert "## Top-1 at the best validation (optimistic: selected on the test split)" in md
    val = tmp_path / "val.json"
    merge_records(val, [dict(r, split="xsub_val", stage="val") for r in rows if r["dataset"] == UTD])
    fs.write_reports(val, fs.variant_for(UTD, stage="val"))
    md = val.with_suffix(".md").read_text()
    assert "validation stage (training subject 7 held out; the test split is not read)" in md
    assert "scored on" in md and "`xsub_train_val` sequences" in md and "not measured in the val stage" in md


def test_the_msr_report_is_rebuilt_unchanged_from_its_json(tmp_path):
    """``few_shot.md`` is a function of ``few_shot.json`` (and of MSR's split sizes, read from the pickle)."""
    _data_or_skip(fs.DATASET)
    src = fs.RESULTS_DIR / "few_shot.json"
    results = tmp_path / "few_shot.json"
    results.write_bytes(src.read_bytes())
    fs.write_reports(results, fs.replace(fs.FULL, results=results))
    assert results.with_suffix(".md").read_text() == src.with_suffix(".md").read_text()


def test_bad_input_stops_the_run_before_any_cell_trains(tmp_path):
    import pickle

    common = ["--results", str(tmp_path / "r.json"), "--work-root", str(tmp_path / "w"), "--log-dir",
              str(tmp_path / "logs"), "--arms", "real", "--shots", "1", "--seeds", "0"]
    with pytest.raises(SystemExit, match="unknown dataset 'msr_typo'.*msr_action3d"):
        fs.main(["--dataset", "msr_typo", *common])
    from kinemic_aug.data.datasets import get_dataset_spec

    missing = dict(get_dataset_spec(UTD).to_dict(), name="utd_copy", pickle=str(tmp_path / "absent.pkl"), env=None)
    spec_file = tmp_path / "utd_copy.json"
    spec_file.write_text(json.dumps(missing))
    with pytest.raises(SystemExit, match="absent.pkl.*pickle not found"):
        fs.main(["--dataset", str(spec_file), *common])
    # a leaking split (subject 1 in train and test): SYNTHETIC joints
    anns = [{"frame_dir": f"a{c}_s{s}", "label": c, "subject": s, "total_frames": 8,
             "keypoint": np.zeros((1, 8, 20, 3), np.float32) + c} for c in range(27) for s in (1, 2)]
    leak = tmp_path / "leak.pkl"
    leak.write_bytes(pickle.dumps({"annotations": anns, "split": {"xsub_train": [a["frame_dir"] for a in anns],
                                                                  "xsub_test": [anns[0]["frame_dir"]]}}))
    spec_file.write_text(json.dumps(dict(missing, name="utd_leak", pickle=str(leak))))
    with pytest.raises(SystemExit, match=r"subjects \[1\] appear in both 'xsub_train' and 'xsub_test'"):
        fs.main(["--dataset", str(spec_file), *common])
    with pytest.raises(SystemExit, match="positive integers"):
        fs.main(["--shots", "0", *common[:-4]])
    assert not (tmp_path / "logs").exists() and not (tmp_path / "r.json").exists()   # nothing ran


def test_too_many_shots_and_a_config_on_other_data_are_refused_before_training(tmp_path):
    _data_or_skip(UTD)
    from kinemic_aug.data.datasets import get_dataset_spec

    common = ["--results", str(tmp_path / "r.json"), "--work-root", str(tmp_path / "w"), "--log-dir",
              str(tmp_path / "logs"), "--arms", "real", "--seeds", "0", "--dataset", UTD]
    with pytest.raises(SystemExit, match="20 shots exceed every class in 'xsub_train'"):
        fs.main([*common, "--shots", "20"])
    with pytest.raises(SystemExit, match="has only 15 samples in 'xsub_train', fewer than 16 shots"):
        fs.main([*common, "--shots", "16"])
    with pytest.raises(SystemExit, match="has only 11 samples in 'xsub_train_val_pool', fewer than 12"):
        fs.main([*common, "--shots", "12", "--stage", "val"])
    with pytest.raises(DataError, match="the config reads .*msr_action3d_skeleton.pkl, but dataset 'utd_mhad'"):
        fs.check_config_matches(get_dataset_spec(UTD), fs.config_for("real", 5))
    assert not (tmp_path / "logs").exists()


def test_the_val_stage_pickle_holds_only_training_subjects(tmp_path):
    _data_or_skip(UTD)
    from kinemic_aug.data.pyskl import load_pyskl

    variant = fs.replace(fs.variant_for(UTD, stage="val"), work_root=tmp_path / "w")
    ready = fs.prepare(variant, [("real", 1, 0)])
    data = load_pyskl(ready.ann_file)
    assert {a["subject"] for a in data["annotations"]} == {1, 3, 5, 7}
    assert set(data["split"]) == {"xsub_train", "xsub_train_val_pool", "xsub_train_val"}


@pytest.mark.slow
def test_utd_val_stage_end_to_end_with_tiny_budgets(tmp_path):
    """One real UTD-MHAD cell of the val stage through tools/train.py (10 steps): its row and what it read."""
    _data_or_skip(UTD)
    results = tmp_path / "val.json"
    tiny = ["train_cfg.max_iters=10", "train_cfg.val_interval=10", "param_scheduler.1.T_max=10",
            "param_scheduler.1.end=10"]
    fs.main(["--dataset", UTD, "--stage", "val", "--arms", "real", "--shots", "1", "--seeds", "0", "--results",
             str(results), "--work-root", str(tmp_path / "w"), "--log-dir", str(tmp_path / "logs"),
             "--cfg-options", *tiny])
    (row,) = load_records(results)
    assert (row["dataset"], row["split"], row["stage"], row["last_iter"]) == (UTD, "xsub_val", "val", 10)
    assert row["cfg_options"]["val_dataloader.dataset.split"] == "xsub_train_val"
    assert results.with_suffix(".md").exists() and "validation stage" in results.with_suffix(".md").read_text()


def test_the_paper_arm_builds_the_paper_preset_with_its_cpu_budget(tmp_path, msr_pkl):
    """The arm's options, parsed as tools/train.py reads them, reach the wrapper as the paper preset with the
    budget the arm states, and its augmenter is the preset's (joint adapter, DDPM chain, mirrored counts)."""
    from har.training import load_config
    from kinemic_aug.augmenter.presets import preset_kwargs

    opts = fs.options_for("real+kinemic-paper", fs.FULL)
    cmd = train_command(fs.config_for("real+kinemic-paper", 1), 0, tmp_path / "w", opts)
    parsed = _train_parse_args(cmd[2:]).cfg_options
    cfg = load_config(fs.config_for("real+kinemic-paper", 1), cfg_options=parsed, seed=0)
    aug = cfg.train_dataloader.dataset.augmenter.to_dict()
    assert aug["preset"] == "paper" and aug["synthetic_per_class"] == "mirror" and aug["adapt"]["steps"] == 600
    kw = preset_kwargs(aug.pop("preset"), aug)
    assert kw["adapt"].mode == "joint" and kw["adapt"].steps == 600 and kw["adapt"].lr == 2e-5
    assert kw["synthesis"].sampler == "ddpm" and kw["target_norm"] == "generalist"
    assert "600 of its 10,000" in fs.ARMS["real+kinemic-paper"].description
    assert "real+kinemic-paper" in fs.EXTRA_ARMS  # on request only


def test_results_merged_by_two_processes_at_once_keep_every_row(tmp_path):
    """Two processes merging rows into the same results file concurrently lose none of them (results_lock)."""
    import multiprocessing as mp

    from benchmarks.common import load_records

    path = tmp_path / "r.json"
    ctx = mp.get_context("fork")
    procs = [ctx.Process(target=_merge_many, args=(str(path), w)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert all(p.exitcode == 0 for p in procs)
    assert len(load_records(path)) == 2 * 40


def _merge_many(path, worker):
    from benchmarks.common import merge_records

    for i in range(40):
        merge_records(path, [{"dataset": "d", "split": "s", "arm": f"w{worker}", "shots": i, "seed": 0}])


# ------------------------------------------------------------------------------ the 4-hour grid (--budget, --jobs)
def test_the_budget_grid_covers_the_issue_arms_with_ablations_at_3_and_10_shots_only():
    v = fs.variant_for(name="budget")
    cells = fs.expected_cells(v)
    arms = {a for a, _, _ in cells}
    assert arms == {"real", "real+classic", "real+zeroshot", "real+retrieved", "real+finetune", "real+kinemic",
                    "real+classic+kinemic", "real+kinemic-nocontrastive", "real+kinemic-noweight"}
    assert {k for a, k, _ in cells if a in fs.ABLATIONS} == {3, 10}
    assert {k for a, k, _ in cells if a == "real+kinemic"} == {1, 3, 5, 10} and None not in {k for _, k, _ in cells}
    assert len(cells) == (7 * 4 + 2 * 2) * 3
    assert v.results.name == "few_shot_budget.json"
    utd = fs.variant_for(UTD, name="budget")
    assert utd.results.name == "few_shot_utd_mhad_budget.json"
    assert utd.kinemic_options[AUG + "cache_dir"] == "work_dirs/few_shot_utd_mhad_budget/kinemic_cache"
    for variant, iters in ((v, 600), (utd, fs._schedule(fs.spec_of(UTD))[0])):
        kin, real = fs.options_for("real+kinemic", variant), fs.options_for("real", variant)
        assert kin[AUG + "adapt.mode"] == "joint" and kin[AUG + "adapt.steps"] == 200
        assert not any(k.startswith(AUG) for k in real)
        assert kin["train_cfg.val_interval"] == real["train_cfg.val_interval"] == iters  # one test read per cell
    # the two arms that share adapters get the same augmenter options (so the same cache keys)
    a, b = fs.options_for("real+kinemic", v), fs.options_for("real+classic+kinemic", v)
    assert {k: x for k, x in a.items() if k.startswith(AUG)} == {k: x for k, x in b.items() if k.startswith(AUG)}
    assert fs.config_for("real+classic+kinemic", 3).name == "stgcn_msr_xsub_3shot_classic_kinemic.py"
    with pytest.raises(SystemExit):
        fs.main(["--small", "--budget", "--dry-run"])


def test_the_second_budget_grid_is_the_default_and_the_first_stays_reachable(tmp_path):
    parse = fs.build_parser().parse_args
    v2, v1 = fs.make_variant(parse(["--budget"])), fs.make_variant(parse(["--budget", "1"]))
    assert (v2.name, v2.results.name, v1.name, v1.results.name) == ("budget2", "few_shot_budget2.json", "budget",
                                                                     "few_shot_budget.json")
    with pytest.raises(SystemExit, match="--budget takes one of"):
        fs.make_variant(parse(["--budget", "3"]))
    cells = fs.expected_cells(v2)
    assert "real+retrieved" not in {a for a, _, _ in cells} and len(cells) == (6 * 4 + 2 * 2) * 3
    utd = fs.variant_for(UTD, name="budget2")
    assert utd.results.name == "few_shot_utd_mhad_budget2.json" and utd.gen_clips == v2.gen_clips == 1
    assert utd.kinemic_options[AUG + "cache_dir"] == "work_dirs/few_shot_utd_mhad_budget2/kinemic_cache"
    for variant, iters in ((v2, 600), (utd, fs._schedule(fs.spec_of(UTD))[0])):
        kin, real = fs.options_for("real+kinemic", variant), fs.options_for("real", variant)
        for opts in (kin, real):   # the configs' classifier budget, validated (the test read) once, at its last step
            assert opts["train_cfg.val_interval"] == iters and "train_cfg.max_iters" not in opts
        assert kin[AUG + "adapt.engine"] == "fast" and kin[AUG + "generator"] == "bandai"
        assert kin[AUG + "corpus"] == "bandai+seed" and not any(k.startswith(AUG) for k in real)
    rec = fs.build_record("real", 3, 0, _summary(), 1.0, fs.config_for("real", 3), {}, "budget2")
    import torch

    assert rec["host"]["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and rec["host"]["cpus"] >= 1
    assert " on " + rec["host"]["cpu_capability"] + " CPUs (1 cell on a host not recorded)" in fs.budget_text(
        [rec, {k: v for k, v in rec.items() if k != "host"}], utd)
    extra = dict(rec, arm="kinemic-only", seconds=3600.0, started=0.0, finished=3600.0)
    timed = fs.budget_text([dict(rec, seconds=1800.0, started=0.0, finished=1800.0), extra], utd)
    assert "the 1 cell of the grid recorded here took 0.50 h of cell wall time in all, 0.50 h elapsed" in timed
    assert "The 1 other cell recorded here (run on request; arms `kinemic-only`) took 1.00 h more" in timed
    # a grid arm's cell outside the grid (here a seed the grid does not have) is not grid time either
    stray = dict(rec, seed=7, seconds=7200.0, started=0.0, finished=7200.0)
    timed = fs.budget_text([dict(rec, seconds=1800.0, started=0.0, finished=1800.0), extra, stray], utd)
    assert "0.50 h elapsed" in timed and "The 2 other cells recorded here (run on request; arms `real`, " \
        "`kinemic-only`) took 3.00 h more" in timed
    text = fs.budget_text([], utd)
    assert "(`--budget`)" in text and "SGD steps" not in text and "1 test clip(s)" in text
    assert "(`--budget 1`)" in fs.budget_text([], fs.variant_for(UTD, name="budget"))
    assert "real+retrieved" not in text and "cache_dir" not in text


def test_dependency_order_puts_a_cell_behind_the_one_whose_adapters_it_reuses():
    cells = [("real+classic+kinemic", 1, 0), ("real", 1, 0), ("real+kinemic", 1, 0), ("real+classic+kinemic", 3, 0)]
    assert fs._dependency_order(cells) == [("real", 1, 0), ("real+kinemic", 1, 0), ("real+classic+kinemic", 1, 0),
                                           ("real+classic+kinemic", 3, 0)]


def test_jobs_train_cells_at_once_and_a_shared_adapter_cell_waits(tmp_path, monkeypatch):
    """The scheduler only: each 'cell' sleeps instead of training (the real cells are the slow end-to-end tests)."""
    import threading
    import time

    spans, active, peak = {}, [0], [0]
    guard = threading.Lock()

    def fake_cell(arm, k, seed, variant, cli, threads=1):
        with guard:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        t0 = time.time()
        time.sleep(0.3)
        spans[arm] = (t0, time.time())
        with guard:
            active[0] -= 1
        return fs.build_record(arm, k, seed, _summary(), time.time() - t0, fs.config_for(arm, k), {}, "budget")

    monkeypatch.setattr(fs, "run_cell", fake_cell)
    monkeypatch.setattr(fs, "prepare", lambda variant, cells=(): variant)
    monkeypatch.setattr(fs, "write_reports", lambda results, variant=None: None)
    v = fs.replace(fs.variant_for(name="budget"), results=tmp_path / "b.json", work_root=tmp_path / "w",
                   log_dir=tmp_path / "logs", seeds=(0,), shots=("1",),
                   arms=("real+classic+kinemic", "real", "real+kinemic", "real+classic"))
    done = fs.run_variant(v, {}, with_gen=False, jobs=2)
    assert len(done) == 4 and peak[0] == 2                     # two at once, never more
    assert spans["real+classic+kinemic"][0] >= spans["real+kinemic"][1]   # waited for the adapters' cell
    rows = load_records(tmp_path / "b.json")
    assert {r["arm"] for r in rows} == set(v.arms) and all(r["jobs"] == 2 and r["finished"] >= r["started"]
                                                             for r in rows)
    assert fs.elapsed_hours(rows) * 3600 < sum(r["seconds"] for r in rows)   # overlapped
    # a pause between two invocations is not grid time; a cell's generation metrics are
    spans = [dict(started=0.0, finished=3600.0), dict(started=1800.0, finished=5400.0, gen_seconds=1800.0),
             dict(started=86400.0, finished=90000.0), dict(arm="no times")]
    assert fs.elapsed_hours(spans) == pytest.approx(3.0)
    # metrics measured in a later invocation (gen_started recorded) count where they ran, not after training
    later = [dict(started=0.0, finished=3600.0, gen_started=86400.0, gen_seconds=1800.0)]
    assert fs.elapsed_hours(later) == pytest.approx(1.5)
    assert fs.elapsed_hours([dict(later[0], gen_started=1000.0)]) == pytest.approx(1.0)   # inside the cell's span
    # the evaluator trained before a cell's metrics counts too (gen_wall_seconds covers it)
    assert fs.elapsed_hours([dict(later[0], gen_wall_seconds=3600.0)]) == pytest.approx(2.0)
    assert fs.elapsed_hours([{}]) is None
    with pytest.raises(ValueError):
        fs.run_variant(v, {}, jobs=0)


def test_a_dry_run_shows_the_cells_a_rerun_carries_through_to(tmp_path, monkeypatch, capsys):
    """A real cell recorded with another recipe would train again, so the restart fine-tuned from it would too;
    the restart's own record (newer than real's) says skip, and a dry run trains nothing that could say otherwise."""
    monkeypatch.setattr(fs, "prepare", lambda variant, cells=(): variant)
    v = fs.replace(fs.FULL, results=tmp_path / "r.json", work_root=tmp_path / "w", log_dir=tmp_path / "logs",
                   seeds=(0,), shots=("3",), arms=("real-restart", "real"))

    def rec(arm, options, t):
        return dict(fs.build_record(arm, 3, 0, _summary(), 1.0, fs.config_for(arm, 3), options, "full"),
                    started=t, finished=t + 1.0)
    restart = rec("real-restart", fs.options_for("real-restart", v), 10.0)
    merge_records(v.results, [rec("real", fs.options_for("real", v), 0.0), restart])
    fs.run_variant(v, {}, with_gen=False, dry_run=True)
    out = capsys.readouterr().out
    assert "real_3shot_s0: skip" in out and "real-restart_3shot_s0: skip" in out      # both current
    changed = dict(fs.options_for("real", v), **{"train_cfg.val_interval": 123})
    merge_records(v.results, [rec("real", changed, 0.0), restart])
    fs.run_variant(v, {}, with_gen=False, dry_run=True)
    out = capsys.readouterr().out
    assert "real_3shot_s0: run" in out
    assert "real-restart_3shot_s0: real_3shot_s0 (its starting point) would train first" in out
    assert "real-restart_3shot_s0: run" in out
    assert load_records(v.results)[0]["cfg_options"] == changed     # a dry run writes nothing


def test_bn_recalibration_refuses_an_unfinished_cell(tmp_path):
    from benchmarks.bn_recalibration import recalibrate

    (tmp_path / "cell").mkdir()
    (tmp_path / "cell" / "stgcn.py").write_text("x = 1\n")
    with pytest.raises(FileNotFoundError, match="iter_600.pth"):
        recalibrate(tmp_path / "cell")


def test_a_fresh_cache_is_the_variants_own_wherever_the_results_go(tmp_path):
    own, other = tmp_path / "own_cache", tmp_path / "elsewhere" / "cache"
    for d in (own, other):
        d.mkdir(parents=True)
    variant = fs.replace(fs.SMALL, work_root=tmp_path / "probe_work", kinemic_options={AUG + "cache_dir": str(own)})
    fs._clear_cache(variant, {AUG + "cache_dir": str(other)})  # named on the command line, outside the work root
    assert other.exists() and own.exists()
    fs._clear_cache(variant, {})                                # the variant's own, though the work root moved
    assert not own.exists()


def test_a_cell_waiting_for_another_holds_no_worker():
    import threading

    # with 2 workers: kinemic-only runs, real+kinemic-pretrained waits for it, and `real` must not queue
    # behind the waiting cell: kinemic-only finishes only once `real` has started
    real_started = threading.Event()
    log = []

    def one(arm, k, seed):
        if arm == "kinemic-only":
            log.append(("kinemic-only saw real start", real_started.wait(timeout=10)))
        if arm == "real":
            real_started.set()
        log.append(arm)

    cells = [("kinemic-only", 3, 0), ("real+kinemic-pretrained", 3, 0), ("real", 3, 0)]
    fs.run_parallel(cells, 2, one)
    assert ("kinemic-only saw real start", True) in log
    assert log.index("real+kinemic-pretrained") > log.index("kinemic-only")

    # a failed cell: the cells waiting for it do not run, the others do, and its error is raised at the end
    ran = []

    def failing(arm, k, seed):
        if arm == "kinemic-only":
            raise ValueError("broken cell")
        ran.append(arm)

    with pytest.raises(ValueError, match="broken cell"):
        fs.run_parallel(cells, 2, failing)
    assert ran == ["real"]
