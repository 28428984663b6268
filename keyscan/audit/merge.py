"""One report from many repositories: the audit's own results, or shard
reports (``keyscan merge``).

The merged report is an ordinary Report with ``command`` "audit": every
finding, suppressed finding and error names its repository
(``repository``), paths stay relative to the repository, and
``stats.repositories`` holds one summary row per repository:

    {"repository": ..., "status": "complete" | "incomplete" | "failed",
     "head": <audited HEAD commit or null>,
     "findings": n, "by_severity": {...}, "keys_at_head": n,
     "keys_only_in_history": n, "suppressed": n, "errors": n}

``keys_at_head`` counts distinct keys (fingerprints) with a finding still at
HEAD; ``keys_only_in_history`` those with none. Nothing in it depends on
timing, the executor or the cache, so an audit on one machine, on a
cluster, in shards merged later, or incrementally gives the same bytes.

Report formats without a place for the repository (text, SARIF, GitLab,
JUnit, GitHub, HTML) show it as the first part of each path
(``github.com/org/api/src/config.py``); the JSON report keeps the two apart.
The text report starts with the summary of the repositories that have
findings or errors.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any, Iterable

from ..errors import KeyscanError
from ..models import Report, ScanError, Stats
from ..reporters.common import printable, severity_counts

SUMMARY_FIELDS = ("repository", "status", "head", "findings", "by_severity", "keys_at_head", "keys_only_in_history", "suppressed", "errors")


def tag(report: Report, repository: str) -> Report:
    """``report`` with every finding, suppressed finding and error naming
    ``repository``."""
    out = Report(command="audit", stats=report.stats)
    out.findings = [replace(f, repository=repository) for f in report.findings]
    out.suppressed = [s._replace(finding=replace(s.finding, repository=repository)) for s in report.suppressed]
    out.errors = [e._replace(repository=repository) for e in report.errors]
    return out


def summary_row(repository: str, report: Report, head: str | None, failed: bool) -> dict[str, Any]:
    at_head = {f.fingerprint for f in report.findings if (f.lifecycle or {}).get("present_at_head")}
    keys = {f.fingerprint for f in report.findings}
    status = "failed" if failed else ("incomplete" if report.errors else "complete")
    return {
        "repository": repository,
        "status": status,
        "head": head,
        "findings": len(report.findings),
        "by_severity": severity_counts(report.findings),
        "keys_at_head": len(at_head),
        "keys_only_in_history": len(keys - at_head),
        "suppressed": len(report.suppressed),
        "errors": len(report.errors),
    }


def _error_key(e: ScanError) -> tuple:
    return (e.repository or "", e.path, e.kind, e.message, e.rule_id or "")


def combine(parts: Iterable[tuple[Report, dict[str, Any]]], warnings: Iterable[str] = ()) -> Report:
    """One audit report from (tagged report, summary row) per repository;
    ``warnings`` already name their repository."""
    merged = Report(command="audit")
    stats = merged.stats
    rows: list[dict[str, Any]] = []
    warnings = list(warnings)
    blobs = 0
    for report, row in parts:
        merged.findings.extend(report.findings)
        merged.suppressed.extend(report.suppressed)
        merged.errors.extend(report.errors)
        s = report.stats
        stats.files_scanned += s.files_scanned
        stats.bytes_scanned += s.bytes_scanned
        for reason, n in s.skipped.items():
            stats.skipped[reason] = stats.skipped.get(reason, 0) + n
        stats.skipped_paths.extend((f"{row['repository']}/{p}", why) for p, why in s.skipped_paths)
        value = s.extra.get("blobs")
        if isinstance(value, int) and not isinstance(value, bool):
            blobs += value
        for w in s.extra.get("warnings") or ():
            text = str(w)
            warnings.append(text if text.startswith(row["repository"]) else f"{row['repository']}: {text}")
        rows.append(row)
    rows.sort(key=lambda r: r["repository"])
    names = [r["repository"] for r in rows]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise KeyscanError(f"repository {dup} appears in more than one report (overlapping shards?)")
    merged.findings.sort(key=lambda f: f.sort_key())
    merged.suppressed.sort(key=lambda s: (s.finding.sort_key(), s.reason, s.detail))
    merged.errors.sort(key=_error_key)
    merged.stats.skipped_paths.sort()
    stats.extra["blobs"] = blobs
    stats.extra["warnings"] = sorted(set(warnings))
    stats.extra["repositories"] = rows
    return merged


def incomplete(report: Report) -> bool:
    return bool(report.errors) or any(r.get("status") != "complete" for r in report.stats.extra.get("repositories") or ())


def for_display(report: Report) -> Report:
    """The report with each repository shown as the first part of its paths,
    for formats that have no place of their own for it."""
    def path(repo: str | None, p: str) -> str:
        if not repo:
            return p
        return f"{repo}/{p}" if p else repo

    out = Report(command=report.command, stats=report.stats)
    out.findings = [replace(f, path=path(f.repository, f.path)) for f in report.findings]
    out.suppressed = [s._replace(finding=replace(s.finding, path=path(s.finding.repository, s.finding.path))) for s in report.suppressed]
    out.errors = [e._replace(path=path(e.repository, e.path)) for e in report.errors]
    return out


def summary_text(report: Report, limit: int = 200) -> str:
    """The per-repository table at the top of the text report: those with
    findings or errors (at most ``limit`` rows), then a count of the rest."""
    rows = report.stats.extra.get("repositories") or []
    if not rows:
        return ""
    shown = [r for r in rows if r["findings"] or r["errors"] or r["status"] != "complete"]
    bad = sum(1 for r in rows if r["status"] != "complete")
    head = f"Repositories: {len(rows)} audited"
    if bad:
        head += f", {bad} incomplete or failed (see Errors)"
    out = [head + "."]
    if shown:
        width = min(60, max(len(printable(r["repository"])) for r in shown[:limit]))
        out.append(f"  {'repository':<{width}}  {'status':<10}  crit  high   med   low  info  keys@HEAD  history-only  errors")
        for r in shown[:limit]:
            sev = r["by_severity"]
            out.append(
                f"  {printable(r['repository']):<{width}}  {r['status']:<10}  {sev.get('critical', 0):>4}  {sev.get('high', 0):>4}  {sev.get('medium', 0):>4}"
                f"  {sev.get('low', 0):>4}  {sev.get('info', 0):>4}  {r['keys_at_head']:>9}  {r['keys_only_in_history']:>12}  {r['errors']:>6}"
            )
        if len(shown) > limit:
            out.append(f"  ... and {len(shown) - limit} more (the JSON report lists every repository)")
    clean_count = len(rows) - len(shown)
    if clean_count:
        out.append(f"  {clean_count} repositor{'y' if clean_count == 1 else 'ies'} with no findings and no errors.")
    return "\n".join(out) + "\n\n"


def _rows_of(report: Report, where: str) -> list[dict[str, Any]]:
    rows = report.stats.extra.get("repositories")
    if not isinstance(rows, list) or not all(isinstance(r, dict) and isinstance(r.get("repository"), str) for r in rows):
        raise KeyscanError(f"{where}: not a keyscan audit report ('stats.repositories' missing; make shards with keyscan audit --format json)")
    for r in rows:
        for key in SUMMARY_FIELDS:
            if key not in r:
                raise KeyscanError(f"{where}: a repository summary has no '{key}'")
    return rows


def merge_reports(reports: list[tuple[str, Report]]) -> Report:
    """One audit report from shard reports (``keyscan merge``)."""
    parts = []
    warnings: list[str] = []
    for where, report in reports:
        if report.command != "audit":
            raise KeyscanError(f"{where}: a '{report.command}' report, not an audit report (make shards with keyscan audit --format json)")
        rows = _rows_of(report, where)
        by_repo: dict[str, Report] = {r["repository"]: Report(command="audit", stats=Stats()) for r in rows}
        for f in report.findings:
            by_repo.setdefault(f.repository or "", Report(command="audit")).findings.append(f)
        for s in report.suppressed:
            by_repo.setdefault(s.finding.repository or "", Report(command="audit")).suppressed.append(s)
        for e in report.errors:
            by_repo.setdefault(e.repository or "", Report(command="audit")).errors.append(e)
        stray = sorted(set(by_repo) - {r["repository"] for r in rows})
        if stray:
            raise KeyscanError(f"{where}: findings of repository '{stray[0]}' that its summary does not list")
        # Stats are kept for the whole shard (not per repository): carry them
        # on its first repository.
        if rows:
            first = rows[0]["repository"]
            shard_stats = Stats(report.stats.files_scanned, report.stats.bytes_scanned, dict(report.stats.skipped))
            shard_stats.extra["blobs"] = report.stats.extra.get("blobs", 0)
            by_repo[first].stats = shard_stats
        warnings.extend(str(w) for w in report.stats.extra.get("warnings") or ())
        for r in rows:
            parts.append((by_repo[r["repository"]], dict(r)))
    return combine(parts, warnings)
