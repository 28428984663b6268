"""Offsets in a text to (line, column) by counting newlines at C speed from
the nearest offset already looked up: a minified bundle is one line of many
megabytes, and a text with one finding should not pay for a table of all its
lines.

Each lookup leaves a checkpoint (offset, line, start of that line), so a
file's matches, looked up in order rule by rule, cost a few passes of
``str.count`` over the text. A line asked for by number is reached from the
nearest checkpoint's line by a few finds; only one far from all of them (a
source map's original line) makes the table of all line starts."""
from __future__ import annotations

from bisect import bisect_right

_WALK = 64  # lines reached by find from a known line instead of the table


class LineIndex:
    def __init__(self, text: str) -> None:
        self._text = text
        # Checkpoints, sorted by offset (so by line too).
        self._offsets = [0]
        self._lines = [0]
        self._starts_of = [0]  # start of each checkpoint's line
        self._known: dict[int, int] = {0: 0}  # line number -> start
        self._table: list[int] | None = None

    def _all_starts(self) -> list[int]:
        if self._table is None:
            text = self._text
            starts = [0]
            find = text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._table = starts
        return self._table

    def _line_of(self, offset: int) -> tuple[int, int]:
        """0-based line of ``offset`` and that line's start."""
        if offset < 0 or self._table is not None:
            starts = self._all_starts()
            line = bisect_right(starts, offset) - 1
            return line, starts[line]
        offsets = self._offsets
        i = bisect_right(offsets, offset) - 1
        at = offsets[i]
        if at == offset:
            return self._lines[i], self._starts_of[i]
        text = self._text
        newlines = text.count("\n", at, offset)
        if newlines:
            line = self._lines[i] + newlines
            start = text.rfind("\n", at, offset) + 1
            self._known.setdefault(line, start)
        else:
            line, start = self._lines[i], self._starts_of[i]
        offsets.insert(i + 1, offset)
        self._lines.insert(i + 1, line)
        self._starts_of.insert(i + 1, start)
        return line, start

    def position(self, offset: int) -> tuple[int, int]:
        """0-based line and column of ``offset``."""
        line, start = self._line_of(offset)
        return line, offset - start

    def line_text(self, line: int, limit: int = 4096) -> str:
        """The text of 0-based ``line`` (at most ``limit`` characters)."""
        if line < 0:  # counted from the end, as the table of lines does
            starts = self._all_starts()
            end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self._text)
            return self._text[starts[line]:min(end, starts[line] + limit)].rstrip("\r")
        start = self._known.get(line)
        if start is None:
            start = self._start_of(line)
        return self._rest_of_line(start, start, limit)

    def _start_of(self, line: int) -> int:
        if self._table is not None:
            return self._table[line]
        lines, starts, text = self._lines, self._starts_of, self._text
        i = bisect_right(lines, line)  # lines[i - 1] < line < lines[i]
        if i < len(lines) and lines[i] - line <= _WALK:
            start = starts[i]
            for _ in range(lines[i] - line):
                start = text.rfind("\n", 0, start - 1) + 1
            return start
        if line - lines[i - 1] <= _WALK:
            start = starts[i - 1]
            for _ in range(line - lines[i - 1]):
                end = text.find("\n", start)
                if end == -1:
                    raise IndexError("line number past the text")
                start = end + 1
            return start
        return self._all_starts()[line]

    def around(self, offset: int, radius: int = 2048) -> str:
        """The line holding ``offset``, cut to ``radius`` characters each side."""
        if offset < 0:  # no match is here; what the table of lines made of it
            starts = self._all_starts()
            line = bisect_right(starts, offset) - 1
            end = starts[line + 1] - 1 if line + 1 < len(starts) else len(self._text)
            return self._text[max(starts[line], offset - radius):min(end, offset + radius)].rstrip("\r")
        _, start = self._line_of(offset)
        return self._rest_of_line(max(start, offset - radius), offset, radius)

    def _rest_of_line(self, begin: int, pos: int, limit: int) -> str:
        # text[begin:...] up to the end of the line holding pos, at most
        # pos + limit, without the line's carriage return.
        text = self._text
        stop = min(len(text), pos + limit)
        end = text.find("\n", pos, stop)
        return text[begin:stop if end == -1 else end].rstrip("\r")
