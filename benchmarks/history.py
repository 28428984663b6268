"""History scans: unique blobs (what `keyscan history` does) against
streaming `git log -p` (scan only the lines each commit adds).

    python benchmarks/history.py REPO [--rev REV ...] [--jobs N] [--skip-log-p]

REPO is any git repository (a bare mirror is fine); --rev narrows both
approaches to what the revisions reach (default: --all). For each approach it
prints wall time, CPU time of keyscan and git, bytes scanned and peak memory
(max RSS of the process tree's largest member, from getrusage).

1. `keyscan history` as a user runs it (a subprocess, JSON report to a file),
   with --jobs 1 and --jobs N.
2. `git log -p -U0 --no-ext-diff --no-textconv` alone, to /dev/null: the
   floor of any diff-based scanner.
3. The same stream parsed in Python, the added lines of each file of each
   commit scanned as one fragment with the same engine (one process).

Measured on git's own repository (a mirror with every ref: 203,352
commits, 262,343 blobs), 2 cores shared with other work:

    --rev master (81,966 commits)
    keyscan history --jobs 1: 96.8 s wall, 84.2 s CPU, 161,216 blobs, 5,527 MB, peak RSS 439 MB
    keyscan history --jobs 2: 81.0 s wall
    git log -p -U0 alone:     61.6 s wall, 46.9 s CPU
    git log -p scanned:       82.8 s wall, 70.7 s CPU, 385 MB of added lines

    --rev v2.0.0 (36,430 commits): 29.4 s / 25.0 s against 13.4 s (git
    alone) and 31.1 s (log -p scanned)

    all refs: keyscan history 154.2 s (--jobs 1), 112.1 s (--jobs 2),
    8,075 MB, peak RSS 716 MB (git's own `log --all --topo-order`); git log
    -p dies at the mirror's first missing object.

Git computes diffs at less than half the speed it streams blobs; the rest
is the engine's per-byte cost, which decides the end-to-end result (see
keyscan/history.py for the choice).
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time


def run(cmd: list[str], **kw) -> tuple[float, float, int, subprocess.CompletedProcess]:
    """(wall s, children CPU s, children max RSS KB, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, **kw)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return wall, cpu, after.ru_maxrss, proc


def keyscan_history(repo: str, revs: list[str], jobs: int) -> None:
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    branches = [a for r in revs for a in ("--branch", r)]
    cmd = [sys.executable, "-m", "keyscan", "history", repo, *branches, "--jobs", str(jobs), "-f", "json", "-o", out, "--no-progress"]
    wall, cpu, rss, proc = run(cmd, capture_output=True, text=True)
    if proc.returncode not in (0, 1, 2):
        raise SystemExit(proc.stderr)
    with open(out) as fh:
        report = json.load(fh)
    os.unlink(out)
    stats = report["stats"]
    print(
        f"keyscan history --jobs {jobs}: {wall:.1f} s wall, {cpu:.1f} s CPU (all processes), "
        f"{stats['blobs']:,} blobs, {stats['bytes_scanned'] / 1e6:,.0f} MB scanned, "
        f"{wall and stats['bytes_scanned'] / 1e6 / wall:,.1f} MB/s, peak RSS {rss / 1024:,.0f} MB, "
        f"{len(report['findings'])} findings, {len(report['errors'])} errors (exit {proc.returncode})"
    )


LOG_P = ["log", "-p", "-U0", "--no-ext-diff", "--no-textconv", "--no-color", "--no-renames", "--format=%x01%H", "--diff-merges=first-parent"]


def git_log_p_alone(repo: str, revs: list[str]) -> None:
    with open(os.devnull, "wb") as devnull:
        wall, cpu, rss, proc = run(["git", "-C", repo, *LOG_P, *revs], stdout=devnull, stderr=subprocess.DEVNULL)
    print(f"git log -p -U0 alone: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {rss / 1024:,.0f} MB (exit {proc.returncode})")


def log_p_scan(repo: str, revs: list[str]) -> None:
    """A minimal diff-based scanner: added lines per file per commit."""
    from keyscan.engine import Engine
    from keyscan.models import Fragment
    from keyscan.rulefile import load_ruleset
    from keyscan.scan import scan_fragment

    engine = Engine(load_ruleset())
    t = time.perf_counter()
    c0 = os.times()
    proc = subprocess.Popen(["git", "-C", repo, *LOG_P, *revs], stdout=subprocess.PIPE, bufsize=1 << 20)
    scanned = findings = fragments = 0
    path = b""
    added: list[bytes] = []

    def flush() -> None:
        nonlocal scanned, findings, fragments
        if added:
            data = b"".join(added)
            scanned += len(data)
            fragments += 1
            found, _, _ = scan_fragment(engine, Fragment(data, path.decode("utf-8", "replace"), "history"))
            findings += len(found)
            added.clear()

    for line in proc.stdout:
        if line.startswith(b"+") and not line.startswith(b"+++ "):
            added.append(line[1:])
        elif line.startswith(b"+++ "):
            flush()
            path = line[6:].rstrip(b"\n")
        elif line.startswith((b"diff --git", b"\x01")):
            flush()
    flush()
    code = proc.wait()
    wall = time.perf_counter() - t
    c1 = os.times()
    cpu = c1.user - c0.user + c1.system - c0.system + c1.children_user - c0.children_user + c1.children_system - c0.children_system
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"git log -p streamed and scanned: {wall:.1f} s wall, {cpu:.1f} s CPU, {fragments:,} fragments, "
        f"{scanned / 1e6:,.0f} MB of added lines scanned, peak RSS {rss / 1024:,.0f} MB, {findings} raw findings (git exit {code})"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("repo")
    ap.add_argument("--rev", action="append", default=[], help="Revisions to scan (default: --all).")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-log-p", action="store_true")
    args = ap.parse_args()
    revs = args.rev or ["--all"]
    commits = subprocess.run(["git", "-C", args.repo, "rev-list", "--count", *revs], capture_output=True, text=True).stdout.strip()
    print(f"{args.repo}: {commits} commits in {' '.join(revs)}; load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    keyscan_history(args.repo, args.rev, 1)
    if args.jobs > 1:
        keyscan_history(args.repo, args.rev, args.jobs)
    if not args.skip_log_p:
        git_log_p_alone(args.repo, revs)
        log_p_scan(args.repo, revs)


if __name__ == "__main__":
    main()
