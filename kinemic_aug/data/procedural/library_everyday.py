"""Arm gestures and object handling (tools, lifting, carrying, pushing, pulling)."""
from __future__ import annotations

from typing import Dict, List, Tuple

import numpy as np

from .action_kit import Ctx, Key, action, flat_feet, hold_osc


# ------------------------------------------------------------------------------ gestures
@action("wave_overhead", "wave one hand high above the head", ["gesture", "arm"], sided=True, duration=(2.0, 4.5),
        templates=("<wave> their {side} hand above their head", "<raise> the {side} arm high and <wave>",
                   "<wave> the {side} hand over their head", "<wave> their {side} arm in the air"))
def wave_overhead(ctx: Ctx) -> np.ndarray:
    return hold_osc(ctx, {"s_sh_abd": 140, "s_sh_flex": 15, "s_elbow": 15, "s_sh_rot": 40, "neck_flex": -5},
                     0.5, 0.5, [("s_sh_abd", 14), ("s_elbow", 14), ("spine_lat~", -2)], ctx.u(1.6, 2.4))


@action("wave_sideways", "wave one hand side to side at head height", ["gesture", "arm"], sided=True,
        duration=(2.0, 4.0), templates=("<wave> their {side} hand", "<wave> hello with the {side} hand",
                                        "<wave> the {side} hand from side to side", "<wave> goodbye with their {side} hand"))
def wave_sideways(ctx: Ctx) -> np.ndarray:
    return hold_osc(ctx, {"s_sh_abd": 65, "s_sh_flex": 20, "s_sh_rot": 75, "s_elbow": 90},
                     0.45, 0.45, [("s_elbow", 22), ("s_sh_rot", 6)], ctx.u(1.8, 2.6))


@action("wave_both_hands", "wave both hands above the head", ["gesture", "arm"], duration=(2.0, 4.5),
        templates=("<wave> both hands above their head", "<raise> both arms and <wave>", "<wave> both arms in the air",
                   "<wave> with both hands"))
def wave_both_hands(ctx: Ctx) -> np.ndarray:
    tr = hold_osc(ctx, {"b_sh_abd": 140, "b_sh_flex": 15, "b_elbow": 15, "b_sh_rot": 40}, 0.5, 0.5,
                   [("b_sh_abd", 14), ("spine_lat", 3)], ctx.u(1.2, 1.8))
    return tr


@action("clap", "clap hands", ["gesture", "arm"], duration=(1.8, 4.0),
        templates=("<clap> their hands", "<clap> several times", "<applaud>", "<clap> their hands in front of their chest"))
def clap(ctx: Ctx) -> np.ndarray:
    return hold_osc(ctx, {"b_sh_flex": 50, "b_sh_hadd": 42, "b_elbow": 75, "b_sh_rot": -10}, 0.4, 0.4,
                     [("b_sh_hadd", 11), ("b_elbow", -5)], ctx.u(2.0, 3.0))


@action("point", "point at something", ["gesture", "arm"], sided=True, duration=(1.8, 3.5),
        templates=("<point> with their {side} hand", "<point> at something with the {side} arm",
                   "<point> forward with their {side} index finger", "<raise> the {side} arm and <point>"))
def point(ctx: Ctx) -> np.ndarray:
    direction = ctx.u(-25, 45)           # horizontal: positive = across the body
    height = ctx.u(70, 105)
    ctx.info["point_direction"] = round(direction, 1)
    pose = {"s_sh_flex": height, "s_sh_hadd": direction, "s_elbow": -5, "neck_rot~": -0.6 * direction,
            "spine_rot~": -0.2 * direction}
    return ctx.keyed([(0, {}), (0.5, pose), (0.5 + ctx.u(0.8, 1.6), pose), (2.2, {})])


@action("salute", "military salute", ["gesture", "arm"], sided=True, duration=(2.0, 3.5),
        templates=("<salute> with the {side} hand", "<give> a military salute", "<raise> their {side} hand to their forehead in a salute",
                   "<salute>"))
def salute(ctx: Ctx) -> np.ndarray:
    pose = {"s_sh_abd": 60, "s_sh_flex": 30, "s_sh_hadd": 35, "s_sh_rot": 45, "s_elbow": 130, "neck_flex": -3,
            "spine_flex": -3}
    return ctx.keyed([(0, {}), (0.45, pose), (0.45 + ctx.u(0.8, 1.5), pose), (2.3, {})])


@action("beckon", "beckon someone to come closer", ["gesture", "arm"], sided=True, duration=(2.0, 3.5),
        templates=("<beckon> with their {side} hand", "<wave> someone over with the {side} hand",
                   "<gesture> for someone to come closer", "<call> someone over with a {side} hand gesture"))
def beckon(ctx: Ctx) -> np.ndarray:
    return hold_osc(ctx, {"s_sh_flex": 45, "s_sh_rot": 15, "s_elbow": 70}, 0.4, 0.4, [("s_elbow", 30)], ctx.u(1.3, 1.8))


