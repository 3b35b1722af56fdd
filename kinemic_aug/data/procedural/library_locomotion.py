"""Locomotion, jumps and whole-body travel: gait cycles whose stride, not a scripted root path,
produces the speed (see :mod:`.ground`)."""
from __future__ import annotations

from typing import Dict, Optional

import numpy as np

from .action_kit import Ctx, _vm, action, flat_feet, smoothstep


def gait(ctx: Ctx, *, cadence: float, hip_mean: float, hip_amp: float, knee_load: float, knee_swing: float,
         arm_amp: float, elbow: float, lean: float = 0.0, duty: float = 0.6, flight: float = 0.0,
         backwards: bool = False, yaw_rate: float = 0.0, ramp: float = 0.6, arms: bool = True,
         track: Optional[np.ndarray] = None) -> np.ndarray:
    """A walking/running cycle. Left heel strike is at phase 0; the right leg is half a cycle later.

    Hip flexion follows a cosine (flexed at heel strike, extended at toe-off), the knee has a
    small loading bump after contact and a large swing bump, the ankle plantar-flexes at push-off.
    Arms swing opposite to the same-side leg, the pelvis rotates and drops with each step and the
    trunk counter-rotates. ``duty`` < 0.5 makes a run: ``flight`` metres of air between contacts.
    """
    tr = ctx.hold() if track is None else track
    e = ctx.env(ramp, ramp)
    a = 1.0 + 0.5 * (ctx.amp - 1.0)      # stride varies less between people than gestures do
    phi = ctx.phase(cadence / 2.0)
    if backwards:
        phi = -phi
    for s, off in (("l", 0.0), ("r", np.pi)):
        x = phi + off
        y = np.mod(x / (2 * np.pi), 1.0)                 # cycle fraction, heel strike at 0
        # warped phase: stance (0..duty) -> 0..0.5, swing (duty..1) -> 0.5..1
        psi = 2 * np.pi * np.where(y < duty, 0.5 * y / duty, 0.5 + 0.5 * (y - duty) / (1 - duty))
        hip = hip_mean + hip_amp * a * (np.cos(psi + 0.5) + 0.1 * np.cos(2 * psi - 0.6))
        knee = knee_load * _vm(psi, 0.1, 10) + knee_swing * a * _vm(psi, 0.66, 3.0)
        ankle = -5 * _vm(psi, 0.03, 25) + 9 * _vm(psi, 0.33, 8) - 16 * a * _vm(psi, 0.5, 18) + 4 * _vm(psi, 0.8, 8)
        ctx.add(tr, f"{s}_hip_flex", e * hip)
        ctx.add(tr, f"{s}_knee", e * knee)
        ctx.add(tr, f"{s}_ankle", e * ankle)
        ctx.add(tr, f"{s}_hip_abd", e * -2.0 * _vm(psi, 0.25, 3))
        ys = np.mod(y + 0.1, 1.0) - 0.1
        ctx.add(tr, f"c_{s}", smoothstep((ys + 0.02) / 0.05) * smoothstep((duty + 0.01 - ys) / 0.06))
        if arms:
            sw = -arm_amp * a * np.cos(x - 0.25)
            ctx.add(tr, f"{s}_sh_flex", e * sw)
            ctx.add(tr, f"{s}_elbow", e * (elbow + 0.4 * np.maximum(sw, 0)))
            ctx.add(tr, f"{s}_sh_hadd", e * (0.25 * elbow))
    ctx.add(tr, "hint_on", e)
    ctx.add(tr, "root_yaw", e * -5.0 * np.cos(phi))
    ctx.add(tr, "spine_rot", e * 8.0 * np.cos(phi))
    ctx.add(tr, "root_roll", e * -3.0 * np.sin(phi + 0.4))
    ctx.add(tr, "spine_lat", e * 2.0 * np.sin(phi + 0.4))
    ctx.add(tr, "spine_flex", e * lean)
    ctx.add(tr, "neck_flex", e * -0.5 * lean)
    if flight > 0:
        y = np.mod(phi, np.pi) / (2 * np.pi)        # 0..0.5 within each step
        win = np.clip((y - duty) / (0.5 - duty), 0, 1)  # flight: after toe-off, before the other heel strike
        ctx.add(tr, "air", e * flight * np.sin(np.pi * win) ** 2 * (win > 0) * (win < 1))
    if yaw_rate:
        ctx.add(tr, "root_yaw", np.cumsum(e * yaw_rate) / ctx.fps)
    return tr


