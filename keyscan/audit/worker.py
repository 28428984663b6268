"""What runs for one repository, in a worker process of the local pool or
on a dask worker: fetch it into the cache, then reuse, extend or redo its
audit.

Everything a task needs travels in it as plain data (picklable): the
repository, the cache folder, the previous result, and a ScanSpec (where the
rules come from, the suppression settings as loaded by the coordinator: its
config and baseline, so a remote worker needs neither file). Each worker
process compiles the rules once and keeps them for its next tasks; it checks
that it got the coordinator's rule set (same digest), so a worker with
another keyscan version or other rule files fails its tasks instead of
auditing with different rules.

The task returns a plain dict: the new result (redacted, as stored in the
cache), or "unchanged" when the refs and the rules are those of the
previous result, or the reason it failed.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from .. import __version__
from ..errors import KeyscanError
from ..models import Report, ScanError
from . import cache as cache_mod
from .gitcache import FETCH_TIMEOUT, FetchError, locked, update
from .repos import Repository, without_credentials


@dataclass(frozen=True)
class ScanSpec:
    """How every repository is scanned; its ``digest`` keys the results."""

    rule_dirs: tuple[str, ...]
    only: tuple[str, ...]
    disable: tuple[str, ...]
    ruleset_digest: str
    inline: bool = True
    config: Any = None  # keyscan.config.Config: exclude patterns and [[allow]] tables
    baseline: Any = None  # keyscan.baseline.Baseline (salt and entries), or None
    version: str = __version__

    @property
    def digest(self) -> str:
        cfg = self.config
        allow = [(a.reason, a.fingerprint, list(a.paths), list(a.rules)) for a in (cfg.allow if cfg else ())]
        base = self.baseline
        parts = {
            "version": self.version,
            "rules": self.ruleset_digest,
            "inline": self.inline,
            "exclude": list(cfg.exclude) if cfg else [],
            "allow": allow,
            "baseline": [base.salt, sorted(e.sort_key() for e in base.entries)] if base else None,
        }
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


class Task(NamedTuple):
    repo: Repository
    cache_dir: str
    spec: ScanSpec
    previous: dict | None  # the cache entry of the last complete audit, if any
    fetch_timeout: float = FETCH_TIMEOUT


_ENGINES: dict[str, Any] = {}


def engine_for(spec: ScanSpec):
    """The compiled rules of ``spec`` (once per process)."""
    engine = _ENGINES.get(spec.ruleset_digest)
    if engine is None:
        from ..engine import Engine
        from ..rulefile import load_ruleset

        ruleset = load_ruleset([Path(d) for d in spec.rule_dirs]).without(set(spec.disable))
        if spec.only:
            ruleset = ruleset.only(set(spec.only))
        if ruleset.digest != spec.ruleset_digest:
            raise KeyscanError(
                f"this worker's rules differ from the auditing machine's (digest {ruleset.digest} != {spec.ruleset_digest}): "
                f"install keyscan {spec.version} on every worker and make --rules folders reachable at the same paths"
            )
        engine = _ENGINES[spec.ruleset_digest] = Engine(ruleset)
    return engine


def preload(spec: ScanSpec, engine) -> None:
    """Give this process ``engine`` for ``spec`` (before a fork, so the local
    pool's workers inherit it compiled)."""
    _ENGINES[spec.ruleset_digest] = engine


def _filters(spec: ScanSpec) -> list:
    out = []
    if spec.inline:
        from ..filters.inline import inline_filter

        out.append(inline_filter)
    cfg = spec.config
    if cfg is not None and cfg.allow:
        from ..filters.config import config_filter

        # Patterns are matched against each repository's own paths.
        out.append(config_filter(cfg, cfg.root))
    if spec.baseline is not None:
        from ..filters.baseline import baseline_filter

        out.append(baseline_filter(spec.baseline, spec.baseline.root))
    return out


def _excluder(spec: ScanSpec, git_dir: str):
    """(exclude(abs_path, is_dir) for keyscan.history, keep(repo_path) for
    the incremental checks), matching the config's ``exclude`` against the
    repository's own paths; (None, None) without patterns."""
    cfg = spec.config
    if cfg is None or not cfg.exclude:
        return None, None
    prefixes = sorted({os.path.abspath(git_dir), os.path.realpath(git_dir)}, key=len, reverse=True)

    def exclude(abs_path: str, is_dir: bool = False) -> bool:
        for prefix in prefixes:
            if abs_path.startswith(prefix + os.sep):
                return cfg.is_excluded(os.path.join(cfg.root, abs_path[len(prefix) + 1:]), is_dir)
        return False

    def keep(path: bytes) -> bool:
        return not cfg.is_excluded(os.path.join(cfg.root, os.fsdecode(path)), False)

    return exclude, keep


def _scrub(report: Report, git_dir: str, identity: str) -> None:
    """Name the repository, not the cache folder, in warnings and errors
    (reports must not depend on where the cache is)."""
    def fix(text: str) -> str:
        for p in (os.path.realpath(git_dir), os.path.abspath(git_dir)):
            text = text.replace(p, identity)
        return without_credentials(text)

    warnings = report.stats.extra.get("warnings")
    if isinstance(warnings, list):
        report.stats.extra["warnings"] = [fix(w) for w in warnings]
    report.errors = [e._replace(path=fix(e.path), message=fix(e.message)) for e in report.errors]


def _failed(task: Task, kind: str, message: str, started: float) -> dict:
    return {
        "repository": task.repo.identity,
        "status": "failed",
        "error": {"kind": kind, "message": without_credentials(message)},
        "seconds": round(time.monotonic() - started, 3),
    }


def audit_repository(task: Task) -> dict:
    """Fetch ``task.repo`` and audit what is new. Never raises for a problem
    with the repository: it comes back as ``status: failed``."""
    from ..history import HistoryOptions, scan_history
    from .incremental import rescan
    from .serial import from_dict, to_dict

    started = time.monotonic()
    repo, spec = task.repo, task.spec
    layout = cache_mod.Layout(task.cache_dir)
    git_dir = layout.git_dir(repo)
    digest = spec.digest
    previous = task.previous if cache_mod.valid_entry(task.previous, repo, digest) else None
    try:
        engine = engine_for(spec)
    except KeyscanError as exc:
        return _failed(task, "rules", str(exc), started)
    try:
        with locked(git_dir):
            snap = update(repo, git_dir, task.fetch_timeout)
            old_errors = bool(previous and previous["report"].get("errors"))
            if previous is not None and previous["tips"] == snap.tips and not old_errors:
                return {"repository": repo.identity, "status": "unchanged", "why": "refs unchanged", "blobs": 0, "seconds": round(time.monotonic() - started, 3)}
            exclude, keep = _excluder(spec, git_dir)
            options = HistoryOptions(exclude=exclude, filters=_filters(spec), jobs=1)
            report, status, why, blobs = None, "full", "first audit", 0
            if previous is not None and not old_errors:
                old = from_dict(previous["report"], f"{repo.identity} (cache)", engine.ruleset.by_id())
                outcome = rescan(git_dir, engine, options, old, previous["tips"], snap.tips, keep)
                report, why, blobs = outcome.report, outcome.why, outcome.blobs
                if report is not None:
                    status = "incremental"
            elif old_errors:
                why = "the previous audit could not read everything"
            if report is None:
                report = scan_history(git_dir, engine, options)
                blobs += int(report.stats.extra.get("blobs", 0) or 0)
            _scrub(report, git_dir, repo.identity)
            doc = to_dict(report)
            return {
                "repository": repo.identity,
                "status": status,
                "why": why,
                "blobs": blobs,
                "seconds": round(time.monotonic() - started, 3),
                "entry": cache_mod.entry(repo, digest, snap.tips, doc),
            }
    except FetchError as exc:
        return _failed(task, "fetch", str(exc), started)
    except KeyscanError as exc:
        return _failed(task, "git", str(exc), started)
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        return _failed(task, "read", f"{where}{exc.strerror or type(exc).__name__}", started)


def failed_error(result: dict) -> ScanError:
    err = result.get("error") or {}
    return ScanError("", str(err.get("kind", "audit")), str(err.get("message", "failed")), None, result.get("repository"))
