"""History audits: ``keyscan history``.

How it works, and why (measured on git's own repository, see
``benchmarks/history.py``):

1. **Unique blobs, not diffs.** ``git rev-list --objects`` lists every blob
   reachable from the refs (all refs, ``--branch`` refs, or ``REV..HEAD``
   with ``--since``), each once, with a path; a long-lived ``git cat-file
   --batch`` streams their content, read in bounded windows (in worker
   processes for a large history, ``--jobs``). A key that sits in 500
   commits is in one blob (or a few), so it is scanned once.

   Measured against streaming ``git log -p -U0`` and scanning the added
   lines (``benchmarks/history.py``, git's repository, master, 81,966
   commits, 2 shared cores): git alone needs 47 s of CPU to compute those
   diffs, against about 20 s to stream all 161,216 blobs (5.5 GB); with
   today's engine (about 60-85 MB/s per core) scanning 5.5 GB of blobs
   costs more than scanning 385 MB of added lines, so end to end it was
   96.8 s (blobs, one process) against 82.8 s (log -p), and 81.0 s with two
   workers; on v2.0.0 (36,430 commits) 29.4 s against 31.1 s. Unique blobs
   stay: git's floor is less than half, so the approach gets faster as the
   engine does (its prefilter is far below read cost), and it did: with
   faster decoders and one cat-file per worker for all its batches, all of
   git's refs (85,361 commits, 165,291 blobs) take about 35 s with two
   workers (``benchmarks/README.md``); it splits across
   processes by blob batches; it sees whole files (a key's real line,
   multi-line keys, decoders with full context) and merge resolutions; and
   ``git log -p`` stops dead at the first missing object (it did on the
   mirror measured, after 0.6 s), where this reports the object and goes on.
2. **Provenance only for blobs with findings.** One ``git log
   --find-object=<blob>...`` (blob ids on the command line, never a secret)
   lists the commits that add or remove those blobs, oldest first, with
   merges diffed against their first parent (a blob made by a merge
   resolution is found too). From it, for each key and path: the commit that
   introduced it, the one that removed it (when it is gone from HEAD), and
   which refs hold it (``for-each-ref --contains``); a remote-tracking ref
   among them means it was pushed.
3. **One finding per (rule, secret, path)**, located in the blob of the
   commit that introduced it (``git show <commit>:<path>`` shows the line),
   with that commit's sha, author, date and subject; the rotation notes say
   what the lifecycle means (still at HEAD, removed but pushed, local only).

``--since REV`` scans only blobs that ``REV..HEAD`` brought in and drops a key
that was already in the files those commits changed (the versions before the
range): a key already present before REV is not reported even if its file
changed, renamed or moved.

A blob git cannot read (missing or corrupt object) is listed in the report's
``errors``; the scan goes on without it.

With KEYSCAN_HISTORY_INCREMENTAL=1 the first pass scans each version of a
path only around what changed since the version before it (see "The
incremental first pass" below): the same report, fewer bytes scanned, about
the same CPU on git's repository, so it is off by default.
"""
from __future__ import annotations

import itertools
import os
import time
import zlib
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, NamedTuple, Sequence

from .errors import KeyscanError
from .filters import Filter
from .findings import PUBLIC_EXPOSURES
from .git import (
    NULL_SHA,
    BlobList,
    CatFile,
    CommitChanges,
    Git,
    ObjectReadError,
    clean,
    display,
    head_commit,
    list_blobs,
    list_objects,
    log_changes,
    open_repo,
    parse_listing,
    read_blobs,
    refs,
    refs_containing,
    resolve_commit,
    tagged_blobs,
    tree_blobs,
)
from .decode.text import looks_binary, to_utf8
from .models import CommitInfo, Finding, Fragment, Report, ScanError, Stats, Suppressed
from .scan import finish, scan_fragment
from .sources.history import Progress, Ticker, history_fragments
from .sources.worktree import WINDOW

Key = tuple[str, str]  # (rule id, secret)
FIND_OBJECT_BATCH = 20_000  # blob ids per git log (about 1 MB of arguments)
MAX_REFS = 50  # refs listed per finding; ``refs_more`` counts the rest


@dataclass
class HistoryOptions:
    branches: Sequence[str] = ()
    since: str | None = None
    exclude: Callable[[str, bool], bool] | None = None  # Config.is_excluded
    filters: Sequence[Filter] = field(default_factory=tuple)
    progress: Callable[[Progress], None] | None = None
    jobs: int = 1  # worker processes for the first pass of a large history


@dataclass
class _Hit:
    """What the first pass found in one blob."""

    path: bytes
    keys: set[Key]
    findings: list[Finding]
    suppressed: list[Suppressed]
    order: int = 0  # position of the blob in the listing (a parallel pass restores that order)


class _Event(NamedTuple):
    order: int
    commit: CommitChanges
    blob: str  # the blob that holds the key (new side for adds, old side for removals)
    added: bool


def scan_history(repo: str | None, engine, options: HistoryOptions | None = None) -> Report:
    """Scan the history of the repository at ``repo`` (the current folder's
    repository, with the caller's git context, when None)."""
    options = options or HistoryOptions()
    info = open_repo(repo)
    git = info.git
    report = Report(command="history")
    stats = report.stats
    where = clean(repo or ".")
    warnings: list[str] = []
    stats.extra["warnings"] = warnings
    stats.extra["shallow"] = info.shallow
    if info.shallow:
        warnings.append(f"{where} is a shallow clone: only the commits it has were scanned, and a key older than its oldest commit is reported as introduced there")
    head = head_commit(git)
    revs = _revisions(git, options, head)
    if revs is None:
        warnings.append(f"{where} has no commits yet: nothing to scan")
        return finish(report, options.filters)
    root = info.toplevel or info.git_dir
    keep = None
    if options.exclude is not None:
        exclude = options.exclude

        def keep(path: bytes) -> bool:
            return not exclude(os.path.join(root, os.fsdecode(path)), False)

    ticker = Ticker(options.progress)
    extra = tagged_blobs(git) if revs == ["--all"] else []
    if options.jobs > 1 and not options.since and _object_count(git) >= PARALLEL_MIN_OBJECTS:
        hits = _first_pass_parallel(git, engine, revs, keep, extra, report, ticker, options.jobs)
    else:
        blobs = list_blobs(git, revs, keep, extra)
        hits = _first_pass(git, engine, blobs, report, ticker)
        if options.since and hits:
            _drop_keys_before(git, engine, revs, blobs, hits, report)
    if hits:
        ticker.tick(stats.extra.get("blobs", 0), stats.bytes_scanned, "provenance", force=True)
        _provenance(git, engine, revs, head, hits, report, bare=info.toplevel is None, jobs=options.jobs)
    return finish(report, options.filters)


