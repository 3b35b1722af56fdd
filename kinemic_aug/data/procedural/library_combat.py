"""Kicks, punches, throws, catches and sports swings: ballistic moves with anticipation
(wind-up), a fast action phase and follow-through, authored as key poses."""
from __future__ import annotations

from typing import Dict, List

import numpy as np

from .action_kit import Ctx, Key, action, flat_feet

GUARD: Dict[str, float] = {"b_sh_flex": 35, "b_sh_hadd": 25, "b_sh_abd": 4, "b_elbow": 115, "b_knee": 14,
                           "b_hip_flex": 10, "spine_flex": 6, "neck_flex": 4}


def _with(base: Dict[str, float], **kw: float) -> Dict[str, float]:
    out = dict(base)
    for k, v in kw.items():
        out[k] = out.get(k, 0.0) + v
    return out


def _kick(ctx: Ctx, chamber: Dict[str, float], strike: Dict[str, float]) -> np.ndarray:
    guard = {"b_sh_flex": 30, "b_sh_hadd": 20, "b_elbow": 100, "o_knee": 12, "b_hip_flex": 4}
    n = ctx.reps(1.3, 0.6, 2)
    keys: List[Key] = [(0.0, {}), (0.35, _with(guard, s_knee=12))]
    t = 0.35
    for _ in range(n):
        keys += [(t + 0.25, {**guard, **chamber}), (t + 0.42, {**guard, **strike}), (t + 0.62, {**guard, **chamber}),
                 (t + 0.95, _with(guard, s_knee=12, s_hip_flex=5))]
        t += 0.95
    keys.append((t + 0.45, {}))
    ctx.info["kicks"] = n
    return ctx.keyed(keys)


@action("front_kick", "kick forward", ["kick", "leg"], sided=True, duration=(1.8, 3.5),
        templates=("<kick> forward with the {side} leg", "<do> a front kick with their {side} foot",
                   "<kick> straight ahead with the {side} leg", "<kick> something in front of them with their {side} foot"))
def front_kick(ctx: Ctx) -> np.ndarray:
    return _kick(ctx, {"s_hip_flex": 75, "s_knee": 105, "s_ankle": -15, "spine_flex": -6},
                 {"s_hip_flex": 85, "s_knee": 8, "s_ankle": -30, "spine_flex": -16, "root_pitch": -5})


@action("side_kick", "kick to the side", ["kick", "leg"], sided=True, duration=(1.8, 3.5),
        templates=("<kick> to the side with the {side} leg", "<do> a side kick with their {side} leg",
                   "<kick> sideways with the {side} foot", "<do> a side kick"))
def side_kick(ctx: Ctx) -> np.ndarray:
    lean = {"root_roll~": -15, "o_hip_abd": 15, "spine_lat~": -18, "root_yaw~": -20}
    return _kick(ctx, {**lean, "s_hip_flex": 65, "s_knee": 110, "s_hip_abd": 25, "s_hip_rot": 25},
                 {**lean, "root_roll~": -22, "o_hip_abd": 22, "spine_lat~": -28, "s_hip_flex": 15, "s_knee": 8,
                  "s_hip_abd": 62, "s_hip_rot": 25, "s_ankle": 15})


@action("back_kick", "kick backwards", ["kick", "leg"], sided=True, duration=(1.8, 3.5),
        templates=("<kick> backwards with the {side} leg", "<kick> behind them with their {side} foot",
                   "<do> a back kick with the {side} leg", "<kick> back"))
def back_kick(ctx: Ctx) -> np.ndarray:
    return _kick(ctx, {"root_pitch": 15, "o_hip_flex": 15, "s_hip_flex": 70, "s_knee": 100, "spine_flex": 10},
                 {"root_pitch": 35, "o_hip_flex": 35, "o_knee": 10, "s_hip_flex": -20, "s_knee": 10, "s_ankle": 10,
                  "spine_flex": 10, "neck_flex": -25, "neck_rot~": 30})


