"""Stage 1, shots: the few real samples per class that everything else is computed from.

:func:`select_shots` draws them (seeded) from the training samples; :class:`ShotSet` is the result,
and :func:`shots_in_generator_space` converts them once into the generator's skeleton space.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..data.fewshot import FewShotSplit, make_few_shot_split
from ..data.pyskl import id_key
from ..errors import DataError
from ..generator.dataset_space import TargetDomain
from ..text.labels import LabelSet
from .inputs import refuse_second_person


@dataclass
class ShotSet:
    """The selected shots (``annotations``, in source order), their classes (sorted) and, when drawn,
    the few-shot split they came from."""

    annotations: List[Dict[str, Any]]
    classes: List[int]
    few_shot: Optional[FewShotSplit] = None

    @property
    def id_field(self) -> str:
        """The annotation field that names a sample (``frame_dir`` or ``id``)."""
        return id_key(self.annotations)

    def of_class(self, c: int) -> List[Dict[str, Any]]:
        return [a for a in self.annotations if int(a["label"]) == c]

    def names_of_class(self, c: int) -> List[str]:
        key = self.id_field
        return [a[key] for a in self.of_class(c)]


def select_shots(anns: List[Dict[str, Any]], labels: LabelSet, shots: Optional[int], seed: int,
                 allow_fewer: bool, classes: Optional[Sequence[int]]) -> ShotSet:
    """``shots`` per class drawn from ``anns`` (all of them when ``None``), limited to ``classes``."""
    if classes is not None:
        keep = set(int(c) for c in classes)
        anns = [a for a in anns if int(a["label"]) in keep]
    fs = None
    if shots is None:
        if not anns:
            raise DataError("no training samples", field="annotations")
        chosen_anns = anns
    else:
        key = id_key(anns)
        data = {"split": {"train": [a[key] for a in anns]}, "annotations": anns,
                "meta": {"classes": [labels[c].name if c in labels else str(c)
                                     for c in range(max(int(a["label"]) for a in anns) + 1)]}}
        fs = make_few_shot_split(data, "train", shots, seed, classes=classes, allow_fewer=allow_fewer)
        chosen = set(fs.ids)
        chosen_anns = [a for a in anns if a[key] in chosen]
    return ShotSet(chosen_anns, sorted({int(a["label"]) for a in chosen_anns}), fs)


def check_labels(shot_set: ShotSet, labels: LabelSet) -> None:
    """Every class has captions: fail now, not with a KeyError after the generator has loaded and adapters trained."""
    unknown = [c for c in shot_set.classes if c not in labels]
    if unknown:
        key = shot_set.id_field
        first = next(a[key] for a in shot_set.annotations if int(a["label"]) == unknown[0])
        raise DataError(f"label(s) {unknown} have no entry in label set {labels.name!r} "
                        f"(ids {min(labels.ids)}..{max(labels.ids)}); pass labels= covering every class",
                        sample=first, field="label")


def shots_in_generator_space(shot_set: ShotSet, domain: TargetDomain) -> Dict[int, List[np.ndarray]]:
    """The shots in the generator's space, per class (callers only read them)."""
    key = shot_set.id_field
    out: Dict[int, List[np.ndarray]] = {c: [] for c in shot_set.classes}
    for a in shot_set.annotations:
        refuse_second_person(a["keypoint"], a[key], int(a["label"]))
        out[int(a["label"])].append(domain.to_generator(a["keypoint"], sample=a[key]))
    return out
