#!/usr/bin/env python
"""Build the shipped seed motion corpus (``kinemic_aug/assets/seed``) from registry downloads.

Sources (the only real human motion that the package registries reachable from the build machine carry):

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
import sys
from pathlib import Path
from typing import Optional, Sequence

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
for _p in (REPO, HERE):  # the package, and the seed_build steps next to this script
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from kinemic_aug.data.corpus import MotionCorpus  # noqa: E402
from kinemic_aug.data.seed import default_workdir  # noqa: E402
# the steps' names stay reachable from this script, where they were defined before the split
from seed_build.clips import CMU_CLIPS, DEEPMIMIC_CLIPS, ClipSpec  # noqa: E402,F401
from seed_build.convert import cmu_clips, deepmimic_clip  # noqa: E402
from seed_build.fetch import extract_bvh, extract_motions, fetch_assimp, fetch_pybullet  # noqa: E402
from seed_build.geometry import (canonicalise, facing_angle, ground_motion, loop_cycles, rot_y,  # noqa: E402,F401
                                 to_floor)
from seed_build.outputs import NOTICE, seed_manifest, write_seed_assets  # noqa: E402,F401
from seed_build.recorded import (ASSIMP_DEB, ASSIMP_DEB_SHA256, BVH_MEMBER_DIR, BVH_SHA256, CMU_ACK,  # noqa: E402,F401
                                 FPS, LAYOUT, LICENCE_CMU, LICENCE_DEEPMIMIC, MAX_CLOSURE_M, MIN_SECONDS,
                                 MOTION_SHA256, MOTIONS_PREFIX, PYBULLET_REQ, PYBULLET_WHEEL_SHA256)


def build(workdir: Path, out: Path, offline: bool = False) -> MotionCorpus:
    """Fetch and check the sources in ``workdir``, convert every clip, write the assets into ``out``."""
    downloads = workdir / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    motions = extract_motions(fetch_pybullet(downloads, offline), workdir)
    bvh_dir = extract_bvh(fetch_assimp(downloads, offline), workdir)
    clips = [deepmimic_clip(s, motions) for s in DEEPMIMIC_CLIPS]
    clips += cmu_clips(CMU_CLIPS, bvh_dir)
    corpus = MotionCorpus(clips, name="seed")
    write_seed_assets(corpus, out)
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