@action("roundhouse_kick", "roundhouse kick", ["kick", "leg"], sided=True, duration=(1.8, 3.5),
        templates=("<do> a roundhouse kick with the {side} leg", "<swing> their {side} leg around in a roundhouse kick",
                   "<kick> in a circular motion with the {side} leg", "<do> a turning kick with their {side} foot"))
def roundhouse_kick(ctx: Ctx) -> np.ndarray:
    return _kick(ctx, {"root_yaw~": -35, "s_hip_abd": 45, "s_hip_flex": 55, "s_knee": 115, "s_hip_rot": 30,
                       "spine_lat~": -12, "o_hip_rot": -20},
                 {"root_yaw~": -70, "s_hip_abd": 55, "s_hip_flex": 65, "s_knee": 12, "s_hip_rot": 40,
                  "spine_lat~": -25, "root_roll~": -10, "o_hip_abd": 10, "o_hip_rot": -40})


# ------------------------------------------------------------------------------ punches
def _punch_pose(kind: str, arm: str) -> Dict[str, float]:
    a, other = arm, ("o" if arm == "s" else "s")
    sg = 1.0 if arm == "s" else -1.0     # trunk twist away from the punching arm
    if kind == "straight":
        return {f"{a}_sh_flex": 55, f"{a}_sh_hadd": -5, f"{a}_elbow": -108, f"{a}_clav_prot": 15,
                "spine_rot~": -22 * sg, "root_yaw~": -8 * sg, f"{other}_elbow": 5}
    if kind == "hook":
        return {f"{a}_sh_abd": 70, f"{a}_sh_flex": 10, f"{a}_sh_hadd": 30, f"{a}_elbow": -25,
                f"{a}_sh_rot": -20, "spine_rot~": -35 * sg, "root_yaw~": -10 * sg}
    if kind == "uppercut":
        return {f"{a}_sh_flex": 70, f"{a}_elbow": -25, f"{a}_sh_hadd": 5, "spine_rot~": -18 * sg,
                "spine_flex": -6, "b_knee": -8}
    if kind == "side":
        return {f"{a}_sh_abd": 80, f"{a}_sh_flex": -30, f"{a}_sh_hadd": -30, f"{a}_elbow": -105,
                f"{a}_sh_rot": 10, "neck_rot~": 55 * sg, "spine_lat~": -6 * sg}
    raise ValueError(kind)


def _punches(ctx: Ctx, seq: List[tuple], beat: float = 0.45) -> np.ndarray:
    stance = {**GUARD, "l_hip_flex": 8, "r_hip_flex": -6}
    keys: List[Key] = [(0.0, {}), (0.45, stance)]
    t = 0.45
    for kind, arm in seq:
        wind = {"uppercut": {"b_knee": 12, f"{arm}_sh_flex": -20, "spine_rot~": 8 * (1 if arm == "s" else -1)}}.get(kind, {})
        if wind:
            keys.append((t + 0.15, _with(stance, **wind)))
            t += 0.15
        keys += [(t + 0.16, _with(stance, **_punch_pose(kind, arm))), (t + beat, stance)]
        t += beat
    keys.append((t + 0.5, {}))
    return ctx.keyed(keys)


def _single_punch(kind: str):
    def fn(ctx: Ctx) -> np.ndarray:
        n = ctx.reps(0.5, 1.0, 4)
        ctx.info["punches"] = n
        return _punches(ctx, [(kind, "s")] * n)
    return fn