def _revisions(git: Git, options: HistoryOptions, head: str | None) -> list[str] | None:
    branches = [resolve_commit(git, b, "--branch") for b in options.branches]
    if options.since:
        base = resolve_commit(git, options.since, "--since")
        tips = branches or ([head] if head else [])
        if not tips:
            raise KeyscanError("--since: HEAD has no commits yet (nothing to compare)")
        return [*tips, "^" + base]
    if branches:
        return branches
    if head is None and not refs(git):
        return None
    return ["--all"]


def _blob_keys(engine, blob, path: str, stats: Stats, errors: list[ScanError]) -> _Hit | None:
    hit = _Hit(blob.path, set(), [], [])
    try:
        for fragment in history_fragments(blob, path, stats):
            found, suppressed, errs = scan_fragment(engine, fragment)
            hit.findings.extend(found)
            hit.suppressed.extend(suppressed)
            errors.extend(errs)
    except ObjectReadError as exc:
        errors.append(ScanError(path, "git", f"blob {blob.sha[:12]} could not be read ({exc}); it was not scanned"))
    return _finish_hit(hit)


def _finish_hit(hit: _Hit) -> _Hit | None:
    """Sorted by position (the first occurrence of a key in a blob is its
    first by line, however the blob was scanned), with its key set; None
    without keys."""
    hit.findings.sort(key=Finding.sort_key)
    hit.suppressed.sort(key=lambda s: (s.finding.sort_key(), s.reason))
    hit.keys = {(f.rule_id, f.secret) for f in hit.findings} | {(s.finding.rule_id, s.finding.secret) for s in hit.suppressed}
    return hit if hit.keys else None


def _read_error(blob) -> ScanError:
    where = display(blob.path) if blob.path else (blob.sha or "history")
    what = f"blob {blob.sha[:12]}: " if blob.sha else ""
    return ScanError(where, "git", f"{what}{blob.error}; it was not scanned")


def _scan_blobs(git: Git, engine, blobs: BlobList, stats: Stats, errors: list[ScanError], tick=None, orders: Sequence[int] | None = None, bases: "_Bases | None" = None, cat: CatFile | None = None) -> tuple[dict[str, _Hit], int]:
    """First pass over ``blobs``: which hold keys (or placeholders). With
    ``bases``, incremental (see "The incremental first pass" below)."""
    hits: dict[str, _Hit] = {}
    count = 0
    for blob in read_blobs(git, blobs, cat):
        if blob.error:
            errors.append(_read_error(blob))
            continue
        count += 1
        if bases is None:
            hit = _blob_keys(engine, blob, display(blob.path), stats, errors)
        else:
            hit = _blob_keys_incremental(engine, blob, display(blob.path), stats, errors, bases)
        if hit is not None:
            hit.order = orders[blob.index] if orders is not None else blob.index
            hits[blob.sha] = hit
        if tick is not None:
            tick(count, stats.bytes_scanned)
    return hits, count


def _first_pass(git: Git, engine, blobs: BlobList, report: Report, ticker: Ticker) -> dict[str, _Hit]:
    stats = report.stats
    hits, count = _scan_blobs(git, engine, blobs, stats, report.errors, ticker.tick, bases=_new_bases())
    ticker.tick(count, stats.bytes_scanned, force=True)
    stats.extra["blobs"] = count
    for sha in blobs.missing:
        report.errors.append(_missing(sha))
    return hits


def _missing(sha: str) -> ScanError:
    return ScanError(sha, "git", f"object {sha} is missing (a corrupt repository or a partial clone): what it holds was not scanned")


# The parallel first pass: worker processes forked before any thread starts,
# each with the parent's Engine and Git (nothing compiled twice, nothing
# pickled but blob ids and paths); each batch of blobs is read by the worker's
# own `git cat-file --batch`, and only blobs with keys come back.
PARALLEL_MIN_OBJECTS = 20_000  # objects in the repository before workers pay off
PARALLEL_BATCH = 512  # blobs per task
PARALLEL_PENDING = 3  # tasks waiting per worker
_WORKER: tuple | None = None
_CAT: CatFile | None = None  # a worker's cat-file (never the parent's: created after the fork)


def _worker_init() -> None:
    import signal

    from .parallel import exit_on_signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, exit_on_signal)  # never SIG_DFL: see parallel._worker_init


def _scan_batch(items: list[tuple[int, bytes, bytes]]) -> tuple[dict[str, _Hit], Stats, list[ScanError], int]:
    """Scan (order, blob id, path) items; hits carry their order."""
    global _CAT
    git, engine, bases = _WORKER  # type: ignore[misc]
    if _CAT is None or _CAT.git is not git:
        if _CAT is not None:
            _CAT.close()  # another scan's
        _CAT = CatFile(git)  # this worker's own, kept for all its batches
    stats = Stats()
    errors: list[ScanError] = []
    orders = [order for order, _, _ in items]
    hits, count = _scan_blobs(git, engine, BlobList.of([(sha, path) for _, sha, path in items]), stats, errors, orders=orders, bases=bases, cat=_CAT)
    return hits, stats, errors, count


class _One:
    """One ``AsyncResult`` as the iterator ``parallel.collect`` waits on."""

    def __init__(self, result) -> None:
        self.result = result
        self.done = False

    def next(self, timeout: float):
        if self.done:
            raise StopIteration
        value = self.result.get(timeout)
        self.done = True
        return value


def _object_count(git: Git) -> int:
    code, out, _ = git.status("count-objects", "-v")
    total = 0
    for line in out.decode("ascii", "replace").splitlines():
        name, _, value = line.partition(": ")
        if name in ("count", "in-pack") and value.strip().isdigit():
            total += int(value)
    return total


