"""Paths and fixed choices of the demo, in one place so every part agrees on them."""
from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

MSR_LAYOUT = "msr_action3d"
MSR_FPS = 15.0
#: The demo's default MSR Action3D classes (0-based): high arm wave, forward punch, bend, forward kick,
#: jogging, pick up & throw. Six classes keep the demo inside its time budget on a CPU; they were picked
#: to span arm-only, leg-only and whole-body motion, one class from each body region of each MSR action
#: set, before any accuracy was looked at. ``--all-classes`` runs all 20.
MSR_DEMO_CLASSES = (0, 4, 12, 13, 15, 19)
#: classes drawn in the data-layer grid (the same six)
GRID_LABELS = MSR_DEMO_CLASSES
#: the sample retargeted to SMPL-22 and NTU-25 (high throw: whole-body motion)
RETARGET_LABEL = 5
#: prompts of the zero-shot GIF shown when there is no target data
ZERO_SHOT_PROMPTS = ("a person waves the right hand high above the head", "a person jogs in place",
                     "a person bends down and picks something up from the floor", "a person kicks forward with the right leg")
DEFAULT_CONFIG = REPO / "configs" / "stgcn" / "stgcn_msr_xsub_full.py"
NO_DATA_HELP = ("The full demo needs target data: a PYSKL skeleton pickle with a training and a test split, "
                "e.g. MSR Action3D (msr_action3d_skeleton.pkl at ../shared/data/msr_action3d/ or $KINEMIC_MSR_PKL) "
                "or NTU RGB+D .skeleton files converted by kinemic_aug.data.ntu.ntu_to_pyskl (then pass --ann, "
                "--layout nturgb+d, --labels ntu120, --split xsub_train --test-split xsub_val and "
                "--config configs/stgcn/stgcn_ntu120_xsub_3d.py). Research data is never shipped or downloaded.")


def default_msr_path() -> Path:
    """``$KINEMIC_MSR_PKL``, else MSR Action3D in the shared data folder next to the repository."""
    env = os.environ.get("KINEMIC_MSR_PKL")
    return Path(env) if env else REPO.parent / "shared" / "data" / "msr_action3d" / "msr_action3d_skeleton.pkl"
