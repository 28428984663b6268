"""Translate a rule's ``regex`` pattern into a looser Hyperscan pattern.

The pattern prefilter (``prefilter.PatternFilter``) scans every fragment once
with one Hyperscan database holding a *superset* pattern per rule: a pattern
that matches at least wherever the rule's real pattern can match. A rule
whose superset pattern does not occur in a fragment cannot match there, so
its (much slower) ``regex`` never runs; a rule whose superset occurs runs its
real pattern over the whole text as before. Reports stay identical by
construction; only the work changes.

The translation walks the parse tree of the pattern (``re._parser``, which
reads the ``regex`` module's default (V0) syntax except for a few
extensions handled below) and loosens as it goes, never tightening:

* zero-width assertions (lookarounds, ``\\b``, ``^``, ``$``) are dropped;
* atomic groups, possessive and lazy repeats become plain repeats;
* a repeat ``{m,n}`` becomes ``{min(m, CAP),}`` when ``m`` or ``n`` is
  large (large bounded repeats are what makes Hyperscan compile slowly);
* a backreference becomes "any text", a conditional both of its branches;
* every single-character element becomes an explicit byte class of the
  ASCII characters it can match (case folding applied), plus ``?`` when it
  can match any non-ASCII character.

The last point is what lets one byte-mode database serve any text: ASCII
text is scanned as it is; other text is scanned as its ASCII "shadow"
(``text.encode("ascii", "replace")``: one byte per character, every
non-ASCII character as ``?``), so repeat counts, which count characters,
still line up.

Anything the translator does not understand (``\\p{...}``, V1 set
operations, a conditional on a lookaround, ...) returns None, and that rule
simply keeps running its regex wherever its keywords occur.
"""
from __future__ import annotations

import re

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as P
except ImportError:  # pragma: no cover - older layouts
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse as P  # type: ignore[no-redef]

CAP = 8  # longest bounded repeat kept as such
SHADOW = 0x3F  # "?": what a non-ASCII character becomes in the shadow text

_ALL = frozenset(range(128))
_DIGIT = frozenset(range(0x30, 0x3A))
_WORD = frozenset(range(0x30, 0x3A)) | frozenset(range(0x41, 0x5B)) | frozenset(range(0x61, 0x7B)) | {0x5F}
# Whitespace as either ``re`` or ``regex`` sees it (``\x1c``-``\x1f`` differ).
_SPACE_WIDE = frozenset(b" \t\n\r\x0b\x0c\x1c\x1d\x1e\x1f")
_SPACE_NARROW = frozenset(b" \t\n\r\x0b\x0c")

_DUP_NAME = re.compile(r"(?<!\\)((?:\\\\)*)\(\?P?<([A-Za-z_][A-Za-z0-9_]*)>")


class Untranslatable(Exception):
    pass


def _prepare(source: str) -> str:
    """Make a ``regex`` pattern readable by ``re``'s parser: branch-reset
    groups become plain groups and repeated group names get a suffix (the
    translation ignores groups and names anyway)."""
    if "(?V1" in source or "(?V0" in source:
        raise Untranslatable("version flag")
    source = source.replace("(?|", "(?:")
    seen: dict[str, int] = {}

    def rename(m: re.Match) -> str:
        name = m.group(2)
        n = seen.get(name, 0)
        seen[name] = n + 1
        return f"{m.group(1)}(?P<{name}{'_' * n}{n or ''}>" if n else m.group(0)

    return _DUP_NAME.sub(rename, source)


def _fold(chars: set[int]) -> set[int]:
    out = set(chars)
    for c in chars:
        if 0x41 <= c <= 0x5A:
            out.add(c + 32)
        elif 0x61 <= c <= 0x7A:
            out.add(c - 32)
    return out


def _category(cat) -> tuple[frozenset[int], bool]:
    """(ASCII characters, may match non-ASCII) of a ``\\d``-style category."""
    name = str(cat)
    if name.endswith("NOT_DIGIT"):
        return _ALL - _DIGIT, True
    if name.endswith("DIGIT"):
        return _DIGIT, True
    if name.endswith("NOT_SPACE"):
        return _ALL - _SPACE_NARROW, True
    if name.endswith("SPACE"):
        return _SPACE_WIDE, True
    if name.endswith("NOT_WORD"):
        return _ALL - _WORD, True
    if name.endswith("WORD"):
        return _WORD, True
    if name.endswith("NOT_LINEBREAK"):
        return _ALL - {0x0A}, True
    if name.endswith("LINEBREAK"):
        return frozenset({0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E}), True
    raise Untranslatable(f"category {name}")


