"""Pinned shot statistics: the normalisation ``target_norm="shots"`` fits, saved once and reused.

Why: with ``target_norm="shots"`` the generator sees the shots normalised by statistics fitted on every
selected shot of every class, and those statistics are part of every adapter's cache key. Adding a class
changes them, so every per-class adapter would be retrained. Saving the statistics of a first run
(``KineMICAugmenter.save_target_stats``) and passing the file back (``target_stats=``) keeps them fixed:
a later run with more classes trains the new classes only.

The file is a plain ``.npz`` (no pickle): ``mean`` and ``std`` (float32, one value per feature dimension),
``representation`` and ``layout`` (the generator representation they belong to) and ``provenance`` (JSON:
classes, number of shots, the shots' digest), read with ``allow_pickle=False``.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Dict, Union

import numpy as np

from .adapt.keys import array_sha
from .errors import DataError
from .generator.representation import MotionRepresentation
from .utils.io import atomic_save_npz

FIELDS = ("mean", "std", "representation", "layout", "provenance")


def save_target_stats(path: Union[str, Path], rep: MotionRepresentation, provenance: Dict[str, Any]) -> Path:
    """Write ``rep``'s statistics to ``path`` atomically (a half-written file never appears).

    ``provenance["norm_key"]`` is what the writing run's cache keys recorded of its normalisation; it is
    stored with the statistics' own digest, so a later run can key its adapters the same way as long as the
    values are unchanged (:func:`pinned_norm_key`)."""
    rep._need_stats()
    prov = dict(provenance, stats_sha=stats_sha(rep))
    return atomic_save_npz(path, mean=np.asarray(rep.mean, np.float32), std=np.asarray(rep.std, np.float32),
                           representation=np.array(rep.name), layout=np.array(rep.layout.name),
                           provenance=np.array(json.dumps(prov, sort_keys=True)))


def read_provenance(path: Union[str, Path]) -> Dict[str, Any]:
    """The JSON provenance stored beside the statistics ({} when it is not valid JSON)."""
    with np.load(Path(path), allow_pickle=False) as z:
        try:
            prov = json.loads(str(z["provenance"]))
        except ValueError:
            return {}
    return prov if isinstance(prov, dict) else {}


def pinned_norm_key(path: Union[str, Path], rep: MotionRepresentation) -> Any:
    """The normalisation's part of a cache key for statistics loaded from ``path`` into ``rep``.

    When the file's provenance names the key of the run that fitted them and its recorded digest still matches
    the values, that key (the run's adapters are then served); otherwise the values' own digest."""
    prov = read_provenance(path)
    sha = stats_sha(rep)
    if prov.get("stats_sha") == sha and prov.get("norm_key") is not None:
        return prov["norm_key"]
    return {"pinned_stats": sha}


def load_target_stats(path: Union[str, Path], rep: MotionRepresentation) -> MotionRepresentation:
    """A copy of ``rep`` normalising with the statistics saved in ``path``.

    Every problem is a :class:`DataError` naming the file and the field: a missing or unreadable file, a
    missing field, statistics of another representation or layout, a wrong length, NaN/inf, or a
    non-positive std (a division by it would blow up the generator's input).
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
    if name != rep.name or layout != rep.layout.name:
        raise DataError(f"statistics are for representation {name!r} on layout {layout!r}; the generator uses "
                        f"{rep.name!r} on {rep.layout.name!r}", source=src, field="representation")
    out = copy.copy(rep)
    for field in ("mean", "std"):
        a = d[field]
        if a.shape != (rep.dim,):
            raise DataError(f"shape {a.shape}, expected ({rep.dim},)", source=src, field=field)
        if not np.issubdtype(a.dtype, np.floating) or not np.isfinite(a).all():
            raise DataError("NaN, inf or non-float values", source=src, field=field)
    if (d["std"] <= 0).any():
        raise DataError(f"{int((d['std'] <= 0).sum())} non-positive value(s)", source=src, field="std")
    out.mean, out.std = d["mean"].astype(np.float32), d["std"].astype(np.float32)
    return out


def stats_sha(rep: MotionRepresentation) -> str:
    """What a cache key records of pinned statistics: the exact stored values."""
    return array_sha(np.concatenate([np.asarray(rep.mean, np.float32), np.asarray(rep.std, np.float32)]))
