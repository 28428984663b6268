"""Interrupts and failures: Ctrl-C and SIGTERM during a scan, a history
scan, a report write and a baseline write; a full disk; an output path that
cannot be written. Nothing is left half-written, no temporary file and no
child process is left behind, and the message is one line."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers import fake_immutable_secret, make_repo, run_keyscan

from .support import kill_all, marked_env, processes_with, wait_gone

KEY = fake_immutable_secret(seed=901)

# Runs the CLI with one function slowed down: the first call writes READY to
# the file named by KEYSCAN_TEST_READY, so the test signals keyscan while it
# is in that very step, never before or after it.
RUNNER = r"""
import faulthandler, os, sys, time
faulthandler.dump_traceback_later(20, exit=True)  # a hang shows where, instead of a bare timeout
where, args = sys.argv[1], sys.argv[2:]
ready = os.environ["KEYSCAN_TEST_READY"]

def mark():
    if not os.path.exists(ready):
        with open(ready, "w") as fh:
            fh.write("READY")

if where == "read":
    from keyscan import sources
    real = sources.fragments_of
    def slow(*a, **kw):
        mark()
        time.sleep(0.02)
        return real(*a, **kw)
    sources.fragments_of = slow
elif where in ("blob", "blob-parallel"):
    from keyscan import history
    if where == "blob-parallel":
        history.PARALLEL_MIN_OBJECTS = 0  # worker processes even for a small history
    real = history._blob_keys
    def slow(*a, **kw):
        mark()
        time.sleep(0.02)
        return real(*a, **kw)
    history._blob_keys = slow
elif where == "stuck":
    # A worker stuck for good (as in a long C call, deaf to SIGTERM until it
    # returns) while it holds the lock of the pool's result queue, as one
    # does while it sends a result.
    import gc, multiprocessing.pool, signal
    from keyscan import parallel
    def stuck(entries):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        [pool] = [o for o in gc.get_objects() if isinstance(o, multiprocessing.pool.Pool)]
        pool._outqueue._wlock.acquire()
        mark()
        time.sleep(1000)
    parallel._scan_batch = stuck
elif where == "fsync":
    real = os.fsync
    def slow(fd):
        mark()
        time.sleep(30)
        return real(fd)
    os.fsync = slow
