"""What ``git commit`` would record: the pre-commit scan (``keyscan staged``).

It reads the index, never the working tree: a key that was staged and then
deleted from the working copy is still caught, and a partially staged file is
scanned as staged. ``git diff --cached`` (against HEAD, or the empty tree
before the first commit) names the files the commit adds or changes and the
line ranges it adds; each such file's index blob is read through one
``cat-file --batch`` and scanned whole, so line numbers are the staged
file's and a key split across context is still matched; only findings that
start on an added line are reported. Deletions add nothing; symlinks and
submodules are not file content; binary blobs are skipped and counted. An
archive or compressed file is opened: its members have no added lines, so a
key counts when the version the archive replaces did not hold it.

Nothing here walks history, so the cost follows the size of the commit, not
of the repository.
"""
from __future__ import annotations

import os
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Callable, Sequence

from ..filters import Filter
from ..git import NULL_SHA, BlobList, ObjectReadError, StagedFile, display, open_repo, read_blobs, staged_files
from ..models import Report, ScanError
from .history import git_fragments
from .kinds import opens_in_git


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
    before = _keys_before(git, engine, [sf for sf in files if opens_in_git(display(sf.path))])
    blobs = BlobList.of([(sf.blob, sf.path) for sf in files])
    for blob, sf in zip(read_blobs(git, blobs), files):
        path = display(sf.path)
        if blob.error:
            report.errors.append(ScanError(path, "git", f"staged blob {sf.blob[:12]}: {blob.error}; it was not scanned"))
            continue
        if blob.stream is None or blob.size == 0:
            continue
        if opens_in_git(path):
            # Members have lines of their own, not the archive's: what the
            # commit adds is a key the version it replaces did not hold.
            old = before.get(sf.path, set())
            new = lambda f: (f.rule_id, f.secret) not in old  # noqa: E731
        else:
            added = AddedLines(sf.added)
            new = lambda f: f.line in added  # noqa: E731
        try:
            for fragment in git_fragments(blob.stream, path, "staged", stats, report.errors, meta={"blob": sf.blob}):
                found, suppressed, errors = scan_fragment(engine, fragment)
                report.findings.extend(f for f in found if new(f))
                report.suppressed.extend(s for s in suppressed if new(s.finding))
                report.errors.extend(errors)
        except ObjectReadError as exc:
            report.errors.append(ScanError(path, "git", f"staged blob {sf.blob[:12]} could not be read ({exc})"))
    return finish(report, options.filters)


def _keys_before(git, engine, archives: Sequence[StagedFile]) -> dict[bytes, set[tuple[str, str]]]:
    """The keys (rule id, secret) in the versions that staged archives
    replace (HEAD's, or a rename's source), by staged path. A version that
    cannot be read holds none: every key of the new one is reported."""
    from ..history import _scan_some

    wanted = [(sf.old, sf.path) for sf in archives if sf.old != NULL_SHA]
    return {path: hit.keys for (_, path), hit in _scan_some(git, engine, wanted, []).items()}
