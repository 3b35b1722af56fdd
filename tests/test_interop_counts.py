"""The synthetic count asked is met within a stated bound, or the run says which classes fell short and why,
without warning tracebacks; a redirected run prints one plain line per class (the tiny generator of
conftest.py, real MSR shots)."""
from __future__ import annotations

import importlib.util
import logging
import pickle
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.data.annotation_template import field_parity
from kinemic_aug.data.pyskl import load_pyskl
from kinemic_aug.generator.dataset_space import TargetDomain
from kinemic_aug.generator.checkpoint import load_generator
from kinemic_aug.synthesis import SynthesisConfig, synthesize_class

ADAPT = AdaptConfig(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2)
OPEN = dict(steps=3, batch_size=16, explode_ratio=1e9, bone_cv_max=1e9)  # only the static test can drop


@pytest.fixture(scope="module")
def parts(msr_pkl, tiny_generator):
    bundle = load_generator(tiny_generator["path"])
    with open(msr_pkl, "rb") as f:
        anns = pickle.load(f)["annotations"]
    dom = TargetDomain("msr_action3d", 15)
    shots = [dom.to_generator(a["keypoint"]) for a in anns if a["label"] == 4][:2]
    text = np.random.default_rng(0).normal(size=(2, bundle.model.config.text_dim)).astype(np.float32)
    return bundle, shots, text


def _draw(parts, n, shots=None, **cfg):
    bundle, shot_joints, text = parts
    return synthesize_class(bundle.model, bundle.representation, bundle.schedule, n=n,
                            shot_joints=shot_joints if shots is None else shots, class_text_emb=text, action=None,
                            cfg=SynthesisConfig(**{**OPEN, **cfg}), seed=3)


def test_a_filter_that_passes_everything_costs_one_round(parts):
    seqs, rep, _ = _draw(parts, 4, static_ratio=0.0, oversample=1.25)
    assert len(seqs) == rep.kept == 4 and rep.drawn == 5 and rep.rounds == 1 and rep.surplus == 1
    assert rep.shortfall == 0 and rep.reason == "" and rep.max_draws == 32  # 8 x 4


def test_more_is_drawn_until_the_count_is_met(parts):
    """A filter that drops part of the first round: later rounds, sized by the pass rate, fill the count.

    The second shot is scaled up 3x (a giant): samples re-chained to its bones are 3x as large, so an extent
    bound between the two body sizes drops about the samples given that body and keeps the others."""
    _, shots, _ = parts
    giant = [shots[0], shots[1] * 3.0]
    for ratio in np.geomspace(0.3, 3.0, 13):
        seqs, rep, _ = _draw(parts, 6, shots=giant, static_ratio=0.0, explode_ratio=float(ratio), oversample=1.25,
                             draw_limit=20.0)
        if rep.rounds >= 2 and 0 < rep.exploding and rep.kept == 6:
            break
    else:
        pytest.fail("no extent bound dropped part of the first round")
    assert len(seqs) == rep.kept == 6, rep  # met, not stopped after a fixed number of rounds
    assert 8 < rep.drawn <= rep.max_draws == 120 and rep.exploding + rep.kept + rep.surplus == rep.drawn
    assert rep.shortfall == 0 and rep.reason == ""


def test_a_hopeless_class_stops_at_the_bound_and_says_why(parts):
    seqs, rep, _ = _draw(parts, 3, static_ratio=1e9, oversample=1.0, draw_limit=4.0)
    assert seqs == [] and rep.kept == 0 and rep.drawn == rep.max_draws == 12 and rep.static == 12
    assert rep.rounds == 2  # the first round, then the rest of the budget at once (nothing passed to size it)
    assert rep.shortfall == 3
    assert rep.reason == "12 drawn (the bound: 12 = draw_limit x 3), 12 static and 0 exploding dropped by the filter"
    with pytest.raises(ValueError, match="draw_limit"):
        SynthesisConfig(draw_limit=1.0, oversample=1.25)


