"""The documentation holds: links resolve, no document is cited that the repository lacks, no numbered rounds of
work, the API reference builds without warnings, and (slow) the README quickstart runs as written."""
from __future__ import annotations

import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().relative_to(REPO).as_posix()
SKIP_DIRS = {".git", ".venv", "work_dirs", "build", "dist", "demo_out", "__pycache__", ".hypothesis", ".pytest_cache"}

#: documents that earlier docstrings cited and that are not (and never were) in the repository
DANGLING_NAMES = ("formats.md", "kinemic-method.md", "environment.md", "evaluation-and-peers.md", "method notes")
#: numbered rounds of work ("session 4", "round 2", "probe round"); the project speaks of dates instead
ROUNDS = re.compile(r"\b(?:session|round)s?[ -]?\d+\b|\bprobe[ -]rounds?\b|\bprobes P\d+-P\d+\b", re.I)


@lru_cache(maxsize=None)
def tracked_files() -> Tuple[str, ...]:
    """The repository's tracked files (``git ls-files``), or every file outside build/cache folders without git."""
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
        files = [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = [p.relative_to(REPO).as_posix() for p in REPO.rglob("*")
                 if p.is_file() and not SKIP_DIRS & set(p.relative_to(REPO).parts)]
    return tuple(sorted(set(files) | {HERE}))


def text_files() -> Iterator[Tuple[str, str]]:
    """``(path, text)`` of every tracked UTF-8 text file that exists in the working tree."""
    for f in tracked_files():
        p = REPO / f
        if not p.is_file():
            continue
        data = p.read_bytes()
        if b"\0" in data[:8192]:
            continue
        try:
            yield f, data.decode("utf-8")
        except UnicodeDecodeError:
            continue


def markdown_files() -> List[Path]:
    return [REPO / "README.md"] + sorted((REPO / "docs").glob("*.md"))


# ------------------------------------------------------------------ (a) links and cited documents resolve
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")


def slug(heading: str) -> str:
    """GitHub's anchor of a markdown heading."""
    h = re.sub(r"[`*_]", "", heading.strip().lower())
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(md: Path) -> set:
    return {slug(m.group(1)) for m in re.finditer(r"^#{1,6}\s+(.*?)\s*#*\s*$", md.read_text(encoding="utf-8"), re.M)}


def relative_links(md: Path) -> Iterator[Tuple[int, str]]:
    text = re.sub(r"```.*?```", lambda m: "\n" * m.group(0).count("\n"), md.read_text(encoding="utf-8"), flags=re.S)
    for i, line in enumerate(text.splitlines(), 1):
        for m in LINK.finditer(line):
            target = m.group(1)
            if not re.match(r"^[a-z][a-z0-9+.-]*:", target):  # http:, https:, mailto:
                yield i, target


@pytest.mark.parametrize("md", markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_relative_link_resolves(md):
    bad = []
    for line, target in relative_links(md):
        path, _, anchor = target.partition("#")
        dest = (md.parent / path).resolve() if path else md
        if not dest.exists():
            bad.append(f"{md.name}:{line}: {target} (no such file)")
        elif anchor and dest.suffix == ".md" and anchor not in anchors(dest):
            bad.append(f"{md.name}:{line}: {target} (no heading #{anchor})")
    assert not bad, "\n".join(bad)


def test_every_docs_path_cited_in_code_and_docs_exists():
    """``docs/<name>.md`` and ``benchmarks/results/<name>.md`` cited anywhere (docstrings, comments, configs, docs)."""
    cited = re.compile(r"(?<![\w/.-])((?:docs|benchmarks/results)/[\w.-]+\.md)\b")
    bad = [f"{f}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(1)}"
           for f, text in text_files() if f != HERE for m in cited.finditer(text) if not (REPO / m.group(1)).exists()]
    assert not bad, "documents cited but missing:\n" + "\n".join(bad)


def test_no_document_outside_the_repository_is_cited():
    bad = []
    for f, text in text_files():
        if f == HERE:
            continue
        for name in DANGLING_NAMES:
            if name.lower() in text.lower():
                line = text.lower()[:text.lower().index(name.lower())].count("\n") + 1
                bad.append(f"{f}:{line}: {name}")
    assert not bad, "references to documents that are not in the repository:\n" + "\n".join(bad)
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "shared/reference" not in readme


# ------------------------------------------------------------------ (c) no numbered rounds of work
def test_no_numbered_rounds_of_work_anywhere():
    bad = [f"{f}:{text.count(chr(10), 0, m.start()) + 1}: {m.group(0)!r}"
           for f, text in text_files() if f != HERE for m in ROUNDS.finditer(text)]
    assert not bad, "numbered rounds of work (write dates instead):\n" + "\n".join(bad)


def test_the_rounds_pattern_catches_what_it_should():
    for s in ("Session 5 probes", "sessions 4-5", "the session-5 row", "round 2 of", "probe round", "(probes P1-P4)"):
        assert ROUNDS.search(s), s
    for s in ("the round trip", "round(n * f)", "rounded to 2 digits", "session-scoped fixtures"):
        assert not ROUNDS.search(s), s


# ------------------------------------------------------------------ README shape
def test_readme_is_short_and_has_its_sections():
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 160
    for heading in ("## Set up", "## Quickstart (no research data)", "## Your own data", "## Results",
                    "## What ships, and under which terms", "## Documentation"):
        assert heading in text
    assert "make test" in text and "make test" in (REPO / ".ci" / "run").read_text()  # CI runs the README's command
    results = text[text.index("<!-- results:start"):text.index("<!-- results:end -->")]
    assert "benchmarks/results/" in results and "python -m benchmarks." in results


def test_readme_numbers_in_results_come_from_the_linked_files():
    """Every table cell of the README's Results section appears verbatim in one of the results files it links."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    results = text[text.index("<!-- results:start"):text.index("<!-- results:end -->")]
    linked = {m.group(1) for m in re.finditer(r"\((benchmarks/results/[\w.-]+\.md)\)", results)}
    corpus = " ".join((REPO / f).read_text(encoding="utf-8") for f in linked)
    corpus = corpus.replace("-", "−")  # the README writes minus signs
    missing = []
    for row in re.findall(r"^\|(?!---)(.*)\|$", results, re.M):
        for cell in row.split("|")[1:]:
            value = cell.strip().strip("*").replace("-", "−")
            if re.fullmatch(r"[+−]?\d+\.\d( ± \d+\.\d)?", value) and value.lstrip("+") not in corpus:
                missing.append(value)
    assert not missing, f"README result cells not found in {sorted(linked)}: {missing}"


# ------------------------------------------------------------------ (d) the quickstart
def test_the_quickstart_uses_shipped_files_only():
    from benchmarks.quickstart import quickstart_code

    code = quickstart_code()
    compile(code, "README quickstart", "exec")
    assert "shared/" not in code and "KINEMIC_MSR_PKL" not in code
    for cfg in re.findall(r"configs/[\w/.-]+\.py", code):
        assert (REPO / cfg).is_file(), cfg
    from mmengine.config import Config

    cfg = Config.fromfile(str(REPO / "configs/quickstart/stgcn_toy_seed_clips.py"))
    assert cfg.train_dataloader.dataset.type == "KineMICAugmentedDataset"
    assert "shared/" not in cfg.train_dataloader.dataset.dataset.ann_file


@pytest.mark.slow
def test_the_readme_quickstart_runs_as_written_in_a_fresh_folder(tmp_path):
    """The block, verbatim, in an empty folder: shipped files only, under 5 minutes on a 2-core CPU."""
    from benchmarks.quickstart import run_quickstart

    res = run_quickstart(tmp_path, timeout=600)
    assert res["returncode"] == 0, res["stderr"][-4000:]
    out = res["stdout"]
    assert "| class | shots |" in out
    assert "12 synthetic samples; ST-GCN trained on 6 real + 12 synthetic, checkpoint in work_dirs/quickstart/train" in out
    work = tmp_path / "work_dirs" / "quickstart"
    assert (work / "toy_seed_aug.pkl").is_file() and (work / "train" / "kinemic_report.json").is_file()
    from kinemic_aug.data import load_pyskl

    aug = load_pyskl(work / "toy_seed_aug.pkl")
    flags = [a["is_synthetic"] for a in aug["annotations"]]
    assert flags.count(False) == 6 and flags.count(True) == 12 and set(aug["split"]) == {"train", "train_kinemic"}
    assert res["seconds"] < 300, f"the quickstart took {res['seconds']} s"


# ------------------------------------------------------------------ the API reference
@pytest.mark.slow  # about 15 s; CI runs the same build as `make docs` (.ci/run)
def test_the_api_reference_builds_without_warnings(tmp_path):
    pytest.importorskip("pdoc")
    proc = subprocess.run([sys.executable, str(REPO / "tools" / "build_api_docs.py"), "--out", str(tmp_path / "api")],
                          cwd=REPO, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / "api" / "index.html").is_file()
    assert (tmp_path / "api" / "kinemic_aug" / "augmenter" / "facade.html").is_file()
