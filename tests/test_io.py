import os

import pytest

from kinemic_aug.utils.io import atomic_write_bytes, atomic_write_json, sha256_file


def test_atomic_write_replaces_and_uses_the_umask_mode(tmp_path):
    p = tmp_path / "a.bin"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two"
    mask = os.umask(0)
    os.umask(mask)
    assert (p.stat().st_mode & 0o777) == (0o666 & ~mask)
    assert [x.name for x in tmp_path.iterdir()] == ["a.bin"]  # no temp files left


def test_failed_write_keeps_the_old_file(tmp_path):
    p = tmp_path / "b.json"
    atomic_write_json(p, {"ok": 1})
    before = sha256_file(p)
    with pytest.raises(TypeError):
        atomic_write_json(p, {"bad": object()})
    assert sha256_file(p) == before
    assert len(list(tmp_path.iterdir())) == 1
