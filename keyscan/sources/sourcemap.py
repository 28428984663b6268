"""Source map v3: parse, look up, and scan a map's ``sourcesContent``.

The parser takes untrusted input: any problem is a ``SourceMapError`` with a
one-line message (or, for problems inside ``mappings``, an entry in
``SourceMap.problems`` that leaves the earlier mappings usable), never another
exception. ``mappings`` is decoded lazily, only as far as a lookup needs, in
pieces of 64 KB, by string splitting and C-level sums, each distinct segment
text decoded once (maps repeat ``AAAA``, ``CAAC``... constantly); from the
first piece with anything unusual in it (a bad segment, an index out of range,
a line not in column order), the straightforward decoder takes over, from the
top, one segment at a time, and reports the problems. Both keep segments in
arrays, so a lookup is a binary search, however long the line.

Columns in a source map count UTF-16 code units; callers convert.
"""
from __future__ import annotations

import io
import json
import os
import posixpath
import re
from array import array
from bisect import bisect_right
from itertools import accumulate, chain
from typing import Any, Iterator, NamedTuple

from ..models import Fragment, ScanError, Stats
from . import register_reader
from .worktree import WINDOW, FileEntry, _windows, open_sized, read_fragments

MAX_MAP_BYTES = 64 * 1024 * 1024  # larger maps are scanned as text, not parsed
MAX_SECTIONS = 10_000
MAX_VLQ_SHIFT = 30  # seven base64 digits: larger values are not column numbers

_B64 = {c: i for i, c in enumerate("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")}
_SEGMENT = re.compile(r"[^,;]+|;")
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*):")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:/")


class SourceMapError(ValueError):
    """The map cannot be used; the message is one line."""


def decode_vlq(text: str) -> list[int]:
    """The signed integers of one Base64 VLQ string (a whole segment)."""
    values: list[int] = []
    value = shift = 0
    for ch in text:
        digit = _B64.get(ch)
        if digit is None:
            raise SourceMapError(f"bad VLQ: {ch!r} is not a base64 digit")
        value |= (digit & 31) << shift
        if digit & 32:
            shift += 5
            if shift > MAX_VLQ_SHIFT:
                raise SourceMapError("bad VLQ: value too large")
            continue
        values.append(-(value >> 1) if value & 1 else value >> 1)
        value = shift = 0
    if shift:
        raise SourceMapError("bad VLQ: value cut short")
    return values


