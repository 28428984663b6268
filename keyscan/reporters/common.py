"""Helpers shared by reporters."""
from __future__ import annotations

from collections import Counter
from typing import Any, Iterable

from ..models import SEVERITIES, Finding

_CONTROL = {c: f"\\x{c:02x}" for c in list(range(0x00, 0x20)) + [0x7F] if c != 0x09}
_CONTROL.update({c: f"\\u{c:04x}" for c in range(0x80, 0xA0)})
# Bidi controls (Trojan Source), line/paragraph separators, zero-width marks.
_CONTROL.update({c: f"\\u{c:04x}" for c in [0x061C, 0x200B, 0x200E, 0x200F, 0x2028, 0x2029, 0xFEFF, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]})
# Lone surrogates (from file names that are not UTF-8) cannot be encoded.
_CONTROL.update({c: f"\\u{c:04x}" for c in range(0xD800, 0xE000)})


def printable(text: str) -> str:
    """``text`` with control characters (terminal escapes, newlines, bidi
    overrides) shown as escapes, so untrusted names cannot drive a terminal."""
    return text.translate(_CONTROL)


def shown_secret(f: Finding, redact: bool) -> str:
    return f.redacted if redact else f.secret


def severity_counts(findings: Iterable[Finding]) -> dict[str, int]:
    counts = Counter(f.severity for f in findings)
    return {s: counts.get(s, 0) for s in reversed(SEVERITIES)}


def finding_dict(f: Finding, redact: bool) -> dict[str, Any]:
    """The JSON shape of a finding (README: "JSON report")."""
    out: dict[str, Any] = {
        "rule_id": f.rule_id,
        "provider": f.provider,
        "name": f.name,
        "key_class": f.key_class,
        "environment": f.environment,
        "severity": f.severity,
        "exposure": f.exposure,
        "path": f.path,
        "line": f.line,
        "column": f.column,
        "secret": shown_secret(f, redact),
        "fingerprint": f.fingerprint,
        "source": f.source,
    }
    if f.repository is not None:
        out = {"repository": f.repository, **out}
    if f.original:
        out["original"] = f.original
    if f.env_var:
        out["env_var"] = f.env_var
    if f.commit:
        out["commit"] = f.commit
    if f.lifecycle:
        out["lifecycle"] = f.lifecycle
    out["rotation"] = f.rotation
    return out
