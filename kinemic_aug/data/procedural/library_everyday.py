"""Arm gestures, object handling, bends, squats, stretches, dances and daily activities."""
from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

from .action_kit import Ctx, Key, action, flat_feet, smoothstep


def _hold_osc(ctx: Ctx, pose: Dict[str, float], rise: float, lower: float, osc: Sequence[Tuple[str, float]],
              freq: float, hold_min: float = 0.8) -> np.ndarray:
    """Raise into ``pose``, oscillate channels (``(key, amplitude)``) at ``freq`` Hz, lower again."""
    hold = max(ctx.dur * ctx.speed - rise - lower - 0.4, hold_min)
    tr = ctx.keyed([(0, {}), (rise, pose), (rise + hold, pose), (rise + hold + lower, {})])
    a0, a1 = ctx.info["active"]
    start = a0 / ctx.fps + rise / ctx.speed * 0.8
    end = a1 / ctx.fps - lower / ctx.speed * 0.8
    e = ctx.env(0.3, 0.3, start=start, end=max(end, start + 0.2))
    phi = ctx.phase(freq * ctx.speed, 0.03)
    for key, amp in osc:
        ctx.add(tr, key, e * amp * ctx.amp * np.sin(phi))
    return tr


# ------------------------------------------------------------------------------ gestures
@action("wave_overhead", "wave one hand high above the head", ["gesture", "arm"], sided=True, duration=(2.0, 4.5),
        templates=("<wave> their {side} hand above their head", "<raise> the {side} arm high and <wave>",
                   "<wave> the {side} hand over their head", "<wave> their {side} arm in the air"))
def wave_overhead(ctx: Ctx) -> np.ndarray:
    return _hold_osc(ctx, {"s_sh_abd": 140, "s_sh_flex": 15, "s_elbow": 15, "s_sh_rot": 40, "neck_flex": -5},
                     0.5, 0.5, [("s_sh_abd", 14), ("s_elbow", 14), ("spine_lat~", -2)], ctx.u(1.6, 2.4))


@action("wave_sideways", "wave one hand side to side at head height", ["gesture", "arm"], sided=True,
        duration=(2.0, 4.0), templates=("<wave> their {side} hand", "<wave> hello with the {side} hand",
                                        "<wave> the {side} hand from side to side", "<wave> goodbye with their {side} hand"))
def wave_sideways(ctx: Ctx) -> np.ndarray:
    return _hold_osc(ctx, {"s_sh_abd": 65, "s_sh_flex": 20, "s_sh_rot": 75, "s_elbow": 90},
                     0.45, 0.45, [("s_elbow", 22), ("s_sh_rot", 6)], ctx.u(1.8, 2.6))


@action("wave_both_hands", "wave both hands above the head", ["gesture", "arm"], duration=(2.0, 4.5),
        templates=("<wave> both hands above their head", "<raise> both arms and <wave>", "<wave> both arms in the air",
                   "<wave> with both hands"))
def wave_both_hands(ctx: Ctx) -> np.ndarray:
    tr = _hold_osc(ctx, {"b_sh_abd": 140, "b_sh_flex": 15, "b_elbow": 15, "b_sh_rot": 40}, 0.5, 0.5,
                   [("b_sh_abd", 14), ("spine_lat", 3)], ctx.u(1.2, 1.8))
    return tr


@action("clap", "clap hands", ["gesture", "arm"], duration=(1.8, 4.0),
        templates=("<clap> their hands", "<clap> several times", "<applaud>", "<clap> their hands in front of their chest"))
def clap(ctx: Ctx) -> np.ndarray:
    return _hold_osc(ctx, {"b_sh_flex": 50, "b_sh_hadd": 42, "b_elbow": 75, "b_sh_rot": -10}, 0.4, 0.4,
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
    return _hold_osc(ctx, {"s_sh_flex": 45, "s_sh_rot": 15, "s_elbow": 70}, 0.4, 0.4, [("s_elbow", 30)], ctx.u(1.3, 1.8))


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
    return _hold_osc(ctx, {"spine_flex": 25, "root_pitch": 10, "b_hip_flex": 10, "b_knee": 12, "s_sh_flex": 40, "s_elbow": 60,
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
    return _hold_osc(ctx, {"spine_flex": 20, "b_knee": 10, "b_sh_flex": 40, "b_sh_hadd": 25, "s_elbow": 30, "o_elbow": 60,
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
    return _hold_osc(ctx, pose, 0.6, 0.6, osc, freq)


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
    return _hold_osc(ctx, pose, 0.7, 0.7, [("neck_rot", 10), ("spine_rot", 4), ("o_elbow", 15)], ctx.u(0.2, 0.35))


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
