"""What happened per class (seconds, cache hits, filter counts), as records and as a markdown table."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Dict, List, Sequence

from ..synthesis import FilterReport

log = logging.getLogger("kinemic_aug.augmenter")

#: what each column of :func:`report_table` means (markdown, for reports written beside the table)
REPORT_LEGEND = (
    "Columns: *shots* real samples of the class; *adapt s* seconds to train (or load) the class's adapter, "
    "*cached* whether it came from the cache; *synth s* seconds to sample and filter its synthetic set; "
    "*asked* synthetic samples requested; *kept* those that passed the filter and are in the output; *drawn* "
    "samples the generator drew to get them (at most `draw_limit` x asked); *dropped static/exploding* "
    "drawn samples the filter dropped as near-motionless or as blown up / stretching; *top-1 sim* cosine "
    "similarity between the class's captions and the best-matching caption of the generalist corpus (text "
    "embedding; low means the corpus has little like the class, blank when no pairing was done).")


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

    def record_filter(self, report: FilterReport, requested: int) -> None:
        """Fill in the filter's counts; a short class is logged as a warning, with the reason."""
        self.generated, self.requested, self.drawn, self.max_draws = report.kept, requested, report.drawn, report.max_draws
        self.dropped_static, self.dropped_exploding = report.static, report.exploding
        if self.shortfall:
            self.shortfall_reason = report.reason if report.max_draws else (
                f"{report.static} static and {report.exploding} exploding dropped by the filter (a cached set "
                "from an earlier version, drawn without the draw bound)")
            log.warning("class %d (%s) is short: %d of %d synthetic samples kept; %s", self.class_id, self.name,
                        self.generated, requested, self.shortfall_reason)


def report_table(reports: Dict[int, ClassReport], classes: Sequence[int]) -> str:
    rows = ["| class | shots | adapt s | cached | synth s | asked | kept | drawn | dropped static/exploding | "
            "top-1 sim |", "|---|---|---|---|---|---|---|---|---|---|"]
    for c in classes:
        r = reports.get(c)
        if r is None:
            continue
        sim = "" if r.top1_similarity != r.top1_similarity else f"{r.top1_similarity:.2f}"
        rows.append(f"| {c} {r.name} | {r.shots} | {r.adapt_seconds:.1f} | {'yes' if r.adapt_cached else 'no'} | "
                    f"{r.synth_seconds:.1f} | {r.requested} | {r.generated}{' (short)' if r.shortfall else ''} | "
                    f"{r.drawn} | {r.dropped_static}/{r.dropped_exploding} | {sim} |")
    return "\n".join(rows)


def shortfalls(reports: Dict[int, ClassReport]) -> List[str]:
    """One sentence per class that got fewer synthetic samples than asked, saying why (empty: none)."""
    return [f"class {c} ({r.name}): {r.generated} of {r.requested} kept; {r.shortfall_reason}"
            for c, r in sorted(reports.items()) if r.shortfall]
