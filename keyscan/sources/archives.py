"""Archives, compressed assets and game builds: npm tarballs, tar, zip
(wheels, jars, ...), ``.gz``/``.br``/``.bz2``/``.xz`` files, and Unity WebGL
builds (``Build/*.data``, ``*.wasm``, ``*.unityweb``).

Members are reported as ``archive.tgz!package/dist/index.js`` with origin
``archive`` (a published package counts as shipped), nested archives as
``outer.zip!lib/inner.tgz!package/x.js`` up to MAX_DEPTH levels. An archive
that git holds (a blob of the history, a staged file) is read the same way
by ``git_archive_fragments``, its members with origin ``history`` or
``staged``. Each member goes where a file of its name would: a bundle to
the bundle reader (its map is looked up among the archive's members), a
``.map`` to the source map reader, binary game data to the string
extractor, the rest to the text scanner. Nothing is ever written to its
member name or extracted to disk.

Guards, each a note in the report's errors or stats, never a crash: a cap
on each member's and on the whole archive's uncompressed size, on the
compression ratio (zip bombs), on the member count and on nesting; member
names with ``..`` or an absolute path are noted (and scanned: nothing is
extracted); link members, encrypted members and corrupt archives are noted
and skipped. Memory stays bounded: members are copied into spooled
temporary files that move to disk past SPOOL_MEMORY.
"""
from __future__ import annotations

import bz2
import ctypes
import ctypes.util
import gzip
import lzma
import os
import posixpath
import re
import stat
import tarfile
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from typing import Callable, Iterator

from ..models import Fragment, ScanError, Stats
from . import register_reader
from .bundles import MapNotFollowed, MapResolver, bundle_fragments, disk_resolver, map_relative, stream_fragments
from .kinds import COMPRESSED, TAR_SUFFIXES, UNITY_SUFFIXES, ZIP_SUFFIXES, kind_of
from .sourcemap import MAX_MAP_BYTES, looks_like_json_map, map_fragments
from .worktree import WINDOW, FileEntry, _windows, open_regular

MAX_DEPTH = 3  # archives inside archives opened at most this deep
MEMBER_CAP = 256 * 1024 * 1024  # uncompressed bytes of one member
TOTAL_CAP = 2 * 1024 * 1024 * 1024  # uncompressed bytes of one archive, nested ones included
RATIO_CAP = 100  # uncompressed / compressed, checked past RATIO_MIN bytes
RATIO_MIN = 8 * 1024 * 1024
MAX_MEMBERS = 100_000
SPOOL_MEMORY = 16 * 1024 * 1024
CHUNK = 1024 * 1024

UNITY_MAGIC = b"UnityWebData1.0\0"

# Printable ASCII stays, every other byte becomes a space: a binary file
# turns into one line whose columns are byte offsets.
_STRINGS = bytes(b if 0x20 <= b < 0x7F else 0x20 for b in range(256))


class _Stop(Exception):
    """Stop reading this archive; the message says why (one line)."""


@dataclass
class Budget:
    total: int = TOTAL_CAP
    members: int = MAX_MEMBERS

    def spend(self, n: int, where: str) -> None:
        self.total -= n
        if self.total < 0:
            raise _Stop(f"more than {TOTAL_CAP >> 20} MiB uncompressed; the rest of the archive was not scanned")


@dataclass
class Ctx:
    stats: Stats
    errors: list
    depth: int = 0
    budget: Budget = field(default_factory=Budget)
    origin: str = "archive"  # origin of the members' text

    def note(self, path: str, message: str) -> None:
        self.errors.append(ScanError(path, "archive", message))

    def deeper(self) -> "Ctx":
        # A member of a file on disk is shipped with its archive; one of an
        # archive that git holds is history (or staged) at any depth.
        origin = self.origin if self.origin in GIT_ORIGINS else "archive"
        return Ctx(self.stats, self.errors, self.depth + 1, self.budget, origin)


GIT_ORIGINS = ("history", "staged")


def unsafe_name(name: str) -> str | None:
    """Why a member name would write outside the extraction folder, if it would."""
    n = name.replace("\\", "/")
    if n.startswith("/") or (len(n) > 1 and n[1] == ":" and n[0].isalpha()):
        return "an absolute path"
    if ".." in n.split("/"):
        return "a '..' component"
    return None


