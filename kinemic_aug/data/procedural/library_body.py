"""Whole-body everyday actions: bends, squats, lunges, sitting, stretches, dances and daily activities."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

from .action_kit import Ctx, Key, action, flat_feet, hold_osc


# ------------------------------------------------------------------------------ bends, squats, lunges, sitting
@action("bend_touch_floor", "bend forward and touch the floor", ["bend"], duration=(2.5, 4.5),
        templates=("<bend> forward and <touch> the floor", "<bend> down to touch the ground", "<reach> down to the floor",
                   "<bend> over and <touch> the ground with their hands"))
def bend_touch_floor(ctx: Ctx) -> np.ndarray:
    down = {"root_pitch": 60, "b_hip_flex": 60, "b_knee": 10, "b_ankle": 8, "spine_flex": 35, "b_sh_flex": 85,
            "b_elbow": 5, "neck_flex": -5}
    return ctx.keyed([(0, {}), (1.0, down), (1.0 + ctx.u(0.4, 1.0), down), (2.7, {})])


@action("pick_up", "pick something up from the floor", ["bend", "object"], sided=True, duration=(2.5, 4.5),
        templates=("<pick> something up from the floor with the {side} hand", "<bend> down and <pick> up an object",
                   "<reach> down and <grab> something from the ground", "<pick> up something from the ground",
                   "<bend> down and <pick> something up with their {side} hand"))
def pick_up(ctx: Ctx) -> np.ndarray:
    down = flat_feet({"root_pitch": 40, "b_hip_flex": 80, "b_knee": 80, "spine_flex": 30, "s_sh_flex": 40,
                      "s_elbow": 5, "o_sh_flex": 10, "o_elbow": 40, "neck_flex": 10, "o_hip_flex": -10})
    up = {"s_sh_flex": 25, "s_elbow": 80}
    return ctx.keyed([(0, {}), (1.0, down), (1.4, down), (2.3, up), (2.8, up), (3.4, {})])


@action("squat", "do squats", ["exercise", "bend"], duration=(2.5, 7.0),
        templates=("<squat> down and <stand> back up", "<do> squats", "<squat>", "<bend> their knees into a squat"))
def squat(ctx: Ctx) -> np.ndarray:
    low = flat_feet({"root_pitch": 30, "b_hip_flex": 100, "b_knee": 105, "b_hip_abd": 8, "spine_flex": 5,
                     "b_sh_flex": 80, "b_elbow": 10, "neck_flex": -10})
    n = ctx.reps(2.0, 0.3, 5)
    keys: List[Key] = [(0, {})]
    t = 0.0
    for _ in range(n):
        keys += [(t + 0.9, low), (t + 1.2, low), (t + 2.0, {})]
        t += 2.0
    ctx.info["squats"] = n
    return ctx.keyed(keys)


@action("lunge", "lunge forward", ["exercise"], sided=True, duration=(2.5, 5.0),
        templates=("<lunge> forward with the {side} leg", "<step> forward with the {side} leg into a lunge",
                   "<do> a lunge with their {side} leg", "<do> forward lunges"))
def lunge(ctx: Ctx) -> np.ndarray:
    step = {"s_hip_flex": 45, "s_knee": 60, "s_ankle": 5}
    low = {"s_hip_flex": 80, "s_knee": 90, "s_ankle": 10, "o_hip_flex": -25, "o_knee": 100, "o_ankle": -10,
           "spine_flex": -3, "b_sh_abd": 10}
    return ctx.keyed([(0, {}), (0.4, step), (0.9, low), (1.5, low), (2.1, step), (2.6, {})])


@action("sit_down", "sit down on a chair", ["sit"], duration=(2.0, 4.0), end_pose="sit", standing=True,
        templates=("<sit> down", "<sit> down on a chair", "<lower> themself onto a seat", "<take> a seat"))
def sit_down(ctx: Ctx) -> np.ndarray:
    mid = flat_feet({"root_pitch": 35, "b_hip_flex": 60, "b_knee": 55, "spine_flex": 15, "b_sh_flex": 25})
    return ctx.keyed([(0, {}), (0.8, mid), (1.5, SEATED), (2.0, SEATED)])


SEATED = {"root_pitch": 5, "b_hip_flex": 88, "b_knee": 88, "b_ankle": 0, "spine_flex": 8, "b_sh_flex": 30,
          "b_elbow": 45, "b_sh_hadd": 10}


@action("stand_up", "stand up from a chair", ["sit"], duration=(2.0, 4.0), start_pose="sit", standing=True,
        templates=("<stand> up", "<get> up from a chair", "<rise> from a seated position", "<stand> up from sitting"))
def stand_up(ctx: Ctx) -> np.ndarray:
    lean = flat_feet({"root_pitch": 40, "b_hip_flex": 80, "b_knee": 85, "spine_flex": 20, "b_sh_flex": 35})
    return ctx.keyed([(0, SEATED), (0.6, SEATED), (1.1, lean), (1.9, {}), (2.1, {})])


# ------------------------------------------------------------------------------ stretches
@action("stretch_overhead", "stretch both arms overhead", ["stretch"], duration=(2.5, 5.0),
        templates=("<stretch> their arms above their head", "<stretch>", "<reach> both arms up high and <stretch>",
                   "<stretch> upwards"))
def stretch_overhead(ctx: Ctx) -> np.ndarray:
    up = {"b_sh_flex": 165, "b_sh_abd": 8, "b_elbow": 5, "spine_flex": -12, "neck_flex": -20, "b_ankle": -12}
    sway = dict(up, spine_lat=ctx.u(-10, 10))
    return ctx.keyed([(0, {}), (0.9, up), (1.5, sway), (2.2, up), (3.1, {})])


@action("side_bend", "bend the upper body to one side", ["stretch"], sided=True, duration=(2.5, 4.5),
        templates=("<bend> to the {side} side", "<lean> their upper body to the {side}", "<stretch> to the {side}",
                   "<do> a side bend to their {side}"))
def side_bend(ctx: Ctx) -> np.ndarray:
    bend = {"spine_lat~": 30, "root_roll~": 4, "o_sh_abd": 150, "o_elbow": 20, "s_sh_abd": -4, "s_sh_flex": -5,
            "neck_lat~": 8, "o_hip_abd": 3}
    return ctx.keyed([(0, {}), (1.0, bend), (1.0 + ctx.u(0.5, 1.2), bend), (2.8, {})])


@action("toe_touch", "touch the toes with straight legs", ["stretch", "bend"], duration=(3.0, 5.5),
        templates=("<touch> their toes", "<bend> down and <touch> their toes", "<stretch> down to their toes",
                   "<reach> for their toes"))
def toe_touch(ctx: Ctx) -> np.ndarray:
    up = {"b_sh_flex": 160, "b_elbow": 5, "spine_flex": -8}
    down = {"root_pitch": 62, "b_hip_flex": 62, "b_knee": 2, "b_ankle": 8, "spine_flex": 38, "b_sh_flex": 90,
            "b_sh_hadd": 8, "b_elbow": 5, "neck_flex": -5}
    return ctx.keyed([(0, {}), (0.8, up), (1.8, down), (2.5, down), (3.5, {})])


# ------------------------------------------------------------------------------ dances
@action("dance_sway", "sway from side to side to music", ["dance"], duration=(3.0, 7.0),
        templates=("<sway> from side to side", "<dance> swaying their hips", "<sway> to music", "<dance> slowly in place"))
def dance_sway(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.6, 0.6)
    phi = ctx.phase(ctx.u(0.5, 0.8) * ctx.speed)
    s = np.sin(phi)
    ctx.add(tr, "l_hip_abd", e * 7 * ctx.amp * s)
    ctx.add(tr, "r_hip_abd", e * -7 * ctx.amp * s)
    ctx.add(tr, "spine_lat", e * -6 * s)
    ctx.add(tr, "neck_lat", e * 4 * s)
    ctx.add(tr, "b_knee", e * (8 + 6 * np.abs(np.cos(phi))))
    arms_up = ctx.u(0, 1) > 0.5
    ctx.add(tr, "b_sh_abd", e * (120 if arms_up else 25))
    ctx.add(tr, "b_elbow", e * (30 if arms_up else 60))
    ctx.add(tr, "b_sh_flex", e * 20 * np.cos(phi))
    return tr


@action("dance_twist", "do the twist dance", ["dance"], duration=(3.0, 6.0),
        templates=("<do> the twist", "<twist> their hips while dancing", "<dance> twisting from side to side",
                   "<twist> back and forth"))
def dance_twist(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.5, 0.5)
    phi = ctx.phase(ctx.u(1.2, 1.7) * ctx.speed)
    th = 28 * ctx.amp * np.sin(phi)
    ctx.add(tr, "root_yaw", e * th)
    ctx.add(tr, "l_hip_rot", e * th)
    ctx.add(tr, "r_hip_rot", e * -th)
    ctx.add(tr, "spine_rot", e * -0.9 * th)
    ctx.add(tr, "b_knee", e * (25 + 10 * np.sin(0.5 * phi) ** 2))
    ctx.add(tr, "b_hip_flex", e * 15)
    ctx.add(tr, "b_ankle", e * 12)
    ctx.add(tr, "b_sh_abd", e * 35)
    ctx.add(tr, "b_elbow", e * 80)
    ctx.add(tr, "b_sh_flex", e * 20)
    ctx.add(tr, "b_sh_hadd", e * -0.4 * th)
    return tr


@action("dance_steps", "simple dance steps: step and touch", ["dance"], duration=(3.0, 7.0),
        templates=("<dance>", "<do> simple dance steps", "<step> side to side while dancing", "<dance> in place, stepping left and right"))
def dance_steps(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.5, 0.5)
    phi = ctx.phase(ctx.u(0.45, 0.65) * ctx.speed, 0.02)
    s = np.sin(phi)
    ctx.add(tr, "l_hip_abd", e * 12 * np.maximum(s, 0) * ctx.amp)
    ctx.add(tr, "r_hip_abd", e * 12 * np.maximum(-s, 0) * ctx.amp)
    ctx.add(tr, "l_knee", e * 25 * np.maximum(-np.sin(2 * phi), 0) * (s < 0))
    ctx.add(tr, "r_knee", e * 25 * np.maximum(np.sin(2 * phi), 0) * (s > 0))
    ctx.add(tr, "b_knee", e * 10)
    ctx.add(tr, "b_elbow", e * (70 + 20 * np.sin(2 * phi)))
    ctx.add(tr, "b_sh_flex", e * (30 + 15 * np.cos(2 * phi)))
    ctx.add(tr, "spine_lat", e * -5 * s)
    ctx.add(tr, "neck_rot", e * 10 * s)
    return tr


# ------------------------------------------------------------------------------ daily activities
def _hand_to_head(ctx: Ctx, pose: Dict[str, float], osc: Sequence[Tuple[str, float]], freq: float) -> np.ndarray:
    return hold_osc(ctx, pose, 0.6, 0.6, osc, freq)


@action("drink", "drink from a cup", ["daily", "arm"], sided=True, duration=(2.5, 5.0),
        templates=("<drink> from a cup with the {side} hand", "<take> a drink", "<raise> a glass to their mouth and <drink>",
                   "<drink> something", "<take> a drink holding the cup in their {side} hand"))
def drink(ctx: Ctx) -> np.ndarray:
    reach = {"s_sh_flex": 35, "s_elbow": 70}
    mouth = {"s_sh_flex": 45, "s_sh_hadd": 30, "s_sh_rot": -10, "s_elbow": 135, "neck_flex": -5}
    tilt = {**mouth, "s_sh_flex": 60, "s_sh_abd": 10, "neck_flex": -28}
    return ctx.keyed([(0, {}), (0.5, reach), (1.0, mouth), (1.4, tilt), (1.4 + ctx.u(0.5, 1.5), tilt), (2.6, mouth),
                      (3.2, reach), (3.6, {})])


@action("eat", "eat with one hand", ["daily", "arm"], sided=True, duration=(3.0, 6.0),
        templates=("<eat> with their {side} hand", "<eat> something", "<bring> food to their mouth with the {side} hand",
                   "<take> bites of food"))
def eat(ctx: Ctx) -> np.ndarray:
    low = {"s_sh_flex": 20, "s_elbow": 75, "s_sh_hadd": 15, "o_sh_flex": 20, "o_elbow": 70, "o_sh_hadd": 20,
           "neck_flex": 15, "spine_flex": 5}
    mouth = {**low, "s_sh_flex": 40, "s_sh_hadd": 32, "s_elbow": 138, "neck_flex": 8}
    n = ctx.reps(1.3, 1.0, 5)
    keys: List[Key] = [(0, {}), (0.5, low)]
    t = 0.5
    for _ in range(n):
        keys += [(t + 0.5, mouth), (t + 0.8, mouth), (t + 1.3, low)]
        t += 1.3
    keys.append((t + 0.5, {}))
    return ctx.keyed(keys)


@action("phone_call", "talk on the phone", ["daily", "arm"], sided=True, duration=(3.0, 7.0),
        templates=("<hold> a phone to their {side} ear", "<talk> on the phone", "<answer> a phone call",
                   "<make> a phone call holding the phone in their {side} hand"))
def phone_call(ctx: Ctx) -> np.ndarray:
    pose = {"s_sh_flex": 30, "s_sh_abd": 25, "s_sh_hadd": 15, "s_sh_rot": 20, "s_elbow": 148, "neck_lat~": 10,
            "o_sh_flex": 10, "o_elbow": 30}
    return hold_osc(ctx, pose, 0.7, 0.7, [("neck_rot", 10), ("spine_rot", 4), ("o_elbow", 15)], ctx.u(0.2, 0.35))


@action("brush_teeth", "brush the teeth", ["daily", "arm"], sided=True, duration=(3.0, 6.0),
        templates=("<brush> their teeth", "<brush> their teeth with the {side} hand", "<scrub> their teeth with a toothbrush",
                   "<move> a toothbrush back and forth at their mouth", "<scrub> their teeth using their {side} hand"))
def brush_teeth(ctx: Ctx) -> np.ndarray:
    pose = {"s_sh_flex": 40, "s_sh_hadd": 35, "s_elbow": 135, "neck_flex": 10, "spine_flex": 5}
    return _hand_to_head(ctx, pose, [("s_sh_hadd", 7), ("s_elbow", 4)], ctx.u(2.5, 3.5))


@action("comb_hair", "comb the hair", ["daily", "arm"], sided=True, duration=(3.0, 6.0),
        templates=("<comb> their hair", "<comb> their hair with the {side} hand", "<brush> their hair",
                   "<run> a comb through their hair", "<brush> their hair with their {side} hand"))
def comb_hair(ctx: Ctx) -> np.ndarray:
    pose = {"s_sh_abd": 95, "s_sh_flex": 35, "s_sh_rot": 45, "s_elbow": 125, "neck_flex": 5}
    return _hand_to_head(ctx, pose, [("s_sh_flex", -18), ("s_elbow", 12)], ctx.u(0.9, 1.3))


@action("look_around", "look around", ["daily", "head"], duration=(3.0, 6.0),
        templates=("<look> around", "<look> left and right", "<turn> their head to look around", "<glance> around them"))
def look_around(ctx: Ctx) -> np.ndarray:
    n = ctx.reps(1.3, 0.6, 5)
    keys: List[Key] = [(0, {})]
    t = 0.0
    sign = 1.0 if ctx.u(0, 1) > 0.5 else -1.0
    for i in range(n):
        ang = sign * (1 if i % 2 == 0 else -1) * ctx.u(40, 70)
        keys += [(t + 0.6, {"neck_rot": ang, "spine_rot": 0.35 * ang, "neck_flex": ctx.u(-12, 8)}), (t + 1.3, {"neck_rot": ang,
                 "spine_rot": 0.35 * ang})]
        t += 1.3
    keys.append((t + 0.6, {}))
    return ctx.keyed(keys, scale_amp=False)
