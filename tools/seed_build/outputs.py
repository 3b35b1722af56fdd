"""The shipped seed assets: ``seed_corpus.npz``, its ``manifest.json`` and ``NOTICE.md``.

The manifest records the corpus file's sha256 (checked on every load by
:func:`kinemic_aug.data.seed.load_seed_corpus`), the content fingerprint a faithful rebuild
reproduces, and the pinned sources of :mod:`.recorded`.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Dict

from kinemic_aug.data.bvh import CMU_UNIT_TO_METRES
from kinemic_aug.data.corpus import MotionCorpus
from kinemic_aug.data.seed import SEED_CORPUS_FILE, SEED_MANIFEST_FILE
from kinemic_aug.utils.io import atomic_write_json, atomic_write_text, sha256_file

from .recorded import (ASSIMP_DEB, ASSIMP_DEB_SHA256, BVH_SHA256, CMU_ACK, FPS, LAYOUT, MOTION_SHA256, PYBULLET_REQ,
                       PYBULLET_WHEEL_SHA256)

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


def seed_manifest(corpus: MotionCorpus, corpus_sha256: str) -> Dict[str, Any]:
    """``manifest.json`` of a built corpus whose saved file has sha256 ``corpus_sha256``."""
    return {
        "format": "kinemic_aug.seed_corpus", "version": 1, "file": SEED_CORPUS_FILE,
        "sha256": corpus_sha256,
        # the zip container stores write times, so rebuilt bytes (and sha256) differ; the content
        # fingerprint (frames, captions, flags) is what a faithful rebuild reproduces
        "fingerprint": corpus.fingerprint(), "layout": LAYOUT, "fps": FPS,
        "clips": [{"name": c.name, "source": c.source, "frames": c.num_frames,
                   "origin_file": c.meta["origin_file"], "frame_span": c.meta["frame_span"]} for c in corpus],
        "sources": {"pybullet": PYBULLET_REQ, "pybullet_wheel_sha256": PYBULLET_WHEEL_SHA256,
                    "assimp_deb": ASSIMP_DEB, "assimp_deb_sha256": ASSIMP_DEB_SHA256,
                    "motion_sha256": MOTION_SHA256, "bvh_sha256": BVH_SHA256},
    }


def write_seed_assets(corpus: MotionCorpus, out: Path) -> None:
    """Save the corpus, its manifest and the NOTICE into ``out`` (created), readable by everyone."""
    out.mkdir(parents=True, exist_ok=True)
    corpus.save(out / SEED_CORPUS_FILE)
    atomic_write_json(out / SEED_MANIFEST_FILE, seed_manifest(corpus, sha256_file(out / SEED_CORPUS_FILE)))
    n_dm = sum(c.source == "deepmimic" for c in corpus)
    atomic_write_text(out / "NOTICE.md", NOTICE.format(
        n=len(corpus), secs=corpus.total_seconds(), n_dm=n_dm, n_cmu=len(corpus) - n_dm, ack=CMU_ACK,
        cmu_scale=CMU_UNIT_TO_METRES))
    for f in (SEED_CORPUS_FILE, SEED_MANIFEST_FILE, "NOTICE.md"):
        os.chmod(out / f, 0o644)  # atomic writes create 0600 temp files; package data must be readable