def _tool():
    spec = importlib.util.spec_from_file_location("augment_tool", Path(__file__).resolve().parents[1] / "tools/augment.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    return tool


def test_short_classes_are_reported_in_words_not_warnings(msr_pkl, tiny_generator, tmp_path, caplog):
    aug = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=2, labels="msr_action3d", layout="msr_action3d",
                           classes=[0, 14], synthetic_per_class=3, generator=tiny_generator["path"],
                           corpus=tiny_generator["corpus"], cache_dir=tmp_path / "c", adapt=ADAPT,
                           synthesis=SynthesisConfig(static_ratio=1e9, oversample=1.0, draw_limit=2.0, **OPEN),
                           progress=False)
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.WARNING, "kinemic_aug"):
        warnings.simplefilter("always")
        aug.synthetic_annotations()
    assert not [w for w in caught if "synthetic" in str(w.message)]  # no UserWarning with a source line
    assert [r.getMessage() for r in caplog.records if "is short" in r.getMessage()] == [
        f"class {c} ({n}) is short: 0 of 3 synthetic samples kept; 6 drawn (the bound: 6 = draw_limit x 3), "
        "6 static and 0 exploding dropped by the filter" for c, n in ((0, "high arm wave"), (14, "side kick"))]
    assert aug.shortfalls()[1].startswith("class 14 (side kick): 0 of 3 kept; 6 drawn")
    table = aug.report_table()
    assert "| asked | kept | drawn |" in table and "| 3 | 0 (short) | 6 |" in table
    tool = _tool()
    args = tool.parse_args([str(msr_pkl), "--split", "xsub_train", "--layout", "msr_action3d", "--out",
                            str(tmp_path / "a.pkl"), "--draw-limit", "2"])
    md = tool.report_markdown(aug, args, 1.0, tmp_path / "a.pkl")
    assert "## Classes that fell short" in md and "- class 0 (high arm wave): 0 of 3 kept; 6 drawn" in md
    for column in ("*asked*", "*kept*", "*drawn*", "*dropped static/exploding*", "*top-1 sim*", "*cached*"):
        assert column in md  # every column is explained in the report itself
    assert "zaxis=[6, 3], xaxis=[1, 0]" in md  # the mmaction2 lines for the layout


def test_a_redirected_run_prints_one_line_per_class_and_plain_warnings(msr_pkl, tiny_generator, tmp_path, capfd):
    tool = _tool()
    common = [str(msr_pkl), "--split", "xsub_train", "--shots", "1", "--labels", "msr_action3d", "--layout",
              "msr_action3d", "--per-class", "2", "--adapt-steps", "2", "--sample-steps", "3", "--generator",
              str(tiny_generator["path"]), "--corpus", tiny_generator["corpus"], "--cache-dir", str(tmp_path / "c"),
              "--preview", "0"]
    assert tool.main(common + ["--classes", "0,15", "--out", str(tmp_path / "a.pkl"), "--drop-fields",
                               "keypoint_score"]) == 0
    out, err = capfd.readouterr()  # stderr here is not a terminal, as in a job writing its log file
    data = load_pyskl(tmp_path / "a.pkl")
    assert not any("keypoint_score" in a for a in data["annotations"])
    assert field_parity([a for a in data["annotations"] if not a["is_synthetic"]],
                        [a for a in data["annotations"] if a["is_synthetic"]]) == []
    assert "Fields left out of every annotation: keypoint_score." in (tmp_path / "a.report.md").read_text()
    lines = [x for x in err.splitlines() if x.startswith("[kinemic] class ")]
    assert [x.split(":")[0] for x in lines] == ["[kinemic] class 0 high arm wave (1/2)", "[kinemic] class 15 jogging (2/2)"]
    assert all("adapter trained in" in x and "sampled" in x and " of 2 (" in x for x in lines)
    assert "\r" not in err and "Traceback" not in err and "UserWarning" not in err and "it/s" not in err
    rows = [r for r in out.splitlines() if r.startswith("| 0 ") or r.startswith("| 15 ")]
    kept = {r.split("|")[1].split()[0]: int(r.split("|")[7].split()[0]) for r in rows}
    assert f"{sum(kept.values())} of 4 synthetic samples asked" in out
    for c, k in kept.items():  # a short class is named in the summary, a full one is not
        assert (f"short: class {c} " in out) == (k < 2)
    # one class alone has no contrastive negatives: the library warns, and the warning is one plain line
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # shown even if an earlier test in this process raised the same one
        assert tool.main(common + ["--classes", "0", "--out", str(tmp_path / "b.pkl")]) == 0
    _, err = capfd.readouterr()
    warned = [x for x in err.splitlines() if "no contrastive negatives" in x]
    assert warned and all(x.startswith("warning: class 0: no contrastive negatives") for x in warned)
    assert "warnings.warn(" not in err and not re.search(r"\.py:\d+", err)  # no source location of the warning


def test_bad_tool_flags_fail_before_any_work(msr_pkl, tiny_generator, tmp_path, capfd):
    tool = _tool()
    common = [str(msr_pkl), "--split", "xsub_train", "--shots", "1", "--classes", "0", "--labels", "msr_action3d",
              "--layout", "msr_action3d", "--generator", str(tiny_generator["path"]), "--corpus",
              tiny_generator["corpus"], "--cache-dir", str(tmp_path / "c"), "--out", str(tmp_path / "a.pkl")]
    assert tool.main(common + ["--draw-limit", "1"]) == 2
    assert "error: draw_limit (1.0) must be >= oversample (1.25)" in capfd.readouterr().err
    assert tool.main(common + ["--drop-fields", "keypoint_scores"]) == 2
    err = capfd.readouterr().err
    assert "field 'keypoint_scores': no annotation has ['keypoint_scores']" in err and "[kinemic] class" not in err
    assert tool.main(common + ["--drop-fields", "label"]) == 2
    assert "field 'label': cannot drop ['label']" in capfd.readouterr().err
    assert not (tmp_path / "a.pkl").exists()
