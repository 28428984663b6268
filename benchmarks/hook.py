"""Pre-commit hook cost: wall time of `keyscan staged` for a typical commit.

Builds two repositories under $KEYSCAN_BENCH_DIR (default /tmp/keyscan-bench)
with `git fast-import`, one small (50 files, 10 commits) and one large
(20,000 files, 3,000 commits), stages the same typical commit in each
(15 files changed, 5 added, about 40 lines each, one made-up secret key), and
runs the `keyscan` console script (as pre-commit does, interpreter start-up
included) several times. Prints the median and 90th percentile wall time per
repository, and what `import git` (GitPython) would add to each run.

    python benchmarks/hook.py [--runs 21]

The target is a median under 0.3 s, the same for both repositories.
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import string
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORK = Path(os.environ.get("KEYSCAN_BENCH_DIR", Path(tempfile.gettempdir()) / "keyscan-bench"))
GIT_ENV = {
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
}


def git(repo: Path, *args: str, input: bytes | None = None) -> bytes:
    env = dict(os.environ, **GIT_ENV)
    proc = subprocess.run(["git", *args], cwd=repo, env=env, input=input, capture_output=True)
    if proc.returncode:
        raise SystemExit(f"git {args[0]} failed in {repo}: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def source_text(rnd: random.Random, lines: int) -> str:
    words = ["value", "config", "request", "client", "token_count", "render", "items", "result", "index"]
    out = []
    for i in range(lines):
        out.append(f"    {rnd.choice(words)}_{i} = {rnd.choice(words)}({rnd.randint(0, 999)})  # {rnd.choice(words)}")
    return "def f():\n" + "\n".join(out) + "\n"


def build(name: str, files: int, commits: int) -> Path:
    """A repository made with one fast-import stream: ``files`` files in the
    first commit, then ``commits - 1`` commits that each change a few."""
    repo = WORK / name
    if (repo / ".git").is_dir():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    rnd = random.Random(files)
    paths = [f"src/pkg{i % 97}/mod{i}.py" for i in range(files)]
    chunks: list[bytes] = []
    mark = 0
    for c in range(commits):
        changed = paths if c == 0 else rnd.sample(paths, 3)
        body = [b"commit refs/heads/main\n", f"committer Bench <bench@example.org> {1700000000 + c * 60} +0000\n".encode()]
        msg = f"commit {c}".encode()
        body.append(b"data %d\n%s\n" % (len(msg), msg))
        if c:
            body.append(b"from :%d\n" % mark)
        for p in changed:
            data = source_text(rnd, 20 if c == 0 else rnd.randint(20, 60)).encode()
            body.append(f"M 100644 inline {p}\n".encode() + b"data %d\n" % len(data) + data + b"\n")
        mark = c + 1
        body.insert(1, b"mark :%d\n" % mark)
        chunks.append(b"".join(body))
    git(repo, "fast-import", "--quiet", input=b"".join(chunks))
    git(repo, "checkout", "-q", "-f", "main")
    return repo


def fake_secret(rnd: random.Random) -> str:
    body = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(20))
    tail = "".join(rnd.choice("0123456789abcdef") for _ in range(5)) + rnd.choice("123456789abcdef")
    return f"sk_imapik-{body}_{tail}"


def stage_typical_commit(repo: Path) -> None:
    """15 changed files, 5 new ones, about 40 lines each, one made-up key."""
    git(repo, "reset", "-q", "--hard")
    git(repo, "clean", "-q", "-fd")
    rnd = random.Random(7)
    tracked = git(repo, "ls-files").decode().split()
    for p in rnd.sample(tracked, 15):
        with open(repo / p, "a", encoding="utf-8") as fh:
            fh.write(source_text(rnd, 40))
    for i in range(5):
        new = repo / "src" / "new" / f"feature{i}.py"
        new.parent.mkdir(parents=True, exist_ok=True)
        text = source_text(rnd, 40)
        if i == 0:
            text += f"API_KEY = '{fake_secret(rnd)}'\n"
        new.write_text(text, encoding="utf-8")
    git(repo, "add", "-A")


def keyscan_command() -> list[str]:
    script = Path(sys.executable).with_name("keyscan")
    return [str(script)] if script.exists() else [sys.executable, "-m", "keyscan"]


def run_env(bytecode: bool) -> dict[str, str]:
    """The environment of a timed run. With ``bytecode``, compiled modules are
    cached (in WORK/pycache) as in an installed package, which is how
    pre-commit runs the hook; without, every module is compiled on each run
    (PYTHONDONTWRITEBYTECODE with no cache)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(WORK / ("pycache" if bytecode else "pycache-none"))
    if not bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def time_runs(cmd: list[str], cwd: Path, runs: int, bytecode: bool = True) -> list[float]:
    times = []
    env = run_env(bytecode)
    for _ in range(runs):
        t = time.perf_counter()
        proc = subprocess.run(cmd, cwd=cwd, capture_output=True, env=env)
        times.append(time.perf_counter() - t)
        if proc.returncode != 1:
            raise SystemExit(f"expected exit 1 (one finding), got {proc.returncode}: {proc.stderr.decode()[-300:]}")
    return times


def summary(times: list[float]) -> str:
    q = statistics.quantiles(times, n=10)
    return f"median {statistics.median(times):.3f} s, p90 {q[-1]:.3f} s, min {min(times):.3f} s"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=21)
    args = ap.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    cmd = [*keyscan_command(), "staged"]
    print(f"load average before: {os.getloadavg()[0]:.2f} (2 cores)")
    for name, files, commits in (("hook-small", 50, 10), ("hook-large", 20_000, 3_000)):
        t = time.perf_counter()
        repo = build(name, files, commits)
        built = time.perf_counter() - t
        stage_typical_commit(repo)
        time_runs(cmd, repo, 2)  # warm the page cache and the bytecode cache
        times = time_runs(cmd, repo, args.runs)
        uncached = time_runs(cmd, repo, max(5, args.runs // 3), bytecode=False)
        count = git(repo, "rev-list", "--count", "HEAD").decode().strip()
        print(f"{name}: {files} files, {count} commits (built in {built:.1f} s); keyscan staged x{args.runs}: {summary(times)}")
        print(f"    without cached bytecode (PYTHONDONTWRITEBYTECODE): median {statistics.median(uncached):.3f} s")
    base = time_runs_plain([sys.executable, "-c", "pass"], args.runs)
    print(f"python start-up: median {statistics.median(base):.3f} s")
    try:
        import importlib.util

        has_gitpython = importlib.util.find_spec("git") is not None
    except ValueError:
        has_gitpython = False
    if has_gitpython:  # why keyscan starts git itself (README "Dependencies")
        with_git = time_runs_plain([sys.executable, "-c", "import git"], args.runs)
        print(f"`import git` (GitPython) would add {statistics.median(with_git) - statistics.median(base):.3f} s to each run")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def time_runs_plain(cmd: list[str], runs: int) -> list[float]:
    times = []
    env = run_env(True)
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(cmd, capture_output=True, check=True, env=env)
        times.append(time.perf_counter() - t)
    return times


if __name__ == "__main__":
    main()
