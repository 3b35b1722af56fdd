"""What an adapter's cache key is made of: the inputs, not the floats computed from them.

The first cache keys hashed the normalised features an adapter trains on. Those floats differ in
their last bits between machines, BLAS builds and thread counts (the same run with and without
``OMP_NUM_THREADS=1`` hashed different source-pool features), so a cache built on one machine, or
on a GPU box, was missed on another and every adapter was trained again.

A key now hashes what the features are computed *from*, which is bit-stable everywhere:

* the shots' keypoint arrays as the dataset stores them (:func:`shots_digest`);
* the corpus identity (:func:`~kinemic_aug.data.sources.corpus_identity`: files and recipe, not
  the computed clips) and the *ids* of the paired clips (a discrete result);
* the generator checkpoint's sha256, the text encoder's id and the captions;
* the source code of the modules that turn keypoints and clips into features
  (:data:`FEATURE_CODE`, :func:`feature_code_sha`): editing them retrains instead of serving
  adapters trained on features the new code would not produce.

A feature-code module is hashed under the name it had when the keys were introduced
(:data:`FEATURE_CODE_NAMES`), with its relative imports written as they would read from that place
(:func:`_as_if_at`): moving a module changes its import lines, not the computation, and must not
retrain every adapter. Any other edit changes the digest. The rewrite is deliberately narrow: single-line
``from .x import y`` statements whose target lies below the recorded place, and the first block of them
sorted (:func:`_import_order`; the one moved module had its block sorted at its old place). A module moved
somewhere this cannot express changes the digest, which ``tests/test_cache_key_pins.py`` reports.

A module split into several (its data tables into a module of their own, say) changes the bytes but not
the computation. Such a split is recorded as one pair in :data:`SPLIT_EQUIVALENTS`: the digest of the
code right after the split, and the digest it had before, which keys keep recording. The pair names one
exact state of the code, so the next edit to any of these files changes the digest again, as it should.
"""
from __future__ import annotations

import functools
import hashlib
import re
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping

import numpy as np

#: Bumped when the layout of the key's parts changes.
KEY_VERSION = 2

#: Modules (relative to the package) whose code computes the features from the inputs.
FEATURE_CODE = ("generator/dataset_space.py", "skeleton/layout.py", "skeleton/resample.py", "skeleton/retarget.py",
                "generator/representation.py", "skeleton/builtin_layouts.py", "skeleton/builtin_retarget_maps.py")

#: Where a module of :data:`FEATURE_CODE` lived when the keys were introduced (the name the digest records).
FEATURE_CODE_NAMES = {"generator/dataset_space.py": "domain.py"}

#: Digest of the feature code right after a split that moved code without changing it -> the digest it
#: had before (the one keys record). The built-in layouts and retarget tables left ``layout.py`` and
#: ``retarget.py`` for modules of their own (two comments of the tables reworded); the layouts, tables and
#: retargeted arrays are identical.
SPLIT_EQUIVALENTS = {
    "c11609d9cb51c45263d5cdfe4d0d9413abe63d86c24e5c81a0ccae0c244a39be": "76e4a83728cb7aaa5b27656a0a8eef527d76b18abe6fda394648f1a04a8f549e",
}

_RELATIVE_IMPORT = re.compile(rb"^(\s*from )(\.+)([\w.]*)( import )", re.M)

_PACKAGE = Path(__file__).resolve().parents[1]


def array_sha(a: Any) -> str:
    """sha256 of an array's dtype, shape and C-ordered bytes (the values exactly as stored)."""
    arr = np.ascontiguousarray(np.asarray(a))
    h = hashlib.sha256(f"{arr.dtype.str}|{arr.shape}|".encode())
    h.update(arr.tobytes())
    return h.hexdigest()


def shots_digest(anns: Iterable[Mapping[str, Any]], id_field: str) -> str:
    """One digest of annotation dicts: each one's id, label and keypoint array, in the given order."""
    h = hashlib.sha256()
    for a in anns:
        h.update(f"{a[id_field]}|{int(a['label'])}|".encode())
        h.update(array_sha(a["keypoint"]).encode())
    return h.hexdigest()


def _as_if_at(source: bytes, actual: str, recorded: str) -> bytes:
    """``source`` (of the module at package path ``actual``) with each relative import rewritten to
    name the same module from package path ``recorded``."""
    if actual == recorded:
        return source
    here = actual.split("/")[:-1]
    there = recorded.split("/")[:-1]

    def rewrite(m: "re.Match[bytes]") -> bytes:
        dots, rest = len(m.group(2)), m.group(3).decode()
        target = here[:len(here) - (dots - 1)] + ([p for p in rest.split(".") if p])
        common = 0
        while common < min(len(target), len(there)) and target[common] == there[common]:
            common += 1
        if common < len(there):  # the target is not below the recorded place: keep the line as it is
            return m.group(0)
        rel = "." + ".".join(target[common:])
        return m.group(1) + rel.encode() + m.group(4)

    return _RELATIVE_IMPORT.sub(rewrite, source)


def _import_order(source: bytes) -> bytes:
    """The first block of consecutive relative-import lines, sorted (a move may reorder them)."""
    lines = source.split(b"\n")
    idx = [i for i, line in enumerate(lines) if line.startswith(b"from .")]
    if not idx:
        return source
    start = idx[0]
    end = start
    while end < len(lines) and lines[end].startswith(b"from ."):
        end += 1
    lines[start:end] = sorted(lines[start:end])
    return b"\n".join(lines)


@functools.lru_cache(maxsize=None)
def feature_code_sha() -> str:
    """sha256 of the source files in :data:`FEATURE_CODE` (read once per process), each under its
    recorded name and with its imports as read from there; a recorded split (:data:`SPLIT_EQUIVALENTS`)
    gives the digest from before it."""
    return SPLIT_EQUIVALENTS.get(_raw_feature_code_sha(), _raw_feature_code_sha())


@functools.lru_cache(maxsize=None)
def _raw_feature_code_sha() -> str:
    """The digest of the feature code's bytes as they are, before :data:`SPLIT_EQUIVALENTS` is applied."""
    h = hashlib.sha256()
    for rel in FEATURE_CODE:
        recorded = FEATURE_CODE_NAMES.get(rel, rel)
        source = (_PACKAGE / rel).read_bytes()
        if recorded != rel:
            source = _import_order(_as_if_at(source, rel, recorded))
        h.update(recorded.encode())
        h.update(source)
    return h.hexdigest()


def pool_ids(positives: Iterable[int], negatives: Iterable[int] = ()) -> Dict[str, Any]:
    """The discrete part of a source pool: global corpus ids of its positives (in pairing order, which
    the sampling weights follow) and of its negatives (as a set)."""
    return {"positives": [int(i) for i in positives], "negatives": sorted(int(i) for i in negatives)}
