import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinemic_aug.data.corpus import MotionClip
from kinemic_aug.errors import DataError
from kinemic_aug.skeleton.resample import resample, resample_clip, resample_to_length

FPS = st.sampled_from([10.0, 12.5, 15.0, 20.0, 24.0, 25.0, 29.97, 30.0, 60.0, 120.0])


def _ramp(t: int, fps: float, a: float = 0.3, b=(1.5, -2.0, 0.25)) -> np.ndarray:
    """Positions moving at constant velocity b (m/s) from a: [T, 2, 3]."""
    time = np.arange(t) / fps
    x = a + time[:, None] * np.asarray(b)[None]
    return np.stack([x, 2 * x], axis=1)


@settings(max_examples=60, deadline=None)
@given(t=st.integers(1, 300), src=FPS, dst=FPS)
def test_duration_is_kept(t, src, dst):
    y = resample(np.zeros((t, 4, 3), np.float32), src, dst)
    assert y.shape[1:] == (4, 3)
    assert abs((y.shape[0] - 1) / dst - (t - 1) / src) <= 0.5 / dst + 1e-9


@settings(max_examples=60, deadline=None)
@given(t=st.integers(2, 200), src=FPS, dst=FPS)
def test_linear_ramp_is_mapped_exactly(t, src, dst):
    x = _ramp(t, src)
    y = resample(x, src, dst)
    times = np.arange(y.shape[0]) / dst
    inside = times <= (t - 1) / src + 1e-12
    expected = _ramp(y.shape[0], dst)
    np.testing.assert_allclose(y[inside], expected[inside], rtol=0, atol=1e-9)
    # a frame past the end (rounding up by < half a frame) holds the last pose
    np.testing.assert_allclose(y[~inside], np.broadcast_to(x[-1], y[~inside].shape), atol=1e-12)
    np.testing.assert_array_equal(y[0], x[0])


def test_ntu_30_to_20_fps_keeps_both_ends():
    x = _ramp(31, 30.0)
    y = resample(x, 30.0, 20.0)
    assert y.shape == (21, 2, 3)
    np.testing.assert_allclose(y, _ramp(21, 20.0), atol=1e-12)


def test_up_then_down_returns_the_original():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 20, 3)).astype(np.float32)
    y = resample(resample(x, 15, 30), 30, 15)
    assert y.dtype == np.float32 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1e-6)


def test_any_axis_and_trailing_shape():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 33, 5, 3))  # [M, T, V, C]
    y = resample(x, 30, 20, axis=1)
    assert y.shape == (2, 22, 5, 3)  # (33 - 1) * 20 / 30 = 21.3 -> 21 steps
    for m in range(2):
        np.testing.assert_allclose(y[m], resample(x[m], 30, 20), atol=1e-12)
    np.testing.assert_allclose(resample(x, 30, 20, axis=-3), y)
    feats = rng.normal(size=(50, 263))
    assert resample(feats, 20, 10).shape == (26, 263)
    assert resample(np.arange(5), 1, 2).dtype == np.float64  # integer input becomes float


def test_same_rate_copies_and_single_frame():
    x = np.ones((7, 3), np.float32)
    y = resample(x, 20, 20)
    assert y is not x and np.array_equal(x, y)
    assert resample(np.ones((1, 3)), 15, 60).shape == (1, 3)


def test_resample_to_length():
    x = _ramp(10, 10.0)
    y = resample_to_length(x, 19)
    assert y.shape == (19, 2, 3)
    np.testing.assert_array_equal(y[[0, -1]], x[[0, -1]])
    np.testing.assert_allclose(y[1], (x[0] + x[1]) / 2)
    np.testing.assert_allclose(resample_to_length(x, 4), x[[0, 3, 6, 9]], atol=1e-12)
    np.testing.assert_array_equal(resample_to_length(x, 1), x[:1])
    assert resample_to_length(x.transpose(1, 0, 2), 5, axis=1).shape == (2, 5, 3)


@pytest.mark.parametrize("call,field", [
    (lambda: resample(np.zeros((5, 3)), 0, 20), "src_fps"),
    (lambda: resample(np.zeros((5, 3)), 30, -1), "dst_fps"),
    (lambda: resample(np.zeros((5, 3)), float("nan"), 20), "src_fps"),
    (lambda: resample(np.zeros((5, 3)), "fast", 20), "src_fps"),
    (lambda: resample(np.zeros((0, 3)), 30, 20), "x"),
    (lambda: resample(np.zeros((5, 0)), 30, 20, axis=1), "x"),
    (lambda: resample(np.zeros((5, 3)), 30, 20, axis=2), "axis"),
    (lambda: resample(np.float32(1), 30, 20), "x"),
    (lambda: resample_to_length(np.zeros((5, 3)), 0), "length"),
    (lambda: resample_to_length(np.zeros((0, 3)), 4), "x"),
])
def test_bad_input_raises_data_error(call, field):
    with pytest.raises(DataError, match=f"field '{field}'"):
        call()


def test_resample_clip_keeps_flags():
    clip = MotionClip(joints=_ramp(16, 15.0)[:, :, :].repeat(11, axis=1)[:, :22].astype(np.float32),
                      layout="smpl22", fps=15.0, captions=["x"], name="c", source="procedural", synthetic=True)
    out = resample_clip(clip, 20.0)
    assert out.fps == 20.0 and out.num_frames == 21 and out.synthetic
    assert out.meta["resampled_from_fps"] == 15.0 and abs(out.duration - clip.duration) < 0.1
