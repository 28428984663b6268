"""Built JavaScript bundles: scan the code, find its source map, map a
finding back to the original file, line, column and inlined env var.

Every ``.js``/``.mjs``/``.cjs`` file goes through here. Its text is scanned
as usual (in overlapping windows when large); it counts as a shipped bundle
(origin ``bundle``) when it has a source map, looks minified, or sits in a
build folder, and as ordinary source otherwise. The source map is found from
the last ``//# sourceMappingURL=`` (or ``//@``) comment:

* an inline ``data:application/json;base64,`` map is decoded at once and its
  ``sourcesContent`` scanned as the original files (origin ``sourcemap``);
* a map file is followed only when it lies in the bundle's folder or below
  (never an absolute path, a URL or a ``..`` that leaves the folder); it is
  parsed only when a finding in the bundle needs it, and scanned on its own
  when the walk reaches it.

A finding's offset in the bundle becomes the generated line and UTF-16
column, the map gives the original place, and the original line (from
``sourcesContent``) tells whether the key is written there or came from
``process.env.X`` / ``import.meta.env.X``. Problems with the map go to the
report's errors; the bundle itself is always scanned.
"""
from __future__ import annotations

import base64
import binascii
import io
import os
import posixpath
import re
import urllib.parse
from bisect import bisect_left
from typing import Callable, Iterator

from ..decode.offsets import LineIndex
from ..decode.text import looks_binary, sniff_encoding, to_utf8
from ..findings import is_build_output
from ..models import Fragment, ScanError, Stats
from . import register_reader
from .sourcemap import MAX_MAP_BYTES, SourceMap, SourceMapError, content_fragments, parse
from .worktree import WINDOW, FileEntry, _windows, open_regular, open_sized

TAIL = 64 * 1024  # bytes read from the end of a large bundle to find its map comment
MINIFIED_LINE = 1000  # a line this long in the head of a file marks it as built
HEAD = 64 * 1024

_COMMENT = re.compile(rb"(?://[#@]|/\*[#@])[ \t]*sourceMappingURL=([^\s'\"`*]+)")
_B64_RUN = re.compile(rb"[A-Za-z0-9+/=\s]*")
_ENV_REF = re.compile(
    r"""(?:process\.env|import\.meta\.env)(?:\.([A-Za-z_$][\w$]*)|\[\s*(['"])([^'"]+)\2\s*\])"""
)
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")

# A map resolver: url -> (map bytes, map display path); raises MapNotFollowed.
MapResolver = Callable[[str], tuple[bytes, str]]


class MapNotFollowed(Exception):
    """The map reference is not followed; the message says why (one line)."""


def stream_fragments(fh, display: str, origin: str, stats: Stats, window: int = WINDOW, first: bytes | None = None) -> Iterator[Fragment]:
    """``read_fragments`` for an open binary stream (an archive member, a
    bundle already open): one fragment, or overlapping windows."""
    try:
        if first is None:
            first = fh.read(window)
    except OSError as exc:
        stats.skip(display, f"unreadable ({exc.strerror or exc})")
        return
    if looks_binary(first):
        stats.skip(display, "binary")
        return
    if len(first) < window:
        stats.files_scanned += 1
        stats.bytes_scanned += len(first)
        yield Fragment(to_utf8(first), display, origin)
        return
    if sniff_encoding(first[:4]) not in (None, "utf-8"):
        rest = fh.read(256 * 1024 * 1024)
        stats.files_scanned += 1
        stats.bytes_scanned += len(first) + len(rest)
        yield Fragment(to_utf8(first + rest), display, origin)
        return
    stats.files_scanned += 1
    yield from _windows(fh, first, display, origin, window, stats)


