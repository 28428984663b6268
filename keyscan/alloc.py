"""Allocator settings for large scans.

A scan allocates and frees many blocks of megabytes: an 8 MiB window, its
text (up to four bytes a character), the ASCII shadow the prefilter reads,
decoded runs, parsed source maps. glibc serves every block over 128 KiB
with a fresh ``mmap`` and gives it back at ``free``, so each one is faulted
in, zeroed by the kernel and unmapped again; on the bundles benchmark that
was 0.7 of 4.4 s of CPU, as system time. Raising the mmap threshold (and
the trim threshold with it) keeps those blocks in the heap for reuse:
system time 0.74 -> 0.36 s, user time 3.6 -> 3.4 s, peak memory +10 MB
(``benchmarks/README.md``, "Means"): freed blocks stay in the heap to be
reused for the next file instead of going back to the system.
"""
from __future__ import annotations

import sys

MMAP_THRESHOLD = 256 << 20  # blocks up to this size come from the heap
TRIM_THRESHOLD = 512 << 20  # free heap top kept before giving it back
_M_TRIM_THRESHOLD = -1  # mallopt parameters (malloc.h)
_M_MMAP_THRESHOLD = -3
_done = False
_libc = None  # glibc, once tune_for_large_scans found it


def tune_for_large_scans() -> bool:
    """Apply the thresholds once per process (inherited by forked workers).
    Only on Linux with glibc's ``mallopt``; a no-op elsewhere. True when
    applied."""
    global _done
    if _done:
        return True
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes

        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        gnu = libc.gnu_get_libc_version  # glibc only: musl's mallopt does nothing
    except (OSError, AttributeError):
        return False
    del gnu
    global _libc
    _libc = libc
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD))
    return _done


def give_back() -> None:
    """Return the heap's free memory to the system now (glibc's
    ``malloc_trim``), after a phase whose blocks will not be needed again;
    the thresholds above otherwise keep it for the rest of the run. A
    history scan's parent calls it once the listing is ordered (the
    ordering's map of every blob, 25 MB on git's repository, stayed
    resident for the whole scan), and each history worker after a batch (its
    heap kept the largest blob's text and decodings for the rest of the
    scan: 10-15 MB less for the two workers, for 0.35 s more system time on
    half of git's history; trimming only after batches that left 16 MB free
    saved none of the memory). A no-op where the thresholds were not set."""
    if _libc is not None:
        _libc.malloc_trim(0)
