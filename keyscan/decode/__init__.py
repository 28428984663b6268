"""Decoding: bytes to text, and encoded strings inside text to the plain text
they hide.

``decoded_variants(text)`` yields a ``Decoded`` for every encoded run in
``text`` that decodes to something worth scanning; the engine scans each and
reports a match at the span of the encoded run (``start``, ``end``), with the
chain of decoders applied (``kinds``, outermost first).
"""
from __future__ import annotations

from typing import Iterator, NamedTuple


class Decoded(NamedTuple):
    text: str
    kinds: tuple[str, ...]
    start: int  # span of the encoded run in the scanned text
    end: int


def decoded_variants(text: str) -> Iterator[Decoded]:
    """Encoded runs in ``text`` and what they decode to (none yet)."""
    return iter(())
