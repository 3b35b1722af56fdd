"""The shipped clips: which source file (and CMU window) each comes from and its authored captions."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence, Tuple


@dataclass(frozen=True)
class ClipSpec:
    """One shipped clip: where it comes from and the captions this project wrote for it.

    ``span`` is ``(first, stop)`` in *source* frames (CMU: 120 fps BVH rows, the converter's
    reference-pose row 0 excluded by starting at 1 or later); ``None`` means the whole file.
    """

    name: str
    source: str
    origin_file: str
    captions: Tuple[str, ...]
    span: Optional[Tuple[int, int]] = None
    tags: Tuple[str, ...] = ()


DEEPMIMIC_CLIPS: Sequence[ClipSpec] = (
    ClipSpec("deepmimic_walk", "deepmimic", "humanoid3d_walk.txt", (
        "a person walks forward steadily.",
        "someone walks straight ahead at a normal pace, arms swinging gently.",
        "a man takes calm steps forward."), tags=("walk",)),
    ClipSpec("deepmimic_run", "deepmimic", "humanoid3d_run.txt", (
        "a person runs forward quickly.",
        "someone jogs straight ahead with long strides and bent arms.",
        "a man sprints forward in a straight line."), tags=("run",)),
    ClipSpec("deepmimic_jump", "deepmimic", "humanoid3d_jump.txt", (
        "a person crouches, swings the arms and jumps forward with both feet.",
        "someone does a standing long jump and lands on both feet.",
        "a man leaps forward from a squat and lands in a crouch."), tags=("jump",)),
    ClipSpec("deepmimic_backflip", "deepmimic", "humanoid3d_backflip.txt", (
        "a person does a backflip and lands on their feet.",
        "someone jumps up and flips backwards in the air.",
        "a man performs a back somersault."), tags=("backflip",)),
    ClipSpec("deepmimic_cartwheel", "deepmimic", "humanoid3d_cartwheel.txt", (
        "a person does a cartwheel to the side.",
        "someone puts their hands on the ground and wheels over sideways, landing on their feet.",
        "a man performs a cartwheel and stands back up."), tags=("cartwheel",)),
    ClipSpec("deepmimic_crawl", "deepmimic", "humanoid3d_crawl.txt", (
        "a person crawls forward on hands and knees.",
        "someone moves forward on all fours.",
        "a man crawls slowly along the floor."), tags=("crawl",)),
    ClipSpec("deepmimic_dance_a", "deepmimic", "humanoid3d_dance_a.txt", (
        "a person dances in place, swaying and moving the arms.",
        "someone does a short dance step, turning slightly with the arms out.",
        "a man grooves to music with rhythmic arm movements."), tags=("dance",)),
    ClipSpec("deepmimic_dance_b", "deepmimic", "humanoid3d_dance_b.txt", (
        "a person dances energetically, bouncing and waving the arms.",
        "someone performs a lively dance move in place.",
        "a man dances, stepping from side to side and swinging the arms."), tags=("dance",)),
    ClipSpec("deepmimic_getup_facedown", "deepmimic", "humanoid3d_getup_facedown.txt", (
        "a person lying face down pushes up from the floor and stands up.",
        "someone gets up from lying on their stomach.",
        "a man rises from a prone position to standing."), tags=("get up",)),
    ClipSpec("deepmimic_getup_faceup", "deepmimic", "humanoid3d_getup_faceup.txt", (
        "a person lying on their back sits up and gets to their feet.",
        "someone gets up off the floor from lying face up.",
        "a man rises from lying on his back to standing."), tags=("get up",)),
    ClipSpec("deepmimic_kick", "deepmimic", "humanoid3d_kick.txt", (
        "a person steps forward and kicks with the right leg.",
        "someone does a front kick with the right foot.",
        "a man kicks forward and puts the foot back down."), tags=("kick",)),
    ClipSpec("deepmimic_punch", "deepmimic", "humanoid3d_punch.txt", (
        "a person steps forward and throws punches.",
        "someone punches forward with the fists.",
        "a man moves ahead while punching."), tags=("punch",)),
    ClipSpec("deepmimic_roll", "deepmimic", "humanoid3d_roll.txt", (
        "a person crouches and rolls forward on the ground, then stands up.",
        "someone does a forward roll.",
        "a man tucks and somersaults forward along the floor."), tags=("roll",)),
    ClipSpec("deepmimic_spin", "deepmimic", "humanoid3d_spin.txt", (
        "a person spins around in place.",
        "someone turns around on the spot.",
        "a man twirls with the arms out."), tags=("spin",)),
    ClipSpec("deepmimic_spinkick", "deepmimic", "humanoid3d_spinkick.txt", (
        "a person spins and does a roundhouse kick.",
        "someone turns around and kicks high.",
        "a man performs a spinning kick."), tags=("kick", "spin")),
    ClipSpec("deepmimic_walker_forward", "deepmimic", "walker/0walk_forward.txt", (
        "a person walks forward.",
        "someone walks straight ahead at an even pace.",
        "a man strolls forward."), tags=("walk",)),
    ClipSpec("deepmimic_walker_turn_left0", "deepmimic", "walker/turn_left0.txt", (
        "a person walks forward while curving to the left.",
        "someone walks and gradually turns left.",
        "a man walks in a gentle left arc."), tags=("walk", "turn")),
    ClipSpec("deepmimic_walker_turn_left1", "deepmimic", "walker/turn_left1.txt", (
        "a person walks and turns to the left.",
        "someone walks forward and veers left.",
        "a man walks along a curve to his left."), tags=("walk", "turn")),
    ClipSpec("deepmimic_walker_turn_right0", "deepmimic", "walker/turn_right0.txt", (
        "a person walks forward while curving to the right.",
        "someone walks and gradually turns right.",
        "a man walks in a gentle right arc."), tags=("walk", "turn")),
    ClipSpec("deepmimic_walker_turn_right1", "deepmimic", "walker/turn_right1.txt", (
        "a person walks and turns to the right.",
        "someone walks forward and veers right.",
        "a man walks along a curve to his right."), tags=("walk", "turn")),
)

# CMU windows: spans in 120 fps BVH rows, captions written after looking at each window's
# root path, heights and hand positions.
CMU_CLIPS: Sequence[ClipSpec] = (
    # 01_01 "playground - forward jumps, turn around": jumps along z, turns at ~8.5 s and ~16.5 s.
    ClipSpec("cmu_01_01_a", "cmu", "01_01.bvh", (
        "a person stands still, then does a series of jumps forward with both feet together.",
        "someone crouches and hops forward several times with feet together.",
        "a man performs repeated standing broad jumps moving forward."), span=(1, 960), tags=("jump",)),
    ClipSpec("cmu_01_01_b", "cmu", "01_01.bvh", (
        "a person turns around and then jumps forward several times with both feet.",
        "someone turns to face the other way and hops forward repeatedly.",
        "a man spins around in place, then does a few two-footed jumps forward."),
        span=(960, 1920), tags=("jump", "turn")),
    ClipSpec("cmu_01_01_c", "cmu", "01_01.bvh", (
        "a person turns around and jumps forward with both feet a few times.",
        "someone turns back and does a few standing long jumps.",
        "a man turns around and hops forward with his feet together."),
        span=(1920, 2752), tags=("jump", "turn")),
    # 01_03 "playground - climb, hang, swing": climbs onto a frame (feet ~0.8 m up, hands on a rail),
    # climbs down, hangs from an overhead bar (hands above the head) and swings, twice.
    ClipSpec("cmu_01_03_a", "cmu", "01_03.bvh", (
        "a person walks over to a climbing frame and climbs up onto it, holding on with both hands.",
        "someone turns, steps up onto a raised platform and stands on it holding a rail.",
        "a man climbs up onto playground equipment and moves along it."), span=(1, 1170), tags=("climb",)),
    ClipSpec("cmu_01_03_b", "cmu", "01_03.bvh", (
        "a person climbs down, walks around, then grabs an overhead bar and swings back and forth.",
        "someone steps down from a platform, reaches up with both hands and swings from a bar.",
        "a man gets down, turns, and hangs from a bar above his head, swinging his body."),
        span=(1170, 2220), tags=("climb", "hang", "swing")),
    ClipSpec("cmu_01_03_c", "cmu", "01_03.bvh", (
        "a person lets go of a bar, turns around and climbs up onto a platform, then climbs back down.",
        "someone walks to a climbing frame, climbs up, holds on for a moment and steps down.",
        "a man climbs onto playground equipment and climbs off again."), span=(2220, 3240), tags=("climb",)),
    ClipSpec("cmu_01_03_d", "cmu", "01_03.bvh", (
        "a person turns, walks forward, reaches up to a bar overhead and swings on it.",
        "someone grabs a high bar with both hands and swings their legs back and forth.",
        "a man hangs from an overhead bar and swings."), span=(3240, 4200), tags=("hang", "swing")),
    ClipSpec("cmu_01_03_e", "cmu", "01_03.bvh", (
        "a person lets go of an overhead bar, lowers the arms and turns around.",
        "someone releases a bar above their head and turns in place.",
        "a man drops his hands from a bar and turns to the side."), span=(4200, 4511), tags=("turn",)),
)
