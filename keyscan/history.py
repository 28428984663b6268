"""History audits: ``keyscan history``.

How it works, and why (measured on git's own repository, see
``benchmarks/history.py``):

1. **Unique blobs, not diffs.** Every blob reachable from the refs (all
   refs, ``--branch`` refs, or ``REV..HEAD`` with ``--since``) is listed
   once, with a path (``git.fill_blobs``: from the raw changes of each
   commit, so that git's memory does not grow with the objects listed;
   ``rev-list --objects`` for a range); a long-lived ``git cat-file
   --batch`` streams their content, read in bounded windows (in worker
   processes for a large history, ``--jobs``). A key that sits in 500
   commits is in one blob (or a few), so it is scanned once. Workers get
   the blobs in pack order (``git.in_pack_order``: git's cat-file CPU
   8.5 -> 4.0 s and 2 x ~200 -> 2 x ~75 MB on git's repository), so the
   listing is read whole first (28 bytes a blob, then spilled to a
   temporary file for the workers' batches) while a thread reads the
   commit graph that provenance will need (into a temporary file too).
   So memory hardly grows with the history's length: the caches of git's
   processes are capped (``LEAN_CONFIG``), and what still grows is a few
   MB at 80,000 commits (the listing's 28 bytes a blob, git's walk state
   of about 200 bytes a commit; ``benchmarks/README.md``, "Targets").

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
"""
from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass, field, replace
from typing import Callable, Iterable, NamedTuple, Sequence

from .alloc import give_back
from .errors import KeyscanError
from .filters import Filter
from .findings import PUBLIC_EXPOSURES
from .git import (
    NULL_SHA,
    LEAN_CONFIG,
    MISSING,
    BlobList,
    CatFile,
    CommitChanges,
    CommitGraph,
    Git,
    ObjectReadError,
    clean,
    display,
    commit_graph,
    head_commit,
    fill_blobs,
    in_pack_order,
    list_blobs,
    log_changes,
    open_repo,
    read_blobs,
    refs,
    refs_containing,
    resolve_commit,
    tagged_blobs,
    tree_blobs,
)
from .models import CommitInfo, Finding, Report, ScanError, Stats, Suppressed
from .scan import finish, scan_fragment
from .sources.history import Progress, Ticker, history_fragments

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
    unreadable: list[str] = []  # trees refs point at that git cannot read
    extra = tagged_blobs(git, unreadable) if revs == ["--all"] else []
    report.errors.extend(_missing(sha) for sha in unreadable)
    graph: _Background | None = None
    if options.jobs > 1 and not options.since and _object_count(git) >= PARALLEL_MIN_OBJECTS:
        hits, graph = _first_pass_parallel(git, engine, revs, keep, extra, report, ticker, options.jobs)
    else:
        blobs = list_blobs(git, revs, keep, extra)
        hits = _first_pass(git, engine, blobs, report, ticker)
        if options.since and hits:
            _drop_keys_before(git, engine, revs, blobs, hits, report)
    if hits:
        give_back()  # the first pass's blocks: provenance allocates others
        ticker.tick(stats.extra.get("blobs", 0), stats.bytes_scanned, "provenance", force=True)
        _provenance(git, engine, revs, head, hits, report, bare=info.toplevel is None, jobs=options.jobs, graph=graph.result() if graph else None)
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
        for fragment in history_fragments(blob, path, stats, errors=errors):
            found, suppressed, errs = scan_fragment(engine, fragment)
            hit.findings.extend(found)
            hit.suppressed.extend(suppressed)
            errors.extend(errs)
    except ObjectReadError as exc:
        errors.append(ScanError(path, "git", f"blob {blob.sha[:12]} could not be read ({exc}); it was not scanned"))
    return _finish_hit(hit)


def _finish_hit(hit: _Hit) -> _Hit | None:
    """Sorted by position (the first occurrence of a key in a blob is its
    first by line, whatever order the rules ran in), with its key set; None
    without keys."""
    hit.findings.sort(key=Finding.sort_key)
    hit.suppressed.sort(key=Suppressed.sort_key)
    hit.keys = {(f.rule_id, f.secret) for f in hit.findings} | {(s.finding.rule_id, s.finding.secret) for s in hit.suppressed}
    return hit if hit.keys else None


def _read_error(blob) -> ScanError:
    if blob.error == MISSING:
        return _missing(blob.sha)
    where = display(blob.path) if blob.path else (blob.sha or "history")
    what = f"blob {blob.sha[:12]}: " if blob.sha else ""
    return ScanError(where, "git", f"{what}{blob.error}; it was not scanned")


def _scan_blobs(git: Git, engine, blobs: BlobList, stats: Stats, errors: list[ScanError], tick=None, cat: CatFile | None = None) -> tuple[dict[str, _Hit], int]:
    """First pass over ``blobs``: which hold keys (or placeholders)."""
    hits: dict[str, _Hit] = {}
    count = 0
    for blob in read_blobs(git, blobs, cat):
        if blob.error:
            errors.append(_read_error(blob))
            continue
        count += 1
        hit = _blob_keys(engine, blob, display(blob.path), stats, errors)
        if hit is not None:
            hits[blob.sha] = hit
        if tick is not None:
            tick(count, stats.bytes_scanned)
    return hits, count


