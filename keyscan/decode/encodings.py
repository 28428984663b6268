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


# --- base64 and hex runs -----------------------------------------------------
#
# Most candidate runs (long identifiers, paths, hashes: 1.4 million in the
# 909 MB large tree, 270,000 in 218 MB of bundles) fail the lead test of
# decode_base64 and are not hex. That test is repeated on the bytes of the
# shadow before anything is sliced or decoded, and the common failures are
# told first by looking at single bytes: a run under 42 characters has at most
# ten leads and may have no bad one, so a bad first or second lead rejects it
# as base64 (59 % and 27 % of the runs); a hex run starts and ends with a hex
# digit (identifiers mostly do not).
# Measured and dropped: a Hyperscan gate (a stretch of five good base64 leads
# or six hex bytes somewhere in the run; its scan cost about 3 ns a
# character, more than finding and rejecting every run this way), an ``re``
# run regex on the shadow (7.4 s against 1.0 s for the bytes.find loop on
# the large tree), stride slices of the shadow as a gate (6.7 million false
# stretches), ``bytes.split`` (4.8 s).

_LEAD_BYTES = _B64_TEXT_LEADS.encode("ascii")
_HEX_BYTES = _HEX_DIGITS.encode("ascii")
# Indexed by a byte: 1 for a good base64 lead, 1 for a hex digit.
_IS_LEAD = bytes(c in _LEAD_BYTES for c in range(256))
_IS_HEX = bytes(c in _HEX_BYTES for c in range(256))
# The shortest run whose lead test may pass with a bad lead: 42 characters
# hold 11 leads (41 hold ten, the last character of a 4n+1 run is no lead),
# and 11 * (1 - PRINTABLE_SHARE) >= 1 > 10 * (1 - PRINTABLE_SHARE).
_ONE_BAD_LEAD = 42


def base64_and_hex(text: str, skip=None, shadow: bytes | None = None) -> Iterator[tuple[str, Run]]:
    """Every base64 and hex run of ``text`` that decodes to text.
    ``skip(start, end)`` may veto a run (an inline source map, say).
    ``shadow``: ``text.encode("ascii", "replace")`` if the caller has it
    (the bytes of an ASCII fragment, the prefilter's shadow of another).

    The runs are those of ``candidate_runs``, found on the text's ASCII
    shadow (one byte per character, non-ASCII ones as ``?``, which is not a
    run character), so offsets need no mapping. Most runs are identifiers,
    paths and hashes; the lead test of ``decode_base64`` and the hex test
    are done here first, on bytes, and only a run that could pass them is
    handed to the decoders, which test it again in full."""
    if len(text) < MIN_B64:
        return
    spans = _SEEN.spans(text, shadow) if len(text) >= _SEEN_MIN else _spans(text, shadow)
    for start, stop in spans:
        if skip is not None and skip(start, stop):
            continue
        yield from _try_run(text, start, stop)


def _spans(text: str, shadow: bytes | None = None) -> Iterator[tuple[int, int]]:
    """The spans (padding included) of the runs of ``text`` that could pass
    decode_base64's lead test or the hex test."""
    if shadow is None:
        shadow = text.encode("ascii", "replace")
    classes = shadow.translate(_CLASS)
    find = classes.find
    size = len(classes)
    allowed = 1 - PRINTABLE_SHARE
    is_lead, is_hex = _IS_LEAD, _IS_HEX
    pos = find(_NEEDLE)
    while pos != -1:
        start = pos
        # The run is MIN_B64 characters at least: its end is past them.
        end = find(b" ", start + MIN_B64)
        if end == -1:
            end = size
        n = end - start
        pos = find(_NEEDLE, end)
        if n <= MAX_RUN:
            if n < _ONE_BAD_LEAD and not (is_lead[shadow[start]] and is_lead[shadow[start + 4]]):
                base64 = False
            else:
                # decode_base64's lead test, on the same characters.
                leads = shadow[start:end - (n % 4 == 1):4]
                base64 = len(leads.translate(None, _LEAD_BYTES)) <= len(leads) * allowed
            if not base64:
                # Tried as hex only if all hex digits (after an 0x), with no
                # padding, MIN_HEX or more.
                if n < MIN_HEX or not (is_hex[shadow[start]] and is_hex[shadow[end - 1]]) or shadow[end:end + 1] == b"=":
                    continue
                body = shadow[start + 2:end] if shadow[start:start + 2] in (b"0x", b"0X") else shadow[start:end]
                if len(body) < MIN_HEX or body.translate(None, _HEX_BYTES):
                    continue
        stop = end
        while stop - end < 2 and shadow[stop:stop + 1] == b"=":
            stop += 1
        yield start, stop


# The same text comes again and again: one library's sources in the source
# maps of twenty bundles, a vendored file in several packages. The spans of
# the last few megabytes of large texts are kept (the texts they were found
# in too, so a scan holds up to 4 MB more); a text is looked up by its
# length, head and tail (no hash of the whole text: that cost 0.3 ns a
# character on every text) and taken only if equal to the kept one in full.
# Kept spans found again: 35 % of the characters of the bundles input, 8 % of
# the large tree's.
_SEEN_MIN = 4096  # characters; smaller texts are not kept
_SEEN_CHARS = 4 << 20  # characters of texts kept at most (least recently used go)