_SHAPES: Dict[str, List[Tuple[float, float]]] = {
    # (x to the person's left, y up) in degrees of shoulder motion
    "circle": [(np.cos(a) * 22, np.sin(a) * 22) for a in np.linspace(0.5 * np.pi, 2.5 * np.pi, 13)],
    "cross": [(-20, 20), (20, -20), (20, 20), (-20, -20)],
    "check_mark": [(-18, 5), (-5, -15), (25, 25)],
    "zigzag": [(-25, 15), (-12, -15), (0, 15), (12, -15), (25, 15)],
}


def _draw(shape: str):
    def fn(ctx: Ctx) -> np.ndarray:
        pts = _SHAPES[shape]
        size = ctx.u(0.8, 1.3)
        up, across = ctx.u(70, 95), ctx.u(0, 25)
        keys: List[Key] = [(0.0, {})]
        t = 0.5
        step = 1.6 / len(pts) if shape == "circle" else 0.45
        for i, (x, y) in enumerate(pts):
            pose = {"s_sh_flex": up + size * y, "s_sh_hadd": across, "s_sh_hadd~": -size * x, "s_elbow": 12}
            if shape == "cross" and i == 2:
                keys.append((t, {**pose, "s_sh_flex": up + size * 20 + 8, "s_elbow": 25}))   # lift between strokes
                t += 0.25
            keys.append((t, pose))
            t += step
        keys.append((t + 0.5, {}))
        return ctx.keyed(keys, jitter=0.02)
    return fn


for _shape, _words in (("circle", "a circle"), ("cross", "a cross"), ("check_mark", "a check mark"), ("zigzag", "a zigzag")):
    action(f"draw_{_shape}", f"draw {_words} in the air with one hand", ["gesture", "draw", "arm"], sided=True,
           duration=(2.0, 4.0),
           templates=(f"<draw> {_words} in the air with their {{side}} hand", f"<trace> {_words} with the {{side}} hand",
                      f"<draw> {_words} in front of them", f"<make> {_words} shape with their {{side}} arm"))(_draw(_shape))


# ------------------------------------------------------------------------------ tools and objects
@action("hammer", "hammer a nail", ["tool", "arm"], sided=True, duration=(2.5, 5.0),
        templates=("<hammer> something with their {side} hand", "<pound> a nail with a hammer",
                   "<swing> a hammer up and down with the {side} arm", "<hammer> a nail in front of them"))
def hammer(ctx: Ctx) -> np.ndarray:
    stance = {"spine_flex": 15, "b_knee": 10, "o_sh_flex": 40, "o_elbow": 75, "o_sh_hadd": 20, "s_sh_flex": 35,
              "s_elbow": 80, "neck_flex": 20}
    n = ctx.reps(0.6, 1.0, 8)
    keys: List[Key] = [(0, {}), (0.5, stance)]
    t = 0.5
    for _ in range(n):
        keys += [(t + 0.3, {**stance, "s_sh_flex": 95, "s_elbow": 110}), (t + 0.45, {**stance, "s_sh_flex": 35, "s_elbow": 70})]
        t += 0.6
    keys.append((t + 0.5, {}))
    return ctx.keyed(keys)


@action("saw", "saw a piece of wood", ["tool", "arm"], sided=True, duration=(2.5, 5.0),
        templates=("<saw> something with their {side} hand", "<saw> a piece of wood", "<move> their {side} arm back and forth as if sawing",
                   "<cut> wood with a saw"))
def saw(ctx: Ctx) -> np.ndarray:
    return hold_osc(ctx, {"spine_flex": 25, "root_pitch": 10, "b_hip_flex": 10, "b_knee": 12, "s_sh_flex": 40, "s_elbow": 60,
                           "o_sh_flex": 45, "o_elbow": 40, "o_sh_hadd": 25, "s_hip_flex": -10, "o_hip_flex": 15, "neck_flex": 15},
                     0.6, 0.6, [("s_sh_flex", 22), ("s_elbow", -35), ("spine_rot~", 4)], ctx.u(1.0, 1.5))


@action("dig", "dig with a shovel", ["tool", "bend"], duration=(3.0, 6.0),
        templates=("<dig> with a shovel", "<shovel> dirt", "<dig> a hole", "<scoop> and <toss> dirt with a shovel"))
def dig(ctx: Ctx) -> np.ndarray:
    grip = {"b_sh_flex": 35, "b_sh_hadd": 25, "s_elbow": 20, "o_elbow": 70}
    push = flat_feet({**grip, "root_pitch": 25, "b_hip_flex": 35, "b_knee": 35, "spine_flex": 20, "b_sh_flex": 20})
    lift = flat_feet({**grip, "root_pitch": 15, "b_hip_flex": 20, "b_knee": 15, "spine_flex": 10, "b_sh_flex": 55})
    toss = {**grip, "spine_rot~": -35, "b_sh_flex": 70, "spine_flex": 5, "b_knee": 10}
    n = ctx.reps(2.0, 1.0, 4)
    keys: List[Key] = [(0, {})]
    t = 0.0
    for _ in range(n):
        keys += [(t + 0.7, push), (t + 1.2, lift), (t + 1.6, toss), (t + 2.0, grip)]
        t += 2.0
    keys.append((t + 0.5, {}))
    return ctx.keyed(keys)