def _class(chars: set[int], nonascii: bool) -> str:
    if nonascii:
        chars = set(chars) | {SHADOW}
    if not chars:
        raise Untranslatable("empty class")
    if len(chars) == 128:
        return "[\\x00-\\x7f]"
    # Compact ranges keep the pattern short.
    parts = []
    run_start = prev = None
    for c in sorted(chars):
        if prev is not None and c == prev + 1:
            prev = c
            continue
        if run_start is not None:
            parts.append((run_start, prev))
        run_start = prev = c
    parts.append((run_start, prev))
    body = "".join(f"\\x{a:02x}" if a == b else f"\\x{a:02x}-\\x{b:02x}" for a, b in parts)
    return f"[{body}]"


# ASCII letters that a non-ASCII character matches under IGNORECASE in the
# regex module (İ i, ſ s, K k); see ``superset_pattern(fold=True)``.
_FOLD_TARGETS = frozenset(b"iIsSkK")


class _Translator:
    def __init__(self, fold: bool, reverse: bool = False) -> None:
        self.fold = fold
        self.reverse = reverse  # the pattern of the reversed text

    def seq(self, items, ci: bool, dotall: bool) -> str:
        parts = [self.node(op, av, ci, dotall) for op, av in items]
        return "".join(reversed(parts) if self.reverse else parts)

    def node(self, op, av, ci: bool, dotall: bool) -> str:
        if op is C.LITERAL:
            if av >= 128:
                return _class(set(), True)
            chars = _fold({av}) if ci else {av}
            return _class(chars, ci and self.fold and bool(chars & _FOLD_TARGETS))
        if op is C.NOT_LITERAL:
            excluded = _fold({av}) if ci else {av}
            return _class(set(_ALL) - excluded, True)
        if op is C.ANY:
            return _class(set(_ALL) if dotall else set(_ALL) - {0x0A}, True)
        if op is C.IN:
            return self.in_(av, ci)
        if op is C.BRANCH:
            return "(?:" + "|".join(self.seq(b, ci, dotall) for b in av[1]) + ")"
        if op is C.SUBPATTERN:
            _gid, add, delete, sub = av
            ci2 = (ci or bool(add & C.SRE_FLAG_IGNORECASE)) and not (delete & C.SRE_FLAG_IGNORECASE)
            dot2 = (dotall or bool(add & C.SRE_FLAG_DOTALL)) and not (delete & C.SRE_FLAG_DOTALL)
            return "(?:" + self.seq(sub, ci2, dot2) + ")"
        if op in (C.MAX_REPEAT, C.MIN_REPEAT) or op is getattr(C, "POSSESSIVE_REPEAT", None):
            lo, hi, sub = av
            inner = "(?:" + self.seq(sub, ci, dotall) + ")"
            unbounded = hi is C.MAXREPEAT or hi > CAP
            lo = min(lo, CAP)
            if unbounded:
                return f"{inner}{{{lo},}}"
            return f"{inner}{{{lo},{hi}}}"
        if op is getattr(C, "ATOMIC_GROUP", None):
            return "(?:" + self.seq(av, ci, dotall) + ")"
        if op in (C.AT, C.ASSERT, C.ASSERT_NOT):
            return ""
        if op is C.GROUPREF:
            return "[\\x00-\\x7f]*"
        if op is C.GROUPREF_EXISTS:
            _cond, yes, no = av
            return "(?:" + self.seq(yes, ci, dotall) + "|" + (self.seq(no, ci, dotall) if no else "") + ")"
        raise Untranslatable(f"operator {op}")

    def in_(self, items, ci: bool) -> str:
        chars: set[int] = set()
        nonascii = False
        negate = False
        for op, av in items:
            if op is C.NEGATE:
                negate = True
            elif op is C.LITERAL:
                if av >= 128:
                    nonascii = True
                else:
                    chars.add(av)
            elif op is C.RANGE:
                lo, hi = av
                if hi >= 128:
                    nonascii = True
                chars.update(range(lo, min(hi, 127) + 1))
            elif op is C.CATEGORY:
                cat_chars, cat_non = _category(av)
                chars |= cat_chars
                nonascii = nonascii or cat_non
            else:
                raise Untranslatable(f"class item {op}")
        if ci:
            chars = _fold(chars)
            nonascii = nonascii or (self.fold and bool(chars & _FOLD_TARGETS))
        if negate:
            return _class(set(_ALL) - chars, True)
        return _class(chars, nonascii)


