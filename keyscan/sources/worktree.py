"""Files on disk: walk folders (honouring .gitignore), read files safely.

The walk never follows symlinks, never enters ``.git/``, and skips FIFOs,
sockets and devices without opening them. Files are opened with O_NONBLOCK
and O_NOFOLLOW and checked again with fstat, so a file swapped for a FIFO or
a link between the walk and the read cannot hang or redirect the scan.
Large files are read in bounded windows that overlap, so memory stays bounded
and a key that straddles two windows is still found, once.
"""
from __future__ import annotations

import errno
import io
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

from ..decode.text import looks_binary, sniff_encoding, to_utf8
from ..errors import KeyscanError
from ..models import Fragment, Stats

WINDOW = 8 * 1024 * 1024  # bytes read per window of a large file
OVERLAP = 64 * 1024  # longest secret (with its context) that can straddle windows


class FileEntry(NamedTuple):
    # A NamedTuple, not a dataclass: one is built for every file walked and
    # pickled to a worker, which costs a tenth of a frozen dataclass.
    path: str  # absolute filesystem path
    display: str  # path as reported (relative to the working directory, '/'-separated)
    explicit: bool = False  # named by the user: scanned even if ignored
    # Bytes on disk, for deciding whether to scan in parallel; -1 when not
    # looked up. The walk does not look for files it finds in folders: an
    # lstat for each was 0.2 s of system time on the large tree's 68,708
    # files, and the reader's fstat tells the size anyway.
    size: int = -1


@dataclass
class _Ignore:
    base: str  # folder the .gitignore sits in, relative to the walk root ('' for root)
    spec: "pathspec.GitIgnoreSpec"  # noqa: F821 (imported lazily: it costs ~40 ms)


@dataclass
class WalkOptions:
    gitignore: bool = True
    exclude: Callable[[str, bool], bool] | None = None  # (abs path, is folder) -> excluded by config
    stats: Stats = field(default_factory=Stats)


def display_path(path: str) -> str:
    """``path`` relative to the working directory when under it, '/'-separated."""
    if os.sep == "/" and len(path) > 1 and path[0] == "/" and not any(part in ("", ".", "..") for part in path[1:].split("/")):
        # Fast path for what the walk yields (absolute, normalised paths):
        # os.path.relpath costs ~15 us a file, a tenth of a large scan's
        # walk. Under the working directory: the rest of the path; elsewhere
        # relpath would climb with "..", so the path itself.
        cwd = os.getcwd()
        prefix = cwd if cwd.endswith("/") else cwd + "/"
        if path.startswith(prefix):
            return path[len(prefix):]
        if path != cwd:
            return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    if rel.startswith(".." + os.sep) or rel == "..":
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def _load_gitignore(folder: str, base: str) -> _Ignore | None:
    # Only a regular file counts (as for git, which does not follow a
    # symlinked .gitignore): a FIFO named .gitignore must not block the walk.
    try:
        with os.fdopen(open_regular(os.path.join(folder, ".gitignore")), "rb") as fh:
            lines = fh.read(1 << 20).decode("utf-8", "replace").splitlines()
    except OSError:
        return None
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(lines)
    return _Ignore(base, spec) if spec.patterns else None


def _parent_ignores(root: str) -> list[_Ignore]:
    """.gitignore files between the repository root and ``root``, which apply
    to a walk that starts below the repository root."""
    chain = []
    cur = os.path.abspath(root)
    while True:
        parent = os.path.dirname(cur)
        if os.path.isdir(os.path.join(cur, ".git")) or parent == cur:
            break
        chain.append(parent)
        cur = parent
        if os.path.exists(os.path.join(cur, ".git")):
            break
    if not chain or not os.path.exists(os.path.join(chain[-1], ".git")):
        return []
    out = []
    root_abs = os.path.abspath(root)
    for folder in reversed(chain):
        ig = _load_gitignore(folder, "")
        if ig is None:
            continue
        # Re-anchor the parent's patterns on the walk root by matching with
        # the path relative to the parent folder.
        prefix = os.path.relpath(root_abs, folder).replace(os.sep, "/")
        out.append(_Ignore("\0" + prefix, ig.spec))
    return out


