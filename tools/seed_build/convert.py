"""Source files → SMPL-22 clips at 20 fps: DeepMimic motion files and CMU BVH windows."""
from __future__ import annotations

from pathlib import Path
from typing import Dict, List, Sequence

import numpy as np

from kinemic_aug.data.bvh import CMU_UNIT_TO_METRES, bvh_to_layout
from kinemic_aug.data.bvh_parse import read_bvh
from kinemic_aug.data.corpus import MotionClip
from kinemic_aug.data.deepmimic import deepmimic_to_joints, frame_times, read_deepmimic
from kinemic_aug.skeleton.resample import resample
from kinemic_aug.skeleton.retarget import retarget

from .clips import ClipSpec
from .geometry import canonicalise, loop_cycles, to_floor
from .recorded import FPS, LAYOUT, LICENCE_CMU, LICENCE_DEEPMIMIC, MAX_CLOSURE_M, MIN_SECONDS


def deepmimic_clip(spec: ClipSpec, motions: Path) -> MotionClip:
    """One DeepMimic file as an SMPL-22 clip: regular frame grid, retarget, loop short cycles, 20 fps,
    floor, canonical start."""
    path = motions / spec.origin_file
    m = read_deepmimic(path)
    joints = deepmimic_to_joints(m["frames"], source=str(path))
    t = frame_times(m["dt"])
    fps = m["fps"]
    step = 1.0 / fps
    if np.abs(np.diff(t) - step).max() > 1e-3 * step:
        # one clip (roll) skips a frame: put it on a regular grid at its own rate before resampling
        grid = np.arange(0.0, t[-1] + 1e-9, step)
        joints = np.stack([np.stack([np.interp(grid, t, joints[:, j, c]) for c in range(3)], -1)
                           for j in range(joints.shape[1])], 1).astype(np.float32)
    smpl = retarget(joints, "deepmimic15", LAYOUT, sample=spec.name)
    meta = {"loop": m["loop"], "source_fps": round(fps, 3), "source_frames": int(len(joints))}
    # loop at the source rate, where the last frame is exactly the closing pose of the cycle
    min_frames = int(np.ceil(MIN_SECONDS * fps)) + 1
    if m["loop"] == "wrap" and len(smpl) < min_frames:
        looped, cycles, closure = loop_cycles(smpl, min_frames)
        if closure < MAX_CLOSURE_M:
            smpl = looped
            meta.update(loop_cycles=cycles, loop_closure_m=round(closure, 3))
        else:
            print(f"  {spec.name}: cycle does not close ({closure:.2f} m), kept at {len(smpl)} frames")
    smpl = to_floor(resample(smpl, fps, FPS, sample=spec.name))
    return _clip(spec, canonicalise(smpl), LICENCE_DEEPMIMIC, meta)


def cmu_clips(specs: Sequence[ClipSpec], bvh_dir: Path) -> List[MotionClip]:
    """The CMU windows of ``specs``; each take is parsed and retargeted once and floored on all its rows
    but the reference pose, so every window of a take shares one floor."""
    out, takes = [], {}
    for spec in specs:
        if spec.origin_file not in takes:
            b = read_bvh(bvh_dir / spec.origin_file)
            x = bvh_to_layout(b, "cmu_bvh", scale=CMU_UNIT_TO_METRES)
            smpl = retarget(x, "cmu_bvh", LAYOUT, sample=spec.origin_file)
            floor = smpl[1:, :, 1].min()  # row 0 is the converter's reference pose
            takes[spec.origin_file] = (smpl, floor, b.fps)
        smpl, floor, fps = takes[spec.origin_file]
        a, z = spec.span
        w = smpl[a:z].copy()
        w[..., 1] -= floor
        w = resample(w, fps, FPS, sample=spec.name)
        meta = {"source_fps": round(fps, 3), "frame_span": [a, z], "frame_span_unit": "source frames (120 fps)",
                "span_seconds": [round(a / fps, 3), round(z / fps, 3)], "cmu_subject": 1,
                "cmu_trial": int(spec.origin_file.split("_")[1].split(".")[0])}
        out.append(_clip(spec, canonicalise(w), LICENCE_CMU, meta))
    return out


def _clip(spec: ClipSpec, joints: np.ndarray, licence: str, extra: Dict) -> MotionClip:
    meta = {"licence": licence, "origin_file": spec.origin_file, "caption_origin": "authored",
            "caption_author": "kinemic-aug project", "tags": list(spec.tags), **extra}
    meta.setdefault("frame_span", [0, int(extra.get("source_frames", len(joints)))])
    return MotionClip(joints=joints, layout=LAYOUT, fps=FPS, captions=list(spec.captions), name=spec.name,
                      source=spec.source, synthetic=False, meta=meta)