def encode_vlq(values) -> str:
    """Base64 VLQ for ``values`` (the inverse of ``decode_vlq``)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    out = []
    for v in values:
        v = (-v << 1) | 1 if v < 0 else v << 1
        while True:
            digit = v & 31
            v >>= 5
            if v:
                out.append(alphabet[digit | 32])
            else:
                out.append(alphabet[digit])
                break
    return "".join(out)


# Single base64 digits without the continuation bit decode to these values;
# most fields of most segments are one digit.
_SINGLE = {c: (-(d >> 1) if d & 1 else d >> 1) for c, d in _B64.items() if d < 32}


# One VLQ value: continuation digits (base64 values 32..63), then a final one.
_VALUE = "[g-z0-9+/]*+[A-Za-f]"
# A segment of 1, 4 or 5 values; absent fields are empty strings.
_FIELDS = re.compile(f"({_VALUE})(?:({_VALUE})({_VALUE})({_VALUE})({_VALUE})?)?")
# VLQ text of one value -> the value ('' -> 0).
_VALUES: dict[str, int] = {"": 0}
# Segment text -> (generated column, source, line, column, name deltas (0
# where absent), number of fields). Minified and plain maps alike repeat a
# few thousand segment texts (``AAAA``, ``CAAC``, ``SAAS``) over and over.
_SEGMENTS: dict[str, tuple[int, int, int, int, int, int]] = {}
_MEMO_MAX = 32_768  # entries of each memo; cleared when a map needs more
_PIECE = 64 * 1024  # characters of mappings decoded at a time


def _pieces(text: str) -> Iterator[tuple[str, bool]]:
    """``text`` in pieces of about _PIECE characters, cut at a ``,`` or
    ``;`` (left out), each with whether a line ends where it was cut."""
    pos, size = 0, len(text)
    while size - pos > _PIECE:
        at = pos + _PIECE
        # A valid segment is at most 35 characters: no separator within 64
        # means a bad one, and the rest goes as one piece (which fails).
        cuts = [c for c in (text.find(",", at, at + 64), text.find(";", at, at + 64)) if c != -1]
        if not cuts:
            break
        cut = min(cuts)
        yield text[pos:cut], text[cut] == ";"
        pos = cut + 1
    yield (text[pos:] if pos else text), True


def _learn(segs: list[str]) -> bool:
    """Add the segment texts not yet in _SEGMENTS; False if one of them is
    not a well-formed segment of 1, 4 or 5 values."""
    missing = set(segs).difference(_SEGMENTS)
    if not missing:
        return True
    if len(_SEGMENTS) + len(missing) > _MEMO_MAX:
        _SEGMENTS.clear()
        missing = set(segs)
    missing_list = list(missing)
    if max(map(len, missing_list)) > 35:
        return False  # longer than 5 values of 7 digits (and slow to match)
    joined = ",".join(missing_list)
    groups = _FIELDS.findall(joined)
    if len(groups) != len(missing_list):
        return False  # 2, 3 or 6+ values, or a character that is not base64
    texts = list(chain.from_iterable(groups))
    if len("".join(texts)) != len(joined) - (len(missing_list) - 1):
        return False  # characters the pattern skipped
    unknown = set(texts).difference(_VALUES)
    if unknown:
        if len(_VALUES) + len(unknown) > _MEMO_MAX:
            _VALUES.clear()
            _VALUES[""] = 0
            unknown = set(texts).difference(_VALUES)
        for text in unknown:
            try:
                (_VALUES[text],) = decode_vlq(text)
            except SourceMapError:
                return False
    values = iter(list(map(_VALUES.__getitem__, texts)))
    fields = [1 if not g[1] else 5 if g[4] else 4 for g in groups]
    _SEGMENTS.update(zip(missing_list, zip(values, values, values, values, values, fields)))
    return True


class _FastMappings:
    """The running sums of every segment's fields, in arrays, decoded a
    piece at a time with C-level string and list operations (generated
    columns are summed over the whole string: a line's columns are its sums
    less the sum before the line). Gives up (``failed``) on anything
    unusual, at the piece where it is; the straightforward decoder then
    finds and reports the problem. It only accepts pieces in which that
    decoder finds no problem and every line is in column order, so where
    it does not give up, both give the same segments."""

    def __init__(self, text: str, n_sources: int, n_names: int) -> None:
        self.n_sources, self.n_names = n_sources, n_names
        self.line_starts = array("q", [0])  # segment index where each line starts
        self.gen, self.src, self.line, self.col, self.name = (array("q") for _ in range(5))
        self.fields = bytearray()
        self.done = self.failed = False
        self._text = text
        self._pieces: Iterator[tuple[str, bool]] | None = None
        self._state = (0, 0, 0, 0, 0)

    def decode_through(self, line: int) -> None:
        """Decode until generated line ``line`` is complete (or the end, or
        a failure)."""
        if self._pieces is None:
            text = self._text
            # Empty segments (``,,``) are skipped by the straightforward decoder.
            self.failed = text.startswith(",") or text.endswith(",") or ",," in text or ",;" in text or ";," in text
            self._pieces = _pieces(text)
        while not self.done and not self.failed and len(self.line_starts) - 1 <= line:
            piece = next(self._pieces, None)
            if piece is None:
                self.done = True
            elif not self._piece(*piece):
                self.failed = True

    def _piece(self, piece: str, line_end: bool) -> bool:
        lines = piece.split(";")
        count = len(self.gen)
        ends = list(accumulate([line.count(",") + 1 if line else 0 for line in lines], initial=count))
        del ends[0]
        segs = piece.replace(";", ",").split(",") if ";" in piece else piece.split(",")
        if "" in segs:
            segs = [seg for seg in segs if seg]
        if segs:
            if not _learn(segs):
                return False
            vals = list(chain.from_iterable(map(_SEGMENTS.__getitem__, segs)))
            d_gen = vals[0::6]
            if min(d_gen) < 0:
                return False  # a negative column, or a line out of column order
            gen_sum, src, sline, scol, name = self._state
            gen = list(accumulate(d_gen, initial=gen_sum))
            srcs = list(accumulate(vals[1::6], initial=src))
            slines = list(accumulate(vals[2::6], initial=sline))
            scols = list(accumulate(vals[3::6], initial=scol))
            names = list(accumulate(vals[4::6], initial=name))
            self._state = (gen[-1], srcs[-1], slines[-1], scols[-1], names[-1])
            del gen[0], srcs[0], slines[0], scols[0], names[0]
            fields = bytes(vals[5::6])
            n = len(segs)
            # A segment without a source (or name) carries on the last
            # segment's value or the initial 0, so the range of all running
            # values is the range of those at segments that have one (and
            # of 0, which is in range whenever anything is).
            if fields.count(1) != n and (min(srcs) < 0 or max(srcs) >= self.n_sources or min(slines) < 0 or min(scols) < 0):
                return False
            if 5 in fields and (min(names) < 0 or max(names) >= self.n_names):
                return False
            self.gen.fromlist(gen)
            self.src.fromlist(srcs)
            self.line.fromlist(slines)
            self.col.fromlist(scols)
            self.name.fromlist(names)
            self.fields.extend(fields)
        self.line_starts.fromlist(ends if line_end else ends[:-1])
        return True

    def lookup(self, line: int, column: int) -> Segment | None:
        starts = self.line_starts
        lo = starts[line]
        hi = starts[line + 1]
        if lo >= hi:
            return None
        gen = self.gen
        base = gen[lo - 1] if lo else 0
        i = bisect_right(gen, column + base, lo, hi) - 1
        if i < lo or self.fields[i] == 1:
            return None
        return Segment(gen[i] - base, self.src[i], self.line[i], self.col[i], self.name[i] if self.fields[i] == 5 else -1)


class Segment(NamedTuple):
    generated_column: int
    source: int  # index into sources, -1 when the segment maps nowhere
    line: int  # 0-based original line
    column: int  # 0-based original column
    name: int  # index into names, -1 when none


class Mappings:
    """The ``mappings`` string, decoded incrementally, as far as lookups
    need: by _FastMappings, or (``fast=False``, or once it gives up) one
    segment at a time."""

    def __init__(self, text: str, n_sources: int, n_names: int, *, fast: bool = True) -> None:
        self._text = text
        self._n_sources = n_sources
        self._n_names = n_names
        self._iter = _SEGMENT.finditer(text)
        self._line_starts = array("q", [0])  # segment index where each line starts
        self._cols = array("q")
        self._srcs = array("q")
        self._slines = array("q")
        self._scols = array("q")
        self._names = array("q")
        self._state = [0, 0, 0, 0]  # source, original line, original column, name
        self._gen_col = 0
        self._line_sorted = True
        self._sorted: dict[int, bool] = {}
        self._done = False
        self.problems: list[str] = []
        # The fast decoder, until it gives up (or when not wanted).
        self._fast = _FastMappings(text, n_sources, n_names) if fast else None

    @property
    def decoded_lines(self) -> int:
        if self._fast is not None:
            return len(self._fast.line_starts) - 1
        return len(self._line_starts) - (0 if self._done else 1)

    def _fast_through(self, line: int) -> _FastMappings | None:
        """The fast decoder, complete through ``line``; None once it has
        given up (the straightforward decoder then starts from the top)."""
        fast = self._fast
        if fast is not None:
            fast.decode_through(line)
            if fast.failed:
                self._fast = fast = None
        return fast

    def _fail(self, message: str) -> None:
        if len(self.problems) < 5:
            self.problems.append(message)

    def _decode_through(self, line: int) -> None:
        """Decode until generated line ``line`` is complete (or the end)."""
        if self._done or len(self._line_starts) - 1 > line:
            return
        cols, srcs, slines, scols, names = self._cols, self._srcs, self._slines, self._scols, self._names
        src, sline, scol, name = self._state
        gen_col = self._gen_col
        single = _SINGLE
        n_sources, n_names = self._n_sources, self._n_names
        prev_col = -1 if len(cols) == self._line_starts[-1] else cols[-1]
        line_sorted = self._line_sorted
        for m in self._iter:
            seg = m.group(0)
            if seg == ";":
                self._sorted[len(self._line_starts) - 1] = line_sorted
                self._line_starts.append(len(cols))
                gen_col, prev_col, line_sorted = 0, -1, True
                if len(self._line_starts) - 1 > line:
                    break
                continue
            try:
                vals = [single[c] for c in seg]
            except KeyError:
                try:
                    vals = decode_vlq(seg)
                except SourceMapError as exc:
                    self._fail(f"{exc} at offset {m.start()} of mappings; later mappings ignored")
                    self._done = True
                    break
            n = len(vals)
            if n not in (1, 4, 5):
                self._fail(f"bad mappings segment of {n} fields at offset {m.start()}; later mappings ignored")
                self._done = True
                break
            gen_col += vals[0]
            if n == 1:
                s_out, l_out, c_out, n_out = -1, 0, 0, -1
            else:
                src += vals[1]
                sline += vals[2]
                scol += vals[3]
                s_out, l_out, c_out, n_out = src, sline, scol, -1
                if n == 5:
                    name += vals[4]
                    n_out = name if 0 <= name < n_names else -1
                    if n_out == -1:
                        self._fail(f"name index {name} out of range (the map lists {n_names} names)")
                if not 0 <= src < n_sources:
                    self._fail(f"source index {src} out of range (the map lists {n_sources} sources)")
                    s_out = -1
                elif sline < 0 or scol < 0:
                    self._fail("negative original line or column in mappings")
                    s_out = -1
            if gen_col < 0:
                self._fail("negative generated column in mappings")
                continue
            if gen_col < prev_col:
                line_sorted = False
            prev_col = gen_col
            cols.append(gen_col)
            srcs.append(s_out)
            slines.append(l_out)
            scols.append(c_out)
            names.append(n_out)
        else:
            self._done = True
            self._sorted[len(self._line_starts) - 1] = line_sorted
        self._state = [src, sline, scol, name]
        self._gen_col = gen_col
        self._line_sorted = line_sorted

    def lookup(self, line: int, column: int) -> Segment | None:
        """The segment covering generated ``line`` (0-based) and ``column``
        (0-based, UTF-16 units): the one with the greatest generated column
        not past ``column``. None when that part of the line maps nowhere."""
        if line < 0 or column < 0:
            return None
        fast = self._fast_through(line)
        if fast is not None:
            return fast.lookup(line, column) if line + 1 < len(fast.line_starts) else None
        self._decode_through(line)
        if line >= len(self._line_starts):
            return None
        lo = self._line_starts[line]
        hi = self._line_starts[line + 1] if line + 1 < len(self._line_starts) else len(self._cols)
        if lo >= hi:
            return None
        if self._sorted.get(line, self._line_sorted):
            i = bisect_right(self._cols, column, lo, hi) - 1
            if i < lo:
                return None
        else:
            best = -1
            for j in range(lo, hi):
                if self._cols[j] <= column and (best == -1 or self._cols[j] >= self._cols[best]):
                    best = j
            if best == -1:
                return None
            i = best
        if self._srcs[i] < 0:
            return None
        return Segment(self._cols[i], self._srcs[i], self._slines[i], self._scols[i], self._names[i])

    def segments(self) -> Iterator[tuple[int, Segment]]:
        """Every segment as (generated line, segment); decodes everything."""
        fast = self._fast_through(1 << 62)
        if fast is not None:
            starts = fast.line_starts
            for line in range(len(starts) - 1):
                lo = starts[line]
                base = fast.gen[lo - 1] if lo else 0
                for i in range(lo, starts[line + 1]):
                    if fast.fields[i] == 1:
                        yield line, Segment(fast.gen[i] - base, -1, 0, 0, -1)
                    else:
                        yield line, Segment(fast.gen[i] - base, fast.src[i], fast.line[i], fast.col[i], fast.name[i] if fast.fields[i] == 5 else -1)
            return
        self._decode_through(1 << 62)
        starts = list(self._line_starts) + [len(self._cols)]
        for line in range(len(starts) - 1):
            for i in range(starts[line], starts[line + 1]):
                yield line, Segment(self._cols[i], self._srcs[i], self._slines[i], self._scols[i], self._names[i])


class Original(NamedTuple):
    path: str  # normalised original path
    source: int  # index of the source in its (section's) map
    line: int  # 0-based
    column: int  # 0-based, UTF-16 units
    generated_column: int  # where the segment starts on the generated line
    map: "SourceMap"


class SourceMap:
    """A parsed map: a regular map, or an index map of ``sections``."""

    def __init__(self, raw: dict[str, Any], map_path: str, depth: int = 0) -> None:
        self.map_path = map_path
        self.file = raw.get("file") if isinstance(raw.get("file"), str) else None
        self.sections: list[tuple[int, int, SourceMap]] = []
        self.sources: list[str | None] = []
        self.paths: list[str] = []
        self.contents: list[str | None] = []
        self.names: list[str] = []
        self._mappings: Mappings | None = None
        self._mappings_text: str | None = None  # until a lookup needs the Mappings
        self.problems: list[str] = []
        version = raw.get("version")
        if version is not None and version != 3:
            raise SourceMapError(f"unsupported source map version {version!r} (only 3 is known)")
        if "sections" in raw:
            self._parse_sections(raw["sections"], depth)
            return
        root = raw.get("sourceRoot")
        root = root if isinstance(root, str) else ""
        sources = raw.get("sources", [])
        if not isinstance(sources, list):
            raise SourceMapError("'sources' is not a list")
        self.sources = [s if isinstance(s, str) else None for s in sources]
        self.paths = [source_path(s, root, map_path) if s is not None else f"{map_path}#source{i}" for i, s in enumerate(self.sources)]
        contents = raw.get("sourcesContent")
        if contents is not None and not isinstance(contents, list):
            self.problems.append("'sourcesContent' is not a list; ignored")
            contents = None
        contents = contents or []
        if len(contents) > len(self.sources):
            self.problems.append(f"'sourcesContent' has {len(contents)} entries for {len(self.sources)} sources; the extra ones are scanned under the map's name")
            self.paths += [f"{map_path}#source{i}" for i in range(len(self.sources), len(contents))]
        self.contents = [c if isinstance(c, str) else None for c in contents]
        names = raw.get("names", [])
        self.names = [n if isinstance(n, str) else "" for n in names] if isinstance(names, list) else []
        mappings = raw.get("mappings", "")
        if not isinstance(mappings, str):
            raise SourceMapError("'mappings' is not a string")
        # Built on first use: a map scanned only for its sourcesContent (every
        # .map file the walk meets) never looks anything up.
        self._mappings_text = mappings

    @property
    def mappings(self) -> Mappings | None:
        if self._mappings is None and self._mappings_text is not None:
            self._mappings = Mappings(self._mappings_text, len(self.sources), len(self.names))
            self._mappings_text = None
        return self._mappings

    def _parse_sections(self, sections: Any, depth: int) -> None:
        if depth > 0:
            raise SourceMapError("an index map inside an index map section")
        if not isinstance(sections, list):
            raise SourceMapError("'sections' is not a list")
        if len(sections) > MAX_SECTIONS:
            raise SourceMapError(f"{len(sections)} sections (more than {MAX_SECTIONS})")
        last = (-1, -1)
        for i, sec in enumerate(sections):
            if not isinstance(sec, dict) or not isinstance(sec.get("offset"), dict):
                raise SourceMapError(f"section {i} has no 'offset'")
            line, col = sec["offset"].get("line"), sec["offset"].get("column")
            if not isinstance(line, int) or not isinstance(col, int) or line < 0 or col < 0:
                raise SourceMapError(f"section {i} has a bad offset")
            if (line, col) < last:
                raise SourceMapError(f"section {i} is out of order")
            last = (line, col)
            if "map" not in sec:
                self.problems.append(f"section {i} refers to a separate map ('url'); not followed")
                continue
            if not isinstance(sec["map"], dict):
                raise SourceMapError(f"section {i}'s 'map' is not an object")
            self.sections.append((line, col, SourceMap(sec["map"], self.map_path, depth + 1)))

    def all_problems(self) -> list[str]:
        out = list(self.problems)
        if self._mappings is not None:  # none found before the first lookup
            out += self._mappings.problems
        for _, _, sub in self.sections:
            out += sub.all_problems()
        return out

    def lookup(self, line: int, column: int) -> Original | None:
        """Where generated ``line``/``column`` (0-based; UTF-16 units) came from."""
        if self.sections:
            keys = [(sl, sc) for sl, sc, _ in self.sections]
            i = bisect_right(keys, (line, column)) - 1
            if i < 0:
                return None
            sl, sc, sub = self.sections[i]
            return sub.lookup(line - sl, column - sc if line == sl else column)
        if self.mappings is None:
            return None
        seg = self.mappings.lookup(line, column)
        if seg is None or seg.source >= len(self.paths):
            return None
        return Original(self.paths[seg.source], seg.source, seg.line, seg.column, seg.generated_column, self)

    def content(self, source: int) -> str | None:
        return self.contents[source] if 0 <= source < len(self.contents) else None

    def every_content(self) -> Iterator[tuple[str, str]]:
        """(normalised path, content) of every source that has content."""
        if self.sections:
            for _, _, sub in self.sections:
                yield from sub.every_content()
            return
        for i, content in enumerate(self.contents):
            if content is not None and i < len(self.paths):
                yield self.paths[i], content


try:  # where it has wheels (pyproject.toml); parses maps 2.5 times as fast
    import orjson as _orjson
except ImportError:  # pragma: no cover - the standard library alone
    _orjson = None


def _fast_json(data: bytes) -> dict | None:
    """``data`` (its BOM and XSSI prefix already off) parsed by orjson when
    that gives exactly what ``parse``'s standard path would: orjson accepts
    only valid UTF-8 and strict JSON (no NaN, no lone surrogate, nothing
    past 1,024 levels), a subset of what ``json.loads`` takes, with the same
    values, except an integer beyond 64 bits, which it makes a float; the
    numbers a map's reading looks at (its version, an index map's offsets)
    are checked for that. None: take the standard path, which decides (and
    words any error) as before."""
    try:
        raw = _orjson.loads(data)
    except _orjson.JSONDecodeError:
        return None
    if not isinstance(raw, dict) or "sections" in raw or type(raw.get("version", 3)) is not int:
        return None
    return raw


def _unprefixed(doc):
    """``doc`` (bytes or str) without leading blanks and the ``)]}'`` line
    that may guard a map against being run as script."""
    doc = doc.lstrip()
    prefix, newline = (b")]}", b"\n") if isinstance(doc, bytes) else (")]}", "\n")
    if doc.startswith(prefix):
        doc = doc.split(newline, 1)[1] if newline in doc else doc[:0]
    return doc


def parse(data: bytes | str, map_path: str) -> SourceMap:
    """Parse source map JSON (a leading ``)]}'`` line is allowed)."""
    if isinstance(data, bytes):
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        if _orjson is not None:
            raw = _fast_json(_unprefixed(data))
            if raw is not None:
                return _checked(raw, map_path)
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceMapError("not UTF-8") from None
    text = _unprefixed(data)
    try:
        raw = json.loads(text)
    except RecursionError:
        raise SourceMapError("invalid JSON (nested too deeply)") from None
    except ValueError as exc:
        msg = str(exc).split(":")[0]
        raise SourceMapError(f"invalid JSON ({msg})") from None
    if not isinstance(raw, dict):
        raise SourceMapError("not a JSON object")
    return _checked(raw, map_path)


