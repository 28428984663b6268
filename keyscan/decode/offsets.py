"""Offsets in a text to (line, column), computed once per text, in O(log n)
per lookup: a minified bundle is one line of many megabytes."""
from __future__ import annotations

from bisect import bisect_right


class LineIndex:
    def __init__(self, text: str) -> None:
        self._text = text
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self._starts = starts

    def position(self, offset: int) -> tuple[int, int]:
        """0-based line and column of ``offset``."""
        line = bisect_right(self._starts, offset) - 1
        return line, offset - self._starts[line]

    def line_text(self, line: int, limit: int = 4096) -> str:
        """The text of 0-based ``line`` (at most ``limit`` characters)."""
        start = self._starts[line]
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self._text)
        return self._text[start:min(end, start + limit)].rstrip("\r")

    def around(self, offset: int, radius: int = 2048) -> str:
        """The line holding ``offset``, cut to ``radius`` characters each side."""
        line, col = self.position(offset)
        start = self._starts[line]
        end = self._starts[line + 1] - 1 if line + 1 < len(self._starts) else len(self._text)
        return self._text[max(start, offset - radius):min(end, offset + radius)].rstrip("\r")