def spool(src, limit: int, budget: Budget) -> tuple[tempfile.SpooledTemporaryFile, int, bool]:
    """Copy at most ``limit`` bytes of the stream ``src`` into a spooled
    temporary file. Returns it (rewound), the size copied and whether the
    stream had more."""
    out = tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY)
    size = 0
    while True:
        chunk = src.read(min(CHUNK, limit + 1 - size))
        if not chunk:
            break
        size += len(chunk)
        budget.spend(len(chunk), "")
        if size > limit:
            out.write(chunk[: len(chunk) - (size - limit)])
            out.seek(0)
            return out, limit, True
        out.write(chunk)
    out.seek(0)
    return out, size, False


# --- dispatch ---------------------------------------------------------------

SiblingFn = Callable[[str], tuple[bytes, str]]


def scan_stream(fh, size: int, display: str, ctx: Ctx, resolve: MapResolver | None = None) -> Iterator[Fragment]:
    """Fragments of one file (top level or member) open as the seekable
    binary ``fh``, by what its name says it is. ``resolve`` finds the source
    map of a bundle (or of the bundle inside a compressed file)."""
    name = display.rpartition("!")[2]
    lower = name.lower()
    kind = kind_of(lower)
    if kind in ("tar", "zip", "compressed"):
        if ctx.depth >= MAX_DEPTH and ctx.depth > 0:
            ctx.note(display, f"archive nested more than {MAX_DEPTH} deep; not opened")
            return
        if kind == "compressed":
            yield from decompressed(fh, size, display, ctx, resolve)
        else:
            yield from (tar_members if kind == "tar" else zip_members)(fh, size, display, ctx)
    elif kind == "unity":
        yield from unity_fragments(fh, size, display, ctx)
    elif lower.endswith((".js", ".mjs", ".cjs")):
        yield from bundle_fragments(fh, size, display, ctx.stats, ctx.errors, resolve, origin=ctx.origin)
    elif lower.endswith(".map") and looks_like_json_map(fh.read(64)):
        fh.seek(0)
        if size > MAX_MAP_BYTES:
            ctx.errors.append(ScanError(display, "sourcemap", f"source map of {size >> 20} MiB is larger than {MAX_MAP_BYTES >> 20} MiB; scanned as plain text"))
            yield from stream_fragments(fh, display, "sourcemap", ctx.stats)
        else:
            yield from map_fragments(fh.read(MAX_MAP_BYTES), display, ctx.stats, ctx.errors)
    else:
        fh.seek(0)
        yield from stream_fragments(fh, display, ctx.origin, ctx.stats)


def _resolver(display: str, sibling: SiblingFn):
    member = display.rpartition("!")[2]

    def resolve(url: str) -> tuple[bytes, str]:
        rel = map_relative(url, member)
        target = posixpath.normpath(posixpath.join(posixpath.dirname(member), rel))
        return sibling(target)

    return resolve


def _member_display(display: str, name: str) -> str:
    clean = name[2:] if name.startswith("./") else name
    return f"{display}!{clean}"


def _check_ratio(uncompressed: int, compressed: int, display: str) -> None:
    if uncompressed > RATIO_MIN and uncompressed > RATIO_CAP * max(compressed, 1):
        raise _Stop(f"expands more than {RATIO_CAP}:1 ({uncompressed >> 20} MiB from {max(compressed, 1) >> 10} KiB): looks like a decompression bomb; the rest was not scanned")


def _scan_member(src, declared: int, name: str, display: str, ctx: Ctx, sibling: SiblingFn) -> Iterator[Fragment]:
    shown = _member_display(display, name)
    if declared > MEMBER_CAP:
        ctx.note(shown, f"member of {declared >> 20} MiB is larger than {MEMBER_CAP >> 20} MiB; not scanned")
        return
    why = unsafe_name(name)
    if why:
        ctx.note(shown, f"member name has {why}: extracting this archive would write outside its folder (scanned anyway; nothing is extracted)")
    spooled, size, more = spool(src, MEMBER_CAP, ctx.budget)
    with spooled:
        if more:
            ctx.note(shown, f"member is larger than {MEMBER_CAP >> 20} MiB; only the first {MEMBER_CAP >> 20} MiB were scanned")
        ctx.stats.extra["archive_members"] = ctx.stats.extra.get("archive_members", 0) + 1
        inner_ctx = ctx.deeper() if kind_of(name) in ("tar", "zip", "compressed") else ctx
        yield from scan_stream(spooled, size, shown, inner_ctx, _resolver(shown, sibling))


