"""The baseline filter: a set subtraction. Findings whose rule and secret
(and path, when the entry has one) are in the baseline are suppressed with
reason ``baseline``; everything else is new and kept."""
from __future__ import annotations

import os

from ..baseline import Baseline, Keyer
from ..models import Finding, Suppressed


def baseline_filter(baseline: Baseline, scan_root: str | None):
    keyer = Keyer(baseline, scan_root)
    try:
        shown = os.path.relpath(baseline.file)
    except ValueError:
        shown = baseline.file
    if shown.startswith(".."):
        shown = baseline.file
    detail = f"known in {shown}"

    def apply(findings: list[Finding]) -> tuple[list[Finding], list[Suppressed]]:
        kept: list[Finding] = []
        suppressed: list[Suppressed] = []
        for f in findings:
            if keyer.known(f):
                suppressed.append(Suppressed(f, "baseline", detail))
            else:
                kept.append(f)
        return kept, suppressed

    return apply