@action("walk", "walk forward at a normal pace", ["locomotion"], duration=(3.0, 8.0),
        templates=("<walk> forward", "<walk> straight ahead", "<take> a few steps forward", "<walk> forward at a normal pace"))
def walk(ctx: Ctx) -> np.ndarray:
    return gait(ctx, cadence=ctx.u(1.85, 2.05) * ctx.speed, hip_mean=7, hip_amp=ctx.u(28, 31), knee_load=12,
                knee_swing=55, arm_amp=ctx.u(12, 20), elbow=ctx.u(8, 20), lean=2)


@action("walk_backwards", "walk backwards", ["locomotion"], duration=(3.0, 7.0),
        templates=("<walk> backwards", "<walk> backward slowly", "<take> several steps backwards", "<step> back"))
def walk_backwards(ctx: Ctx) -> np.ndarray:
    return gait(ctx, cadence=ctx.u(1.5, 1.8) * ctx.speed, hip_mean=10, hip_amp=ctx.u(18, 22), knee_load=10,
                knee_swing=45, arm_amp=ctx.u(6, 12), elbow=15, lean=4, backwards=True)


@action("jog", "jog forward", ["locomotion", "run"], duration=(3.0, 7.0),
        templates=("<jog> forward", "<jog> straight ahead", "<run> forward at a slow pace", "<jog> a short distance"))
def jog(ctx: Ctx) -> np.ndarray:
    return gait(ctx, cadence=ctx.u(2.5, 2.8) * ctx.speed, hip_mean=8, hip_amp=ctx.u(19, 23), knee_load=22,
                knee_swing=85, arm_amp=ctx.u(18, 26), elbow=ctx.u(75, 90), lean=6, duty=0.4, flight=0.03, ramp=0.5)


@action("run", "run forward fast", ["locomotion", "run"], duration=(2.5, 6.0),
        templates=("<run> forward", "<run> quickly ahead", "<sprint> forward", "<run> fast in a straight line"))
def run(ctx: Ctx) -> np.ndarray:
    return gait(ctx, cadence=ctx.u(2.8, 3.2) * ctx.speed, hip_mean=10, hip_amp=ctx.u(24, 28), knee_load=25,
                knee_swing=105, arm_amp=ctx.u(30, 40), elbow=ctx.u(80, 95), lean=10, duty=0.34, flight=0.06, ramp=0.5)


@action("jog_in_place", "run or jog on the spot", ["locomotion", "run", "in_place"], duration=(2.5, 6.0),
        templates=("<jog> in place", "<run> on the spot", "<jog> on the spot", "<run> in place lifting their knees"))
def jog_in_place(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.4, 0.4)
    phi = ctx.phase(ctx.u(1.3, 1.6) * ctx.speed)
    knee_style = ctx.u(0.0, 1.0)                       # 0: knees up, 1: heels to the buttocks
    a = ctx.amp
    for s, off in (("l", 0.0), ("r", np.pi)):
        lift = np.maximum(np.sin(phi + off), 0.0) ** 1.3
        ctx.add(tr, f"{s}_hip_flex", e * a * (45 - 25 * knee_style) * lift)
        ctx.add(tr, f"{s}_knee", e * (8 + a * (70 + 25 * knee_style) * lift))
        ctx.add(tr, f"{s}_ankle", e * (-18 * lift))
        sw = -28 * a * np.sin(phi + off)
        ctx.add(tr, f"{s}_sh_flex", e * sw)
        ctx.add(tr, f"{s}_elbow", e * (80 + 0.3 * np.maximum(sw, 0)))
        ctx.add(tr, f"{s}_sh_hadd", e * 12)
    ctx.add(tr, "spine_rot", e * 5 * np.sin(phi))
    ctx.add(tr, "spine_flex", e * 4)
    y = np.mod(phi, np.pi)
    ctx.add(tr, "air", e * 0.03 * a * np.sin(y) ** 4)
    return tr


@action("sidestep", "step sideways", ["locomotion"], sided=True, duration=(2.5, 6.0),
        templates=("<step> to the {side}", "<sidestep> to their {side}", "<shuffle> sideways to the {side}",
                   "<take> side steps to the {side}"))
