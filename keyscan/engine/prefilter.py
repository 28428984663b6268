"""Prefilter: which rules could match this text at all?

Stage 1, keywords. A rule runs only where one of its keywords occurs
(compared case-insensitively in ASCII, on the raw bytes, before decoding).
This stage decides what is reported: a match without a keyword in the
fragment is not a finding.

Stage 2, superset patterns (Hyperscan only). Most keywords are common words
(``token``, ``secret``, ``key``), so stage 1 alone leaves most files with a
few rules to run, and those regexes cost far more than reading the bytes. One
Hyperscan database holds, per rule, a pattern that matches a superset of the
rule's regex (``superset.py``); a keyword-selected rule whose superset does
not occur in the fragment cannot match, so its regex is skipped. This stage
only removes work: the rules it drops would have found nothing, so reports are
the same with it, without it, and with the ``stdlib`` backend.

Compiling that database takes about a second, more than a pre-commit run
may spend, so it is built only once the regexes have cost more than
``PatternStage.BUILD_AFTER`` seconds in this process (or before a parallel
scan forks its workers), and cached on disk keyed by its patterns, so later
runs load it in milliseconds (after ``LOAD_AFTER`` seconds of regex work).
The database also holds stage 1's keywords: once it is built, one scan per
fragment answers both stages (``HyperscanPrefilter.select``).

Backends, with one interface (``select(data, text_of) -> frozenset`` of rule
indexes; ``candidates(data)`` is stage 1 alone): ``hyperscan`` when the wheel
is installed, else ``stdlib`` (``bytes.find`` per keyword on the lowered
bytes, no stage 2). ``KEYSCAN_PREFILTER=stdlib|hyperscan`` forces one. The
tests check that both give identical reports.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable, Iterable, Sequence

from .. import diskcache


class StdlibPrefilter:
    name = "stdlib"

    def __init__(self, keywords_per_rule: Sequence[Iterable[str]]) -> None:
        table: dict[bytes, list[int]] = {}
        for index, keywords in enumerate(keywords_per_rule):
            for kw in keywords:
                table.setdefault(kw.lower().encode("utf-8"), []).append(index)
        # Longest first: a long keyword is rarer, so `in` fails faster on it.
        self._table = sorted(((k, tuple(v)) for k, v in table.items()), key=lambda kv: -len(kv[0]))

    def select(self, data: bytes, text_of: Callable[[], str]) -> frozenset[int]:
        return self.candidates(data)

    def warm(self) -> None:
        pass

    def candidates(self, data: bytes) -> frozenset[int]:
        lowered = data.lower()
        hit: set[int] = set()
        for kw, rules in self._table:
            if kw in lowered:
                hit.update(rules)
        return frozenset(hit)


class HyperscanPrefilter:
    name = "hyperscan"

    def __init__(self, keywords_per_rule: Sequence[Iterable[str]], patterns: Sequence[str] | None = None) -> None:
        import hyperscan  # noqa: F401  (ImportError selects the fallback)

        self._hs = hyperscan
        literals: dict[bytes, list[int]] = {}
        for index, keywords in enumerate(keywords_per_rule):
            for kw in keywords:
                literals.setdefault(kw.lower().encode("utf-8"), []).append(index)
        self._rules_of = [tuple(v) for v in literals.values()]
        # See select: keywords that can be looked for in the shadow.
        self._shadow_keywords = all(k.isascii() and b"?" not in k for k in literals)
        self.last_shadow: tuple[str, bytes] | None = None  # (text, its shadow): see select
        self._db = None
        exprs: list[bytes] = []
        if literals:
            exprs = [_hs_escape(k) for k in literals]
            flags = [hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH] * len(exprs)
            # Cached on disk like stage 2: compiling costs ~10 ms of a
            # pre-commit run, loading well under one.
            key = hashlib.sha256(f"keywords\0{getattr(hyperscan, '__version__', '?')}\0{flags[0]}\0".encode())
            for expr in exprs:
                key.update(expr + b"\0")

            def compile_keywords():
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
                return db, [], set()

            self._db = _cached_db("keywords", key.hexdigest(), compile_keywords)[0]
            self._scratch = hyperscan.Scratch(self._db)
        self.patterns = PatternStage(patterns, keywords=exprs) if patterns is not None else None

    def select(self, data: bytes, text_of: Callable[[], str]) -> frozenset[int]:
        """Rules worth running on this fragment: stage 1, narrowed by
        stage 2 once it is built. ``text_of()`` must return the text whose
        UTF-8 encoding (with ``replace`` or ``surrogatepass``) ``data`` is.

        Once stage 2 is built, one scan of the database holding both stages
        answers both. Stage 2 scans the shadow (ASCII bytes are their own);
        stage 1's keywords may be looked for there too, when they are ASCII
        without ``?``: an ASCII byte of ``data`` is the same character of the
        text and of its shadow, every other byte is part of a non-ASCII
        character, which is ``?`` in the shadow, so such a keyword occurs in
        ``data`` exactly where it occurs in the shadow."""
        stage = self.patterns
        if stage is None or not stage.ready:
            return self.candidates(data)
        if not data:
            return _NONE
        if data.isascii():
            buf = data
        elif self._shadow_keywords:
            text = text_of()
            if _folds(text):  # İ, ſ, K: the looser database, after stage 1
                rules = self.candidates(data)
                return stage.narrow(rules, data, lambda: text) if rules else rules
            buf = _shadow_of(data, text)
            # Kept for anchored matching, which needs the same shadow of
            # the same text right after (Engine._view).
            self.last_shadow = (text, buf)
        else:
            rules = self.candidates(data)
            return stage.narrow(rules, data, text_of) if rules else rules
        keywords, rules = stage.both(buf)
        if not keywords:
            return _NONE
        rules_of = self._rules_of
        selected: set[int] = set()
        for i in keywords:
            selected.update(rules_of[i])
        return frozenset(selected.intersection(rules))

    def spent(self, seconds: float) -> None:
        """The engine reports time spent in regexes: stage 2 is built once
        that time says it will pay for itself."""
        if self.patterns is not None:
            self.patterns.spent(seconds)

    def warm(self) -> None:
        """Build (or load) stage 2 now: a large scan is about to start."""
        if self.patterns is not None:
            self.patterns.build()

    def candidates(self, data: bytes) -> frozenset[int]:
        if self._db is None or not data:
            return _NONE
        ids: list[int] = []  # one event per keyword at most (SINGLEMATCH)
        self._db.scan(data, match_event_handler=_append, context=ids, scratch=self._scratch)
        if not ids:
            return _NONE
        out: set[int] = set()
        for i in ids:
            out.update(self._rules_of[i])
        return frozenset(out)


_NONE: frozenset[int] = frozenset()


def _append(id_: int, start: int, end: int, flags: int, ids: list) -> None:
    ids.append(id_)


def _hs_escape(literal: bytes) -> bytes:
    return b"".join(b"\\x%02x" % b for b in literal)


# Non-ASCII characters that the regex module matches with an ASCII letter
# under IGNORECASE (İ i, ſ s, K k). Text holding one is scanned with a
# second, looser database (``superset_pattern(fold=True)``), built when
# first needed (Turkish text is full of İ).
_FOLDS_TO_ASCII = ("\u0130", "\u017f", "\u212a")


def _stage2_flags() -> tuple[int, int]:
    """Hyperscan flags of stage 2's superset patterns and of the keywords."""
    import hyperscan

    return (
        hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH,
        hyperscan.HS_FLAG_CASELESS | hyperscan.HS_FLAG_SINGLEMATCH,
    )