def _checked(raw: dict, map_path: str) -> SourceMap:
    if "mappings" not in raw and "sections" not in raw:
        raise SourceMapError("neither 'mappings' nor 'sections'")
    try:
        return SourceMap(raw, map_path)
    except RecursionError:
        raise SourceMapError("nested too deeply") from None


def _split_container(display: str) -> tuple[str, str]:
    """('archive.tgz!', 'package/dist/x.js.map') for an archive member, or
    ('', path) for a plain path."""
    if "!" in display:
        head, _, tail = display.rpartition("!")
        return head + "!", tail
    return "", display


def source_path(source: str, source_root: str, map_path: str) -> str:
    """A map's source as a normalised path: ``sourceRoot`` applied, bundler
    schemes (``webpack://app/``) dropped, resolved against the map's folder
    when relative, so ``../src/api/client.ts`` of ``dist/app.js.map`` is
    ``src/api/client.ts``. Nothing is read from the result."""
    prefix, base = _split_container(map_path)
    s = source.replace("\\", "/")
    if source_root and not _SCHEME.match(s) and not s.startswith("/"):
        s = source_root.replace("\\", "/").rstrip("/") + "/" + s
    m = _SCHEME.match(s)
    if m and not _WINDOWS_DRIVE.match(s):
        scheme = m.group(1).lower()
        rest = s[m.end():]
        if scheme == "file":
            rest = rest[2:] if rest.startswith("//") else rest
            return prefix + posixpath.normpath(rest or "/")
        if rest.startswith("//"):
            rest = rest[2:]
            # webpack://app-name/./src/x.ts: the first part names the
            # project (or the host, for http URLs).
            rest = rest[1:] if rest.startswith("/") else rest.partition("/")[2]
        rest = rest.lstrip("/")
        return prefix + (posixpath.normpath(rest) if rest else ".")
    if _WINDOWS_DRIVE.match(s) or s.startswith("/"):
        return prefix + posixpath.normpath(s)
    joined = posixpath.join(posixpath.dirname(base), s)
    return prefix + posixpath.normpath(joined)


