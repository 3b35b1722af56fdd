#!/usr/bin/env python
"""Build the API reference of ``kinemic_aug`` and ``har`` from their docstrings with pdoc (``make docs``).

    python tools/build_api_docs.py                # HTML into build/api (git-ignored); open build/api/index.html
    python tools/build_api_docs.py --out DIR

Docstrings are read as Google style with reST roles (``:class:`...```), which pdoc's ``google`` format
understands. The build fails (exit 1) on any warning that pdoc raises or that importing a documented module
raises from this repository's own code (an ``__all__`` name that does not resolve, a module that does not
import, a docstring pdoc cannot read), so CI keeps the reference free of them. Names a package resolves lazily
(a module-level ``__getattr__``, PEP 562) are resolved once before pdoc reads the package, so they are
documented where the package exports them.
"""
from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings
from pathlib import Path
from typing import List, Optional, Sequence

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("kinemic_aug", "har")
DEFAULT_OUT = REPO / "build" / "api"


def modules(package: str) -> List[str]:
    """``package`` and every module below it, parents first."""
    root = importlib.import_module(package)
    return [package] + sorted(m.name for m in pkgutil.walk_packages(root.__path__, prefix=package + "."))


def module_specs(packages: Sequence[str]) -> List[str]:
    """What to hand pdoc so that every module gets a page: the packages, plus each module pdoc's own walk leaves
    out (it skips the submodules of a package whose ``__all__`` lists names only, e.g. ``kinemic_aug.augmenter``).
    The specs' walks are disjoint, so pdoc sees no module twice."""
    from pdoc.extract import walk_specs

    specs = list(packages)
    walked = set(walk_specs(specs))
    for name in (n for p in packages for n in modules(p)):
        if name not in walked:
            specs.append(name)
            walked |= set(walk_specs([name]))
    return specs


def _resolve_lazy_exports(names: Sequence[str]) -> None:
    """Give every ``__all__`` name that a module only resolves through ``__getattr__`` a real binding."""
    for name in names:
        mod = importlib.import_module(name)
        if not hasattr(mod, "__getattr__"):
            continue
        for attr in getattr(mod, "__all__", ()):
            if attr not in vars(mod):
                setattr(mod, attr, getattr(mod, attr))


def _ours(w: warnings.WarningMessage) -> bool:
    """A warning pdoc raised, or one raised from this repository's code (not a third-party deprecation)."""
    path = str(Path(w.filename).resolve()) if w.filename else ""
    parts = Path(path).parts
    if "site-packages" in parts or "dist-packages" in parts:  # an installed package, e.g. a venv inside the repo
        return "pdoc" in parts
    return path.startswith(str(REPO) + os.sep)


def build(out: Path, packages: Sequence[str] = PACKAGES) -> List[str]:
    """Write the HTML reference of ``packages`` into ``out``; returns the warnings (empty when clean)."""
    try:
        import pdoc
        import pdoc.render
    except ImportError:
        raise SystemExit("pdoc is not installed: `pip install 'pdoc>=16'` (Python 3.10+), or `make venv`") from None

    sys.path.insert(0, str(REPO))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = [n for p in packages for n in modules(p)]
        _resolve_lazy_exports(names)
        pdoc.render.configure(docformat="google", show_source=True, search=True,
                              footer_text="kinemic-aug API reference, generated from the docstrings")
        pdoc.pdoc(*module_specs(packages), output_directory=Path(out))
    return [f"{w.filename}:{w.lineno}: {w.category.__name__}: {w.message}" for w in caught if _ours(w)]


def main(argv: Optional[Sequence[str]] = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    args = p.parse_args(argv)
    problems = build(args.out)
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    if problems:
        print(f"API reference: {len(problems)} warning(s); fix them (the build must be clean)", file=sys.stderr)
        return 1
    print(f"API reference written to {args.out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
