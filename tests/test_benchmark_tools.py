"""The benchmark helpers that measure memory (benchmarks/run.py, memtrace.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import run  # noqa: E402

pytestmark = pytest.mark.skipif(not os.path.exists("/proc/self/smaps_rollup"), reason="needs Linux's smaps_rollup")

# A parent holding 60 MB that forks a child, which touches none of it and
# sleeps: RSS counts the shared 60 MB in both, PSS once.
FORKED = """
import os, sys, time
block = bytearray(60 << 20)
for i in range(0, len(block), 4096):
    block[i] = 1
pid = os.fork()
if pid == 0:
    time.sleep(1.2)
    os._exit(0)
time.sleep(1.2)
os.waitpid(pid, 0)
"""


def test_tree_pss_counts_pages_shared_after_fork_once():
    proc = subprocess.Popen([sys.executable, "-c", FORKED])
    try:
        import time

        time.sleep(0.8)
        rss, pss = run._tree_kb(proc.pid)
    finally:
        proc.wait()
    assert rss > 110 << 10  # the 60 MB twice
    assert 55 << 10 < pss < 90 << 10  # once, with the interpreters


def test_memtrace_prints_a_line_per_sample_and_the_peak():
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "memtrace.py"), "--every", "0.2", "--", sys.executable, "-c", FORKED],
        capture_output=True, text=True, timeout=60,
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[-1].startswith("peak ")
    peak = int(lines[-1].split()[1])
    assert 55 <= peak < 90
    assert any(line.count(" py ") == 2 for line in lines[:-1])  # parent and child, each listed


def test_memtrace_without_a_command_is_a_usage_error():
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "memtrace.py")], capture_output=True, text=True)
    assert out.returncode == 2 and "no command" in out.stderr