def _rel_for(ig: _Ignore, rel: str) -> str:
    if ig.base.startswith("\0"):
        return ig.base[1:] + "/" + rel
    return rel[len(ig.base) + 1:] if ig.base else rel


def _ignored(rel: str, is_dir: bool, ignores: list[_Ignore]) -> bool:
    for ig in reversed(ignores):
        sub = _rel_for(ig, rel) + ("/" if is_dir else "")
        res = ig.spec.check_file(sub)
        if res.include is not None:
            return res.include
    return False


def walk(paths: list[str], opts: WalkOptions) -> Iterator[FileEntry]:
    """Every regular file to scan under ``paths``, in a stable order."""
    stats = opts.stats
    for given in paths:
        try:
            st = os.lstat(given)
        except FileNotFoundError:
            raise KeyscanError(f"{given}: no such file or folder") from None
        except OSError as exc:
            raise KeyscanError(f"{given}: cannot read ({exc.strerror})") from None
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(given, opts)
        elif stat.S_ISREG(st.st_mode):
            yield FileEntry(os.path.abspath(given), display_path(given), explicit=True, size=st.st_size)
        elif stat.S_ISLNK(st.st_mode):
            stats.skip(display_path(given), "symlink")
        else:
            stats.skip(display_path(given), "special file")


def _root_is_ignored(root: str, ignores: list[_Ignore]) -> bool:
    """Is the folder the user named (or one above it) ignored by the
    .gitignore files above it?"""
    for ig in ignores:
        parts = ig.base[1:].split("/")
        for i in range(1, len(parts) + 1):
            if ig.spec.match_file("/".join(parts[:i]) + "/"):
                return True
    return False


def _walk_dir(root: str, opts: WalkOptions) -> Iterator[FileEntry]:
    stats = opts.stats
    base_ignores = _parent_ignores(root) if opts.gitignore else []
    if base_ignores and _root_is_ignored(root, base_ignores):
        # A folder named on the command line is scanned even if ignored
        # (`keyscan scan dist/`): only .gitignore files inside it apply.
        base_ignores = []
    # Stack of (folder abs path, folder rel path, ignores in force, the
    # folder's (st_dev, st_ino) when it was listed; None for the root).
    stack: list[tuple[str, str, list[_Ignore], tuple[int, int] | None]] = [(os.path.abspath(root), "", base_ignores, None)]
    cwd = os.getcwd()  # once, not once a folder (a scan never changes it)
    while stack:
        folder, rel_folder, ignores, ident = stack.pop()
        try:
            fd = _open_folder(folder, ident)
        except OSError as exc:
            stats.skip(display_path(folder), f"unreadable folder ({exc.strerror})")
            continue
        try:
            yield from _walk_listing(fd, folder, rel_folder, ignores, opts, stack, cwd)
        finally:
            os.close(fd)


def _open_folder(path: str, ident: tuple[int, int] | None) -> int:
    """Open a folder to list it, without following a symlink put in its
    place; raise OSError when it is not the folder the walk listed (it was
    replaced during the scan)."""
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISDIR(st.st_mode) or (ident is not None and (st.st_dev, st.st_ino) != ident):
            raise OSError(0, "replaced during the scan")
    except BaseException:
        os.close(fd)
        raise
    return fd


