"""The demo's command line. Argument types check their values where they are typed, so a typo fails
at once with argparse's exit code 2 rather than after minutes of adaptation."""
from __future__ import annotations

import argparse
import os
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, List, Optional, Sequence, Tuple

from kinemic_aug.errors import DataError

from .settings import DEFAULT_CONFIG, MSR_DEMO_CLASSES, MSR_LAYOUT, REPO, default_msr_path

if TYPE_CHECKING:
    from kinemic_aug.synthesis import SynthesisConfig


def _class_list(text: str) -> List[int]:
    """``--classes``: comma-separated non-negative ids (which ids exist is checked against the data later)."""
    try:
        ids = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"--classes takes comma-separated integer ids, got {text!r}") from None
    if not ids or min(ids) < 0:
        raise argparse.ArgumentTypeError(f"--classes takes non-negative class ids, got {text!r}")
    return ids


def _int_at_least(minimum: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``minimum``, with the offending text in the error."""
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {text!r}") from None
        if v < minimum:
            raise argparse.ArgumentTypeError(f"expected an integer >= {minimum}, got {v}")
        return v
    return parse


_positive = _int_at_least(1)
_non_negative = _int_at_least(0)


def _synthesis_option(text: str) -> Tuple[str, Any]:
    """``KEY=VALUE`` for a :class:`~kinemic_aug.synthesis.SynthesisConfig` field, the value parsed as
    the field's default type (so a typo or a wrong type fails at the command line, not mid-run)."""
    from kinemic_aug.synthesis import SynthesisConfig

    key, sep, value = text.partition("=")
    declared = {f.name: f for f in fields(SynthesisConfig)}
    defaults = {name: getattr(SynthesisConfig(), name) for name in declared}
    if not sep or key not in defaults:
        raise argparse.ArgumentTypeError(f"--synthesis takes KEY=VALUE with KEY one of {sorted(defaults)}, got {text!r}")
    kind = type(defaults[key])
    if defaults[key] is None:  # an optional field (``Optional[float]``, off by default): "none" keeps it off
        if value.lower() == "none":
            return key, None
        kind = float if "float" in str(declared[key].type) else int
    try:
        if kind is tuple:
            return key, tuple(v.strip() for v in value.split(",") if v.strip())
        if kind is bool:
            return key, {"true": True, "1": True, "false": False, "0": False}[value.lower()]
        return key, kind(value)
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"--synthesis {key}: expected {kind.__name__}, got {value!r}") from None


def synthesis_config(args: argparse.Namespace) -> Optional["SynthesisConfig"]:
    """``None`` (the augmenter's default) unless ``--sample-steps`` or ``--synthesis`` change a field."""
    from kinemic_aug.synthesis import SynthesisConfig

    over = dict(args.synthesis or [])
    if args.sample_steps:
        over["steps"] = args.sample_steps
    if not over:
        return None
    try:
        return SynthesisConfig(**over)
    except (TypeError, ValueError) as e:
        raise DataError(f"bad synthesis option: {e}", field="synthesis") from None


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """The demo's arguments, with ``--dataset`` and the MSR defaults filled in where the command line left them open."""
    p = argparse.ArgumentParser(description="kinemic-aug demo: few real shots -> KineMIC synthetic samples -> "
                                "ST-GCN real-only vs augmented (see the module docstring)")
    p.add_argument("--dataset", default=None, help="a dataset spec (kinemic_aug.data.datasets: msr_action3d, utd_mhad, "
                   "or a spec .json) whose pickle, splits, layout, labels and config are the defaults below")
    p.add_argument("--ann", "--msr", dest="ann", type=Path, default=None,
                   help="target PYSKL pickle (default: $KINEMIC_MSR_PKL or "
                   "../shared/data/msr_action3d/msr_action3d_skeleton.pkl)")
    p.add_argument("--split", default=None, help="split the shots are drawn from (default xsub_train)")
    p.add_argument("--test-split", default=None, help="held-out evaluation split (default xsub_test)")
    p.add_argument("--layout", default=None, help="skeleton layout of the data: a name or a layout .json "
                   "(default msr_action3d)")
    p.add_argument("--labels", default=None, help="label set name or file (default: msr_action3d for MSR, "
                   "else the pickle's meta classes)")
    p.add_argument("--shots", type=_positive, default=3, help="real shots per class (default 3)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--classes", type=_class_list, default=None,
                   help=f"comma-separated class ids (default for MSR: {','.join(map(str, MSR_DEMO_CLASSES))})")
    g.add_argument("--all-classes", action="store_true", help="use every class (slower: one adapter per class)")
    p.add_argument("--seed", type=int, default=0, help="seeds the shot draw, adapters, synthesis and training")
    p.add_argument("--adapt-steps", type=_non_negative, default=60,
                   help="adaptation steps per class (default 60; 0 = zero-shot prompting)")
    p.add_argument("--synthetic-per-class", type=_non_negative, default=12, help="synthetic samples per class (default 12)")
    p.add_argument("--sample-steps", type=_positive, default=None, help="DDIM steps (default: SynthesisConfig's)")
    p.add_argument("--synthesis", type=_synthesis_option, action="append", default=None, metavar="KEY=VALUE",
                   help="override a SynthesisConfig field, e.g. guidance=3.0 or shot_strength=0.6 (repeatable)")
    p.add_argument("--train-steps", type=_positive, default=600,
                   help="classifier SGD steps of batch 16, both arms (default 600, as benchmarks.har_few_shot)")
    p.add_argument("--config", type=Path, default=None, help="classifier config whose model, pipelines "
                   "and optimizer both arms use (default configs/stgcn/stgcn_msr_xsub_full.py)")
    p.add_argument("--generator", type=Path, default=None, help="generalist checkpoint, or the name of a shipped one (default: small)")
    p.add_argument("--corpus", default=None, help="the generator's corpus spec (default: read from the checkpoint)")
    p.add_argument("--encoder", default="minilm", help="text encoder of the zero-shot preview (default minilm)")
    p.add_argument("--cache-dir", type=Path, default=REPO / "work_dirs" / "demo_cache")
    p.add_argument("--work-dir", type=Path, default=REPO / "work_dirs" / "demo", help="classifier run folders")
    p.add_argument("--out", type=Path, default=REPO / "demo_out", help="output folder (default demo_out/)")
    p.add_argument("--device", default="auto", help="auto | cpu | cuda (augmenter)")
    p.add_argument("--threads", type=_positive, default=int(os.environ.get("KINEMIC_THREADS", "1")),
                   help="torch CPU threads (default 1, or $KINEMIC_THREADS)")
    p.add_argument("--data-only", action="store_true", help="only the fast data-layer drawings")
    p.add_argument("--verbose", action="store_true", help="MMEngine's INFO log on the console")
    args = p.parse_args(argv)
    if args.dataset is not None:  # the spec fills what the command line left open
        from kinemic_aug.data.datasets import get_dataset_spec

        spec = get_dataset_spec(args.dataset)
        args.ann = args.ann or spec.pickle_path()
        args.split, args.test_split = args.split or spec.train_split, args.test_split or spec.test_split
        args.layout, args.labels = args.layout or spec.layout or None, args.labels or spec.labels or None
        args.config = args.config or REPO / "configs" / "stgcn" / f"{spec.config_stem}_full.py"
    if args.ann is None:
        args.ann = default_msr_path()
    args.split, args.test_split = args.split or "xsub_train", args.test_split or "xsub_test"
    args.layout, args.config = args.layout or MSR_LAYOUT, args.config or DEFAULT_CONFIG
    return args
