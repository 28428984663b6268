"""GitHub Actions workflow commands: one annotation per finding.

    ::error file=src/app.ts,line=3,col=14,endColumn=52,title=Immutable secret API key (high)::...

critical/high -> error, medium -> warning, low/info -> notice. Suppressed
findings are not annotated. Scan errors are warnings. A plain summary line
ends the output.

Everything untrusted is cleaned first (no raw newline, carriage return or
escape character can reach the log, so a file name cannot start a workflow
command of its own or drive the terminal), then percent-encoded the way the
Actions runner decodes it: ``%``, CR and LF in messages, and also ``:`` and
``,`` in properties.
"""
from __future__ import annotations

from ..models import Finding, Report, gate_failures
from . import RenderOptions
from .common import severity_counts, shown_secret
from .guidance import clean, rotation_lines, secret_span, sorted_findings, summary_line

COMMANDS = {"critical": "error", "high": "error", "medium": "warning", "low": "notice", "info": "notice"}


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(name: str, message: str, **props: object) -> str:
    args = ",".join(f"{key}={escape_property(str(value))}" for key, value in props.items() if value is not None)
    return f"::{name}{' ' + args if args else ''}::{escape_data(message)}"


def _annotation(f: Finding, options: RenderOptions) -> str:
    secret = shown_secret(f, options.redact)
    lines = [summary_line(f, secret) + "."]
    if f.original and f.original.get("path"):
        lines.append(f"Original source: {clean(f.original['path'])}:{f.original.get('line', '?')}")
    if f.commit and f.commit.get("sha"):
        c = f.commit
        lines.append(f"Introduced in commit {clean(c['sha'])[:12]} by {clean(c.get('author', '?'))}: {clean(c.get('subject', ''))}")
    lines.append("What to do:")
    lines += rotation_lines(f)
    span = secret_span(f)
    end = f.column + span if span else None
    return command(
        COMMANDS[f.severity],
        "\n".join(lines),
        file=clean(f.path),
        line=f.line,
        col=f.column,
        endColumn=end,
        title=f"{clean(f.name)} ({f.severity})",
    )


def render(report: Report, options: RenderOptions) -> str:
    out = [_annotation(f, options) for f in sorted_findings(report.findings)]
    for e in sorted(report.errors):
        out.append(command("warning", f"keyscan did not read everything: {clean(e.kind)}: {clean(e.message)}", file=clean(e.path) or None, title="keyscan scan error"))
    counts = severity_counts(report.findings)
    parts = ", ".join(f"{n} {sev}" for sev, n in counts.items() if n)
    n = len(report.findings)
    failing = len(gate_failures(report.findings, options.fail_on))
    summary = f"keyscan: {n} finding{'s' if n != 1 else ''}"
    if parts:
        summary += f" ({parts})"
    if report.suppressed:
        summary += f", {len(report.suppressed)} suppressed"
    summary += f"; {failing} at or above --fail-on {options.fail_on}."
    out.append(summary)
    return "\n".join(out) + "\n"
