"""Pickles written by the library load under numpy 1.x and 2.x (portable writer), and refuse what they cannot write.

numpy 1.x is pip-installed into a temporary target folder and the pickle is loaded in a subprocess
with that folder first on sys.path (skipped when the registry cannot be reached). Set
``KINEMIC_NUMPY1_SITE`` to a folder that already holds numpy 1.x to skip the install.
"""
from __future__ import annotations

import io
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data import safe_pickle
from kinemic_aug.data.pyskl import load_pyskl, save_pyskl
from kinemic_aug.errors import DataError

NUMPY1 = "numpy==1.24.4"  # the last numpy without numpy._core; Python 3.11 wheels exist


def _values():
    rng = np.random.default_rng(0)
    return {
        "f32": rng.normal(size=(1, 5, 20, 3)).astype(np.float32),
        "f16": rng.normal(size=(2, 4, 17)).astype(np.float16),
        "strided": np.arange(24, dtype=np.float64).reshape(4, 6)[:, ::2],
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int16).reshape(2, 3)),
        "big_endian": np.arange(3, dtype=">i4"),
        "bool_arr": np.array([True, False, True]),
        "unicode": np.array(["a01_s01", "x"]),
        "empty": np.zeros((0, 3), np.float32),
        "zero_d": np.array(2.5, np.float32),
        "structured": np.zeros(2, dtype=[("x", "<f4"), ("n", "<i2")]),
        "i64": np.int64(7), "f32s": np.float32(0.1), "b": np.bool_(True), "u8": np.uint8(200),
        "s": np.str_("side kick"), "c": np.complex64(1 + 2j),
        "plain": {"int": 1, "tuple": (480, 640), "none": None, "list": [1.5, "x"]},
    }


def _globals(blob: bytes):
    """(module, name) pairs the pickle imports, as the unpickler asks for them."""
    seen = []

    class Recorder(pickle.Unpickler):
        def find_class(self, module, name):
            seen.append((module, name))
            return super().find_class(module, name)

    Recorder(io.BytesIO(blob)).load()
    return seen


def _same(a, b) -> None:
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _same(a[k], b[k])
    elif isinstance(a, np.ndarray):
        assert type(b) is np.ndarray and b.dtype == a.dtype and b.shape == a.shape
        assert b.tobytes() == np.ascontiguousarray(a).tobytes()
    else:
        assert type(b) is type(a) and b == a


def test_portable_pickle_round_trips_every_value_and_names_only_public_numpy():
    vals = _values()
    blob = safe_pickle.portable_dumps(vals)
    names = _globals(blob)
    assert all(not m.startswith(("numpy._core", "numpy.core")) for m, _ in names), names
    assert {m for m, _ in names} <= {"numpy", "builtins"}
    assert ("numpy", "bool_") in names  # not numpy.bool (numpy 2 only)
    for loaded in (pickle.loads(blob), safe_pickle.safe_loads(blob)):
        _same(vals, loaded)
        loaded["f32"] += 1  # writable: mmaction2's transforms work in place
    # the plain writer names the private module, which is what the portable one avoids
    assert any(m.startswith("numpy._core") for m, _ in _globals(pickle.dumps(vals, protocol=4)))


@pytest.mark.parametrize("value, what", [
    (np.array([{"a": 1}], dtype=object), "dtype object"),
    (np.ma.masked_array([1.0, 2.0], mask=[0, 1]), "MaskedArray"),
    (np.longdouble(1.5), "numpy scalar of dtype float128"),
])
def test_values_that_cannot_be_written_portably_are_refused_naming_sample_and_field(tmp_path, value, what):
    data = {"split": {"train": ["s0"]}, "annotations": [
        {"frame_dir": "s0", "label": 0, "keypoint": np.zeros((1, 3, 20, 3), np.float32), "total_frames": 3,
         "extra": {"inner": [value]}}]}
    out = tmp_path / "x.pkl"
    with pytest.raises(DataError, match=f"x.pkl, sample 's0', field 'extra'.*{what}"):
        save_pyskl(data, out)
    assert not out.exists()


