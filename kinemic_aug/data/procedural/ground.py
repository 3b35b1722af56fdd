"""Root trajectory from contacts: put the body on the floor and let planted limbs move it.

Actions only say how the joints rotate (plus hints for flight). Where the pelvis is follows
from physics-lite rules applied here, which is what makes procedural motion look grounded:

* **Height**: the lowest supporting joint (soles, knees, hands ...) touches the floor in every
  frame (a soft minimum, so support hand-overs are smooth), plus the action's ``air`` height
  while airborne. Bobbing while walking and rising onto the toes fall out of this.
* **Horizontal**: limbs touching the floor do not slide. The pelvis moves by minus the average
  displacement of the touching joints (weighted by how close they are to the floor), so stride
  length and leg swing *produce* the walking speed. In flight (no contact) the velocity is
  interpolated from the neighbouring contact frames plus the action's commanded velocity.
"""
from __future__ import annotations

from typing import Optional, Tuple

import numpy as np

from .body import J, Subject, forward_kinematics, rest_offsets, support_clearances
from .pose import CH, channels_to_rotations

SOFTMIN_TEMPERATURE = 0.004   # metres; soft-min overshoot is at most T * log(#joints at the floor)
CONTACT_DECAY = 0.006         # metres: contact weight exp(-height / decay), so the lowest joint dominates
CONTACT_MAX = 0.03            # metres above the floor beyond which a joint never counts as touching


_FOOT_SIDE = {J["L_ankle"]: 0, J["L_foot"]: 0, J["R_ankle"]: 1, J["R_foot"]: 1}


def _softmin(x: np.ndarray, tau: float) -> np.ndarray:
    m = x.min(axis=1, keepdims=True)
    return (m - tau * np.log(np.exp(-(x - m) / tau).sum(axis=1, keepdims=True)))[:, 0]


def solve_root(track: np.ndarray, subject: Optional[Subject] = None, fps: float = 20.0,
               start_xz: Tuple[float, float] = (0.0, 0.0)) -> Tuple[np.ndarray, np.ndarray]:
    """Joint positions ``[T, 22, 3]`` (metres, y-up, on the floor) for a channel track.

    Returns ``(joints, contact)`` where ``contact`` ``[T]`` is the summed contact weight (0 in flight).
    """
    subject = subject or Subject()
    rel = forward_kinematics(channels_to_rotations(track), rest_offsets(subject))  # root at origin
    clear = support_clearances(subject)
    idx = np.array(list(clear.keys()))
    cval = np.array(list(clear.values()))
    sup = rel[:, idx, 1] - cval[None]                       # [T, S] sole height relative to root
    air = np.maximum(track[:, CH["air"]], 0.0)
    root_y = -_softmin(sup, SOFTMIN_TEMPERATURE) + air
    height = sup + root_y[:, None] - air[:, None]           # height above floor if grounded
    w = np.exp(-np.maximum(height, 0.0) / CONTACT_DECAY) * (height < CONTACT_MAX)
    w = w * (air[:, None] < 0.01)                           # nothing touches while airborne
    hint = np.clip(track[:, CH["hint_on"]], 0.0, 1.0)[:, None]
    foot_side = np.array([_FOOT_SIDE.get(int(j), -1) for j in idx])
    for side, chan in ((0, "c_l"), (1, "c_r")):
        cols = foot_side == side
        w[:, cols] *= (1 - hint) + hint * np.clip(track[:, CH[chan]], 0.0, 1.0)[:, None]
    # horizontal displacement that keeps touching joints still: r(t+1) - r(t) = -(q(t+1) - q(t))
    q = rel[:, idx][:, :, [0, 2]]
    dq = q[1:] - q[:-1]                                     # [T-1, S, 2]
    wm = 0.5 * (w[1:] + w[:-1])
    wsum = wm.sum(axis=1)
    v_contact = -(wm[:, :, None] * dq).sum(axis=1) / np.maximum(wsum, 1e-6)[:, None]
    alpha = np.clip(wsum / 0.5, 0.0, 1.0)
    good = alpha > 0.99
    n = len(dq)
    if good.any() and not good.all():
        fr = np.arange(n)
        v_fill = np.stack([np.interp(fr, fr[good], v_contact[good, k]) for k in range(2)], axis=1)
    elif good.any():
        v_fill = v_contact
    else:
        v_fill = np.zeros_like(v_contact)
    yaw = np.deg2rad(track[:-1, CH["root_yaw"]] + track[1:, CH["root_yaw"]]) * 0.5
    vf, vl = (track[:-1, CH["vfwd"]] + track[1:, CH["vfwd"]]) * 0.5, (track[:-1, CH["vlat"]] + track[1:, CH["vlat"]]) * 0.5
    # heading frame: forward = (sin yaw, cos yaw), left = (cos yaw, -sin yaw) in (x, z)
    cmd = np.stack([vf * np.sin(yaw) + vl * np.cos(yaw), vf * np.cos(yaw) - vl * np.sin(yaw)], axis=1) / fps
    step = alpha[:, None] * v_contact + (1 - alpha[:, None]) * (v_fill + cmd)
    xz = np.concatenate([np.zeros((1, 2)), np.cumsum(step, axis=0)], axis=0) + np.asarray(start_xz)
    joints = rel.copy()
    joints[:, :, 0] += xz[:, None, 0]
    joints[:, :, 2] += xz[:, None, 1]
    joints[:, :, 1] += root_y[:, None]
    return joints.astype(np.float32), w.sum(axis=1)