def superset_pattern(source: str, fold: bool = False) -> bytes | None:
    """A byte-mode Hyperscan pattern matching a superset of what ``source``
    (a ``regex``-module pattern) matches, on ASCII text or on the shadow of
    any text; None when the pattern uses something not translated.

    The shadow turns İ, ſ and K into ``?`` like any other non-ASCII
    character, but under IGNORECASE the regex module matches them with
    ``i``, ``s`` and ``k``. ``fold=True`` makes caseless ``i``, ``s`` and
    ``k`` also accept ``?``: looser (no longer a plain literal, so slower to
    scan), and so used only for text that holds one of those three."""
    try:
        parsed = P.parse(_prepare(source))
        flags = parsed.state.flags
        if flags & (C.SRE_FLAG_LOCALE | getattr(C, "SRE_FLAG_ASCII", 0)):
            raise Untranslatable("flags")
        ci, dotall = bool(flags & C.SRE_FLAG_IGNORECASE), bool(flags & C.SRE_FLAG_DOTALL)
        translator = _Translator(fold)
        out = translator.seq(parsed, ci, dotall)
        before = _lookbehind_literal(translator, list(parsed), out, ci, dotall)
        if before is not None:
            out = before[0] + before[1] + out
    except (Untranslatable, re.error, RecursionError, OverflowError, TypeError, ValueError):
        return None
    return out.encode("ascii")


def _lookbehind_literal(translator: "_Translator", items: list, body: str, ci: bool, dotall: bool) -> tuple[str, str] | None:
    """A literal that must come before every match, from a lookbehind that
    ends the pattern, as the superset's prefix, and what may come between
    it and the match; None when there is none.

    ``R(?<=\\baccounts\\s*:\\s*\\[[^\\]]{0,1500})`` (a key in a list, each key of
    the list its own match) matches where ``accounts`` ends at or before the
    match's end. When that literal's last character is one that no element
    of ``R`` can match, it cannot end inside the match, so it ends before the
    match starts: ``accounts[any]*R'`` is still a superset of the pattern,
    and Hyperscan looks for a literal first instead of following every
    quote of the text (the Hardhat rule's ``["'`][0-9a-f]{8,}["'`]`` cost a
    third of the whole database's scan over the large tree).

    What comes between is part of what the rest of the lookbehind matches,
    so only its characters: ``[^\\]]*`` for the Hardhat rule, where a
    ``[\\x00-\\x7f]*`` kept Hyperscan following every ``accounts`` to the
    end of the text (three quarters of the superset patterns' scan time
    over the large tree)."""
    while items and items[-1][0] is C.AT:
        items = items[:-1]
    if not items or items[-1][0] is not C.ASSERT or items[-1][1][0] != -1:
        return None
    inner = list(items[-1][1][1])
    while inner and (inner[0][0] is C.AT or (inner[0][0] is C.SUBPATTERN and not inner[0][1][3])):
        inner = inner[1:]
    literal = []
    for op, av in inner:
        if op is not C.LITERAL or av >= 128:
            break
        literal.append((op, av))
    if len(literal) < 3:
        return None
    last = _class_chars(translator.node(*literal[-1], ci, dotall))
    if last & _alphabet(body):
        return None
    try:
        between = _class(_alphabet(translator.seq(inner[len(literal):], ci, dotall)), False) + "*"
    except Untranslatable:  # nothing after the literal, or not translated
        between = "[\\x00-\\x7f]*"
    return translator.seq(literal, ci, dotall), between


def _alphabet(expr: str) -> set[int]:
    """Every character a translated pattern's classes can match."""
    out: set[int] = set()
    for cls in re.findall(r"\[[^\]]*\]", expr):
        out |= _class_chars(cls)
    return out


