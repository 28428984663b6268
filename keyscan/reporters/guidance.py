"""What the CI and audit reporters (SARIF, GitLab, JUnit, GitHub, HTML) share:
labels, severity mappings, rotation guidance as plain lines, and the
cleaning of untrusted text.

Every string that reaches a report from a scanned repository (paths, commit
subjects, author names, matched text, env var names) goes through
``clean`` first: it makes control characters, terminal escapes, bidi
overrides and lone surrogates visible as escapes, so the result is safe in a
terminal, valid in XML 1.0 and encodable as UTF-8. Format-specific escaping
(HTML entities, XML, workflow-command percent codes) comes on top of it.
"""
from __future__ import annotations

import re
from typing import Iterable

from ..models import SEVERITY_RANK, Finding, Report
from .common import printable

LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}

SOURCE_LABELS = {
    "worktree": "Working tree",
    "staged": "Staged changes",
    "history": "Git history",
    "bundle": "Built bundle",
    "sourcemap": "Source map",
    "archive": "Package archive",
}

EXPOSURE_LABELS = {
    "source": "in source",
    "history": "in git history",
    "public-env": "in a public build variable",
    "bundle": "in a shipped bundle",
    "sourcemap": "in a shipped source map",
    "archive": "in a package archive",
}

# Lone surrogates and U+FFFE/U+FFFF are not valid XML; U+202A..U+202C are bidi
# embeddings that ``printable`` leaves alone.
_BAD_XML = re.compile("[\ud800-\udfff\ufffe\uffff\u202a-\u202c]")
_HTTP_URL = re.compile(r"^https?://[^\s<>\"'`\\]+$")


def _escape_bad(m: re.Match) -> str:
    c = ord(m.group())
    # surrogateescape keeps an undecodable byte as U+DC80..U+DCFF: show the byte.
    return f"\\x{c - 0xDC00:02x}" if 0xDC80 <= c <= 0xDCFF else f"\\u{c:04x}"


def clean(text: object) -> str:
    """``text`` as a string that is safe to show anywhere (see module doc)."""
    text = str(text)
    if text.isprintable():  # no control, format (bidi), surrogate or separator character
        return text
    return _BAD_XML.sub(_escape_bad, printable(text))


def http_url(url: object) -> str | None:
    """``url`` when it is a plain http(s) URL, else None (rule files are
    user-supplied: never link a ``javascript:`` URL)."""
    if isinstance(url, str) and _HTTP_URL.match(url):
        return url
    return None


def source_kind(f: Finding) -> str:
    return str((f.source or {}).get("kind") or "worktree")


def source_label(f: Finding) -> str:
    kind = source_kind(f)
    return SOURCE_LABELS.get(kind, clean(kind))


def exposure_label(f: Finding) -> str:
    return EXPOSURE_LABELS.get(f.exposure, clean(f.exposure))


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def sorted_suppressed(report: Report) -> list:
    return sorted(report.suppressed, key=lambda s: (s.finding.sort_key(), s.reason, s.detail))


def rotation(f: Finding) -> tuple[list[str], list[str], str | None]:
    """(steps, notes, url) of a finding, cleaned."""
    rot = f.rotation or {}
    steps = [clean(s) for s in rot.get("steps") or ()]
    notes = [clean(n) for n in rot.get("notes") or ()]
    return steps, notes, http_url(rot.get("url"))


def rotation_lines(f: Finding) -> list[str]:
    """The rotation guidance of a finding as numbered plain-text lines."""
    steps, notes, url = rotation(f)
    lines = [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    lines += [f"Note: {note}" for note in notes]
    if url:
        lines.append(f"Rotate at: {url}")
    return lines


def commit_sha(f: Finding) -> str | None:
    sha = (f.commit or {}).get("sha")
    return clean(sha) if sha else None


def where(f: Finding) -> str:
    """One line saying where a finding is: path:line:col, plus the original
    source (bundles) and the commit (history)."""
    out = f"{clean(f.path)}:{f.line}:{f.column}"
    if f.original and f.original.get("path"):
        out += f" (from {clean(f.original['path'])}:{f.original.get('line', '?')})"
    sha = commit_sha(f)
    if sha:
        out += f" in commit {sha[:12]}"
    return out


def summary_line(f: Finding, secret: str) -> str:
    """One line: what was found, how bad, where it is exposed."""
    line = f"{clean(f.name)} ({f.severity}, {f.environment}) {exposure_label(f)}: {clean(secret)}"
    if f.env_var:
        line += f" via {clean(f.env_var)}"
    return line


def secret_span(f: Finding) -> int | None:
    """Length of the secret as it stands in the file, when known: not for a
    key that was decoded (base64, escapes) or spans lines."""
    if not f.secret or "\n" in f.secret or (f.source or {}).get("decoded"):
        return None
    return len(f.secret)


def severity_rank(f: Finding) -> int:
    return SEVERITY_RANK.get(f.severity, 0)
