"""Keyword prefilter: which rules could match this text at all?

Keywords are compared case-insensitively (ASCII), on bytes, before the text is
decoded, so most files never reach a regex and are never decoded to str.

Two backends with one interface, ``Prefilter.candidates(data) -> frozenset``:
``hyperscan`` (one pass over the bytes for every keyword, when the wheel is
installed) and ``stdlib`` (``bytes.find`` per keyword on the lowered bytes).
Both must select the same rules; the tests run both.
"""
from __future__ import annotations

import os
from typing import Iterable, Sequence


class StdlibPrefilter:
    name = "stdlib"

    def __init__(self, keywords_per_rule: Sequence[Iterable[str]]) -> None:
        table: dict[bytes, list[int]] = {}
        for index, keywords in enumerate(keywords_per_rule):
            for kw in keywords:
                table.setdefault(kw.lower().encode("utf-8"), []).append(index)
        # Longest first: a long keyword is rarer, so `in` fails faster on it.
        self._table = sorted(((k, tuple(v)) for k, v in table.items()), key=lambda kv: -len(kv[0]))

    def candidates(self, data: bytes) -> frozenset[int]:
        lowered = data.lower()
        hit: set[int] = set()
        for kw, rules in self._table:
            if kw in lowered:
                hit.update(rules)
        return frozenset(hit)


class HyperscanPrefilter:
    name = "hyperscan"

    def __init__(self, keywords_per_rule: Sequence[Iterable[str]]) -> None:
        import hyperscan  # noqa: F401  (ImportError selects the fallback)

        self._hs = hyperscan
        literals: dict[bytes, list[int]] = {}
        for index, keywords in enumerate(keywords_per_rule):
            for kw in keywords:
                literals.setdefault(kw.lower().encode("utf-8"), []).append(index)
        self._rules_of = [tuple(v) for v in literals.values()]
        self._db = None
        if literals:
            db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
            exprs = [_hs_escape(k) for k in literals]
            flags = [hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(exprs)
            db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
            self._db = db
            self._scratch = hyperscan.Scratch(db)

    def candidates(self, data: bytes) -> frozenset[int]:
        if self._db is None or not data:
            return frozenset()
        ids: set[int] = set()

        def on_match(id_: int, start: int, end: int, flags: int, ctx) -> None:
            ids.add(id_)

        self._db.scan(data, match_event_handler=on_match, scratch=self._scratch)
        out: set[int] = set()
        for i in ids:
            out.update(self._rules_of[i])
        return frozenset(out)


def _hs_escape(literal: bytes) -> bytes:
    return b"".join(b"\\x%02x" % b for b in literal)


def make_prefilter(keywords_per_rule: Sequence[Iterable[str]], backend: str | None = None):
    """Build the fastest available prefilter (or the one named by ``backend``
    or the KEYSCAN_PREFILTER environment variable)."""
    backend = backend or os.environ.get("KEYSCAN_PREFILTER") or "auto"
    if backend in ("auto", "hyperscan"):
        try:
            return HyperscanPrefilter(keywords_per_rule)
        except ImportError:
            if backend == "hyperscan":
                raise
    return StdlibPrefilter(keywords_per_rule)
