"""SARIF 2.1.0 for GitHub code scanning and other SARIF readers.

One run; ``tool.driver.rules`` holds the rules that have results (sorted by
id), each with its rotation steps as ``help``; one result per finding, and
one per suppressed finding carrying ``suppressions``. Paths are repository
(working directory) relative URIs under ``%SRCROOT%``; lines and columns are
1-based code-point columns (``columnKind``). No timestamps unless asked.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from .. import __version__
from ..models import Finding, Report
from . import RenderOptions
from .common import shown_secret
from .guidance import (
    LEVELS,
    clean,
    exposure_label,
    http_url,
    rotation,
    secret_span,
    severity_rank,
    sorted_findings,
    sorted_suppressed,
    summary_line,
)

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
SRCROOT = "%SRCROOT%"
FINGERPRINT_KEY = "keyscanFingerprint/v1"

# GitHub maps security-severity to its levels: > 9.0 critical, 7.0-8.9 high,
# 4.0-6.9 medium, 0.1-3.9 low. Info findings (publishable keys) get none.
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "3.0"}
PRECISION = {"secret": "very-high", "publishable": "very-high", "credential": "high", "generic": "medium"}
SUPPRESSION_KINDS = {"inline": "inSource"}  # everything else (baseline, config, placeholder) is external


def artifact_location(path: str) -> dict[str, Any]:
    """A SARIF artifactLocation for a finding path: a relative URI under
    %SRCROOT%, or a file:// URI for an absolute path. Every byte that is not
    an unreserved URI character or '/' is percent-encoded, so a file name
    carrying markup or control characters stays exact and inert."""
    try:
        raw = path.encode("utf-8", "surrogateescape")  # undecodable bytes of a file name
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogatepass")
    uri = quote(raw, safe="/")
    if path.startswith("/"):
        return {"uri": "file://" + uri}
    return {"uri": uri, "uriBaseId": SRCROOT}


def _pascal(name: str) -> str:
    words = re.findall(r"[A-Za-z0-9]+", name)
    return "".join(w[:1].upper() + w[1:] for w in words) or "Secret"


def _rule_notes(group: list[Finding]) -> list[str]:
    """Notes that every finding of a rule shares (the rule's own); the rest
    depend on where a key was found and go into each result's message."""
    common = rotation(group[0])[1]
    for f in group[1:]:
        notes = set(rotation(f)[1])
        common = [n for n in common if n in notes]
    return common


def _rule(rule_id: str, group: list[Finding]) -> dict[str, Any]:
    f0 = group[0]
    worst = max(group, key=severity_rank)
    steps, _, url = rotation(f0)
    notes = _rule_notes(group)
    name = clean(f0.name)
    description = clean(f0.description) or name
    text = [description, "", "How to rotate:"] + [f"{i}. {s}" for i, s in enumerate(steps, 1)]
    md = [description, "", "**How to rotate**", ""] + [f"{i}. {_md(s)}" for i, s in enumerate(steps, 1)]
    if notes:
        text += [""] + [f"Note: {n}" for n in notes]
        md += [""] + [f"> {_md(n)}" for n in notes]
    if url:
        text += ["", f"Rotate at: {url}"]
        md += ["", f"Rotate at: <{url}>"]
    refs = [u for u in (http_url(r) for r in f0.references) if u]
    if refs:
        text += ["", "References: " + ", ".join(refs)]
        md += ["", "References: " + ", ".join(f"<{u}>" for u in refs)]
    tags = ["security", "secret", f"key-class/{clean(f0.key_class)}", f"provider/{_slug(f0.provider)}"]
    props: dict[str, Any] = {"tags": tags, "precision": PRECISION.get(f0.key_class, "high")}
    if worst.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[worst.severity]
    rule: dict[str, Any] = {
        "id": clean(rule_id),
        "name": _pascal(f0.name),
        "shortDescription": {"text": name},
        "fullDescription": {"text": description},
        "help": {"text": "\n".join(text), "markdown": "\n".join(md)},
        "defaultConfiguration": {"level": LEVELS[worst.severity]},
        "properties": props,
    }
    help_uri = url or (refs[0] if refs else None)
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "unknown"


def _md(text: str) -> str:
    """Plain text made inert in Markdown (no links, emphasis or HTML)."""
    return re.sub(r"([\\`*_{}\[\]()<>#+!|~])", r"\\\1", text)


def _location(f: Finding) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": max(1, f.line), "startColumn": max(1, f.column)}
    span = secret_span(f)
    if span:
        region["endColumn"] = max(1, f.column) + span
    return {"physicalLocation": {"artifactLocation": artifact_location(f.path), "region": region}}


def _result(f: Finding, rule_index: int, rule_notes: list[str], options: RenderOptions) -> dict[str, Any]:
    secret = shown_secret(f, options.redact)
    extra = [n for n in rotation(f)[1] if n not in rule_notes]
    message = summary_line(f, secret) + "."
    if f.original and f.original.get("path"):
        message += f" Original source: {clean(f.original['path'])}:{f.original.get('line', '?')}."
    if f.commit and f.commit.get("sha"):
        message += f" Introduced in commit {clean(f.commit['sha'])[:12]}."
    if extra:
        message += " " + " ".join(extra)
    message += " See the rule's help for how to rotate it."
    props: dict[str, Any] = {
        "severity": f.severity,
        "environment": clean(f.environment),
        "exposure": clean(f.exposure),
        "keyClass": clean(f.key_class),
        "provider": clean(f.provider),
        "secret": clean(secret),
        "source": _cleaned(f.source),
    }
    if f.severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[f.severity]
    if f.env_var:
        props["envVar"] = clean(f.env_var)
    if f.commit:
        props["commit"] = _cleaned(f.commit)
    if f.lifecycle:
        props["lifecycle"] = _cleaned(f.lifecycle)
    result: dict[str, Any] = {
        "ruleId": clean(f.rule_id),
        "ruleIndex": rule_index,
        "level": LEVELS[f.severity],
        "message": {"text": message},
        "locations": [_location(f)],
        "partialFingerprints": {FINGERPRINT_KEY: clean(f.fingerprint)},
        "properties": props,
    }
    if f.original and f.original.get("path"):
        orig = f.original
        region: dict[str, Any] = {}
        if isinstance(orig.get("line"), int) and orig["line"] >= 1:
            region["startLine"] = orig["line"]
            if isinstance(orig.get("column"), int) and orig["column"] >= 1:
                region["startColumn"] = orig["column"]
        physical: dict[str, Any] = {"artifactLocation": artifact_location(str(orig["path"]))}
        if region:
            physical["region"] = region
        result["relatedLocations"] = [
            {"id": 1, "physicalLocation": physical, "message": {"text": f"Original source of the shipped key ({exposure_label(f)}), via the source map."}}
        ]
    return result


def _cleaned(value: Any) -> Any:
    """A JSON value with every string cleaned (keys too)."""
    if isinstance(value, dict):
        return {clean(k): _cleaned(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, (list, tuple)):
        return [_cleaned(v) for v in value]
    if isinstance(value, str):
        return clean(value)
    return value


def sarif_dict(report: Report, options: RenderOptions) -> dict[str, Any]:
    findings = sorted_findings(report.findings)
    suppressed = sorted_suppressed(report)
    groups: dict[str, list[Finding]] = {}
    for f in findings + [s.finding for s in suppressed]:
        groups.setdefault(f.rule_id, []).append(f)
    rule_ids = sorted(groups)
    index = {rid: i for i, rid in enumerate(rule_ids)}
    notes = {rid: _rule_notes(groups[rid]) for rid in rule_ids}
    results = [_result(f, index[f.rule_id], notes[f.rule_id], options) for f in findings]
    for s in suppressed:
        result = _result(s.finding, index[s.finding.rule_id], notes[s.finding.rule_id], options)
        justification = f"{s.reason}: {s.detail}" if s.detail else s.reason
        result["suppressions"] = [{"kind": SUPPRESSION_KINDS.get(s.reason, "external"), "status": "accepted", "justification": clean(justification)}]
        results.append(result)

    invocation: dict[str, Any] = {"executionSuccessful": True}
    if report.errors:
        invocation["toolExecutionNotifications"] = [
            {
                "level": "error",
                "message": {"text": f"{clean(e.path)}: {clean(e.kind)}: {clean(e.message)}"},
                "locations": [{"physicalLocation": {"artifactLocation": artifact_location(e.path)}}] if e.path else [],
                "descriptor": {"id": clean(e.kind)},
            }
            for e in sorted(report.errors)
        ]
    if options.started:
        invocation["startTimeUtc"] = options.started + "Z"
    if options.finished:
        invocation["endTimeUtc"] = options.finished + "Z"

    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "keyscan",
                "version": __version__,
                "semanticVersion": __version__,
                "rules": [_rule(rid, groups[rid]) for rid in rule_ids],
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {SRCROOT: {"description": {"text": "The folder keyscan was run in (the repository root in CI)."}}},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "properties": {"command": clean(report.command)},
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(sarif_dict(report, options), indent=2, ensure_ascii=False) + "\n"
