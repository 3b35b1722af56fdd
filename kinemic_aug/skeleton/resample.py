"""Linear resampling of motion in time.

Datasets disagree on frame rate (MSR Action3D 15 fps, NTU 30, HumanML3D 20, CMU 120, DeepMimic
16-60); the generator and classifiers need one. :func:`resample` changes the rate but keeps the
*duration* and the *speed*: output frame ``i`` is the input linearly interpolated at time
``i / dst_fps``, and the frame count is ``(T - 1) * dst_fps / src_fps`` rounded half up, plus one, so
``(T' - 1) / dst_fps`` equals ``(T - 1) / src_fps`` up to half an output frame. When rounding up
would step past the last input frame, that final output frame holds the last input pose instead of
extrapolating. :func:`resample_to_length` instead stretches a clip to a fixed frame count with
both end frames kept (what fixed-length models want; it changes speed, not rate).
"""
from __future__ import annotations

import math
from dataclasses import replace
from typing import Optional

import numpy as np

from ..errors import DataError


def _check(x: np.ndarray, axis: int, sample: Optional[str]) -> tuple:
    x = np.asarray(x)
    if x.ndim == 0:
        raise DataError("expected an array with a time axis, got a scalar", sample=sample, field="x")
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or not -x.ndim <= axis < x.ndim:
        raise DataError(f"axis {axis} out of range for shape {x.shape}", sample=sample, field="axis")
    axis %= x.ndim
    if x.shape[axis] == 0:
        raise DataError(f"empty input (0 frames along axis {axis}, shape {x.shape})", sample=sample, field="x")
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"expected a numeric array, got dtype {x.dtype}", sample=sample, field="x")
    return x, axis


def _check_fps(value: float, name: str, sample: Optional[str]) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{name} must be a positive number, got {value!r}", sample=sample, field=name) from None
    if not (math.isfinite(v) and v > 0):
        raise DataError(f"{name} must be a positive finite number, got {value!r}", sample=sample, field=name)
    return v


def _interp(x: np.ndarray, pos: np.ndarray, axis: int) -> np.ndarray:
    """Sample ``x`` at fractional frame positions ``pos`` (within ``[0, T-1]``) along ``axis``."""
    out_dtype = x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64
    xt = np.moveaxis(x, axis, 0).astype(np.float64, copy=False)
    t = xt.shape[0]
    lo = np.clip(np.floor(pos).astype(np.int64), 0, t - 1)
    hi = np.minimum(lo + 1, t - 1)
    w = (pos - lo).reshape((-1,) + (1,) * (xt.ndim - 1))
    res = xt[lo] * (1.0 - w) + xt[hi] * w
    return np.moveaxis(res, 0, axis).astype(out_dtype, copy=False)


def resample(x: np.ndarray, src_fps: float, dst_fps: float, axis: int = 0, *,
             sample: Optional[str] = None) -> np.ndarray:
    """Change the frame rate of ``x`` from ``src_fps`` to ``dst_fps`` by linear interpolation.

    Args:
        x: array with time on ``axis`` and any other dims (``[T, V, 3]``, ``[M, T, V, 3]`` with
            ``axis=1``, ``[T, 263]`` features ...).
        src_fps, dst_fps: frame rates, > 0.
        axis: the time axis.
        sample: sample id used in error messages.

    Returns:
        the resampled array (float input keeps its dtype; integer input becomes float64).
        Equal rates return a copy.
    """
    x, axis = _check(x, axis, sample)
    src = _check_fps(src_fps, "src_fps", sample)
    dst = _check_fps(dst_fps, "dst_fps", sample)
    t = x.shape[axis]
    if src == dst:
        return np.array(x, dtype=x.dtype if np.issubdtype(x.dtype, np.floating) else np.float64, copy=True)
    n = int(math.floor((t - 1) * dst / src + 0.5)) + 1  # half up, not banker's rounding
    # time of output frame i in input-frame units, i.e. (i / dst) * src; the last may be clipped by < 0.5 frame
    pos = np.minimum(np.arange(n, dtype=np.float64) * (src / dst), float(t - 1))
    return _interp(x, pos, axis)


def resample_to_length(x: np.ndarray, length: int, axis: int = 0, *, sample: Optional[str] = None) -> np.ndarray:
    """Stretch or squeeze ``x`` along ``axis`` to exactly ``length`` frames, first and last frame kept.

    ``length == 1`` returns the first frame (a clip has no meaningful single mid-point).
    """
    x, axis = _check(x, axis, sample)
    if isinstance(length, bool) or not isinstance(length, (int, np.integer)) or length < 1:
        raise DataError(f"length must be an integer >= 1, got {length!r}", sample=sample, field="length")
    t = x.shape[axis]
    pos = np.linspace(0.0, float(t - 1), int(length)) if length > 1 else np.zeros(1)
    return _interp(x, pos, axis)


def resample_clip(clip, dst_fps: float):
    """A :class:`~kinemic_aug.data.corpus.MotionClip` at ``dst_fps`` (name, captions and the
    ``synthetic`` flag kept; ``meta['resampled_from_fps']`` records the original rate)."""
    dst = _check_fps(dst_fps, "dst_fps", clip.name)
    if float(clip.fps) == dst:
        return clip
    joints = resample(clip.joints, clip.fps, dst, axis=0, sample=clip.name)
    meta = dict(clip.meta)
    meta.setdefault("resampled_from_fps", float(clip.fps))
    return replace(clip, joints=joints, fps=dst, meta=meta)