# --- tar --------------------------------------------------------------------


def tar_members(fh, size: int, display: str, ctx: Ctx) -> Iterator[Fragment]:
    try:
        tf = tarfile.open(fileobj=fh, mode="r:*")
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError) as exc:
        ctx.note(display, f"cannot open as a tar archive ({_reason(exc)}); not scanned")
        return
    seen: dict[str, tarfile.TarInfo] = {}
    counted: set[int] = set()
    state = {"declared": 0}

    def account(ti: tarfile.TarInfo) -> None:
        if id(ti) in counted:
            return
        counted.add(id(ti))
        seen.setdefault(ti.name[2:] if ti.name.startswith("./") else ti.name, ti)
        state["declared"] += max(ti.size, 0)
        _check_ratio(state["declared"], size, display)
        ctx.budget.members -= 1
        if ctx.budget.members < 0:
            raise _Stop(f"more than {MAX_MEMBERS} members; the rest were not scanned")

    def sibling(target: str) -> tuple[bytes, str]:
        ti = seen.get(target) or seen.get("./" + target)
        while ti is None:
            nxt = tf.next()
            if nxt is None:
                break
            account(nxt)
            if nxt.name in (target, "./" + target):
                ti = nxt
        shown = _member_display(display, target)
        if ti is None or not ti.isfile():
            raise MapNotFollowed(f"source map {shown} not found in the archive; findings in the bundle are not mapped to the original")
        if ti.size > MAX_MAP_BYTES:
            raise MapNotFollowed(f"source map {shown} is larger than {MAX_MAP_BYTES >> 20} MiB; not used")
        src = tf.extractfile(ti)
        return (src.read(MAX_MAP_BYTES) if src else b""), shown

    try:
        for ti in tf:
            account(ti)
            if ti.isdir():
                continue
            shown = _member_display(display, ti.name)
            if ti.issym() or ti.islnk():
                ctx.stats.skip(shown, "link member in archive")
                continue
            if not ti.isfile():
                ctx.stats.skip(shown, "special member in archive")
                continue
            src = tf.extractfile(ti)
            if src is None:
                continue
            yield from _scan_member(src, ti.size, ti.name, display, ctx, sibling)
    except _Stop as exc:
        ctx.note(display, str(exc))
    except (tarfile.TarError, EOFError, OSError, zlib.error, lzma.LZMAError, ValueError) as exc:
        ctx.note(display, f"corrupt tar archive ({_reason(exc)}); members before the damage were scanned")


def _reason(exc: BaseException) -> str:
    lines = str(exc).splitlines()
    text = lines[0] if lines else type(exc).__name__
    if len(lines) > 1 and text.endswith("could not be opened successfully:"):
        # tarfile's "r:*" lists what each compression method said: the first
        # that recognised the data tells what is wrong (plain tar, listed
        # last, when no compression did).
        said = [m.group(1) or m.group(2) or "" for m in map(_METHOD_SAID.match, lines[1:]) if m]
        telling = [t for t in said if not t.startswith("not a")]
        if telling:
            text = telling[0]
    return text[:160]


_METHOD_SAID = re.compile(r"- method \w+: \w+\((?:'(.*)'|\"(.*)\")\)$")


# --- zip --------------------------------------------------------------------