def _first_pass_parallel(git: Git, engine, revs: list[str], keep, extra, report: Report, ticker: Ticker, jobs: int) -> dict[str, _Hit]:
    if not incremental_history():
        return _first_pass_batches(git, engine, revs, keep, extra, report, ticker, jobs)
    import multiprocessing

    from .parallel import collect, shutdown

    global _WORKER
    _WORKER = (git, engine, _new_bases())  # each worker's own copy of the (empty) bases
    rule_reaches(engine)  # measured once, before the fork
    # One single-process pool per shard of paths: every version of a path
    # goes to the same worker, in listing order, so it finds its base there.
    context = multiprocessing.get_context("fork")
    pools = [context.Pool(1, initializer=_worker_init) for _ in range(jobs)]
    stats = report.stats
    hits: dict[str, _Hit] = {}
    missing: list[str] = []
    count = 0
    proc = list_objects(git, revs)
    pending: list[tuple[int, object]] = []

    def take() -> None:
        nonlocal count
        shard, result = pending.pop(0)
        for part, part_stats, part_errors, n in collect(pools[shard], _One(result)):
            hits.update(part)
            stats.merge(part_stats)
            report.errors.extend(part_errors)
            count += n
            ticker.tick(count, stats.bytes_scanned)

    try:
        batches: list[list[tuple[int, bytes, bytes]]] = [[] for _ in pools]
        items = itertools.chain(parse_listing(proc.stdout, missing, keep), extra)
        for order, (sha, path) in enumerate(items):
            shard = zlib.crc32(path) % jobs
            batches[shard].append((order, sha, path))
            if len(batches[shard]) >= PARALLEL_BATCH:
                pending.append((shard, pools[shard].apply_async(_scan_batch, (batches[shard],))))
                batches[shard] = []
                while len(pending) > PARALLEL_PENDING * jobs:
                    take()
        for shard, batch in enumerate(batches):
            if batch:
                pending.append((shard, pools[shard].apply_async(_scan_batch, (batch,))))
        while pending:
            take()
        for pool in pools:
            pool.close()
            pool.join()
    finally:
        for pool in pools:
            shutdown(pool)  # nothing left to stop after a clean run; after an error, no waiting on a dead worker's lock
        _WORKER = None
        code, msg = proc.finish()
    hits = dict(sorted(hits.items(), key=lambda kv: kv[1].order))  # listing order, whatever the number of workers
    if code != 0:
        report.errors.append(ScanError("history", "git", f"listing objects failed ({msg}): the history was not scanned completely"))
    ticker.tick(count, stats.bytes_scanned, force=True)
    stats.extra["blobs"] = count
    report.errors.extend(_missing(sha) for sha in missing)
    return hits


def _first_pass_batches(git: Git, engine, revs: list[str], keep, extra, report: Report, ticker: Ticker, jobs: int) -> dict[str, _Hit]:
    """The parallel first pass of full scans: batches to any free worker."""
    import multiprocessing

    from .parallel import collect, shutdown

    global _WORKER
    _WORKER = (git, engine, None)
    pool = multiprocessing.get_context("fork").Pool(jobs, initializer=_worker_init)
    stats = report.stats
    hits: dict[str, _Hit] = {}
    missing: list[str] = []
    count = 0
    proc = list_objects(git, revs)
    try:
        items = itertools.chain(parse_listing(proc.stdout, missing, keep), extra)
        batches = _batched(((order, sha, path) for order, (sha, path) in enumerate(items)), PARALLEL_BATCH)
        for part, part_stats, part_errors, n in collect(pool, pool.imap(_scan_batch, batches)):
            hits.update(part)
            stats.merge(part_stats)
            report.errors.extend(part_errors)
            count += n
            ticker.tick(count, stats.bytes_scanned)
        pool.close()
        pool.join()
    finally:
        shutdown(pool)  # nothing left to stop after a clean run; after an error, no waiting on a dead worker's lock
        _WORKER = None
        code, msg = proc.finish()
    if code != 0:
        report.errors.append(ScanError("history", "git", f"listing objects failed ({msg}): the history was not scanned completely"))
    ticker.tick(count, stats.bytes_scanned, force=True)
    stats.extra["blobs"] = count
    report.errors.extend(_missing(sha) for sha in missing)
    return hits


def _batched(items, size: int):
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _scan_some(git: Git, engine, wanted: Iterable[tuple[str, bytes]], errors: list[ScanError], commits: dict[str, CommitInfo] | None = None) -> dict[tuple[str, bytes], _Hit]:
    """Scan a few blobs again (with their path); nothing counts in stats."""
    items = list(dict.fromkeys(wanted))
    out: dict[tuple[str, bytes], _Hit] = {}
    if not items:
        return out
    scratch = Stats()
    for blob in read_blobs(git, BlobList.of(items)):
        if blob.error:
            errors.append(_read_error(blob))
            continue
        commit = (commits or {}).get(blob.sha)
        hit = _Hit(blob.path, set(), [], [])
        try:
            for fragment in history_fragments(blob, display(blob.path), scratch, commit):
                found, suppressed, _ = scan_fragment(engine, fragment)
                hit.findings.extend(found)
                hit.suppressed.extend(suppressed)
        except ObjectReadError as exc:
            errors.append(ScanError(display(blob.path), "git", f"blob {blob.sha[:12]} could not be read ({exc})"))
        hit.keys = {(f.rule_id, f.secret) for f in hit.findings} | {(s.finding.rule_id, s.finding.secret) for s in hit.suppressed}
        out[(blob.sha, blob.path)] = hit
    return out


def _drop_keys_before(git: Git, engine, revs: list[str], blobs: BlobList, hits: dict[str, _Hit], report: Report) -> None:
    """``--since``: forget keys that were already in the versions, before the
    range, of the files the range changed."""
    new = {blobs.sha(i) for i in range(len(blobs))}
    old: dict[str, bytes] = {}
    for commit in log_changes(git, revs, reverse=False):
        for ch in commit.changes:
            if ch.old != NULL_SHA and ch.old not in new:
                old.setdefault(ch.old, ch.path)
    before: set[Key] = set()
    for hit in _scan_some(git, engine, old.items(), report.errors).values():
        before |= hit.keys
    for sha in list(hits):
        hit = hits[sha]
        hit.keys -= before
        hit.findings = [f for f in hit.findings if (f.rule_id, f.secret) not in before]
        hit.suppressed = [s for s in hit.suppressed if (s.finding.rule_id, s.finding.secret) not in before]
        if not hit.keys:
            del hits[sha]


