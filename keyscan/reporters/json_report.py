"""JSON report: one object with findings, suppressed, errors, stats."""
from __future__ import annotations

import json

from .. import __version__
from ..models import Report
from . import RenderOptions
from .common import finding_dict, severity_counts


def report_dict(report: Report, options: RenderOptions) -> dict:
    return {
        "tool": {"name": "keyscan", "version": __version__},
        "command": report.command,
        "summary": {"findings": len(report.findings), "by_severity": severity_counts(report.findings), "suppressed": len(report.suppressed), "errors": len(report.errors)},
        "findings": [finding_dict(f, options.redact) for f in report.findings],
        "suppressed": [
            dict(finding_dict(s.finding, options.redact), suppression={"reason": s.reason, "detail": s.detail})
            for s in report.suppressed
        ],
        "errors": [{k: v for k, v in e._asdict().items() if k != "repository" or v is not None} for e in report.errors],
        "stats": report.stats.as_dict(),
    }


def render(report: Report, options: RenderOptions) -> str:
    return json.dumps(report_dict(report, options), indent=2, ensure_ascii=False) + "\n"
