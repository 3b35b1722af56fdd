"""The package's shape: modules small enough to read in one sitting, functions short enough to hold in
mind, and imports that point one way.

Limits: 400 lines per module and 80 lines per function, outside tests and benchmarks. A module-level
relative import cycle inside ``kinemic_aug`` fails too: a package that imports its own submodules is
fine (the parent runs first), two modules that import each other are not.
"""
import ast
from pathlib import Path
from typing import Dict, List, Set

REPO = Path(__file__).resolve().parents[1]
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 80


def _sources() -> List[Path]:
    return sorted(list((REPO / "kinemic_aug").rglob("*.py")) + list((REPO / "tools").rglob("*.py")))


def test_no_module_is_over_the_line_limit():
    long = {str(p.relative_to(REPO)): n for p in _sources()
            if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_MODULE_LINES}
    assert not long, f"modules over {MAX_MODULE_LINES} lines: {long}"


def test_no_function_is_over_the_line_limit():
    long = {}
    for p in _sources():
        for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    long[f"{p.relative_to(REPO)}:{node.name}"] = n
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {long}"


def _module_name(p: Path) -> str:
    parts = list(p.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(p: Path, name: str) -> Set[str]:
    """Modules of ``kinemic_aug`` that ``p`` imports at module level (not inside functions)."""
    package = name if p.name == "__init__.py" else name.rpartition(".")[0]
    out: Set[str] = set()
    for node in ast.parse(p.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("kinemic_aug"):
                out.add(target)
                out.update(f"{target}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names if a.name.startswith("kinemic_aug"))
    return out


def test_no_module_level_import_cycle():
    mods = {_module_name(p): p for p in (REPO / "kinemic_aug").rglob("*.py")}
    graph: Dict[str, Set[str]] = {}
    for name, p in mods.items():
        # a package importing its own submodules is not a cycle: importing a submodule runs the parent first
        graph[name] = {t for t in _imports(p, name) if t in mods and t != name
                       and not (mods[name].name == "__init__.py" and t.startswith(name + "."))
                       and not (name.startswith(t + ".") and mods[t].name == "__init__.py")}
    assert "kinemic_aug.skeleton.layout" in graph["kinemic_aug.skeleton.retarget"]  # the scan sees imports
    cycles = []
    state: Dict[str, int] = {}
    stack: List[str] = []

    def visit(n: str) -> None:
        state[n] = 1
        stack.append(n)
        for m in sorted(graph[n]):
            if state.get(m) == 1:
                cycles.append(stack[stack.index(m):] + [m])
            elif m not in state:
                visit(m)
        stack.pop()
        state[n] = 2

    for n in sorted(graph):
        if n not in state:
            visit(n)
    assert not cycles, f"import cycles: {cycles[:5]}"
