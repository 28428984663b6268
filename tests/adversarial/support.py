"""Shared pieces of the adversarial suite: running keyscan in a child
process that reports its own peak memory, finding processes a run left
behind, and the fuzzing budget."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from hypothesis import HealthCheck, settings

# How many examples each property test runs: the numbers in the tests,
# times this factor (not a KEYSCAN_ variable: tests/conftest.py clears those). The default keeps the whole suite well under 90 s on
# two cores (what CI runs on every pull request); a nightly job sets
# ADVERSARIAL_FUZZ_FACTOR=20 (or more) to fuzz for longer.
FUZZ_FACTOR = max(1, int(os.environ.get("ADVERSARIAL_FUZZ_FACTOR", "1") or 1))

settings.register_profile(
    "keyscan-adversarial",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)
FUZZ = settings.get_profile("keyscan-adversarial")


def fuzz(examples: int) -> settings:
    """``@fuzz(200)``: the suite's hypothesis settings with this many
    examples (times ADVERSARIAL_FUZZ_FACTOR)."""
    return settings(FUZZ, max_examples=examples * FUZZ_FACTOR)


# A child that runs the CLI and reports, on its last stderr line, its exit
# code and its own peak resident memory. VmHWM, not getrusage: ru_maxrss
# survives exec, so a child forked from a large test process would report
# the test process's size.
_RSS_RUNNER = r"""
import sys
from keyscan.cli import main
try:
    main(sys.argv[1:])
    code = 0
except SystemExit as exc:
    code = exc.code
with open("/proc/self/status") as fh:
    peak = next(int(line.split()[1]) for line in fh if line.startswith("VmHWM:"))
sys.stderr.write(f"\nKEYSCAN-RSS {code} {peak}\n")
"""


@dataclass
class Measured:
    code: int
    out: str
    err: str
    rss_mb: float  # peak RSS of the keyscan process itself (not of git or workers)
    seconds: float


def run_measured(*args: str, cwd: Path | str, env: dict | None = None, timeout: float = 120) -> Measured:
    full = dict(os.environ, **(env or {}))
    t = time.monotonic()
    proc = subprocess.run([sys.executable, "-c", _RSS_RUNNER, *args], cwd=cwd, env=full, capture_output=True, timeout=timeout)
    seconds = time.monotonic() - t
    err = proc.stderr.decode("utf-8", "replace")
    head, _, last = err.rstrip("\n").rpartition("\n")
    tag, code, peak = last.split()
    assert tag == "KEYSCAN-RSS", err
    return Measured(int(code), proc.stdout.decode("utf-8", "replace"), head, int(peak) / 1024, seconds)


def marked_env() -> tuple[dict[str, str], str]:
    """An environment with a unique marker, to find every process a run
    started (git, workers) by its environment."""
    mark = uuid.uuid4().hex
    return dict(os.environ, KEYSCAN_TEST_RUN=mark), mark


def processes_with(mark: str) -> list[int]:
    """Live processes whose environment carries ``mark`` (zombies excluded)."""
    found = []
    needle = f"KEYSCAN_TEST_RUN={mark}".encode()
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/environ", "rb") as fh:
                env = fh.read()
            with open(f"/proc/{pid}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[1].split()[0]
        except OSError:
            continue
        if needle in env.split(b"\0") and state != b"Z":
            found.append(int(pid))
    return found


def wait_gone(mark: str, seconds: float = 10) -> list[int]:
    """Processes still carrying ``mark`` after up to ``seconds``."""
    end = time.monotonic() + seconds
    left = processes_with(mark)
    while left and time.monotonic() < end:
        time.sleep(0.05)
        left = processes_with(mark)
    return left


def kill_all(pids: list[int]) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
