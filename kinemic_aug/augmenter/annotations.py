"""Stage 7, annotations: synthetic sequences back in the dataset's layout and frame rate, as annotation
dicts with the real ones' fields, and the augmented PYSKL dict.

Each sample is placed in the frame of the shot it started from (or took its bones from), so it sits where
real samples sit; it carries ``is_synthetic=True``, a ``frame_dir`` starting with ``synthetic_`` and a
``synthetic_info`` dict.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from ..data.annotation_template import AnnotationTemplate, field_parity
from ..data.pyskl import id_key
from ..errors import DataError
from ..generator.dataset_space import TargetDomain
from ..synthesis import SynthesisConfig
from ..synthesis.root_path import resample_path
from ..text.labels import LabelSet


@dataclass
class SampleProvenance:
    """What every synthetic sample of a run records about how it was made."""

    variant: str
    synth_cfg: SynthesisConfig
    generator_step: int
    seed: int


def bridged_shot(shot: np.ndarray, domain: TargetDomain, sample: str = "") -> np.ndarray:
    """The recorded shot ``[M, T, V, 3]`` brought into the generator's space and back, person 0: what a sample
    equal to that shot would look like after the bridge (:func:`on_recorded_shot` measures changes from it)."""
    return domain.from_generator(domain.to_generator(shot, sample=sample), reference=shot, sample=sample)[0]


def on_recorded_shot(kp: np.ndarray, shot: np.ndarray, domain: TargetDomain, sample: str = "",
                     bridged: Optional[np.ndarray] = None) -> np.ndarray:
    """``SynthesisConfig.residual_in_target``: the recorded shot (person 0, its non-empty frames) plus what
    separates the sample ``kp [1, T, V, 3]`` from the shot brought through the same bridge and placed alike
    (``bridged``: :func:`bridged_shot` of ``shot``, computed here when not given)."""
    real = np.asarray(shot, dtype=np.float32)[0]
    real = real[~np.all(real == 0, axis=(1, 2))]
    if bridged is None:
        bridged = bridged_shot(shot, domain, sample)
    change = resample_path(kp[0], len(bridged)) - bridged
    return (real + resample_path(change, len(real)))[None].astype(np.float32)


def synthetic_annotations_of_class(c: int, seqs: Sequence[np.ndarray], infos: Sequence[Dict[str, Any]],
                                   refs: List[Dict[str, Any]], adapter_key: str, domain: TargetDomain,
                                   labels: LabelSet, template: AnnotationTemplate,
                                   made: SampleProvenance) -> List[Dict[str, Any]]:
    """Class ``c``'s samples (generator space) as annotations like the real ones; ``refs``: the class's shots."""
    rng = np.random.default_rng([made.seed, c, 99])
    out = []
    bridged: Dict[int, np.ndarray] = {}  # residual_in_target: each shot goes through the bridge once
    for i, (s, info) in enumerate(zip(seqs, infos)):
        # the shot the sample started from / took its bones from; placed in that shot's frame
        ref = refs[info["shot_index"]] if info.get("shot_index", -1) >= 0 else refs[int(rng.integers(0, len(refs)))]
        kp = domain.from_generator(s, reference=ref["keypoint"], sample=f"synthetic_{c}_{i}")
        if made.synth_cfg.residual_in_target and info.get("shot_index", -1) >= 0:
            w = int(info["shot_index"])
            if w not in bridged:
                bridged[w] = bridged_shot(ref["keypoint"], domain, sample=f"synthetic_{c}_{i}")
            kp = on_recorded_shot(kp, ref["keypoint"], domain, sample=f"synthetic_{c}_{i}", bridged=bridged[w])
        caption = (made.synth_cfg.compose_with[0] if info.get("composed") else
                   labels.captions(c)[info["caption_index"]])
        ann = {"frame_dir": f"synthetic_{made.variant}_c{c:03d}_{i:05d}", "label": int(c),
               "keypoint": kp.astype(np.float32), "total_frames": int(kp.shape[1]), "is_synthetic": True,
               "synthetic_info": {"variant": made.variant, "adapter": adapter_key[:16], "caption": caption,
                                  "composed": bool(info.get("composed")),
                                  "anchor_shot": str(ref.get(id_key([ref]), "")),
                                  "shot_strength": float(made.synth_cfg.shot_strength),
                                  "generator_step": int(made.generator_step), "seed": made.seed}}
        out.append(template.conform(ann, reference=ref))
    return out


def augmented_pyskl(anns: List[Dict[str, Any]], source: Optional[Dict[str, Any]], split_name: str,
                    template: AnnotationTemplate) -> Dict[str, Any]:
    """A PYSKL dict: ``source``'s splits untouched (if it is a PYSKL dict), plus ``split_name`` listing ``anns``
    (shots followed by the added samples). Every annotation says ``is_synthetic``; the added ones must have
    the fields of the real ones (:func:`~kinemic_aug.data.annotation_template.field_parity`)."""
    # the added samples: synthetic ones, or the corpus clips of the "retrieved" variant
    added = [a for a in anns if a.get("is_synthetic") or a.get("retrieved")]
    if source is not None:
        out = {k: v for k, v in source.items() if k not in ("split", "annotations")}
        # a source that is itself augmented keeps its synthetic samples' flag
        every = [dict(a, is_synthetic=bool(a.get("is_synthetic", False))) for a in source["annotations"]]
        base = [a for a in every if not a["is_synthetic"]]
        split = dict(source["split"])
        out["annotations"] = every + added
    else:
        out, split = {}, {}
        base = [a for a in anns if not (a.get("is_synthetic") or a.get("retrieved"))]
        out["annotations"] = anns
    problems = field_parity(base, added)
    if problems:  # a template bug, not a user error: never write a file pipelines would trip over
        raise DataError(f"synthetic annotations differ from the real ones: {'; '.join(problems[:5])}",
                        field="annotations")
    split[split_name] = [a[template.key] for a in anns]
    out["split"] = split
    return out
