#!/usr/bin/env python
"""Build the shipped seed motion corpus (``kinemic_aug/assets/seed``) from registry downloads.

Sources (the only real human motion that package registries carry, see environment.md §7):

* ``pip download --no-deps pybullet==3.2.7``: ``pybullet_data/data/motions/humanoid3d_*.txt`` (15
  DeepMimic clips) and ``walker/*.txt`` (5 walking/turning clips, same 44-float format);
  pybullet is zlib-licensed, DeepMimic MIT.
* ``apt-get download assimp-testmodels`` (Debian 5.2.5~ds0-1): CMU mocap takes ``01_01.bvh`` and
  ``01_03.bvh`` (cgspeed BVH conversion, 120 fps); CMU data are free to use with acknowledgement.
  ``Boxing_Toes.bvh`` from the same package has no known origin and is not used.

Every downloaded file and every extracted source file is checked against the sha256 recorded
below, so a rebuild either reproduces the shipped arrays or stops. Steps: parse → forward kinematics
→ retarget to SMPL-22 (``kinemic_aug.skeleton.retarget``) → resample to 20 fps
(``kinemic_aug.skeleton.resample``) → put the feet on the floor (y = 0 at the lowest joint of the
whole take) → cut the CMU takes into authored 2-10 s windows; short cyclic DeepMimic clips are
repeated whole cycles until they last at least 2 s (HumanML3D-style loaders drop clips under 40
frames) → start each clip at the origin facing +z, as HumanML3D does → write ``seed_corpus.npz``,
``manifest.json`` and ``NOTICE.md``.

Usage::

    python tools/build_seed_corpus.py [--workdir DIR] [--out kinemic_aug/assets/seed] [--offline]

``--workdir`` keeps the downloads (default ``$KINEMIC_SEED_WORKDIR`` or
``~/.cache/kinemic_aug/seed_sources``); files already there are reused. ``--offline`` never runs
pip or apt and fails if a download is missing.
"""
from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from kinemic_aug.data.bvh import CMU_UNIT_TO_METRES, bvh_to_layout  # noqa: E402
from kinemic_aug.data.bvh_parse import read_bvh  # noqa: E402
from kinemic_aug.data.corpus import MotionClip, MotionCorpus  # noqa: E402
from kinemic_aug.data.deepmimic import deepmimic_to_joints, frame_times, read_deepmimic  # noqa: E402
from kinemic_aug.data.seed import SEED_CORPUS_FILE, SEED_MANIFEST_FILE, default_workdir  # noqa: E402
from kinemic_aug.skeleton.layout import get_layout  # noqa: E402
from kinemic_aug.skeleton.resample import resample  # noqa: E402
from kinemic_aug.skeleton.retarget import retarget  # noqa: E402
from kinemic_aug.utils.io import atomic_write_json, atomic_write_text, sha256_bytes, sha256_file  # noqa: E402

FPS = 20.0
MIN_SECONDS = 2.0
#: A cyclic clip is repeated only if its last frame matches the moved first frame this well.
MAX_CLOSURE_M = 0.3
LAYOUT = "smpl22"