def _child_display(folder: str, cwd: str) -> str | None:
    """What goes before a name to give ``display_path`` of an entry of
    ``folder`` (an absolute path the walk built), or None when it must be
    asked entry by entry. One prefix per folder instead of a path check per
    file (the walk of 68,708 files spent a third of its time there)."""
    if os.sep != "/" or not folder.startswith("/"):
        return None
    if folder != "/" and any(part in ("", ".", "..") for part in folder[1:].split("/")):
        return None
    if folder == cwd:
        return ""
    prefix = cwd if cwd.endswith("/") else cwd + "/"
    if folder.startswith(prefix):
        return folder[len(prefix):] + "/"
    base = folder if folder.endswith("/") else folder + "/"
    if cwd.startswith(base):
        return None  # above the working directory: one entry leads back into it
    return base  # elsewhere: entries are shown as absolute paths


def _walk_listing(fd: int, folder: str, rel_folder: str, ignores: list[_Ignore], opts: WalkOptions, stack: list, cwd: str) -> Iterator[FileEntry]:
    """The files of one folder (listed through ``fd``); its subfolders go on ``stack``."""
    stats = opts.stats
    if opts.gitignore:
        ig = _load_gitignore(folder, rel_folder)
        if ig is not None:
            ignores = ignores + [ig]
    try:
        with os.scandir(fd) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        stats.skip(display_path(folder), f"unreadable folder ({exc.strerror})")
        return
    subdirs = []
    base = folder if folder.endswith(os.sep) else folder + os.sep
    shown = _child_display(folder, cwd)
    gitignore = opts.gitignore
    exclude = opts.exclude
    for entry in entries:
        name = entry.name
        path = base + name
        disp = shown + name if shown is not None else display_path(path)
        try:
            if entry.is_symlink():
                stats.skip(disp, "symlink")
                continue
            is_dir = entry.is_dir(follow_symlinks=False)
            is_file = not is_dir and entry.is_file(follow_symlinks=False)
        except OSError:
            stats.skip(disp, "unreadable")
            continue
        if is_dir and name == ".git":
            continue
        if gitignore and _ignored(f"{rel_folder}/{name}" if rel_folder else name, is_dir, ignores):
            stats.skip(disp, "gitignored")
            continue
        if exclude is not None and exclude(path, is_dir):
            stats.skip(disp, "excluded by config")
            continue
        if is_dir:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                stats.skip(disp, f"unreadable folder ({exc.strerror})")
                continue
            rel = f"{rel_folder}/{name}" if rel_folder else name
            subdirs.append((path, rel, ignores, (st.st_dev, st.st_ino)))
        elif is_file:
            yield FileEntry(path, disp)
        else:
            stats.skip(disp, "special file")
    stack.extend(reversed(subdirs))


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def open_sized(path: str) -> tuple[int, int]:
    """``open_regular``, and the file's size from the same fstat."""
    fd = os.open(path, _READ_FLAGS)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return fd, st.st_size


def open_regular(path: str) -> int:
    """Open ``path`` for reading without following a final symlink and
    without blocking on a FIFO; raise OSError unless it is a regular file."""
    return open_sized(path)[0]


def read_fragments(entry: FileEntry, stats: Stats, *, origin: str = "worktree", window: int = WINDOW) -> Iterator[Fragment]:
    """The file as one fragment, or as overlapping windows when large.

    A window's ``meta['report_limit']`` is the byte offset (within the window)
    past which matches belong to the next window.
    """
    try:
        fd, size = open_sized(entry.path)
    except OSError as exc:
        stats.skip(entry.display, f"unreadable ({exc.strerror or exc})")
        return
    try:
        try:
            # A file smaller than a window is read in one call of its size
            # plus one byte (asking for a whole window costs an 8 MiB buffer
            # per file). More than its size means it grew since the fstat, or
            # reports no size (as /proc files do): read on, up to a window,
            # as for any file.
            first = os.read(fd, size + 1 if size < window else window)
            if size < window and len(first) > size:
                first += os.read(fd, window - len(first))
        except OSError as exc:
            stats.skip(entry.display, f"unreadable ({exc.strerror})")
            return
        if looks_binary(first):
            stats.skip(entry.display, "binary")
            return
        if len(first) < window:
            os.close(fd)
            fd = -1
            stats.files_scanned += 1
            stats.bytes_scanned += len(first)
            yield Fragment(to_utf8(first), entry.display, origin)
            return
        fh = os.fdopen(fd, "rb", buffering=0)
        fd = -1
        with fh:
            if sniff_encoding(first[:4]) not in (None, "utf-8"):
                # UTF-16/32 text this large: decode whole, bounded by a cap.
                rest = fh.read(256 * 1024 * 1024)
                stats.files_scanned += 1
                stats.bytes_scanned += len(first) + len(rest)
                yield Fragment(to_utf8(first + rest), entry.display, origin)
                return
            stats.files_scanned += 1
            yield from _windows(fh, first, entry.display, origin, window, stats)
    finally:
        if fd >= 0:
            os.close(fd)