def find_map_comment(fh, size: int) -> tuple[str, int] | None:
    """The last ``sourceMappingURL`` of a bundle and the byte offset where
    its URL starts. Reads the tail, and further back only while the bytes
    can still be the base64 of an inline map (at most MAX_MAP_BYTES)."""
    limit = max(0, size - (MAX_MAP_BYTES * 4 // 3 + TAIL))
    end, chunk = size, TAIL
    while end > limit:
        start = max(limit, end - chunk)
        fh.seek(start)
        # Overlap into the part already searched, so a comment that straddles
        # two pieces is seen whole.
        piece = fh.read(min(size, end + 64) - start)
        last = _last_comment(piece)
        if last is not None:
            url_start = start + last.start(1)
            fh.seek(url_start)
            raw = fh.read(min(size - url_start, MAX_MAP_BYTES * 4 // 3 + 4096))
            url = raw.split(None, 1)[0].split(b"*/", 1)[0] if raw.strip() else b""
            return url.decode("utf-8", "replace"), url_start
        if not _B64_RUN.fullmatch(piece, 0, end - start):
            return None
        end, chunk = start, 1024 * 1024
    return None


def _last_comment(piece: bytes):
    """The last match of _COMMENT in ``piece``, as ``finditer`` would give
    it, without running the pattern over the whole piece: a match cannot
    cross a line end, so scanning from the start of a line finds the same
    matches from there on as scanning from the top. Every match holds
    ``sourceMappingURL=``, so only lines with that are scanned."""
    end = len(piece)
    while True:
        at = piece.rfind(b"sourceMappingURL=", 0, end)
        if at == -1:
            return None
        line_start = piece.rfind(b"\n", 0, at) + 1
        last = None
        for last in _COMMENT.finditer(piece, line_start, end):
            pass
        if last is not None:
            return last
        end = line_start  # no match from that line on (it ends in a newline)


def decode_data_url(url: str) -> bytes:
    """The body of a ``data:`` URL (base64 or percent-encoded)."""
    header, sep, body = url.partition(",")
    if not sep:
        raise SourceMapError("inline map: data URL without a comma")
    if len(body) > MAX_MAP_BYTES * 4 // 3:
        raise SourceMapError(f"inline map larger than {MAX_MAP_BYTES >> 20} MiB")
    if header.lower().endswith(";base64"):
        try:
            return base64.b64decode(body + "=" * (-len(body) % 4), validate=False)
        except (binascii.Error, ValueError):
            raise SourceMapError("inline map: bad base64") from None
    return urllib.parse.unquote_to_bytes(body)


def map_relative(url: str, bundle_display: str) -> str:
    """Where a relative map URL points, relative to the bundle's folder; raise
    MapNotFollowed when it is absolute, a URL, or leaves that folder."""
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", url) or url.startswith(("/", "\\")):
        raise MapNotFollowed(f"sourceMappingURL {_short(url)} is absolute or a URL; not followed (only maps in the bundle's folder are read)")
    clean = urllib.parse.unquote(url.split("#", 1)[0].split("?", 1)[0]).replace("\\", "/")
    rel = posixpath.normpath(clean)
    if rel == ".." or rel.startswith("../") or rel in (".", ""):
        raise MapNotFollowed(f"sourceMappingURL {_short(url)} points outside the bundle's folder; not followed")
    return rel


def _short(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


class BundleMap:
    """The map of one bundle, loaded on first use, and lookups into it."""

    def __init__(self, display: str, errors: list, *, smap: SourceMap | None = None, loader: Callable[[], SourceMap] | None = None) -> None:
        self.display = display
        self.errors = errors
        self._smap = smap
        self._loader = loader
        self._loaded = smap is not None
        self._line_indexes: dict[tuple[int, int], LineIndex] = {}
        self._reported: set[str] = set()

    def error(self, path: str, message: str) -> None:
        err = ScanError(path, "sourcemap", message)
        if err not in self.errors:
            self.errors.append(err)

    @property
    def smap(self) -> SourceMap | None:
        if not self._loaded:
            self._loaded = True
            try:
                self._smap = self._loader()
            except MapNotFollowed as exc:
                self.error(self.display, str(exc))
            except SourceMapError as exc:
                self.error(self.display, f"source map: {exc}; findings in the bundle are not mapped to the original")
            self._report_problems()
        return self._smap

    def _report_problems(self) -> None:
        """Report problems found so far (mappings are decoded lazily, so
        a lookup can find new ones)."""
        if self._smap is None:
            return
        for problem in self._smap.all_problems():
            if problem not in self._reported:
                self._reported.add(problem)
                self.error(self._smap.map_path, problem)

    def original(self, line0: int, col16: int, generated_text: str) -> dict | None:
        """The original place of generated ``line0``/``col16``; the
        generated text from there on tells a verbatim copy from an inlined
        value."""
        smap = self.smap
        if smap is None:
            return None
        orig = smap.lookup(line0, col16)
        self._report_problems()
        if orig is None:
            return None
        column = orig.column
        env_var = None
        content = orig.map.content(orig.source)
        if content is not None:
            line_text = self._line(orig.map, orig.source, content, orig.line)
            if line_text is not None:
                delta = col16 - orig.generated_column
                probe = generated_text[:24]
                exact = orig.column + delta
                if probe and delta >= 0 and _utf16_slice(line_text, exact, len(probe)) == probe:
                    column = exact
                else:
                    env_var = env_var_at(line_text, orig.column)
        out = {"path": orig.path, "line": orig.line + 1, "column": column + 1}
        if env_var:
            out["env_var"] = env_var
        return out

    def _line(self, smap: SourceMap, source: int, content: str, line: int) -> str | None:
        key = (id(smap), source)
        index = self._line_indexes.get(key)
        if index is None:
            index = self._line_indexes[key] = LineIndex(content)
        try:
            return index.line_text(line, 1 << 20)
        except IndexError:
            return None


def _utf16_slice(text: str, col16: int, length: int) -> str:
    """``length`` characters of ``text`` from UTF-16 column ``col16``."""
    if text.isascii():
        return text[col16:col16 + length]
    units = 0
    for i, ch in enumerate(text):
        if units >= col16:
            return text[i:i + length] if units == col16 else ""
        units += 2 if ord(ch) > 0xFFFF else 1
    return ""


def env_var_at(line: str, column: int) -> str | None:
    """The ``process.env.X`` / ``import.meta.env.X`` read at (or nearest to)
    ``column`` of an original source line."""
    best = None
    for m in _ENV_REF.finditer(line):
        name = m.group(1) or m.group(3)
        if m.start() <= column < m.end():
            return name
        dist = abs(m.start() - column)
        if best is None or dist < best[0]:
            best = (dist, name)
    return best[1] if best else None


def attach_original(frag: Fragment, bmap: BundleMap, carry16: int = 0) -> Fragment:
    """Give ``frag`` an ``original_of`` that maps a match offset through the
    bundle's map. ``carry16`` counts the astral characters earlier on the
    line ``frag`` starts in (earlier windows), which take two UTF-16 units.
    The line of an offset is found by counting newlines from the offset
    asked about before (matches come in order), not with a line index of
    the whole fragment: a few lookups in a text of megabytes."""
    cache: dict = {}

    def original_of(offset: int) -> dict | None:
        text = frag.text
        if "astral" not in cache:
            cache["astral"] = [] if text.isascii() else [m.start() for m in _ASTRAL.finditer(text)]
        prev, line0, line_start = cache.get("at", (0, 0, 0))
        if offset < prev:
            prev, line0, line_start = 0, 0, 0
        line0 += text.count("\n", prev, offset)
        nl = text.rfind("\n", prev, offset)
        if nl != -1:
            line_start = nl + 1
        cache["at"] = (offset, line0, line_start)
        col0 = offset - line_start
        astral = cache["astral"]
        if astral:
            col0 += bisect_left(astral, offset) - bisect_left(astral, line_start)
        gen_line = frag.line - 1 + line0
        gen_col = (frag.column + carry16 if line0 == 0 else 0) + col0
        return bmap.original(gen_line, gen_col, text[offset:offset + 64])

    frag.meta["original_of"] = original_of
    return frag


_BLOCK = MINIFIED_LINE // 2


def looks_built(head: bytes, display: str) -> bool:
    """Built code: in a build folder, or a line of MINIFIED_LINE bytes or
    more in ``head``. A line that long holds a whole aligned block of half
    that length, so when every such block has a newline (most source files)
    the answer is no after a few dozen C-level ``find`` calls; otherwise the
    line lengths are measured with one ``split``. (Walking line by line in
    Python cost 0.23 s for the 9,113 heads of the large tree; this 0.04 s.)"""
    if is_build_output(display):
        return True
    n = len(head)
    if n < MINIFIED_LINE:
        return False
    find = head.find
    for i in range(0, n - _BLOCK + 1, _BLOCK):
        if find(b"\n", i, i + _BLOCK) == -1:
            return max(map(len, head.split(b"\n"))) >= MINIFIED_LINE
    return False


def bundle_fragments(fh, size: int, display: str, stats: Stats, errors: list, resolve: MapResolver | None, *, origin: str | None = None, meta: dict | None = None, window: int = WINDOW) -> Iterator[Fragment]:
    """Fragments of a bundle open as the seekable binary ``fh``: its code
    (each able to map a finding back) and its inline map's sources.
    ``origin`` forces the origin (``archive`` for package members);
    otherwise it is ``bundle`` for built code and ``worktree`` for source."""
    meta = dict(meta or {})
    fh.seek(0)
    head = fh.read(HEAD)
    if looks_binary(head):
        stats.skip(display, "binary")
        return
    comment = find_map_comment(fh, size)
    bmap: BundleMap | None = None
    inline: SourceMap | None = None
    if comment is not None:
        url, _ = comment
        if url.startswith("data:"):
            try:
                inline = parse(decode_data_url(url), display)
            except SourceMapError as exc:
                errors.append(ScanError(display, "sourcemap", f"inline source map: {exc}; the bundle was scanned on its own"))
            else:
                bmap = BundleMap(display, errors, smap=inline)
                bmap._report_problems()
        elif resolve is not None:

            def load(url=url) -> SourceMap:
                data, map_display = resolve(url)
                return parse(data, map_display)

            bmap = BundleMap(display, errors, loader=load)
    built = comment is not None or looks_built(head, display) or size > window
    frag_origin = origin or ("bundle" if built else "worktree")
    fh.seek(0)
    carry16 = 0
    for frag in stream_fragments(fh, display, frag_origin, stats, window):
        frag.meta.update(meta)
        if bmap is not None:
            attach_original(frag, bmap, carry16)
        yield frag
        limit = frag.meta.get("report_limit")
        if bmap is not None and limit is not None:
            consumed = frag.data[:limit].decode("utf-8", "replace")
            nl = consumed.rfind("\n")
            tail = consumed[nl + 1:]
            astral = 0 if tail.isascii() else len(_ASTRAL.findall(tail))
            carry16 = astral if nl != -1 else carry16 + astral
    if inline is not None:
        src_meta = dict(meta, bundle=display, map=f"{display} (inline map)")
        yield from content_fragments(inline, stats, src_meta, "sourcemap")


def disk_resolver(entry: FileEntry) -> MapResolver:
    """Read a bundle's map file from disk: only in the bundle's folder or
    below, a regular file (no symlink), at most MAX_MAP_BYTES."""

    def resolve(url: str) -> tuple[bytes, str]:
        rel = map_relative(url, entry.display)
        path = os.path.join(os.path.dirname(entry.path), *rel.split("/"))
        shown = posixpath.normpath(posixpath.join(posixpath.dirname(entry.display), rel))
        here = os.path.dirname(entry.path)
        if os.path.commonpath([os.path.realpath(here), os.path.realpath(path)]) != os.path.realpath(here):
            raise MapNotFollowed(f"sourceMappingURL {_short(url)} leads outside the bundle's folder through a symlink; not followed")
        try:
            fd = open_regular(path)
        except FileNotFoundError:
            raise MapNotFollowed(f"source map {shown} not found; findings in the bundle are not mapped to the original") from None
        except OSError as exc:
            raise MapNotFollowed(f"source map {shown} unreadable ({exc.strerror or exc})") from None
        with os.fdopen(fd, "rb") as fh:
            if os.fstat(fh.fileno()).st_size > MAX_MAP_BYTES:
                raise SourceMapError(f"{shown} is larger than {MAX_MAP_BYTES >> 20} MiB")
            return fh.read(MAX_MAP_BYTES), shown

    return resolve


@register_reader((".js", ".mjs", ".cjs"))
def read_bundle(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    try:
        fd, size = open_sized(entry.path)
    except OSError as exc:
        stats.skip(entry.display, f"unreadable ({exc.strerror or exc})")
        return
    if size < WINDOW:
        # Smaller than a window: read whole, in one call of its size plus
        # one byte, and work on it in memory (the head, the map comment at
        # the end and the code were three reads through a buffered file,
        # the last one asking for a whole window: an 8 MiB buffer a file).
        # A file whose size changed since the fstat takes the way below.
        try:
            data = os.read(fd, size + 1)
        except OSError as exc:
            os.close(fd)
            stats.skip(entry.display, f"read failed ({exc.strerror or exc})")
            return
        if len(data) == size:
            os.close(fd)
            yield from bundle_fragments(io.BytesIO(data), size, entry.display, stats, errors, disk_resolver(entry))
            return
    with os.fdopen(fd, "rb") as fh:
        try:
            fh.seek(0)
            yield from bundle_fragments(fh, size, entry.display, stats, errors, disk_resolver(entry))
        except OSError as exc:
            stats.skip(entry.display, f"read failed ({exc.strerror or exc})")