@action("sweep", "sweep the floor with a broom", ["tool", "arm"], duration=(3.0, 6.0),
        templates=("<sweep> the floor", "<sweep> with a broom", "<sweep> from side to side", "<brush> the floor with a broom"))
def sweep(ctx: Ctx) -> np.ndarray:
    return hold_osc(ctx, {"spine_flex": 20, "b_knee": 10, "b_sh_flex": 40, "b_sh_hadd": 25, "s_elbow": 30, "o_elbow": 60,
                           "neck_flex": 20},
                     0.6, 0.6, [("spine_rot", 18), ("b_sh_hadd", 6), ("root_yaw", 6)], ctx.u(0.6, 0.9))


_SQUAT_REACH = flat_feet({"root_pitch": 35, "b_hip_flex": 95, "b_knee": 105, "spine_flex": 25, "b_sh_flex": 40,
                          "b_sh_hadd": 12, "b_elbow": 15, "neck_flex": 10})


@action("lift_box", "lift a box from the floor", ["object", "bend"], duration=(3.0, 5.0),
        templates=("<lift> a box from the floor", "<pick> up a heavy box", "<bend> down and <lift> a box up",
                   "<lift> something heavy with both hands"))
def lift_box(ctx: Ctx) -> np.ndarray:
    holding = {"b_sh_flex": 35, "b_sh_hadd": 20, "b_elbow": 95, "b_sh_rot": -10, "spine_flex": -5}
    mid = flat_feet({**holding, "root_pitch": 20, "b_hip_flex": 40, "b_knee": 45, "spine_flex": 10})
    return ctx.keyed([(0, {}), (1.0, _SQUAT_REACH), (1.4, _SQUAT_REACH), (2.1, mid), (2.6, holding), (3.6, holding)])


@action("carry", "walk while carrying a box", ["object", "locomotion"], duration=(3.0, 7.0),
        templates=("<carry> a box while walking", "<walk> forward carrying something in both hands",
                   "<carry> a heavy object", "<walk> while holding a box in front of them"))
def carry(ctx: Ctx) -> np.ndarray:
    from .library_locomotion import gait
    tr = ctx.hold()
    e = ctx.env(0.4, 0.4)
    for k, v in {"b_sh_flex": 30, "b_sh_hadd": 22, "b_elbow": 95, "b_sh_rot": -10, "spine_flex": -3}.items():
        ctx.add(tr, k, e * v)
    return gait(ctx, cadence=ctx.u(1.6, 1.85) * ctx.speed, hip_mean=6, hip_amp=ctx.u(22, 25), knee_load=14,
                knee_swing=50, arm_amp=0, elbow=0, lean=-2, arms=False, track=tr)


@action("push", "push something heavy", ["object", "arm"], duration=(2.5, 5.0),
        templates=("<push> something heavy", "<push> an object forward with both hands", "<lean> forward and <push>",
                   "<push> against a wall"))
def push(ctx: Ctx) -> np.ndarray:
    set_ = flat_feet({"o_hip_flex": 25, "o_knee": 25, "s_hip_flex": -10, "s_knee": 5, "root_pitch": 12, "spine_flex": 8,
                      "b_sh_flex": 75, "b_elbow": 90, "b_sh_abd": 10})
    ext = {**set_, "b_elbow": 15, "root_pitch": 18, "o_knee": 30, "s_ankle": set_["s_ankle"] - 15}
    n = ctx.reps(1.2, 1.2, 4)
    keys: List[Key] = [(0, {}), (0.6, set_)]
    t = 0.6
    for _ in range(n):
        keys += [(t + 0.6, ext), (t + 1.2, set_)]
        t += 1.2
    keys.append((t + 0.6, {}))
    return ctx.keyed(keys)


@action("pull", "pull something towards oneself", ["object", "arm"], duration=(2.5, 5.0),
        templates=("<pull> something towards them", "<pull> a rope with both hands", "<lean> back and <pull>",
                   "<pull> an object with both arms"))
def pull(ctx: Ctx) -> np.ndarray:
    reach = flat_feet({"s_hip_flex": 25, "s_knee": 20, "o_hip_flex": -5, "o_knee": 15, "spine_flex": 15,
                       "b_sh_flex": 70, "b_elbow": 10})
    pulled = flat_feet({"s_hip_flex": 20, "s_knee": 15, "o_hip_flex": 5, "o_knee": 25, "spine_flex": -10, "root_pitch": -5,
                        "b_sh_flex": 25, "b_elbow": 110, "b_sh_abd": 15})
    n = ctx.reps(1.4, 1.0, 4)
    keys: List[Key] = [(0, {})]
    t = 0.0
    for _ in range(n):
        keys += [(t + 0.6, reach), (t + 1.2, pulled)]
        t += 1.2
    keys.append((t + 0.6, {}))
    return ctx.keyed(keys)
