"""A validation split carved from a dataset's training subjects.

Every choice made while developing (a recipe, a checkpoint, a filter threshold) has to be made
without the test split, which is read once per reported cell. Datasets such as MSR Action3D ship
only train and test splits, so this module holds some *training* subjects out: their sequences are
the validation split, the remaining training subjects the pool the shots are drawn from.
"""
from __future__ import annotations

from typing import Any, Dict, Mapping, Sequence, Tuple

from ..errors import DataError


def with_validation_split(data: Mapping[str, Any], train_split: str, holdout_subjects: Sequence[Any], *,
                          subject_key: str = "subject", names: Tuple[str, str] = ("", "")) -> Dict[str, Any]:
    """A shallow copy of a PYSKL annotation dict with two more splits: ``<train_split>_val_pool``
    (the training split without ``holdout_subjects``) and ``<train_split>_val`` (their sequences).
    ``names`` overrides the two split names. Raises :class:`DataError` when a held-out subject is not
    in the training split or either new split would be empty."""
    splits = data.get("split") or {}
    if train_split not in splits:
        raise DataError(f"no split {train_split!r}; splits: {sorted(splits)}", field="split")
    pool_name = names[0] or f"{train_split}_val_pool"
    val_name = names[1] or f"{train_split}_val"
    ids = set(splits[train_split])
    by_id = {a.get("frame_dir"): a for a in data["annotations"] if a.get("frame_dir") in ids}
    subjects = {a.get(subject_key) for a in by_id.values()}
    held = set(holdout_subjects)
    missing = held - subjects
    if missing:
        raise DataError(f"held-out subjects {sorted(missing)} are not in split {train_split!r} (its subjects: "
                        f"{sorted(subjects)})", field=subject_key)
    val = [i for i in splits[train_split] if by_id.get(i, {}).get(subject_key) in held]
    pool = [i for i in splits[train_split] if by_id.get(i, {}).get(subject_key) not in held]
    if not val or not pool:
        raise DataError(f"holding out {sorted(held)} leaves an empty split", field=subject_key)
    out = dict(data)
    out["split"] = dict(splits, **{pool_name: pool, val_name: val})
    return out
