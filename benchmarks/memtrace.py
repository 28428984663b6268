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

GIT_VERBS = (b"cat-file", b"log", b"rev-list", b"diff-tree", b"ls-tree")


def _process(pid: int) -> tuple[int, str, int, int] | None:
    """(parent pid, kind, PSS MB, private MB), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            parent = int(fh.read().rsplit(b")", 1)[1].split()[1])
        fields = {}
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                name, _, rest = line.partition(b":")
                if name in (b"Pss", b"Private_Clean", b"Private_Dirty"):
                    fields[name] = int(rest.split()[0])
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            argv = fh.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    program = os.path.basename(argv[0]) if argv and argv[0] else b"?"
    if program == b"git":
        verb = next((a for a in argv if a in GIT_VERBS), b"?")
        kind = "git:" + verb.decode()
    elif program.startswith(b"python"):
        kind = "py"
    else:
        kind = program.decode("utf-8", "replace")
    private = fields.get(b"Private_Clean", 0) + fields.get(b"Private_Dirty", 0)
    return parent, kind, fields.get(b"Pss", 0) // 1024, private // 1024


def _tree(root: int) -> list[tuple[str, int, int]]:
    procs = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            found = _process(int(entry))
            if found is not None:
                procs[int(entry)] = found
    members, added = {root}, True
    while added:
        added = False
        for pid, (parent, *_rest) in procs.items():
            if parent in members and pid not in members:
                members.add(pid)
                added = True
    return sorted(((procs[p][1], procs[p][2], procs[p][3]) for p in members if p in procs), key=lambda r: (r[0], -r[1]))


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
            rows = _tree(proc.pid)
            total = sum(pss for _, pss, _ in rows)
            peak = max(peak, total)
            print(f"{time.monotonic() - start:6.1f} s {total:5d} MB  " + "  ".join(f"{kind} {pss}/{own}" for kind, pss, own in rows), flush=True)
            time.sleep(args.every)
    except KeyboardInterrupt:
        proc.terminate()
        proc.wait()
        return 130
    print(f"peak {peak} MB PSS; exit {proc.returncode}; {time.monotonic() - start:.1f} s")
    return proc.returncode


if __name__ == "__main__":
    sys.exit(main())