def zip_members(fh, size: int, display: str, ctx: Ctx) -> Iterator[Fragment]:
    try:
        zf = zipfile.ZipFile(fh)
        infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        ctx.note(display, f"cannot open as a zip archive ({_reason(exc)}); not scanned")
        return
    by_name = {i.filename: i for i in infos}

    def sibling(target: str) -> tuple[bytes, str]:
        info = by_name.get(target)
        shown = _member_display(display, target)
        if info is None or info.is_dir():
            raise MapNotFollowed(f"source map {shown} not found in the archive; findings in the bundle are not mapped to the original")
        if info.file_size > MAX_MAP_BYTES or info.flag_bits & 0x1:
            raise MapNotFollowed(f"source map {shown} is too large or encrypted; not used")
        try:
            with zf.open(info) as src:
                return src.read(MAX_MAP_BYTES), shown
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
            raise MapNotFollowed(f"source map {shown} unreadable ({_reason(exc)})") from None

    try:
        if len(infos) > MAX_MEMBERS:
            ctx.note(display, f"{len(infos)} members; only the first {MAX_MEMBERS} were scanned")
            infos = infos[:MAX_MEMBERS]
        for info in infos:
            if info.is_dir():
                continue
            shown = _member_display(display, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                ctx.stats.skip(shown, "link member in archive")
                continue
            if info.flag_bits & 0x1:
                ctx.note(shown, "encrypted member; not scanned")
                continue
            if info.file_size > RATIO_MIN and info.file_size > RATIO_CAP * max(info.compress_size, 1):
                ctx.note(shown, f"member expands more than {RATIO_CAP}:1 ({info.file_size >> 20} MiB from {info.compress_size >> 10} KiB): looks like a zip bomb; not scanned")
                continue
            try:
                src = zf.open(info)
            except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError, RuntimeError, ValueError) as exc:
                ctx.note(shown, f"cannot read member ({_reason(exc)}); not scanned")
                continue
            try:
                with src:
                    yield from _scan_member(_Capped(src, info, shown), info.file_size, info.filename, display, ctx, sibling)
            except (zipfile.BadZipFile, EOFError, zlib.error, NotImplementedError, RuntimeError) as exc:
                ctx.note(shown, f"corrupt member ({_reason(exc)}); scanned up to the damage")
    except _Stop as exc:
        ctx.note(display, str(exc))
    finally:
        zf.close()


class _Capped:
    """A member stream that stops at a ratio past what its compressed size
    allows (a zip bomb can lie about its uncompressed size)."""

    def __init__(self, src, info: zipfile.ZipInfo, shown: str) -> None:
        self._src = src
        self._compressed = info.compress_size
        self._shown = shown
        self._read = 0

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        self._read += len(data)
        _check_ratio(self._read, self._compressed, self._shown)
        return data


# --- compressed single files --------------------------------------------------


def decompressed(fh, size: int, display: str, ctx: Ctx, resolve: MapResolver | None = None) -> Iterator[Fragment]:
    """A ``.gz``/``.br``/``.bz2``/``.xz``/``.unityweb`` file: decompress
    (bounded) and scan what is inside under its name without the suffix."""
    name = display.rpartition("!")[2]
    lower = name.lower()
    suffix = next(s for s in COMPRESSED if lower.endswith(s))
    method = COMPRESSED[suffix]
    head = fh.read(8)
    fh.seek(0)
    if method == "unityweb":
        method = "gzip" if head.startswith(b"\x1f\x8b") else "brotli"
    elif method == "gzip" and not head.startswith(b"\x1f\x8b"):
        ctx.note(display, "not gzip data (bad magic); scanned as it is")
        yield from stream_fragments(fh, display, ctx.origin, ctx.stats)
        return
    inner = name[: -len(suffix)] or "data"
    if lower.endswith((".tgz", ".taz")):
        inner = name[:-4] + ".tar"
    try:
        src = _decoder(method, fh)
    except _NoBrotli as exc:
        ctx.note(display, str(exc))
        return
    try:
        spooled, out_size, more = spool(_RatioGuard(src, size, display), MEMBER_CAP, ctx.budget)
    except _Stop as exc:
        ctx.note(display, str(exc))
        return
    except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError, _BrotliError) as exc:
        ctx.note(display, f"corrupt {method} data ({_reason(exc)}); not scanned")
        return
    with spooled:
        if more:
            ctx.note(display, f"decompresses to more than {MEMBER_CAP >> 20} MiB; only the first {MEMBER_CAP >> 20} MiB were scanned")
        shown = f"{display}!{posixpath.basename(inner)}"
        inner_ctx = ctx.deeper() if kind_of(inner) in ("tar", "zip", "compressed") else ctx
        yield from scan_stream(spooled, out_size, shown, inner_ctx, resolve)


