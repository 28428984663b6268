"""What ``git commit`` would record: the pre-commit scan (``keyscan staged``).

It reads the index, never the working tree: a key that was staged and then
deleted from the working copy is still caught, and a partially staged file is
scanned as staged. ``git diff --cached`` (against HEAD, or the empty tree
before the first commit) names the files the commit adds or changes and the
line ranges it adds; each such file's index blob is read through one
``cat-file --batch`` and scanned whole, so line numbers are the staged
file's and a key split across context is still matched; only findings that
start on an added line are reported. Deletions add nothing; symlinks and
submodules are not file content; binary blobs are skipped and counted.

Nothing here walks history, so the cost follows the size of the commit, not
of the repository.
"""
from __future__ import annotations

import os
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..filters import Filter
from ..git import BlobList, ObjectReadError, display, open_repo, read_blobs, staged_files
from ..models import Report, ScanError
from .history import blob_fragments


@dataclass
class StagedOptions:
    exclude: Callable[[str, bool], bool] | None = None  # Config.is_excluded
    filters: Sequence[Filter] = field(default_factory=tuple)


class AddedLines:
    """Membership test for the 1-based line numbers a diff adds."""

    def __init__(self, spans: Sequence[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self._starts = [s for s, _ in spans]
        self._ends = [s + n - 1 for s, n in spans]

    def __contains__(self, line: int) -> bool:
        i = bisect_right(self._starts, line) - 1
        return i >= 0 and line <= self._ends[i]


def scan_staged(repo: str | None, engine, options: StagedOptions | None = None) -> Report:
    """Scan the staged changes of the repository at ``repo`` (the current
    folder's, honouring the caller's ``GIT_INDEX_FILE``, when None)."""
    from ..scan import finish, scan_fragment

    options = options or StagedOptions()
    info = open_repo(repo, need_worktree=True)
    git = info.git
    report = Report(command="staged")
    stats = report.stats
    files = staged_files(git)
    if options.exclude is not None and info.toplevel:
        kept = []
        for sf in files:
            if options.exclude(os.path.join(info.toplevel, os.fsdecode(sf.path)), False):
                stats.skip(display(sf.path), "excluded by config")
            else:
                kept.append(sf)
        files = kept
    stats.extra["staged_files"] = len(files)
    if not files:
        return finish(report, options.filters)
    blobs = BlobList.of([(sf.blob, sf.path) for sf in files])
    for blob, sf in zip(read_blobs(git, blobs), files):
        path = display(sf.path)
        if blob.error:
            report.errors.append(ScanError(path, "git", f"staged blob {sf.blob[:12]}: {blob.error}; it was not scanned"))
            continue
        if blob.stream is None or blob.size == 0:
            continue
        added = AddedLines(sf.added)
        try:
            for fragment in blob_fragments(blob.stream, path, "staged", stats, meta={"blob": sf.blob}):
                found, suppressed, errors = scan_fragment(engine, fragment)
                report.findings.extend(f for f in found if f.line in added)
                report.suppressed.extend(s for s in suppressed if s.finding.line in added)
                report.errors.extend(errors)
        except ObjectReadError as exc:
            report.errors.append(ScanError(path, "git", f"staged blob {sf.blob[:12]} could not be read ({exc})"))
    return finish(report, options.filters)

