"""``KineMICAugmenter``: few real shots per class in, real + synthetic training samples out.

The whole method behind one object::

    aug = KineMICAugmenter("msr.pkl", split="xsub_train", shots=5, labels="msr_action3d",
                           layout="msr_action3d", fps=15, synthetic_per_class=60, seed=0)
    anns = aug.annotations()      # the shots + synthetic samples (each has is_synthetic)
    aug.save_pyskl("msr_aug.pkl")  # train split augmented, every other split untouched

Steps, each cached under ``cache_dir`` (content-addressed, so a changed input is a new entry and an
unchanged one is never recomputed):

1. the shots are converted into the generator's space (:class:`~kinemic_aug.domain.TargetDomain`);
2. class captions and the generalist corpus's captions are embedded (text-embedding cache), and
   each class is soft-paired with its top-k corpus clips;
3. one adapter per class (or one joint adapter) is trained by :class:`~kinemic_aug.adapt.KineMICTrainer`
   (resumable; a corrupt cache entry is rebuilt);
4. each class's adapted generator samples its synthetic set (lengths from the shots), the filter
   drops degenerate samples, and the rest is converted back to the dataset's layout and fps.

Synthetic samples carry ``is_synthetic=True``, a ``frame_dir`` starting with ``synthetic_`` and a
``synthetic_info`` dict (class caption or composed caption, adapter key, generator step). They
are only ever added to the training split.
"""
from __future__ import annotations

import copy
import logging
import time
import warnings
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch

from .adapt import AdaptConfig, KineMICTrainer, SourcePool, TargetShots
from .adapt.cache import ArtifactCache, make_key
from .adapt.keys import KEY_VERSION, feature_code_sha, pool_ids, shots_digest
from .data.corpus import MotionCorpus
from .data.fewshot import make_few_shot_split
from .data.pyskl import get_split, id_key, load_pyskl, save_pyskl, validate_annotations
from .data.sources import DEFAULT_GENERALIST_CORPUS, corpus_identity, load_corpus
from .generator.dataset_space import TargetDomain
from .errors import DataError
from .generator.checkpoint import load_generator, resolve_generator
from .synthesis import FilterReport, SynthesisConfig, synthesize_class
from .utils.io import sha256_file

log = logging.getLogger(__name__)

DEFAULT_CACHE = Path.home() / ".cache" / "kinemic_aug"
DEFAULT_GENERATOR = resolve_generator()
#: how shots are normalised for the generator (see ``KineMICAugmenter``'s ``target_norm``)
TARGET_NORMS = ("shots", "generalist")


@dataclass
class ClassReport:
    """What happened for one class (seconds, cache hits, filter counts)."""

    class_id: int
    name: str
    shots: int
    adapt_seconds: float = 0.0
    adapt_cached: bool = False
    synth_seconds: float = 0.0
    synth_cached: bool = False
    generated: int = 0  # kept: passed the filter and in the output
    dropped_static: int = 0
    dropped_exploding: int = 0
    top1_similarity: float = float("nan")
    kth_similarity: float = float("nan")
    requested: int = 0
    drawn: int = 0
    max_draws: int = 0
    shortfall_reason: str = ""

    @property
    def shortfall(self) -> int:
        return max(0, self.requested - self.generated)

    def progress_line(self, position: str = "") -> str:
        """One plain line: how the adapter came (trained or cached), what was sampled, what was kept."""
        adapter = "adapter from cache" if self.adapt_cached else "adapter trained"
        sampled = ("synthetic set from cache" if self.synth_cached else f"sampled {self.drawn}")
        short = f", SHORT by {self.shortfall}" if self.shortfall else ""
        return (f"[kinemic] class {self.class_id} {self.name}{f' ({position})' if position else ''}: "
                f"{adapter} in {self.adapt_seconds:.1f} s; {sampled} in {self.synth_seconds:.1f} s; kept "
                f"{self.generated} of {self.requested} ({self.dropped_static} static, {self.dropped_exploding} "
                f"exploding dropped){short}")


def _annotations_from_source(source: Any, split: Optional[str]) -> Tuple[List[Dict[str, Any]], Optional[Dict]]:
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
        return list(anns), dict(data)
    if isinstance(source, Sequence) and source and isinstance(source[0], Mapping):
        validate_annotations({"annotations": list(source)})
        return list(source), None
    if hasattr(source, "__getitem__") and hasattr(source, "__len__"):
        # a PyTorch-style dataset of (keypoint [M,T,V,C] or [T,V,C], label)
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
        return anns, None
    raise DataError(f"unsupported source type {type(source).__name__}: pass a PYSKL pickle path or dict, a list of "
                    "annotation dicts, or a dataset of (keypoint, label)", field="source")


#: a shot whose second person is present in at least this share of the first person's frames is two-person motion
SECOND_PERSON_SHARE = 0.5


def _refuse_second_person(kp: Any, sample: str, label: int) -> None:
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


def _check_counts(spc: Any) -> Any:
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


