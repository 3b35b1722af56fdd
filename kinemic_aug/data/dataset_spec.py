"""Target datasets as data: where the pickle is, its layout, labels, splits, frame rate and protocol.

A :class:`DatasetSpec` is everything the few-shot benchmark, the configs and the demo need to know about
one skeleton dataset, so running them on another dataset means registering (or writing as JSON) one
spec, not editing code. The shipped specs are MSR Action3D (``msr_action3d``) and UTD-MHAD
(``utd_mhad``); see ``docs/datasets.md`` for adding one (NTU RGB+D included). The checks that run
before training are in :mod:`.datasets`.
"""
from __future__ import annotations

import json
import os
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple, Union

from ..errors import DataError, LayoutError
from ..skeleton.layout import SkeletonLayout, get_layout
from .fewshot import subject_from_key
from .pyskl import load_pyskl


PathLike = Union[str, os.PathLike]
#: the repository root of a source checkout (relative data paths are tried from here too)
REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_FORMAT = "kinemic_aug.DatasetSpec"
STAGES = ("val", "test")
_PROTOCOL_NAMES = {"xsub": "cross-subject", "xview": "cross-view", "xset": "cross-setup"}


@dataclass(frozen=True)
class DatasetSpec:
    """One target dataset and its evaluation protocol.

    Attributes:
        name: registry key, also the ``dataset`` field of every result row.
        title: human name for reports (``"MSR Action3D"``).
        pickle: default location of the PYSKL pickle; a relative path is tried from the current
            directory, then from the repository root.
        env: environment variable that overrides ``pickle`` when set.
        layout: registered layout name, or the path of a layout JSON file; ``""`` reads the layout from
            the pickle (``meta['layout']``, or ``meta['joint_names']`` + ``meta['parents']``).
        labels: label set name (``kinemic_aug.text.labels``) or a label file; its size must be ``num_classes``.
        num_classes: classes of the protocol (labels ``0..num_classes-1``).
        train_split, test_split: split names in the pickle; the shots come from ``train_split`` only.
        protocol: short protocol name recorded in result rows (``split`` field), e.g. ``"xsub"``.
        fps: frame rate of the data.
        clip_len: frames the classifier samples per clip.
        num_person: persons per sample the classifier takes.
        subject_key: annotation field holding the subject (splits are checked to share none).
        val_holdout: training subjects held out as the validation split (``--stage val``).
        allow_fewer: a class with fewer than K training samples gives all it has instead of refusing
            (MSR Action3D's 10-shot: "side kick" has 9). A K above every class's count is refused anyway.
        config_stem: classifier configs are ``configs/stgcn/<stem>_<K>shot[_classic].py``,
            ``<stem>_full[_classic].py`` and ``configs/kinemic/<stem>_<K>shot[_classic]_kinemic.py``.
        kinemic_base: the config holding the augmenter defaults of this dataset.
        citation, description: where the data comes from, for reports and ``list``.
    """

    name: str
    title: str
    pickle: str
    num_classes: int
    fps: float
    clip_len: int
    env: Optional[str] = None
    layout: str = ""
    labels: str = ""
    train_split: str = "xsub_train"
    test_split: str = "xsub_test"
    protocol: str = "xsub"
    num_person: int = 1
    subject_key: str = "subject"
    val_holdout: Tuple[Any, ...] = ()
    allow_fewer: bool = False
    config_stem: str = ""
    kinemic_base: str = ""
    citation: str = ""
    description: str = ""

    def __post_init__(self) -> None:
        where = f"dataset spec {self.name!r}"
        for name in ("name", "title", "pickle", "train_split", "test_split", "protocol", "subject_key"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise DataError(f"expected a non-empty string, got {v!r}", source=where, field=name)
        for name in ("num_classes", "clip_len", "num_person"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise DataError(f"expected a positive integer, got {v!r}", source=where, field=name)
        if isinstance(self.fps, bool) or not isinstance(self.fps, (int, float)) or not self.fps > 0:
            raise DataError(f"expected a positive frame rate, got {self.fps!r}", source=where, field="fps")
        if self.train_split == self.test_split:
            raise DataError(f"train and test split are the same ({self.train_split!r})", source=where,
                            field="test_split")
        if not isinstance(self.val_holdout, tuple):
            object.__setattr__(self, "val_holdout", tuple(self.val_holdout))

    # ------------------------------------------------------------------ derived names
    @property
    def protocol_name(self) -> str:
        """``cross-subject`` for ``xsub``; the protocol itself otherwise."""
        return _PROTOCOL_NAMES.get(self.protocol, self.protocol)

    @property
    def val_pool_split(self) -> str:
        """Training split without the held-out subjects (the val stage draws its shots here)."""
        return f"{self.train_split}_val_pool"

    @property
    def val_split(self) -> str:
        """The held-out training subjects' sequences (the val stage scores here)."""
        return f"{self.train_split}_val"

    def stage_splits(self, stage: str) -> Tuple[str, str]:
        """(split the shots come from, split that is scored) of ``stage`` (``val`` or ``test``)."""
        if stage not in STAGES:
            raise DataError(f"unknown stage {stage!r}; stages: {list(STAGES)}", field="stage")
        if stage == "val":
            if not self.val_holdout:
                raise DataError("the spec has no validation rule (val_holdout is empty)",
                                source=f"dataset spec {self.name!r}", field="val_holdout")
            return self.val_pool_split, self.val_split
        return self.train_split, self.test_split

    def subject_of(self):
        return subject_from_key(self.subject_key)

    # ------------------------------------------------------------------ files
    def pickle_path(self) -> Path:
        """``$env`` if set, else ``pickle``; relative paths from the current directory, then the repo root."""
        raw = os.environ.get(self.env, "") if self.env else ""
        p = Path(raw or self.pickle).expanduser()
        if p.is_absolute():
            return p
        if p.exists():
            return p.resolve()
        alt = REPO_ROOT / p
        return alt.resolve() if alt.exists() else p

    def require_pickle(self) -> Path:
        """:meth:`pickle_path`, or a :class:`DataError` saying where it was looked for and how to point to it."""
        p = self.pickle_path()
        if not p.is_file():
            how = f"set ${self.env} or " if self.env else ""
            raise DataError(f"dataset {self.name!r}: pickle not found ({how}put it at {self.pickle}; research data "
                            "is not shipped)", source=str(p), field="pickle")
        return p

    def to_dict(self) -> Dict[str, Any]:
        d = asdict(self)
        d["val_holdout"] = list(self.val_holdout)
        return {"format": SPEC_FORMAT, "version": 1, **d}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "dataset spec") -> "DatasetSpec":
        """Build from :meth:`to_dict` output (the JSON a user writes); unknown or missing keys are named."""
        if not isinstance(d, Mapping):
            raise DataError(f"expected a mapping, got {type(d).__name__}", source=source, field="spec")
        body = {k: v for k, v in d.items() if k not in ("format", "version")}
        if d.get("format", SPEC_FORMAT) != SPEC_FORMAT:
            raise DataError(f"not a dataset spec (format={d.get('format')!r})", source=source, field="format")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(body) - known)
        if unknown:
            raise DataError(f"unknown key(s) {unknown}; keys: {sorted(known)}", source=source, field=unknown[0])
        required = [f.name for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
        missing = [k for k in required if k not in body]
        if missing:
            raise DataError("missing", source=source, field=missing[0])
        if "val_holdout" in body:
            body["val_holdout"] = tuple(body["val_holdout"] or ())
        if isinstance(body.get("fps"), int) and not isinstance(body.get("fps"), bool):
            body["fps"] = float(body["fps"])
        try:
            return cls(**body)
        except DataError as e:
            raise DataError(str(e), source=source, field=e.field) from None

    @classmethod
    def from_file(cls, path: PathLike) -> "DatasetSpec":
        p = Path(path)
        try:
            d = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise DataError("dataset spec file not found", source=str(p), field="dataset") from None
        except (OSError, ValueError) as e:
            raise DataError(f"not valid JSON ({type(e).__name__}: {e})", source=str(p), field="dataset") from None
        return cls.from_dict(d, source=str(p))


# ---------------------------------------------------------------------- registry
_SPECS: Dict[str, DatasetSpec] = {}


def register_dataset_spec(spec: DatasetSpec, overwrite: bool = False) -> DatasetSpec:
    """Register ``spec`` under its name (``overwrite=True`` replaces one of the same name)."""
    if not isinstance(spec, DatasetSpec):
        raise TypeError(f"expected a DatasetSpec, got {type(spec).__name__}")
    if spec.name in _SPECS and not overwrite and _SPECS[spec.name] != spec:
        raise DataError(f"dataset spec {spec.name!r} is already registered (pass overwrite=True to replace it)",
                        field="dataset")
    _SPECS[spec.name] = spec
    return spec


def get_dataset_spec(name: Union[str, PathLike, DatasetSpec]) -> DatasetSpec:
    """A registered spec by name, a spec as given, or a spec JSON file by path (``*.json``; registered on first
    use, so its name resolves afterwards in the same process, and a different spec under a taken name is refused)."""
    if isinstance(name, DatasetSpec):
        return name
    text = os.fspath(name)
    if text.lower().endswith(".json") or (os.sep in text and Path(text).is_file()):
        return register_dataset_spec(DatasetSpec.from_file(text))
    if text not in _SPECS:
        raise DataError(f"unknown dataset {text!r}; registered: {sorted(_SPECS)} (or pass a spec .json file; "
                        "see docs/datasets.md)", field="dataset")
    return _SPECS[text]


def list_dataset_specs() -> List[str]:
    return sorted(_SPECS)


# ---------------------------------------------------------------------- layouts
#: joints that may end the normalisation z-axis, first match wins: the spine joint above the root, as the built-in
#: Kinect layouts do (NTU spine_base -> spine_mid, MSR and UTD hip_center -> spine), else higher up the trunk
_SPINE_TOPS = ("spine_mid", "spine", "spine1", "spine_navel", "spine_chest", "chest", "spine_shoulder",
               "shoulder_center", "neck", "thorax")


def layout_from_meta(meta: Mapping[str, Any], name: str, source: str = "") -> SkeletonLayout:
    """The layout a pickle carries: ``meta['layout']`` (a name or a layout dict), or ``meta['joint_names']``
    with ``meta['parents']``. For the latter, ``center`` / ``zaxis`` / ``xaxis`` come from ``meta`` when given,
    else the root is the centre, the z-axis runs root → the first trunk joint found by name
    (``spine_mid``, ``spine``, ..., ``neck``) and the x-axis right → left shoulder; a joint set
    without those names gets no rotation alignment (both axes collapse onto the centre)."""
    lay = meta.get("layout")
    if isinstance(lay, (str, dict)) and lay:
        return get_layout(lay)
    names, parents = meta.get("joint_names"), meta.get("parents")
    if not names or parents is None:
        raise LayoutError("the pickle carries no layout: expected meta['layout'] or meta['joint_names'] and "
                          "meta['parents']; or give the spec a layout name / layout JSON path", source=source or None,
                          field="meta.layout")
    names = [str(n) for n in names]
    try:
        parents = [int(p) for p in parents]
    except (TypeError, ValueError):
        raise LayoutError(f"meta['parents'] must be integers, got {parents!r}", source=source or None,
                          field="meta.parents") from None
    root = parents.index(-1) if -1 in parents else 0
    center = int(meta.get("center", root))
    index = {n: i for i, n in enumerate(names)}
    top = next((index[n] for n in _SPINE_TOPS if n in index), center)
    right, left = index.get("right_shoulder", center), index.get("left_shoulder", center)
    d = {"name": name, "joint_names": names, "parents": parents, "center": center,
         "zaxis": meta.get("zaxis", [root, top]), "xaxis": meta.get("xaxis", [right, left]),
         "fps": float(meta["fps"]) if meta.get("fps") else None,
         "description": f"from the joint names and parents in {source or 'a pickle'}'s meta"}
    try:
        return get_layout(d)
    except LayoutError as e:
        raise LayoutError(str(e), source=source or None, field="meta") from None


def resolve_layout(spec: DatasetSpec, data: Optional[Mapping[str, Any]] = None) -> SkeletonLayout:
    """The spec's layout (name or JSON file), or the one the pickle carries (see :func:`layout_from_meta`)."""
    if spec.layout:
        return get_layout(spec.layout)
    if data is None:
        data = load_pyskl(spec.require_pickle(), validate=False)
    return layout_from_meta(data.get("meta") or {}, spec.name, source=str(spec.pickle_path()))


# ---------------------------------------------------------------------- shipped specs
MSR_ACTION3D = register_dataset_spec(DatasetSpec(
    name="msr_action3d", title="MSR Action3D", pickle="../shared/data/msr_action3d/msr_action3d_skeleton.pkl",
    env="KINEMIC_MSR_PKL", layout="msr_action3d", labels="msr_action3d", num_classes=20, fps=15.0, clip_len=32,
    val_holdout=(9,), allow_fewer=True, config_stem="stgcn_msr_xsub", kinemic_base="configs/_base_/kinemic/msr_default.py",
    citation="W. Li, Z. Zhang, Z. Liu, Action recognition based on a bag of 3D points, CVPRW 2010",
    description="20 actions, 10 subjects, Kinect-style 20-joint skeletons at 15 fps; odd subjects train, even test; "
                "training subject 9 is the validation subject"))

UTD_MHAD = register_dataset_spec(DatasetSpec(
    name="utd_mhad", title="UTD-MHAD", pickle="../shared/data/utd_mhad/utd_mhad_skeleton.pkl",
    env="KINEMIC_UTD_PKL", layout="utd_mhad", labels="utd_mhad", num_classes=27, fps=30.0, clip_len=32,
    val_holdout=(7,), allow_fewer=False, config_stem="stgcn_utd_xsub", kinemic_base="configs/_base_/kinemic/utd_default.py",
    citation="C. Chen, R. Jafari, N. Kehtarnavaz, UTD-MHAD: a multimodal dataset for human action recognition "
             "utilizing a depth camera and a wearable inertial sensor, ICIP 2015",
    description="27 actions, 8 subjects x 4 trials (861 sequences), Kinect v1 20 joints in UTD's own order at 30 fps; "
                "odd subjects train, even test; training subject 7 is the validation subject"))