class _RatioGuard:
    def __init__(self, src, compressed: int, display: str) -> None:
        self._src, self._compressed, self._display, self._n = src, compressed, display, 0

    def read(self, n: int = -1) -> bytes:
        data = self._src.read(n)
        self._n += len(data)
        _check_ratio(self._n, self._compressed, self._display)
        return data


def _decoder(method: str, fh):
    if method == "gzip":
        return gzip.GzipFile(fileobj=fh, mode="rb")
    if method == "bzip2":
        return bz2.BZ2File(fh, mode="rb")
    if method == "xz":
        return lzma.LZMAFile(fh, mode="rb")
    return BrotliReader(fh)


class _NoBrotli(Exception):
    pass


class _BrotliError(Exception):
    pass


_BROTLI_LIB = None


def _brotli_lib():
    """libbrotlidec through ctypes (Debian's libbrotli1), or None."""
    global _BROTLI_LIB
    if _BROTLI_LIB is None:
        lib = None
        for name in (ctypes.util.find_library("brotlidec"), "libbrotlidec.so.1", "libbrotlidec.dylib"):
            if not name:
                continue
            try:
                lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        if lib is not None:
            lib.BrotliDecoderCreateInstance.restype = ctypes.c_void_p
            lib.BrotliDecoderCreateInstance.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
            lib.BrotliDecoderDestroyInstance.argtypes = [ctypes.c_void_p]
            lib.BrotliDecoderDecompressStream.restype = ctypes.c_int
            lib.BrotliDecoderDecompressStream.argtypes = [
                ctypes.c_void_p,
                ctypes.POINTER(ctypes.c_size_t),
                ctypes.POINTER(ctypes.c_void_p),
                ctypes.POINTER(ctypes.c_size_t),
                ctypes.POINTER(ctypes.c_void_p),
                ctypes.c_void_p,
            ]
        _BROTLI_LIB = lib or False
    return _BROTLI_LIB or None


class BrotliReader:
    """A bounded streaming brotli decoder: each ``read(n)`` returns at most
    ``n`` bytes, however far the data would expand. Uses libbrotlidec via
    ctypes, else the ``brotli`` module if installed."""

    _IN = 64 * 1024

    def __init__(self, fh) -> None:
        self._fh = fh
        self._lib = _brotli_lib()
        self._module = None
        if self._lib is None:
            try:
                import brotli  # type: ignore[import-not-found]
            except ImportError:
                raise _NoBrotli("no brotli decoder (install Debian's libbrotli1 or the 'brotli' package from PyPI); .br file not scanned") from None
            self._module = brotli.Decompressor()
            self._pending = b""
            return
        self._state = self._lib.BrotliDecoderCreateInstance(None, None, None)
        if not self._state:
            raise _NoBrotli("brotli decoder could not start; not scanned")
        self._inbuf = ctypes.create_string_buffer(self._IN)
        self._avail_in = ctypes.c_size_t(0)
        self._next_in = ctypes.c_void_p(ctypes.addressof(self._inbuf))
        self._eof_in = False
        self._finished = False

    def read(self, n: int = -1) -> bytes:
        n = CHUNK if n is None or n < 0 else n
        if self._module is not None:
            return self._read_module(n)
        if self._finished or n == 0:
            return b""
        out = ctypes.create_string_buffer(n)
        avail_out = ctypes.c_size_t(n)
        next_out = ctypes.c_void_p(ctypes.addressof(out))
        lib = self._lib
        while avail_out.value == n:
            if self._avail_in.value == 0 and not self._eof_in:
                data = self._fh.read(self._IN)
                if not data:
                    self._eof_in = True
                else:
                    ctypes.memmove(self._inbuf, data, len(data))
                    self._avail_in.value = len(data)
                    self._next_in.value = ctypes.addressof(self._inbuf)
            result = lib.BrotliDecoderDecompressStream(self._state, ctypes.byref(self._avail_in), ctypes.byref(self._next_in), ctypes.byref(avail_out), ctypes.byref(next_out), None)
            if result == 1:  # success: the stream is complete
                self._finished = True
                break
            if result == 0:
                raise _BrotliError("invalid brotli stream")
            if result == 2 and self._eof_in:  # needs more input, and there is none
                raise _BrotliError("brotli stream cut short")
        return out.raw[: n - avail_out.value]

    def _read_module(self, n: int) -> bytes:
        while len(self._pending) < n:
            data = self._fh.read(1024)
            if not data:
                break
            try:
                self._pending += self._module.process(data)
            except Exception as exc:  # noqa: BLE001 - the module raises its own error type
                raise _BrotliError(str(exc) or "invalid brotli stream") from None
            if len(self._pending) > 4 * CHUNK + n:
                break
        out, self._pending = self._pending[:n], self._pending[n:]
        return out

    def __del__(self) -> None:
        state = getattr(self, "_state", None)
        if state and self._lib is not None:
            self._lib.BrotliDecoderDestroyInstance(state)
            self._state = None


