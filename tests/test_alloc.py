"""keyscan.alloc: glibc thresholds for large scans, applied in a child
process so the test run's own allocator is left alone."""
import platform
import subprocess
import sys

import pytest

CHILD = r"""
import ctypes, sys
from keyscan.alloc import tune_for_large_scans, MMAP_THRESHOLD

class MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
def mapped_blocks(size):
    blocks = [bytearray(size) for _ in range(4)]
    n = libc.mallinfo2().hblks
    del blocks
    return n
before = mapped_blocks(4 << 20)
assert tune_for_large_scans() is True
assert tune_for_large_scans() is True  # once is enough; again is harmless
after = mapped_blocks(4 << 20)
print(before, after)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_large_blocks_come_from_the_heap_once_tuned():
    """Before: each 4 MB block is its own mmap (the kernel zeroes it, the
    process faults it in, free unmaps it). After: from the heap."""
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, check=True).stdout.split()
    before, after = int(out[0]), int(out[1])
    assert before >= 4
    assert after < before


def test_scan_works_with_the_thresholds(tmp_path):
    (tmp_path / "a.env").write_text("NOTHING=here\n")
    res = subprocess.run([sys.executable, "-m", "keyscan", "scan", str(tmp_path), "-f", "json"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


GIVE_BACK_CHILD = r"""
from keyscan.alloc import give_back, tune_for_large_scans

def rss_mb():
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS")) // 1024

give_back()  # before tuning: nothing to do, nothing breaks
assert tune_for_large_scans()
blocks = [bytearray(1 << 20) for _ in range(64)]  # 64 MB in the heap
keep = bytearray(1 << 20)  # above them: the heap's top cannot shrink
del blocks
before = rss_mb()
give_back()
print(before, rss_mb())
"""


@pytest.mark.skipif(not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_give_back_returns_freed_heap_memory():
    """With the thresholds set, freed blocks stay resident (that is their
    point, for the next file); ``give_back`` returns them when a phase is
    over (a history scan's ordering of its listing)."""
    out = subprocess.run([sys.executable, "-c", GIVE_BACK_CHILD], capture_output=True, text=True, check=True).stdout.split()
    before, after = int(out[0]), int(out[1])
    assert before - after >= 48, (before, after)
