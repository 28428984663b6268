"""Allows from the project config (``[[allow]]`` tables): suppress findings
by fingerprint, path pattern and/or rule id, with a reason (``config``).

A fingerprint names one secret under one rule, so an allow by fingerprint
never hides a different key that later takes its place.
"""
from __future__ import annotations

from ..config import Allow, Config, finding_abs_path
from ..models import Finding, Suppressed


def _matches(allow: Allow, finding: Finding, cfg: Config, scan_root: str | None) -> bool:
    if allow.fingerprint is not None and allow.fingerprint != finding.fingerprint:
        return False
    if allow.rules and finding.rule_id not in allow.rules:
        return False
    if allow.spec is not None:
        origin = finding.source.get("kind", "worktree") if finding.source else "worktree"
        rel = cfg.relative(finding_abs_path(finding.path, origin, scan_root))
        if rel is None or not allow.spec.match_file(rel):
            return False
    return True


def config_filter(cfg: Config, scan_root: str | None):
    """A filter applying ``cfg.allow``; the first matching table gives the reason."""

    def apply(findings: list[Finding]) -> tuple[list[Finding], list[Suppressed]]:
        kept: list[Finding] = []
        suppressed: list[Suppressed] = []
        for f in findings:
            allow = next((a for a in cfg.allow if _matches(a, f, cfg, scan_root)), None)
            if allow is None:
                kept.append(f)
            else:
                suppressed.append(Suppressed(f, "config", allow.reason))
        return kept, suppressed

    return apply
