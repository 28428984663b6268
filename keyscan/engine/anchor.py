"""Anchored matching: a rule's regex tried only where a match can start.

On a large text (a minified bundle, a big source file) a rule whose
prefilter stages pass still runs its regex over every character, and the
``regex`` module is slow to *search* (a caseless alternation of keywords is
tried at each position: about 30 MB/s). Yet most patterns begin with a short
head of bounded width (a keyword alternation and the assignment after it, a
literal prefix such as ``sk_imapik-`` and the key): every match starts where
that head matches. A small Hyperscan database of the head's superset
pattern, reversed, run over the reversed text, lists exactly those places
(an end in the reversed text is a start in the text); each, in increasing
order and past the previous match, gets one ``pattern.match(text, start)``.
That visits the positions where ``finditer`` could have found something, in
the same order, with the same context (lookbehinds and ``\\b`` see the text
before the start; ``^`` means the real start), so the matches are the same;
the tests compare both on the rules' examples and real files.

Used only with Hyperscan, once the prefilter's second stage is built, on
texts of at least ``matcher.ANCHOR_MIN_TEXT`` characters; everything else
runs ``finditer``. Text holding İ, ſ or K (which caseless patterns match
with i, s, k; their shadow is ``?``) gets a looser head, translated with
``fold=True`` as the prefilter's folded database is (``superset.py``).
"""
from __future__ import annotations

import hashlib
import os
import time
from typing import Iterator

from .prefilter import _cache_path, _cached_db, _folds, _load_db, _translator_digest


class Anchors:
    def __init__(self) -> None:
        # (rule id, folded) -> _Head, or None when not anchorable
        self._heads: dict[tuple[str, bool], object] = {}

    def head(self, rule, fold: bool = False):
        """The rule's head database; ``fold``: the looser one for text
        holding İ, ſ or K (see ``superset.superset_pattern``)."""
        try:
            return self._heads[rule.id, fold]
        except KeyError:
            pass
        from .superset import head_pattern

        head = None
        found = head_pattern(rule.pattern_source, fold)
        if found is not None:
            expr = found[0]
            built = _cached_db("head", _head_digest(rule.pattern_source, fold), lambda: _compile_head(expr))
            head = _Head(built[0]) if built is not None else None
        self._heads[rule.id, fold] = head
        return head

    def preload(self, rules) -> None:
        """Load the heads of ``rules`` that are in the disk cache (compiling
        one costs ~4 ms, loading it a few us); called before workers fork,
        so that they share them. Heads not cached are built when needed."""
        if os.environ.get("KEYSCAN_NO_CACHE") is not None:
            return
        for rule in rules:
            if (rule.id, False) in self._heads:
                continue
            digest = _head_digest(rule.pattern_source, False)
            built = _load_db(_cache_path("head", digest), digest)
            if built is not None:
                self._heads[rule.id, False] = _Head(built[0])

    def finditer(self, rule, text: str, timeout: float, view: "TextView | None" = None):
        """Matches of ``rule.pattern`` in ``text``, as ``finditer`` finds them.
        ``view`` carries what every rule run on this text shares (the
        reversed shadow); one is made when not given."""
        if view is None:
            view = TextView(text)
        head = self.head(rule, view.folds)
        if head is not None:
            return head.matches(rule.pattern, text, view.backwards(), timeout)
        return rule.pattern.finditer(text, timeout=timeout)


class TextView:
    """One text as anchored matching sees it, computed at most once for all
    the rules run on it: whether it holds İ, ſ or K (then the folded heads
    are used), and its ASCII shadow, reversed. ``shadow`` and ``folds`` may
    be given when already known (the prefilter made the shadow of this
    text)."""

    __slots__ = ("text", "_shadow", "_backwards", "_folds")

    def __init__(self, text: str, shadow: bytes | None = None, folds: bool | None = None) -> None:
        self.text = text
        self._shadow = shadow
        self._backwards: bytearray | None = None
        self._folds = folds

    @property
    def folds(self) -> bool:
        if self._folds is None:
            self._folds = _folds(self.text)
        return self._folds

    def backwards(self) -> bytearray:
        if self._backwards is None:
            shadow = self._shadow if self._shadow is not None else self.text.encode("ascii", "replace")
            # bytearray.reverse() is twice as fast as bytes[::-1].
            self._backwards = bytearray(shadow)
            self._backwards.reverse()
            self._shadow = None
        return self._backwards


def _head_digest(source: str, fold: bool) -> str:
    """Cache key of a rule's head database: the rule's regex, the code that
    translates it and the Hyperscan version."""
    import hyperscan

    key = hashlib.sha256(f"head\0{getattr(hyperscan, '__version__', '?')}\0{hyperscan.HS_FLAG_PREFILTER}\0{fold}\0".encode())
    key.update(_translator_digest())
    key.update(source.encode("utf-8", "surrogatepass"))
    return key.hexdigest()


def _compile_head(expr: bytes):
    import hyperscan

    try:
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=[expr], ids=[0], elements=1, flags=[hyperscan.HS_FLAG_PREFILTER])
    except Exception:  # Hyperscan rejects it: plain finditer
        return None
    return db, [], set()


class _Head:
    def __init__(self, db) -> None:
        import hyperscan

        self.db = db
        self.scratch = hyperscan.Scratch(db)

    def matches(self, pattern, text: str, backwards: bytes | bytearray, timeout: float) -> Iterator:
        """``backwards``: the shadow of ``text``, reversed (``TextView``)."""
        ends: list[int] = []
        self.db.scan(backwards, match_event_handler=_collect_end, context=ends, scratch=self.scratch)
        size = len(backwards)
        return self._walk(pattern, text, sorted({size - e for e in ends}), timeout)

    def _walk(self, pattern, text: str, starts: list[int], timeout: float) -> Iterator:
        deadline = time.monotonic() + timeout
        match = pattern.match
        last_end = 0  # where finditer would search from next
        for s in starts:
            if s < last_end:
                continue
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("regex timed out")
            m = match(text, s, timeout=left)
            if m is not None:
                yield m
                last_end = m.end() if m.end() > s else s + 1


def _collect_end(id_: int, start: int, end: int, flags: int, ends: list) -> None:
    ends.append(end)
