"""Where each quantity sits in the 263-d HumanML3D feature vector.

Kept apart from the encoder (:mod:`.hml_vec`) and the decoder (:mod:`.hml_vec_decode`) so both read
one definition; the module docstring of :mod:`.hml_vec` says what each slice holds.
"""
from __future__ import annotations

from typing import Dict

NUM_JOINTS = 22
HML_DIM = 263

#: Named slices of the 263-d vector (the docstring of :mod:`.hml_vec` says what each one holds).
HML_SLICES: Dict[str, slice] = {
    "root_rot_vel": slice(0, 1),
    "root_lin_vel": slice(1, 3),
    "root_y": slice(3, 4),
    "ric": slice(4, 4 + (NUM_JOINTS - 1) * 3),                      # 4:67
    "rot": slice(67, 67 + (NUM_JOINTS - 1) * 6),                    # 67:193
    "local_vel": slice(193, 193 + NUM_JOINTS * 3),                  # 193:259
    "foot_contact": slice(259, 263),
}
assert HML_SLICES["foot_contact"].stop == HML_DIM
