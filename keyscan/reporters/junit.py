"""JUnit XML for Jenkins, GitLab (``artifacts: reports: junit``) and other
test-report readers.

One test case per finding: a failure when it is at or above ``--fail-on``,
a passing case (details in ``system-out``) below it. Suppressed findings are
skipped cases that say why; scan errors are error cases. A clean scan is one
passing case, so readers never see an empty suite. Every string is cleaned
(control characters shown as escapes) before XML escaping, so the file is
valid XML 1.0 whatever the file names and commit messages hold.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

from .. import __version__
from ..models import SEVERITY_RANK, Finding, Report
from . import RenderOptions
from .common import shown_secret
from .guidance import clean, exposure_label, rotation_lines, source_label, sorted_findings, sorted_suppressed, summary_line, where


def _case_name(f: Finding) -> str:
    return f"{where(f)}: {clean(f.name)}"


def _classname(f: Finding) -> str:
    return f"keyscan.{clean(f.rule_id)}"


def _body(f: Finding, secret: str) -> str:
    lines = [
        summary_line(f, secret),
        f"Severity: {f.severity}",
        f"Where: {where(f)}",
        f"Found in: {source_label(f)} ({exposure_label(f)})",
        f"Fingerprint: {clean(f.fingerprint)}",
    ]
    if f.commit and f.commit.get("sha"):
        c = f.commit
        lines.append(f"Commit: {clean(c.get('sha'))} by {clean(c.get('author', '?'))} on {clean(c.get('date', '?'))}: {clean(c.get('subject', ''))}")
    if f.lifecycle:
        life = f.lifecycle
        if life.get("present_at_head"):
            lines.append("Still present at HEAD.")
        elif life.get("removed"):
            removed = life["removed"].get("sha") if isinstance(life["removed"], dict) else life["removed"]
            lines.append(f"Removed in commit {clean(removed)} (history still holds it).")
    lines.append("")
    lines.append("What to do:")
    lines += rotation_lines(f)
    return "\n".join(lines) + "\n"


def _case(parent: ET.Element, f: Finding) -> ET.Element:
    attrs = {"name": _case_name(f), "classname": _classname(f), "file": clean(f.path), "line": str(f.line)}
    return ET.SubElement(parent, "testcase", attrs)


def junit_tree(report: Report, options: RenderOptions) -> ET.Element:
    findings = sorted_findings(report.findings)
    suppressed = sorted_suppressed(report)
    errors = sorted(report.errors)
    gate = SEVERITY_RANK[options.fail_on]
    failing = [f for f in findings if SEVERITY_RANK[f.severity] >= gate]
    tests = len(findings) + len(suppressed) + len(errors)
    clean_scan = tests == 0
    if clean_scan:
        tests = 1
    counts = {"tests": str(tests), "failures": str(len(failing)), "errors": str(len(errors)), "skipped": str(len(suppressed))}

    root = ET.Element("testsuites", {"name": "keyscan", **counts})
    suite_attrs = {"name": f"keyscan {clean(report.command)}", **counts}
    if options.started:
        suite_attrs["timestamp"] = options.started
    suite = ET.SubElement(root, "testsuite", suite_attrs)
    props = ET.SubElement(suite, "properties")
    ET.SubElement(props, "property", {"name": "keyscan.version", "value": __version__})
    ET.SubElement(props, "property", {"name": "keyscan.fail_on", "value": options.fail_on})

    for f in findings:
        case = _case(suite, f)
        secret = shown_secret(f, options.redact)
        if SEVERITY_RANK[f.severity] >= gate:
            failure = ET.SubElement(case, "failure", {"message": f"{f.severity}: {summary_line(f, secret)}", "type": clean(f.rule_id)})
            failure.text = _body(f, secret)
        else:
            out = ET.SubElement(case, "system-out")
            out.text = f"Below --fail-on {options.fail_on}.\n" + _body(f, secret)
    for s in suppressed:
        case = _case(suite, s.finding)
        why = f"{s.reason}: {s.detail}" if s.detail else s.reason
        ET.SubElement(case, "skipped", {"message": f"suppressed ({clean(why)})"})
    for e in errors:
        case = ET.SubElement(suite, "testcase", {"name": f"{clean(e.path)}: could not scan", "classname": f"keyscan.errors.{clean(e.kind)}", "file": clean(e.path)})
        err = ET.SubElement(case, "error", {"message": f"{clean(e.kind)}: {clean(e.message)}", "type": clean(e.kind)})
        err.text = f"keyscan did not read all of {clean(e.path)}: {clean(e.message)}\n"
    if clean_scan:
        ET.SubElement(suite, "testcase", {"name": "no leaked keys found", "classname": "keyscan"})
    return root


def render(report: Report, options: RenderOptions) -> str:
    root = junit_tree(report, options)
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
