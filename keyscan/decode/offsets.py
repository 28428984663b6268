"""Offsets in a text to (line, column) in O(log n) per lookup plus a count
of newlines at C speed: a minified bundle is one line of many megabytes, and
a text with one finding should not pay for a table of all its lines.

Lines are counted from the nearest offset already looked up (``_marks``,
sorted line starts, with their line numbers); the full table of line starts
is built only when a line is asked for by number before any offset on it."""
from __future__ import annotations

from bisect import bisect_right


class LineIndex:
    def __init__(self, text: str) -> None:
        self._text = text
        self._marks = [0]  # starts of lines whose numbers are known, sorted
        self._mark_lines = [0]
        self._known: dict[int, int] = {0: 0}  # line number -> start
        self._starts: list[int] | None = None

    def _all_starts(self) -> list[int]:
        if self._starts is None:
            text = self._text
            starts = [0]
            find = text.find
            pos = find("\n")
            while pos != -1:
                starts.append(pos + 1)
                pos = find("\n", pos + 1)
            self._starts = starts
        return self._starts

    def _line_of(self, offset: int) -> tuple[int, int]:
        """0-based line of ``offset`` and that line's start."""
        if offset < 0 or self._starts is not None:
            starts = self._all_starts()
            line = bisect_right(starts, offset) - 1
            return line, starts[line]
        marks = self._marks
        i = bisect_right(marks, offset) - 1
        mark = marks[i]
        text = self._text
        newlines = text.count("\n", mark, offset)
        if not newlines:
            return self._mark_lines[i], mark
        line = self._mark_lines[i] + newlines
        start = text.rfind("\n", mark, offset) + 1
        if line not in self._known:
            self._known[line] = start
            marks.insert(i + 1, start)
            self._mark_lines.insert(i + 1, line)
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
            start = self._all_starts()[line]
        return self._rest_of_line(start, start, limit)

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
