"""Stage 0, the input: whatever the user passed, as PYSKL annotation dicts and the checks on them.

Everything the augmenter reads about its source comes through :func:`read_source`, so a new kind of
input (another dataset object, another file format) is added here and nowhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import torch

from ..data.pyskl import get_split, load_pyskl, validate_annotations
from ..errors import DataError
from ..skeleton.layout import get_layout
from ..text.labels import LabelSet, load_label_set

#: a shot whose second person is present in at least this share of the first person's frames is two-person motion
SECOND_PERSON_SHARE = 0.5


@dataclass
class SourceData:
    """The training samples (``annotations``) and, for a PYSKL input, the whole dict (``full``: splits, meta)."""

    annotations: List[Dict[str, Any]]
    full: Optional[Dict[str, Any]] = None

    @property
    def meta(self) -> Dict[str, Any]:
        return (self.full or {}).get("meta", {}) if self.full else {}


def _from_dataset(source: Any) -> List[Dict[str, Any]]:
    """A PyTorch-style dataset of ``(keypoint [M,T,V,C] or [T,V,C], label)`` as annotation dicts."""
    anns = []
    for i in range(len(source)):
        item = source[i]
        if not (isinstance(item, (tuple, list)) and len(item) >= 2):
            raise DataError("dataset items must be (keypoint, label)", sample=i, field="item")
        kp = item[0].detach().cpu().numpy() if isinstance(item[0], torch.Tensor) else np.asarray(item[0])
        if kp.ndim == 3:
            kp = kp[None]
        anns.append({"frame_dir": f"sample_{i:06d}", "label": int(item[1]), "keypoint": kp.astype(np.float32),
                     "total_frames": int(kp.shape[1])})
    validate_annotations({"annotations": anns}, source=type(source).__name__)
    return anns


def read_source(source: Any, split: Optional[str]) -> SourceData:
    """Normalise the accepted inputs to a list of PYSKL annotation dicts (and the full dict if any)."""
    data = None
    if isinstance(source, (str, Path)):
        data = load_pyskl(source)
    elif isinstance(source, Mapping) and "annotations" in source:
        data = source
    if data is not None:
        src = str(source) if isinstance(source, (str, Path)) else None
        validate_annotations(data, source=src)
        if split is None and data.get("split"):
            raise DataError(f"the source has splits {sorted(data['split'])}: pass split= (the training split), so "
                            "shots are never drawn from a test split", source=src, field="split")
        anns = get_split(data, split) if split else list(data["annotations"])
        return SourceData(list(anns), dict(data))
    if isinstance(source, Sequence) and source and isinstance(source[0], Mapping):
        validate_annotations({"annotations": list(source)})
        return SourceData(list(source))
    if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        return SourceData(_from_dataset(source))
    raise DataError(f"unsupported source type {type(source).__name__}: pass a PYSKL pickle path or dict, a list of "
                    "annotation dicts, or a dataset of (keypoint, label)", field="source")


def resolve_fps(fps: Optional[float], source: SourceData, layout: str) -> float:
    """The dataset's frame rate: as given, else from the pickle's meta, else the layout's default."""
    if fps is None:
        fps = source.meta.get("fps")
        if fps is None:
            fps = get_layout(layout).fps
        if fps is None:
            raise DataError("the dataset's frame rate is unknown: pass fps=", field="fps")
    return float(fps)


def resolve_label_set(labels: Any, source: SourceData) -> LabelSet:
    """The class captions: a label set, its name or file, or (``None``) the pickle's ``meta['classes']``."""
    if isinstance(labels, LabelSet):
        return labels
    if labels is None:
        names = source.meta.get("classes")
        if not names:
            raise DataError("no class names: pass labels= (a label-set name or a metadata file)", field="labels")
        return LabelSet.from_records([{"id": i, "name": n} for i, n in enumerate(names)], name="dataset-meta")
    return load_label_set(labels)


def check_counts(spc: Any) -> Any:
    """``synthetic_per_class`` as given, once it is known to be a count, a class -> count mapping or ``"mirror"``."""
    if spc is None or spc == "mirror":
        return spc
    if isinstance(spc, str):
        raise DataError(f"synthetic_per_class must be a number, a {{class: count}} mapping or 'mirror', got {spc!r}",
                        field="synthetic_per_class")
    if isinstance(spc, Mapping):
        bad = {k: v for k, v in spc.items() if not (str(k).lstrip("-").isdigit() and isinstance(v, (int, np.integer))
                                                     and not isinstance(v, bool) and v >= 0)}
        if bad:
            raise DataError(f"synthetic_per_class maps class ids to non-negative counts; bad entries {bad}",
                            field="synthetic_per_class")
        return {int(k): int(v) for k, v in spc.items()}
    if int(spc) != spc or spc < 0:
        raise DataError(f"synthetic_per_class must be a non-negative integer, got {spc!r}", field="synthetic_per_class")
    return int(spc)


def refuse_second_person(kp: Any, sample: str, label: int) -> None:
    """The generator synthesises one person: a shot in which a second person acts (present in at least
    :data:`SECOND_PERSON_SHARE` of person 0's frames; a brief spurious detection is not counted) is refused
    instead of being silently cut to person 0."""
    kp = np.asarray(kp)
    if kp.ndim != 4 or kp.shape[0] < 2:
        return
    first = ~np.all(kp[0] == 0, axis=(1, 2))
    second = ~np.all(kp[1] == 0, axis=(1, 2))
    if first.any() and (second & first).sum() >= SECOND_PERSON_SHARE * first.sum():
        raise DataError(f"class {label}: a second person is present in {int((second & first).sum())} of "
                        f"{int(first.sum())} frames, and the generator synthesises one person; leave two-person "
                        "classes out (classes=..., or tools/ntu_to_pyskl.py --two-person drop), or, if the second "
                        "body is a bystander, convert with one body per sample (--max-bodies 1)", sample=sample,
                        field="keypoint")