for _kind, _desc, _tpl in (
    ("straight", "throw straight punches", ("<punch> forward with their {side} fist", "<throw> a straight punch with the {side} hand",
                                            "<punch> straight ahead with the {side} arm", "<jab> with their {side} hand")),
    ("hook", "throw hook punches", ("<throw> a hook with their {side} hand", "<do> a hook punch with the {side} arm",
                                    "<swing> a {side} hook", "<punch> in an arc with their {side} fist")),
    ("uppercut", "throw uppercuts", ("<throw> an uppercut with the {side} hand", "<punch> upwards with their {side} fist",
                                     "<do> a {side} uppercut", "<swing> their {side} fist up in an uppercut")),
    ("side", "punch out to the side", ("<punch> to the side with their {side} arm", "<throw> a punch to their {side}",
                                       "<punch> sideways with the {side} fist", "<strike> out to the {side} with a punch")),
):
    action(f"{_kind}_punch", _desc, ["punch", "arm"], sided=True, duration=(1.5, 3.5), templates=_tpl)(_single_punch(_kind))


@action("boxing", "box: a combination of punches", ["punch", "arm"], duration=(2.5, 6.0),
        templates=("<box>", "<throw> a combination of punches", "<punch> with both fists", "<shadow box> in place"))
def boxing(ctx: Ctx) -> np.ndarray:
    n = ctx.reps(0.45, 1.0, 10)
    kinds = ["straight", "straight", "hook", "uppercut"]
    seq = [(str(ctx.rng.choice(kinds)), "o" if i % 2 == 0 else "s") for i in range(n)]
    ctx.info["combo"] = [k for k, _ in seq]
    return _punches(ctx, seq, beat=0.4)


# ------------------------------------------------------------------------------ throws
@action("throw_overhand", "throw a ball overhand", ["throw", "arm"], sided=True, duration=(2.0, 3.5),
        templates=("<throw> a ball overhand with the {side} hand", "<throw> something with their {side} arm",
                   "<pitch> a ball with the {side} hand", "<throw> an object forward overhand"))
def throw_overhand(ctx: Ctx) -> np.ndarray:
    wind = {"s_sh_abd": 85, "s_sh_rot": 85, "s_elbow": 85, "s_sh_hadd": -25, "spine_rot~": 35, "root_yaw~": 20,
            "o_sh_flex": 70, "o_elbow": 20, "o_hip_flex": 25, "o_knee": 20, "s_knee": 15, "spine_flex": -8}
    release = {"s_sh_abd": 80, "s_sh_rot": 10, "s_sh_flex": 40, "s_elbow": 25, "spine_rot~": -25, "root_yaw~": -10,
               "o_sh_flex": 20, "o_elbow": 70, "o_hip_flex": 25, "o_knee": 25, "spine_flex": 18}
    follow = {"s_sh_flex": 45, "s_sh_hadd": 55, "s_elbow": 40, "spine_rot~": -35, "root_yaw~": -12, "spine_flex": 28,
              "o_elbow": 60, "o_hip_flex": 20, "o_knee": 28, "s_hip_flex": -12, "s_knee": 20}
    return ctx.keyed([(0, {}), (0.6, wind), (0.82, release), (1.1, follow), (1.8, {})])


@action("throw_underhand", "throw a ball underhand", ["throw", "arm"], sided=True, duration=(2.0, 3.5),
        templates=("<toss> a ball underhand with the {side} hand", "<throw> something underhand with their {side} arm",
                   "<bowl> a ball with the {side} hand", "<lob> an object forward"))
def throw_underhand(ctx: Ctx) -> np.ndarray:
    back = {"s_sh_flex": -45, "s_elbow": 10, "spine_flex": 15, "b_knee": 20, "b_hip_flex": 12, "o_hip_flex": 15,
            "spine_rot~": 10, "o_sh_flex": 30}
    release = {"s_sh_flex": 70, "s_elbow": 15, "spine_flex": 5, "o_hip_flex": 20, "o_knee": 10, "spine_rot~": -15}
    return ctx.keyed([(0, {}), (0.6, back), (0.9, release), (1.2, _with(release, s_sh_flex=25)), (1.8, {})])