def _first_pass(git: Git, engine, blobs: BlobList, report: Report, ticker: Ticker) -> dict[str, _Hit]:
    stats = report.stats
    hits, count = _scan_blobs(git, engine, blobs, stats, report.errors, ticker.tick)
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
_WORKER: tuple | None = None
_CAT: CatFile | None = None  # a worker's cat-file (never the parent's: created after the fork)


def _worker_init() -> None:
    import signal

    from .parallel import exit_on_signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, exit_on_signal)  # never SIG_DFL: see parallel._worker_init


def _scan_batch(items: list[tuple[str, bytes]]) -> tuple[dict[str, _Hit], Stats, list[ScanError], int]:
    global _CAT
    git, engine = _WORKER  # type: ignore[misc]
    if _CAT is None or _CAT.git is not git:
        if _CAT is not None:
            _CAT.close()  # another scan's
        _CAT = CatFile(git, LEAN_CONFIG)  # this worker's own, kept for all its batches (in pack order)
    stats = Stats()
    errors: list[ScanError] = []
    hits, count = _scan_blobs(git, engine, BlobList.of(items), stats, errors, cat=_CAT)
    give_back()
    return hits, stats, errors, count


def _object_count(git: Git) -> int:
    code, out, _ = git.status("count-objects", "-v")
    total = 0
    for line in out.decode("ascii", "replace").splitlines():
        name, _, value = line.partition(": ")
        if name in ("count", "in-pack") and value.strip().isdigit():
            total += int(value)
    return total


class _Background:
    """``fn(*args)`` run in a thread; ``result()`` waits for it, None if it
    failed (the caller then does the work itself)."""

    def __init__(self, fn, *args) -> None:
        self._value = None
        self._thread = threading.Thread(target=self._run, args=(fn, args), name="keyscan-prefetch", daemon=True)
        self._thread.start()

    def _run(self, fn, args) -> None:
        try:
            self._value = fn(*args)
        except (KeyscanError, OSError, ValueError):
            pass

    def result(self):
        self._thread.join()
        return self._value


def _first_pass_parallel(git: Git, engine, revs: list[str], keep, extra, report: Report, ticker: Ticker, jobs: int) -> tuple[dict[str, _Hit], _Background | None]:
    """The first pass in ``jobs`` worker processes, and the commit graph
    that provenance needs, read in the background while the blobs are
    listed (a core is free then: 1.4 s of provenance's serial tail on git's
    repository)."""
    import multiprocessing

    from .parallel import _Pool, collect, shutdown, warm

    global _WORKER
    _WORKER = (git, engine)
    warm(engine)
    pool = _Pool(jobs, initializer=_worker_init, context=multiprocessing.get_context("fork"))  # see parallel._Pool
    stats = report.stats
    hits: dict[str, _Hit] = {}
    count = 0
    blobs = BlobList()  # 24 bytes a blob (and each path once), and its index by id until the order is known
    graph: _Background | None = None
    try:
        graph = _Background(commit_graph, git, revs)  # after the fork: no thread in a worker
        fill_blobs(git, revs, blobs, keep, extra, lambda n: ticker.tick(n, 0, "listing"), graph=graph.result)
        batches = blobs.spill(in_pack_order(git, blobs), PARALLEL_BATCH)
        give_back()  # what the listing and the ordering took, freed but kept by the heap
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
    if blobs.error:
        report.errors.append(ScanError("history", "git", f"listing objects failed ({blobs.error}): the history was not scanned completely"))
    ticker.tick(count, stats.bytes_scanned, force=True)
    stats.extra["blobs"] = count
    report.errors.extend(_missing(sha) for sha in blobs.missing)
    return hits, graph


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
            # An archive's notes were the first pass's to give (or are about
            # a version before --since): none here.
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


def _events(git: Git, revs: list[str], hits: dict[str, _Hit], jobs: int = 1, graph: CommitGraph | None = None) -> dict[tuple[Key, bytes], list[_Event]]:
    """For each (key, path): the commits that added or removed it there."""
    commits: list[CommitChanges] = []
    shas = sorted(hits)
    for i in range(0, len(shas), FIND_OBJECT_BATCH):
        commits.extend(log_changes(git, revs, find_objects=shas[i:i + FIND_OBJECT_BATCH], jobs=jobs, graph=graph))
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


def _provenance(git: Git, engine, revs: list[str], head: str | None, hits: dict[str, _Hit], report: Report, bare: bool = False, jobs: int = 1, graph: CommitGraph | None = None) -> None:
    """Introduction, removal and refs of each key found. In a bare
    repository (a server, or a mirror clone) every ref was pushed there.
    ``graph``: ``commit_graph(git, revs)`` when it was read already; with
    ``revs == ["--all"]`` it is also the walk ``refs_containing`` needs."""
    timeline = _events(git, revs, hits, jobs, graph)
    paths = sorted({path for (_, path) in timeline} | {hit.path for hit in hits.values()})
    head_keys = _keys_at_head(git, engine, head, paths, hits, report.errors)

    # Where each (key, path) came in, and the blobs to read again to locate it.
    plan: dict[tuple[Key, bytes], tuple[_Event, dict]] = {}
    ref_cache = refs_containing(git, (e.commit.sha for events in timeline.values() for e in events if e.added), graph if revs == ["--all"] else None)
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
            for fragment in history_fragments(blob, display(path), scratch, infos[commit], errors):
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