PYBULLET_REQ = "pybullet==3.2.7"
# Wheels are per platform/Python; the motion files inside are identical, and those are checked one
# by one below. A wheel not in this table is accepted only if all its motion files match.
PYBULLET_WHEEL_SHA256 = {
    "pybullet-3.2.7-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl":
        "5d858abf7c12a21ef3ed351cf81dac1b5e486ec25c9ab59bfc84beb89034edff",
}
ASSIMP_DEB = "assimp-testmodels_5.2.5~ds0-1_all.deb"
ASSIMP_DEB_SHA256 = "526f326186000cd6f631ea806128548a7d3d391abd8149fddc5c4c8513e80b8a"
MOTIONS_PREFIX = "pybullet_data/data/motions/"
MOTION_SHA256 = {
    "humanoid3d_backflip.txt": "ffc5e117f69364e239eeedc86d6a30ab854500a375a1c137a405f1b7652905e6",
    "humanoid3d_cartwheel.txt": "17453459a40ec4ea08346072748ae3c7c384b49e619753e9779637fa8a9f7c49",
    "humanoid3d_crawl.txt": "104a3b675131a43e7a214e24c0ed631c6a0d814b85c8b66b71ce63b23a5731ae",
    "humanoid3d_dance_a.txt": "15ef3731f594edc9ed078170f1075815cc164acaca9e35a46db12a31ac64b717",
    "humanoid3d_dance_b.txt": "b5a9d7a3f2304f6242776d7ff6d19d1f6bcb98d78d68622761c3843b614a92b5",
    "humanoid3d_getup_facedown.txt": "1bd1a96e9175f65eb66e10f225473b4467bd70c68e283f4006b2ab090e337c0b",
    "humanoid3d_getup_faceup.txt": "5936c32d51dad9b0cd5e61df681079d160436cdce845c312f200d7a347c4040d",
    "humanoid3d_jump.txt": "a433557e94b193d8a95530572a0e32f387eb6d9996987b4216efb65444c3c641",
    "humanoid3d_kick.txt": "177cfb399466309ba7f4a8a987c3b6f6edde1cbe8b2d476e53dc6061ec5d4bac",
    "humanoid3d_punch.txt": "1ab4b654cecdb4ff3b2a4bf4086e50397bef28435bb59ab3aedd6a6bdc926fde",
    "humanoid3d_roll.txt": "50d75c2243b2859f8dcae4ad8fa14b59054dd9ee529b4fb52ec14470cd982c55",
    "humanoid3d_run.txt": "2cbe488023b243e5769299158ce7c78875ec4b701a2ffe6c0beeaf83d16ca87b",
    "humanoid3d_spin.txt": "9614f10b92e7a8b123990ad5bcfafc65aa4d8fa8ac7f10ade3c3591122d34425",
    "humanoid3d_spinkick.txt": "60ec9c200d96e0cd71693061f24db0bd8da9eb295daf487f6f60f8dfb324075a",
    "humanoid3d_walk.txt": "32d082c3599bc40aac50b1afa196ff1e2cf3842bb40f0541ab088845f6328a41",
    "walker/0walk_forward.txt": "a8790c45361077ff07d99c3f00a1fa73b78ff3ec77d083188f13eac75dcc0a58",
    "walker/turn_left0.txt": "5120bb55a4eb3ecfa75bcffcd472ad0b5be01647536f707896b9a9af655d6fce",
    "walker/turn_left1.txt": "e78540dcccfad969ff1304182de293714c1db163096ee37a02dbf34930e0c3d0",
    "walker/turn_right0.txt": "c1fa371a7d7d625970ad7fec0bb2d7ba59205acb74f8fac15f46799ae3a80ce3",
    "walker/turn_right1.txt": "3a655a1e9334cef592b5b7bef4fd7a52e46fcacc8c7c807cfa1bee8249e6350d",
}
BVH_MEMBER_DIR = "usr/share/assimp/models/BVH/"
BVH_SHA256 = {
    "01_01.bvh": "1d9ee909452ee62784306545cf1fcd634243db1173e0c90cecbed793e50361a8",
    "01_03.bvh": "72d3f37de5af9adfc228dda72422cadb8cfc58d1cd8336076241ba115715c87c",
}

LICENCE_DEEPMIMIC = "zlib (pybullet 3.2.7 wheel); DeepMimic motion data MIT"
LICENCE_CMU = ("CMU Graphics Lab Motion Capture Database: free for research and commercial use; acknowledge "
               "mocap.cs.cmu.edu and NSF EIA-0196217")
CMU_ACK = ("The data used in this project was obtained from mocap.cs.cmu.edu. The database was created with "
           "funding from NSF EIA-0196217.")


# ---------------------------------------------------------------------- authored clip table
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
# root path, heights and hand positions (see the report printed by --describe).
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


# ---------------------------------------------------------------------- downloads
def _run(cmd: List[str], cwd: Path) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=str(cwd), check=True)


def fetch_pybullet(downloads: Path, offline: bool) -> Path:
    wheels = sorted(downloads.glob("pybullet-3.2.7-*.whl"))
    if not wheels:
        if offline:
            raise SystemExit(f"no pybullet 3.2.7 wheel in {downloads} and --offline given")
        _run([sys.executable, "-m", "pip", "download", "--no-deps", PYBULLET_REQ, "-d", str(downloads)], downloads)
        wheels = sorted(downloads.glob("pybullet-3.2.7-*.whl"))
        if not wheels:
            raise SystemExit(f"pip download {PYBULLET_REQ} produced no wheel in {downloads}")
    whl = wheels[0]
    want = PYBULLET_WHEEL_SHA256.get(whl.name)
    if want is not None:
        got = sha256_file(whl)
        if got != want:
            raise SystemExit(f"{whl}: sha256 {got} != recorded {want}")
    else:
        print(f"note: {whl.name} is not the recorded wheel; its motion files are checked one by one")
    return whl


