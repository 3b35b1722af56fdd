"""Label sets: class id -> name -> one or more HumanML3D-style captions ("a person does a side kick.").

Pairing compares *captions*, not bare class names: a text-to-motion corpus is described in sentences
like "a person kicks to the side with the right leg", and an embedding of "side kick" alone sits
closer to other noun phrases than to such sentences. The shipped sets (``assets/labels/*.json``):

* ``ntu120`` - NTU RGB+D 120, A001-A120, ids 0-based (id = action number - 1, as PYSKL labels), with the
  two-person classes A050-A060 and A106-A120 flagged ``two_person`` (KineMIC excludes them);
* ``ntu60`` - its first 60 classes;
* ``msr_action3d`` - MSR Action3D's 20 classes, in the class order of the provided pickle;
* ``utd_mhad`` - UTD-MHAD's 27 classes (id = action number - 1).

The captions are authored for this package (not from a dataset). Users pass their own file (JSON,
YAML or CSV with ``id``, ``name``, ``captions``) to :func:`load_label_set`; every validation error names
the entry and the field.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Union

from ..errors import DataError
from ..utils.io import atomic_write_json

ASSET_DIR = Path(__file__).resolve().parents[1] / "assets" / "labels"
LABELSET_FORMAT = "kinemic_aug.LabelSet"
_BUILTIN = {"ntu120": "ntu120.json", "msr_action3d": "msr_action3d.json", "utd_mhad": "utd_mhad.json"}
_ALIASES = {"ntu": "ntu120", "ntu-120": "ntu120", "nturgb+d120": "ntu120", "ntu_rgbd_120": "ntu120",
            "ntu-60": "ntu60", "nturgb+d": "ntu60", "ntu_rgbd_60": "ntu60",
            "msr": "msr_action3d", "msr3d": "msr_action3d", "msraction3d": "msr_action3d",
            "utd": "utd_mhad", "utd-mhad": "utd_mhad"}
CSV_CAPTION_SEP = "|"


@dataclass
class LabelEntry:
    """One class: ``id`` (0-based label), ``name``, ``captions``; ``code`` is the dataset's own id
    (e.g. ``A102``); ``two_person`` marks interaction classes."""

    id: int
    name: str
    captions: List[str]
    code: Optional[str] = None
    two_person: bool = False
    meta: Dict[str, Any] = field(default_factory=dict)


def default_caption(name: str) -> str:
    """Caption used when a user file gives a name but no captions (marked ``caption_origin='template'``)."""
    return f'a person performs the action "{name}".'


def _entry_from_raw(raw: Any, i: int, source: str, default_captions: bool) -> LabelEntry:
    if not isinstance(raw, dict):
        raise DataError(f"expected a mapping with id, name, captions; got {type(raw).__name__}",
                        source=source, sample=f"entry {i}", field="entry")
    label = f"entry {i}" + (f" ({raw['name']!r})" if isinstance(raw.get("name"), str) else "")
    if "id" not in raw:
        raise DataError("missing", source=source, sample=label, field="id")
    rid = raw["id"]
    if isinstance(rid, str) and rid.strip().lstrip("-").isdigit():
        rid = int(rid)
    if isinstance(rid, bool) or not isinstance(rid, int) or rid < 0:
        raise DataError(f"expected a non-negative integer, got {raw['id']!r}", source=source, sample=label,
                        field="id")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"expected a non-empty string, got {name!r}", source=source, sample=label, field="name")
    caps = raw.get("captions", raw.get("caption"))
    meta = dict(raw.get("meta") or {})
    if caps is None or caps == "" or caps == []:
        if not default_captions:
            raise DataError("no captions given", source=source, sample=label, field="captions")
        caps = [default_caption(name.strip())]
        meta["caption_origin"] = "template"
    if isinstance(caps, str):
        caps = [caps]
    if not isinstance(caps, list):
        raise DataError(f"expected a list of strings, got {type(caps).__name__}", source=source, sample=label,
                        field="captions")
    for j, c in enumerate(caps):
        if not isinstance(c, str) or not c.strip():
            raise DataError(f"caption {j} is not a non-empty string: {c!r}", source=source, sample=label,
                            field="captions")
    two = raw.get("two_person", False)
    if isinstance(two, str):
        low = two.strip().lower()
        if low not in ("", "0", "1", "true", "false", "yes", "no"):
            raise DataError(f"expected a boolean, got {two!r}", source=source, sample=label, field="two_person")
        two = low in ("1", "true", "yes")
    if not isinstance(two, bool):
        raise DataError(f"expected a boolean, got {two!r}", source=source, sample=label, field="two_person")
    code = raw.get("code")
    return LabelEntry(id=rid, name=name.strip(), captions=[c.strip() for c in caps],
                      code=None if code in (None, "") else str(code), two_person=two, meta=meta)


class LabelSet:
    """An ordered set of :class:`LabelEntry` with unique ids and names."""

    def __init__(self, entries: Iterable[LabelEntry], name: str = "labels", description: str = "",
                 source: str = ""):
        self.name = name
        self.description = description
        self.source = source
        self.entries: List[LabelEntry] = list(entries)
        self._by_id: Dict[int, LabelEntry] = {}
        self._by_name: Dict[str, LabelEntry] = {}
        for i, e in enumerate(self.entries):
            where = f"entry {i} ({e.name!r})"
            if e.id in self._by_id:
                raise DataError(f"duplicate id {e.id} (also {self._by_id[e.id].name!r})", source=source or name,
                                sample=where, field="id")
            key = e.name.lower()
            if key in self._by_name:
                raise DataError("duplicate class name", source=source or name, sample=where, field="name")
            self._by_id[e.id] = e
            self._by_name[key] = e
        if not self.entries:
            raise DataError("label set has no classes", source=source or name, field="classes")

    # ------------------------------------------------------------------ access
    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[LabelEntry]:
        return iter(self.entries)

    def __getitem__(self, class_id: int) -> LabelEntry:
        try:
            return self._by_id[int(class_id)]
        except KeyError:
            raise KeyError(f"{self.name}: no class with id {class_id}") from None

    def __contains__(self, class_id: object) -> bool:
        return isinstance(class_id, int) and class_id in self._by_id

    def __repr__(self) -> str:
        return f"LabelSet({self.name!r}, {len(self)} classes)"

    @property
    def ids(self) -> List[int]:
        return [e.id for e in self.entries]

    @property
    def names(self) -> List[str]:
        return [e.name for e in self.entries]

    def by_name(self, name: str) -> LabelEntry:
        try:
            return self._by_name[name.strip().lower()]
        except KeyError:
            raise KeyError(f"{self.name}: no class named {name!r}") from None

    def captions(self, class_id: int) -> List[str]:
        return list(self[class_id].captions)

    def subset(self, ids: Iterable[int], name: Optional[str] = None) -> "LabelSet":
        """Classes with the given ids, in the given order (ids are kept, not renumbered)."""
        return LabelSet([self[i] for i in ids], name=name or self.name, description=self.description,
                        source=self.source)

    def single_person(self) -> "LabelSet":
        return LabelSet([e for e in self.entries if not e.two_person], name=f"{self.name}-single",
                        description=self.description, source=self.source)

    # ------------------------------------------------------------------ files
    def to_dict(self) -> Dict[str, Any]:
        return {"format": LABELSET_FORMAT, "version": 1, "name": self.name, "description": self.description,
                "classes": [{k: v for k, v in asdict(e).items() if not (k == "meta" and not v)}
                            for e in self.entries]}

    def save(self, path: Union[str, Path]) -> Path:
        """Write as JSON atomically (the format :func:`load_label_set` reads)."""
        return atomic_write_json(path, self.to_dict(), ensure_ascii=False)

    @classmethod
    def from_records(cls, records: Iterable[Any], name: str = "labels", source: str = "",
                     description: str = "", default_captions: bool = True) -> "LabelSet":
        entries = [_entry_from_raw(r, i, source or name, default_captions) for i, r in enumerate(records)]
        return cls(entries, name=name, description=description, source=source)

    @classmethod
    def from_file(cls, path: Union[str, Path], default_captions: bool = True) -> "LabelSet":
        """Read JSON, YAML (``.yaml``/``.yml``) or CSV (``id,name,captions[,code,two_person]``, captions
        separated by ``|``). JSON/YAML hold either a list of entries or ``{"name":..., "classes": [...]}``."""
        path = Path(path)
        src = str(path)
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        if suffix == ".csv":
            reader = csv.DictReader(io.StringIO(text))
            if reader.fieldnames is None or not {"id", "name"} <= {f.strip() for f in reader.fieldnames}:
                raise DataError(f"CSV header must contain id and name (got {reader.fieldnames})", source=src,
                                field="header")
            records = []
            for row in reader:
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items()}
                caps = [c.strip() for c in row.get("captions", "").split(CSV_CAPTION_SEP) if c.strip()]
                row["captions"] = caps
                records.append(row)
            return cls.from_records(records, name=path.stem, source=src, default_captions=default_captions)
        try:
            if suffix in (".yaml", ".yml"):
                import yaml
                data = yaml.safe_load(text)
            else:
                data = json.loads(text)
        except Exception as e:
            raise DataError(f"not valid {suffix.lstrip('.') or 'json'} ({type(e).__name__}: {e})", source=src,
                            field="file") from e
        if isinstance(data, dict):
            if "classes" not in data:
                raise DataError("expected a 'classes' list", source=src, field="classes")
            records, name, desc = data["classes"], data.get("name", path.stem), data.get("description", "")
        else:
            records, name, desc = data, path.stem, ""
        if not isinstance(records, list):
            raise DataError(f"expected a list of classes, got {type(records).__name__}", source=src, field="classes")
        return cls.from_records(records, name=name, source=src, description=desc,
                                default_captions=default_captions)


def available_label_sets() -> List[str]:
    return sorted(list(_BUILTIN) + ["ntu60"])


def load_label_set(name_or_path: Union[str, Path], default_captions: bool = True) -> LabelSet:
    """A shipped label set by name (``ntu120``, ``ntu60``, ``msr_action3d``, ``utd_mhad`` and aliases) or a user
    file."""
    p = Path(name_or_path)
    if p.suffix.lower() in (".json", ".yaml", ".yml", ".csv") or p.exists():
        if not p.is_file():
            raise FileNotFoundError(f"label file not found: {p}")
        return LabelSet.from_file(p, default_captions=default_captions)
    key = str(name_or_path).strip().lower()
    key = _ALIASES.get(key, key)
    if key == "ntu60":
        full = LabelSet.from_file(ASSET_DIR / _BUILTIN["ntu120"])
        return LabelSet(full.entries[:60], name="ntu60", description=full.description, source=full.source)
    if key not in _BUILTIN:
        raise KeyError(f"unknown label set {name_or_path!r}; shipped: {', '.join(available_label_sets())}, "
                       "or pass a .json/.yaml/.csv path")
    return LabelSet.from_file(ASSET_DIR / _BUILTIN[key])
