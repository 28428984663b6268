"""Working-tree scan throughput on a real source tree.

Copies this interpreter's standard library (without __pycache__ and
site-packages) to $KEYSCAN_BENCH_DIR (default /tmp/keyscan-bench) once, then runs `keyscan scan` on it
several times with all rules and with only the Immutable rules, and prints
the median wall time, CPU time, peak memory and MB/s.

    python benchmarks/throughput.py [--runs 5] [--tree PATH]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import tempfile

# Outside the checkout: keyscan's own [tool.keyscan] excludes benchmarks/.
WORK = Path(os.environ.get("KEYSCAN_BENCH_DIR", Path(tempfile.gettempdir()) / "keyscan-bench"))


def prepare_stdlib() -> Path:
    dest = WORK / "stdlib"
    if dest.is_dir():
        return dest
    src = Path(sysconfig.get_paths()["stdlib"])
    ignore = shutil.ignore_patterns("__pycache__", "site-packages", "*.pyc")
    tmp = WORK / "stdlib.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, ignore=ignore, symlinks=True)
    tmp.rename(dest)
    return dest


def tree_size(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def run_once(cmd: list[str]) -> tuple[float, float, int, dict]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise SystemExit(f"keyscan failed ({proc.returncode}): {proc.stderr.strip()}")
    return wall, cpu, after.ru_maxrss, json.loads(proc.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--tree", type=Path, help="scan this tree instead of the standard library copy")
    ap.add_argument("--extra", nargs="*", default=[], help="extra keyscan arguments, e.g. --jobs 1")
    args = ap.parse_args()
    tree = args.tree or prepare_stdlib()
    size = tree_size(tree)
    print(f"tree: {tree} ({size / 1e6:.1f} MB on disk); python {sys.version.split()[0]}; {os.cpu_count()} cores")
    variants = {"all rules": [], "--only immutable": ["--only", "immutable"]}
    results: dict[str, list] = {k: [] for k in variants}
    for _ in range(args.runs):
        for name, extra in variants.items():  # alternate the variants run by run
            cmd = [sys.executable, "-m", "keyscan", "scan", str(tree), "--format", "json", "--no-gitignore", *extra, *args.extra]
            results[name].append(run_once(cmd))
    print(f"{'variant':<20} {'wall s':>8} {'cpu s':>8} {'MB/s':>8} {'findings':>9} {'scanned MB':>11}")
    for name, runs in results.items():
        wall = statistics.median(r[0] for r in runs)
        cpu = statistics.median(r[1] for r in runs)
        report = runs[-1][3]
        scanned = report["stats"]["bytes_scanned"] / 1e6
        print(f"{name:<20} {wall:>8.2f} {cpu:>8.2f} {scanned / wall:>8.1f} {len(report['findings']):>9} {scanned:>11.1f}")
    print(f"peak RSS of the largest child: {max(r[2] for rs in results.values() for r in rs) / 1024:.0f} MB")


if __name__ == "__main__":
    main()