def fetch_assimp(downloads: Path, offline: bool) -> Path:
    deb = downloads / ASSIMP_DEB
    if not deb.exists():
        if offline:
            raise SystemExit(f"{deb} missing and --offline given")
        try:
            _run(["apt-get", "download", "assimp-testmodels"], downloads)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            raise SystemExit(f"apt-get download assimp-testmodels failed ({e}); run `apt-get update` once, or put "
                             f"{ASSIMP_DEB} into {downloads}") from e
    if not deb.exists():
        raise SystemExit(f"apt-get did not produce {ASSIMP_DEB} (a different version?); put that file into {downloads}")
    got = sha256_file(deb)
    if got != ASSIMP_DEB_SHA256:
        raise SystemExit(f"{deb}: sha256 {got} != recorded {ASSIMP_DEB_SHA256}")
    return deb


def _write_checked(dest: Path, data: bytes, want: str, what: str) -> None:
    got = sha256_bytes(data)
    if got != want:
        raise SystemExit(f"{what}: sha256 {got} != recorded {want}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists() or sha256_file(dest) != want:
        dest.write_bytes(data)


def extract_motions(whl: Path, workdir: Path) -> Path:
    """Unpack and check the 20 DeepMimic motion files; returns the ``motions`` folder."""
    root = workdir / "pybullet"
    with zipfile.ZipFile(whl) as z:
        for rel, want in MOTION_SHA256.items():
            _write_checked(root / MOTIONS_PREFIX / rel, z.read(MOTIONS_PREFIX + rel), want, f"{whl.name}:{rel}")
    return root / MOTIONS_PREFIX


def _deb_data_tar(deb: Path) -> tarfile.TarFile:
    """The ``data.tar.*`` member of a .deb (an ``ar`` archive), without needing dpkg."""
    raw = deb.read_bytes()
    if not raw.startswith(b"!<arch>\n"):
        raise SystemExit(f"{deb}: not a Debian package (no ar header)")
    off = 8
    while off + 60 <= len(raw):
        hdr = raw[off:off + 60]
        name = hdr[:16].decode("ascii").strip().rstrip("/")
        size = int(hdr[48:58].decode("ascii").strip())
        body = raw[off + 60: off + 60 + size]
        if name.startswith("data.tar"):
            return tarfile.open(fileobj=io.BytesIO(body), mode="r:*")
        off += 60 + size + (size & 1)
    raise SystemExit(f"{deb}: no data.tar member")


def extract_bvh(deb: Path, workdir: Path) -> Path:
    """Unpack and check the two CMU BVH files (and the converter's readme); returns their folder."""
    out = workdir / "assimp" / BVH_MEMBER_DIR
    with _deb_data_tar(deb) as tar:
        members = {m.name.lstrip("./"): m for m in tar.getmembers()}
        for fname, want in BVH_SHA256.items():
            m = members.get(BVH_MEMBER_DIR + fname)
            if m is None:
                raise SystemExit(f"{deb}: no {BVH_MEMBER_DIR + fname}")
            _write_checked(out / fname, tar.extractfile(m).read(), want, f"{deb.name}:{fname}")
    return out


# ---------------------------------------------------------------------- geometry helpers
_SMPL = get_layout(LAYOUT)
_FEET = [_SMPL.index(n) for n in ("L_ankle", "R_ankle", "L_foot", "R_foot")]
_L_HIP, _R_HIP = _SMPL.index("L_hip"), _SMPL.index("R_hip")
_L_SH, _R_SH = _SMPL.index("L_shoulder"), _SMPL.index("R_shoulder")


def facing_angle(frame: np.ndarray) -> float:
    """Heading (radians about +y) of the body in one ``[22, 3]`` frame, measured from +z.

    The across-body vector is right minus left (hips plus shoulders, as HumanML3D does);
    forward = up × across.
    """
    across = (frame[_R_HIP] - frame[_L_HIP]) + (frame[_R_SH] - frame[_L_SH])
    fwd = np.cross([0.0, 1.0, 0.0], across)
    return float(np.arctan2(fwd[0], fwd[2]))


def rot_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def canonicalise(x: np.ndarray) -> np.ndarray:
    """Root at the origin (x, z) in the first frame, facing +z; heights untouched."""
    x = x.astype(np.float64)
    origin = x[0, 0].copy()
    origin[1] = 0.0
    r = rot_y(-facing_angle(x[0]))
    return ((x - origin) @ r.T).astype(np.float32)


def to_floor(x: np.ndarray) -> np.ndarray:
    """Shift so the lowest joint of the whole take is at y = 0 (HumanML3D's rule: usually a foot;
    the knees while crawling, the hands in a roll)."""
    x = x.copy()
    x[..., 1] -= x[..., 1].min()
    return x


def ground_motion(a: np.ndarray, b: np.ndarray) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Best yaw rotation about +y plus x/z shift taking pose ``a [V, 3]`` onto pose ``b`` (least squares).

    Returns ``(R, ca, cb)`` so that ``(y - ca) @ R.T + cb`` moves any pose like ``a`` to ``b``.
    Fitting all joints at once is far steadier than comparing one body-heading estimate per frame,
    which swings with the pelvis and shoulder twist of a gait.
    """
    ca, cb = a.mean(0) * [1, 0, 1], b.mean(0) * [1, 0, 1]
    pa, pb = a - ca, b - cb
    theta = np.arctan2(np.sum(pa[:, 2] * pb[:, 0] - pa[:, 0] * pb[:, 2]), np.sum(pa[:, 0] * pb[:, 0] + pa[:, 2] * pb[:, 2]))
    return rot_y(float(theta)), ca, cb


def loop_cycles(x: np.ndarray, min_frames: int, blend: float = 0.25) -> Tuple[np.ndarray, int, float]:
    """Repeat a cyclic clip (its last frame is the first pose again) whole cycles until it has
    ``min_frames``.

    Each repeat is the previous cycle moved by the ground-plane motion (yaw + x/z shift) that takes
    the first frame onto the last, so a walk keeps walking and a curve keeps curving. The source
    cycles do not close exactly (a few cm at the hands); the mismatch at each seam is faded out over
    the first ``blend`` of the new cycle so no joint jumps. Returns the frames, the number of cycles
    and the closure error (m, largest joint distance between the last frame and the moved first one).
    """
    r, ca, cb = ground_motion(x[0], x[-1])

    def move(y: np.ndarray) -> np.ndarray:
        return (y - ca) @ r.T + cb

    closure = float(np.linalg.norm(move(x[0]) - x[-1], axis=-1).max())
    k = max(2, int(round(blend * (len(x) - 1))))
    fade = np.clip(1.0 - np.arange(len(x)) / k, 0.0, 1.0)[:, None, None]
    out, cycle, n = [x], x, 1
    while sum(len(o) for o in out) < min_frames:
        nxt = move(cycle)
        nxt = nxt + fade * (cycle[-1] - nxt[0])  # start exactly where the previous cycle ended
        out.append(nxt[1:])
        cycle, n = nxt, n + 1
    return np.concatenate(out).astype(np.float32), n, closure


# ---------------------------------------------------------------------- conversion
def deepmimic_clip(spec: ClipSpec, motions: Path) -> MotionClip:
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


# ---------------------------------------------------------------------- outputs
NOTICE = """# Seed motion corpus: sources, licences, captions

`seed_corpus.npz` holds {n} real human motion clips ({secs:.1f} s) as SMPL-22 joint positions (metres,
y up, 20 fps; layout `smpl22`), derived from two registry packages. Only derived arrays are shipped;
the downloads themselves are not part of this package. All clips are real motion capture
(`synthetic = False`); nothing here was generated.

## Sources and licences
- **DeepMimic motion clips** ({n_dm} clips, source `deepmimic`): `pybullet_data/data/motions/humanoid3d_*.txt`
  and `walker/*.txt` from the `pybullet` 3.2.7 wheel on PyPI. pybullet is distributed under the
  **zlib licence**; the DeepMimic motion data (Peng et al., 2018) are released under the **MIT licence**.
  Per the upstream projects part of these clips were retargeted from public mocap (CMU, SFU).
- **CMU Graphics Lab Motion Capture Database** ({n_cmu} windows, source `cmu`): subject 01, trials 01
  ("playground - forward jumps, turn around") and 03 ("playground - climb, hang, swing"), in the cgspeed
  BVH conversion (B. Hahne) shipped by Debian's `assimp-testmodels` 5.2.5~ds0-1 package. CMU: "This data
  is free for use in research and commercial projects worldwide." The cgspeed conversion adds no
  restrictions. Acknowledgement, as CMU asks:

  > {ack}

## Captions
Every caption in the corpus was **written by the kinemic-aug project** for these clips (HumanML3D style;
2-3 per clip) after inspecting the motion. They are not taken from any dataset. Each clip's meta says
`caption_origin: "authored"`.

## Processing
Forward kinematics (`kinemic_aug.data.deepmimic`, `kinemic_aug.data.bvh`; CMU units × {cmu_scale:.6f} m),
position-space retargeting to SMPL-22 (`kinemic_aug.skeleton.retarget`), linear resampling to 20 fps,
feet on the floor (lowest joint of each take at y = 0, as HumanML3D does), CMU takes cut into 2-10 s windows
(`meta.frame_span`, in 120 fps source rows), cyclic DeepMimic clips shorter than 2 s repeated in whole
cycles (`meta.loop_cycles`), each clip starting at the origin facing +z.

## Rebuild
```
python tools/build_seed_corpus.py            # downloads into ~/.cache/kinemic_aug/seed_sources
python tools/build_seed_corpus.py --offline --workdir DIR   # reuse downloads already in DIR
```
The tool runs `pip download --no-deps pybullet==3.2.7` and `apt-get download assimp-testmodels` (run
`apt-get update` once first) and checks the sha256 of the downloads and of every source file it uses.
`manifest.json` records the sha256 of `seed_corpus.npz`; `kinemic_aug.data.seed.load_seed_corpus()`
refuses a file that does not match it.
"""


def build(workdir: Path, out: Path, offline: bool = False) -> MotionCorpus:
    downloads = workdir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    motions = extract_motions(fetch_pybullet(downloads, offline), workdir)
    bvh_dir = extract_bvh(fetch_assimp(downloads, offline), workdir)
    clips = [deepmimic_clip(s, motions) for s in DEEPMIMIC_CLIPS]
    clips += cmu_clips(CMU_CLIPS, bvh_dir)
    corpus = MotionCorpus(clips, name="seed")
    out.mkdir(parents=True, exist_ok=True)
    corpus.save(out / SEED_CORPUS_FILE)
    manifest = {
        "format": "kinemic_aug.seed_corpus", "version": 1, "file": SEED_CORPUS_FILE,
        "sha256": sha256_file(out / SEED_CORPUS_FILE),
        # the zip container stores write times, so rebuilt bytes (and sha256) differ; the content
        # fingerprint (frames, captions, flags) is what a faithful rebuild reproduces
        "fingerprint": corpus.fingerprint(), "layout": LAYOUT, "fps": FPS,
        "clips": [{"name": c.name, "source": c.source, "frames": c.num_frames,
                   "origin_file": c.meta["origin_file"], "frame_span": c.meta["frame_span"]} for c in corpus],
        "sources": {"pybullet": PYBULLET_REQ, "pybullet_wheel_sha256": PYBULLET_WHEEL_SHA256,
                    "assimp_deb": ASSIMP_DEB, "assimp_deb_sha256": ASSIMP_DEB_SHA256,
                    "motion_sha256": MOTION_SHA256, "bvh_sha256": BVH_SHA256},
    }
    atomic_write_json(out / SEED_MANIFEST_FILE, manifest)
    n_dm = sum(c.source == "deepmimic" for c in corpus)
    atomic_write_text(out / "NOTICE.md", NOTICE.format(
        n=len(corpus), secs=corpus.total_seconds(), n_dm=n_dm, n_cmu=len(corpus) - n_dm, ack=CMU_ACK,
        cmu_scale=CMU_UNIT_TO_METRES))
    for f in (SEED_CORPUS_FILE, SEED_MANIFEST_FILE, "NOTICE.md"):
        os.chmod(out / f, 0o644)  # atomic writes create 0600 temp files; package data must be readable
    return corpus


def main(argv: Optional[Sequence[str]] = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--workdir", type=Path, default=None, help="download/extraction folder (reused)")
    ap.add_argument("--out", type=Path, default=REPO / "kinemic_aug" / "assets" / "seed")
    ap.add_argument("--offline", action="store_true", help="never download; fail if a file is missing")
    args = ap.parse_args(argv)
    corpus = build(args.workdir or default_workdir(), args.out, offline=args.offline)
    print(corpus, corpus.summary())
    for c in corpus:
        print(f"  {c.name:34s} {c.source:9s} {c.num_frames:4d} frames {c.duration:5.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