# --- Unity WebGL ---------------------------------------------------------------


class StringsReader:
    """A binary stream as text: every byte outside printable ASCII becomes a
    space, so the strings in it can be scanned and a column is a byte offset."""

    def __init__(self, src) -> None:
        self._src = src

    def read(self, n: int = -1) -> bytes:
        return self._src.read(n).translate(_STRINGS)


def binary_strings(fh, display: str, origin: str, stats: Stats) -> Iterator[Fragment]:
    reader = StringsReader(fh)
    first = reader.read(WINDOW)
    stats.extra["binary_strings_files"] = stats.extra.get("binary_strings_files", 0) + 1
    if len(first) < WINDOW:
        stats.files_scanned += 1
        stats.bytes_scanned += len(first)
        yield Fragment(first, display, origin, public=True)
        return
    stats.files_scanned += 1
    yield from _windows(reader, first, display, origin, WINDOW, stats)


def unity_fragments(fh, size: int, display: str, ctx: Ctx) -> Iterator[Fragment]:
    """A Unity WebGL ``.data`` pack (its members, by name) or a ``.wasm``
    module or other build binary (its strings). Counted as shipped."""
    origin = ctx.origin
    head = fh.read(len(UNITY_MAGIC) + 4)
    fh.seek(0)
    if head.startswith(UNITY_MAGIC):
        yield from unity_data_members(fh, size, display, ctx)
        return
    name = display.rpartition("!")[2]
    text_like = b"\0" not in fh.read(8192)
    fh.seek(0)
    if text_like and not name.lower().endswith(".wasm"):
        yield from stream_fragments(fh, display, origin, ctx.stats)
        return
    yield from binary_strings(fh, display, origin, ctx.stats)


def unity_data_members(fh, size: int, display: str, ctx: Ctx) -> Iterator[Fragment]:
    """The files packed in a ``UnityWebData1.0`` container: a header of
    (offset, size, name) entries, then the data."""
    fh.seek(len(UNITY_MAGIC))
    raw = fh.read(4)
    header_end = int.from_bytes(raw, "little") if len(raw) == 4 else 0
    if not len(UNITY_MAGIC) + 4 <= header_end <= min(size, 64 * 1024 * 1024):
        ctx.note(display, "corrupt Unity data pack (bad header size); scanned as binary")
        fh.seek(0)
        yield from binary_strings(fh, display, ctx.origin, ctx.stats)
        return
    header = fh.read(header_end - len(UNITY_MAGIC) - 4)
    entries = []
    pos = 0
    while pos + 12 <= len(header):
        off, length, name_len = (int.from_bytes(header[pos + i:pos + i + 4], "little") for i in (0, 4, 8))
        pos += 12
        name = header[pos:pos + name_len].decode("utf-8", "replace")
        pos += name_len
        if name_len > 4096 or off + length > size or off < header_end:
            ctx.note(display, "corrupt Unity data pack (an entry points outside the file); the entries before it were scanned")
            break
        entries.append((off, length, name))
    ctx.stats.extra["archive_members"] = ctx.stats.extra.get("archive_members", 0) + len(entries)
    member_ctx = Ctx(ctx.stats, ctx.errors, ctx.depth, ctx.budget, ctx.origin)
    for off, length, name in entries:
        shown = _member_display(display, name)
        if length > MEMBER_CAP:
            ctx.note(shown, f"member of {length >> 20} MiB is larger than {MEMBER_CAP >> 20} MiB; not scanned")
            continue
        fh.seek(off)
        try:
            spooled, got, _ = spool(_Slice(fh, off, length), length, ctx.budget)
        except _Stop as exc:
            ctx.note(display, str(exc))
            return
        with spooled:
            first = spooled.read(8192)
            spooled.seek(0)
            if b"\0" in first:
                yield from binary_strings(spooled, shown, member_ctx.origin, ctx.stats)
            else:
                yield from scan_stream(spooled, got, shown, member_ctx)


