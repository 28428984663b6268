"""The one wrapper around git. Every git process keyscan starts is started
here, with a hardened environment and command line, so that nothing from a
scanned repository can run.

Why not through GitPython: measured on this project's 2-core machine,
``import git`` takes 50-90 ms and runs ``git version`` twice at import time.
That is a fifth to a quarter of the pre-commit hook's whole 0.3 s budget, for
no gain: all keyscan needs is to start git with a fixed argv and environment
and stream its output. GitPython's ``Git.execute`` also always copies
``os.environ`` (so variables such as ``GIT_EXTERNAL_DIFF`` or
``GIT_SSH_COMMAND`` could only be overwritten, not removed) and always pipes
stderr, which a long streaming process can fill and deadlock on. So this
module starts git with :mod:`subprocess` directly; its shape follows
GitPython's command object (one object per repository, ``run`` for short
commands, long-lived ``cat-file --batch`` processes for content).

Hardening (see ``HARDENED_CONFIG`` and ``hardened_env``):

* ``-c`` overrides win over the repository's own config: no fsmonitor hook,
  ``core.hooksPath=/dev/null``, no pager, no external diff, no askpass, no
  credential helper, no ssh command, no signature verification, no transport
  at all (``protocol.allow=never`` plus every protocol by name, since a
  repository's ``protocol.<name>.allow`` would beat the general switch), and
  ``safe.directory=*`` so a checkout owned by someone else can be read (safe
  precisely because nothing in its config can run).
* ``--no-ext-diff --no-textconv`` on every diff and log; no command here
  applies filters (blobs are read with plain ``cat-file --batch``; nothing
  compares against the working tree).
* The environment: ``GIT_CONFIG_NOSYSTEM=1``, ``GIT_TERMINAL_PROMPT=0``,
  ``GIT_ALLOW_PROTOCOL`` set to a name no protocol has (it beats all config),
  ``GIT_NO_LAZY_FETCH=1`` (a partial clone never fetches), no optional locks
  (never rewrite someone else's index), literal pathspecs, and the variables
  that name programs (``GIT_EXTERNAL_DIFF``, ``GIT_SSH*``, ``*ASKPASS``,
  ``GIT_PROXY_COMMAND``, ``GIT_EDITOR``, pagers) removed or set to ``cat``.
* The caller's git context (``GIT_DIR``, ``GIT_INDEX_FILE``, ...) is kept only
  when no repository was named, which is how a git hook calls keyscan (a
  pre-commit hook's ``GIT_INDEX_FILE`` is the index being committed).

No secret is ever put on a git command line (it would show in the process
list): commits are found by blob id (``--find-object``), never by ``-S``.
"""
from __future__ import annotations

import io
import os
import subprocess
import tempfile
import threading
from array import array
from dataclasses import dataclass
from typing import IO, Iterable, Iterator, NamedTuple, Sequence

from .errors import KeyscanError

GIT_EXE = "git"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
NULL_SHA = "0" * 40

# Config given on the command line wins over every config file.
HARDENED_CONFIG: tuple[str, ...] = (
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.askPass=",
    "core.sshCommand=false",
    "credential.helper=",
    "diff.external=",
    "protocol.allow=never",
    *(f"protocol.{name}.allow=never" for name in ("file", "git", "ssh", "http", "https", "ftp", "ftps", "ext", "fd")),
    "log.showSignature=false",
    "color.ui=false",
    "gc.auto=0",
    "maintenance.auto=false",
    "core.quotePath=true",
    "i18n.logOutputEncoding=UTF-8",
    "safe.directory=*",
    # Pack files are mapped in windows; git's defaults (1 GiB windows, 8 GiB
    # in all) let each of a history scan's git processes map the whole pack
    # of a large repository, counted in every process's resident memory.
    # 32 MiB windows, 128 MiB per process: same CPU on git's repository
    # (314 MB pack), cat-file 286 -> 186 MB, rev-list 308 -> 194 MB.
    "core.packedGitWindowSize=32m",
    "core.packedGitLimit=128m",
)

# Smaller caches for the git processes of a history scan that read the
# whole history: a 16 MiB delta-base cache (git's default is 96 MiB) and
# 4 MiB pack windows, at most 16 MiB mapped. Each of them otherwise grows to
# its caches' limits, which a long history reaches, and three or four run at
# once. On git's repository (314 MB pack), against the settings above:
# ``rev-list --objects`` 193 -> 70 MB, each ``git log`` of the split
# provenance walk 157-165 -> 63 MB, a cat-file reading every blob 108 ->
# 66 MB (272 MB with git's own defaults), at the same CPU (rev-list spends
# 0.2 s more in the system, mapping windows). A cat-file must read in pack
# order (``in_pack_order``) for this: in listing order the small cache costs
# 8.5 -> 14.4 s of CPU there, so the sequential path's cat-file keeps git's
# cache.
LEAN_CONFIG = (
    "core.deltaBaseCacheLimit=16m",
    "core.packedGitLimit=16m",
    "core.packedGitWindowSize=4m",
)

# Program-naming variables: removed, whoever set them.
_DROPPED_ENV = (
    "GIT_EXTERNAL_DIFF",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_SSH_VARIANT",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "GIT_PROXY_COMMAND",
    "GIT_EDITOR",
    "GIT_SEQUENCE_EDITOR",
    "GIT_CONFIG_SYSTEM",
    "GIT_TRACE2_EVENT",
)
# Which repository, index and object store git works on: the caller's, or
# none when keyscan is told which repository to read.
_CONTEXT_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_QUARANTINE_PATH",
)
_FIXED_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_TERMINAL_PROMPT": "0",
    "GIT_PAGER": "cat",
    "PAGER": "cat",
    "GIT_ALLOW_PROTOCOL": "keyscan-none",
    "GIT_NO_LAZY_FETCH": "1",
    "GIT_OPTIONAL_LOCKS": "0",
    "GIT_LITERAL_PATHSPECS": "1",
    "GIT_NO_REPLACE_OBJECTS": "1",
    "LC_ALL": "C",
    "LANGUAGE": "C",
}


