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
        # The default prefilter (Hyperscan where installed: its keyword
        # database is cached on disk, so this costs no compile): the stdlib
        # search took 3.3 s over a 3 MB history report, Hyperscan 1 s.
        _ENGINE = Engine(RuleSet(free, rules.digest + "-guard", rules.files), decode=False)
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
        spaced = _spaced(text, sorted(keywords, key=len, reverse=True))
        if spaced != text:
            secrets |= {m.secret for m in engine.scan(Fragment.from_text(spaced, frag.path)).matches}
    return secrets


_FOLDS_TO_ASCII = ("\u0130", "\u0131", "\u017f", "\u212a")
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def _spaced(text: str, keywords: list[str]) -> str:
    """``text`` with a space before each keyword occurrence, found as a
    caseless alternation of ``keywords`` (longest first) finds them: leftmost
    first, the longest at a place, none inside another. Found with
    ``str.find`` per keyword on the text with its ASCII letters lowered (the
    ``re`` alternation cost 0.36 s over a 700 KB report), unless the text
    holds one of the four characters that ``re`` matches with an ASCII letter
    caselessly (İ ı ſ K), or a keyword is not ASCII."""
    if any(ch in text for ch in _FOLDS_TO_ASCII) or not all(k.isascii() for k in keywords):
        alternation = re.compile("|".join(re.escape(k) for k in keywords), re.IGNORECASE)
        return alternation.sub(lambda m: " " + m.group(0), text)
    # ``str.lower`` gives the ASCII lowering at C speed (``translate`` with a
    # dict took 33 ms of a 700 KB report): of all non-ASCII characters only İ
    # and K lower to ASCII or to more than one character, and both were
    # ruled out above; other letters lower to non-ASCII ones, which no
    # ASCII keyword holds.
    lowered = text.lower()
    if len(lowered) != len(text):  # cannot happen after the check above; no risk taken
        lowered = text.translate(_ASCII_LOWER)
    longest: dict[int, int] = {}
    for keyword in keywords:
        k = keyword.lower()
        if not k:
            continue
        at = lowered.find(k)
        while at != -1:
            if len(k) > longest.get(at, 0):
                longest[at] = len(k)
            at = lowered.find(k, at + 1)
    pieces = []
    last = end = 0
    for at in sorted(longest):
        if at < end:
            continue
        pieces.append(text[last:at])
        pieces.append(" ")
        last, end = at, at + longest[at]
    pieces.append(text[last:])
    return "".join(pieces)


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
