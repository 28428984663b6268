"""Bare copies of the audited repositories in the cache folder, brought up
to date with ``git fetch``.

Every git process runs through ``keyscan.git.Git`` (the hardened argv and
environment: no hooks, no credential helpers or askpass, no external
programs named by config or environment). Fetching needs a transport, which
that environment forbids, so here, and only here, ``GIT_ALLOW_PROTOCOL``
allows ``file``, ``git``, ``ssh``, ``http`` and ``https`` (never ``ext`` or
``fd``) and ssh runs as ``ssh -o BatchMode=yes`` (it never prompts).

* The URL is handed to git in the environment (``GIT_CONFIG_COUNT``, as the
  ``origin`` remote), never on the command line, where a token in it would
  show in the process list; reports and errors show the identity, which has
  no credentials, and git's messages are scrubbed of ``user:password@``.
* Nothing is checked out and no submodule is fetched. The copy is bare, made
  with ``git init --bare --template=`` (no sample hooks) in a temporary
  folder renamed into place, so an interrupted first fetch never leaves a
  half-made repository under the final name.
* A local path is fetched as it is (``+refs/*:refs/*``: branches, tags,
  remote-tracking refs, stash); a URL as a remote (its branches under
  ``refs/remotes/origin/``, its tags under ``refs/tags/``). HEAD is set to the
  commit the source's HEAD names (detached), so "still at HEAD" means the
  source's default branch.
* One audit at a time per copy: an exclusive ``flock`` on ``<copy>.lock``.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from typing import Iterator, NamedTuple

from ..errors import KeyscanError
from ..git import Git, clean, head_commit, refs
from .repos import Repository, without_credentials

ALLOWED_PROTOCOLS = "file:git:ssh:http:https"
SSH_COMMAND = "ssh -o BatchMode=yes"
FETCH_TIMEOUT = 900.0  # seconds for one fetch
_MIRROR_REFSPECS = ("+refs/*:refs/*",)
_REMOTE_REFSPECS = ("+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*")
_NO_HEAD = "refs/heads/keyscan-no-head"  # an unborn HEAD when the source has none


class FetchError(KeyscanError):
    """The repository could not be cloned or fetched."""


class Snapshot(NamedTuple):
    git_dir: str
    tips: dict[str, str]  # ref name -> object id (tags peeled), plus "HEAD" when it resolves
    head: str | None


def _first_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    picked = [ln for ln in lines if ln.startswith(("fatal:", "error:"))] or lines or ["(no message)"]
    line = picked[0]
    for prefix in ("fatal: ", "error: "):
        if line.startswith(prefix):
            line = line[len(prefix):]
    return clean(without_credentials(line))[:400]


def _fetch_git(git_dir: str, location: str) -> Git:
    """A hardened Git for ``git_dir`` that may fetch from ``location`` (given
    as the ``origin`` remote through the environment)."""
    git = Git(git_dir)
    env = dict(git.env)
    env["GIT_ALLOW_PROTOCOL"] = ALLOWED_PROTOCOLS
    try:
        n = int(env.get("GIT_CONFIG_COUNT", "0") or 0)
    except ValueError:
        n = 0
    env[f"GIT_CONFIG_KEY_{n}"] = "remote.origin.url"
    env[f"GIT_CONFIG_VALUE_{n}"] = location
    env["GIT_CONFIG_COUNT"] = str(n + 1)
    git.env = env
    return git


def _init(git_dir: str) -> None:
    parent = os.path.dirname(git_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".init-", dir=parent)
    try:
        code, _, err = Git(parent).status("init", "--bare", "--quiet", "--template=", tmp)
        if code != 0:
            raise FetchError(f"cannot create the cache copy in {clean(parent)}: {_first_error(err.decode('utf-8', 'replace'))}")
        try:
            os.rename(tmp, git_dir)
        except OSError:
            if not os.path.isfile(os.path.join(git_dir, "HEAD")):
                raise
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def _run_fetch(git: Git, refspecs: list[str], timeout: float) -> tuple[int, str]:
    proc = git.popen("-c", f"core.sshCommand={SSH_COMMAND}", "fetch", "--quiet", "--prune", "--no-tags", "--no-recurse-submodules", "origin", *refspecs)
    try:
        proc.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return -1, f"git fetch took longer than {timeout:g} s and was stopped"
    code, msg = proc.finish()
    return code, without_credentials(msg)


def _fetched_head(git_dir: str) -> str | None:
    try:
        with open(os.path.join(git_dir, "FETCH_HEAD"), "rb") as fh:
            for line in fh:
                parts = line.rstrip(b"\n").split(b"\t")
                if len(parts) >= 2 and parts[1] == b"" and len(parts[0]) in (40, 64):
                    return parts[0].decode("ascii")
    except OSError:
        return None
    return None


@contextmanager
def locked(git_dir: str) -> Iterator[None]:
    """Hold the copy's lock (blocks while another audit uses it)."""
    os.makedirs(os.path.dirname(git_dir), exist_ok=True)
    fd = os.open(git_dir + ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_EX)
        except ImportError:  # not POSIX: no lock
            pass
        yield
    finally:
        os.close(fd)


def update(repo: Repository, git_dir: str, timeout: float = FETCH_TIMEOUT) -> Snapshot:
    """Clone ``repo`` into ``git_dir`` (bare) or fetch what is new; its refs
    and HEAD afterwards. Raises FetchError with git's reason."""
    if repo.kind == "path":
        if not os.path.exists(repo.location):
            raise FetchError("no such folder")
        if not os.path.isdir(repo.location):
            raise FetchError("not a folder (give the repository's folder)")
    if not os.path.isfile(os.path.join(git_dir, "HEAD")):
        _init(git_dir)
    git = _fetch_git(git_dir, repo.location)
    refspecs = list(_MIRROR_REFSPECS if repo.kind == "path" else _REMOTE_REFSPECS)
    code, msg = _run_fetch(git, ["HEAD", *refspecs], timeout)
    head = None
    if code == 0:
        head = _fetched_head(git_dir)
    elif code > 0 and "couldn't find remote ref" in msg.lower():
        # No HEAD at the source (an empty repository, or HEAD names a
        # branch that does not exist): fetch the refs alone.
        code, msg = _run_fetch(git, refspecs, timeout)
    if code != 0:
        raise FetchError(f"cannot fetch: {msg}")
    plain = Git(git_dir)
    if head:
        plain.run("update-ref", "--no-deref", "HEAD", head)
    else:
        plain.run("symbolic-ref", "HEAD", _NO_HEAD)
    return snapshot(git_dir)


def snapshot(git_dir: str) -> Snapshot:
    """The copy's refs and HEAD as they are now."""
    git = Git(git_dir)
    tips = dict(refs(git))
    head = head_commit(git)
    if head:
        tips["HEAD"] = head
    return Snapshot(git_dir, dict(sorted(tips.items())), head)
