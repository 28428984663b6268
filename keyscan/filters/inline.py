"""Inline allows: a comment in the scanned file that says a finding is
intended, with the reason after it.

* ``keyscan:allow <reason>`` on the line of the finding;
* ``keyscan:allow-next-line <reason>`` on the line before it;
* for teams moving from other scanners: ``gitleaks:allow`` and
  ``pragma: allowlist secret`` (detect-secrets) on the line, and
  ``pragma: allowlist nextline secret`` on the line before.

Any comment syntax works, because the marker is looked for anywhere on the
line (``#``, ``//``, ``/* */``, ``<!-- -->``, ``--``, ``;`` ...). The text
after the marker, less a comment closer, is the reason shown in reports. An
allow covers every finding on its line.
"""
from __future__ import annotations

import re

from ..models import Finding, Suppressed

_SAME_LINE = re.compile(
    r"(?P<marker>keyscan:allow|gitleaks:allow)(?![\w-])|(?P<pragma>pragma:[ \t]*allowlist[ \t]+secret)(?![\w-])",
    re.IGNORECASE,
)
_NEXT_LINE = re.compile(
    r"(?P<marker>keyscan:allow-next-line)(?![\w-])|(?P<pragma>pragma:[ \t]*allowlist[ \t]+nextline[ \t]+secret)(?![\w-])",
    re.IGNORECASE,
)
_CLOSERS = re.compile(r"\s*(?:\*/|-->|--%>|%>|\?>|#}|%}|--}}|\*\)|-}|\]\]>)\s*$")
_LEADING = re.compile(r"^[\s:=\-\u2013\u2014,;.]+")
REASON_LIMIT = 200


def _reason(line: str, m: re.Match) -> str:
    text = line[m.end():]
    text = _CLOSERS.sub("", text)
    text = _LEADING.sub("", text).strip()
    if len(text) > REASON_LIMIT:
        text = text[: REASON_LIMIT - 1].rstrip() + "…"
    return text


def _marker_detail(line: str, m: re.Match) -> str:
    name = m.group("marker") or m.group("pragma")
    name = re.sub(r"pragma:\s*", "pragma: ", " ".join(name.lower().split()))
    reason = _reason(line, m)
    return f"{name}: {reason}" if reason else name


def allowed_by(finding: Finding) -> str | None:
    """The detail of the inline allow that covers ``finding``, if any."""
    m = _SAME_LINE.search(finding.line_text)
    if m:
        return _marker_detail(finding.line_text, m)
    prev = getattr(finding, "prev_line_text", "")
    if prev:
        m = _NEXT_LINE.search(prev)
        if m:
            return _marker_detail(prev, m)
    return None


def inline_filter(findings: list[Finding]) -> tuple[list[Finding], list[Suppressed]]:
    """Suppress findings whose line (or the line before) carries an allow."""
    kept: list[Finding] = []
    hits: list[tuple[Finding, str]] = []
    for f in findings:
        detail = allowed_by(f)
        if detail is None:
            kept.append(f)
        else:
            hits.append((f, detail))
    if not hits:
        return kept, []
    # A reason is free text from the scanned file: it must not carry a
    # secret found in the same file into the report.
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    suppressed = []
    for f, detail in hits:
        for other in by_path[f.path]:
            if other.secret and other.secret in detail:
                detail = detail.replace(other.secret, other.redacted)
        suppressed.append(Suppressed(f, "inline", detail))
    return kept, suppressed