# Byte tables for _shadow_of: every byte from 0x80 up becomes "?" (a UTF-8
# lead byte: one character), and continuation bytes are deleted.
_HIGH_TO_SHADOW = bytes(range(128)) + b"?" * 128
_CONTINUATION = bytes(range(0x80, 0xC0))


def _shadow_of(data: bytes, text: str) -> bytes:
    """``text.encode("ascii", "replace")``, from the UTF-8 bytes ``data`` of
    ``text`` when they are valid (no U+FFFD in the text): one
    ``bytes.translate`` is 25 % faster than encoding a text of 2-byte
    characters. A length that does not add up falls back to the encoding."""
    if "\ufffd" not in text:
        buf = data.translate(_HIGH_TO_SHADOW, _CONTINUATION)
        if len(buf) == len(text):
            return buf
    return text.encode("ascii", "replace")


def _folds(text: str) -> bool:
    """Does ``text`` hold one of _FOLDS_TO_ASCII? (``str.isascii`` is O(1).)"""
    return not text.isascii() and any(ch in text for ch in _FOLDS_TO_ASCII)


class PatternStage:
    """Stage 2: one Hyperscan database of superset patterns."""

    BUILD_AFTER = 0.25  # seconds of regex work before the database is compiled
    # ... or loaded, when the disk cache has it (loading takes ~15 ms).
    LOAD_AFTER = 0.05

    def __init__(self, patterns: Sequence[str], fold: bool = False, keywords: Sequence[bytes] = ()) -> None:
        self._sources = list(patterns)
        self._fold = fold
        # Stage 1's keyword expressions (ids 0..K-1, caseless), compiled into
        # the same database before the superset patterns (ids K + rule
        # index): on ASCII bytes one scan answers both stages (``both``).
        self._keywords = list(keywords)
        self._always: set[int] = set()  # rules without a superset pattern
        self._exprs: list[bytes] = []
        self._ids: list[int] = []
        self._db = None
        self._scratch = None
        self._spent = 0.0
        self._failed = False
        self._folded: PatternStage | None = None
        self._threshold: float | None = None  # BUILD_AFTER or LOAD_AFTER, once known

    @property
    def ready(self) -> bool:
        return self._db is not None

    def spent(self, seconds: float) -> None:
        if self._db is None and not self._failed:
            self._spent += seconds
            if self._spent >= self.LOAD_AFTER and self._spent >= (self.LOAD_AFTER if self._cached() else self.BUILD_AFTER):
                self.build()

    def _cached(self) -> bool:
        """Does the disk cache hold this database? (Looked up once.)"""
        if self._threshold is None:
            cached = os.environ.get("KEYSCAN_NO_CACHE") is None and self._cache_path().is_file()
            self._threshold = self.LOAD_AFTER if cached else self.BUILD_AFTER
        return self._threshold == self.LOAD_AFTER

    def load_cached(self) -> bool:
        """Load the database now if the disk cache has it (~15 ms); never
        compile. True when the stage is ready."""
        if self._db is None and not self._failed and self._cached():
            self.build()
        return self._db is not None

    def _digest(self) -> str:
        """Cache key: the rules' regex sources, the keywords and the
        translator's own code, so a cache hit skips the translation too
        (Python's regex parser over every rule cost 0.15 s a database, on
        every scan that built one)."""
        import hyperscan

        flags, kw_flags = _stage2_flags()
        key = hashlib.sha256(f"{getattr(hyperscan, '__version__', '?')}\0{flags}\0{self._fold}\0{kw_flags}\0".encode())
        key.update(_translator_digest())
        for source in self._sources:
            key.update(source.encode("utf-8", "surrogatepass") + b"\0\1\0")
        for expr in self._keywords:
            key.update(b"\2" + expr + b"\0")
        return key.hexdigest()

    def _cache_path(self) -> Path:
        return _cache_path("superset", self._digest())

    def _translate(self) -> None:
        from .superset import superset_pattern

        for index, source in enumerate(self._sources):
            expr = superset_pattern(source, self._fold)
            if expr is None:
                self._always.add(index)
            else:
                self._exprs.append(expr)
                self._ids.append(index)

    def build(self) -> None:
        if self._db is not None or self._failed:
            return
        import hyperscan

        flags, kw_flags = _stage2_flags()
        base = len(self._keywords)

        def translate_and_compile():
            self._translate()
            if not self._exprs:
                return None
            exprs = self._keywords + self._exprs
            ids = list(range(base)) + [base + i for i in self._ids]
            try:
                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=[kw_flags] * base + [flags] * len(self._exprs))
            except Exception:  # a pattern Hyperscan rejects: keep stage 1 alone
                return None
            return db, self._ids, self._always

        built = _cached_db("superset", self._digest(), translate_and_compile)
        if built is None:
            self._failed = True
            return
        db, self._ids, self._always = built
        self._db = db
        self._scratch = hyperscan.Scratch(db)

    def narrow(self, rules: frozenset[int], data: bytes, text_of: Callable[[], str]) -> frozenset[int]:
        if self._db is None:
            return rules
        if data.isascii():
            buf = data
        else:
            text = text_of()
            buf = text.encode("ascii", "replace")  # the shadow: one byte per character
            if _folds(text):
                if self._folded is None:
                    self._folded = PatternStage(self._sources, fold=True)
                    self._folded.build()
                return self._folded._narrow(rules, buf)
        return self._narrow(rules, buf)

    def _narrow(self, rules: frozenset[int], buf: bytes) -> frozenset[int]:
        if self._db is None:
            return rules
        _, hit = self.both(buf)
        return rules & hit if len(hit) < len(self._sources) else rules

    def both(self, buf: bytes) -> tuple[list[int], set[int]]:
        """One scan of ``buf`` (ASCII bytes or a shadow): the ids of the
        keyword expressions found, and the rules whose superset pattern
        occurs (with those that have none)."""
        ids: list[int] = []  # one event per expression at most (SINGLEMATCH)
        self._db.scan(buf, match_event_handler=_append, context=ids, scratch=self._scratch)
        base = len(self._keywords)
        hit = set(self._always)
        if not base:
            hit.update(ids)
            return [], hit
        keywords = []
        for i in ids:
            if i < base:
                keywords.append(i)
            else:
                hit.add(i - base)
        return keywords, hit


