"""Process-level parallelism for large scans.

The main process walks the tree and hands batches of files to worker
processes; each worker scans its batch with its own Engine (inherited at
fork, so nothing is compiled twice or pickled) and returns findings,
suppressed findings, errors and stats. Output order does not depend on the
workers: every report is sorted at the end.

Small scans stay in one process: starting workers costs more than a
pre-commit-sized scan.
"""
from __future__ import annotations

import multiprocessing
import os
from typing import Iterable, Iterator

from .models import Report, Stats
from .sources.worktree import FileEntry

# Go parallel only past this much work, found while walking.
MIN_FILES = 400
MIN_BYTES = 16 * 1024 * 1024
BATCH_FILES = 64
BATCH_BYTES = 8 * 1024 * 1024

_ENGINE = None  # set in the parent before the pool forks


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _worker_init() -> None:
    # Ctrl-C reaches the whole process group: the parent handles it and
    # terminates the workers, which must not print tracebacks of their own.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _scan_batch(entries: Iterable[FileEntry]) -> Report:
    from .scan import scan_fragments
    from .sources import fragments_of

    report = Report()
    for entry in entries:
        scan_fragments(_ENGINE, fragments_of(entry, report.stats, report.errors), report)
    return report


def _batches(entries: Iterable[FileEntry]) -> Iterator[list[FileEntry]]:
    batch: list[FileEntry] = []
    size = 0
    for e in entries:
        batch.append(e)
        size += e.size
        if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def merge(into: Report, part: Report) -> None:
    into.findings.extend(part.findings)
    into.suppressed.extend(part.suppressed)
    into.errors.extend(part.errors)
    into.stats.merge(part.stats)


def scan_entries(engine, entries: Iterator[FileEntry], report: Report, jobs: int) -> None:
    """Scan every entry into ``report``, in ``jobs`` processes when the work
    is large enough to pay for them."""
    global _ENGINE
    _ENGINE = engine
    head: list[FileEntry] = []
    size = 0
    if jobs > 1 and "fork" in multiprocessing.get_all_start_methods():
        for e in entries:
            head.append(e)
            size += e.size
            if len(head) >= MIN_FILES or size >= MIN_BYTES:
                break
        else:
            merge(report, _scan_batch(head))
            return
    else:
        merge(report, _scan_batch(entries))
        return

    def all_entries() -> Iterator[FileEntry]:
        yield from head
        yield from entries

    warm = getattr(engine, "warm", None)
    if warm is not None:
        warm()  # build shared state once, before the workers fork
    ctx = multiprocessing.get_context("fork")
    pool = ctx.Pool(jobs, initializer=_worker_init)
    try:
        for part in pool.imap_unordered(_scan_batch, _batches(all_entries())):
            merge(report, part)
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()
