"""Pinned shot statistics: the normalisation ``target_norm="shots"`` fits, saved once and reused.

Why: with ``target_norm="shots"`` the generator sees the shots normalised by statistics fitted on every
selected shot of every class, and those statistics are part of every adapter's cache key. Adding a class
changes them, so every per-class adapter would be retrained. Saving the statistics of a first run
(``KineMICAugmenter.save_target_stats``) and passing the file back (``target_stats=``) keeps them fixed:
a later run with more classes trains the new classes only.

The file is a plain ``.npz`` (no pickle), read with ``allow_pickle=False``:

* ``mean`` and ``std``: float32, one value per feature dimension;
* ``representation`` and ``layout``: the generator representation they belong to;
* ``provenance``: JSON with the writing run's ``classes`` and ``num_shots``, ``pinned_from`` (the file it was
  itself pinned to, if any), ``norm_key`` (what its cache keys recorded of the normalisation), ``context``
  (the generator, domain and feature code the statistics were fitted under) and ``stats_sha`` (the digest of
  the values as written).

Cache keys (:func:`pinned_norm_key`): a run pinned to a file keys its adapters with the writing run's
``norm_key`` only when the values are unchanged (``stats_sha``) and its own generator, domain and code are the
writer's (``context``); then the statistics are exactly the ones that run fitted, and its adapters are served.
Otherwise the key is the values' own digest, a key no unpinned run can produce.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, Tuple, Union

import numpy as np

from ..adapt.input_digests import array_sha
from ..errors import DataError
from ..generator.representation import MotionRepresentation
from ..utils.io import atomic_save_npz

FIELDS = ("mean", "std", "representation", "layout", "provenance")


def save_target_stats(path: Union[str, Path], rep: MotionRepresentation, provenance: Dict[str, Any]) -> Path:
    """Write ``rep``'s statistics to ``path`` atomically (a half-written file never appears), with
    ``provenance`` (the writer's ``norm_key`` and ``context``, see the module docstring) and the values' digest."""
    rep._need_stats()
    prov = dict(provenance, stats_sha=stats_sha(rep))
    return atomic_save_npz(path, mean=np.asarray(rep.mean, np.float32), std=np.asarray(rep.std, np.float32),
                           representation=np.array(rep.name), layout=np.array(rep.layout.name),
                           provenance=np.array(json.dumps(prov, sort_keys=True)))


def load_target_stats(path: Union[str, Path], rep: MotionRepresentation) -> Tuple[MotionRepresentation, Dict]:
    """A copy of ``rep`` normalising with the statistics saved in ``path``, and the file's provenance (``{}``
    when it is not a JSON object: it only decides the cache key, never the values).

    Every problem is a :class:`DataError` naming the file and the field: a missing or unreadable file, a
    missing field, statistics of another representation or layout, a wrong length, values that are not
    finite as float32, or a non-positive std (a division by it would blow up the generator's input).
    """
    p = Path(path)
    src = str(p)
    if not p.is_file():
        raise DataError("no such statistics file (write one with KineMICAugmenter.save_target_stats)",
                        source=src, field="target_stats")
    try:
        with np.load(p, allow_pickle=False) as z:
            missing = [f for f in FIELDS if f not in z.files]
            if missing:
                raise DataError(f"missing field(s) {missing}; a statistics file holds {list(FIELDS)}",
                                source=src, field=missing[0])
            d = {f: z[f] for f in FIELDS}
    except DataError:
        raise
    except Exception as e:  # noqa: BLE001 - bytes that do not parse (zip, zlib, npy header, pickle refused)
        raise DataError(f"not a readable statistics file ({type(e).__name__}: {e})", source=src,
                        field="target_stats") from e
    name, layout = str(d["representation"]), str(d["layout"])
    if name != rep.name:
        raise DataError(f"statistics are for representation {name!r}; the generator uses {rep.name!r}",
                        source=src, field="representation")
    if layout != rep.layout.name:
        raise DataError(f"statistics are for layout {layout!r}; the generator uses {rep.layout.name!r}",
                        source=src, field="layout")
    values = {}
    for field in ("mean", "std"):
        a = d[field]
        if a.shape != (rep.dim,):
            raise DataError(f"shape {a.shape}, expected ({rep.dim},)", source=src, field=field)
        if not np.issubdtype(a.dtype, np.floating):
            raise DataError(f"dtype {a.dtype}, expected float", source=src, field=field)
        with np.errstate(over="ignore", under="ignore"):
            values[field] = a.astype(np.float32)  # checked as used: a float64 1e39 is inf in float32
        if not np.isfinite(values[field]).all():
            raise DataError("NaN or inf values (as float32)", source=src, field=field)
    if (values["std"] <= 0).any():
        raise DataError(f"{int((values['std'] <= 0).sum())} non-positive value(s) (as float32)", source=src,
                        field="std")
    out = copy.copy(rep)
    out.mean, out.std = values["mean"], values["std"]
    try:
        prov = json.loads(str(d["provenance"]))
    except ValueError:
        prov = {}
    return out, prov if isinstance(prov, dict) else {}


def stats_sha(rep: MotionRepresentation) -> str:
    """The digest of statistics: their exact float32 values."""
    return array_sha(np.concatenate([np.asarray(rep.mean, np.float32), np.asarray(rep.std, np.float32)]))


def pinned_norm_key(rep: MotionRepresentation, provenance: Dict[str, Any], context: Dict[str, Any]) -> Any:
    """The normalisation's part of a cache key for pinned statistics ``rep`` (see the module docstring).

    ``context``: the pinned run's generator, domain and feature code, as its keys record them."""
    sha = stats_sha(rep)
    if provenance.get("stats_sha") == sha and provenance.get("norm_key") is not None \
            and provenance.get("context") == context:
        return provenance["norm_key"]
    return {"pinned_stats": sha}
