"""Base64 (standard and URL-safe), hex and percent-encoding inside text.

Each finder walks a text once and returns ``(start, end, decoded, offsets)``
for every encoded run worth scanning. ``offsets`` is the offset map of the
run: ``offsets[i]`` is where, in the scanned text, the encoded unit that
produced ``decoded[i]`` begins, and ``offsets[len(decoded)] == end``. It is
non-decreasing; for hex and percent-encoding each character maps to exactly
the units that decode to it, for base64 to the 4-character group holding its
first byte.

Runs are found without regular expressions where a byte table does: the text
is translated to one byte per character class and the runs are found with
``bytes.find``, which keeps the cost on text with nothing encoded close to a
copy of it.
"""
from __future__ import annotations

import binascii
import os
import re
from array import array
from typing import Iterator, NamedTuple

MIN_B64 = 24  # shortest base64 run decoded (18 bytes)
MIN_HEX = 32  # shortest hex run decoded (16 bytes)
MAX_RUN = 1 << 20  # longest run decoded; a longer one is decoded up to this
MIN_DECODED = 8  # shortest decoded text worth scanning
PRINTABLE_SHARE = 0.9  # decoded bytes must be this much printable text

_B64_CHARS = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_CLASS = bytearray(b" " * 256)
for _c in _B64_CHARS:
    _CLASS[_c] = ord("a")
_CLASS = bytes(_CLASS)
_NEEDLE = b"a" * MIN_B64

# The first character of each 4-character group of base64 that encodes
# printable ASCII (bytes 0x20-0x7e, top six bits 8..31) is one of these.
_B64_TEXT_LEADS = "IJKLMNOPQRSTUVWXYZabcdef"
_NOT_LEAD = str.maketrans("", "", _B64_TEXT_LEADS)
_HEX_DIGITS = "0123456789abcdefABCDEF"
_NOT_HEX = str.maketrans("", "", _HEX_DIGITS)
_HEX_TEXT_LEADS = str.maketrans("", "", "234567")

# Printable: tab, newline, carriage return and everything from space up,
# except DEL and the C1 controls.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


class Run(NamedTuple):
    start: int
    end: int
    text: str
    offsets: "Offsets"  # len(text) + 1 offsets into the scanned text


class _LazyOffsets:
    """A read-only sequence of offsets computed on demand (an offset map of
    a megabyte of base64 is never built unless something reads it)."""

    __slots__ = ()

    def __len__(self) -> int:
        raise NotImplementedError

    def _at(self, i: int) -> int:
        raise NotImplementedError

    def __getitem__(self, i):
        n = len(self)
        if isinstance(i, slice):
            return [self._at(j) for j in range(*i.indices(n))]
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError("offset index out of range")
        return self._at(i)

    def __iter__(self):
        return (self._at(i) for i in range(len(self)))