def _events(git: Git, revs: list[str], hits: dict[str, _Hit], jobs: int = 1) -> dict[tuple[Key, bytes], list[_Event]]:
    """For each (key, path): the commits that added or removed it there."""
    commits: list[CommitChanges] = []
    shas = sorted(hits)
    for i in range(0, len(shas), FIND_OBJECT_BATCH):
        commits.extend(log_changes(git, revs, find_objects=shas[i:i + FIND_OBJECT_BATCH], jobs=jobs))
    if len(shas) > FIND_OBJECT_BATCH:
        # Several walks: merge them by date (each is in topological order).
        seen: dict[str, CommitChanges] = {}
        for c in commits:
            if c.sha in seen:
                seen[c.sha].changes.extend(ch for ch in c.changes if ch not in seen[c.sha].changes)
            else:
                seen[c.sha] = c
        commits = sorted(seen.values(), key=lambda c: c.time)
    timeline: dict[tuple[Key, bytes], list[_Event]] = {}
    empty: set[Key] = set()
    for order, commit in enumerate(commits):
        for ch in commit.changes:
            old = hits[ch.old].keys if ch.old in hits else empty
            new = hits[ch.new].keys if ch.new in hits else empty
            for key in new - old:
                timeline.setdefault((key, ch.path), []).append(_Event(order, commit, ch.new, True))
            for key in old - new:
                timeline.setdefault((key, ch.path), []).append(_Event(order, commit, ch.old, False))
    return timeline


def _shown_refs(ref_names) -> list[str]:
    """At most MAX_REFS refs, remote-tracking refs and branches first (a
    hosted mirror has thousands of pull-request refs), sorted by name."""
    rank = {"refs/remotes/": 0, "refs/heads/": 1, "refs/tags/": 2}
    kept = sorted(ref_names, key=lambda r: (next((v for k, v in rank.items() if r.startswith(k)), 3), r))[:MAX_REFS]
    return sorted(kept)


def _pushed(ref_names, bare: bool) -> bool:
    return any(r.startswith("refs/remotes/") for r in ref_names) or (bare and bool(ref_names))


def commit_info(c: CommitChanges) -> CommitInfo:
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(c.time))
    return CommitInfo(c.sha, f"{c.author} <{c.email}>", date, c.subject)


