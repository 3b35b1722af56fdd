"""An unmodified mmaction2 1.2.0 trains and tests on an augmented pickle with docs/mmaction2.md's config.

mmaction2 is pip-installed into a temporary target folder (as benchmarks/har_throughput.py describes;
never into the project venv) and runs in a child process (tests/interop_mmaction2_child.py) with that
folder first on its path. Skipped when it cannot be installed. ``KINEMIC_MMACTION_SITE`` names a folder
that already holds it (with setuptools, for the config's ``mmaction::`` base) to skip the install.
"""
from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinemic_aug.adapt import AdaptConfig
from kinemic_aug.augmenter import KineMICAugmenter
from kinemic_aug.data.pyskl import drop_fields, save_pyskl
from kinemic_aug.integrations.mmaction2 import config_lines, graph_layout, prenormalize3d
from kinemic_aug.synthesis import SynthesisConfig

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ["mmaction2==1.2.0", "mmcv-lite==2.1.0", "importlib_metadata==8.5.0", "zipp", "einops", "setuptools<81"]
DOC_PKL = "work_dirs/msr_5shot_aug.pkl"


@pytest.fixture(scope="module")
def mmaction_site(tmp_path_factory) -> Path:
    site = os.environ.get("KINEMIC_MMACTION_SITE")
    if site:
        return Path(site)
    target = tmp_path_factory.mktemp("mmaction_site")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), *PACKAGES],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0 or not (target / "mmaction").is_dir():
        pytest.skip(f"cannot install mmaction2 into a target folder: {proc.stderr.strip()[-300:]}")
    return target


def _doc_config() -> str:
    text = (REPO / "docs" / "mmaction2.md").read_text()
    return text.split("## The config", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]


def test_the_documented_config_lines_are_the_layouts_own():
    cfg = _doc_config()
    ns: dict = {}
    exec(cfg.replace("_base_ = ", "base = "), {"dict": dict}, ns)  # the config is plain Python
    assert ns["graph_layout"] == graph_layout("msr_action3d")
    assert ns["prenormalize"] == prenormalize3d("msr_action3d")
    assert ns["prenormalize"] == {"type": "PreNormalize3D", "zaxis": [6, 3], "xaxis": [1, 0]}
    assert all(ns[p][0] is ns["prenormalize"] for p in ("train_pipeline", "val_pipeline", "test_pipeline"))
    assert "graph_layout = {'num_node': 20" in config_lines("msr_action3d")
    assert graph_layout("nturgb+d") == "nturgb+d"  # mmaction2's own name, its graph


@pytest.mark.slow
def test_mmaction2_trains_and_tests_on_an_augmented_pickle(mmaction_site, msr_pkl, tiny_generator, tmp_path):
    aug = KineMICAugmenter(str(msr_pkl), split="xsub_train", shots=2, labels="msr_action3d", layout="msr_action3d",
                           classes=[0, 14], synthetic_per_class=3, generator=tiny_generator["path"],
                           corpus=tiny_generator["corpus"], cache_dir=tmp_path / "cache",
                           adapt=AdaptConfig(steps=2, batch_size=4, mic_hidden=16, top_k=8, negatives_per_step=2),
                           synthesis=SynthesisConfig(steps=3, batch_size=8, static_ratio=0.0, explode_ratio=1e9,
                                                     bone_cv_max=1e9), progress=False)
    data = aug.to_pyskl()
    with_scores = save_pyskl(data, tmp_path / "aug_scores.pkl")
    # mmaction2's 3-D pipeline (GenSkeFeat) refuses samples with keypoint_score: the documented --drop-fields
    plain = save_pyskl(drop_fields(data, ["keypoint_score"]), tmp_path / "aug.pkl")
    cfg = tmp_path / "stgcn_msr_kinemic.py"
    cfg.write_text(_doc_config().replace(DOC_PKL, str(plain)))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(mmaction_site), str(REPO)]), OMP_NUM_THREADS="1",
               PYTHONWARNINGS="ignore")
    args = {"config": str(cfg), "work_dir": str(tmp_path / "work"), "epochs": 3, "scores_pkl": str(with_scores),
            "test_samples": 48}
    proc = subprocess.run([sys.executable, str(REPO / "tests" / "interop_mmaction2_child.py"), json.dumps(args)],
                          capture_output=True, text=True, env=env, cwd=str(tmp_path), timeout=900)
    assert proc.returncode == 0, proc.stderr[-4000:]
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    # mmaction2's PoseDataset read the augmented split: the 4 shots and the 6 synthetic samples
    assert res["num_real"] == 4 and res["num_synthetic"] == 6
    train = res["train"]
    assert len(train["losses"]) == 3 and all(math.isfinite(x) and x > 0 for x in train["losses"])
    assert train["batch_sizes"] == [10, 10, 10]  # every batch holds real and synthetic samples together
    assert train["input_shapes"] == [[[1, 2, 100, 20, 3]]] * 3  # one shape in the batch: nothing padded
    assert res["num_test"] == 48 and 0.0 <= res["test"]["acc/top1"] <= 1.0 and "acc/mean1" in res["test"]
    # the scores as a 4th channel: real and synthetic samples both get it, an all-synthetic batch runs
    assert res["score_shapes"] == {"real": [[1, 2, 100, 20, 4]], "synthetic": [[1, 2, 100, 20, 4]]}
    assert all(math.isfinite(v) for v in res["losses4"].values()) and set(res["losses4"]) == {"all_synthetic", "mixed"}
    assert res["genskefeat_with_scores"].startswith("AssertionError")  # why the doc drops the field for GenSkeFeat