def sidestep(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    per = 1.0 / ctx.speed * ctx.u(0.85, 1.1)
    n = max(1, int((ctx.dur - 0.6) // per))
    t0 = (ctx.dur - n * per) * ctx.u(0.3, 0.7)
    x = (ctx.t - t0) / per
    k = np.floor(x)
    f = x - k
    on = (k >= 0) & (k < n)
    A = 20 * ctx.amp
    lead = np.where(f < 0.35, A * smoothstep(f / 0.35), np.where(f < 0.5, A - 0.5 * A * smoothstep((f - 0.35) / 0.15),
                    0.5 * A * (1 - smoothstep((f - 0.5) / 0.35))))
    trail = np.where(f < 0.35, 0.0, np.where(f < 0.5, 0.5 * A * smoothstep((f - 0.35) / 0.15),
                     0.5 * A * (1 - smoothstep((f - 0.5) / 0.35))))
    lift_l = np.sin(np.pi * np.clip(f / 0.35, 0, 1)) ** 2
    lift_t = np.sin(np.pi * np.clip((f - 0.5) / 0.35, 0, 1)) ** 2
    ctx.add(tr, "s_hip_abd", on * lead)
    ctx.add(tr, "o_hip_abd", on * trail)
    ctx.add(tr, "s_knee", on * 22 * lift_l)
    ctx.add(tr, "s_hip_flex", on * 12 * lift_l)
    ctx.add(tr, "o_knee", on * 22 * lift_t)
    ctx.add(tr, "o_hip_flex", on * 12 * lift_t)
    ctx.add(tr, "b_knee", 8 * ctx.env(0.4, 0.4))
    ctx.add(tr, "b_sh_abd", on * 6 * (lift_l + lift_t))
    return tr


@action("turn", "turn around on the spot", ["locomotion", "turn"], sided=True, duration=(1.5, 3.5),
        templates=("<turn> to the {side}", "<turn> around to their {side}", "<turn> {side} on the spot",
                   "<rotate> their body to the {side}"))
def turn(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    angle = float(ctx.rng.choice([90.0, 135.0, 180.0])) * ctx.u(0.9, 1.1)
    ctx.info["turn_degrees"] = round(angle, 1)
    start, end = ctx.dur * ctx.u(0.1, 0.2), ctx.dur * ctx.u(0.8, 0.9)
    prog = smoothstep((ctx.t - start) / (end - start))
    ctx.add(tr, "root_yaw~", angle * prog)
    # small steps while turning, inside leg first; head leads the turn
    steps = max(2, int(round(angle / 60)))
    ph = np.clip(prog * steps, 0, steps)
    lift = np.sin(np.pi * np.mod(ph, 1.0)) ** 2 * (prog > 0) * (prog < 1)
    first = (np.floor(ph) % 2 == 0)
    ctx.add(tr, "s_knee", 25 * lift * first)
    ctx.add(tr, "s_hip_flex", 15 * lift * first)
    ctx.add(tr, "o_knee", 25 * lift * ~first)
    ctx.add(tr, "o_hip_flex", 15 * lift * ~first)
    lead = np.gradient(angle * prog, 1.0 / ctx.fps)
    ctx.add(tr, "neck_rot~", np.clip(0.12 * lead, -35, 35))
    return tr


@action("walk_circle", "walk around in a circle", ["locomotion", "turn"], sided=True, duration=(5.0, 10.0),
        templates=("<walk> in a circle", "<walk> around in a circle to the {side}", "<walk> in a circle turning {side}",
                   "<walk> in a full circle"))
def walk_circle(ctx: Ctx) -> np.ndarray:
    radius = ctx.u(0.8, 2.0)
    v = 1.2 * ctx.speed
    ctx.info["radius"] = round(radius, 2)
    return gait(ctx, cadence=ctx.u(1.7, 1.95) * ctx.speed, hip_mean=7, hip_amp=ctx.u(23, 27), knee_load=12,
                knee_swing=55, arm_amp=14, elbow=15, lean=2,
                yaw_rate=(1 if ctx.side == "left" else -1) * np.rad2deg(v / radius))


def _jump_keys(ctx: Ctx, height: float, fwd: float, t0: float = 0.0) -> list:
    """Anticipation (crouch, arms back), take-off (extension, arms up), flight, landing (absorb)."""
    g = 9.81
    tf = 2.0 * np.sqrt(2 * height / g)
    crouch = flat_feet({"b_hip_flex": 55, "b_knee": 80, "spine_flex": 20, "root_pitch": 15,
                        "b_sh_flex": -45, "b_elbow": 15, "neck_flex": -10})
    push = {"b_hip_flex": 0, "b_knee": 0, "b_ankle": -30, "b_sh_flex": 150, "b_elbow": 10, "spine_flex": -5}
    tuck = {"b_hip_flex": 30 + 20 * (fwd > 0), "b_knee": 45, "b_ankle": -10, "b_sh_flex": 110, "b_elbow": 20,
            "air": height, "vfwd": fwd / tf}
    land = {"b_hip_flex": 15 + 15 * (fwd > 0), "b_knee": 15, "b_ankle": -20, "b_sh_flex": 60, "vfwd": fwd / tf}
    absorb = flat_feet({"b_hip_flex": 50, "b_knee": 70, "spine_flex": 15, "root_pitch": 15, "b_sh_flex": 45, "b_elbow": 20})
    return [(t0, {}), (t0 + 0.45, crouch), (t0 + 0.7, push), (t0 + 0.7 + tf / 2, tuck), (t0 + 0.7 + tf, land),
            (t0 + 0.95 + tf, absorb), (t0 + 1.6 + tf, {})]


@action("jump_in_place", "jump straight up", ["jump"], duration=(2.0, 4.5),
        templates=("<jump> up and down", "<jump> in place", "<jump> straight up", "<do> a vertical jump"))
def jump_in_place(ctx: Ctx) -> np.ndarray:
    h = ctx.u(0.15, 0.3)
    keys = _jump_keys(ctx, h, 0.0)
    n = ctx.reps(keys[-1][0], 0.0, 3)
    allk = []
    for i in range(n):
        allk += _jump_keys(ctx, h * ctx.u(0.85, 1.1), 0.0, allk[-1][0] if allk else 0.0)[(1 if allk else 0):]
    ctx.info["jumps"] = n
    return ctx.keyed(allk, scale_amp=False)


@action("jump_forward", "jump forward with both feet", ["jump"], duration=(2.0, 4.0),
        templates=("<jump> forward", "<leap> forward with both feet", "<do> a long jump", "<jump> ahead"))
def jump_forward(ctx: Ctx) -> np.ndarray:
    return ctx.keyed(_jump_keys(ctx, ctx.u(0.15, 0.3), ctx.u(0.5, 1.1)), scale_amp=False)


@action("hop", "hop on one leg", ["jump"], sided=True, duration=(2.0, 5.0),
        templates=("<hop> on their {side} leg", "<hop> on the {side} foot", "<jump> on one leg", "<hop> on one foot"))
def hop(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.5, 0.5)
    ctx.add(tr, "o_hip_flex", e * 30)
    ctx.add(tr, "o_knee", e * 75)
    ctx.add(tr, "o_ankle", e * -20)
    ctx.add(tr, "s_hip_abd", e * -4)
    ctx.add(tr, "root_roll~", e * 3)
    ctx.add(tr, "b_sh_abd", e * 20)
    ctx.add(tr, "b_elbow", e * 40)
    hop_env = ctx.env(0.4, 0.4, start=0.5, end=ctx.dur - 0.4)
    phi = ctx.phase(ctx.u(1.6, 2.0) * ctx.speed, 0.02)
    c = 0.5 - 0.5 * np.cos(phi)             # 0 at mid-flight, 1 at the lowest point of stance
    ctx.add(tr, "s_knee", hop_env * 35 * c)
    ctx.add(tr, "s_hip_flex", hop_env * 25 * c)
    ctx.add(tr, "s_ankle", hop_env * (30 * c - 20 * (1 - c)))
    ctx.add(tr, "b_sh_flex", hop_env * 15 * (1 - c))
    ctx.add(tr, "air", hop_env * 0.08 * ctx.amp * np.maximum(np.cos(phi) - 0.2, 0) / 0.8)
    return tr


@action("jumping_jacks", "do jumping jacks", ["jump", "exercise"], duration=(2.5, 6.0),
        templates=("<do> jumping jacks", "<perform> star jumps", "<do> jumping jacks, spreading arms and legs",
                   "<jump> while clapping hands above their head and spreading their legs"))
def jumping_jacks(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.5, 0.5)
    phi = ctx.phase(ctx.u(0.8, 1.05) * ctx.speed, 0.02)
    s = 0.5 - 0.5 * np.cos(phi)             # 0 closed, 1 open
    ctx.add(tr, "b_hip_abd", e * 16 * ctx.amp * s)
    ctx.add(tr, "b_sh_abd", e * 155 * smoothstep(s * 1.1))
    ctx.add(tr, "b_elbow", e * 15 * np.sin(np.pi * s))
    land = np.cos(2 * phi)                  # +1 at the closed and open poses (on the floor)
    ctx.add(tr, "b_knee", e * 18 * np.maximum(land, 0))
    ctx.add(tr, "b_hip_flex", e * 10 * np.maximum(land, 0))
    ctx.add(tr, "b_ankle", e * (10 * np.maximum(land, 0) - 20 * np.maximum(-land, 0)))
    ctx.add(tr, "air", e * 0.06 * ctx.amp * np.maximum(-land - 0.1, 0))
    return tr


@action("crawl", "get down and crawl forward on hands and knees", ["floor", "locomotion"], standing=False,
        duration=(5.0, 9.0), templates=("<crawl> forward on hands and knees", "<get> down on all fours and <crawl>",
                                        "<crawl> on the floor", "<crawl> forward"))
def crawl(ctx: Ctx) -> np.ndarray:
    kneel = {"root_pitch": 70, "b_hip_flex": 75, "b_knee": 90, "b_ankle": -25, "spine_flex": 5,
             "b_sh_flex": 70, "b_elbow": 5, "neck_flex": -45, "b_sh_abd": 2}
    down_mid = flat_feet({"root_pitch": 30, "b_hip_flex": 90, "b_knee": 110, "spine_flex": 20, "b_sh_flex": 40})
    t_down, t_up = 1.3, 1.3
    tcr = ctx.dur - t_down - t_up - 0.3
    phi_len = max(tcr, 0.5)
    base = ctx.keyed([(0, {}), (0.7, down_mid), (t_down, kneel), (t_down + phi_len, kneel),
                      (t_down + phi_len + 0.6, down_mid), (t_down + phi_len + t_up, {})], scale_amp=False, fill="stretch")
    e = ctx.env(0.4, 0.4, start=t_down, end=t_down + phi_len)
    phi = ctx.phase(ctx.u(0.5, 0.7) * ctx.speed, 0.02)
    for s, off in (("l", 0.0), ("r", np.pi)):
        # contralateral pairs: left hand with right knee
        hand = np.cos(phi + off)
        knee = np.cos(phi + off + np.pi)
        ctx.add(base, f"{s}_sh_flex", e * 12 * hand + e * 6 * np.maximum(np.sin(phi + off), 0))
        ctx.add(base, f"{s}_elbow", e * 15 * np.maximum(np.sin(phi + off), 0))
        ctx.add(base, f"{s}_hip_flex", e * 14 * knee)
        ctx.add(base, f"{s}_knee", e * 8 * np.maximum(np.sin(phi + off + np.pi), 0))
    ctx.add(base, "spine_lat", e * 4 * np.sin(phi))
    return base


@action("climb_stairs", "climb stairs in place", ["climb", "in_place"], duration=(3.0, 6.0),
        templates=("<climb> stairs in place", "<walk> up stairs on the spot", "<step> up as if climbing stairs",
                   "<march> in place with high knees"))
def climb_stairs(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.5, 0.5)
    phi = ctx.phase(ctx.u(0.55, 0.75) * ctx.speed)
    for s, off in (("l", 0.0), ("r", np.pi)):
        lift = np.maximum(np.sin(phi + off), 0.0) ** 1.5
        ctx.add(tr, f"{s}_hip_flex", e * 55 * ctx.amp * lift)
        ctx.add(tr, f"{s}_knee", e * 75 * ctx.amp * lift)
        ctx.add(tr, f"{s}_ankle", e * -10 * lift)
        ctx.add(tr, f"{s}_sh_flex", e * -15 * np.sin(phi + off))
        ctx.add(tr, f"{s}_elbow", e * 25)
    ctx.add(tr, "spine_flex", e * 8)
    ctx.add(tr, "neck_flex", e * 10)
    return tr


@action("climb_ladder", "climb a ladder in place", ["climb", "in_place"], duration=(3.0, 6.0),
        templates=("<climb> a ladder", "<climb> up a ladder hand over hand", "<pretend> to climb a ladder",
                   "<reach> up alternately as if climbing a ladder"))
def climb_ladder(ctx: Ctx) -> np.ndarray:
    tr = ctx.hold()
    e = ctx.env(0.5, 0.5)
    phi = ctx.phase(ctx.u(0.45, 0.6) * ctx.speed)
    for s, off in (("l", 0.0), ("r", np.pi)):
        reach = 0.5 + 0.5 * np.sin(phi + off)
        ctx.add(tr, f"{s}_sh_flex", e * (95 + 65 * reach))
        ctx.add(tr, f"{s}_elbow", e * (70 - 50 * reach))
        ctx.add(tr, f"{s}_sh_abd", e * 10)
        lift = np.maximum(np.sin(phi + off + np.pi), 0.0) ** 1.5
        ctx.add(tr, f"{s}_hip_flex", e * 50 * lift)
        ctx.add(tr, f"{s}_knee", e * 70 * lift)
    ctx.add(tr, "neck_flex", e * -20)
    return tr
