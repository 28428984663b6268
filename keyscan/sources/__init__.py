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


# Last extension (".gz" of ".tar.gz") -> the readers with a suffix ending in
# it, in READERS order: most files (".py", ".ts") have none and are not
# compared with every suffix of every reader (68,708 files: 0.1 s). A path
# that ends with a suffix starting with "." has that suffix's last extension
# as its own, so the readers listed there are the only ones that can match.
# (len(READERS) it was made for, the table; None when a reader's suffix
# does not start with "." and every reader must be asked).
_BY_EXT: tuple[int, dict[str, list[tuple[tuple[str, ...], Reader]]] | None] = (-1, None)


def _by_ext() -> dict | None:
    global _BY_EXT
    count, table = _BY_EXT
    if count != len(READERS):
        table = None
        if all(s.startswith(".") for suffixes, _ in READERS for s in suffixes):
            exts = {s[s.rfind("."):] for suffixes, _ in READERS for s in suffixes}
            table = {ext: [(suffixes, fn) for suffixes, fn in READERS if any(s.endswith(ext) for s in suffixes)] for ext in exts}
        _BY_EXT = (len(READERS), table)
    return table


def reader_for(path: str) -> Reader:
    _load_readers()
    lowered = path.lower()
    table = _by_ext()
    if table is None:
        candidates = READERS
    else:
        dot = lowered.rfind(".")
        candidates = table.get(lowered[dot:], ()) if dot != -1 else ()
    for suffixes, fn in candidates:
        if lowered.endswith(suffixes):
            return fn
    return plain_reader


def fragments_of(entry: FileEntry, stats: Stats, errors: list[ScanError]) -> Iterator[Fragment]:
    return reader_for(entry.display)(entry, stats, errors)

