"""Decoding: bytes to text, and encoded strings inside text to the plain text
they hide.

``decoded_variants(text)`` yields a ``Decoded`` for every encoded run in
``text`` that decodes to something worth scanning; the engine scans each and
reports a match at the span of the encoded run (``start``, ``end``), with the
chain of decoders applied (``kinds``, outermost first).

Decoders: JavaScript/JSON string escapes (``js-escape``), base64 and
base64url (``base64``), hex (``hex``) and percent-encoding (``percent``).
What a decoder yields is decoded again, up to MAX_DEPTH levels, so a base64
Kubernetes value holding JSON with ``\\u0024`` is found; a nested run's span
is mapped back through the offset maps to the outermost text. The total
decoded output of one call is capped at MAX_OUTPUT characters and
MAX_VARIANTS runs, so a crafted file cannot blow up time or memory.
"""
from __future__ import annotations

import os
from typing import Iterator, NamedTuple

from .encodings import MIN_B64, Composed, base64_and_hex, percent_runs
from .js import js_runs

MAX_DEPTH = 3
MAX_OUTPUT = 16 * 1024 * 1024
MAX_VARIANTS = 20_000


class Decoded(NamedTuple):
    text: str
    kinds: tuple[str, ...]
    start: int  # span of the encoded run in the scanned text
    end: int
    # offsets[i]: where in the scanned text the unit behind text[i] starts;
    # offsets[len(text)] == end. None when not kept.
    offsets: object = None


# Matches the inline source map comment that bundles end with: the bundle
# reader scans those maps itself, so their base64 is not decoded here.
_INLINE_MAP_MARK = "sourceMappingURL=data:"


def _skip_inline_map(text: str):
    # Checked around each run rather than by searching the whole text for
    # the mark first: that search was one more pass over every text.
    def skip(start: int, end: int) -> bool:
        # The text before the run must end in "base64," and blanks: the
        # character just before it tells most runs apart at once.
        if start == 0 or (text[start - 1] != "," and not text[start - 1].isspace()):
            return False
        head = text[max(0, start - 120):start]
        return _INLINE_MAP_MARK in head and head.rstrip().endswith("base64,")

    return skip


def _runs(text: str, shadow: bytes | None = None):
    # Each decoder's trigger needs a character that ``in`` finds at C speed
    # (a backslash, a '%') or a length: a text without it is not searched.
    if "\\" in text:
        yield from js_runs(text)
    if "%" in text:
        yield from percent_runs(text)
    if len(text) >= MIN_B64:
        yield from base64_and_hex(text, _skip_inline_map(text), shadow)


def _may_hold_runs(text: str) -> bool:
    """False when ``_runs(text)`` is sure to yield nothing: no backslash (a
    JS escape starts with one), no '%' and too short for a base64 or hex
    run. Most decoded texts are a short word (a \\u-escaped translation)."""
    return len(text) >= MIN_B64 or "\\" in text or "%" in text


if os.environ.get("KEYSCAN_DECODE") == "reference":  # the yardstick (reference.py)
    from .reference import runs as _runs  # noqa: F811

    def _may_hold_runs(text: str) -> bool:  # noqa: F811
        return True


class _Budget:
    def __init__(self) -> None:
        self.chars = MAX_OUTPUT
        self.variants = MAX_VARIANTS

    def take(self, n: int) -> bool:
        if self.variants <= 0 or self.chars < n:
            self.variants = 0
            return False
        self.variants -= 1
        self.chars -= n
        return True


def decoded_variants(text: str, *, max_depth: int = MAX_DEPTH, shadow: bytes | None = None) -> Iterator[Decoded]:
    """Encoded runs in ``text`` and what they decode to, outermost first.
    ``shadow``: ``text.encode("ascii", "replace")``, when the caller has it
    already (making it again cost 0.2 s of CPU over the large tree)."""
    if not text or max_depth <= 0:
        return
    # _variants(text, (), None, max_depth, budget), one generator fewer per
    # text and per variant.
    budget = _Budget()
    take = budget.take
    for kind, run in _runs(text, shadow):
        decoded = run.text
        if not take(len(decoded)):
            return
        chain = (kind,)
        yield Decoded(decoded, chain, run.start, run.end, run.offsets)
        if max_depth > 1 and _may_hold_runs(decoded):
            yield from _variants(decoded, chain, run.offsets, max_depth - 1, budget)


def _variants(text: str, kinds: tuple[str, ...], outer, depth: int, budget: _Budget) -> Iterator[Decoded]:
    if depth <= 0:
        return
    for kind, run in _runs(text):
        if not budget.take(len(run.text)):
            return
        chain = kinds + (kind,)
        if outer is None:
            start, end, offsets = run.start, run.end, run.offsets
        else:
            # Map the run and its offsets through the enclosing run's map.
            start, end = outer[run.start], outer[run.end]
            offsets = Composed(outer, run.offsets)
        yield Decoded(run.text, chain, start, end, offsets)
        if depth > 1 and _may_hold_runs(run.text):
            yield from _variants(run.text, chain, offsets, depth - 1, budget)
