"""The bridge between a user's skeleton dataset and the generator's motion space.

The generalist is trained on SMPL-22 joints at 20 fps, y-up, floor at y = 0. A HAR dataset has its
own layout, frame rate and camera frame (MSR Action3D: Kinect v1, 15 fps, camera coordinates).
:class:`TargetDomain` converts real shots into the generator's space and synthetic motion back:

* to the generator: person 0 of ``keypoint [M, T, V, 3]`` → retarget to SMPL-22 → resample to the
  generator's fps → lowest joint of the clip on the floor (y = 0);
* back: SMPL-22 → resample to the dataset's fps → retarget to the dataset's layout → placed in the
  frame of a reference shot (its heading and root position at frame 0, its floor height), so a
  synthetic sample sits where real samples sit even for pipelines without PreNormalize3D.

Axis convention: every layout is y-up (``layout.up_axis == 1``); data in another convention must be
rotated first, and :meth:`TargetDomain.check` says so instead of guessing.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import DataError
from ..skeleton.layout import SkeletonLayout, get_layout
from ..skeleton.resample import resample
from ..skeleton.retarget import retarget
from .representation import heading_rotation

GENERATOR_LAYOUT = "smpl22"


@dataclass
class TargetDomain:
    """A dataset's skeleton space: layout, frame rate and the generator's frame rate."""

    layout: str
    fps: float
    generator_fps: float = 20.0

    def __post_init__(self) -> None:
        self._layout: SkeletonLayout = get_layout(self.layout)
        self.layout = self._layout.name
        if not self.fps or self.fps <= 0:
            raise DataError(f"fps must be positive, got {self.fps!r}", field="fps")
        if self._layout.up_axis != 1:
            raise DataError(f"layout {self.layout!r} is not y-up (up_axis={self._layout.up_axis}); rotate the data "
                            "to y-up first", field="layout")

    def check(self, keypoint: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        kp = np.asarray(keypoint)
        if kp.ndim != 4 or kp.shape[-1] != 3:
            raise DataError(f"expected [M, T, V, 3] 3-D keypoints, got {kp.shape}", sample=sample, field="keypoint")
        if kp.shape[2] != self._layout.num_joints:
            raise DataError(f"layout {self.layout!r} has {self._layout.num_joints} joints, got {kp.shape[2]}",
                            sample=sample, field="keypoint")
        if kp.shape[1] < 2:
            raise DataError(f"need at least 2 frames, got {kp.shape[1]}", sample=sample, field="keypoint")
        if not np.all(np.isfinite(kp)):
            raise DataError("contains NaN or inf", sample=sample, field="keypoint")
        return kp.astype(np.float32)

    # ------------------------------------------------------------------ dataset → generator
    def to_generator(self, keypoint: np.ndarray, sample: Optional[str] = None) -> np.ndarray:
        """Person 0 of ``[M, T, V, 3]`` as SMPL-22 ``[T', 22, 3]`` at the generator's fps, floor at y = 0.
        Frames where person 0 is all zero (PYSKL's padding) are dropped first."""
        kp = self.check(keypoint, sample)[0]
        valid = ~np.all(kp == 0, axis=(1, 2))
        if valid.sum() < 2:
            raise DataError("person 0 has fewer than 2 non-empty frames", sample=sample, field="keypoint")
        kp = kp[valid]
        j = retarget(kp, self.layout, GENERATOR_LAYOUT, sample=sample)
        j = resample(j, self.fps, self.generator_fps, sample=sample)
        j = j - np.array([0.0, j[..., 1].min(), 0.0], dtype=np.float32)
        return j.astype(np.float32)

    # ------------------------------------------------------------------ generator → dataset
    def from_generator(self, joints: np.ndarray, reference: Optional[np.ndarray] = None,
                       sample: Optional[str] = None) -> np.ndarray:
        """SMPL-22 ``[T, 22, 3]`` (generator fps) → ``[1, T', V, 3]`` in the dataset's layout and fps.

        ``reference``: a real ``[M, T, V, 3]`` sample whose frame-0 heading, root position and floor
        height the result adopts (without it the result stays in the generator's canonical frame).
        """
        j = np.asarray(joints, dtype=np.float32)
        if j.ndim != 3 or j.shape[1:] != (get_layout(GENERATOR_LAYOUT).num_joints, 3):
            raise DataError(f"expected [T, 22, 3] SMPL-22 joints, got {j.shape}", sample=sample, field="joints")
        if not np.all(np.isfinite(j)):
            raise DataError("generated motion contains NaN or inf", sample=sample, field="joints")
        out = resample(j, self.generator_fps, self.fps, sample=sample)
        out = retarget(out, GENERATOR_LAYOUT, self.layout, sample=sample)
        if reference is not None:
            out = self._place_like(out, self.check(reference, sample)[0])
        return out[None].astype(np.float32)

    def _place_like(self, motion: np.ndarray, ref: np.ndarray) -> np.ndarray:
        """Rotate about y and translate ``motion`` (dataset layout) so frame 0 faces and stands where
        ``ref``'s first valid frame does, on ``ref``'s floor."""
        lay = self._layout
        valid = ~np.all(ref == 0, axis=(1, 2))
        ref = ref[valid] if valid.any() else ref
        r_m = heading_rotation(motion[0].astype(np.float64), lay)  # motion heading -> +z
        r_r = heading_rotation(ref[0].astype(np.float64), lay)     # ref heading -> +z
        rot = r_r.T @ r_m                                          # motion heading -> ref heading
        root = lay.root
        m = (motion - motion[0, root]) @ rot.T.astype(np.float32)
        target = ref[0, root].copy()
        m = m + target
        # floors: lowest joint over the clip
        m[..., 1] += ref[..., 1].min() - m[..., 1].min()
        return m
