"""--threads pins the BLAS/OpenMP pools of the command-line tools before numpy loads."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kinemic_aug.utils.threads import THREAD_VARS, pin_threads, threads_from_argv

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("argv,expected", [
    (["cfg.py", "--threads", "3"], 3), (["cfg.py", "--threads=2", "--seed", "0"], 2), (["cfg.py"], None),
    (["cfg.py", "--threads", "zero"], None), (["cfg.py", "--threads", "0"], None), (["--threads"], None),
])
def test_threads_from_argv(argv, expected):
    assert threads_from_argv(argv) == expected


def test_pin_threads_leaves_a_process_with_numpy_loaded_alone(monkeypatch):
    import numpy  # noqa: F401  (loaded here anyway; the point is that pin_threads sees it)

    for var in THREAD_VARS:
        monkeypatch.setenv(var, "7")
    assert pin_threads(1) is False
    assert all(os.environ[var] == "7" for var in THREAD_VARS)


@pytest.mark.parametrize("tool", ["train.py", "test.py", "augment.py"])
def test_tools_pin_every_pool_before_numpy_loads(tool, tmp_path):
    code = (
        "import importlib.util, os, sys\n"
        f"spec = importlib.util.spec_from_file_location('tool', {str(REPO / 'tools' / tool)!r})\n"
        "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n"
        "assert 'numpy' not in sys.modules, 'the tool module itself loaded numpy'\n"
        "try:\n"
        f"    mod.main([{str(tmp_path / 'missing.py')!r}, 'missing.pth', '--out', 'x.pkl', '--threads', '2'])\n"
        "except BaseException:\n"
        "    pass  # the missing config / input is refused; the pools were pinned before that\n"
        f"print(','.join(os.environ.get(v, '-') for v in {THREAD_VARS!r}))\n")
    env = {k: v for k, v in os.environ.items() if k not in THREAD_VARS}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "2,2,2"