class GroupOffsets(_LazyOffsets):
    """Base64 decoded to ASCII: character i came from the 4-character group
    at ``start + 4 * (i // 3)``; the last entry is ``end``."""

    __slots__ = ("start", "n", "end")

    def __init__(self, start: int, n: int, end: int) -> None:
        self.start, self.n, self.end = start, n, end

    def __len__(self) -> int:
        return self.n + 1

    def _at(self, i: int) -> int:
        return self.end if i == self.n else self.start + 4 * (i // 3)


class Composed(_LazyOffsets):
    """Offsets of a nested run mapped through the enclosing run's offsets."""

    __slots__ = ("outer", "inner")

    def __init__(self, outer, inner) -> None:
        self.outer, self.inner = outer, inner

    def __len__(self) -> int:
        return len(self.inner)

    def _at(self, i: int) -> int:
        return self.outer[self.inner[i]]


Offsets = "array | range | _LazyOffsets"


def printable_enough(text: str) -> bool:
    if not text:
        return False
    bad = len(_UNPRINTABLE.findall(text)) if not text.isascii() or not text.isprintable() else 0
    return bad <= len(text) * (1 - PRINTABLE_SHARE)


def utf8_chars(data: bytes, byte_origin) -> tuple[str, array]:
    """Decode ``data`` leniently as UTF-8 and map each character to the
    origin of its first byte (``byte_origin[i]`` for byte ``i``; one more
    entry gives the end)."""
    if data.isascii():
        return data.decode("ascii"), byte_origin
    out_offsets = array("q")
    chars: list[str] = []
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        size = 1 if b < 0x80 else 2 if 0xC2 <= b < 0xE0 else 3 if 0xE0 <= b < 0xF0 else 4 if 0xF0 <= b < 0xF5 else 0
        ch = None
        if size and i + size <= n:
            try:
                ch = data[i:i + size].decode("utf-8")
            except UnicodeDecodeError:
                ch = None
        if ch is None:
            ch, size = "\ufffd", 1
        chars.append(ch)
        out_offsets.append(byte_origin[i])
        i += size
    out_offsets.append(byte_origin[n])
    return "".join(chars), out_offsets


def candidate_runs(text: str) -> Iterator[tuple[int, int]]:
    """Spans of ``text`` made of base64/hex characters, at least MIN_B64
    long, with up to two ``=`` of padding after them."""
    data = text.encode("utf-8", "surrogatepass")
    classes = data.translate(_CLASS)
    ascii_text = len(data) == len(text)
    # Byte offsets map to character offsets incrementally (all run characters
    # are ASCII, so every run boundary is a character boundary).
    last_byte = last_char = 0
    pos = classes.find(_NEEDLE)
    while pos != -1:
        end = classes.find(b" ", pos)
        if end == -1:
            end = len(classes)
        pad = 0
        while pad < 2 and data[end + pad:end + pad + 1] == b"=":
            pad += 1
        end_run = end + pad
        if ascii_text:
            yield pos, end_run
        else:
            last_char += len(data[last_byte:pos].decode("utf-8", "surrogatepass"))
            start_char = last_char
            last_char += end_run - pos
            last_byte = end_run
            yield start_char, last_char
        pos = classes.find(_NEEDLE, end)


def decode_hex(text: str, start: int, end: int) -> Run | None:
    run = text[start:end]
    if run[:2] in ("0x", "0X"):
        run, start = run[2:], start + 2
    if len(run) % 2:
        run, end = run[:-1], end - 1
    if len(run) < MIN_HEX or run.translate(_NOT_HEX):
        return None
    if len(run[0::2].translate(_HEX_TEXT_LEADS)) > len(run) // 2 * (1 - PRINTABLE_SHARE):
        return None
    data = bytes.fromhex(run)
    decoded, offsets = utf8_chars(data, range(start, start + 2 * len(data) + 1, 2))
    if len(decoded) < MIN_DECODED or not printable_enough(decoded):
        return None
    return Run(start, start + 2 * len(data), decoded, offsets)


def decode_base64(text: str, start: int, end: int) -> Run | None:
    """Decode the base64 or base64url run at ``text[start:end]``, if it
    decodes to text."""
    end = min(end, start + MAX_RUN)
    run = text[start:end]
    body = run.rstrip("=")
    if "=" in body:
        return None
    urlsafe = "-" in body or "_" in body
    if urlsafe and ("+" in body or "/" in body):
        return None
    if len(body) % 4 == 1:
        body = body[:-1]
    leads = body[0::4]
    if len(leads.translate(_NOT_LEAD)) > len(leads) * (1 - PRINTABLE_SHARE):
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        data = (binascii.a2b_base64 if not urlsafe else _urlsafe)(padded.encode("ascii"))
    except (binascii.Error, ValueError):
        return None
    if data.isascii():
        decoded, offsets = data.decode("ascii"), GroupOffsets(start, len(data), start + len(run))
    else:
        origins = [start + 4 * (i // 3) for i in range(len(data))]
        origins.append(start + len(run))
        decoded, offsets = utf8_chars(data, origins)
    if len(decoded) < MIN_DECODED or not printable_enough(decoded):
        return None
    return Run(start, start + len(run), decoded, offsets)


def _urlsafe(data: bytes) -> bytes:
    return binascii.a2b_base64(data.replace(b"-", b"+").replace(b"_", b"/"))


# --- the Hyperscan gate ------------------------------------------------------
#
# Most candidate runs (long identifiers, paths, hashes) fail the lead checks
# of decode_base64 and decode_hex, but finding and rejecting each one costs
# Python work (about 40,000 runs in 40 MB of source). A run that passes has
# at most 10% bad leads, so it holds a stretch of consecutive good leads:
# at least 5 base64 groups (minimum over all run lengths, reached at 11
# groups) or 7 hex bytes (at 21 bytes). One Hyperscan pass over the text
# finds those stretches, and only runs holding one are looked at: the same
# runs decode, far fewer are tried. That pass costs about 4 ns a character,
# more than finding and trying every run in ordinary source, so it is used
# on texts of GATE_MIN_TEXT characters or more (bundles, maps, big files),
# where runs are many. Without Hyperscan (or with KEYSCAN_PREFILTER=stdlib)
# every candidate run is tried, as before.

GATE_MIN_TEXT = 8 * 1024
_B64_GATE = rb"(?:[IJKLMNOPQRSTUVWXYZabcdef][A-Za-z0-9+/_-]{3}){4}[IJKLMNOPQRSTUVWXYZabcdef]"
_HEX_GATE = rb"(?:[2-7][0-9A-Fa-f]){5}[2-7]"  # 6 good bytes: one fewer than needed
_GATE = None  # (database, scratch, ScanTerminated), or False when unavailable


def _gate():
    global _GATE
    if _GATE is None:
        _GATE = False
        if os.environ.get("KEYSCAN_PREFILTER", "auto") in ("auto", "hyperscan"):
            try:
                import hyperscan

                db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
                db.compile(expressions=[_B64_GATE, _HEX_GATE], ids=[0, 1], elements=2, flags=[0, 0])
                _GATE = (db, hyperscan.Scratch(db), hyperscan.ScanTerminated)
            except Exception:  # no wheel, or it cannot compile here
                _GATE = False
    return _GATE or None


def gated_runs(text: str, gate) -> Iterator[tuple[int, int]]:
    """The runs of ``candidate_runs(text)`` that hold a gate stretch, in
    order. Offsets are characters: the text is scanned as its ASCII shadow
    (one byte per character; non-ASCII ones, never run characters, as
    ``?``)."""
    if len(text) < MIN_B64:
        return
    db, scratch, terminated = gate
    shadow = text.encode("ascii", "replace")
    classes = shadow.translate(_CLASS)
    view = memoryview(shadow)
    size = len(shadow)
    found: list[int] = []

    def first(id_: int, start: int, end: int, flags: int, ctx) -> bool:
        found.append(end)
        return True  # stop: the rest of this run is skipped below

    pos = 0
    while pos < size:
        found.clear()
        try:
            db.scan(view[pos:], match_event_handler=first, scratch=scratch)
        except terminated:
            pass
        if not found:
            return
        hit = pos + found[0]
        start = classes.rfind(b" ", 0, hit) + 1
        end = classes.find(b" ", hit)
        if end == -1:
            end = size
        pos = end
        if end - start < MIN_B64:
            continue
        pad = 0
        while pad < 2 and shadow[end + pad:end + pad + 1] == b"=":
            pad += 1
        yield start, end + pad


def base64_and_hex(text: str, skip=None) -> Iterator[tuple[str, Run]]:
    """Every base64 and hex run of ``text`` that decodes to text.
    ``skip(start, end)`` may veto a run (an inline source map, say)."""
    gate = _gate() if len(text) >= GATE_MIN_TEXT else None
    for start, end in gated_runs(text, gate) if gate is not None else candidate_runs(text):
        if skip is not None and skip(start, end):
            continue
        run = text[start:end]
        stripped = run[2:] if run[:2] in ("0x", "0X") else run
        if len(stripped) >= MIN_HEX and not stripped.translate(_NOT_HEX):
            decoded = decode_hex(text, start, end)
            if decoded is not None:
                yield "hex", decoded
            continue
        decoded = decode_base64(text, start, end)
        if decoded is not None:
            yield "base64", decoded


# --- percent-encoding -------------------------------------------------------

PCT_TRIGGER = re.compile(r"%[0-9A-Fa-f]{2}")
# A percent-encoded token ends at whitespace, quotes, angle brackets and the
# query-string separators; '=' stays inside so ``password=p%40ss`` keeps its
# context.
_PCT_SEPARATORS = " \t\r\n\"'`<>&?#"
_PCT_TOKEN = re.compile(r"[^\s\"'`<>&?#]*")
MAX_TOKEN = 4096
_PCT_UNIT = re.compile(r"%([0-9A-Fa-f]{2})|[^%]+|%")


def decode_percent_run(run: str, base: int = 0) -> tuple[str, array]:
    """Percent-decode ``run`` (``+`` stays ``+``); offsets are ``base`` +
    index in ``run``."""
    data = bytearray()
    origins: list[int] = []
    for m in _PCT_UNIT.finditer(run):
        if m.group(1) is not None:
            data.append(int(m.group(1), 16))
            origins.append(base + m.start())
        else:
            piece = m.group(0)
            for i, ch in enumerate(piece):
                enc = ch.encode("utf-8", "surrogatepass")
                data.extend(enc)
                origins.extend([base + m.start() + i] * len(enc))
    origins.append(base + len(run))
    return utf8_chars(bytes(data), origins)


def token_bounds(text: str, pos: int, separators: str, token: re.Pattern) -> tuple[int, int]:
    """The token around ``pos``: back to the previous separator (at most
    MAX_TOKEN characters) and forward as far as ``token`` matches."""
    lo = max(0, pos - MAX_TOKEN)
    start = lo
    window = text[lo:pos]
    for sep in separators:
        i = window.rfind(sep)
        if i != -1 and lo + i + 1 > start:
            start = lo + i + 1
    end = token.match(text, pos, min(len(text), pos + MAX_TOKEN)).end()
    return start, end


def percent_runs(text: str) -> Iterator[tuple[str, Run]]:
    if "%" not in text:
        return
    pos = 0
    while True:
        m = PCT_TRIGGER.search(text, pos)
        if m is None:
            return
        start, end = token_bounds(text, m.start(), _PCT_SEPARATORS, _PCT_TOKEN)
        end = max(end, m.end())
        pos = end
        decoded, offsets = decode_percent_run(text[start:end], start)
        if len(decoded) >= MIN_DECODED and decoded != text[start:end]:
            yield "percent", Run(start, end, decoded, offsets)
