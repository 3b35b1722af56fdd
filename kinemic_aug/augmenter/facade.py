"""``KineMICAugmenter``: few real shots per class in, real + synthetic training samples out.

The whole method behind one object::

    aug = KineMICAugmenter("msr.pkl", split="xsub_train", shots=5, labels="msr_action3d",
                           layout="msr_action3d", fps=15, synthetic_per_class=60, seed=0)
    anns = aug.annotations()      # the shots + synthetic samples (each has is_synthetic)
    aug.save_pyskl("msr_aug.pkl")  # train split augmented, every other split untouched

The facade only wires the stages of this package, in order (each in its own module, with one job):

1. :mod:`.inputs` / :mod:`.shots`: the source as annotations, the shots drawn from it, converted into the
   generator's space (:class:`~kinemic_aug.generator.dataset_space.TargetDomain`);
2. :mod:`.normalisation`: the statistics the shots are normalised with;
3. :mod:`.paired_sources`: each class soft-paired with its top-k corpus clips (text-embedding cache);
4. :mod:`.source_pools`: those clips as features;
5. :mod:`.adapters`: one adapter per class (or one joint adapter), trained by
   :class:`~kinemic_aug.adapt.KineMICTrainer` (resumable; a corrupt cache entry is rebuilt);
6. :mod:`.synthetic_sets`: each class's adapted generator samples its synthetic set (lengths from the
   shots) and the filter drops degenerate samples;
7. :mod:`.annotations`: the rest converted back to the dataset's layout and fps, as annotations.

Adapters and synthetic sets are cached under ``cache_dir`` (content-addressed, so a changed input is a
new entry and an unchanged one is never recomputed; keys are built in :mod:`.cache_keys`).

Synthetic samples carry ``is_synthetic=True``, a ``frame_dir`` starting with ``synthetic_`` and a
``synthetic_info`` dict (class caption or composed caption, adapter key, generator step). They
are only ever added to the training split.
"""
from __future__ import annotations

import sys
import time
import warnings
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from ..adapt import AdaptConfig
from ..adapt.cache import ArtifactCache
from ..data.annotation_template import AnnotationTemplate
from ..data.pyskl import save_pyskl
from ..data.sources import DEFAULT_GENERALIST_CORPUS
from ..generator.checkpoint import resolve_generator
from ..generator.dataset_space import TargetDomain
from ..synthesis import FilterReport, SynthesisConfig
from .adapters import Adapters, uses_pool
from .annotations import SampleProvenance, augmented_pyskl, synthetic_annotations_of_class
from .cache_keys import CacheKeys, norm_context, norm_key
from .counts import SyntheticCounts
from .inputs import check_counts, read_source, resolve_fps, resolve_label_set
from .normalisation import TargetNormalisation, check_policy, fit_target_normalisation
from .paired_sources import PairedSources
from .pinned_stats import save_target_stats
from .reports import REPORT_LEGEND, ClassReport, report_table, shortfalls
from .resources import Resources
from .retrieved import retrieved_annotations
from .shots import check_labels, select_shots, shots_in_generator_space
from .source_pools import SourcePools
from .synthetic_sets import SyntheticSets