class _Seen:
    def __init__(self) -> None:
        self.kept: dict[tuple, tuple[str, tuple]] = {}
        self.chars = 0  # characters kept, and _SPAN_CHARS for each span

    def spans(self, text: str, shadow: bytes | None = None) -> tuple:
        key = (len(text), text[:64], text[-64:])
        kept = self.kept.pop(key, None)
        if kept is not None and kept[0] == text:
            self.kept[key] = kept  # the most recently used now
            return kept[1]
        if kept is not None:
            self.chars -= _cost(kept)
        spans = tuple(_spans(text, shadow))
        self.kept[key] = (text, spans)
        self.chars += _cost((text, spans))
        while self.chars > _SEEN_CHARS:
            self.chars -= _cost(self.kept.pop(next(iter(self.kept))))
        return spans


# A kept span (a tuple of two ints) takes about as much memory as this many
# characters of ASCII text.
_SPAN_CHARS = 100


def _cost(kept: tuple[str, tuple]) -> int:
    return len(kept[0]) + _SPAN_CHARS * len(kept[1])


_SEEN = _Seen()


def _try_run(text: str, start: int, end: int) -> Iterator[tuple[str, Run]]:
    run = text[start:end]
    stripped = run[2:] if run[:2] in ("0x", "0X") else run
    if len(stripped) >= MIN_HEX and not stripped.translate(_NOT_HEX):
        decoded = decode_hex(text, start, end)
        if decoded is not None:
            yield "hex", decoded
        return
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
    if run.isascii():
        return _decode_percent_ascii(run, base)
    return decode_percent_units(run, base)


def decode_percent_units(run: str, base: int = 0) -> tuple[str, array]:
    """``decode_percent_run`` one unit at a time (any text; the reference
    the ASCII fast path is tested against)."""
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


# "41" -> "A", "e2" -> "\xe2": an escape's byte as a Latin-1 character.
_HEX_CHAR = {a + b: chr(int(a + b, 16)) for a in _HEX_DIGITS for b in _HEX_DIGITS}


def _decode_percent_ascii(run: str, base: int) -> tuple[str, array]:
    """``decode_percent_run`` for an ASCII run: one step per '%' instead of
    one regex match per unit. The bytes are built as a Latin-1 string (an
    escape as the character of its byte)."""
    pieces = run.split("%")
    first = pieces[0]
    parts = [first]
    origins = list(range(base, base + len(first)))
    pos = base + len(first)  # where the current '%' is
    hex_char = _HEX_CHAR
    for piece in pieces[1:]:
        n = len(piece)
        ch = hex_char.get(piece[:2])
        if ch is None:
            parts.append("%" + piece)
            origins.extend(range(pos, pos + 1 + n))
        else:
            parts.append(ch + piece[2:] if n > 2 else ch)
            origins.append(pos)
            if n > 2:
                origins.extend(range(pos + 3, pos + 1 + n))
        pos += 1 + n
    origins.append(base + len(run))
    return utf8_chars("".join(parts).encode("latin-1"), origins)


def token_bounds(text: str, pos: int, separators: str, token: re.Pattern) -> tuple[int, int]:
    """The token around ``pos``: back to the previous separator (at most
    MAX_TOKEN characters) and forward as far as ``token`` matches."""
    lo = max(0, pos - MAX_TOKEN)
    back = _BACK.get(separators)
    if back is None:
        # Greedy: the match ends just after the last separator before pos.
        back = _BACK[separators] = re.compile(".*[" + re.escape(separators) + "]", re.S)
    m = back.match(text, lo, pos)
    end = token.match(text, pos, min(len(text), pos + MAX_TOKEN)).end()
    return (m.end() if m is not None else lo), end


_BACK: dict[str, re.Pattern] = {}


# A '%' is found by str.find (memchr); the trigger regex then looks at most
# this far past it, so text without escapes between two '%' is not walked
# by the regex engine (large tree: 0.31 -> 0.15 s), while a text dense with
# '%' that are no escapes ("%%%%", C format strings) still costs one search
# per _PCT_WINDOW characters, not one per '%'.
_PCT_WINDOW = 256


_SURROGATE = re.compile("[\ud800-\udfff]")


def percent_runs(text: str) -> Iterator[tuple[str, Run]]:
    find = text.find
    search = PCT_TRIGGER.search
    pos = find("%")
    while pos != -1:
        window = pos + _PCT_WINDOW
        m = search(text, pos, window)
        if m is None:
            # A trigger starting in the last two characters of the window
            # was cut off by it.
            pos = find("%", window - 2)
            continue
        start, end = token_bounds(text, m.start(), _PCT_SEPARATORS, _PCT_TOKEN)
        end = max(end, m.end())
        # The trigger is always decoded (a '%' is never part of another
        # escape), three characters to one byte, and no byte gives more than
        # one character: a token under MIN_DECODED + 2 characters cannot
        # decode to MIN_DECODED (C's "%02x" and "%-20s" end here). Except a
        # lone surrogate (a decoded JS "\udc00"): its three bytes decode to
        # three replacement characters.
        if end - start >= MIN_DECODED + 2 or (not text[start:end].isascii() and _SURROGATE.search(text, start, end)):
            raw = text[start:end]
            decoded, offsets = decode_percent_run(raw, start)
            if len(decoded) >= MIN_DECODED and decoded != raw:
                yield "percent", Run(start, end, decoded, offsets)
        pos = find("%", end)
