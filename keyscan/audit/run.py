"""The audit itself: hand each repository to an executor, keep each result
in the cache as it arrives, and build the merged report.

Per repository, a worker fetches it, then (see ``worker.audit_repository``):

* refs and rules as in the cached result: nothing is scanned ("unchanged");
* refs moved, same rules: only the new commits are scanned and the cached
  report is brought up to date ("incremental", see ``incremental``), or,
  when that cannot give a full audit's answer, the repository is audited
  in full ("full");
* no cached result (or other rules, or the last audit could not read
  everything): a full audit.

A repository that cannot be fetched or audited is an error in the report
(with git's reason) and makes the audit incomplete; its last complete result,
if the cache has one, is still reported, and the error says so. The others
finish regardless.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, NamedTuple, Sequence

from ..models import Report
from . import cache as cache_mod
from .executors import open_executor, run as run_tasks
from .gitcache import FETCH_TIMEOUT
from .merge import combine, summary_row, tag
from .repos import Repository
from .serial import from_dict
from .worker import ScanSpec, Task, audit_repository, failed_error, preload


@dataclass
class AuditOptions:
    cache_dir: str = field(default_factory=cache_mod.default_dir)
    executor: str = "local"  # "local" | "dask"
    jobs: int = 1  # local: worker processes; dask without a scheduler: LocalCluster workers
    scheduler: str | None = None  # dask scheduler address
    fetch_timeout: float = FETCH_TIMEOUT
    on_result: Callable[["Done"], None] | None = None  # progress, called as each repository finishes


class Done(NamedTuple):
    """One repository finished (for progress lines)."""

    count: int  # how many have finished so far
    total: int
    repository: str
    status: str  # unchanged | incremental | full | failed
    why: str
    blobs: int  # blobs read for it in this run
    seconds: float


class AuditResult(NamedTuple):
    report: Report
    statuses: dict[str, int]  # status -> number of repositories
    seconds: float


def audit(repos: Sequence[Repository], spec: ScanSpec, options: AuditOptions, engine=None) -> AuditResult:
    """Audit ``repos`` with ``spec``; ``engine`` (compiled ``spec`` rules) is
    shared with forked local workers when given."""
    started = time.monotonic()
    layout = cache_mod.Layout(options.cache_dir)
    digest = spec.digest
    if engine is not None:
        preload(spec, engine)
    previous = [layout.load(r, digest) for r in repos]
    # Largest first (by the blobs their last audit read), so that a big
    # repository does not start last and hold up the end of the audit.
    order = sorted(range(len(repos)), key=lambda i: -_size(previous[i]))
    tasks = [Task(repos[i], layout.root, spec, previous[i], options.fetch_timeout) for i in order]
    results: dict[int, dict] = {}
    statuses: dict[str, int] = {}
    with open_executor(options.executor, options.jobs, options.scheduler) as (executor, solo):
        for k, (kind, value) in run_tasks(executor, audit_repository, tasks, solo=solo, parallel_solo=options.jobs):
            i = order[k]
            repo = repos[i]
            if kind == "ok" and isinstance(value, dict):
                result = value
            else:
                result = {"repository": repo.identity, "status": "failed", "error": {"kind": "worker", "message": str(value)}, "seconds": 0.0}
            if result.get("entry") is not None:
                layout.save(repo, digest, result["entry"])
            results[i] = result
            status = str(result.get("status"))
            statuses[status] = statuses.get(status, 0) + 1
            if options.on_result is not None:
                err = result.get("error") or {}
                options.on_result(Done(len(results), len(repos), repo.identity, status, str(result.get("why") or err.get("message", "")), int(result.get("blobs") or 0), float(result.get("seconds") or 0.0)))
    parts = []
    rules = engine.ruleset.by_id() if engine is not None else {}
    for i, repo in enumerate(repos):
        result = results.get(i, {"status": "failed", "error": {"kind": "worker", "message": "not audited"}})
        entry = result.get("entry") or previous[i]
        failed = result.get("status") == "failed"
        if entry is not None:
            report = from_dict(entry["report"], f"{layout.result_path(repo, digest)}", rules)
            head = entry["tips"].get("HEAD")
        else:
            report, head = Report(command="history"), None
        tagged = tag(report, repo.identity)
        if failed:
            err = failed_error(result)._replace(repository=repo.identity)
            if entry is not None:
                err = err._replace(message=err.message + " (the findings shown are from its last complete audit)")
            tagged.errors.append(err)
        parts.append((tagged, summary_row(repo.identity, tagged, head, failed)))
    return AuditResult(combine(parts), statuses, time.monotonic() - started)


def _size(entry: dict | None) -> int:
    try:
        blobs = entry["report"]["stats"]["blobs"]  # type: ignore[index]
    except (KeyError, TypeError):
        return 0
    return blobs if isinstance(blobs, int) else 0
