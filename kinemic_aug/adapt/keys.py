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

Keys written by earlier versions (``legacy``) are still read: an entry found only under its old key
is adopted under the new one (:meth:`ArtifactCache.load`'s ``legacy`` argument).
"""
from __future__ import annotations

import functools
import hashlib
from pathlib import Path
from typing import Any, Dict, Iterable, Mapping

import numpy as np

#: Bumped when the layout of the key's parts changes.
KEY_VERSION = 2

#: Modules (relative to the package) whose code computes the features from the inputs.
FEATURE_CODE = ("domain.py", "skeleton/layout.py", "skeleton/resample.py", "skeleton/retarget.py",
                "generator/representation.py")

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


@functools.lru_cache(maxsize=None)
def feature_code_sha() -> str:
    """sha256 of the source files in :data:`FEATURE_CODE` (read once per process)."""
    h = hashlib.sha256()
    for rel in FEATURE_CODE:
        h.update(rel.encode())
        h.update((_PACKAGE / rel).read_bytes())
    return h.hexdigest()


def pool_ids(positives: Iterable[int], negatives: Iterable[int] = ()) -> Dict[str, Any]:
    """The discrete part of a source pool: global corpus ids of its positives (in pairing order, which
    the sampling weights follow) and of its negatives (as a set)."""
    return {"positives": [int(i) for i in positives], "negatives": sorted(int(i) for i in negatives)}