DEFAULT_CACHE = Path.home() / ".cache" / "kinemic_aug"
DEFAULT_GENERATOR = resolve_generator()


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
            soft-paired corpus clips themselves, no generator: :mod:`kinemic_aug.augmenter.retrieved`).
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
            (``kinemic_aug/augmenter/pinned_stats.py``).
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
        check_policy(target_norm, target_stats)  # fail before any data is read
        self.target_norm = target_norm
        self.target_stats = Path(target_stats) if target_stats is not None else None
        self.source, self.split, self.seed = source, split, int(seed)
        src = read_source(source, split)
        self.anns_all, self.data = src.annotations, src.full
        self.domain = TargetDomain(layout, resolve_fps(fps, src, layout))
        self.labels = resolve_label_set(labels, src)
        self.variant = variant
        self.adapt_cfg = replace((adapt or AdaptConfig()).variant(variant), seed=self.seed, device=device,
                                 progress=progress)
        self.synth_cfg = synthesis or SynthesisConfig()
        self.synthetic_per_class = check_counts(synthetic_per_class)
        self.synthetic_ratio = synthetic_ratio
        self.generator_path = resolve_generator(generator)
        self.corpus_spec, self.encoder_name = corpus, encoder
        self.cache = ArtifactCache(Path(cache_dir) if cache_dir else DEFAULT_CACHE)
        self.device, self.progress = device, progress
        self.reports: Dict[int, ClassReport] = {}
        self.shot_set = select_shots(self.anns_all, self.labels, shots, self.seed, allow_fewer, classes)
        self.shot_anns, self.classes, self.few_shot = self.shot_set.annotations, self.shot_set.classes, self.shot_set.few_shot
        if isinstance(self.synthetic_per_class, Mapping):
            absent = [c for c in self.classes if c not in self.synthetic_per_class]
            if absent:
                warnings.warn(f"synthetic_per_class has no count for class(es) {absent}: they get no synthetic sample")
        check_labels(self.shot_set, self.labels)
        self.resources = Resources(self.generator_path, corpus, encoder, device, self.cache.root / "text")
        self.counts = SyntheticCounts(self.synthetic_per_class, synthetic_ratio, self.anns_all, self.shot_set)
        self._synthetic: Optional[List[Dict[str, Any]]] = None
        self.preset: Optional[str] = None  # set by from_preset

    @classmethod
    def from_preset(cls, preset: str, source: Any, **kwargs: Any) -> "KineMICAugmenter":
        """An augmenter with the arguments of a named recipe (``"default"``, ``"paper"``: :mod:`.presets`),
        ``kwargs`` merged over them (``adapt=dict(steps=300)`` changes one field of the preset's adaptation)."""
        from .presets import preset_kwargs

        aug = cls(source, **preset_kwargs(preset, kwargs))
        aug.preset = preset
        return aug

    # ------------------------------------------------------------------ stages, wired on first use
    @cached_property
    def shot_joints(self) -> Dict[int, List[np.ndarray]]:
        """The shots in the generator's space, per class."""
        return shots_in_generator_space(self.shot_set, self.domain)

    @cached_property
    def normalisation(self) -> TargetNormalisation:
        fitted = self.target_norm == "shots" and self.target_stats is None
        joints = [j for c in self.classes for j in self.shot_joints[c]] if fitted else []
        return fit_target_normalisation(self.target_norm, self.target_stats,
                                        self.resources.generator.representation, joints)

    @cached_property
    def keys(self) -> CacheKeys:
        return CacheKeys(resources=self.resources, domain=self.domain, labels=self.labels, shots=self.shot_set,
                         adapt_cfg=self.adapt_cfg, synth_cfg=self.synth_cfg, seed=self.seed,
                         target_norm=self.target_norm, norm=self._norm_key())

    @cached_property
    def paired(self) -> PairedSources:
        return PairedSources(self.labels, self.classes, self.resources.corpus, self.resources.encoder, self.adapt_cfg)

    @cached_property
    def pools(self) -> SourcePools:
        return SourcePools(self.paired, self.resources.corpus, self.resources.condition_encoder,
                           self.resources.generator.representation, self.normalisation.representation,
                           self.domain.generator_fps, self.adapt_cfg)

    @cached_property
    def adapters(self) -> Adapters:
        return Adapters(generator=self.resources.generator, cache=self.cache, cfg=self.adapt_cfg, keys=self.keys,
                        shots=self.shot_set, joints=self.shot_joints, target_rep=self.normalisation.representation,
                        labels=self.labels, class_text=self.class_text,
                        pools=self.pools if uses_pool(self.adapt_cfg) else None)

    @cached_property
    def synthetic_sets(self) -> SyntheticSets:
        compose = (self.resources.condition_encoder.encode(list(self.synth_cfg.compose_with))
                   if self.synth_cfg.compose_with else None)
        return SyntheticSets(generator=self.resources.generator, cache=self.cache, synth_cfg=self.synth_cfg,
                             adapt_cfg=self.adapt_cfg, keys=self.keys, counts=self.counts,
                             target_rep=self.normalisation.representation, class_text=self.class_text,
                             compose=compose, seed=self.seed)

    def class_text(self, c: int) -> np.ndarray:
        """Class ``c``'s caption embeddings, in the denoiser's text features."""
        return self.resources.condition_encoder.encode(self.labels.captions(c))

    def _norm_key(self) -> Any:
        """The normalisation's part of the keys (see :func:`~.cache_keys.norm_key`)."""
        pinned = self.normalisation.pinned if self.target_norm == "shots" and self.target_stats is not None else None
        return norm_key(self.target_norm, self.shot_set, self._norm_context(), pinned)

    def _norm_context(self) -> Dict[str, Any]:
        return norm_context(self.resources.generator_sha, self.domain)

    def save_target_stats(self, path: Union[str, Path]) -> Path:
        """Write the statistics the shots are normalised with (``target_norm="shots"``) to ``path`` (``.npz``,
        atomic), for ``target_stats=`` of a later run: that run keeps this run's adapters when it adds classes."""
        if self.target_norm != "shots":
            raise ValueError("only target_norm='shots' fits statistics of its own; 'generalist' uses the corpus's")
        prov = {"classes": self.classes, "num_shots": len(self.shot_anns), "norm_key": self._norm_key(),
                "context": self._norm_context(),
                "pinned_from": str(self.target_stats) if self.target_stats is not None else None}
        return save_target_stats(path, self.normalisation.representation, prov)

    # ------------------------------------------------------------------ adaptation and synthesis
    def adapt_all(self, rank: Optional[int] = None, world_size: Optional[int] = None) -> Dict[int, Any]:
        """Put every class's adapter in the cache: cached ones skipped, the rest trained ``group_size`` at
        a time in batched runs (``AdaptConfig.batched``; one at a time otherwise) and, in a distributed run
        (torchrun, MMEngine launchers), shared out over its processes (:func:`kinemic_aug.adapt.shard.adapt_jobs`).
        Returns the per-class outcomes; :meth:`synthetic_annotations` then loads the adapters from the cache."""
        cfg = self.adapt_cfg
        if cfg.mode != "per_class" or cfg.steps == 0:
            return {}
        how = f"batched, up to {cfg.group_size} together" if cfg.batched else "one at a time"
        return self.adapters.adapt_all(self.classes, rank, world_size,
                                       say=lambda: self._say(f"[kinemic] adapting {len(self.classes)} classes ({how})"))

    def synthesize_all(self, classes: Optional[Sequence[int]] = None) -> Dict[int, float]:
        """Sample the synthetic sets of ``classes`` (default: all) not cached yet, all classes in one
        class-batched run (:func:`~kinemic_aug.synthesis.synthesize_classes`, adapters stacked from the cache)
        and cache them; a class whose set another process is sampling (its lock is held) or whose adapter is
        not cached yet is left to :meth:`synthetic_annotations`. Per-class mode; returns seconds per class."""
        if self.adapt_cfg.mode != "per_class":
            return {}
        classes = self.classes if classes is None else classes
        sets = self.synthetic_sets
        adapter_keys = {c: self.adapters.job(c)[1] for c in classes}
        return sets.sample_all(classes, adapter_keys, self.shot_joints, self._say)

    def _say(self, line: str, bar: Any = None) -> None:
        """A progress line on stderr (``progress=True``): beside the bar on a terminal, plain in a log file."""
        if not self.progress:
            return
        if bar is not None and not getattr(bar, "disable", True):
            bar.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    @cached_property
    def _template(self) -> AnnotationTemplate:
        return AnnotationTemplate.from_annotations(self.data["annotations"] if self.data is not None else self.anns_all)

    def annotation_template(self) -> AnnotationTemplate:
        """The fields synthetic annotations take from the real ones (:class:`~kinemic_aug.data.annotation_template.AnnotationTemplate`)."""
        return self._template

    def synthetic_annotations(self) -> List[Dict[str, Any]]:
        """Generate (or load) the synthetic set for every class, in the dataset's layout and fps.

        Each has the fields, types and dtypes of the dataset's real annotations (:meth:`annotation_template`:
        e.g. ``keypoint_score`` of ones, ``subject=-1``), plus ``is_synthetic=True`` and ``synthetic_info``.
        A class whose filter kept fewer than asked within ``SynthesisConfig.draw_limit`` is logged as a
        warning and recorded in its report (``shortfall``, ``shortfall_reason``)."""
        if self._synthetic is None:
            template = self.annotation_template()  # before any work: a dataset it cannot describe fails now
            self._synthetic = self._retrieved(template) if self.variant == "retrieved" else self._generated(template)
        return self._synthetic

    def _retrieved(self, template: AnnotationTemplate) -> List[Dict[str, Any]]:
        """The ``retrieved`` variant: the paired corpus clips themselves, no generator."""
        self._say(f"[kinemic] {len(self.classes)} classes, variant retrieved, {self.counts.describe(self.classes)} "
                  "asked (soft-paired corpus clips, no generator)")
        self.shot_joints  # noqa: B018 - the shots' own checks (layout, a second person) run on this path too
        anns, reports = retrieved_annotations(self.shot_set, self.paired, self.resources.corpus, self.domain,
                                              self.labels, self.counts, template, self.seed)
        self.reports.update(reports)
        return anns

    def _generated(self, template: AnnotationTemplate) -> List[Dict[str, Any]]:
        """Every class's adapter (trained or cached), synthetic set (sampled or cached) and annotations."""
        cfg = self.adapt_cfg
        self._say(f"[kinemic] {len(self.classes)} classes, variant {self.variant}, "
                  f"{self.counts.describe(self.classes)} asked; loading the generator")
        self.resources.generator  # noqa: B018 - loaded (or refused) before any shot is converted
        self.shot_joints  # noqa: B018
        coverage = ({x.class_id: x for x in self.paired.pairs.coverage} if uses_pool(cfg) else {})
        joint = None
        if cfg.mode == "per_class" and cfg.batched:
            if not self.adapters.ran_all:
                self.adapt_all()
            self.synthesize_all()
        if cfg.mode == "joint":
            self._say(f"[kinemic] training one joint adapter for {len(self.classes)} classes")
            joint = self.adapters.joint(self.classes)
            self._say(f"[kinemic] joint adapter {'from cache' if joint[3] else 'trained'} in {joint[2]:.1f} s")
        iterator = bar = self.classes
        if self.progress:
            from tqdm.auto import tqdm
            # disable=None: bars on a terminal only, never as carriage-return noise in a log file
            iterator = bar = tqdm(self.classes, desc=f"KineMIC ({self.variant})", disable=None)
        made = SampleProvenance(self.variant, self.synth_cfg, int(self.resources.generator.step), self.seed)
        out: List[Dict[str, Any]] = []
        for pos, c in enumerate(iterator):
            rpt = self.reports[c] = ClassReport(c, self.labels[c].name, len(self.shot_joints[c]))
            if c in coverage:
                rpt.top1_similarity, rpt.kth_similarity = float(coverage[c].top1), float(coverage[c].kth_similarity)
            out += self._class_samples(c, rpt, joint, template, made)
            self._say(rpt.progress_line(f"{pos + 1}/{len(self.classes)}"), bar)
        return out

    def _class_samples(self, c: int, rpt: ClassReport, joint: Optional[Tuple], template: AnnotationTemplate,
                       made: SampleProvenance) -> List[Dict[str, Any]]:
        """Class ``c``: its adapter, its synthetic set, and the set as annotations (``rpt`` filled in)."""
        if joint is None:
            trainer, adapter_key, rpt.adapt_cached, rpt.adapt_seconds = self.adapters.for_class(c)
            action = 0
        else:  # the joint adapter's time is shared out evenly over the classes
            trainer, adapter_key = joint[0], joint[1]
            action = self.classes.index(c)
            rpt.adapt_seconds, rpt.adapt_cached = joint[2] / len(self.classes), joint[3]
        sets = self.synthetic_sets
        set_key, n = sets.key(c, adapter_key)
        t0 = time.time()
        with self.cache.lock("synthetic", set_key):  # a second process waits, then reads this one's entry
            (seqs, infos, filter_dict), rpt.synth_cached = sets.load_or_sample(c, trainer, set_key, n,
                                                                                self.shot_joints[c], action)
        rpt.synth_seconds = time.time() - t0
        if c in sets.sampled:  # sampled by synthesize_all: report that, not the load
            rpt.synth_cached, rpt.synth_seconds = False, sets.sampled[c]
        rpt.record_filter(FilterReport.from_dict(filter_dict), n)
        return synthetic_annotations_of_class(c, seqs, infos, self.shot_set.of_class(c), adapter_key, self.domain,
                                              self.labels, template, made)

    # ------------------------------------------------------------------ outputs
    def annotations(self) -> List[Dict[str, Any]]:
        """The real shots (``is_synthetic=False``) followed by the synthetic samples (``is_synthetic=True``)."""
        real = [dict(a, is_synthetic=False) for a in self.shot_anns]
        return real + self.synthetic_annotations()

    def to_pyskl(self, train_split: Optional[str] = None) -> Dict[str, Any]:
        """A PYSKL dict: the original splits untouched, plus ``<train_split>`` replaced by the shots +
        synthetic ids (named ``<split>_kinemic`` if the input had no splits).

        Every annotation says ``is_synthetic`` (``False`` on every real one, in any split), and every
        synthetic one has the fields of the real ones (checked with :func:`~kinemic_aug.data.annotation_template.field_parity`)."""
        anns = self.annotations()
        name = train_split or (f"{self.split}_kinemic" if self.split else "train_kinemic")
        return augmented_pyskl(anns, self.data, name, self.annotation_template())

    def save_pyskl(self, path: Union[str, Path], train_split: Optional[str] = None) -> Path:
        """Write :meth:`to_pyskl` (readable by numpy 1.x and 2.x, see :func:`~kinemic_aug.data.pyskl.save_pyskl`)."""
        return save_pyskl(self.to_pyskl(train_split), path)

    #: what each column of :meth:`report_table` means (markdown, for reports written beside the table)
    REPORT_LEGEND = REPORT_LEGEND

    def report_table(self) -> str:
        return report_table(self.reports, self.classes)

    def shortfalls(self) -> List[str]:
        """One sentence per class that got fewer synthetic samples than asked, saying why (empty: none)."""
        return shortfalls(self.reports)
