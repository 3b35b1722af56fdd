import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionClip, MotionCorpus
from kinemic_aug.errors import CacheError, DataError


def _clip(name, t=10, v=22, synthetic=False):
    rng = np.random.default_rng(abs(hash(name)) % 2**32)
    return MotionClip(rng.normal(size=(t, v, 3)), "smpl22", 20.0, ["a person walks."], name, "test", synthetic)


def test_roundtrip_keeps_flags_and_frames(tmp_path):
    c = MotionCorpus([_clip("a"), _clip("b", t=7, synthetic=True), _clip("c", v=15)], name="toy")
    p = c.save(tmp_path / "c.npz")
    back = MotionCorpus.load(p)
    assert [x.name for x in back] == ["a", "b", "c"]
    assert [x.synthetic for x in back] == [False, True, False]
    for x, y in zip(c, back):
        np.testing.assert_array_equal(x.joints, y.joints)
    assert back.fingerprint() == c.fingerprint()
    assert back.summary()["synthetic"] == 1


def test_map_cannot_drop_synthetic_flag():
    c = MotionCorpus([_clip("s", synthetic=True)])
    out = c.map(lambda k: MotionClip(k.joints * 2, k.layout, k.fps, k.captions, k.name, k.source, False))
    assert out[0].synthetic


def test_corrupt_file_is_detected(tmp_path):
    p = MotionCorpus([_clip("a")]).save(tmp_path / "c.npz")
    data = bytearray(p.read_bytes())
    p.write_bytes(bytes(data[: len(data) // 2]))
    with pytest.raises(CacheError, match="not a readable MotionCorpus"):
        MotionCorpus.load(p)


def test_bad_clips_name_the_field():
    with pytest.raises(DataError, match="'bad'.*'joints'.*NaN"):
        MotionClip(np.full((3, 22, 3), np.nan), "smpl22", 20, name="bad")
    with pytest.raises(DataError, match="zero-length"):
        MotionClip(np.zeros((0, 22, 3)), "smpl22", 20, name="z")
    with pytest.raises(DataError, match="duplicate"):
        MotionCorpus([_clip("a"), _clip("a")])


def test_fingerprint_follows_joint_values_not_their_dtype():
    a = MotionCorpus([_clip("a")])
    key = a.fingerprint()
    a[0].joints = a[0].joints.astype(np.float64)            # swapped after construction, same values
    assert a.fingerprint() == key
    a[0].joints = a[0].joints.astype(">f4")                  # big-endian float32, same values
    assert a.fingerprint() == key
    a[0].joints = a[0].joints + np.float32(1e-3)             # a real change still changes the key
    assert a.fingerprint() != key
