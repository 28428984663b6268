"""JavaScript (and JSON) string escapes: ``\\xNN``, ``\\uNNNN``, ``\\u{...}``.

Only the escapes that hide characters (``\\x``, ``\\u``) start a run; the run
is the token around them (up to whitespace, a quote or an angle bracket, at
most MAX_TOKEN characters each way), and within it every escape is decoded
as JavaScript would. So ``"sk_imapik-test-\\u0024h3Rk..."`` in a JSON log is
decoded and reported where the token starts.
"""
from __future__ import annotations

import re
from array import array
from typing import Iterator

from .encodings import MAX_TOKEN, MIN_DECODED, Run, _LazyOffsets

TRIGGER = re.compile(r"\\(?:x[0-9A-Fa-f]{2}|u[0-9A-Fa-f]{4}|u\{[0-9A-Fa-f]{1,6}\})")
_SEPARATORS = " \t\r\n\"'`<>"
# Forward part of a token: anything but whitespace, quotes and angle
# brackets, with a backslash taking the character after it along.
_TOKEN = re.compile(r"(?:[^\s\"'`<>\\]|\\[^\s])*", re.S)
_UNIT = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}|(.))|([^\\]+)|\\\Z", re.S)
_SIMPLE = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "0": "\0"}


def decode_js(run: str, base: int = 0) -> tuple[str, array]:
    """Decode the escapes of a JavaScript string body. Returns the text and
    its offset map (``base`` + index in ``run`` of the escape or character
    each decoded character came from; one more entry for the end). A lone
    surrogate escape is kept as the surrogate; a ``\\uD83D\\uDE00`` pair
    becomes one character."""
    out: list[str] = []
    offsets = array("q")
    for m in _UNIT.finditer(run):
        plain = m.group(5)
        if plain is not None:
            out.append(plain)
            offsets.extend(range(base + m.start(), base + m.end()))
            continue
        hx, u4, ucp, other = m.group(1), m.group(2), m.group(3), m.group(4)
        if hx is not None:
            ch = chr(int(hx, 16))
        elif u4 is not None:
            code = int(u4, 16)
            if 0xDC00 <= code <= 0xDFFF and out and offsets and len(out[-1]) == 1 and 0xD800 <= ord(out[-1]) <= 0xDBFF and run[offsets[-1] - base:offsets[-1] - base + 2] == "\\u":
                high = ord(out.pop())
                start = offsets.pop()
                out.append(chr(0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00)))
                offsets.append(start)
                continue
            ch = chr(code)
        elif ucp is not None:
            code = int(ucp, 16)
            if code > 0x10FFFF:
                out.append(m.group(0))
                offsets.extend(range(base + m.start(), base + m.end()))
                continue
            ch = chr(code)
        elif other is not None:
            if other in "\r\n\u2028\u2029":  # line continuation
                continue
            ch = _SIMPLE.get(other, other)
        else:  # a trailing lone backslash
            ch = "\\"
        out.append(ch)
        offsets.append(base + m.start())
    offsets.append(base + len(run))
    return "".join(out), offsets


def js_runs(text: str) -> Iterator[tuple[str, Run]]:
    # A dense file (a \\u-escaped translation table) has a trigger every few
    # words: token_bounds is done inline, with bound methods.
    search = TRIGGER.search
    back = _BACK.match
    forward = _TOKEN.match
    plain_decode = _plain_decode
    m = search(text)
    while m is not None:
        pos = m.start()
        # token_bounds(text, pos, _SEPARATORS, _TOKEN); match() clips an
        # end past the text.
        lo = pos - MAX_TOKEN if pos > MAX_TOKEN else 0
        b = back(text, lo, pos)
        start = b.end() if b is not None else lo
        end = forward(text, pos, pos + MAX_TOKEN).end()
        if end < m.end():
            end = m.end()
        # No unit decodes to more characters than it is written with, so a
        # token under MIN_DECODED characters ("\\x00", "'\\x1b[m'") is left.
        if end - start >= MIN_DECODED:
            raw = text[start:end]
            decoded = plain_decode(raw)
            if decoded is not None:
                if len(decoded) >= MIN_DECODED:  # and != raw: it is shorter
                    yield "js-escape", Run(start, end, decoded, _JSOffsets(raw, start, len(decoded) + 1))
            else:
                decoded, offsets = decode_js(raw, start)
                if len(decoded) >= MIN_DECODED and decoded != raw:
                    yield "js-escape", Run(start, end, decoded, offsets)
        m = search(text, end)


# token_bounds's backward search for these separators.
_BACK = re.compile(".*[" + re.escape(_SEPARATORS) + "]", re.S)


# Most tokens hold nothing but \xNN and \uNNNN escapes (Unicode tables,
# escaped markup in bundles): Python's ``unicode_escape`` codec decodes those
# in C exactly as JavaScript does, and their offset map is only needed when
# a nested run is found inside (rare), so it is computed then, by
# ``decode_js``. Anything else (other escapes, ``\u{...}``, a surrogate to
# pair, a character beyond Latin-1) takes ``decode_js``.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _plain_decode(raw: str) -> str | None:
    if raw.count("\\") != raw.count("\\x") + raw.count("\\u"):
        return None  # a backslash that starts another escape (or ends the token)
    try:
        out = raw.encode("latin-1").decode("unicode_escape")
    except (UnicodeError, ValueError):  # \u{...}, a short escape, a character past Latin-1
        return None
    if _SURROGATE.search(out):
        return None
    return out


class _JSOffsets(_LazyOffsets):
    """``decode_js(raw, base)``'s offset map, computed on first use."""

    __slots__ = ("raw", "base", "n", "_map")

    def __init__(self, raw: str, base: int, n: int) -> None:
        self.raw, self.base, self.n, self._map = raw, base, n, None

    def __len__(self) -> int:
        return self.n

    def _at(self, i: int) -> int:
        if self._map is None:
            self._map = decode_js(self.raw, self.base)[1]
        return self._map[i]
