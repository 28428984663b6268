"""Text report for people: one line per finding, then what to do, once per
rule, then a summary line."""
from __future__ import annotations

from ..models import SEVERITY_RANK, Report, gate_failures
from . import RenderOptions
from .common import printable, severity_counts, shown_secret

_COLORS = {"critical": "\033[1;97;41m", "high": "\033[1;31m", "medium": "\033[33m", "low": "\033[36m", "info": "\033[2m"}
_RESET = "\033[0m"
_EXPOSURE_WORDS = {
    "source": "in source",
    "history": "in git history",
    "public-env": "in a public build variable",
    "bundle": "in a shipped bundle",
    "sourcemap": "in a shipped source map",
    "archive": "in a package archive",
}


def _sev(sev: str, color: bool) -> str:
    label = f"{sev:<8}"
    return f"{_COLORS[sev]}{label}{_RESET}" if color else label


def _location(f) -> str:
    return f"{printable(f.path)}:{f.line}:{f.column}"


def render(report: Report, options: RenderOptions) -> str:
    out: list[str] = []
    findings = report.findings
    for f in findings:
        extra = []
        if f.original:
            extra.append(f"from {printable(str(f.original.get('path')))}:{f.original.get('line')}")
        if f.env_var:
            extra.append(f"via {printable(f.env_var)}")
        if f.source.get("decoded"):
            extra.append("decoded " + "+".join(f.source["decoded"]))
        if f.commit:
            extra.append(f"commit {f.commit['sha'][:10]}")
        tail = f"  ({'; '.join(extra)})" if extra else ""
        out.append(f"{_location(f)}  {_sev(f.severity, options.color)}  {f.name}  {printable(shown_secret(f, options.redact))}{tail}")

    if options.show_suppressed and report.suppressed:
        out.append("")
        out.append(f"Suppressed ({len(report.suppressed)}):")
        for s in report.suppressed:
            f = s.finding
            why = f"{s.reason}: {printable(s.detail)}" if s.detail else s.reason
            out.append(f"  {_location(f)}  {f.severity:<8}  {f.name}  {printable(shown_secret(f, options.redact))}  [{why}]")

    seen: dict[str, list] = {}
    for f in findings:
        seen.setdefault(f.rule_id, []).append(f)
    if seen:
        out.append("")
        out.append("What to do:")
        for rule_id, group in sorted(seen.items(), key=lambda kv: (-max(SEVERITY_RANK[f.severity] for f in kv[1]), kv[0])):
            f0 = max(group, key=lambda f: SEVERITY_RANK[f.severity])
            where = sorted({_EXPOSURE_WORDS.get(f.exposure, f.exposure) for f in group})
            n = len(group)
            out.append(f"  {f0.name} ({rule_id}): {n} finding{'s' if n != 1 else ''}, {', '.join(where)}")
            if f0.key_class == "publishable":
                out.append("    Publishable keys are meant for client code: nothing to rotate. Check it is the key you meant to ship.")
                continue
            rot = f0.rotation or {}
            for i, step in enumerate(rot.get("steps", []), 1):
                out.append(f"    {i}. {step}")
            notes: list[str] = []
            for f in group:
                for note in (f.rotation or {}).get("notes", []):
                    if note not in notes:
                        notes.append(note)
            for note in notes:
                out.append(f"    Note: {printable(note)}")
            if rot.get("url"):
                out.append(f"    {rot['url']}")

    if report.errors:
        out.append("")
        out.append(f"Errors ({len(report.errors)}): the scan did not read everything.")
        for e in report.errors:
            out.append(f"  {printable(e.path)}: {e.kind}: {printable(e.message)}")

    if options.verbose and report.stats.skipped_paths:
        out.append("")
        out.append("Skipped:")
        for path, reason in report.stats.skipped_paths:
            out.append(f"  {printable(path)}: {reason}")

    counts = severity_counts(findings)
    parts = [f"{n} {sev}" for sev, n in counts.items() if n]
    failing = len(gate_failures(findings, options.fail_on))
    stats = report.stats
    skipped = sum(stats.skipped.values())
    summary = f"{len(findings)} finding{'s' if len(findings) != 1 else ''}"
    if parts:
        summary += " (" + ", ".join(parts) + ")"
    if report.suppressed:
        summary += f", {len(report.suppressed)} suppressed"
    summary += f"; {stats.files_scanned} files, {stats.bytes_scanned / 1e6:.1f} MB scanned"
    if skipped:
        summary += f", {skipped} skipped (-v lists them)"
    summary += f"; {failing} at or above --fail-on {options.fail_on}."
    if out:
        out.append("")
    out.append(summary)
    return "\n".join(out) + "\n"
