"""Where bytes come from. Each source yields Fragments; none decides severity."""
from __future__ import annotations

from typing import Callable, Iterator

from ..models import Fragment, ScanError, Stats
from .worktree import FileEntry, read_fragments

# A file reader: (entry, stats, errors) -> fragments. Readers for special
# kinds of file (bundles, source maps, archives) register by suffix.
Reader = Callable[[FileEntry, Stats, list], Iterator[Fragment]]
READERS: list[tuple[tuple[str, ...], Reader]] = []


def register_reader(suffixes: tuple[str, ...]):
    def deco(fn: Reader) -> Reader:
        READERS.append((suffixes, fn))
        return fn

    return deco


def plain_reader(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    return read_fragments(entry, stats)


_LOADED = False


def _load_readers() -> None:
    """Import the readers for bundles, source maps, archives and game builds
    (they register themselves). Deferred to the first file: a pre-commit
    run with nothing staged should not pay for tarfile, zipfile and lzma."""
    global _LOADED
    if not _LOADED:
        _LOADED = True
        from . import archives, bundles, sourcemap  # noqa: F401


def reader_for(path: str) -> Reader:
    _load_readers()
    lowered = path.lower()
    for suffixes, fn in READERS:
        if lowered.endswith(suffixes):
            return fn
    return plain_reader


def fragments_of(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    return reader_for(entry.display)(entry, stats, errors)

