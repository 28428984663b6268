"""GitLab secret detection report (report schema 15.2.1), for
``artifacts: reports: secret_detection``.

One vulnerability per finding (suppressed findings are left out: GitLab has no
place for them). Vulnerability ids are UUIDs derived from the fingerprint and
the location, so they are stable across runs. The schema requires scan start
and end times: without ``--timestamps`` both are the Unix epoch, so the file
stays byte-for-byte the same for the same findings.
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from .. import __version__
from ..models import Finding, Report
from . import RenderOptions
from .common import shown_secret
from .guidance import clean, exposure_label, http_url, rotation_lines, source_label, sorted_findings, summary_line

VERSION = "15.2.1"
SCHEMA_URI = "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/v15.2.1/dist/secret-detection-report-format.json"
EPOCH = "1970-01-01T00:00:00"
NO_COMMIT = "0000000"  # what GitLab's own secret detection puts for a non-history scan
_NAMESPACE = uuid.UUID("6f0b3c1e-5d2a-4e8b-9c47-2a1f0e9d8b73")  # keyscan's own, made up
_SEVERITIES = {"critical": "Critical", "high": "High", "medium": "Medium", "low": "Low", "info": "Info"}
_ANALYZER = {"id": "keyscan", "name": "keyscan", "version": __version__, "vendor": {"name": "keyscan"}}
SOLUTION_MAX = 7000


def vulnerability_id(f: Finding) -> str:
    sha = (f.commit or {}).get("sha") or ""
    key = "\0".join([f.fingerprint, f.path, str(f.line), str(f.column), str(sha)])
    return str(uuid.uuid5(_NAMESPACE, key.encode("utf-8", "surrogatepass").decode("latin-1")))


def _solution(f: Finding) -> str:
    text = "Rotate the key, then remove it from the code:\n" + "\n".join(rotation_lines(f))
    if len(text) > SOLUTION_MAX:
        text = text[: SOLUTION_MAX - 1] + "…"
    return text


def _text(name: str, value: str) -> dict[str, Any]:
    return {"name": name, "type": "text", "value": value}


def _details(f: Finding, secret: str) -> dict[str, Any]:
    items: dict[str, Any] = {
        "severity": _text("Severity", f.severity),
        "key_class": _text("Key class", clean(f.key_class)),
        "environment": _text("Environment", clean(f.environment)),
        "exposure": _text("Exposure", exposure_label(f)),
        "source": _text("Found in", source_label(f)),
        "secret": _text("Secret (redacted)" if secret != f.secret else "Secret", clean(secret)),
        "fingerprint": _text("keyscan fingerprint", clean(f.fingerprint)),
    }
    if f.env_var:
        items["env_var"] = _text("Public build variable", clean(f.env_var))
    if f.original and f.original.get("path") and isinstance(f.original.get("line"), int) and f.original["line"] >= 1:
        items["original"] = {
            "name": "Original source (via source map)",
            "type": "file-location",
            "file_name": clean(f.original["path"]) or "?",
            "line_start": f.original["line"],
        }
    if f.commit and f.commit.get("sha"):
        items["commit"] = {"name": "Introduced in commit", "type": "commit", "value": clean(f.commit["sha"])}
    if f.lifecycle:
        life = f.lifecycle
        if life.get("present_at_head") is not None:
            items["present_at_head"] = {"name": "Still at HEAD", "type": "value", "value": bool(life["present_at_head"])}
        removed = life.get("removed")
        if isinstance(removed, dict):
            removed = removed.get("sha")
        if removed:
            items["removed"] = {"name": "Removed in commit", "type": "commit", "value": clean(removed)}
        if life.get("pushed") is not None:
            items["pushed"] = {"name": "Pushed to a remote", "type": "value", "value": bool(life["pushed"])}
    return items


def _vulnerability(f: Finding, options: RenderOptions) -> dict[str, Any]:
    secret = shown_secret(f, options.redact)
    commit: dict[str, Any] = {"sha": NO_COMMIT}
    if f.commit and f.commit.get("sha"):
        commit = {"sha": clean(f.commit["sha"])}
        for src, dst in (("author", "author"), ("date", "date"), ("subject", "message")):
            if f.commit.get(src):
                commit[dst] = clean(f.commit[src])
    links = []
    url = http_url((f.rotation or {}).get("url"))
    if url:
        links.append({"name": "Rotate the key", "url": url})
    links += [{"url": u} for u in (http_url(r) for r in f.references) if u and u != url]
    identifier: dict[str, Any] = {"type": "keyscan_rule_id", "name": f"keyscan rule {clean(f.rule_id)}", "value": clean(f.rule_id)}
    description = f"{summary_line(f, secret)}.\n\n{clean(f.description)}".rstrip()
    vuln: dict[str, Any] = {
        "id": vulnerability_id(f),
        "name": clean(f.name)[:255],
        "description": description,
        "severity": _SEVERITIES[f.severity],
        "solution": _solution(f),
        "identifiers": [identifier],
        "location": {"file": clean(f.path), "start_line": f.line, "end_line": f.line, "commit": commit},
        "raw_source_code_extract": clean(secret),
        "details": _details(f, secret),
    }
    if links:
        vuln["links"] = links
    return vuln


def gitlab_dict(report: Report, options: RenderOptions) -> dict[str, Any]:
    scan: dict[str, Any] = {
        "analyzer": dict(_ANALYZER),
        "scanner": dict(_ANALYZER),
        "type": "secret_detection",
        "status": "success",
        "start_time": options.started or EPOCH,
        "end_time": options.finished or options.started or EPOCH,
    }
    if report.errors:
        scan["messages"] = [
            {"level": "warn", "value": f"{clean(e.path)}: {clean(e.kind)}: {clean(e.message)}"} for e in sorted(report.errors)
        ]
    return {
        "version": VERSION,
        "schema": SCHEMA_URI,
        "scan": scan,
        "vulnerabilities": [_vulnerability(f, options) for f in sorted_findings(report.findings)],
    }


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(gitlab_dict(report, options), indent=2, ensure_ascii=False) + "\n"