def shadow(text: str) -> bytes:
    """One ASCII byte per character of ``text``; non-ASCII ones become ``?``."""
    return text.encode("ascii", "replace")


HEAD_MAX = 256  # widest head, in characters


def head_pattern(source: str, fold: bool = False) -> tuple[bytes, int, int, frozenset[int], bool] | None:
    """The head of the pattern, for anchored matching (``anchor.py``): the
    longest run of its leading elements (zero-width ones dropped) whose
    width is bounded by HEAD_MAX characters. Returns (superset pattern of
    the head *reversed*, its least and greatest width, the ASCII characters
    it can start with, whether it can start with a non-ASCII one). Every
    match of ``source`` starts where the head matches; scanning the reversed
    text with the reversed head lists those places. None when the head can
    be empty (or the pattern is not translated). ``fold``: as for
    ``superset_pattern``, for text holding İ, ſ or K."""
    try:
        parsed = P.parse(_prepare(source))
        flags = parsed.state.flags
        ci = bool(flags & C.SRE_FLAG_IGNORECASE)
        dotall = bool(flags & C.SRE_FLAG_DOTALL)
        head: list = []
        lo = hi = 0
        for item in parsed:
            width = P.SubPattern(parsed.state, [item]).getwidth()
            if width[1] == 0:  # assertions, empty groups
                continue
            if hi + width[1] > HEAD_MAX:
                break
            head.append(item)
            lo, hi = lo + width[0], hi + width[1]
        if lo < 1:
            return None
        expr = _Translator(fold, reverse=True).seq(head, ci, dotall).encode("ascii")
        first, nonascii = _seq_first(head, ci, dotall)
    except (Untranslatable, re.error, RecursionError, OverflowError, TypeError, ValueError):
        return None
    return expr, lo, hi, frozenset(first), nonascii


def _first_chars(op, av, ci: bool, dotall: bool) -> tuple[set[int], bool]:
    """ASCII characters a non-empty match of one element can start with,
    and whether it can start with a non-ASCII one (loose: a superset)."""
    if op is C.LITERAL:
        if av >= 128:
            return set(), True
        return (_fold({av}) if ci else {av}), False
    if op is C.IN:
        cls = _Translator(False).in_(av, ci)
        chars = _class_chars(cls)
        return chars - {SHADOW} | ({SHADOW} if SHADOW in chars else set()), SHADOW in chars
    if op is C.SUBPATTERN:
        _gid, add, delete, sub = av
        ci2 = (ci or bool(add & C.SRE_FLAG_IGNORECASE)) and not (delete & C.SRE_FLAG_IGNORECASE)
        dot2 = (dotall or bool(add & C.SRE_FLAG_DOTALL)) and not (delete & C.SRE_FLAG_DOTALL)
        return _seq_first(sub, ci2, dot2)
    if op is C.BRANCH:
        chars: set[int] = set()
        nonascii = False
        for branch in av[1]:
            c, n = _seq_first(branch, ci, dotall)
            chars |= c
            nonascii = nonascii or n
        return chars, nonascii
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _seq_first(av, ci, dotall)
    if op in (C.MAX_REPEAT, C.MIN_REPEAT) or op is getattr(C, "POSSESSIVE_REPEAT", None):
        return _seq_first(av[2], ci, dotall)
    return set(_ALL), True  # anything else: any character


def _seq_first(items, ci: bool, dotall: bool) -> tuple[set[int], bool]:
    """First characters of a sequence: of its first element, and of the
    next ones as long as those before can be empty."""
    chars: set[int] = set()
    nonascii = False
    state = P.State()
    for op, av in items:
        lo, hi = P.SubPattern(state, [(op, av)]).getwidth()
        if hi == 0:
            continue
        c, n = _first_chars(op, av, ci, dotall)
        chars |= c
        nonascii = nonascii or n
        if lo > 0:
            return chars, nonascii
    return set(_ALL), True  # the whole sequence can be empty


def _class_chars(cls: str) -> set[int]:
    out: set[int] = set()
    body = cls[1:-1]
    i = 0
    while i < len(body):
        a = int(body[i + 2:i + 4], 16)
        i += 4
        if body[i:i + 1] == "-":
            b = int(body[i + 3:i + 5], 16)
            i += 5
            out.update(range(a, b + 1))
        else:
            out.add(a)
    return out
