"""Glue between the stages: sources -> engine -> findings -> filters -> Report.

Everything here is library code: the CLI builds the options, calls one of the
``scan_*`` functions and hands the Report to a reporter.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from .engine import Engine
from .filters import Filter, apply
from .findings import to_findings
from .models import Finding, Fragment, Report, ScanError, Stats, Suppressed
from .sources.worktree import WalkOptions, walk


@dataclass
class ScanOptions:
    gitignore: bool = True
    exclude: Callable[[str, bool], bool] | None = None  # Config.is_excluded
    filters: Sequence[Filter] = field(default_factory=tuple)
    jobs: int = 1  # worker processes for large scans


def scan_fragment(engine: Engine, fragment: Fragment) -> tuple[list[Finding], list[Suppressed], list[ScanError]]:
    """Findings in one fragment, plus placeholder matches as suppressed."""
    result = engine.scan(fragment)
    matches, placeholders, errors = result.matches, result.placeholders, result.errors
    if not matches and not placeholders:
        return [], [], errors  # most fragments: nothing to place
    limit = fragment.meta.get("report_limit")
    if limit is not None:
        char_limit = len(fragment.data[:limit].decode("utf-8", "replace"))
        matches = [m for m in matches if m.start < char_limit]
        placeholders = [(m, why) for m, why in placeholders if m.start < char_limit]
    findings = to_findings(fragment, matches)
    suppressed = []
    if placeholders:
        dropped = to_findings(fragment, [m for m, _ in placeholders])
        suppressed = [Suppressed(f, "placeholder", why) for f, (_, why) in zip(dropped, placeholders)]
    return findings, suppressed, errors


def scan_fragments(engine: Engine, fragments: Iterable[Fragment], report: Report) -> None:
    for fragment in fragments:
        findings, suppressed, errors = scan_fragment(engine, fragment)
        if findings:
            report.findings.extend(findings)
        if suppressed:
            report.suppressed.extend(suppressed)
        if errors:
            report.errors.extend(errors)


def finish(report: Report, filters: Sequence[Filter]) -> Report:
    """Apply the filters and sort: the last step of every scan."""
    kept, suppressed = apply(report.findings, filters)
    report.findings = kept
    report.suppressed.extend(suppressed)
    report.sort()
    return report


def scan_paths(paths: Sequence[str], engine: Engine, options: ScanOptions | None = None) -> Report:
    """Scan files and folders on disk."""
    from .parallel import scan_entries

    options = options or ScanOptions()
    report = Report(command="scan")
    walk_opts = WalkOptions(gitignore=options.gitignore, exclude=options.exclude, stats=report.stats)
    scan_entries(engine, walk(list(paths), walk_opts), report, options.jobs)
    return finish(report, options.filters)