from keyscan.cli import main
main(args)
"""


_STARTED: list[str] = []


@pytest.fixture(autouse=True)
def _reap():
    """Whatever a test asserts, no process it started outlives it."""
    yield
    while _STARTED:
        kill_all(processes_with(_STARTED.pop()))


def start(where: str, *args: str, cwd: Path, tmp: Path, group: bool = False) -> tuple[subprocess.Popen, str, Path]:
    env, mark = marked_env()
    _STARTED.append(mark)
    ready = tmp / f"ready-{mark}"
    env.update(KEYSCAN_TEST_READY=str(ready), TMPDIR=str(tmp))
    proc = subprocess.Popen(
        [sys.executable, "-c", RUNNER, where, *args], cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=group
    )
    end = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "keyscan never reached the step"
        time.sleep(0.01)
    ready.unlink()
    return proc, mark, ready


def stop(proc: subprocess.Popen, sig: int, group: bool = False) -> tuple[int, str, str]:
    if group:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out.decode("utf-8", "replace"), err.decode("utf-8", "replace")


def no_leftovers(mark: str, *folders: Path) -> None:
    left = wait_gone(mark)
    kill_all(left)
    assert left == [], "processes left running"
    for folder in folders:
        stray = [n for n in os.listdir(folder) if n.startswith(".keyscan-") or n.endswith(".tmp")]
        assert stray == [], stray


EXPECTED = {signal.SIGINT: (130, "keyscan: interrupted"), signal.SIGTERM: (143, "keyscan: terminated")}


def big_tree(root: Path, files: int = 600) -> None:
    for i in range(files):
        folder = root / f"d{i // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"f{i}.txt").write_text(f"K = '{KEY}'\n" if i % 50 == 0 else "value = compute(1)\n")


@pytest.mark.parametrize("jobs, group", [("1", False), ("2", False), ("2", True)])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_a_scan(tmp_path, sig, jobs, group):
    """Ctrl-C (SIGINT) or SIGTERM while files are being scanned, in one
    process or with worker processes, sent to keyscan alone or to its whole
    process group (workers too, as a terminal or a CI runner does): exit
    130 or 143 with the one line 'keyscan: interrupted' / 'keyscan:
    terminated', no traceback, the report file of an earlier run
    untouched, no temporary file beside it, and no worker left running."""
    tree = tmp_path / "tree"
    big_tree(tree)
    (tmp_path / "report.json").write_text('{"old": true}')
    proc, mark, _ = start("read", "scan", "--jobs", jobs, "-f", "json", "-o", str(tmp_path / "report.json"), str(tree), cwd=tmp_path, tmp=tmp_path, group=group)
    code, out, err = stop(proc, sig, group=group)
    assert (code, err.strip()) == EXPECTED[sig], err
    assert json.loads((tmp_path / "report.json").read_text()) == {"old": True}
    no_leftovers(mark, tmp_path)


@pytest.mark.parametrize("where", ["blob", "blob-parallel"])
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_to_the_whole_process_group_during_a_history_scan(tmp_path, sig, where):
    """A terminal's Ctrl-C reaches every process of the foreground group:
    keyscan, its worker processes and their git children (rev-list,
    cat-file) alike. The history scan, in one process or with workers,
    ends with 130 (143 for SIGTERM), one line, no traceback and no git
    process or worker left behind."""
    repo = make_repo(tmp_path / "r")
    for i in range(40):
        repo.commit(f"c{i}", {f"f{i}.txt": f"v{i}\n" * 50, "k.py": f"K = '{KEY}'  # {i}\n"})
    proc, mark, _ = start(where, "history", "--jobs", "2", str(repo.path), cwd=tmp_path, tmp=tmp_path, group=True)
    code, out, err = stop(proc, sig, group=True)
    assert (code, err.strip()) == EXPECTED[sig], err
    assert out == ""
    no_leftovers(mark, tmp_path)


def _python_children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                ppid = int(fh.read().rsplit(b")", 1)[1].split()[1])
            exe = os.readlink(f"/proc/{entry}/exe")
        except OSError:
            continue
        if ppid == pid and "python" in os.path.basename(exe):
            kids.append(int(entry))
    return kids


@pytest.mark.parametrize("command", ["scan", "history"])
def test_a_worker_killed_outright_ends_the_scan_with_an_error(tmp_path, command):
    """A worker process killed with SIGKILL in the middle of a scan (what
    the kernel's out-of-memory killer does): its batch would never come
    back, and a pool waits for it forever. keyscan notices within a
    fraction of a second, stops the other workers and exits 2 with one
    line saying a worker was killed; nothing is left running."""
    if command == "scan":
        tree = tmp_path / "tree"
        big_tree(tree, 1500)
        args, where = ["scan", "--jobs", "2", str(tree)], "read"
    else:
        repo = make_repo(tmp_path / "r")
        for i in range(40):
            repo.commit(f"c{i}", {f"f{i}.txt": f"v{i}\n" * 50})
        args, where = ["history", "--jobs", "2", str(repo.path)], "blob-parallel"
    proc, mark, _ = start(where, *args, cwd=tmp_path, tmp=tmp_path)
    workers = _python_children(proc.pid)
    assert workers, "no worker process found"
    os.kill(workers[0], signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    err = err.decode()
    assert proc.returncode == 2, err
    assert err.strip() == "keyscan: error: a worker process was killed (by the system, perhaps for lack of memory); the scan did not finish"
    no_leftovers(mark, tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stuck_worker_does_not_hold_up_ctrl_c(tmp_path, sig):
    """Ctrl-C or SIGTERM while the workers are stuck in a call that does not
    return (nor heed SIGTERM), one of them holding the lock of the result
    queue: keyscan kills its workers and exits 130/143 at once.
    Pool.terminate() would wait for that lock for ever (it did, under load,
    when a worker was killed while sending its result)."""
    tree = tmp_path / "tree"
    big_tree(tree)
    proc, mark, _ = start("stuck", "scan", "--jobs", "2", str(tree), cwd=tmp_path, tmp=tmp_path)
    code, _, err = stop(proc, sig)
    assert (code, err.strip()) == EXPECTED[sig], err
    no_leftovers(mark, tmp_path)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("what", ["report", "baseline"])
def test_signal_while_a_report_or_baseline_is_written(tmp_path, sig, what):
    """The signal arrives while the new report or baseline sits in its
    temporary file, before the rename: the old file is left exactly as it
    was (or no file at all), the temporary file is removed, exit 130/143."""
    repo = make_repo(tmp_path / "r")
    repo.write("a.py", f"K = '{KEY}'\n")
    if what == "report":
        target = repo.path / "report.sarif"
        target.write_text("old report")
        args = ["scan", ".", "-f", "sarif", "-o", str(target)]
    else:
        target = repo.path / ".keyscan-baseline.json"
        args = ["baseline", "create", "."]
    proc, mark, _ = start("fsync", *args, cwd=repo.path, tmp=tmp_path)
    code, _, err = stop(proc, sig)
    assert (code, err.strip()) == EXPECTED[sig], err
    if what == "report":
        assert target.read_text() == "old report"
    else:
        assert not target.exists()
    no_leftovers(mark, repo.path)


def test_a_full_device_is_a_clear_error(workdir):
    """/dev/full fails every write with ENOSPC: as --output (written in
    place, never replaced), or as stdout, keyscan exits 2 with one line
    naming the problem; /dev/full is still the device."""
    (workdir / "a.py").write_text(f"K = '{KEY}'\n")
    res = run_keyscan("scan", ".", "-o", "/dev/full")
    assert res.code == 2 and res.err.strip() == "keyscan: error: /dev/full: cannot write (No space left on device)", res.err
    with open("/dev/full", "wb") as full:
        proc = subprocess.run([sys.executable, "-m", "keyscan", "scan", "."], stdout=full, stderr=subprocess.PIPE, cwd=workdir)
    assert proc.returncode == 2 and proc.stderr.decode().strip() == "keyscan: error: No space left on device"
    assert os.path.exists("/dev/full") and not os.path.isfile("/dev/full")


@pytest.fixture
def tiny_tmpfs(tmp_path):
    """A 64 KiB tmpfs (needs root and CAP_SYS_ADMIN; skipped otherwise)."""
    mnt = tmp_path / "tiny"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)], capture_output=True)
    if res.returncode != 0:
        pytest.skip("cannot mount a tmpfs here: the ENOSPC cases are covered by /dev/full and the injected failures")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_filesystem_leaves_the_old_report_and_no_temporary_file(workdir, tiny_tmpfs):
    """On a real filesystem that fills up (a 64 KiB tmpfs already holding an
    old report), a report too large for the space left fails with exit 2
    and 'No space left on device'; the old report is intact and the
    temporary file is gone."""
    for i in range(40):
        (workdir / f"k{i}.py").write_text(f"K = '{fake_immutable_secret(seed=950 + i)}'\n")
    target = tiny_tmpfs / "report.html"
    target.write_text("old report")
    (tiny_tmpfs / "filler").write_bytes(b"x" * 40_000)
    res = run_keyscan("scan", ".", "-f", "html", "-o", str(target))
    assert res.code == 2 and "No space left on device" in res.err and len(res.err.strip().splitlines()) == 1, res.err
    assert target.read_text() == "old report"
    assert sorted(os.listdir(tiny_tmpfs)) == ["filler", "report.html"]


FAIL_WRITES = r"""
import errno, os, sys
which = sys.argv[1]
def fail(*a, **kw):
    raise OSError(errno.ENOSPC, "No space left on device")
if which == "write":
    import builtins, io
    real_fdopen = os.fdopen
    class Full(io.RawIOBase):
        def __init__(self, fd): self.fd = fd
        def writable(self): return True
        def write(self, b): fail()
        def fileno(self): return self.fd
    os.fdopen = lambda fd, mode="r", *a, **kw: io.BufferedWriter(Full(fd)) if "w" in mode else real_fdopen(fd, mode, *a, **kw)
else:
    os.fsync = fail
from keyscan.cli import main
main(sys.argv[2:])
"""


@pytest.mark.parametrize("which", ["write", "fsync"])
@pytest.mark.parametrize("what", ["report", "baseline", "extra report"])
def test_a_failing_write_or_fsync_keeps_the_old_file(tmp_path, which, what):
    """ENOSPC from write() or from fsync() (where a full disk or quota often
    shows up first), injected: for the --output report, a --report file or
    the baseline, exit 2 with one line naming the file and the reason, the
    old file unchanged and no temporary file left."""
    repo = make_repo(tmp_path / "r")
    repo.write("a.py", f"K = '{KEY}'\n")
    if what == "baseline":
        target = repo.path / ".keyscan-baseline.json"
        target.write_text("{}")
        args = ["baseline", "create", "--force", "."]
    else:
        target = repo.path / "out.json"
        target.write_text("old")
        args = ["scan", ".", "-f", "json", "-o", "out.json"] if what == "report" else ["scan", ".", "--report", "json=out.json"]
    before = target.read_bytes()
    res = subprocess.run([sys.executable, "-c", FAIL_WRITES, which, *args], cwd=repo.path, capture_output=True)
    err = res.stderr.decode()
    assert res.returncode == 2, err
    assert err.strip().endswith("cannot write (No space left on device)") and len(err.strip().splitlines()) == 1, err
    assert target.read_bytes() == before
    assert [n for n in os.listdir(repo.path) if n.startswith(".keyscan-") and n.endswith(".tmp")] == []


@pytest.mark.parametrize(
    "output, reason",
    [
        ("missing-folder/report.json", "does not exist"),
        ("a.py/report.json", "Not a directory"),
        ("/proc/keyscan-report.json", ""),
        (".", "is a directory"),
    ],
)
def test_an_unwritable_output_path_is_a_clear_error(workdir, output, reason):
    """--output in a folder that does not exist, under a file, or on a
    read-only filesystem (/proc): exit 2, one line naming the path, nothing
    created. --output naming a folder is refused by the option itself:
    click's usage message, ending with the one line that says why."""
    (workdir / "a.py").write_text(f"K = '{KEY}'\n")
    before = sorted(os.listdir(workdir))
    res = run_keyscan("scan", ".", "-f", "json", "-o", output)
    assert res.code == 2, res.err
    lines = res.err.strip().splitlines()
    if output == ".":
        assert lines[0].startswith("Usage: ") and lines[-1].startswith("Error: Invalid value for '--output'"), lines
    else:
        assert len(lines) == 1 and lines[0].startswith(f"keyscan: error: {output}: cannot write"), lines
    assert reason in lines[-1], lines
    assert "Traceback" not in res.err
    assert sorted(os.listdir(workdir)) == before