_TRANSLATOR: bytes | None = None


def _translator_digest() -> bytes:
    """Hash of the code that turns rules into superset patterns."""
    global _TRANSLATOR
    if _TRANSLATOR is None:
        from . import superset

        try:
            _TRANSLATOR = hashlib.sha256(Path(superset.__file__).read_bytes()).digest()
        except OSError:  # no source beside the bytecode: never trust a cache
            _TRANSLATOR = os.urandom(32)
    return _TRANSLATOR


def _cache_path(kind: str, digest: str) -> Path:
    return diskcache.folder() / f"{kind}-{digest[:24]}.hsdb"


def _cached_db(kind: str, digest: str, build):
    """(database, rule ids of its patterns, rules without one) from the disk
    cache under ``digest``, else from ``build()`` (None when it cannot be
    built), saved for next time. KEYSCAN_NO_CACHE=1 skips the cache."""
    if os.environ.get("KEYSCAN_NO_CACHE") is not None:
        return build()
    cache = _cache_path(kind, digest)
    built = _load_db(cache, digest)
    if built is None:
        built = build()
        if built is not None:
            _save_db(cache, digest, *built)
    return built


def _load_db(path: Path, digest: str):
    """The cached (database, rule ids of its patterns, rules without one), or
    None when missing, stale or damaged (the file starts with the sha256 of
    the rest, so a torn write is caught)."""
    import hyperscan

    try:
        blob = path.read_bytes()
    except OSError:
        return None
    if len(blob) < 36 or hashlib.sha256(blob[32:]).digest() != blob[:32]:
        return None
    size = int.from_bytes(blob[32:36], "big")
    try:
        meta = json.loads(blob[36:36 + size])
        if meta.get("digest") != digest:
            return None
        ids, always = [int(i) for i in meta["ids"]], {int(i) for i in meta["always"]}
        loaded = hyperscan.loadb(blob[36 + size:], hyperscan.HS_MODE_BLOCK), ids, always
    except Exception:  # another format, Hyperscan build or CPU: recompile
        return None
    diskcache.loaded(path)
    return loaded


def _save_db(path: Path, digest: str, db, ids: list[int], always: set[int]) -> None:
    import hyperscan

    try:
        meta = json.dumps({"digest": digest, "ids": ids, "always": sorted(always)}).encode()
        body = len(meta).to_bytes(4, "big") + meta + hyperscan.dumpb(db)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(hashlib.sha256(body).digest() + body)
        os.replace(tmp, path)
    except Exception:  # an unwritable cache only costs the next run a compile
        return
    diskcache.written(path)


def make_prefilter(keywords_per_rule: Sequence[Iterable[str]], backend: str | None = None, patterns: Sequence[str] | None = None):
    """Build the fastest available prefilter (or the one named by ``backend``
    or the KEYSCAN_PREFILTER environment variable). ``patterns`` (each
    rule's regex source) enables stage 2 on the Hyperscan backend."""
    backend = backend or os.environ.get("KEYSCAN_PREFILTER") or "auto"
    if backend in ("auto", "hyperscan"):
        try:
            return HyperscanPrefilter(keywords_per_rule, patterns)
        except ImportError:
            if backend == "hyperscan":
                raise
    return StdlibPrefilter(keywords_per_rule)
