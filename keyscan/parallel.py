"""Process-level parallelism for large scans.

The main process walks the tree and hands batches of files to worker
processes; each worker scans its batch with its own Engine (inherited at
fork, so nothing is compiled twice or pickled) and returns findings,
suppressed findings, errors and stats. Output order does not depend on the
workers: every report is sorted at the end, by a key that tells apart even
the same key reached by two roads (``Finding.sort_key``).

Small scans stay in one process: starting workers costs more than a
pre-commit-sized scan.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import os
from typing import Iterable, Iterator

from .errors import KeyscanError
from .models import Report, Stats
from .sources.worktree import FileEntry

# Go parallel only past this much work, found while walking.
MIN_FILES = 400
MIN_BYTES = 16 * 1024 * 1024
BATCH_FILES = 256  # 64: 0.4 s more CPU (pickling, pipes, wake-ups) on the 68,708 files of the large tree
# The files of the last TAIL_BATCHES batches are dealt largest first, alone
# or TAIL_FILES at a time, so that the workers finish together: a whole
# batch taken last (256 files of any size: the walk does not look at sizes)
# kept one worker busy for 0.2 s while the other had nothing left.
TAIL_BATCHES = 4
TAIL_FILES = 16
TAIL_BYTES = 256 * 1024

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
    # SIGTERM (sent to the whole group, as a CI runner may) ends a worker
    # with an exception: it exits cleanly, releasing the queue locks it
    # holds, and the parent, which has the signal too, reports it.
    signal.signal(signal.SIGTERM, exit_on_signal)


def exit_on_signal(signum: int, frame) -> None:
    raise SystemExit(128 + signum)


class WorkerDied(KeyscanError):
    pass


def collect(pool, results: Iterator) -> Iterator:
    """The results of ``pool.imap``/``imap_unordered`` as they come.

    Waits in short steps rather than blocking: a signal sent to the process
    can be delivered to one of the pool's threads, and a blocking wait would
    then never see it (Ctrl-C or SIGTERM ignored until the scan ends). And
    checks that no worker died: the task of a worker killed outright (by the
    kernel's out-of-memory killer, say) never returns, and the pool would
    wait for it forever.
    """
    workers = {p.pid for p in list(pool._pool)}
    while True:
        try:
            yield results.next(timeout=0.2)
        except StopIteration:
            return
        except multiprocessing.TimeoutError:
            now = list(pool._pool)
            if {p.pid for p in now} != workers or any(p.exitcode not in (None, 0) for p in now):
                raise WorkerDied("a worker process was killed (by the system, perhaps for lack of memory); the scan did not finish") from None


def warm(engine) -> None:
    """Build what the engine shares (the prefilter's stage 2, the anchors'
    heads) once, before workers fork: each would otherwise build its own."""
    ready = getattr(engine, "warm", None)
    if ready is not None:
        ready()


def shutdown(pool) -> None:
    """Stop ``pool`` at once, in a way that cannot hang: its workers are
    killed and its own clean-up is called off. ``Pool.terminate()`` (run
    also at exit) takes the locks of the pool's queues, and a worker killed
    while it held one (waiting for a task, sending a result) leaves it
    taken for ever: Ctrl-C then froze keyscan. The pool's threads are
    daemons and die with the process."""
    import multiprocessing.pool as mp_pool

    for thread in (pool._worker_handler, pool._task_handler, pool._result_handler):
        thread._state = mp_pool.TERMINATE  # start no replacement worker, hand out no task
    pool._state = mp_pool.TERMINATE
    pool._terminate.cancel()
    workers = list(pool._pool)
    for p in workers:
        if p.exitcode is None:
            p.kill()
    for p in workers:
        p.join(5)


class _Pool(multiprocessing.pool.Pool):
    """``Pool`` whose worker-handler thread does not wake up for results.

    The standard pool's thread that keeps the workers alive waits on the
    workers' sentinels, its change notifier and the pipe results come back
    on. While a result sits in that pipe, not yet taken by the result
    thread (which needs the GIL), the wait returns at once, again and
    again: on the large tree that thread spun for 0.57 s of the parent's
    1.8 s of CPU, competing for the GIL with the walk. A dead worker still
    wakes it (its sentinel), and so do a closed or emptied pool (the change
    notifier); workers here never exit after a number of tasks, the one
    other case results stood for."""

    def _get_sentinels(self):
        return [self._change_notifier._reader]


def _scan_batch(entries: Iterable[FileEntry]) -> Report:
    from .scan import scan_fragments
    from .sources import fragments_of

    report = Report()
    for entry in entries:
        scan_fragments(_ENGINE, fragments_of(entry, report.stats, report.errors), report)
    return report


def _batches(entries: Iterable[FileEntry]) -> Iterator[list[FileEntry]]:
    """``entries`` in batches of BATCH_FILES, and the files of the last
    TAIL_BATCHES batches largest first, in batches of at most TAIL_FILES
    files or TAIL_BYTES (a larger file goes alone). The pool's task thread
    takes batches as fast as the walk makes them, so holding a few back
    costs the workers nothing."""
    held: list[list[FileEntry]] = []
    batch: list[FileEntry] = []
    for e in entries:
        batch.append(e)
        if len(batch) >= BATCH_FILES:
            held.append(batch)
            batch = []
            if len(held) > TAIL_BATCHES:
                yield held.pop(0)
    tail = sorted(((_size(e), e) for b in [*held, batch] for e in b), key=lambda se: -se[0])
    part: list[FileEntry] = []
    size = 0
    for n, e in tail:
        part.append(e)
        size += n
        if len(part) >= TAIL_FILES or size >= TAIL_BYTES:
            yield part
            part, size = [], 0
    if part:
        yield part


def _size(entry: FileEntry) -> int:
    """``entry.size``, looked up if the walk did not."""
    if entry.size >= 0:
        return entry.size
    try:
        return os.lstat(entry.path).st_size
    except OSError:
        return 0


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
            size += _size(e)
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

    warm(engine)
    pool = _Pool(jobs, initializer=_worker_init, context=multiprocessing.get_context("fork"))
    try:
        for part in collect(pool, pool.imap_unordered(_scan_batch, _batches(all_entries()))):
            merge(report, part)
        pool.close()
        pool.join()
    except BaseException:
        shutdown(pool)
        raise