# --- scanning .map files ----------------------------------------------------


def text_fragments(text: str, path: str, origin: str, stats: Stats, meta: dict, window: int = WINDOW) -> Iterator[Fragment]:
    """Fragments of an in-memory text, in overlapping windows when large."""
    data = text.encode("utf-8", "surrogatepass")
    stats.files_scanned += 1
    if len(data) <= window:
        stats.bytes_scanned += len(data)
        frag = Fragment(data, path, origin, meta=dict(meta))
        frag.__dict__["text"] = text
        yield frag
        return
    fh = io.BytesIO(data)
    first = fh.read(window)
    for frag in _windows(fh, first, path, origin, window, stats):
        frag.meta.update(meta)
        yield frag


def content_fragments(smap: SourceMap, stats: Stats, meta: dict, origin: str = "sourcemap") -> Iterator[Fragment]:
    """Each ``sourcesContent`` entry as a fragment of its original file."""
    for path, content in smap.every_content():
        yield from text_fragments(content, path, origin, stats, meta)


def map_fragments(data: bytes, display: str, stats: Stats, errors: list, *, origin: str = "sourcemap", extra_meta: dict | None = None) -> Iterator[Fragment]:
    """Scan a source map held in memory: its sources' contents, each as its
    original file. A map that does not parse is scanned as text."""
    meta = {"map": display, **(extra_meta or {})}
    try:
        smap = parse(data, display)
    except SourceMapError as exc:
        errors.append(ScanError(display, "sourcemap", f"{exc}; scanned as plain text"))
        yield from text_fragments(data.decode("utf-8", "replace"), display, origin, stats, meta)
        return
    for problem in smap.all_problems():
        errors.append(ScanError(display, "sourcemap", problem))
    yield from content_fragments(smap, stats, meta, origin)