def _provenance(git: Git, engine, revs: list[str], head: str | None, hits: dict[str, _Hit], report: Report, bare: bool = False, jobs: int = 1) -> None:
    """Introduction, removal and refs of each key found. In a bare
    repository (a server, or a mirror clone) every ref was pushed there."""
    timeline = _events(git, revs, hits, jobs)
    paths = sorted({path for (_, path) in timeline} | {hit.path for hit in hits.values()})
    head_keys = _keys_at_head(git, engine, head, paths, hits, report.errors)

    # Where each (key, path) came in, and the blobs to read again to locate it.
    plan: dict[tuple[Key, bytes], tuple[_Event, dict]] = {}
    ref_cache = refs_containing(git, (e.commit.sha for events in timeline.values() for e in events if e.added))
    for (key, path), events in timeline.items():
        adds = [e for e in events if e.added]
        if not adds:
            continue
        intro = adds[0]
        present = key in head_keys.get(path, ())
        removed = None
        if not present:
            gone = [e for e in events if not e.added and e.order > intro.order]
            removed = gone[-1].commit.sha if gone else None
        ref_names: set[str] = set()
        for sha in dict.fromkeys(e.commit.sha for e in adds):
            ref_names.update(ref_cache.get(sha, ()))
        lifecycle = {
            "introduced": intro.commit.sha,
            "removed": removed,
            "present_at_head": present,
            "refs": _shown_refs(ref_names),
            "pushed": _pushed(ref_names, bare),
        }
        if len(ref_names) > MAX_REFS:
            lifecycle["refs_more"] = len(ref_names) - MAX_REFS
        plan[(key, path)] = (intro, lifecycle)

    infos: dict[str, CommitInfo] = {}
    # Read each introducing blob once per path it was introduced at.
    by_blob: dict[tuple[str, bytes, str], list[Key]] = {}
    for (key, path), (intro, _) in plan.items():
        by_blob.setdefault((intro.blob, path, intro.commit.sha), []).append(key)
        infos[intro.commit.sha] = commit_info(intro.commit)
    errors: list[ScanError] = []
    located = _locate(git, engine, by_blob, infos, errors)
    report.errors.extend(e for e in errors if e not in report.errors)

    done: set[tuple[Key, str]] = set()
    for (key, path), (intro, lifecycle) in sorted(plan.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        item = located.get((key, path))
        if item is None:
            continue
        _add(report, item, lifecycle, done)
    # Keys the log could not place (a blob only reachable from a tag that
    # points at a tree, say): reported where the first pass saw them.
    placed = {key for (key, _) in located}
    for sha, hit in sorted(hits.items(), key=lambda kv: kv[1].path):
        for item in [*hit.findings, *hit.suppressed]:
            f = item.finding if isinstance(item, Suppressed) else item
            key = (f.rule_id, f.secret)
            if key in placed:
                continue
            held_by = [display(hit.path)] if hit.path.startswith(b"refs/") else []  # a blob a tag points at
            lifecycle = {
                "introduced": None,
                "removed": None,
                "present_at_head": key in head_keys.get(hit.path, ()),
                "refs": held_by,
                "pushed": _pushed(held_by, bare),
            }
            _add(report, item, lifecycle, done)


def _keys_at_head(git: Git, engine, head: str | None, paths: list[bytes], hits: dict[str, _Hit], errors: list[ScanError]) -> dict[bytes, set[Key]]:
    if head is None or not paths:
        return {}
    at_head = tree_blobs(git, head, paths)
    out = {path: hits[sha].keys for path, sha in at_head.items() if sha in hits}
    unknown = [(sha, path) for path, sha in at_head.items() if sha not in hits]
    for (sha, path), hit in _scan_some(git, engine, unknown, errors).items():
        out[path] = hit.keys
    return out


def _locate(git: Git, engine, by_blob: dict[tuple[str, bytes, str], list[Key]], infos: dict[str, CommitInfo], errors: list[ScanError]) -> dict[tuple[Key, bytes], Finding | Suppressed]:
    """Scan each introducing blob at its path, with its commit, and keep the
    first occurrence of each wanted key."""
    out: dict[tuple[Key, bytes], Finding | Suppressed] = {}
    scratch = Stats()
    items = list(by_blob)
    blobs = BlobList.of([(sha, path) for sha, path, _ in items])
    for blob, (sha, path, commit) in zip(read_blobs(git, blobs), items):
        if blob.error:
            errors.append(_read_error(blob))
            continue
        wanted = set(by_blob[(sha, path, commit)])
        found: list[Finding] = []
        suppressed: list[Suppressed] = []
        try:
            for fragment in history_fragments(blob, display(path), scratch, infos[commit]):
                f, s, _ = scan_fragment(engine, fragment)
                found.extend(f)
                suppressed.extend(s)
        except ObjectReadError as exc:
            errors.append(ScanError(display(path), "git", f"blob {sha[:12]} could not be read ({exc})"))
        for f in sorted(found, key=Finding.sort_key):
            key = (f.rule_id, f.secret)
            if key in wanted and (key, path) not in out:
                out[(key, path)] = f
        for s in sorted(suppressed, key=lambda s: s.finding.sort_key()):
            key = (s.finding.rule_id, s.finding.secret)
            if key in wanted and (key, path) not in out:
                out[(key, path)] = s
    return out


def _add(report: Report, item: Finding | Suppressed, lifecycle: dict, done: set) -> None:
    f = item.finding if isinstance(item, Suppressed) else item
    ident = ((f.rule_id, f.secret), f.path)
    if ident in done:
        return
    done.add(ident)
    f = with_lifecycle(f, lifecycle)
    if isinstance(item, Suppressed):
        report.suppressed.append(item._replace(finding=f))
    else:
        report.findings.append(f)


def lifecycle_notes(lifecycle: dict) -> list[str]:
    """What the key's history means for the person rotating it."""
    notes = []
    present = lifecycle.get("present_at_head")
    pushed = lifecycle.get("pushed")
    if present:
        notes.append("Still present at HEAD: rotate the key first, then move it out of the code (an environment variable or a secret manager) and delete it in a new commit.")
    elif lifecycle.get("removed"):
        notes.append("Removed from HEAD, but git history still holds it: rotate it anyway, because clones, forks and CI caches keep the old commits.")
    else:
        notes.append("Not at HEAD, but git history still holds it: rotate it anyway, because clones, forks and CI caches keep the old commits.")
    if pushed:
        notes.append("It was pushed (a remote-tracking branch holds it, or this is a server or mirror repository): rewriting history does not un-leak a pushed key; rotating does.")
    elif lifecycle.get("introduced"):
        notes.append("Only on local branches that were never pushed: rotating is still advised, but you can also remove the key from those commits (git commit --amend, git rebase -i) before you push.")
    return notes


def with_lifecycle(f: Finding, lifecycle: dict) -> Finding:
    """The finding with its lifecycle and the rotation notes it implies."""
    rotation = dict(f.rotation or {})
    if f.key_class != "publishable":
        notes = list(rotation.get("notes", []))
        at = 1 if notes and f.exposure in PUBLIC_EXPOSURES else 0
        rotation["notes"] = notes[:at] + lifecycle_notes(lifecycle) + notes[at:]
    return replace(f, lifecycle=lifecycle, rotation=rotation)


# ---------------------------------------------------------------------------
# The incremental first pass: scan only what each blob version adds.
#
# Most blobs of a long history are a version of a file that differs from
# another version by a few lines. For each path, a process keeps the last
# version it scanned (its "base": the text, and where each key it held is).
# A new version of the path is aligned with its base: the common start and
# end are stripped (``startswith``/``endswith`` on memory views, a binary
# search of memcmp calls, no per-line Python), and what is left is split at an
# anchor line found in both, recursively, so a commit that edits a file in
# several places leaves several small changed stretches. Then:
#
# * the core is each changed stretch (an empty one where text was only
#   deleted) widened by the reach of the rules whose keywords may occur in
#   the blob (those of the base, and those found in the changed text) and
#   at least CONTEXT_LINES lines each side; the rescanned window is the core
#   widened by the same again;
# * a rule's match, with its lookarounds, spans at most its reach across
#   lines (``rule_reaches`` measures it from the pattern; a blob where a
#   rule reaching further than REACH may match is scanned whole), so a match
#   whose secret touches the core lies inside its window, which sees it as a
#   scan of the whole blob would; a window's finding counts only when its
#   secret touches the core (near the window's edge, a match could see less
#   context);
# * a key of the base whose lines lie in an aligned (identical) stretch and
#   do not touch the core is inherited, moved to its new line: the text
#   within its reach (its keyword included) is the base's, so the match is
#   the same; and any match away from the core is such a key of the base.
#
# Anything unusual scans the blob whole: no base for the path (evicted or
# never seen), a blob below SMALL_BLOB or above one read window, a window
# scan with errors (a timeout, too many keys), or windows covering most of
# the blob.
#
# It is off unless KEYSCAN_HISTORY_INCREMENTAL=1: on git's repository it
# scans 35-40 % fewer bytes but takes as much CPU (the engine now costs
# little per byte; most of a blob's cost is fixed, and a third of the blobs
# are below SMALL_BLOB), and its path-sharded workers balance worse (see
# benchmarks/README.md). Reports are the same either way.
# ---------------------------------------------------------------------------

# Longest reach, in characters, of a rule's match plus its lookarounds across
# lines that windows are made for. Each blob's windows use the longest reach
# among the rules whose keywords occur in it (``rule_reaches``, measured from
# the patterns): for the built-in rules, the generic assignment rule reaches
# about 900 characters (a 200-character value, a 24-character name tail, 32
# characters of spacing, lookbehinds), the AWS key id + secret pair 331, a
# service-account JSON 618, Hardhat account lists 1,606, Zendesk 1,767; most
# others stay within their line. PEM blocks (up to 16,000 characters), AWS
# session tokens, SQL Server connection strings, Heroku, Moralis and Pinata
# reach further, and the Google API key rule cannot be measured: a blob where
# their keywords occur is scanned whole.
REACH = 2048
# What a decoded key's match reaches: decoders read runs within one line, and
# look up to 120 characters back for an inline source map's header.
DECODE_REACH = 128
# At least this many lines of context each side, whatever their length.
CONTEXT_LINES = 3
# Each fragment costs the engine about 16 us whatever its size (prefilter
# passes, decoders' set-up) and about 11 us per KB (git's repository at
# v2.0.0, one core): windows closer than WINDOW_GAP are scanned as one. The
# incremental steps cost tens of us a blob (aligning, a keyword pass over
# the changed text, windowing): blobs below SMALL_BLOB are scanned whole.
WINDOW_GAP = 2 * 1024
SMALL_BLOB = 8 * 1024
# Scan whole when the windows would cover more than this share of the blob.
WINDOW_SHARE = 0.9
# Memory for the bases of one process, least recently used out.
BASE_BUDGET = 48 * 1024 * 1024
# Alignment: split a changed stretch longer than this at an anchor line
# found in both versions, at most ALIGN_DEPTH times deep.
ALIGN_SPLIT = 64 * 1024
ALIGN_DEPTH = 4
ANCHOR_MIN = 32  # bytes of an anchor (whole lines, at least this long)


def incremental_history() -> bool:
    """KEYSCAN_HISTORY_INCREMENTAL=1 turns the incremental first pass on."""
    return os.environ.get("KEYSCAN_HISTORY_INCREMENTAL", "") not in ("", "0")


class _Base(NamedTuple):
    data: bytes  # UTF-8 text of the version
    keys: list  # (first byte of the secret's first line, end of its last line, Finding | Suppressed)
    rules: frozenset[int]  # the rules whose keywords may occur in it (at least those that do)
    cost: int


class _Bases:
    """Bases by path, least recently used evicted past ``budget`` bytes."""

    def __init__(self, budget: int = BASE_BUDGET) -> None:
        from collections import OrderedDict

        self.budget = budget
        self.used = 0
        self._by_path: "OrderedDict[bytes, _Base]" = OrderedDict()

    def get(self, path: bytes) -> _Base | None:
        base = self._by_path.get(path)
        if base is not None:
            self._by_path.move_to_end(path)
        return base

    def put(self, path: bytes, base: _Base | None) -> None:
        old = self._by_path.pop(path, None)
        if old is not None:
            self.used -= old.cost
        if base is None or base.cost > self.budget // 4:
            return
        self._by_path[path] = base
        self.used += base.cost
        while self.used > self.budget:
            _, gone = self._by_path.popitem(last=False)
            self.used -= gone.cost


# Per process: each rule's reach (by id of the engine's rule tuple).
_REACHES: dict[int, tuple[tuple, list[float]]] = {}
_KEYWORD_LENGTH: dict[int, tuple[tuple, int]] = {}


def _new_bases() -> _Bases | None:
    """Empty bases for one scan (each scan its own: bases hold one engine's
    findings), or None without KEYSCAN_HISTORY_INCREMENTAL."""
    return _Bases() if incremental_history() else None


def _reach(source: str) -> float | None:
    """Longest text, in characters, a pattern's match and its lookarounds can
    span across lines: a repeat that cannot match a newline stays on its
    line and counts 0 (windows hold whole lines); an unbounded repeat that
    can is infinite. None when the pattern cannot be read."""
    try:
        from re import _constants as C
        from re import _parser as P

        from .engine.superset import _prepare

        tree = P.parse(_prepare(source))
    except Exception:
        return None
    newline = 10
    inf = float("inf")
    groups: dict[int, tuple[float, bool]] = {}  # what each group can span, for backreferences

    def in_class(items) -> bool:
        negate, hit = False, False
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                hit |= av == newline
            elif op is C.RANGE:
                hit |= av[0] <= newline <= av[1]
            elif op is C.CATEGORY:
                name = str(av)
                hit |= name.endswith(("NOT_DIGIT", "NOT_WORD")) or (name.endswith("SPACE") and not name.endswith("NOT_SPACE")) or (name.endswith("LINEBREAK") and not name.endswith("NOT_LINEBREAK"))
        return hit != negate

    def walk(items, dotall: bool) -> tuple[float, bool]:
        width, nl = 0.0, False
        for op, av in items:
            if op is C.LITERAL:
                width, nl = width + 1, nl or av == newline
            elif op is C.NOT_LITERAL:
                width, nl = width + 1, nl or av != newline
            elif op is C.ANY:
                width, nl = width + 1, nl or dotall
            elif op is C.IN:
                width, nl = width + 1, nl or in_class(av)
            elif op is C.BRANCH:
                parts = [walk(b, dotall) for b in av[1]]
                width, nl = width + max(p[0] for p in parts), nl or any(p[1] for p in parts)
            elif op is C.SUBPATTERN:
                gid, add, delete, sub = av
                w, n = walk(sub, (dotall or bool(add & C.SRE_FLAG_DOTALL)) and not (delete & C.SRE_FLAG_DOTALL))
                if gid is not None:
                    groups[gid] = (w, n)
                width, nl = width + w, nl or n
            elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
                _, hi, sub = av
                w, n = walk(sub, dotall)
                if hi is C.MAXREPEAT:
                    width += inf if (n and w) else 0
                else:
                    width += w * hi
                nl = nl or n
            elif op in (C.ATOMIC_GROUP,):
                w, n = walk(av, dotall)
                width, nl = width + w, nl or n
            elif op in (C.ASSERT, C.ASSERT_NOT):
                w, n = walk(av[1], dotall)
                width, nl = width + w, nl or n
            elif op is C.AT:
                pass
            elif op is C.GROUPREF_EXISTS:
                _, yes, no = av
                a, b = walk(yes, dotall), (walk(no, dotall) if no else (0, False))
                width, nl = width + max(a[0], b[0]), nl or a[1] or b[1]
            elif op is C.GROUPREF and av in groups:
                w, n = groups[av]
                width, nl = width + w, nl or n
            else:  # anything else: assume the worst
                return inf, True
        return width, nl

    width, nl = walk(tree, False)
    return width if nl else 0.0


def rule_reaches(engine) -> list[float]:
    """Each of the engine's rules' reach across lines (``_reach``), in
    characters; infinite when it cannot be measured."""
    key = id(engine.rules)
    known = _REACHES.get(key)
    if known is None or known[0] is not engine.rules:  # an id can be reused
        out = []
        for rule in engine.rules:
            reach = _reach(rule.pattern_source)
            out.append(float("inf") if reach is None else reach)
        known = _REACHES[key] = (engine.rules, out)
    return known[1]


def _common_prefix(old: bytes, new, o0: int, o1: int, n0: int, n1: int) -> int:
    """Length of the common start of old[o0:o1] and new[n0:n1] (``new`` a
    memoryview): a binary search of memcmp calls."""
    lo, hi = 0, min(o1 - o0, n1 - n0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old.startswith(new[n0:n0 + mid], o0, o1):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _common_suffix(old: bytes, new, o0: int, o1: int, n0: int, n1: int) -> int:
    lo, hi = 0, min(o1 - o0, n1 - n0)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if old.endswith(new[n1 - mid:n1], o0, o1):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _align(old: bytes, new: bytes) -> tuple[list[tuple[int, int, int]], list[tuple[int, int]]]:
    """Identical stretches (new start, new end, old start), in order, and the
    changed stretches of ``new`` between them (start, end; empty where text
    was only deleted). Any alignment of identical text is a correct one; a
    good one leaves little changed."""
    view = memoryview(new)
    same: list[tuple[int, int, int]] = []
    changed: list[tuple[int, int]] = []

    def walk(o0: int, o1: int, n0: int, n1: int, depth: int) -> None:
        p = _common_prefix(old, view, o0, o1, n0, n1)
        if p:
            same.append((n0, n0 + p, o0))
        o0, n0 = o0 + p, n0 + p
        if o0 == o1 and n0 == n1:
            return
        s = _common_suffix(old, view, o0, o1, n0, n1)
        o1, n1 = o1 - s, n1 - s
        tail = (n1, n1 + s, o1) if s else None
        if depth and n1 - n0 > ALIGN_SPLIT and o1 - o0 > ALIGN_SPLIT:
            cut = _anchor(old, new, o0, o1, n0, n1)
            if cut is not None:
                walk(o0, cut[0], n0, cut[1], depth - 1)
                walk(cut[0], o1, cut[1], n1, depth - 1)
                if tail:
                    same.append(tail)
                return
        changed.append((n0, n1))
        if tail:
            same.append(tail)

    walk(0, len(old), 0, len(new), ALIGN_DEPTH)
    return same, changed


def _anchor(old: bytes, new: bytes, o0: int, o1: int, n0: int, n1: int) -> tuple[int, int] | None:
    """(old, new) positions of a run of whole lines near the middle of
    new[n0:n1] that occurs once in old[o0:o1] and once in new[n0:n1]."""
    for at in ((n0 + n1) // 2, n0 + (n1 - n0) // 4, n1 - (n1 - n0) // 4):
        start = new.find(b"\n", at, n1) + 1
        if not start:
            continue
        end = new.find(b"\n", start + ANCHOR_MIN, n1)
        if end < 0 or end - start > 512:
            continue
        needle = new[start:end + 1]
        q = old.find(needle, o0, o1)
        if q < 0 or old.find(needle, q + 1, o1) >= 0:
            continue
        if new.find(needle, n0, start) >= 0 or new.find(needle, start + 1, n1) >= 0:
            continue
        return q, start
    return None


def _around(data: bytes, start: int, end: int, reach: int) -> tuple[int, int]:
    """[start, end) widened by ``reach`` bytes and CONTEXT_LINES lines each
    side, to whole lines."""
    lo = data.rfind(b"\n", 0, max(start - reach, 0)) + 1 if start - reach > 0 else 0
    line = data.rfind(b"\n", 0, start) + 1
    for _ in range(CONTEXT_LINES):
        if line <= 0:
            break
        line = data.rfind(b"\n", 0, line - 1) + 1
    lo = min(lo, line)
    size = len(data)
    hi = data.find(b"\n", min(end + reach, size))
    hi = size if hi < 0 else hi + 1
    line = data.find(b"\n", end)
    for _ in range(CONTEXT_LINES):
        if line < 0:
            break
        line = data.find(b"\n", line + 1)
    hi = max(hi, size if line < 0 else line + 1)
    return lo, hi


def _merge(ranges: list[tuple[int, int]], gap: int = 0) -> list[tuple[int, int]]:
    """Sorted ranges, those that overlap (or lie closer than ``gap``) merged."""
    out: list[tuple[int, int]] = []
    for a, b in sorted(ranges):
        if out and a <= out[-1][1] + gap:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _touches(a: int, b: int, ranges: list[tuple[int, int]]) -> bool:
    """Does [a, b] (inclusive) meet one of the sorted, disjoint ``ranges``
    (each [start, end) )?"""
    import bisect

    i = bisect.bisect_right(ranges, (b, float("inf"))) - 1
    return i >= 0 and ranges[i][1] > a


def _line_spans(data: bytes, items: list, first_line: int = 1) -> list[tuple[int, int]] | None:
    """Byte span [start of its first line, end of its last line) of each
    finding's secret in ``data``, whose first line is ``first_line``; None
    when a line is past the end."""
    if not items:
        return []
    lines = [_lines_of(item) for item in items]
    last = max(b for _, b in lines) - first_line
    pieces = data.split(b"\n", last + 1)
    if len(pieces) <= last:
        return None
    starts = list(itertools.accumulate(map((1).__add__, map(len, pieces)), initial=0))
    size = len(data)
    return [(starts[a - first_line], min(starts[b - first_line + 1], size)) for a, b in lines]


def _lines_of(item) -> tuple[int, int]:
    """1-based first and last line of a finding's secret (of the encoded run
    for a decoded one: decoders read runs within one line)."""
    f = item.finding if isinstance(item, Suppressed) else item
    return f.line, f.line + (0 if f.source.get("decoded") else f.secret.count("\n"))


def _moved(item, line: int, sha: str):
    f = item.finding if isinstance(item, Suppressed) else item
    f = replace(f, line=line, source=dict(f.source, blob=sha))
    return item._replace(finding=f) if isinstance(item, Suppressed) else f


def _blob_keys_incremental(engine, blob, path: str, stats: Stats, errors: list[ScanError], bases: _Bases) -> "_Hit | None":
    """``_blob_keys`` for one blob, scanning only windows around what
    changed since the path's base (see above)."""
    size = blob.size
    if blob.stream is None or size == 0:
        return None
    if size < SMALL_BLOB or size > WINDOW:
        bases.put(blob.path, None)
        return _blob_keys(engine, blob, path, stats, errors)
    try:
        raw = blob.stream.read(size)
    except ObjectReadError as exc:
        bases.put(blob.path, None)
        errors.append(ScanError(path, "git", f"blob {blob.sha[:12]} could not be read ({exc}); it was not scanned"))
        return None
    if looks_binary(raw):
        stats.skip(path, "binary")
        bases.put(blob.path, None)
        return None
    stats.files_scanned += 1
    data = to_utf8(raw)
    base = bases.get(blob.path)
    got = _from_base(engine, base, data, blob.sha, path) if base is not None else None
    if got is not None:
        items, spans, rules, scanned = got
        stats.bytes_scanned += scanned
        stats.extra["incremental_blobs"] = stats.extra.get("incremental_blobs", 0) + 1
    else:
        stats.bytes_scanned += len(raw)
        found, dropped, errs = scan_fragment(engine, Fragment(data, path, "history", meta={"blob": blob.sha}))
        errors.extend(errs)
        items = [*found, *dropped]
        spans = None if errs else _line_spans(data, items)
        rules = engine.prefilter.candidates(data)
    hit = _finish_hit(_Hit(blob.path, set(), [i for i in items if not isinstance(i, Suppressed)], [i for i in items if isinstance(i, Suppressed)]))
    if spans is None:
        bases.put(blob.path, None)  # a timeout or too many keys: no base to build on
        return hit
    keys = [(a, b, item) for item, (a, b) in zip(items, spans)]
    bases.put(blob.path, _Base(data, keys, frozenset(rules), len(data) + 4096 * len(keys) + 512))
    return hit


def _from_base(engine, base: _Base, data: bytes, sha: str, path: str):
    """(findings and suppressed, their byte spans, the rules whose keywords
    may occur in ``data``, bytes scanned) of ``data`` from ``base`` and scans
    of windows around the changes; None to scan the blob whole instead."""
    import bisect

    from .engine.matcher import MAX_MATCHES

    same, changed = _align(base.data, data)
    # The rules whose keywords may occur: the base's, and those of the changed
    # text (with a keyword's length around it, for one across the edge).
    edge = _longest_keyword(engine)
    rules = set(base.rules)
    for a, b in changed:
        rules |= engine.prefilter.candidates(data[max(a - edge, 0):b + edge])
    reaches = rule_reaches(engine)
    reach = max([DECODE_REACH, *(reaches[i] for i in rules)])
    if reach > REACH:
        return None  # a rule that reaches too far for windows may match
    reach = int(reach) if data.isascii() else 4 * int(reach)  # characters, as bytes
    core = _merge([_around(data, a, b, reach) for a, b in changed])
    windows = _merge([_around(data, a, b, reach) for a, b in core], WINDOW_GAP)
    if sum(b - a for a, b in windows) > WINDOW_SHARE * len(data):
        return None
    # Keys of the base in identical text away from the core: inherited (the
    # text within their reach is the base's, their keyword in it).
    moved: list[tuple[int, int, object]] = []
    old_starts = [o for _, _, o in same]
    for a, b, item in base.keys:
        i = bisect.bisect_right(old_starts, a) - 1
        if i < 0:
            continue
        n0, n1, o0 = same[i]
        if b > o0 + (n1 - n0):
            continue  # not within one identical stretch: in the core
        a2, b2 = a - o0 + n0, b - o0 + n0
        if not _touches(a2, b2 - 1, core):
            moved.append((a2, b2, item))
    lines = _lines_at(data, [a for a, _, _ in moved] + [a for a, _ in windows])
    items: list = [_moved(item, lines[a], sha) for a, _, item in moved]
    spans: list[tuple[int, int]] = [(a, b) for a, b, _ in moved]
    inherited = len(items)
    scanned = 0
    for a, b in windows:
        chunk = data[a:b]
        scanned += len(chunk)
        line = lines[a]
        found, dropped, errs = scan_fragment(engine, Fragment(chunk, path, "history", line=line, column=0, meta={"blob": sha}))
        if errs:
            return None
        kept = [*found, *dropped]
        where = _line_spans(chunk, kept, line)
        if where is None:
            return None
        for item, (x, y) in zip(kept, where):
            if _touches(a + x, a + y - 1, core):
                items.append(item)
                spans.append((a + x, a + y))
    if len(items) >= MAX_MATCHES // 2:
        return None  # near the engine's limit per file: let a whole scan apply it
    # The engine drops a generic match that overlaps a specific one: an
    # inherited generic key next to a rescanned specific one is settled by
    # a whole scan (rare).
    generic = [spans[k] for k in range(inherited) if _is_generic(items[k])]
    if generic:
        for k in range(inherited, len(items)):
            if not _is_generic(items[k]) and any(a < spans[k][1] and spans[k][0] < b for a, b in generic):
                return None
    return items, spans, rules, scanned


def _lines_at(data: bytes, positions: list[int]) -> dict[int, int]:
    """The 1-based line of each position, counting newlines once."""
    out: dict[int, int] = {}
    line, last = 1, 0
    for pos in sorted(set(positions)):
        line += data.count(b"\n", last, pos)
        out[pos] = line
        last = pos
    return out


def _longest_keyword(engine) -> int:
    key = id(engine.rules)
    known = _KEYWORD_LENGTH.get(key)
    if known is None or known[0] is not engine.rules:
        longest = max((len(k.encode("utf-8")) for rule in engine.rules for k in rule.keywords), default=0)
        known = _KEYWORD_LENGTH[key] = (engine.rules, longest)
    return known[1]


def _is_generic(item) -> bool:
    f = item.finding if isinstance(item, Suppressed) else item
    return f.key_class == "generic"
