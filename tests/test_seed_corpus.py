"""The shipped seed corpus: integrity against its manifest, and physical plausibility of every clip."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kinemic_aug.data.corpus import MotionCorpus
from kinemic_aug.data.seed import (SEED_ASSET_DIR, SEED_CORPUS_FILE, SEED_MANIFEST_FILE, default_workdir,
                                   load_seed_corpus, read_seed_manifest)
from kinemic_aug.errors import CacheError
from kinemic_aug.skeleton import get_layout
from kinemic_aug.utils.io import sha256_file

SMPL = get_layout("smpl22")
FEET = [SMPL.index(n) for n in ("L_ankle", "R_ankle", "L_foot", "R_foot")]
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def seed() -> MotionCorpus:
    return load_seed_corpus()


def test_checksum_matches_manifest(seed):
    manifest = read_seed_manifest()
    assert sha256_file(SEED_ASSET_DIR / SEED_CORPUS_FILE) == manifest["sha256"]
    assert [c["name"] for c in manifest["clips"]] == [c.name for c in seed]
    assert [c["frames"] for c in manifest["clips"]] == [c.num_frames for c in seed]
    assert manifest["fingerprint"] == seed.fingerprint()


def test_shipped_files_are_small_and_documented():
    total = sum(p.stat().st_size for p in SEED_ASSET_DIR.iterdir() if p.is_file())
    assert total < 1.5e6
    notice = (SEED_ASSET_DIR / "NOTICE.md").read_text()
    for needle in ("zlib", "MIT", "mocap.cs.cmu.edu", "NSF EIA-0196217", "authored", "build_seed_corpus.py"):
        assert needle in notice
    assert not any("Boxing" in p.name for p in SEED_ASSET_DIR.iterdir())


def test_every_clip_is_real_smpl22_at_20fps_with_authored_captions(seed):
    assert len(seed) >= 20
    assert {c.source for c in seed} == {"deepmimic", "cmu"}
    for c in seed:
        assert c.layout == "smpl22" and c.fps == 20.0, c.name
        assert c.joints.shape[1:] == (22, 3) and c.joints.dtype == np.float32, c.name
        assert np.all(np.isfinite(c.joints)), c.name
        assert c.synthetic is False, c.name
        assert 2 <= len(c.captions) <= 3 and all(len(s.split()) >= 3 for s in c.captions), c.name
        assert c.meta["caption_origin"] == "authored", c.name
        assert c.meta["licence"] and c.meta["origin_file"], c.name
        assert len(c.meta["frame_span"]) == 2, c.name
        assert c.num_frames <= 196, c.name  # HumanML3D's 9.8 s cap
    cmu = [c for c in seed if c.source == "cmu"]
    assert cmu and all(2.0 <= c.duration <= 10.0 for c in cmu)
    assert all("NSF" in c.meta["licence"] or "CMU" in c.meta["licence"] for c in cmu)


def test_feet_on_the_floor_and_pelvis_height(seed):
    for c in seed:
        x = c.joints
        # the floor is y = 0 at the lowest joint of the take (a CMU window may not reach it)
        assert -1e-4 < x[..., 1].min() < 0.03, c.name
        if "climb" in c.meta["tags"]:
            continue  # standing on a climbing frame
        lowest_foot = x[:, FEET, 1].min(axis=1)
        assert np.median(lowest_foot) < 0.25, c.name  # feet mostly on the ground
    # pelvis height when standing: head well above the pelvis, knees well below it, feet low
    checked = 0
    for c in seed:
        if c.source == "cmu" and "climb" in c.meta["tags"]:
            continue  # standing on the climbing frame lifts the whole body
        x = c.joints
        knees = x[:, [SMPL.index("L_knee"), SMPL.index("R_knee")], 1].max(axis=1)
        upright = ((x[:, SMPL.index("head"), 1] - x[:, 0, 1] > 0.4) & (x[:, 0, 1] - knees > 0.25)
                   & (x[:, FEET, 1].min(axis=1) < 0.05))
        if upright.sum() < 5:
            continue
        checked += 1
        pelvis = np.median(x[upright, 0, 1])
        assert 0.7 < pelvis < 1.2, (c.name, pelvis)
    assert checked >= 15


def test_skeleton_is_plausible(seed):
    # left joints on the body's left: facing +z with y up, the left hip is at +x in the first frame
    for c in seed:
        f = c.joints[0]
        assert f[SMPL.index("L_hip"), 0] > f[SMPL.index("R_hip"), 0], c.name
        femur = np.linalg.norm(c.joints[:, SMPL.index("L_knee")] - c.joints[:, SMPL.index("L_hip")], axis=-1)
        assert 0.3 < np.median(femur) < 0.55, c.name


def test_walking_clip_moves_forward(seed):
    for name in ("deepmimic_walk", "deepmimic_walker_forward", "deepmimic_run"):
        x = seed[name].joints
        disp = x[-1, 0] - x[0, 0]
        assert disp[2] > 1.5, name  # clips start facing +z
        assert abs(disp[0]) < 0.5 * disp[2], name
        speed = disp[2] / seed[name].duration
        assert (0.6 < speed < 2.0) if "run" not in name else (2.5 < speed < 4.5), (name, speed)
    # turning clips curve to their side: left is +x
    assert seed["deepmimic_walker_turn_left0"].joints[-1, 0, 0] > 0.3
    assert seed["deepmimic_walker_turn_right0"].joints[-1, 0, 0] < -0.3


def test_tampered_copy_raises_cache_error(tmp_path):
    for f in (SEED_CORPUS_FILE, SEED_MANIFEST_FILE):
        shutil.copy(SEED_ASSET_DIR / f, tmp_path / f)
    assert len(load_seed_corpus(tmp_path)) == len(load_seed_corpus())
    data = bytearray((tmp_path / SEED_CORPUS_FILE).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / SEED_CORPUS_FILE).write_bytes(bytes(data))
    with pytest.raises(CacheError, match="build_seed_corpus"):
        load_seed_corpus(tmp_path)


def test_manifest_frame_counts_checked(tmp_path):
    shutil.copy(SEED_ASSET_DIR / SEED_CORPUS_FILE, tmp_path / SEED_CORPUS_FILE)
    manifest = json.loads((SEED_ASSET_DIR / SEED_MANIFEST_FILE).read_text())
    manifest["clips"][0]["frames"] += 1
    (tmp_path / SEED_MANIFEST_FILE).write_text(json.dumps(manifest))
    with pytest.raises(CacheError, match="frame counts"):
        load_seed_corpus(tmp_path)
    (tmp_path / SEED_MANIFEST_FILE).unlink()
    with pytest.raises(CacheError, match="manifest missing"):
        load_seed_corpus(tmp_path)
    with pytest.raises(CacheError, match="seed corpus missing"):
        load_seed_corpus(tmp_path / "nowhere")


def test_build_tool_reproduces_the_shipped_content(tmp_path):
    """Only when the downloads are cached (the tool is never allowed to download inside tests)."""
    work = default_workdir()
    have = list((work / "downloads").glob("pybullet-3.2.7-*.whl")) and list((work / "downloads").glob("*.deb"))
    if not have:
        pytest.skip(f"seed downloads not cached in {work} (run tools/build_seed_corpus.py once)")
    out = tmp_path / "seed"
    r = subprocess.run([sys.executable, str(REPO / "tools" / "build_seed_corpus.py"), "--offline",
                        "--workdir", str(work), "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    rebuilt = load_seed_corpus(out)
    assert rebuilt.fingerprint() == load_seed_corpus().fingerprint()
    assert json.loads((out / SEED_MANIFEST_FILE).read_text())["fingerprint"] == read_seed_manifest()["fingerprint"]
