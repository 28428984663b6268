"""Memory of a command's process tree over time, process by process.

    python benchmarks/memtrace.py [--every 0.5] -- keyscan history REPO -f json -o OUT

Every ``--every`` seconds it reads ``/proc/<pid>/smaps_rollup`` of the
command and of each of its descendants and prints one line: seconds since
the start, the tree's proportional set size (PSS: a page shared by several
processes counted once, split among them) and, per process, its kind (``py``
for Python, ``git:<subcommand>``, else the program's name) with its PSS and
private (unshared) memory in MB. The last line is the peak. Linux only.

It shows which phase of a scan holds the memory (listing, scanning,
provenance) and whether a level stays flat as the scan goes on, which the
single peak of ``run.py`` cannot.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from typing import NamedTuple

GIT_VERBS = (b"cat-file", b"log", b"rev-list", b"diff-tree", b"ls-tree")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


class Proc(NamedTuple):
    pid: int
    kind: str  # "py", "git:<subcommand>", else the program's name
    rss_kb: int
    pss_kb: int  # 0 when smaps_rollup could not be read
    private_kb: int


def tree(root: int) -> list[Proc]:
    """``root`` and its descendants now, from /proc: every process's stat
    is read to find the tree, only the tree's own memory maps (a process
    that ends meanwhile is left out, or counts 0)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                raw = fh.read()
        except OSError:
            continue
        fields = raw[raw.rfind(b")") + 2:].split()
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * PAGE_KB
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        if pid in rss:
            pss, private = _smaps(pid)
            out.append(Proc(pid, _kind(pid), rss[pid], pss, private))
        stack.extend(children.get(pid, ()))
    return out


def _smaps(pid: int) -> tuple[int, int]:
    fields = {}
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                name, _, rest = line.partition(b":")
                if name in (b"Pss", b"Private_Clean", b"Private_Dirty"):
                    fields[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        pass
    return fields.get(b"Pss", 0), fields.get(b"Private_Clean", 0) + fields.get(b"Private_Dirty", 0)


def _kind(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except OSError:
        return "?"
    program = os.path.basename(argv[0]) if argv[0] else b"?"
    if program == b"git":
        return "git:" + next((a for a in argv if a in GIT_VERBS), b"?").decode()
    if program.startswith(b"python"):
        return "py"
    return program.decode("utf-8", "replace")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=float, default=0.5, help="seconds between samples (default 0.5)")
    ap.add_argument("command", nargs=argparse.REMAINDER, help="the command to run, after --")
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("no command given")
    if not os.path.exists("/proc/self/smaps_rollup"):
        print("memtrace: needs Linux's /proc/<pid>/smaps_rollup", file=sys.stderr)
        return 2
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    except OSError as exc:
        print(f"memtrace: cannot run {command[0]}: {exc.strerror}", file=sys.stderr)
        return 2
    peak = 0
    try:
        while proc.poll() is None:
            rows = sorted(tree(proc.pid), key=lambda p: (p.kind, -p.pss_kb))
            total = sum(p.pss_kb for p in rows) // 1024
            peak = max(peak, total)
            print(f"{time.monotonic() - start:6.1f} s {total:5d} MB  " + "  ".join(f"{p.kind} {p.pss_kb // 1024}/{p.private_kb // 1024}" for p in rows), flush=True)
            time.sleep(args.every)
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        return 130
    print(f"peak {peak} MB PSS; exit {proc.returncode}; {time.monotonic() - start:.1f} s")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
