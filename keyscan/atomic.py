"""Atomic file writes: a report or baseline is either the old file or the
whole new one, never half of either."""
from __future__ import annotations

import os
import tempfile

from .errors import KeyscanError


def _write_through(path: str, data: bytes) -> None:
    """Write to an existing device or pipe (``/dev/stdout``, ``/dev/null``, a
    FIFO) in place: renaming over it would replace the device with a file."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise KeyscanError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        os.set_blocking(fd, True)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except OSError as exc:
        raise KeyscanError(f"{path}: cannot write ({exc.strerror})") from None
    finally:
        os.close(fd)


def write_atomic(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same
    folder, fsync it, then rename it over ``path``. An existing device or
    pipe is written in place instead, never replaced."""
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path):
        raise KeyscanError(f"{path}: is a folder, not a file")
    if os.path.exists(path) and not os.path.isfile(path):
        _write_through(path, data)
        return
    try:
        fd, tmp = tempfile.mkstemp(prefix=".keyscan-", suffix=".tmp", dir=folder)
    except FileNotFoundError:
        raise KeyscanError(f"{path}: cannot write (folder {folder} does not exist)") from None
    except OSError as exc:
        raise KeyscanError(f"{path}: cannot write ({exc.strerror})") from None
    try:
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            try:
                mode = os.stat(path).st_mode & 0o777
            except FileNotFoundError:
                umask = os.umask(0)
                os.umask(umask)
                mode = 0o666 & ~umask
            os.chmod(tmp, mode)
            os.replace(tmp, path)
        except OSError as exc:
            raise KeyscanError(f"{path}: cannot write ({exc.strerror})") from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