class KineMICAugmenter:
    """See the module docstring.

    Args:
        source: PYSKL pickle path or dict, list of annotation dicts, or dataset of ``(keypoint, label)``.
        split: split of ``source`` that holds the training samples (PYSKL inputs).
        shots: draw this many shots per class from the training samples (seeded); ``None`` uses them all.
        allow_fewer: accept classes with fewer than ``shots`` samples (recorded), instead of refusing.
        labels: label set name (``"msr_action3d"``, ``"ntu120"``) or metadata file, giving class captions.
        layout, fps: the dataset's skeleton layout and frame rate.
        synthetic_per_class / synthetic_ratio: how many synthetic samples per class: a number, a mapping
            ``{class: count}``, or ``"mirror"`` (one per real sample of the class in the training samples the
            shots were drawn from, as the reference's synthetic set mirrors the full training pool: that reads
            the pool's class counts, nothing else of it); or ``synthetic_ratio`` per real shot.
        variant: ``kinemic`` | ``finetune`` | ``nocontrastive`` | ``noweight`` | ``zeroshot`` | ``retrieved`` (the
            soft-paired corpus clips themselves, no generator: :mod:`kinemic_aug.retrieval`).
        adapt, synthesis: detailed configs (``AdaptConfig``, ``SynthesisConfig``).
        generator: generalist checkpoint path, or the name of a shipped one (``'small'``, the default; see
            ``kinemic_aug.generator.checkpoint.SHIPPED_GENERATORS``).
        corpus: corpus spec of the generalist's training data (must match the checkpoint's).
        encoder: text encoder name (``minilm`` offline default; ``clip`` with local weights).
        cache_dir, device, seed: where artefacts live, ``auto``/``cpu``/``cuda``, and the seed of shots,
            adapters and synthesis.
        progress: progress bars for adaptation and synthesis, drawn only when stderr is a terminal (a
            redirected run, e.g. a benchmark writing its log file, gets none).
        target_norm: how the shots are normalised for the generator. ``"shots"`` (default, beyond the
            paper): with the shots' own per-dimension statistics (``MotionRepresentation.matched_to``, fitted
            on all selected shots of all classes), so they reach the denoiser at the corpus's scale, and the
            target stream's samples are decoded with the same statistics. ``"generalist"``: with the corpus
            statistics, as the reference does; shots from another capture system then sit many std away
            in some dimensions and the denoiser rewrites them (measured in ``benchmarks/results/kinemic_probe.md``).
            With ``"shots"``, adding a class refits the statistics, so every per-class adapter is retrained,
            unless they are pinned with ``target_stats``.
        target_stats: a statistics file written by :meth:`save_target_stats` (``target_norm="shots"`` only): the
            shots are normalised with it instead of with statistics refitted on this run's shots. Pin the
            statistics of a first run, and a later run that adds classes trains only the new classes' adapters:
            its keys record the first run's shots, the ones the statistics were fitted on, as long as the values,
            generator, domain and feature code are unchanged, and the values' digest otherwise
            (``kinemic_aug/target_stats.py``).
    """

    def __init__(self, source: Any, *, split: Optional[str] = None, shots: Optional[int] = None,
                 allow_fewer: bool = False, labels: Any = None, layout: str = "nturgb+d", fps: Optional[float] = None,
                 synthetic_per_class: Union[int, str, Mapping[int, int], None] = 50,
                 synthetic_ratio: Optional[float] = None,
                 variant: str = "kinemic", adapt: Optional[AdaptConfig] = None,
                 synthesis: Optional[SynthesisConfig] = None, generator: Union[str, Path, None] = None,
                 corpus: str = DEFAULT_GENERALIST_CORPUS, encoder: str = "minilm",
                 cache_dir: Union[str, Path, None] = None, device: str = "auto", seed: int = 0,
                 classes: Optional[Sequence[int]] = None, progress: bool = True, target_norm: str = "shots",
                 target_stats: Union[str, Path, None] = None):
        if target_norm not in TARGET_NORMS:
            raise ValueError(f"target_norm must be one of {TARGET_NORMS}, got {target_norm!r}")
        if target_stats is not None and target_norm != "shots":
            raise ValueError(f"target_stats pins the statistics of target_norm='shots'; got target_norm={target_norm!r}")
        if target_stats is not None and not Path(target_stats).is_file():  # fail before any data is read
            raise DataError("no such statistics file (write one with KineMICAugmenter.save_target_stats)",
                            source=str(target_stats), field="target_stats")
        self.target_norm = target_norm
        self.target_stats = Path(target_stats) if target_stats is not None else None
        self.source = source
        self.split = split
        self.seed = int(seed)
        self.anns_all, self.data = _annotations_from_source(source, split)
        if fps is None:
            meta = (self.data or {}).get("meta", {}) if self.data else {}
            fps = meta.get("fps")
            if fps is None:
                from .skeleton.layout import get_layout
                fps = get_layout(layout).fps
            if fps is None:
                raise DataError("the dataset's frame rate is unknown: pass fps=", field="fps")
        self.domain = TargetDomain(layout, float(fps))
        self.labels = self._label_set(labels)
        self.variant = variant
        base_adapt = adapt or AdaptConfig()
        self.adapt_cfg = replace(base_adapt.variant(variant), seed=self.seed, device=device, progress=progress)
        self.synth_cfg = synthesis or SynthesisConfig()
        self.synthetic_per_class = _check_counts(synthetic_per_class)
        self.synthetic_ratio = synthetic_ratio
        self.generator_path = resolve_generator(generator)
        self.corpus_spec = corpus
        self.encoder_name = encoder
        self.cache = ArtifactCache(Path(cache_dir) if cache_dir else DEFAULT_CACHE)
        self.device = device
        self.progress = progress
        self.reports: Dict[int, ClassReport] = {}
        self.shot_anns = self._select_shots(shots, allow_fewer, classes)
        self.classes = sorted({int(a["label"]) for a in self.shot_anns})
        if isinstance(self.synthetic_per_class, Mapping):
            absent = [c for c in self.classes if c not in self.synthetic_per_class]
            if absent:
                warnings.warn(f"synthetic_per_class has no count for class(es) {absent}: they get no synthetic sample")
        unknown = [c for c in self.classes if c not in self.labels]
        if unknown:  # fail now, not with a KeyError after the generator has loaded and adapters trained
            key = id_key(self.shot_anns)
            first = next(a[key] for a in self.shot_anns if int(a["label"]) == unknown[0])
            raise DataError(f"label(s) {unknown} have no entry in label set {self.labels.name!r} "
                            f"(ids {min(self.labels.ids)}..{max(self.labels.ids)}); pass labels= covering every class",
                            sample=first, field="label")
        self._synthetic: Optional[List[Dict[str, Any]]] = None
        self._legacy_keys: Dict[str, str] = {}  # new cache key -> the key earlier versions gave the entry
        self._sampled: Dict[int, float] = {}  # class -> seconds, for sets sampled by synthesize_all
        self.preset: Optional[str] = None  # set by from_preset

    @classmethod
    def from_preset(cls, preset: str, source: Any, **kwargs: Any) -> "KineMICAugmenter":
        """An augmenter with the arguments of a named recipe (``"default"``, ``"paper"``: :mod:`kinemic_aug.presets`),
        ``kwargs`` merged over them (``adapt=dict(steps=300)`` changes one field of the preset's adaptation)."""
        from .presets import preset_kwargs

        aug = cls(source, **preset_kwargs(preset, kwargs))
        aug.preset = preset
        return aug

    # ------------------------------------------------------------------ inputs
    def _label_set(self, labels: Any):
        from .text.labels import LabelSet, load_label_set
        if isinstance(labels, LabelSet):
            return labels
        if labels is None:
            names = (self.data or {}).get("meta", {}).get("classes") if self.data else None
            if not names:
                raise DataError("no class names: pass labels= (a label-set name or a metadata file)", field="labels")
            return LabelSet.from_records([{"id": i, "name": n} for i, n in enumerate(names)], name="dataset-meta")
        return load_label_set(labels)

    def _select_shots(self, shots: Optional[int], allow_fewer: bool, classes: Optional[Sequence[int]]):
        anns = self.anns_all
        if classes is not None:
            keep = set(int(c) for c in classes)
            anns = [a for a in anns if int(a["label"]) in keep]
        if shots is None:
            if not anns:
                raise DataError("no training samples", field="annotations")
            return anns
        key = id_key(anns)
        data = {"split": {"train": [a[key] for a in anns]}, "annotations": anns,
                "meta": {"classes": [self.labels[c].name if c in self.labels else str(c)
                                     for c in range(max(int(a["label"]) for a in anns) + 1)]}}
        fs = make_few_shot_split(data, "train", shots, self.seed, classes=classes, allow_fewer=allow_fewer)
        chosen = set(fs.ids)
        self.few_shot = fs
        return [a for a in anns if a[key] in chosen]

    # ------------------------------------------------------------------ resources (lazy)
    def _encoder(self):
        if not hasattr(self, "_enc"):
            from .text import CachedTextEncoder, get_text_encoder
            self._enc = CachedTextEncoder(get_text_encoder(self.encoder_name, device=self._text_device()),
                                          self.cache.root / "text")
        return self._enc

    def _text_device(self) -> str:
        """The text encoders' device: the augmenter's, so a GPU run encodes captions on the GPU; the identifier,
        and so every cache key, does not depend on it."""
        from .utils.device import resolve_device
        return str(resolve_device(self.device))

    def _condition_encoder(self):
        """The text features the generator's denoiser was trained on: its checkpoint's ``config["text"]`` when that
        records a CLIP recipe (a converted MDM: raw ViT-B/32 features of at most 20 tokens, from the local CLIP
        weights), else the pairing encoder. Pairing always compares unit vectors of the named ``encoder``; the
        denoiser (shots, source clips, sampling) gets what it was trained on."""
        if not hasattr(self, "_cenc"):
            text_cfg = (self._bundle().config or {}).get("text") or {}
            if str(text_cfg.get("encoder", "")).lower() == "clip":
                from .text import CachedTextEncoder
                from .text.clip import clip_encoder_from_config
                self._cenc = CachedTextEncoder(clip_encoder_from_config(text_cfg, device=self._text_device()),
                                               self.cache.root / "text")
            else:
                self._cenc = self._encoder()
        return self._cenc

    def _bundle(self):
        if not hasattr(self, "_gen"):
            if not self.generator_path.exists():
                raise DataError(f"generator checkpoint not found: {self.generator_path} (build it with "
                                "tools/pretrain_generator.py or pass generator=)", field="generator")
            from .utils.device import resolve_device
            self._gen = load_generator(self.generator_path, use_ema=True, device=str(resolve_device(self.device)))
            self._gen_sha = sha256_file(self.generator_path)
        return self._gen

    def _corpus(self) -> MotionCorpus:
        if not hasattr(self, "_corp"):
            self._corp = load_corpus(self.corpus_spec)
            trained_on = (self._bundle().corpus or {}).get("fingerprint")
            if trained_on and trained_on != self._corp.fingerprint():
                warnings.warn(f"corpus {self.corpus_spec!r} is not the one the generator was trained on "
                              f"({(self._bundle().corpus or {}).get('name')!r}); soft pairs will come from "
                              "clips the prior stream has not seen")
            log.info("generalist corpus %s", self._corp)
        return self._corp

    # ------------------------------------------------------------------ pipeline pieces
    def _shot_joints(self) -> Dict[int, List[np.ndarray]]:
        """The shots in the generator's space, per class (converted once; callers only read them)."""
        if not hasattr(self, "_shot_gen"):
            key = id_key(self.shot_anns)
            out: Dict[int, List[np.ndarray]] = {c: [] for c in self.classes}
            for a in self.shot_anns:
                _refuse_second_person(a["keypoint"], a[key], int(a["label"]))
                out[int(a["label"])].append(self.domain.to_generator(a["keypoint"], sample=a[key]))
            self._shot_gen = out
        return self._shot_gen

    def _target_rep(self):
        """The representation the shots and the target stream's samples go through (see ``target_norm``).
        Source clips of the pool always use the generalist's own statistics."""
        if not hasattr(self, "_trep"):
            rep = self._bundle().representation
            if self.target_stats is not None:
                from .target_stats import load_target_stats
                rep, self._tprov = load_target_stats(self.target_stats, rep)
            elif self.target_norm == "shots":
                joints = self._shot_joints()
                rep = rep.matched_to([j for c in self.classes for j in joints[c]])
            self._trep = rep
        return self._trep

    def save_target_stats(self, path: Union[str, Path]) -> Path:
        """Write the statistics the shots are normalised with (``target_norm="shots"``) to ``path`` (``.npz``,
        atomic), for ``target_stats=`` of a later run: that run keeps this run's adapters when it adds classes."""
        if self.target_norm != "shots":
            raise ValueError("only target_norm='shots' fits statistics of its own; 'generalist' uses the corpus's")
        from .target_stats import save_target_stats
        prov = {"classes": self.classes, "num_shots": len(self.shot_anns), "norm_key": self._norm_key(),
                "context": self._norm_context(),
                "pinned_from": str(self.target_stats) if self.target_stats is not None else None}
        return save_target_stats(path, self._target_rep(), prov)

    def _pairing(self):
        if not hasattr(self, "_pair"):
            from .pairing import PairingConfig, soft_pair
            corpus = self._corpus()
            labels = self.labels.subset(self.classes)
            self._pair = soft_pair(labels, corpus, self._encoder(), PairingConfig(k=self.adapt_cfg.top_k, warn=True))
        return self._pair

    def _source_pool(self, shot_feats_dim: int):
        """Features of every corpus clip any class uses, their caption embeddings, and per-class
        positives (local indices): the joint adapter's pool."""
        if hasattr(self, "_pool_parts"):
            return self._pool_parts
        pair = self._pairing()
        used = sorted({int(i) for c in self.classes for i in pair.neighbours(c)[0]})
        local = {g: i for i, g in enumerate(used)}
        feats, text = self._clip_parts(used)
        pos = {c: np.array([local[int(i)] for i in pair.neighbours(c)[0]]) for c in self.classes}
        self._pool_parts = (feats, text, pos, [self._corpus()[g].name for g in used])
        return self._pool_parts

    def _clip_parts(self, global_ids: Sequence[int]) -> Tuple[List[np.ndarray], np.ndarray]:
        """Normalised generator features and caption embeddings of corpus clips (computed once per clip)."""
        if not hasattr(self, "_clip_cache"):
            self._clip_cache: Dict[int, np.ndarray] = {}
        corpus, rep, fps = self._corpus(), self._bundle().representation, self.domain.generator_fps
        from .skeleton.resample import resample
        for g in global_ids:
            if g not in self._clip_cache:
                clip = corpus[g]
                j = clip.joints if abs(clip.fps - fps) < 1e-6 else resample(clip.joints, clip.fps, fps)
                self._clip_cache[g] = rep.normalize(rep.encode(j, sample=clip.name)).astype(np.float32)
        text = self._condition_encoder().encode([corpus[g].captions[0] for g in global_ids])
        return [self._clip_cache[g] for g in global_ids], text

    def _low_similarity(self, c: int) -> np.ndarray:
        """Global ids of the corpus clips matching class ``c``'s captions worst (its own negatives)."""
        if not hasattr(self, "_lowsim"):
            from .pairing import least_similar
            self._lowsim = least_similar(self.labels.subset(self.classes), self._corpus(), self._encoder(),
                                         self.adapt_cfg.low_similarity_k)
        return self._lowsim[c]

    def _class_pool_ids(self, c: int) -> Tuple[List[int], set]:
        """Global corpus ids of class ``c``'s soft positives (pairing order) and of its negatives
        (``AdaptConfig.negatives``). With ``"low_similarity"`` nothing in them depends on the other
        classes, so the class's cache key does not either."""
        cfg = self.adapt_cfg
        pair = self._pairing()
        own = [int(i) for i in pair.neighbours(c)[0]]
        neg: set = set()
        if cfg.negatives in ("other_classes", "both"):
            neg |= {int(i) for o in self.classes if o != c for i in pair.neighbours(o)[0]}
        if cfg.negatives in ("low_similarity", "both"):
            neg |= {int(i) for i in self._low_similarity(c)}
        neg -= set(own)
        return own, neg

    def _class_pool(self, c: int, ids: Optional[Tuple[List[int], set]] = None) -> SourcePool:
        """Class ``c``'s source pool: its soft positives plus its negatives (``ids``, from
        :meth:`_class_pool_ids` when not given), as features."""
        cfg = self.adapt_cfg
        pair = self._pairing()
        own, neg = ids if ids is not None else self._class_pool_ids(c)
        clips = sorted(set(own) | neg)
        local = {g: i for i, g in enumerate(clips)}
        feats, text = self._clip_parts(clips)
        if not neg and cfg.use_contrastive:
            warnings.warn(f"class {c}: no contrastive negatives (a single class, or other classes share all its "
                          "soft positives); the contrastive term is zero and the MIC encoder does not learn")
        weights = {0: pair.probabilities(c, cfg.pairing_temperature)} if cfg.pairing_temperature else {}
        negs = np.array(sorted(local[g] for g in neg), dtype=np.int64)
        scale, shift = self._window_map()
        return SourcePool(feats, text, {0: np.array([local[g] for g in own])}, weights=weights,
                          negatives={0: negs} if len(negs) else {}, window_scale=scale, window_shift=shift)

    def _window_map(self):
        """Map from the pool's normalisation (the generalist's: the prior stream sees the clips as it was
        trained) to the shots' (``SourcePool.window_scale``): the mined windows the target stream reconstructs
        are then in the same units as the shots and as the samples it is decoded with."""
        return SourcePool.window_map(self._bundle().representation, self._target_rep())

    def _class_text(self, c: int) -> np.ndarray:
        return self._condition_encoder().encode(self.labels.captions(c))

    # ------------------------------------------------------------------ cache keys
    def _key_inputs(self) -> Dict[str, Any]:
        """The parts of every adapter key shared by all classes: hashes of inputs and code, never of
        computed floats (``adapt/keys.py`` says why)."""
        if not hasattr(self, "_kin"):
            # generator, domain and code (sorted into the key by make_key, so the order here is free)
            cond = self._condition_encoder()
            self._kin = {**self._norm_context(), "key_version": KEY_VERSION, "encoder": self._encoder().identifier,
                         # the denoiser's own text features, where they differ from the pairing encoder's
                         **({"condition_encoder": cond.identifier} if cond is not self._encoder() else {}),
                         "target_norm": self.target_norm,
                         # mined windows are mapped into the shots' normalisation (adapters trained before
                         # that reconstructed them in the corpus's and are not served)
                         **({"window_norm": "shots"} if self.target_norm == "shots" else {}),
                         # with "shots" the normalisation is fitted on every selected shot, of every class,
                         # unless it is pinned (see _norm_key)
                         "norm_shots": self._norm_key()}
        return self._kin

    def _norm_key(self) -> Any:
        """The normalisation's part of the keys (the same value as before pinning existed, when not pinned)."""
        if self.target_norm != "shots":
            return None
        if self.target_stats is not None:
            # statistics a run fitted on its shots, under this generator, domain and code, stand for those shots:
            # the same key as that run's, so its adapters are served; any other statistics are keyed by their values
            from .target_stats import pinned_norm_key
            rep = self._target_rep()
            return pinned_norm_key(rep, self._tprov, self._norm_context())
        return shots_digest(self.shot_anns, id_key(self.shot_anns))

    def _norm_context(self) -> Dict[str, Any]:
        """What else fitted statistics depend on: the generator (its corpus statistics floor the std), the
        domain (retargeting and frame rate) and the feature code, in the form the cache keys record them."""
        self._bundle()
        return {"generator": self._gen_sha, "code": feature_code_sha(),
                "domain": [self.domain.layout, float(self.domain.fps), float(self.domain.generator_fps)]}

    def _corpus_identity(self) -> str:
        if not hasattr(self, "_corp_id"):
            self._corp_id = corpus_identity(self.corpus_spec)
        return self._corp_id

    # ------------------------------------------------------------------ adaptation
    def _adapter_job(self, c: int, shot_joints: List[np.ndarray]):
        """Class ``c``'s adapter job (shots, pool, config), its cache key and key parts."""
        from .adapt.batched import AdapterJob
        rep = self._target_rep()
        feats = [rep.normalize(rep.encode(j)).astype(np.float32) for j in shot_joints]
        key_ids = id_key(self.shot_anns)
        names = [a[key_ids] for a in self.shot_anns if int(a["label"]) == c]
        shots = TargetShots(feats, np.zeros(len(feats), dtype=np.int64), self._class_text(c)[None], names)
        cfg = self.adapt_cfg
        pool = None
        pool_fp, ids = "", None
        if cfg.steps > 0 and (cfg.use_mining or cfg.use_contrastive):
            own_neg = self._class_pool_ids(c)
            pool = self._class_pool(c, own_neg)
            pool_fp = pool.fingerprint()
            ids = {"corpus": self._corpus_identity(), **pool_ids(*own_neg)}
        parts = {**self._key_inputs(), "kind": "adapter", "class": int(c), "captions": self.labels.captions(c),
                 "shots": shots_digest(self._shots_of(c), key_ids), "pool": ids, "config": cfg.cache_dict()}
        key = make_key(parts)
        # the key of versions that hashed the computed features: its entries are adopted, not retrained
        legacy = make_key({"kind": "adapter", "generator": self._gen_sha, "encoder": self._encoder().identifier,
                           "shots": shots.fingerprint(), "pool": pool_fp, "config": cfg.cache_dict(), "class": int(c),
                           "captions": self.labels.captions(c)})
        self._legacy_keys[key] = legacy
        return AdapterJob(shots, pool, cfg, [int(c)], f"class {c} ({self.labels[c].name})"), key, parts

    def _adapter_for(self, c: int, shot_joints: List[np.ndarray]):
        """Train or load the adapter of class ``c``; returns (trainer with loaded state, cache key)."""
        bundle = self._bundle()
        rpt = self.reports[c]
        job, key, parts = self._adapter_job(c, shot_joints)
        trainer = KineMICTrainer(copy.deepcopy(bundle.model), bundle.schedule, job.shots, job.pool, job.cfg, classes=[c])
        if job.cfg.steps == 0:
            return trainer, key
        t0 = time.time()
        rpt.adapt_cached = self._load_or_train(trainer, key, parts)
        rpt.adapt_seconds = time.time() - t0
        if c in getattr(self, "_adapted", {}):  # trained (or found) by adapt_all: report that, not the load
            rpt.adapt_cached, rpt.adapt_seconds = self._adapted[c]
        return trainer, key

    def adapt_all(self, rank: Optional[int] = None, world_size: Optional[int] = None) -> Dict[int, Any]:
        """Put every class's adapter in the cache: cached ones skipped, the rest trained ``group_size`` at
        a time in batched runs (``AdaptConfig.batched``; one at a time otherwise) and, in a distributed run
        (torchrun, MMEngine launchers), shared out over its processes (:func:`kinemic_aug.adapt.shard.adapt_jobs`).
        Returns the per-class outcomes; :meth:`synthetic_annotations` then loads the adapters from the cache."""
        from .adapt.shard import AdapterSpec, adapt_jobs
        cfg = self.adapt_cfg
        if cfg.mode != "per_class" or cfg.steps == 0:
            return {}
        joints = self._shot_joints()
        specs = {}
        for c in self.classes:
            job, key, parts = self._adapter_job(c, joints[c])
            specs[c] = AdapterSpec(job, key, {k: v for k, v in parts.items() if k != "config"}, self._legacy_keys.get(key))
        self._say(f"[kinemic] adapting {len(specs)} classes ({'batched, up to ' + str(cfg.group_size) + ' together' if cfg.batched else 'one at a time'})")
        bundle = self._bundle()
        out = adapt_jobs(copy.deepcopy(bundle.model), bundle.schedule, self.cache, list(specs.values()), rank=rank,
                         world_size=world_size, group_size=cfg.group_size, batched=cfg.batched)
        self._adapted = {c: (out[s.key].status != "trained", out[s.key].seconds) for c, s in specs.items()}
        return {c: out[s.key] for c, s in specs.items()}

    def _load_or_train(self, trainer: KineMICTrainer, key: str, parts: Dict[str, Any]) -> bool:
        """Load adapter ``key`` into ``trainer`` or train it (resumable) and cache it; True on a cache hit.
        The lock makes a second process wait for the first one's entry instead of training it twice."""
        with self.cache.lock("adapter", key):
            state = self.cache.load("adapter", key, legacy=self._legacy_keys.get(key))
            if state is not None:
                trainer.load_state(state)
                return True
            trainer.train(checkpoint=self.cache.progress_path("adapter", key))
            self.cache.save("adapter", key, trainer.state_dict(), parts={k: v for k, v in parts.items() if k != "config"})
            return False

    def _joint_adapter(self, joints_by_class: Dict[int, List[np.ndarray]]):
        """Train or load ONE adapter over all classes (``mode='joint'``, the paper's setting): the action
        table has a row per class, every class's soft positives are in the pool and the other classes'
        sources in a batch are the contrastive negatives. Cheaper than one adapter per class (one run of
        ``steps`` instead of C runs), at the price that adding a class retrains it."""
        bundle = self._bundle()
        rep = self._target_rep()
        key_ids = id_key(self.shot_anns)
        feats, labels, names = [], [], []
        for li, c in enumerate(self.classes):
            for a, j in zip(self._shots_of(c), joints_by_class[c]):
                feats.append(rep.normalize(rep.encode(j)).astype(np.float32))
                labels.append(li)
                names.append(a[key_ids])
        caps = [self._class_text(c) for c in self.classes]
        p = max(len(x) for x in caps)
        text = np.stack([np.concatenate([x, x[np.arange(p - len(x)) % len(x)]]) for x in caps])
        shots = TargetShots(feats, np.asarray(labels), text, names)
        cfg = self.adapt_cfg
        pool, pool_fp, ids = None, "", None
        if cfg.steps > 0 and (cfg.use_mining or cfg.use_contrastive):
            pf, pt, pos, _ = self._source_pool(rep.dim)
            weights = ({li: self._pairing().probabilities(c, cfg.pairing_temperature) for li, c in enumerate(self.classes)}
                       if cfg.pairing_temperature else {})
            scale, shift = self._window_map()
            pool = SourcePool(pf, pt, {li: pos[c] for li, c in enumerate(self.classes)}, weights=weights,
                              window_scale=scale, window_shift=shift)
            pool_fp = pool.fingerprint()
            pair = self._pairing()
            ids = {"corpus": self._corpus_identity(),
                   "positives": [pool_ids(pair.neighbours(c)[0])["positives"] for c in self.classes]}
        classes = [int(c) for c in self.classes]
        parts = {**self._key_inputs(), "kind": "adapter-joint", "classes": classes,
                 "captions": [self.labels.captions(c) for c in self.classes],
                 "shots": shots_digest([a for c in self.classes for a in self._shots_of(c)], key_ids),
                 "pool": ids, "config": cfg.cache_dict()}
        key = make_key(parts)
        self._legacy_keys[key] = make_key({"kind": "adapter-joint", "generator": self._gen_sha,
                                           "encoder": self._encoder().identifier, "shots": shots.fingerprint(),
                                           "pool": pool_fp, "config": cfg.cache_dict(), "classes": classes})
        trainer = KineMICTrainer(copy.deepcopy(bundle.model), bundle.schedule, shots, pool, cfg, classes=self.classes)
        if cfg.steps == 0:
            return trainer, key, 0.0, False
        t0 = time.time()
        cached = self._load_or_train(trainer, key, parts)
        return trainer, key, time.time() - t0, cached

    # ------------------------------------------------------------------ synthesis
    def _count(self, c: int) -> int:
        if self.synthetic_ratio is not None:
            return int(round(self.synthetic_ratio * len(self._shots_of(c))))
        spc = self.synthetic_per_class
        if spc == "mirror":
            return sum(1 for a in self.anns_all if int(a["label"]) == c)
        if isinstance(spc, Mapping):
            return int(spc.get(c, 0))
        return int(spc or 0)

    def _asked(self) -> str:
        if self.synthetic_ratio is not None:
            return f"{self.synthetic_ratio:g} synthetic per shot"
        spc = self.synthetic_per_class
        if spc == "mirror" or isinstance(spc, Mapping):
            counts = [self._count(c) for c in self.classes]
            how = "mirroring the training pool's class counts" if spc == "mirror" else "per-class counts"
            return f"{sum(counts)} synthetic ({how}, {min(counts)}-{max(counts)} per class)"
        return f"{spc or 0} synthetic per class"

    def _shots_of(self, c: int) -> List[Dict[str, Any]]:
        return [a for a in self.shot_anns if int(a["label"]) == c]

    def _synthetic_for(self, c: int, trainer: KineMICTrainer, akey: str, skey: str, n: int,
                       shots_c: List[np.ndarray], compose: Optional[np.ndarray], rpt: ClassReport,
                       action: int = 0):
        """The cached synthetic set of class ``c`` (generator space), or sample and cache it."""
        payload = self.cache.load("synthetic", skey, legacy=self._legacy_keys.get(skey))
        if payload is not None:
            rpt.synth_cached = True
            seqs = [payload["frames"][s:e].numpy() for s, e in payload["spans"].tolist()]
            return seqs, payload["infos"], payload["report"]
        bundle = self._bundle()
        model = trainer.target if self.adapt_cfg.steps > 0 else trainer.prior
        action = action if self.adapt_cfg.steps > 0 else None
        seqs, frep, infos = synthesize_class(
            model, self._target_rep(), bundle.schedule, n=n, shot_joints=shots_c,
            class_text_emb=self._class_text(c), action=action, cfg=self.synth_cfg,
            seed=self.seed * 1000 + c, compose_text_emb=compose)
        return seqs, infos, self._save_synthetic(skey, seqs, infos, frep)

    def _save_synthetic(self, skey: str, seqs: List[np.ndarray], infos: List[dict], frep: FilterReport) -> Dict:
        rep_d = frep.to_dict()
        spans, off = [], 0
        for s in seqs:
            spans.append([off, off + len(s)])
            off += len(s)
        frames = torch.from_numpy(np.concatenate(seqs, 0)) if seqs else torch.zeros(0, 22, 3)
        self.cache.save("synthetic", skey, {"frames": frames, "spans": torch.tensor(spans, dtype=torch.long).view(-1, 2),
                                            "infos": infos, "report": rep_d})
        return rep_d

    def _synthetic_key(self, c: int, akey: str) -> Tuple[str, int]:
        """Class ``c``'s synthetic-set cache key (from its adapter's key) and sample count."""
        n = self._count(c)
        skey_parts = {"kind": "synthetic", "adapter": akey, "synthesis": self.synth_cfg.to_dict(), "n": n,
                      "class": int(c), "seed": self.seed, "domain": [self.domain.layout, self.domain.fps]}
        skey = make_key(skey_parts)
        if akey in self._legacy_keys:
            self._legacy_keys[skey] = make_key({**skey_parts, "adapter": self._legacy_keys[akey]})
        return skey, n

    def synthesize_all(self, classes: Optional[Sequence[int]] = None) -> Dict[int, float]:
        """Sample the synthetic sets of ``classes`` (default: all) not cached yet, all classes in one
        class-batched run (:func:`~kinemic_aug.synthesis.synthesize_classes`, adapters stacked from the cache)
        and cache them; a class whose set another process is sampling (its lock is held) or whose adapter is
        not cached yet is left to :meth:`synthetic_annotations`. Per-class mode; returns seconds per class."""
        from .adapt.batched import stacked_target
        from .synthesis import ClassRequest, synthesize_classes
        cfg = self.adapt_cfg
        if cfg.mode != "per_class":
            return {}
        bundle, joints = self._bundle(), self._shot_joints()
        compose = self._condition_encoder().encode(list(self.synth_cfg.compose_with)) if self.synth_cfg.compose_with else None
        todo = []
        for c in (self.classes if classes is None else classes):
            _, akey, _ = self._adapter_job(c, joints[c])
            skey, n = self._synthetic_key(c, akey)
            if self.cache.meta("synthetic", skey) is not None:
                continue
            state = None
            if cfg.steps > 0:
                state = self.cache.load("adapter", akey, legacy=self._legacy_keys.get(akey))
                if state is None:
                    continue
            lk = self.cache.try_lock("synthetic", skey)
            if lk is not None and self.cache.meta("synthetic", skey) is not None:  # written meanwhile
                lk.release()
            elif lk is not None:
                todo.append((c, skey, n, state, lk))
        if not todo:
            return {}
        try:
            model = stacked_target(bundle.model, cfg, [t[3] for t in todo]) if cfg.steps > 0 else bundle.model
            reqs = [ClassRequest(n=n, shot_joints=joints[c], class_text_emb=self._class_text(c),
                                 action=k if cfg.steps > 0 else None, seed=self.seed * 1000 + c, adapter=k,
                                 compose_text_emb=compose) for k, (c, _, n, _, _) in enumerate(todo)]
            self._say(f"[kinemic] sampling {len(reqs)} classes together")
            t0 = time.time()
            results = synthesize_classes(model, self._target_rep(), bundle.schedule, reqs, self.synth_cfg)
            secs = (time.time() - t0) / len(todo)
            for (c, skey, _, _, lk), (seqs, frep, infos) in zip(todo, results):
                self._save_synthetic(skey, seqs, infos, frep)
                lk.release()
                self._sampled[c] = secs
        finally:
            for t in todo:
                t[4].release()
        return {t[0]: self._sampled[t[0]] for t in todo}

    def _say(self, line: str, bar: Any = None) -> None:
        """A progress line on stderr (``progress=True``): beside the bar on a terminal, plain in a log file."""
        if not self.progress:
            return
        import sys
        if bar is not None and not getattr(bar, "disable", True):
            bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    def annotation_template(self):
        """The fields synthetic annotations take from the real ones (:class:`~kinemic_aug.data.pyskl.AnnotationTemplate`)."""
        if not hasattr(self, "_template"):
            from .data.pyskl import AnnotationTemplate
            real = self.data["annotations"] if self.data is not None else self.anns_all
            self._template = AnnotationTemplate.from_annotations(real)
        return self._template

    def synthetic_annotations(self) -> List[Dict[str, Any]]:
        """Generate (or load) the synthetic set for every class, in the dataset's layout and fps.

        Each has the fields, types and dtypes of the dataset's real annotations (:meth:`annotation_template`:
        e.g. ``keypoint_score`` of ones, ``subject=-1``), plus ``is_synthetic=True`` and ``synthetic_info``.
        A class whose filter kept fewer than asked within ``SynthesisConfig.draw_limit`` is logged as a
        warning and recorded in its report (``shortfall``, ``shortfall_reason``)."""
        if self._synthetic is not None:
            return self._synthetic
        template = self.annotation_template()  # before any work: a dataset it cannot describe fails now
        if self.variant == "retrieved":  # the paired corpus clips themselves, no generator
            from .retrieval import retrieved_annotations
            self._say(f"[kinemic] {len(self.classes)} classes, variant retrieved, {self._asked()} asked "
                      "(soft-paired corpus clips, no generator)")
            self._synthetic = retrieved_annotations(self)
            return self._synthetic
        asked = self._asked()
        self._say(f"[kinemic] {len(self.classes)} classes, variant {self.variant}, {asked} asked; loading the generator")
        bundle = self._bundle()
        joints_by_class = self._shot_joints()
        pair = self._pairing() if self.adapt_cfg.steps > 0 and (self.adapt_cfg.use_mining or
                                                                self.adapt_cfg.use_contrastive) else None
        out: List[Dict[str, Any]] = []
        compose = None
        if self.synth_cfg.compose_with:
            compose = self._condition_encoder().encode(list(self.synth_cfg.compose_with))
        joint = None
        if self.adapt_cfg.mode == "per_class" and self.adapt_cfg.batched:
            if not hasattr(self, "_adapted"):
                self.adapt_all()
            self.synthesize_all()
        if self.adapt_cfg.mode == "joint":
            self._say(f"[kinemic] training one joint adapter for {len(self.classes)} classes")
            joint = self._joint_adapter(joints_by_class)
            self._say(f"[kinemic] joint adapter {'from cache' if joint[3] else 'trained'} in {joint[2]:.1f} s")
        iterator = bar = self.classes
        if self.progress:
            from tqdm.auto import tqdm
            # disable=None: bars on a terminal only, never as carriage-return noise in a log file
            iterator = bar = tqdm(self.classes, desc=f"KineMIC ({self.variant})", disable=None)
        for pos, c in enumerate(iterator):
            shots_c = joints_by_class[c]
            self.reports[c] = rpt = ClassReport(c, self.labels[c].name, len(shots_c))
            if pair is not None:
                cov = {x.class_id: x for x in pair.coverage}.get(c)
                if cov is not None:
                    rpt.top1_similarity, rpt.kth_similarity = float(cov.top1), float(cov.kth_similarity)
            if joint is None:
                trainer, akey = self._adapter_for(c, shots_c)
                action = 0
            else:  # the joint adapter's time is shared out evenly over the classes
                trainer, akey = joint[0], joint[1]
                action = self.classes.index(c)
                rpt.adapt_seconds, rpt.adapt_cached = joint[2] / len(self.classes), joint[3]
            skey, n = self._synthetic_key(c, akey)
            t0 = time.time()
            with self.cache.lock("synthetic", skey):  # a second process waits, then reads this one's entry
                seqs, infos, rep_d = self._synthetic_for(c, trainer, akey, skey, n, shots_c, compose, rpt, action)
            rpt.synth_seconds = time.time() - t0
            if c in self._sampled:  # sampled by synthesize_all: report that, not the load
                rpt.synth_cached, rpt.synth_seconds = False, self._sampled[c]
            frep = FilterReport.from_dict(rep_d)
            rpt.generated, rpt.requested, rpt.drawn, rpt.max_draws = frep.kept, n, frep.drawn, frep.max_draws
            rpt.dropped_static, rpt.dropped_exploding = frep.static, frep.exploding
            if rpt.shortfall:
                rpt.shortfall_reason = frep.reason if frep.max_draws else (
                    f"{frep.static} static and {frep.exploding} exploding dropped by the filter (a cached set "
                    "from an earlier version, drawn without the draw bound)")
                log.warning("class %d (%s) is short: %d of %d synthetic samples kept; %s", c, rpt.name,
                            rpt.generated, n, rpt.shortfall_reason)
            refs = self._shots_of(c)
            rng = np.random.default_rng([self.seed, c, 99])
            for i, (s, info) in enumerate(zip(seqs, infos)):
                # the shot the sample started from / took its bones from; placed in that shot's frame
                ref = refs[info["shot_index"]] if info.get("shot_index", -1) >= 0 else refs[int(rng.integers(0, len(refs)))]
                kp = self.domain.from_generator(s, reference=ref["keypoint"], sample=f"synthetic_{c}_{i}")
                caption = (self.synth_cfg.compose_with[0] if info.get("composed") else
                           self.labels.captions(c)[info["caption_index"]])
                ann = {"frame_dir": f"synthetic_{self.variant}_c{c:03d}_{i:05d}", "label": int(c),
                       "keypoint": kp.astype(np.float32), "total_frames": int(kp.shape[1]),
                       "is_synthetic": True,
                       "synthetic_info": {"variant": self.variant, "adapter": akey[:16], "caption": caption,
                                          "composed": bool(info.get("composed")),
                                          "anchor_shot": str(ref.get(id_key([ref]), "")),
                                          "shot_strength": float(self.synth_cfg.shot_strength), "generator_step":
                                          int(bundle.step), "seed": self.seed}}
                out.append(template.conform(ann, reference=ref))
            self._say(rpt.progress_line(f"{pos + 1}/{len(self.classes)}"), bar)
        self._synthetic = out
        return out

    # ------------------------------------------------------------------ outputs
    def annotations(self) -> List[Dict[str, Any]]:
        """The real shots (``is_synthetic=False``) followed by the synthetic samples (``is_synthetic=True``)."""
        real = [dict(a, is_synthetic=False) for a in self.shot_anns]
        return real + self.synthetic_annotations()

    def to_pyskl(self, train_split: Optional[str] = None) -> Dict[str, Any]:
        """A PYSKL dict: the original splits untouched, plus ``<train_split>`` replaced by the shots +
        synthetic ids (named ``<split>_kinemic`` if the input had no splits).

        Every annotation says ``is_synthetic`` (``False`` on every real one, in any split), and every
        synthetic one has the fields of the real ones (checked with :func:`~kinemic_aug.data.pyskl.field_parity`)."""
        from .data.pyskl import field_parity
        anns = self.annotations()
        name = train_split or (f"{self.split}_kinemic" if self.split else "train_kinemic")
        # the added samples: synthetic ones, or the corpus clips of the "retrieved" variant
        synthetic = [a for a in anns if a.get("is_synthetic") or a.get("retrieved")]
        if self.data is not None:
            out = {k: v for k, v in self.data.items() if k not in ("split", "annotations")}
            # a source that is itself augmented keeps its synthetic samples' flag
            every = [dict(a, is_synthetic=bool(a.get("is_synthetic", False))) for a in self.data["annotations"]]
            base = [a for a in every if not a["is_synthetic"]]
            split = dict(self.data["split"])
            out["annotations"] = every + synthetic
        else:
            out, split = {}, {}
            base = [a for a in anns if not (a.get("is_synthetic") or a.get("retrieved"))]
            out["annotations"] = anns
        problems = field_parity(base, synthetic)
        if problems:  # a template bug, not a user error: never write a file pipelines would trip over
            raise DataError(f"synthetic annotations differ from the real ones: {'; '.join(problems[:5])}",
                            field="annotations")
        key = self.annotation_template().key
        split[name] = [a[key] for a in anns]
        out["split"] = split
        return out

    def save_pyskl(self, path: Union[str, Path], train_split: Optional[str] = None) -> Path:
        """Write :meth:`to_pyskl` (readable by numpy 1.x and 2.x, see :func:`~kinemic_aug.data.pyskl.save_pyskl`)."""
        return save_pyskl(self.to_pyskl(train_split), path)

    #: what each column of :meth:`report_table` means (markdown, for reports written beside the table)
    REPORT_LEGEND = (
        "Columns: *shots* real samples of the class; *adapt s* seconds to train (or load) the class's adapter, "
        "*cached* whether it came from the cache; *synth s* seconds to sample and filter its synthetic set; "
        "*asked* synthetic samples requested; *kept* those that passed the filter and are in the output; *drawn* "
        "samples the generator drew to get them (at most `draw_limit` x asked); *dropped static/exploding* "
        "drawn samples the filter dropped as near-motionless or as blown up / stretching; *top-1 sim* cosine "
        "similarity between the class's captions and the best-matching caption of the generalist corpus (text "
        "embedding; low means the corpus has little like the class, blank when no pairing was done).")

    def report_table(self) -> str:
        rows = ["| class | shots | adapt s | cached | synth s | asked | kept | drawn | dropped static/exploding | "
                "top-1 sim |", "|---|---|---|---|---|---|---|---|---|---|"]
        for c in self.classes:
            r = self.reports.get(c)
            if r is None:
                continue
            sim = "" if r.top1_similarity != r.top1_similarity else f"{r.top1_similarity:.2f}"
            rows.append(f"| {c} {r.name} | {r.shots} | {r.adapt_seconds:.1f} | {'yes' if r.adapt_cached else 'no'} | "
                        f"{r.synth_seconds:.1f} | {r.requested} | {r.generated}{' (short)' if r.shortfall else ''} | "
                        f"{r.drawn} | {r.dropped_static}/{r.dropped_exploding} | {sim} |")
        return "\n".join(rows)

    def shortfalls(self) -> List[str]:
        """One sentence per class that got fewer synthetic samples than asked, saying why (empty: none)."""
        return [f"class {c} ({r.name}): {r.generated} of {r.requested} kept; {r.shortfall_reason}"
                for c, r in sorted(self.reports.items()) if r.shortfall]