def looks_like_json_map(head: bytes) -> bool:
    head = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"{") or head.startswith(b")]}")


@register_reader((".map",))
def read_map_file(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    """A ``.map`` file: a source map's sources are scanned as the original
    files (origin ``sourcemap``); anything else is scanned as text."""
    try:
        fd, size = open_sized(entry.path)
    except OSError as exc:
        stats.skip(entry.display, f"unreadable ({exc.strerror or exc})")
        return
    try:
        # One read of the whole map when it is small enough to be parsed
        # (its size plus one byte, which tells the end; then on, if it grew,
        # up to the 64 bytes of the head and MAX_MAP_BYTES more, as a
        # buffered read of the head and then of the rest gave).
        data = os.read(fd, size + 1 if size <= MAX_MAP_BYTES else 64)
        if size <= MAX_MAP_BYTES and len(data) > size:
            data += os.read(fd, 64 + MAX_MAP_BYTES - len(data))
    except OSError as exc:
        stats.skip(entry.display, f"unreadable ({exc.strerror or exc})")
        return
    finally:
        os.close(fd)
    if not looks_like_json_map(data[:64]):
        yield from read_fragments(entry, stats)
        return
    if size > MAX_MAP_BYTES:
        errors.append(ScanError(entry.display, "sourcemap", f"source map of {size >> 20} MiB is larger than {MAX_MAP_BYTES >> 20} MiB; scanned as plain text"))
        yield from read_fragments(entry, stats, origin="sourcemap")
        return
    yield from map_fragments(data, entry.display, stats, errors)