@action("chest_pass", "pass a ball with both hands from the chest", ["throw", "arm"], duration=(1.8, 3.0),
        templates=("<pass> a ball from their chest with both hands", "<throw> a ball forward with both hands",
                   "<do> a two-handed chest pass", "<push> a ball away from their chest"))
def chest_pass(ctx: Ctx) -> np.ndarray:
    hold = {"b_sh_flex": 25, "b_sh_abd": 25, "b_elbow": 125, "b_sh_rot": -15, "b_knee": 15, "b_hip_flex": 8}
    out = {"b_sh_flex": 80, "b_sh_hadd": 10, "b_elbow": 5, "b_knee": 10, "s_hip_flex": 25, "s_knee": 20, "spine_flex": 10}
    return ctx.keyed([(0, {}), (0.5, hold), (0.8, hold), (1.0, out), (1.3, out), (1.9, {})])


@action("catch", "catch a ball with both hands", ["catch", "arm"], duration=(1.8, 3.0),
        templates=("<catch> a ball with both hands", "<catch> something thrown at them", "<reach> out and <catch> a ball",
                   "<catch> a ball in front of their chest"))
def catch(ctx: Ctx) -> np.ndarray:
    ready = {"b_sh_flex": 75, "b_sh_abd": 10, "b_elbow": 30, "b_knee": 12}
    grab = {"b_sh_flex": 95, "b_elbow": 20, "b_sh_hadd": 8, "b_knee": 8}
    absorb = {"b_sh_flex": 35, "b_sh_hadd": 20, "b_elbow": 110, "b_knee": 22, "b_hip_flex": 12, "spine_flex": 8}
    return ctx.keyed([(0, {}), (0.5, ready), (0.8, grab), (1.05, absorb), (1.5, absorb), (2.0, {})])


# ------------------------------------------------------------------------------ sports swings
@action("golf_swing", "swing a golf club", ["sport", "swing"], sided=True, duration=(2.5, 4.0),
        templates=("<swing> a golf club", "<take> a golf swing", "<swing> as if hitting a golf ball", "<play> golf",
                   "<swing> a golf club {side}-handed", "<take> a {side}-handed golf swing"))
def golf_swing(ctx: Ctx) -> np.ndarray:
    addr = {"root_pitch": 25, "b_hip_flex": 30, "b_knee": 15, "spine_flex": 10, "b_sh_flex": 30, "b_sh_hadd": 30,
            "b_elbow": 5, "neck_flex": 20}
    back = _with(addr, **{"spine_rot~": 70, "root_yaw~": 20, "s_elbow": 85, "s_sh_abd": 50, "o_sh_hadd": 50,
                          "o_sh_flex": 50, "s_sh_flex": 60, "neck_rot~": -55})
    impact = _with(addr, **{"spine_rot~": -10, "root_yaw~": -5})
    follow = _with(addr, **{"spine_rot~": -60, "root_yaw~": -30, "root_pitch": -15, "b_hip_flex": -15,
                            "o_elbow": 85, "o_sh_abd": 50, "s_sh_hadd": 50, "s_sh_flex": 60, "neck_rot~": 10,
                            "neck_flex": -20, "s_hip_rot": 25})
    return ctx.keyed([(0, {}), (0.6, addr), (1.0, addr), (1.7, back), (1.95, impact), (2.3, follow), (2.8, follow),
                      (3.4, {})])


@action("tennis_forehand", "hit a tennis forehand", ["sport", "swing"], sided=True, duration=(2.0, 3.5),
        templates=("<hit> a tennis forehand with the {side} hand", "<swing> a tennis racket with their {side} arm",
                   "<play> a forehand shot", "<swing> their {side} arm across their body like a tennis forehand"))
