"""The benchmark helpers that measure memory (benchmarks/run.py, memtrace.py)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import memtrace  # noqa: E402
import run  # noqa: E402

from helpers import run_keyscan  # noqa: E402

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


def test_memtrace_tree_lists_the_child_with_its_kind():
    proc = subprocess.Popen([sys.executable, "-c", FORKED])
    try:
        import time

        time.sleep(0.8)
        procs = memtrace.tree(proc.pid)
    finally:
        proc.wait()
    assert [p.kind for p in procs] == ["py", "py"]
    assert procs[0].pid == proc.pid and all(p.rss_kb >= p.pss_kb > 0 for p in procs)


def test_memtrace_with_a_command_that_cannot_run_says_so_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "memtrace.py"), "--", str(tmp_path / "missing")], capture_output=True, text=True)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "cannot run" in out.stderr and "Traceback" not in out.stderr


def test_synthetic_history_has_the_steps_and_the_keys_it_promises(tmp_path, monkeypatch):
    """The generator on a small scale: one branch per step reaching exactly
    that many commits, blobs of 1-16 KB, a made-up key that keyscan finds
    and that is gone again two commits later."""
    monkeypatch.setattr(run, "SYNTHETIC_COMMITS", 40)
    monkeypatch.setattr(run, "SYNTHETIC_STEPS", (10, 40))
    monkeypatch.setattr(run, "SYNTHETIC_KEY_EVERY", 20)
    monkeypatch.setattr(run, "log", lambda msg: None)
    repo = run.prepare_synthetic(tmp_path)
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True, check=True).stdout  # noqa: E731
    assert [int(git("rev-list", "--count", f"refs/heads/upto-{n}")) for n in (10, 40)] == [10, 40]
    assert git("ls-tree", "--name-only", "main", "config/").strip() == ""  # removed again
    assert git("log", "--format=%s", "--", "config/settings.env").split() == ["change", "32", "change", "30", "change", "12", "change", "10"]
    sizes = [int(line.split()[3]) for line in git("ls-tree", "-r", "-l", "main").splitlines()]
    assert sizes and all(1024 <= size <= 16 * 1024 + 200 for size in sizes)
    assert run.prepare_synthetic(tmp_path) == repo  # built once
    result = run_keyscan("history", str(repo), "-f", "json")
    assert result.code == 1, result.err
    assert len(json.loads(result.out)["findings"]) == 2


def _tool(name: str, walls: dict[int, float]) -> "run.Tool":
    tool = run.Tool(name, ["true"])
    tool.samples = [run.Sample(wall=w, cpu=w, rss_kb=1024, tree_kb=1024, code=0, round=r) for r, w in walls.items()]
    return tool


def test_rounds_faster_compares_the_runs_of_the_same_round():
    """Paired by round, not by position: a peer that failed in round 1 is
    compared in rounds 0 and 2 only, and a tie is no win."""
    keyscan = _tool("keyscan", {0: 4.0, 1: 4.0, 2: 5.0})
    peer = _tool("peer", {0: 4.5, 2: 5.0})  # by position, 2/2
    assert run.rounds_faster(keyscan, peer) == "1/2"
    assert run.rounds_faster(keyscan, _tool("none", {})) == ""
    table = run.render_table("t", [keyscan, peer, _tool("slow", {0: 9.9, 1: 9.9, 2: 9.9})])
    rows = {line.split(" | ")[0].strip("| "): line.split(" | ") for line in table.splitlines() if line.startswith("| ") and "---" not in line}
    column = rows["tool"].index("keyscan faster")
    assert rows["keyscan"][column] == "" and rows["peer"][column] == "1/2" and rows["slow"][column] == "3/3"