def _size_at_start(fh) -> int | None:
    """The size of the file on disk behind ``fh`` (None for other streams,
    and for files that report no size, as /proc files do)."""
    raw = getattr(fh, "raw", fh)
    if not isinstance(raw, io.FileIO):
        return None
    try:
        return os.fstat(raw.fileno()).st_size or None
    except (OSError, ValueError):
        return None


def _hole_ahead(fh, left: int | None, window: int) -> int:
    """Bytes of hole (a sparse file's unwritten range) right at the read
    position of the unbuffered file ``fh``, when at least ``window`` long."""
    if left is None or left < window or not isinstance(fh, io.FileIO) or not hasattr(os, "SEEK_DATA"):
        return 0
    pos = fh.tell()
    try:
        data = os.lseek(fh.fileno(), pos, os.SEEK_DATA)
    except OSError as exc:
        if exc.errno != errno.ENXIO:  # ENXIO: nothing but hole up to the end
            return 0
        data = pos + left
    finally:
        os.lseek(fh.fileno(), pos, os.SEEK_SET)
    hole = min(data - pos, left)
    return hole if hole >= window else 0


def _windows(fh, buf: bytes, display: str, origin: str, window: int, stats: Stats) -> Iterator[Fragment]:
    line, column = 1, 0
    # A file that grows while it is read (a log being written) is read up to
    # its size now, so the scan always ends.
    end = _size_at_start(fh)
    left = None if end is None else max(0, end - fh.tell())
    while True:
        hole = _hole_ahead(fh, left, window)
        if hole:
            # A hole of a sparse file reads as NUL bytes, which hold no key:
            # finish the text before it and go on after it.
            stats.bytes_scanned += len(buf) + hole
            yield Fragment(buf, display, origin, line=line, column=column)
            newlines = buf.count(b"\n")
            if newlines:
                line += newlines
                column = len(buf[buf.rfind(b"\n") + 1:].decode("utf-8", "replace"))
            else:
                column += len(buf.decode("utf-8", "replace"))
            column += hole
            fh.seek(hole, os.SEEK_CUR)
            left -= hole
            buf = fh.read(min(window, left))
            left -= len(buf)
            if not buf:
                return
            continue
        try:
            more = fh.read(window if left is None else min(window, left))
            if left is not None:
                left -= len(more)
        except OSError as exc:
            stats.skip(display, f"read failed part way ({exc.strerror})")
            more = b""
        if not more:
            stats.bytes_scanned += len(buf)
            yield Fragment(buf, display, origin, line=line, column=column)
            return
        limit = len(buf) - OVERLAP
        stats.bytes_scanned += limit
        yield Fragment(buf, display, origin, line=line, column=column, meta={"report_limit": limit})
        consumed = buf[:limit]
        newlines = consumed.count(b"\n")
        if newlines:
            line += newlines
            column = len(consumed[consumed.rfind(b"\n") + 1:].decode("utf-8", "replace"))
        else:
            column += len(consumed.decode("utf-8", "replace"))
        buf = buf[limit:] + more
