"""Downloading the two registry packages and extracting the source files, each checked by sha256.

Only :func:`fetch_pybullet` and :func:`fetch_assimp` run ``pip``/``apt-get``; with ``offline`` they
use what is already in the downloads folder or stop.
"""
from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import List

from kinemic_aug.utils.io import sha256_bytes, sha256_file

from .recorded import (ASSIMP_DEB, ASSIMP_DEB_SHA256, BVH_MEMBER_DIR, BVH_SHA256, MOTION_SHA256, MOTIONS_PREFIX,
                       PYBULLET_REQ, PYBULLET_WHEEL_SHA256)


def _run(cmd: List[str], cwd: Path) -> None:
    print("+", " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=str(cwd), check=True)


def fetch_pybullet(downloads: Path, offline: bool) -> Path:
    """The pybullet 3.2.7 wheel in ``downloads`` (downloaded unless ``offline``), checked if recorded."""
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
    """The assimp-testmodels .deb in ``downloads`` (downloaded unless ``offline``), checked."""
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
    """Stop unless ``data`` has the recorded sha256; write it unless ``dest`` already holds it."""
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