def hardened_env(inherit_context: bool, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    for name in _DROPPED_ENV:
        env.pop(name, None)
    if not inherit_context:
        for name in _CONTEXT_ENV:
            env.pop(name, None)
    env.update(_FIXED_ENV)
    return env


def config_args() -> list[str]:
    out: list[str] = []
    for item in HARDENED_CONFIG:
        out += ["-c", item]
    return out


_CONTROL = {c: f"\\x{c:02x}" for c in range(0x20) if c != 0x09}
_CONTROL[0x7F] = "\\x7f"


def clean(text: str) -> str:
    """Untrusted text (paths, git's messages) made safe for one line."""
    return text.translate(_CONTROL)


def display(path: bytes) -> str:
    """A raw git path as text: UTF-8, other bytes shown as ``\\xNN``."""
    return path.decode("utf-8", "backslashreplace")


class GitError(KeyscanError):
    """git failed in a way that stops the command."""


def _message(stderr: bytes) -> str:
    lines = [ln.strip() for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    fatal = [ln for ln in lines if ln.startswith(("fatal:", "error:"))]
    text = (fatal or lines or ["(no message)"])[0]
    for prefix in ("fatal: ", "error: "):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return clean(text)


class Git:
    """Runs git in one repository with the hardened argv and environment."""

    def __init__(self, cwd: str, *, inherit_context: bool = False) -> None:
        self.cwd = cwd
        self.env = hardened_env(inherit_context)
        self._prefix = [GIT_EXE, "--no-pager", *config_args()]

    def argv(self, args: Sequence[str | bytes], config: Sequence[str] = ()) -> list[str | bytes]:
        """The command line of ``git args``; ``config``: ``-c`` settings
        after the hardened ones (so they win)."""
        return [*self._prefix, *(a for c in config for a in ("-c", c)), *args]

    def run(self, *args: str | bytes, input: bytes | None = None, ok: tuple[int, ...] = (0,), config: Sequence[str] = ()) -> bytes:
        code, out, err = self.status(*args, input=input, config=config)
        if code not in ok:
            raise GitError(f"git {_name(args)} failed in {clean(self.cwd)}: {_message(err)}")
        return out

    def status(self, *args: str | bytes, input: bytes | None = None, config: Sequence[str] = ()) -> tuple[int, bytes, bytes]:
        """``git args``, its exit code and whole output; ``config``: more
        ``-c`` settings."""
        try:
            proc = subprocess.run(self.argv(args, config), cwd=self.cwd, env=self.env, input=input, capture_output=True, check=False)
        except FileNotFoundError:
            raise _no_git() from None
        except OSError as exc:
            raise GitError(f"cannot run git in {clean(self.cwd)}: {exc.strerror}") from None
        return proc.returncode, proc.stdout, proc.stderr

    def to_file(self, *args: str | bytes, config: Sequence[str] = ()) -> IO[bytes]:
        """``git args``' output in an unnamed temporary file, rewound."""
        out = _temporary_file()
        try:
            with tempfile.TemporaryFile() as err:
                try:
                    code = subprocess.run(self.argv(args, config), cwd=self.cwd, env=self.env, stdin=subprocess.DEVNULL, stdout=out, stderr=err, check=False).returncode
                except FileNotFoundError:
                    raise _no_git() from None
                except OSError as exc:
                    raise GitError(f"cannot run git in {clean(self.cwd)}: {exc.strerror}") from None
                if code != 0:
                    err.seek(0)
                    raise GitError(f"git {_name(args)} failed in {clean(self.cwd)}: {_message(err.read(64 * 1024))}")
        except BaseException:
            out.close()
            raise
        out.seek(0)
        return out

    def popen(self, *args: str | bytes, stdin: bool = False, config: Sequence[str] = ()) -> "Process":
        """``git args`` streaming its output; ``config``: more ``-c`` settings."""
        err = tempfile.TemporaryFile()
        try:
            proc = subprocess.Popen(
                self.argv(args, config),
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=err,
                bufsize=1 << 20,
            )
        except FileNotFoundError:
            err.close()
            raise _no_git() from None
        except OSError as exc:
            err.close()
            raise GitError(f"cannot run git in {clean(self.cwd)}: {exc.strerror}") from None
        return Process(proc, err, _name(args))


def _name(args: Sequence[str | bytes]) -> str:
    for a in args:
        if isinstance(a, str) and not a.startswith("-"):
            return a
    return "command"


def _no_git() -> KeyscanError:
    return KeyscanError("git is not installed or not on PATH (keyscan needs git for history and staged scans)")


class Process:
    """A streaming git process; stderr goes to a temporary file so that a
    chatty git can never block on a full pipe."""

    def __init__(self, proc: subprocess.Popen, err: IO[bytes], name: str) -> None:
        self.proc = proc
        self.stdout: IO[bytes] = proc.stdout  # type: ignore[assignment]
        self.stdin: IO[bytes] | None = proc.stdin
        self._err = err
        self.name = name

    def stderr_text(self) -> str:
        try:
            self._err.seek(0)
            return _message(self._err.read(64 * 1024))
        except (OSError, ValueError):
            return "(no message)"

    def finish(self) -> tuple[int, str]:
        """Wait for the process; (exit code, first error line)."""
        for fh in (self.stdin, self.stdout):
            if fh is not None:
                try:
                    fh.close()
                except OSError:
                    pass
        code = self.proc.wait()
        msg = self.stderr_text() if code else ""
        self._err.close()
        return code, msg

    def check(self, what: str) -> None:
        code, msg = self.finish()
        if code != 0:
            raise GitError(f"git {self.name} failed ({what}): {msg}")

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.kill()
            except OSError:
                pass
        try:
            self.finish()
        except OSError:
            pass


# --- the repository --------------------------------------------------------


@dataclass(frozen=True)
class RepoInfo:
    git: Git
    git_dir: str
    toplevel: str | None  # None for a bare repository
    shallow: bool


def open_repo(path: str | None, *, need_worktree: bool = False) -> RepoInfo:
    """The repository at or above ``path`` (the current folder when None).

    Without ``path`` the caller's git context (``GIT_DIR``, ``GIT_INDEX_FILE``)
    is honoured, as a git hook needs; with it, only ``path`` counts.
    """
    where = path or "."
    if not os.path.exists(where):
        raise KeyscanError(f"{clean(where)}: no such folder")
    if not os.path.isdir(where):
        raise KeyscanError(f"{clean(where)}: not a folder (give the repository's folder)")
    git = Git(os.path.abspath(where), inherit_context=path is None)
    code, out, err = git.status("rev-parse", "--absolute-git-dir", "--is-bare-repository", "--is-shallow-repository", "--show-object-format", "--show-toplevel")
    lines = out.decode("utf-8", "surrogateescape").splitlines()
    if len(lines) >= 4 and lines[3] not in ("sha1", "--show-object-format"):
        # Object ids of another length would be misread everywhere (a
        # history scan found nothing and looked clean): refuse instead.
        raise KeyscanError(f"{clean(where)}: a {clean(lines[3])} repository: keyscan reads SHA-1 repositories only")
    if code != 0 and len(lines) >= 3 and lines[1] == "true":
        if need_worktree:
            raise KeyscanError(f"{clean(where)}: a bare repository has no index: nothing is staged")
        return RepoInfo(git, lines[0], None, lines[2] == "true")
    if code != 0 or len(lines) < 5:
        msg = _message(err)
        if "not a git repository" in msg:
            raise KeyscanError(f"{clean(where)}: not a git repository")
        raise GitError(f"{clean(where)}: git cannot open this repository: {msg}")
    if lines[1] == "true" and need_worktree:
        raise KeyscanError(f"{clean(where)}: a bare repository has no index: nothing is staged")
    return RepoInfo(git, lines[0], None if lines[1] == "true" else lines[4], lines[2] == "true")


def head_commit(git: Git) -> str | None:
    """HEAD's commit id, or None on an unborn branch."""
    code, out, _ = git.status("rev-parse", "-q", "--verify", "HEAD^{commit}")
    return out.decode().strip() if code == 0 and out.strip() else None


def resolve_commit(git: Git, rev: str, what: str) -> str:
    """``rev`` as a commit id, or a clear error naming the option."""
    if rev.startswith("-"):
        raise KeyscanError(f"{what}: '{clean(rev)}' is not a revision")
    code, out, _ = git.status("rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}")
    if code != 0 or not out.strip():
        raise KeyscanError(f"{what}: unknown revision '{clean(rev)}' (not in this repository; in a shallow clone, fetch more history)")
    return out.decode().strip()


def refs(git: Git) -> list[tuple[str, str]]:
    """Every ref as (name, commit it points at, tags peeled)."""
    out = git.run("for-each-ref", "--format=%(refname)%00%(objectname)%00%(*objectname)")
    rows = []
    for line in out.split(b"\n"):
        if not line:
            continue
        name, obj, peeled = line.split(b"\0")
        rows.append((display(name), (peeled or obj).decode()))
    return rows


_GRAPH_ARGS = ("rev-list", "--parents", "--topo-order", "--reverse")


def commit_graph(git: Git, revs: Sequence[str]) -> "CommitGraph":
    """The commits ``revs`` reach, parents before children (the order of
    ``git log --topo-order --reverse``), one line each: the commit's id and
    its parents'. Read once, it serves both ``refs_containing`` and the split
    ``log_changes``."""
    return CommitGraph(git.to_file(*_GRAPH_ARGS, *revs, "--", config=LEAN_CONFIG))


class CommitGraph:
    """``commit_graph``'s lines (iterate it, as often as needed, one
    iteration at a time), kept as git wrote them in an unnamed temporary
    file: a history scan's parent holds the graph from the listing to the
    end, and in memory it grew with the history (7.9 MB on git's 85,361
    commits, 6.6 MB on the 80,000 of ``benchmarks/``'s synthetic one)."""

    def __init__(self, raw: bytes | IO[bytes]) -> None:
        self._fh: IO[bytes] = io.BytesIO(raw) if isinstance(raw, (bytes, bytearray)) else raw

    def __iter__(self) -> Iterator[bytes]:
        fh = self._fh
        fh.seek(0)
        for line in fh:
            yield line[:-1] if line.endswith(b"\n") else line


def refs_containing(git: Git, commits: Iterable[str], graph: Iterable[bytes] | None = None) -> dict[str, list[str]]:
    """For each of ``commits``: the refs whose history holds it (branches,
    tags, remote-tracking refs), sorted.

    One walk of the whole commit graph (``rev-list --parents``, parents
    first), carrying a bit per wanted commit from parents to children; a
    ref holds the commits whose bits reach its tip. ``for-each-ref
    --contains`` would walk the history once per commit, which on a
    repository with thousands of refs takes tens of seconds each.
    ``graph``: that walk's lines (``commit_graph(git, ["--all"])``) if
    they were read already.
    """
    wanted = {c: i for i, c in enumerate(dict.fromkeys(commits))}
    out: dict[str, list[str]] = {c: [] for c in wanted}
    tips = refs(git)
    if not wanted or not tips:
        return out
    reach: dict[bytes, int] = {}
    bit_of = {c.encode(): 1 << i for c, i in wanted.items()}
    proc = None if graph is not None else git.popen(*_GRAPH_ARGS, "--all", "--", config=LEAN_CONFIG)
    try:
        for line in proc.stdout if proc is not None else graph:
            ids = line.split()
            if not ids:
                continue
            bits = bit_of.get(ids[0], 0)
            for parent in ids[1:]:
                bits |= reach.get(parent, 0)
            reach[ids[0]] = bits
    finally:
        if proc is not None:
            proc.finish()
    by_bit = {i: c for c, i in wanted.items()}
    for name, tip in tips:
        bits = reach.get(tip.encode(), 0)
        while bits:
            low = bits & -bits
            out[by_bit[low.bit_length() - 1]].append(name)
            bits ^= low
    for names in out.values():
        names.sort()
    return out


# --- listing blobs -----------------------------------------------------------


class BlobList:
    """An append-only, compact list of (blob id, path) that one thread fills
    while others read: 20 bytes per blob plus an index into distinct paths,
    so a history of millions of blobs fits in tens of MB.

    ``add`` appends a blob only if its id is not listed yet, through an
    index by id kept beside the list (``find``): open addressing over
    positions in the list, 4-8 bytes a blob, where a dict or set of ids
    costs about 100 bytes each."""

    def __init__(self) -> None:
        self._ids = bytearray()
        self._path_of = array("I")
        self._paths: list[bytes] = []
        self._path_index: dict[bytes, int] = {}
        self._slots: array | None = None  # the index by id: positions, -1 for an empty slot
        self._cond = threading.Condition()
        self.done = False
        self.error: str | None = None
        self.missing: list[str] = []  # objects git listed as missing

    def __len__(self) -> int:
        return len(self._path_of)

    def append(self, sha_hex: bytes, path: bytes) -> None:
        self._append(bytes.fromhex(sha_hex.decode("ascii")), path)

    def add(self, sha_hex: bytes, path: bytes) -> bool:
        """Append unless the blob is listed already; whether it was."""
        raw = bytes.fromhex(sha_hex.decode("ascii"))
        slot, listed = self._probe(raw)
        if listed >= 0:
            return False
        self._slots[slot] = len(self._path_of)  # type: ignore[index]
        self._append(raw, path)
        if 2 * len(self._path_of) > len(self._slots):  # type: ignore[arg-type]
            self._reindex(2 * len(self._slots))  # type: ignore[arg-type]
        return True

    def find(self, raw: bytes) -> int:
        """The position of the blob whose binary id is ``raw``, or -1."""
        return self._probe(raw)[1]

    def _probe(self, raw: bytes) -> tuple[int, int]:
        """(slot, position) of ``raw`` in the index by id: its slot and
        position if listed, else the empty slot it would take and -1."""
        if self._slots is None:
            self._reindex(_INDEX_MIN)
        slots, ids = self._slots, self._ids
        mask = len(slots) - 1  # type: ignore[arg-type]
        h = int.from_bytes(raw[:4], "little") & mask
        while True:
            i = slots[h]  # type: ignore[index]
            if i < 0 or ids[20 * i:20 * i + 20] == raw:
                return h, i
            h = (h + 1) & mask

    def spill(self, order: Sequence[int], size: int) -> Iterator[list[tuple[str, bytes]]]:
        """The blobs at positions ``order`` (of a finished list), ``size`` at
        a time, read back from an unnamed temporary file: their ids and
        paths' numbers are written there (24 bytes a blob) and the list
        drops them (it is empty after); only its distinct paths stay in
        memory. A history scan's parent otherwise held 24 bytes a blob of
        the history from the listing to the last batch."""
        fh = _temporary_file()
        try:
            ids, path_of, buf = self._ids, self._path_of, bytearray()
            for i in order:
                buf += ids[20 * i:20 * i + 20]
                buf += path_of[i].to_bytes(4, "little")
                if len(buf) >= 1 << 20:
                    fh.write(buf)
                    buf.clear()
            fh.write(buf)
            fh.flush()
            fh.seek(0)
        except OSError as exc:
            fh.close()
            raise _temporary_error(exc) from None
        except BaseException:
            fh.close()
            raise
        self._ids, self._path_of, self._slots = bytearray(), array("I"), None
        return self._read_spilled(fh, size)

    def _read_spilled(self, fh: IO[bytes], size: int) -> Iterator[list[tuple[str, bytes]]]:
        paths = self._paths
        with fh:
            while True:
                raw = fh.read(24 * size)
                if not raw:
                    return
                yield [(raw[k:k + 20].hex(), paths[int.from_bytes(raw[k + 20:k + 24], "little")]) for k in range(0, len(raw) - 23, 24)]

    def _reindex(self, size: int) -> None:
        while size < 2 * len(self._path_of):
            size *= 2
        slots = array("i", [-1]) * size
        ids, mask = self._ids, size - 1
        for i in range(len(self._path_of)):
            h = int.from_bytes(ids[20 * i:20 * i + 4], "little") & mask
            while slots[h] >= 0:
                h = (h + 1) & mask
            slots[h] = i
        self._slots = slots

    def _append(self, raw: bytes, path: bytes) -> None:
        pid = self._path_index.get(path)
        if pid is None:
            pid = self._path_index[path] = len(self._paths)
            self._paths.append(path)
        with self._cond:
            self._ids += raw
            self._path_of.append(pid)
            if len(self._path_of) % 256 == 0:
                self._cond.notify_all()

    def finish(self, error: str | None = None) -> None:
        with self._cond:
            self.error = error
            self.done = True
            self._cond.notify_all()

    def sha(self, i: int) -> str:
        return self._ids[20 * i:20 * i + 20].hex()

    def path(self, i: int) -> bytes:
        return self._paths[self._path_of[i]]

    def wait(self, i: int) -> bool:
        """Block until entry ``i`` exists (True) or the list is complete
        without it (False)."""
        with self._cond:
            while len(self._path_of) <= i and not self.done:
                self._cond.wait(0.5)
            return len(self._path_of) > i

    @classmethod
    def of(cls, items: Iterable[tuple[str | bytes, bytes]]) -> "BlobList":
        out = cls()
        for sha, path in items:
            out.append(sha if isinstance(sha, bytes) else sha.encode(), path)
        out.finish()
        return out


_INDEX_MIN = 1 << 10  # slots of a new index by id (a power of two)


def _temporary_file() -> IO[bytes]:
    try:
        return tempfile.TemporaryFile()
    except OSError as exc:
        raise _temporary_error(exc) from None


def _temporary_error(exc: OSError) -> KeyscanError:
    return KeyscanError(f"cannot write a temporary file in {clean(tempfile.gettempdir())}: {exc.strerror or exc} (set TMPDIR to a folder with room)")


def list_objects(git: Git, revs: Sequence[str]) -> Process:
    """``git rev-list --objects --missing=print`` over ``revs``: read it with
    ``parse_listing``.

    No ``--filter=object:type=blob``: with it, git 2.39 silently skips a
    missing tree (and all it holds) even with ``--missing=print``. Trees are
    told apart from blobs instead by what follows them (a tree's new
    entries come right after it, under its path); the few trees that slip
    through are dropped by ``read_blobs`` from ``cat-file``'s header.
    """
    return git.popen("rev-list", "--objects", "--missing=print", *revs, "--", config=LEAN_CONFIG)


def parse_listing(lines: Iterable[bytes], missing: list[str], keep=None) -> Iterator[tuple[bytes, bytes]]:
    """(blob id, path) of every blob in a ``list_objects`` output, each once,
    with the first path it was seen at; missing objects (``?<id>``) are
    appended to ``missing``. ``keep(path) -> bool`` drops blobs early."""
    pending: tuple[bytes, bytes] | None = None
    for line in lines:
        line = line.rstrip(b"\n")
        if line.startswith(b"?"):
            missing.append(line[1:].decode("ascii", "replace"))
            continue
        path = line[41:] if len(line) > 40 and line[40:41] == b" " else None
        if pending is not None and not (path and path.startswith(pending[1] + b"/")):
            if keep is None or keep(pending[1]):
                yield pending
        pending = None
        if path:  # no path: a commit, or a root tree
            pending = (line[:40], path)
    if pending is not None and (keep is None or keep(pending[1])):
        yield pending


def tagged_blobs(git: Git, missing: list[str] | None = None) -> list[tuple[bytes, bytes]]:
    """Blobs a ref points at directly (``git tag name <blob>``), named by the
    ref (``rev-list`` lists them without a path, like root trees), and the
    blobs under a tree a ref points at (``git tag name <tree>``), at their
    paths in it: no commit holds them, so a listing of what commits changed
    does not see them. Objects under such a tree that git cannot read are
    added to ``missing``."""
    code, out, _ = git.status("for-each-ref", "--format=%(objecttype) %(objectname) %(*objecttype) %(*objectname) %(refname)")
    if code != 0:  # a ref names an object git does not have: ask object by object
        out = _ref_kinds(git, missing)
    found = []
    trees = []
    for line in out.split(b"\n"):
        parts = line.split(b" ", 4)
        if len(parts) != 5:
            continue
        kind, sha, peeled_kind, peeled, name = parts
        if kind == b"blob":
            found.append((sha, name))
        elif peeled_kind == b"blob":
            found.append((peeled, name))
        elif kind == b"tree" or peeled_kind == b"tree":
            trees.append(sha if kind == b"tree" else peeled)
    if trees:  # rev-list names what git cannot read and goes on
        proc = list_objects(git, list(dict.fromkeys(t.decode("ascii", "replace") for t in trees)))
        lost: list[str] = []
        try:
            found.extend(parse_listing(proc.stdout, lost))
        except BaseException:
            proc.kill()
            raise
        proc.finish()
        if missing is not None:
            missing.extend(lost)
    return found


def _ref_kinds(git: Git, missing: list[str] | None) -> bytes:
    """``tagged_blobs``' for-each-ref lines, typed one object at a time by
    ``cat-file --batch-check`` (which goes past a missing object: it is
    added to ``missing``)."""
    refs_out = git.run("for-each-ref", "--format=%(objectname) %(refname)")
    named = [line.split(b" ", 1) for line in refs_out.split(b"\n") if b" " in line]
    query = b"".join(sha + b"\n" + sha + b"^{}\n" for sha, _ in named)
    replies = git.run("cat-file", "--batch-check=%(objectname) %(objecttype)", input=query).split(b"\n")
    lines = []
    for k, (sha, name) in enumerate(named):
        own, peeled = replies[2 * k].split(b" "), replies[2 * k + 1].split(b" ")
        if own[-1] == b"missing":
            if missing is not None and sha.decode("ascii", "replace") not in missing:
                missing.append(sha.decode("ascii", "replace"))
            continue
        peeled_kind, peeled_sha = (peeled[1], peeled[0]) if peeled[-1] != b"missing" and own[1] == b"tag" else (b"", b"")
        lines.append(b" ".join((own[1], sha, peeled_kind, peeled_sha, name)))
    return b"\n".join(lines)


def in_pack_order(git: Git, blobs: BlobList) -> Sequence[int]:
    """Indexes into ``blobs`` (a finished list) in the order their objects
    sit in the repository's packs, for ``cat-file --batch`` to read: packed
    ones by pack (newest first) and offset, then the rest (loose, in another
    object store, missing: cat-file will say) in listing order. If the packs
    cannot be found, the listing order.

    A pack keeps each delta next to the base it is built on, so read in pack
    order every base is still in cat-file's delta-base cache when its deltas
    come; read in listing order, chains are rebuilt again and again. On
    git's repository (165,291 blobs, one 314 MB pack), cat-file took 8.5 s
    of CPU in listing order and 4.0 s in pack order (also with the blobs
    dealt out to two workers 512 at a time), and with a 16 MiB cache
    (``LEAN_CONFIG``) where listing order needs git's 96 MiB.

    Each object's offset comes from its pack's index file (``_pack_index``),
    read here: 28 bytes an object of the repository, mapped while read.
    ``cat-file --batch-all-objects --unordered`` gives the same order, but
    keeps a set of every object it has shown: 68-85 MB on the synthetic
    history of ``benchmarks/`` (558,160 objects) against 16 MB here."""
    listed = range(len(blobs))
    if len(blobs) < 2:
        return listed
    code, out, _ = git.status("rev-parse", "--git-path", "objects/pack")
    if code != 0:
        return listed
    folder = os.path.join(git.cwd, os.fsdecode(out.rstrip(b"\n")))
    try:
        entries = [e for e in os.scandir(folder) if e.name.startswith("pack-") and e.name.endswith(".idx")]
        entries.sort(key=lambda e: e.stat().st_mtime, reverse=True)
    except OSError:
        return listed
    keys: list[int] = []  # (pack, offset, position) in one int each, sorted below
    placed = bytearray(len(blobs))
    for rank, entry in enumerate(entries):
        try:
            _pack_index(entry.path, rank, blobs, placed, keys)
        except (OSError, ValueError):
            continue  # a damaged index: its objects come with the rest
    keys.sort()
    order = array("I", (k & 0xFFFFFFFF for k in keys))
    order.extend(i for i in listed if not placed[i])
    return order


def _pack_index(path: str, rank: int, blobs: BlobList, placed: bytearray, keys: list[int]) -> None:
    """Add to ``keys`` each object of ``blobs`` that the pack index at
    ``path`` (version 1 or 2, ``gitformat-pack``) holds and that no earlier
    pack placed: ``rank``, its offset in the pack and its position in
    ``blobs``, in one int. Raises ValueError for a file that is not one."""
    import mmap
    import struct

    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        find = blobs.find
        if mm[:4] == b"\xfftOc":
            if struct.unpack_from(">I", mm, 4)[0] != 2:
                raise ValueError(f"pack index version {struct.unpack_from('>I', mm, 4)[0]}")
            count = struct.unpack_from(">I", mm, 8 + 255 * 4)[0]
            ids = 8 + 256 * 4
            small = ids + 24 * count  # after the ids and their CRCs
            large = small + 4 * count
            if len(mm) < large + 40:
                raise ValueError("truncated pack index")
            offsets = array("I", mm[small:large])
            if offsets.itemsize != 4:
                raise ValueError("no 32-bit array type")
            if array("I", [1]).tobytes()[0] == 1:
                offsets.byteswap()  # the file is big-endian
            for i in range(count):
                j = find(mm[ids + 20 * i:ids + 20 * i + 20])
                if j >= 0 and not placed[j]:
                    offset = offsets[i]
                    if offset & 0x80000000:
                        offset = struct.unpack_from(">Q", mm, large + 8 * (offset & 0x7FFFFFFF))[0]
                    placed[j] = 1
                    keys.append((rank << 96) | (offset << 32) | j)
        else:  # version 1: a fan-out table, then (offset, id) pairs
            count = struct.unpack_from(">I", mm, 255 * 4)[0]
            if len(mm) < 1024 + 24 * count + 40:
                raise ValueError("truncated pack index")
            for i in range(count):
                at = 1024 + 24 * i
                j = find(mm[at + 4:at + 24])
                if j >= 0 and not placed[j]:
                    placed[j] = 1
                    keys.append((rank << 96) | (struct.unpack_from(">I", mm, at)[0] << 32) | j)


def list_blobs(git: Git, revs: Sequence[str], keep=None, extra: Sequence[tuple[bytes, bytes]] = ()) -> BlobList:
    """Start listing every blob reachable from ``revs`` (then ``extra``) in a
    background thread; read the returned BlobList as it fills (``fill_blobs``).
    Missing objects are collected in ``BlobList.missing``."""
    blobs = BlobList()
    threading.Thread(target=fill_blobs, args=(git, revs, blobs, keep, extra), name="keyscan-listing", daemon=True).start()
    return blobs


def fill_blobs(git: Git, revs: Sequence[str], blobs: BlobList, keep=None, extra: Sequence[tuple[bytes, bytes]] = (), tick=None, graph=None) -> None:
    """List into ``blobs`` every blob reachable from ``revs``, each once, with
    the first path it is seen at (``keep(path) -> bool`` drops paths), then
    ``extra``; ``finish`` it, with git's error if the listing failed.
    ``tick(count)`` now and then.

    A range (``revs`` with a ``^rev``: the objects one side reaches and the
    other does not) is listed by ``rev-list --objects`` (``list_objects``).
    Anything else by what each commit changed (``_changed_blobs``): every
    blob of every commit's tree came in as a change against its first parent
    (or in a root commit), so that lists them all, and git keeps only the
    commits it walked, where ``rev-list --objects`` keeps every object it
    listed, about 160 bytes each. On a history alike along its length
    (``benchmarks/``, synthetic), 10,000 to 80,000 commits: git 56 -> 70 MB
    against 60 -> 109 MB; on git's own, 53 against 70 MB. keyscan keeps each
    blob once (``BlobList.add``, 28 bytes).

    ``graph``: a function giving ``commit_graph(git, revs)`` (None if it
    could not be read), when the caller reads it anyway. Merges are then
    diffed by a second git beside the first (``_MergeChanges``), their blobs
    added after the others': their first-parent diffs were a third of the
    listing's time on git's history (6.6 s in one git, 4.4 s in two).

    If git stops (a tree or commit it cannot read), the rest comes from
    ``rev-list --objects --missing=print``, which goes past missing objects
    and names them; so is a partial clone (whose missing blobs cat-file
    would fail on one by one, where rev-list names them all)."""
    error = None
    try:
        if any(r.startswith("^") for r in revs) or _partial_clone(git) or not _list_changes(git, revs, blobs, keep, tick, graph):
            _list_objects_into(git, revs, blobs, keep, tick)
        for sha, path in extra:
            blobs.add(sha, path)
    except (OSError, ValueError, GitError) as exc:
        error = str(exc)
    finally:
        blobs.finish(error)


# What the listing asks git log for (as ``_LOG_DIFF_ARGS``, no commit
# header); --diff-merges is given beside it.
_LISTING_ARGS = ("--root", "--no-renames", "--raw", "--ignore-submodules=all", "--no-abbrev", "-z", "--no-ext-diff", "--no-textconv", "--no-color", "--no-relative", "--format=")


def _list_changes(git: Git, revs: Sequence[str], blobs: BlobList, keep, tick, graph) -> bool:
    """``fill_blobs``' listing from each commit's changes; False if a git
    stopped before the end (what it listed stays)."""
    merges = _MergeChanges(git, revs, graph, keep) if graph is not None else None
    proc = git.popen("log", *revs, *_LISTING_ARGS, "--diff-merges=off" if merges else "--diff-merges=first-parent", "--", config=LEAN_CONFIG)
    try:
        for sha, path in _changed_blobs(proc.stdout):
            if (keep is None or keep(path)) and blobs.add(sha, path) and tick is not None and len(blobs) % 4096 == 0:
                tick(len(blobs))
    except BaseException:
        proc.kill()  # interrupted, or the pipe failed: git is not waited for
        if merges is not None:
            merges.stop()
        raise
    code, _ = proc.finish()
    if merges is None:
        return code == 0
    side = merges.result()
    if side is None:
        return False
    for i in range(len(side)):
        blobs.add(side.sha(i).encode(), side.path(i))
    return code == 0


class _MergeChanges:
    """The first-parent changes of the merges that ``revs`` reach, newest
    first, read by a second git in a thread into a ``BlobList`` (24 bytes a
    change, no index): ``git log --no-walk=unsorted --stdin`` over the merges
    of ``graph()``, or, when that gives no graph, ``git log --merges`` over
    ``revs``. ``result()`` waits for it: the list, or None if git failed."""

    def __init__(self, git: Git, revs: Sequence[str], graph, keep) -> None:
        self._git, self._revs, self._graph, self._keep = git, revs, graph, keep
        self._out: BlobList | None = None
        self._proc: Process | None = None
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="keyscan-merge-changes", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            out = BlobList()
            lines = self._graph()
            feed = b""
            if lines is None:
                args: tuple = ("log", *self._revs, "--merges")
            else:
                ids = [line.split(b" ", 1)[0] for line in lines if line.count(b" ") >= 2]
                if not ids:
                    self._out = out
                    return
                feed = b"".join(sha + b"\n" for sha in reversed(ids))  # the graph is oldest first, the log newest first
                del ids
                args = ("log", "--no-walk=unsorted", "--stdin")
            if self._stopped:
                return
            proc = self._proc = self._git.popen(*args, *_LISTING_ARGS, "--diff-merges=first-parent", "--", stdin=bool(feed), config=LEAN_CONFIG)
            feeder = threading.Thread(target=_write_all, args=(proc.stdin, feed), daemon=True) if feed else None
            if feeder is not None:
                feeder.start()
            keep = self._keep
            for sha, path in _changed_blobs(proc.stdout):
                if keep is None or keep(path):
                    out.append(sha, path)
            if feeder is not None:
                feeder.join()
            if proc.finish()[0] == 0:
                self._out = out
        except (OSError, ValueError, KeyscanError):
            pass

    def result(self) -> "BlobList | None":
        self._thread.join()
        return self._out

    def stop(self) -> None:
        self._stopped = True
        if self._proc is not None:
            self._proc.kill()
        self._thread.join(timeout=5)


def _partial_clone(git: Git) -> bool:
    """Whether objects may be missing by design (a promisor remote)."""
    code, out, _ = git.status("config", "--get-regexp", r"^(extensions\.partialclone|remote\..*\.promisor)$")
    return code == 0 and bool(out.strip())


def _list_objects_into(git: Git, revs: Sequence[str], blobs: BlobList, keep, tick) -> None:
    """``list_objects`` into ``blobs`` (after what they hold); objects git
    lists as missing go to ``blobs.missing`` unless listed already (then
    reading them says so). Raises GitError if rev-list fails."""
    proc = list_objects(git, revs)
    missing: list[str] = []
    try:
        for sha, path in parse_listing(proc.stdout, missing, keep):
            if blobs.add(sha, path) and tick is not None and len(blobs) % 4096 == 0:
                tick(len(blobs))
    except (OSError, ValueError) as exc:
        proc.kill()
        raise GitError(f"reading git rev-list failed: {exc}") from None
    except BaseException:
        proc.kill()
        raise
    code, msg = proc.finish()
    blobs.missing.extend(sha for sha in missing if blobs.find(bytes.fromhex(sha)) < 0)
    if code != 0:
        raise GitError(msg)


def _changed_blobs(stream: IO[bytes]) -> Iterator[tuple[bytes, bytes]]:
    """(new blob id, path) of each file added or modified in a ``git log
    --raw -z --format=`` output (``_LOG_DIFF_ARGS``, so no renames: one path
    each); deletions, submodules and anything but a file or symlink left out."""
    head = None
    for tok in _nul_tokens(stream):
        if head is None:
            tok = tok.lstrip(b"\n")
            if tok[:1] == b":":
                head = tok
            continue
        fields = head[1:].split(b" ")
        head = None
        if len(fields) >= 5 and fields[1][:2] in (b"10", b"12") and fields[4][:1] != b"D":
            yield fields[3], tok


# --- reading blobs -------------------------------------------------------------


MISSING = "object is missing (corrupt repository or partial clone)"  # Blob.error of an object git does not have


class ObjectReadError(Exception):
    """One object could not be read (corrupt, truncated); the reader moves on."""


class BlobStream:
    """The content of one object on a ``cat-file --batch`` pipe: at most
    ``size`` bytes, read in pieces so a huge blob never sits in memory."""

    def __init__(self, fh: IO[bytes], size: int) -> None:
        self._fh = fh
        self.size = size
        self.left = size
        self.failed: str | None = None

    def read(self, n: int = -1) -> bytes:
        if self.left <= 0 or self.failed:
            return b""
        n = self.left if n < 0 or n > self.left else n
        try:
            data = self._fh.read(n)
        except (OSError, ValueError) as exc:
            data, why = b"", str(exc)
        else:
            why = "git stopped part way"
        if len(data) < n:
            self.failed = why
            self.left = 0
            raise ObjectReadError(why)
        self.left -= len(data)
        return data

    def drain(self) -> None:
        while self.left > 0 and not self.failed:
            try:
                self.read(min(self.left, 1 << 20))
            except ObjectReadError:
                return


class Blob(NamedTuple):
    index: int  # position in the BlobList
    sha: str
    path: bytes
    size: int
    stream: BlobStream | None  # None when the object could not be read
    error: str | None = None


class CatFile:
    """One ``git cat-file --batch`` kept for a process's whole life (a
    history worker reads batch after batch through it). Starting one per
    batch of 512 blobs cost git's start, a cold delta-base cache (every
    delta chain resolved again) and the pack pages mapped and faulted in
    again: on git's repository, 323 starts and 4.6 million page faults.
    Without ``--buffer``, cat-file writes each object out as soon as it is
    read, so a batch can be read whole while the process waits for the next."""

    def __init__(self, git: Git, config: Sequence[str] = ()) -> None:
        self.git = git
        self.config = config
        self.proc: Process | None = None

    def process(self) -> "Process":
        if self.proc is None or self.proc.proc.poll() is not None:
            self.close()
            self.proc = self.git.popen("cat-file", "--batch", stdin=True, config=self.config)
            _widen_pipe(self.proc.stdout)
        return self.proc

    def close(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc = None


def _widen_pipe(stream) -> None:
    """A 1 MiB pipe from cat-file instead of 64 KiB (Linux): fewer wake-ups
    and system calls per megabyte (5.6 GB of blobs: 5.7 -> 4.6 s of system
    time, git and reader together)."""
    try:
        import fcntl

        fcntl.fcntl(stream.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
    except (OSError, ValueError, AttributeError, ImportError):
        pass  # another system, or over /proc/sys/fs/pipe-max-size: the default size works


def read_blobs(git: Git, blobs: BlobList, cat: CatFile | None = None) -> Iterator[Blob]:
    """Each blob of ``blobs`` in order, through a long-lived ``git cat-file
    --batch`` (``cat``'s, kept after this call when every reply was read;
    else one for this call). A missing object is yielded with ``error`` set;
    a corrupt one kills cat-file, which is restarted after it, so one bad
    object never stops the scan. Objects that turn out not to be blobs (a
    tree the listing could not tell apart) are skipped. Read (or ignore)
    each blob's stream before taking the next: it is drained automatically."""
    start = 0
    while True:
        if not blobs.wait(start):
            if blobs.error:
                yield Blob(start, "", b"", 0, None, f"listing objects failed: {blobs.error}")
            return
        if cat is not None:
            proc = cat.process()
        else:
            proc = git.popen("cat-file", "--batch", "--buffer", stdin=True)
            _widen_pipe(proc.stdout)
        feeder = threading.Thread(target=_feed, args=(proc.stdin, blobs, start, cat is None), name="keyscan-cat-file-feed", daemon=True)
        feeder.start()
        i = start
        restart = False
        complete = False
        try:
            while blobs.wait(i):
                sha = blobs.sha(i)
                header = proc.stdout.readline()
                if not header:
                    # cat-file died: this object broke it.
                    yield Blob(i, sha, blobs.path(i), 0, None, f"cannot read object ({proc.stderr_text()})")
                    start, restart = i + 1, True
                    break
                parts = header.split()
                if len(parts) == 2 and parts[1] == b"missing":
                    yield Blob(i, sha, blobs.path(i), 0, None, MISSING)
                    i += 1
                    continue
                if len(parts) != 3 or parts[0].decode("ascii", "replace") != sha:
                    yield Blob(i, sha, blobs.path(i), 0, None, f"unexpected reply from git cat-file: {clean(header[:80].decode('utf-8', 'replace'))}")
                    start, restart = i + 1, True
                    break
                size = int(parts[2])
                stream = BlobStream(proc.stdout, size)
                if parts[1] == b"blob":
                    yield Blob(i, sha, blobs.path(i), size, stream)
                stream.drain()
                if stream.failed:
                    start, restart = i + 1, True
                    break
                if proc.stdout.read(1) != b"\n":
                    start, restart = i + 1, True
                    break
                i += 1
            else:
                complete = True
        finally:
            if cat is None:
                proc.kill()
            elif not complete:
                cat.close()  # replies may be pending: never reuse it
            feeder.join(timeout=5)
        if not restart:
            if blobs.error:
                yield Blob(i, "", b"", 0, None, f"listing objects failed: {blobs.error}")
            return


def _feed(stdin: IO[bytes], blobs: BlobList, start: int, close: bool = True) -> None:
    i = start
    try:
        while blobs.wait(i):
            end = len(blobs)
            stdin.write(b"".join(blobs.sha(j).encode() + b"\n" for j in range(i, end)))
            i = end
        if close:
            stdin.close()
        else:
            stdin.flush()  # the process stays for the next batch
    except (OSError, ValueError):
        pass  # cat-file died or was stopped; the reader restarts it


# --- commits that add or remove blobs ----------------------------------------------


class Change(NamedTuple):
    """One file of one commit's diff against its first parent."""

    old: str  # blob id, or NULL_SHA
    new: str
    status: str
    path: bytes


class CommitChanges(NamedTuple):
    sha: str
    author: str
    email: str
    time: int
    subject: str
    changes: list[Change]


_LOG_FORMAT = "--format=%x01%H%x00%an%x00%ae%x00%at%x00%s%x00"


def log_changes(git: Git, revs: Sequence[str], *, find_objects: Sequence[str] = (), reverse: bool = True, jobs: int = 1, graph: "CommitGraph | None" = None) -> Iterator[CommitChanges]:
    """Commits reachable from ``revs`` with their changed files (raw diff
    against the first parent; merges included). With ``find_objects``, only
    commits that add or remove one of those blobs, found by id: no secret
    is ever on the command line. Oldest first when ``reverse``. With
    ``find_objects`` and ``jobs`` > 1, the commits are diffed by ``jobs`` git
    processes at once (``_log_changes_split``), with the same result;
    ``graph`` is ``commit_graph(git, revs)`` if it was read already."""
    if find_objects and jobs > 1:
        yield from _log_changes_split(git, revs, find_objects, reverse, jobs, graph)
        return
    args = [
        "log",
        *revs,
        "--topo-order",
        *_LOG_DIFF_ARGS,
        _LOG_FORMAT,
    ]
    if reverse:
        args.append("--reverse")
    args += [f"--find-object={sha}" for sha in find_objects]
    args.append("--")
    proc = git.popen(*args, config=LEAN_CONFIG)
    try:
        yield from _parse_log(proc.stdout)
    finally:
        code, msg = proc.finish()
    if code != 0:
        raise GitError(f"git log failed: {msg}")


_LOG_DIFF_ARGS = (
    "--root",
    "--diff-merges=first-parent",
    "--no-renames",
    "--raw",
    "--ignore-submodules=all",  # gitlinks are not content; and a .gitmodules with 'update = !cmd' makes --raw die
    "--no-abbrev",
    "-z",
    "--no-ext-diff",
    "--no-textconv",
    "--no-color",
    "--no-mailmap",
    "--no-relative",
    "--encoding=UTF-8",
)

# Below this many commits one git log is as quick as a split one.
SPLIT_LOG_MIN_COMMITS = 5_000


def _log_changes_split(git: Git, revs: Sequence[str], find_objects: Sequence[str], reverse: bool, jobs: int, graph: "CommitGraph | None" = None) -> Iterator[CommitChanges]:
    """``log_changes`` with ``find_objects``, its work shared by ``jobs`` git
    processes. Finding the commits that add or remove a blob means diffing
    every commit against its first parent (4.8 s on git's 85,361 commits, on
    one core while the other waits at the end of a history scan). The
    commits, in the order one ``git log --topo-order`` gives them
    (``commit_graph``, read here unless ``graph`` is given), are cut into consecutive
    parts, taken in turn by ``jobs`` processes at a time; each part goes to
    ``git log --no-walk=unsorted --stdin``, which shows exactly those
    commits, in that order, each
    diffed as the single log would; the parts' outputs are read whole
    (only matching commits are shown, so they are small) and joined in
    order."""
    if graph is None:
        graph = commit_graph(git, revs)
    total = sum(1 for line in graph if line)
    if total < SPLIT_LOG_MIN_COMMITS:
        yield from log_changes(git, revs, find_objects=find_objects, reverse=reverse)
        return
    # More parts than processes, taken in turn: later commits cost more to
    # diff (git's newer half took 2.9 s, its older half 1.8 s). Each part is
    # kept as the bytes its git reads (41 a commit), not a list of ids.
    count = min(total, 4 * jobs)
    size = -(-total // count)
    parts: list[bytes] = []
    part = bytearray()
    n = 0
    for line in graph:
        if line:
            part += line.split(b" ", 1)[0] + b"\n"
            n += 1
            if n % size == 0:
                parts.append(bytes(part))
                part.clear()
    if part:
        parts.append(bytes(part))
    if not reverse:
        parts = [b"".join(sha + b"\n" for sha in reversed(p.split())) for p in reversed(parts)]
    args = ["log", "--no-walk=unsorted", "--stdin", *_LOG_DIFF_ARGS, _LOG_FORMAT, *(f"--find-object={sha}" for sha in find_objects), "--"]
    outputs: list[list[CommitChanges]] = [[] for _ in parts]
    failures: list[str] = []
    taken = iter(range(len(parts)))
    lock = threading.Lock()
    live: list[Process] = []

    def run() -> None:
        while not failures:
            with lock:
                i = next(taken, None)
            if i is None:
                return
            try:
                proc = git.popen(*args, stdin=True, config=LEAN_CONFIG)
            except GitError as exc:
                failures.append(str(exc))
                return
            live.append(proc)
            feeder = threading.Thread(target=_write_all, args=(proc.stdin, parts[i]), daemon=True)
            feeder.start()
            try:
                outputs[i] = list(_parse_log(proc.stdout))
            except (OSError, ValueError) as exc:
                failures.append(str(exc))
            feeder.join()
            code, msg = proc.finish()
            if code != 0:
                failures.append(msg)

    threads = [threading.Thread(target=run, name=f"keyscan-log-{n}", daemon=True) for n in range(jobs)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        for proc in live:
            proc.kill()
    if failures:
        raise GitError(f"git log failed: {failures[0]}")
    for part in outputs:
        yield from part


def _write_all(stdin: IO[bytes], data: bytes) -> None:
    try:
        stdin.write(data)
        stdin.close()
    except (OSError, ValueError):
        pass  # git died; its exit code says why


def _parse_log(fh: IO[bytes]) -> Iterator[CommitChanges]:
    tokens = _nul_tokens(fh)
    current: CommitChanges | None = None
    for tok in tokens:
        if tok.startswith(b"\x01"):
            if current is not None:
                yield current
            sha = tok[1:].decode("ascii", "replace")
            head = [next(tokens, b"") for _ in range(4)]
            author, email, when, subject = (h.decode("utf-8", "replace") for h in head)
            current = CommitChanges(sha, author, email, int(when or 0), subject, [])
            continue
        tok = tok.lstrip(b"\n")
        if not tok.startswith(b":") or current is None:
            continue
        fields = tok[1:].split(b" ")
        path = next(tokens, b"")
        if len(fields) < 5:
            continue
        current.changes.append(Change(fields[2].decode(), fields[3].decode(), fields[4][:1].decode(), path))
    if current is not None:
        yield current


def _nul_tokens(fh: IO[bytes]) -> Iterator[bytes]:
    buf = b""
    while True:
        chunk = fh.read(1 << 16)
        if not chunk:
            break
        buf += chunk
        parts = buf.split(b"\0")
        buf = parts.pop()
        yield from parts
    if buf:
        yield buf


def tree_blobs(git: Git, rev: str, paths: Sequence[bytes]) -> dict[bytes, str]:
    """{path: blob id} at ``rev`` for those of ``paths`` that are files there."""
    out: dict[bytes, str] = {}
    wanted = set(paths)
    for i in range(0, len(paths), 500):
        chunk = paths[i:i + 500]
        code, data, _ = git.status("ls-tree", "-r", "-z", "--full-tree", rev, "--", *chunk)
        if code != 0:
            continue
        for entry in data.split(b"\0"):
            if not entry:
                continue
            meta, _, path = entry.partition(b"\t")
            parts = meta.split(b" ")
            if len(parts) == 3 and parts[1] == b"blob" and path in wanted:
                out[path] = parts[2].decode()
    return out


# --- what is staged ----------------------------------------------------------------------


class StagedFile(NamedTuple):
    path: bytes
    blob: str  # the index's blob
    mode: str
    added: tuple[tuple[int, int], ...]  # (first line, count) of each added run, 1-based
    old: str = NULL_SHA  # the blob it replaces (HEAD's, or the rename source's); NULL_SHA for a new file


def staged_files(git: Git) -> list[StagedFile]:
    """Files the next commit adds or changes, with the line ranges it adds
    (``git diff --cached`` against HEAD, or the empty tree before the first
    commit, which ``diff --cached`` picks itself). Renames are detected, so
    a moved file adds only the lines that changed; deletions and symlinks
    add nothing to scan; type changes count as whole new files. ``--text``:
    the repository's attributes cannot hide a file as binary (keyscan tells
    binary content apart itself)."""
    proc = git.popen(
        "diff", "--cached", "-U0", "--text", "--full-index", "-M", "--diff-filter=ACMRT",
        "--no-ext-diff", "--no-textconv", "--no-color", "--src-prefix=a/", "--dst-prefix=b/",
        "--no-relative", "--inter-hunk-context=0", "--submodule=short", "--ignore-submodules=all", "--",
    )
    try:
        files = parse_patch(line_heads(proc.stdout))
    except (OSError, ValueError) as exc:
        proc.kill()
        raise GitError(f"reading git diff failed in {clean(git.cwd)}: {exc}") from None
    code, msg = proc.finish()
    if code != 0:
        raise GitError(f"git diff failed in {clean(git.cwd)}: {msg}")
    return files


# Longest line kept whole from a diff: a header (two quoted paths of at most
# PATH_MAX each) is far shorter; only added or removed content is cut.
DIFF_LINE_MAX = 64 * 1024


def line_heads(stream: IO[bytes], limit: int | None = None) -> Iterator[bytes]:
    """The lines of ``stream`` without their newline, each cut to ``limit``
    bytes (the rest of a longer one is read and dropped). A staged binary's
    ``--text`` diff can be one line of hundreds of megabytes: read whole and
    split, a 400 MB file took 860 MB in keyscan for lines nobody looks at."""
    limit = limit or DIFF_LINE_MAX
    while True:
        line = stream.readline(limit)
        if not line:
            return
        if line.endswith(b"\n"):
            yield line[:-1]
            continue
        yield line
        while line and not line.endswith(b"\n"):
            line = stream.readline(limit)


def parse_patch(patch: bytes | Iterable[bytes]) -> list[StagedFile]:
    """Parse ``git diff -U0 --full-index`` output (see ``staged_files``):
    the whole output, or its lines (``line_heads``)."""
    files: list[StagedFile] = []
    path: bytes | None = None
    blob = mode = ""
    old = NULL_SHA
    added: list[tuple[int, int]] = []
    in_header = False

    def flush() -> None:
        if path is not None and blob and blob != NULL_SHA and mode in ("100644", "100755"):
            files.append(StagedFile(path, blob, mode, tuple(added), old))

    for line in patch.split(b"\n") if isinstance(patch, bytes) else patch:
        if line.startswith(b"diff --git "):
            flush()
            path, blob, mode, added, in_header, old = None, "", "", [], True, NULL_SHA
            continue
        if in_header:
            if line.startswith(b"index "):
                parts = line[6:].split(b" ")
                ids = parts[0].split(b"..")
                blob = ids[-1].decode("ascii", "replace")
                if len(ids) == 2:
                    old = ids[0].decode("ascii", "replace")
                if len(parts) > 1:
                    mode = parts[1].decode("ascii", "replace")
            elif line.startswith((b"new file mode ", b"new mode ")):
                mode = line.rsplit(b" ", 1)[1].decode("ascii", "replace")
            elif line.startswith(b"+++ "):
                name = line[4:]
                if name.endswith(b"\t"):
                    name = name[:-1]
                if name != b"/dev/null":
                    name = unquote(name)
                    path = name[2:] if name.startswith(b"b/") else name
            elif line.startswith(b"@@"):
                in_header = False
        if not in_header and line.startswith(b"@@"):
            span = _new_span(line)
            if span and span[1] > 0:
                added.append(span)
    flush()
    return files


def _new_span(hunk: bytes) -> tuple[int, int] | None:
    # "@@ -a,b +c,d @@ ..." ; ",d" omitted means one line.
    try:
        plus = hunk.split(b" ")[2]
    except IndexError:
        return None
    if not plus.startswith(b"+"):
        return None
    first, _, count = plus[1:].partition(b",")
    try:
        return int(first), int(count) if count else 1
    except ValueError:
        return None


_ESCAPES = {ord("n"): 10, ord("t"): 9, ord("r"): 13, ord('"'): 34, ord("\\"): 92, ord("a"): 7, ord("b"): 8, ord("f"): 12, ord("v"): 11}


def unquote(name: bytes) -> bytes:
    """Undo git's C-style quoting of a path (``"a/na\\303\\257ve"``)."""
    if not (len(name) >= 2 and name.startswith(b'"') and name.endswith(b'"')):
        return name
    body = name[1:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        c = body[i]
        if c != 0x5C or i + 1 >= len(body):
            out.append(c)
            i += 1
            continue
        nxt = body[i + 1]
        if 0x30 <= nxt <= 0x37 and i + 4 <= len(body):
            out.append(int(body[i + 1:i + 4], 8) & 0xFF)
            i += 4
        else:
            out.append(_ESCAPES.get(nxt, nxt))
            i += 2
    return bytes(out)
