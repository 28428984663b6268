"""Git objects as Fragments: the blobs of a history (each unique blob once)
and the windowing that keeps a huge blob's memory bounded.

A blob is read from ``git cat-file --batch`` in windows of ``WINDOW`` bytes
that overlap by ``OVERLAP`` (the same scheme as files on disk), so a blob of
any size costs at most one window of memory and a key that straddles two
windows is found once. Binary blobs (a NUL in the first 8 KiB, no UTF-16/32
byte-order mark) are skipped and counted, as on disk; an archive or a
compressed file (by its name) is opened and its members scanned
(``git_fragments``).

Which blobs are read, and the provenance of what is found in them, is decided
by ``keyscan.history``; this module only turns objects into Fragments.
"""
from __future__ import annotations

import time
from typing import Callable, Iterator, NamedTuple

from ..decode.text import looks_binary, sniff_encoding, to_utf8
from ..git import Blob, BlobStream
from ..models import CommitInfo, Fragment, Stats
from .kinds import opens_in_git
from .worktree import OVERLAP, WINDOW

UTF16_CAP = 256 * 1024 * 1024  # a UTF-16/32 blob is decoded whole, up to this


def blob_fragments(
    stream: BlobStream,
    path: str,
    origin: str,
    stats: Stats,
    *,
    commit: CommitInfo | None = None,
    meta: dict | None = None,
    window: int = WINDOW,
) -> Iterator[Fragment]:
    """The blob's content as one Fragment, or as overlapping windows when it
    is larger than ``window``. Raises ``keyscan.git.ObjectReadError`` when
    git stops part way (a corrupt object)."""
    meta = dict(meta or {})
    first = stream.read(min(stream.size, window))
    if not first:
        return
    if looks_binary(first):
        stats.skip(path, "binary")
        return
    stats.files_scanned += 1
    if stream.left == 0:
        stats.bytes_scanned += len(first)
        yield Fragment(to_utf8(first), path, origin, commit=commit, meta=meta)
        return
    if sniff_encoding(first[:4]) not in (None, "utf-8"):
        rest = stream.read(min(stream.left, UTF16_CAP))
        stats.bytes_scanned += len(first) + len(rest)
        if stream.left:
            stats.skip(path, f"UTF-16/32 text past {UTF16_CAP >> 20} MB not scanned")
        yield Fragment(to_utf8(first + rest), path, origin, commit=commit, meta=meta)
        return
    buf, line, column = first, 1, 0
    while True:
        more = stream.read(min(stream.left, window))
        if not more:
            stats.bytes_scanned += len(buf)
            yield Fragment(buf, path, origin, line=line, column=column, commit=commit, meta=meta)
            return
        limit = len(buf) - OVERLAP
        stats.bytes_scanned += limit
        yield Fragment(buf, path, origin, line=line, column=column, commit=commit, meta=dict(meta, report_limit=limit))
        consumed = buf[:limit]
        newlines = consumed.count(b"\n")
        if newlines:
            line += newlines
            column = len(consumed[consumed.rfind(b"\n") + 1:].decode("utf-8", "replace"))
        else:
            column += len(consumed.decode("utf-8", "replace"))
        buf = buf[limit:] + more


class Progress(NamedTuple):
    blobs: int
    bytes: int
    seconds: float
    phase: str  # "listing" (blobs counts those listed) | "blobs" | "provenance"


class Ticker:
    """Calls ``report`` at most every ``every`` seconds."""

    def __init__(self, report: Callable[[Progress], None] | None, every: float = 0.5) -> None:
        self.report = report
        self.every = every
        self.start = time.monotonic()
        self._next = self.start + every

    def tick(self, blobs: int, nbytes: int, phase: str = "blobs", force: bool = False) -> None:
        if self.report is None:
            return
        now = time.monotonic()
        if force or now >= self._next:
            self._next = now + self.every
            self.report(Progress(blobs, nbytes, now - self.start, phase))


def history_fragments(blob: Blob, path: str, stats: Stats, commit: CommitInfo | None = None, errors: list | None = None) -> Iterator[Fragment]:
    """Fragments of one blob read from git, with origin ``history``; an
    archive's or compressed file's are its members' (``git_fragments``),
    whose notes go to ``errors``."""
    if blob.stream is None or blob.size == 0:
        return iter(())
    return git_fragments(blob.stream, path, "history", stats, errors, commit=commit, meta={"blob": blob.sha})


def git_fragments(stream: BlobStream, path: str, origin: str, stats: Stats, errors: list | None, *, commit: CommitInfo | None = None, meta: dict | None = None) -> Iterator[Fragment]:
    """``blob_fragments``, except that an archive or compressed file (by its
    name, as on disk) is opened and its members scanned, shown as
    ``path!member``: a key in a committed ``config.zip`` is in the history
    as much as one in ``config.env``. Notes about the archive (a corrupt
    member, a cap reached) go to ``errors`` (dropped when None)."""
    if not opens_in_git(path):
        return blob_fragments(stream, path, origin, stats, commit=commit, meta=meta)
    return _members(stream, path, origin, stats, [] if errors is None else errors, commit, meta or {})


def _members(stream: BlobStream, path: str, origin: str, stats: Stats, errors: list, commit: CommitInfo | None, meta: dict) -> Iterator[Fragment]:
    from dataclasses import replace

    from .archives import git_archive_fragments  # tarfile, zipfile, lzma: only when a blob needs them

    for fragment in git_archive_fragments(stream, path, origin, stats, errors):
        yield replace(fragment, commit=commit, meta={**fragment.meta, **meta})