@pytest.fixture(scope="module")
def numpy1_site(tmp_path_factory) -> Path:
    site = os.environ.get("KINEMIC_NUMPY1_SITE")
    if site:
        return Path(site)
    target = tmp_path_factory.mktemp("numpy1")
    proc = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target), NUMPY1],
                          capture_output=True, text=True, timeout=300)
    if proc.returncode != 0 or not (target / "numpy").is_dir():
        pytest.skip(f"cannot install {NUMPY1} into a target folder: {proc.stderr.strip()[-300:]}")
    return target


_CHILD = r"""
import json, pickle, sys
import numpy as np
assert np.__version__.startswith("1."), np.__version__
with open(sys.argv[1], "rb") as f:
    d = pickle.load(f)
a = d["annotations"]
def one(v):  # numpy-version-neutral: dtype names and values, not reprs (np.int64(1) vs 1)
    if isinstance(v, np.ndarray):
        return [str(v.dtype), list(v.shape), float(np.asarray(v, np.float64).sum())]
    if isinstance(v, np.generic):
        return ["numpy", str(v.dtype), repr(v.item())]
    return [type(v).__name__, repr(v)]
print(json.dumps({"numpy": np.__version__, "anns": [{k: one(v) for k, v in x.items()} for x in a],
                  "writable": bool(a[0]["keypoint"].flags.writeable), "split": d["split"]}))
if len(sys.argv) > 2:  # write a pickle the way numpy 1.x does (numpy.core names)
    with open(sys.argv[2], "wb") as f:
        pickle.dump(d, f, protocol=4)
"""


def _summary(data):
    def one(v):
        if isinstance(v, np.ndarray):
            return [str(v.dtype), list(v.shape), float(np.asarray(v, np.float64).sum())]
        if isinstance(v, np.generic):
            return ["numpy", str(v.dtype), repr(v.item())]
        return [type(v).__name__, repr(v)]
    return [{k: one(v) for k, v in a.items()} for a in data["annotations"]]


def _pyskl_data():
    rng = np.random.default_rng(1)
    anns = []
    for i in range(3):
        t = 4 + i
        anns.append({"frame_dir": f"a0{i}_s01_e01", "label": i, "keypoint": rng.normal(size=(1, t, 20, 3)).astype(np.float32),
                     "keypoint_score": np.ones((1, t, 20), np.float32), "total_frames": t, "subject": np.int64(1),
                     "in_cvpr12_list": np.bool_(i != 1), "is_synthetic": i == 2, "img_shape": (480, 640)})
    return {"split": {"train": [a["frame_dir"] for a in anns]}, "annotations": anns, "meta": {"fps": 15}}


def test_saved_pickles_load_under_numpy1_and_numpy2(numpy1_site, tmp_path):
    data = _pyskl_data()
    path = save_pyskl(data, tmp_path / "aug.pkl")
    env = dict(os.environ, PYTHONPATH=str(numpy1_site))
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path), str(tmp_path / "np1.pkl")], capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["numpy"].startswith("1.24")
    assert got["anns"] == json.loads(json.dumps(_summary(data))) and got["writable"]
    assert got["split"] == data["split"]
    # numpy 2 (this venv): plain pickle.load and the safe loader
    with open(path, "rb") as f:
        assert _summary(pickle.load(f)) == _summary(data)
    assert _summary(load_pyskl(path)) == _summary(data)
    # a pickle numpy 1.x wrote itself (numpy.core names, as hosted PYSKL files) loads here too
    assert _summary(load_pyskl(tmp_path / "np1.pkl")) == _summary(data)


def test_the_plain_writer_is_what_numpy1_cannot_read(numpy1_site, tmp_path):
    """The check above can fail: a numpy-2 plain pickle stops numpy 1.24 (numpy._core)."""
    path = save_pyskl(_pyskl_data(), tmp_path / "plain.pkl", portable=False)
    proc = subprocess.run([sys.executable, "-c", _CHILD, str(path)], capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(numpy1_site)), timeout=120)
    assert proc.returncode != 0 and "numpy._core" in proc.stderr