class _Slice:
    def __init__(self, fh, start: int, length: int) -> None:
        self._fh, self._pos, self._left = fh, start, length

    def read(self, n: int = -1) -> bytes:
        n = self._left if n is None or n < 0 else min(n, self._left)
        if n <= 0:
            return b""
        self._fh.seek(self._pos)
        data = self._fh.read(n)
        self._pos += len(data)
        self._left -= len(data)
        return data


# --- readers for files on disk ----------------------------------------------------


def _open_entry(entry: FileEntry, stats: Stats):
    try:
        fd = open_regular(entry.path)
    except OSError as exc:
        stats.skip(entry.display, f"unreadable ({exc.strerror or exc})")
        return None
    return os.fdopen(fd, "rb")


@register_reader(TAR_SUFFIXES + ZIP_SUFFIXES + tuple(COMPRESSED))
def read_archive(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    """An archive or compressed file on disk. A compressed single file (a
    web server's ``app.js.br``) is a shipped asset: origin ``bundle``."""
    fh = _open_entry(entry, stats)
    if fh is None:
        return
    with fh:
        size = os.fstat(fh.fileno()).st_size
        origin = "bundle" if kind_of(entry.display) == "compressed" else "archive"
        ctx = Ctx(stats, errors, 0, Budget(), origin)
        yield from _noted(scan_stream(fh, size, entry.display, ctx, disk_resolver(entry)), entry.display, ctx)


def _noted(fragments: Iterator[Fragment], display: str, ctx: Ctx) -> Iterator[Fragment]:
    """``fragments`` of a top-level file, a cap reached or a failed read
    noted against it instead of raised."""
    try:
        yield from fragments
    except _Stop as exc:
        ctx.note(display, str(exc))
    except OSError as exc:
        ctx.note(display, f"read failed ({exc.strerror or exc})")


# --- archives that git holds -----------------------------------------------------


def git_archive_fragments(stream, display: str, origin: str, stats: Stats, errors: list) -> Iterator[Fragment]:
    """The members of an archive or compressed file read from git (a blob of
    the history, a staged file), as ``read_archive`` gives them for one on
    disk, with ``origin`` (``history``/``staged``) at every depth. The blob
    is copied to a spooled temporary file first (tar and zip readers seek),
    up to MEMBER_CAP bytes; a larger one is noted and not opened. Raises
    ``keyscan.git.ObjectReadError`` when git stops part way."""
    ctx = Ctx(stats, errors, 0, Budget(), origin)
    if stream.size > MEMBER_CAP:
        ctx.note(display, f"archive of {stream.size >> 20} MiB is larger than {MEMBER_CAP >> 20} MiB; not opened")
        return
    spooled, size, _ = spool(stream, MEMBER_CAP, Budget())
    with spooled:
        yield from _noted(scan_stream(spooled, size, display, ctx), display, ctx)


def in_build_folder(display: str) -> bool:
    parts = display.split("!")[-1].split("/")
    return any(p.lower() in ("build", "builds") for p in parts[:-1])


@register_reader(UNITY_SUFFIXES)
def read_unity(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    """``.wasm`` anywhere, and ``.data`` that is a Unity pack or sits in a
    build folder: strings scanned as shipped. Any other ``.data`` file is an
    ordinary file."""
    fh = _open_entry(entry, stats)
    if fh is None:
        return
    with fh:
        head = fh.read(len(UNITY_MAGIC))
        fh.seek(0)
        if entry.display.lower().endswith(".data") and not head.startswith(UNITY_MAGIC) and not in_build_folder(entry.display):
            yield from stream_fragments(fh, entry.display, "worktree", stats)
            return
        size = os.fstat(fh.fileno()).st_size
        ctx = Ctx(stats, errors, 0, Budget(), "bundle")
        yield from _noted(unity_fragments(fh, size, entry.display, ctx), entry.display, ctx)
