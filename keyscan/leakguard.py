"""The last line of defence against keyscan becoming the leak.

Reporters print redacted secrets, but a key can reach the output by other
roads: a file or folder named after it, a commit subject or a branch name, an
error message quoting a malformed source map, a config value or a rule file,
a URL in a ``sourceMappingURL`` comment. ``guard(text)`` is applied to every
rendered report (unless ``--no-redact``) and to every message keyscan writes
to stderr: each full secret in ``text`` is replaced by its redaction.

What counts as a secret: the secrets of the report's own findings (so the
keys of user rules are covered too), and anything the built-in rules find in
``text`` itself (their path filters ignored), also glued to the text before
it. A quick test skips the rules
when ``text`` holds no run of key characters long enough to be a key, so a
clean pre-commit run pays nothing.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Iterable

from .redact import ELLIPSIS, redact

# A run of key-like characters this long must be there for any rule to match.
_TOKEN = re.compile(r"[A-Za-z0-9+/=_$@.:-]{16}")

_ENGINE = None


def _engine():
    """The built-in rules, path filters dropped, no decoding: a message or a
    report is scanned as it will be read."""
    global _ENGINE
    if _ENGINE is None:
        from .engine import Engine
        from .rulefile import RuleSet, load_ruleset

        rules = load_ruleset()
        free = tuple(replace(r, paths=(), exclude_paths=()) for r in rules.rules)
        _ENGINE = Engine(RuleSet(free, rules.digest + "-guard", rules.files), prefilter="stdlib", decode=False)
    return _ENGINE


def _shown(secret: str) -> str:
    """The redaction, cut before any backslash or quote so that a secret
    found inside an escaped JSON, SARIF or HTML string never breaks it."""
    kept = redact(secret)[: -len(ELLIPSIS)]
    kept = re.split(r"[\\\"'<>&]", kept, maxsplit=1)[0]
    return kept + ELLIPSIS


def found_in(text: str) -> set[str]:
    """The secrets the built-in rules find in ``text``, also where a key is
    glued to what comes before it (``missing-sk_imapik-…``, ``leak_AKIA…``):
    the text is scanned a second time with a space before each keyword."""
    from .models import Fragment

    if not _TOKEN.search(text):
        return set()
    engine = _engine()
    frag = Fragment.from_text(text, "keyscan-output")
    secrets = {m.secret for m in engine.scan(frag).matches}
    keywords = {k for r in engine.candidates(frag.data, frag.path) for k in r.keywords}
    if keywords:
        alternation = re.compile("|".join(re.escape(k) for k in sorted(keywords, key=len, reverse=True)), re.IGNORECASE)
        spaced = alternation.sub(lambda m: " " + m.group(0), text)
        if spaced != text:
            secrets |= {m.secret for m in engine.scan(Fragment.from_text(spaced, frag.path)).matches}
    return secrets


def guard(text: str, known: Iterable[str] = ()) -> str:
    """``text`` with every full secret in it redacted: those of ``known``
    and those the built-in rules find."""
    secrets = {s for s in known if s and s in text}
    try:
        secrets |= found_in(text)
    except Exception:  # noqa: BLE001 - never let the guard stop a report
        secrets |= {m.group(0) for m in re.finditer(r"[A-Za-z0-9+/=_$@.:-]{20,}", text)}
    for secret in sorted(secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _shown(secret))
    return text


def report_secrets(report) -> set[str]:
    """Every secret a report holds: its findings' and its suppressed ones'.
    A merged audit report holds redactions already (they end in the
    ellipsis); redacting those again would only shorten them."""
    found = {f.secret for f in report.findings} | {s.finding.secret for s in report.suppressed}
    return {s for s in found if not s.endswith(ELLIPSIS)}
