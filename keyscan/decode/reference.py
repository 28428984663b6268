"""The straightforward decoders, kept as the yardstick for the fast ones.

``runs(text)`` yields what ``keyscan.decode._runs`` yields, found the plain
way: every trigger's token sliced and decoded in full, every candidate
base64/hex run tried, no bounds, gates or shortcuts. The fast path must give
the same runs in the same order (tests/test_perf_decode.py compares them on
generated and real text). ``KEYSCAN_DECODE=reference`` makes the engine use
this module, which is how reports are compared before and after a change
to the decoders.
"""
from __future__ import annotations

import re
from typing import Iterator

from . import js as _js
from . import _INLINE_MAP_MARK
from .encodings import (
    _NOT_HEX,
    MAX_TOKEN,
    MIN_DECODED,
    MIN_HEX,
    PCT_TRIGGER,
    Run,
    _PCT_SEPARATORS,
    _PCT_TOKEN,
    candidate_runs,
    decode_base64,
    decode_hex,
)
from .encodings import decode_percent_units as decode_percent_run


def token_bounds(text: str, pos: int, separators: str, token: re.Pattern) -> tuple[int, int]:
    lo = max(0, pos - MAX_TOKEN)
    start = lo
    window = text[lo:pos]
    for sep in separators:
        i = window.rfind(sep)
        if i != -1 and lo + i + 1 > start:
            start = lo + i + 1
    end = token.match(text, pos, min(len(text), pos + MAX_TOKEN)).end()
    return start, end


def js_runs(text: str) -> Iterator[tuple[str, Run]]:
    pos = 0
    while True:
        m = _js.TRIGGER.search(text, pos)
        if m is None:
            return
        start, end = token_bounds(text, m.start(), _js._SEPARATORS, _js._TOKEN)
        end = max(end, m.end())
        pos = end
        raw = text[start:end]
        decoded, offsets = _js.decode_js(raw, start)
        if len(decoded) >= MIN_DECODED and decoded != raw:
            yield "js-escape", Run(start, end, decoded, offsets)


def percent_runs(text: str) -> Iterator[tuple[str, Run]]:
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


def in_inline_map(text: str, start: int) -> bool:
    head = text[max(0, start - 120):start]
    return _INLINE_MAP_MARK in head and head.rstrip().endswith("base64,")


def base64_and_hex(text: str) -> Iterator[tuple[str, Run]]:
    for start, end in candidate_runs(text):
        if in_inline_map(text, start):
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


def runs(text: str, shadow: bytes | None = None) -> Iterator[tuple[str, Run]]:
    # ``shadow`` (the fast path's saved encoding) is not needed here.
    yield from js_runs(text)
    yield from percent_runs(text)
    yield from base64_and_hex(text)