def tennis_forehand(ctx: Ctx) -> np.ndarray:
    ready = {"b_knee": 20, "b_hip_flex": 15, "spine_flex": 10, "b_sh_flex": 30, "b_elbow": 60, "b_sh_hadd": 15}
    back = _with(ready, **{"spine_rot~": 45, "root_yaw~": 20, "s_sh_abd": 40, "s_sh_hadd": -50, "s_elbow": -30,
                           "o_sh_flex": 30, "o_sh_hadd": 25, "o_hip_flex": 15})
    hit = _with(ready, **{"spine_rot~": 0, "s_sh_abd": 35, "s_sh_hadd": 10, "s_elbow": -40, "o_hip_flex": 20})
    follow = _with(ready, **{"spine_rot~": -40, "root_yaw~": -10, "s_sh_flex": 70, "s_sh_hadd": 70, "s_elbow": 30,
                             "o_sh_hadd": -15})
    return ctx.keyed([(0, {}), (0.5, ready), (1.0, back), (1.25, hit), (1.5, follow), (2.2, {})])


@action("tennis_serve", "serve in tennis", ["sport", "swing"], sided=True, duration=(2.5, 4.0),
        templates=("<serve> a tennis ball", "<do> a tennis serve with the {side} hand", "<toss> a ball up and <hit> it overhead",
                   "<swing> their {side} arm overhead as if serving"))
def tennis_serve(ctx: Ctx) -> np.ndarray:
    toss = {"o_sh_flex": 160, "o_elbow": 5, "s_sh_abd": 60, "s_sh_flex": -20, "s_elbow": 30, "spine_rot~": 25,
            "o_hip_flex": 10}
    trophy = {"o_sh_flex": 140, "s_sh_abd": 90, "s_sh_rot": 80, "s_elbow": 100, "b_knee": 30, "b_hip_flex": 15,
              "spine_flex": -15, "spine_rot~": 30, "neck_flex": -30}
    hit = {"s_sh_flex": 165, "s_elbow": 5, "o_sh_flex": 40, "o_elbow": 60, "b_ankle": -25, "spine_flex": 5,
           "neck_flex": -30, "air": 0.04}
    follow = {"s_sh_flex": 30, "s_sh_hadd": 60, "s_elbow": 30, "spine_flex": 30, "spine_rot~": -30, "root_pitch": 10,
              "b_hip_flex": 10, "s_hip_flex": -15, "o_knee": 20}
    return ctx.keyed([(0, {}), (0.5, toss), (0.9, trophy), (1.15, hit), (1.45, follow), (2.2, {})])


@action("baseball_swing", "swing a baseball bat", ["sport", "swing"], sided=True, duration=(2.0, 3.5),
        templates=("<swing> a baseball bat", "<swing> a bat with both hands", "<hit> a ball with a bat",
                   "<take> a big swing with a baseball bat", "<swing> a baseball bat {side}-handed",
                   "<bat> {side}-handed"))
def baseball_swing(ctx: Ctx) -> np.ndarray:
    stance = {"b_knee": 20, "b_hip_flex": 12, "spine_flex": 8, "b_sh_flex": 45, "s_sh_abd": 35, "s_elbow": 110,
              "o_elbow": 80, "o_sh_hadd": 60, "spine_rot~": 25, "neck_rot~": -35}
    load = _with(stance, **{"spine_rot~": 15, "o_hip_flex": 15, "o_knee": 15})
    swing = {"b_knee": 18, "spine_flex": 8, "spine_rot~": -45, "root_yaw~": -15, "b_sh_flex": 80, "o_sh_hadd": 10,
             "s_sh_hadd": 50, "b_elbow": 15, "o_hip_flex": 18, "neck_rot~": 20}
    wrap = {"b_knee": 15, "spine_rot~": -70, "root_yaw~": -25, "s_sh_flex": 90, "s_sh_hadd": 70, "s_elbow": 70,
            "o_sh_abd": 70, "o_elbow": 100, "o_hip_flex": 18, "s_hip_rot": 30}
    return ctx.keyed([(0, {}), (0.5, stance), (0.9, load), (1.12, swing), (1.35, wrap), (1.8, wrap), (2.4, {})])
