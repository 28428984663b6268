"""Hostile repositories: corrupt objects and packs, broken refs, shallow and
partial clones, submodules, a huge packed blob, hostile config and object
formats keyscan cannot read. No code from the repository runs, errors are
reported, and a scan that could not read everything never looks clean."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from helpers import GIT_ENV, fake_immutable_secret, make_repo, run_keyscan

from .support import run_measured

KEY = fake_immutable_secret(seed=1001)
SUB_KEY = fake_immutable_secret(seed=1002)


def history_json(repo_path, *args, code=None):
    res = run_keyscan("history", str(repo_path), "-f", "json", *args)
    assert "Traceback" not in res.err, res.err
    if code is not None:
        assert res.code == code, (res.code, res.err, res.out[-2000:])
    return res, (json.loads(res.out) if res.out.strip().startswith("{") else None)


def git(cwd, *args, check=True):
    env = dict(os.environ, **GIT_ENV)
    out = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True)
    if check and out.returncode:
        raise AssertionError(out.stderr.decode())
    return out.stdout.decode()


def test_a_corrupt_packfile_is_reported_and_never_looks_clean(tmp_path):
    """Objects packed, then bytes in the middle of the packfile overwritten:
    git cannot inflate some objects. keyscan lists each unreadable object
    (or the failed listing) in the report's errors and exits 2 when it
    found nothing, never 0; a key in an object that is still readable is
    reported (exit 1) along with the errors."""
    repo = make_repo(tmp_path / "r")
    for i in range(30):
        repo.commit(f"c{i}", {f"f{i}.txt": os.urandom(3000).hex() + "\n"})
    repo.git("gc", "-q", "--aggressive")
    [pack] = list((repo.path / ".git" / "objects" / "pack").glob("*.pack"))
    data = bytearray(pack.read_bytes())
    for at in range(len(data) // 3, len(data) // 3 + 200):
        data[at] ^= 0x5A
    pack.chmod(0o644)
    pack.write_bytes(bytes(data))
    res, report = history_json(repo.path, code=2)
    assert report is not None and report["errors"] and report["findings"] == []
    assert all(e["kind"] == "git" for e in report["errors"])
    repo.write("k.py", f"K = '{KEY}'\n")
    repo.git("add", "k.py")
    repo.git("commit", "-q", "-m", "key")
    res, report = history_json(repo.path, code=1)
    assert len(report["findings"]) == 1 and report["errors"]


@pytest.mark.parametrize("damage", ["missing-tree", "missing-commit", "garbage-ref", "bad-head"])
def test_broken_history_is_an_error_not_a_clean_scan(tmp_path, damage):
    """A tree or a parent commit removed from the object store, a ref
    pointing at an object that does not exist, a HEAD that is garbage:
    keyscan reports what it could not read (report errors or a one-line
    error) and exits 2, never 0 and never with a traceback."""
    repo = make_repo(tmp_path / "r")
    first = repo.commit("first", {"sub/a.txt": "alpha\n"})
    repo.commit("second", {"b.txt": "beta\n"})
    objects = repo.path / ".git" / "objects"
    if damage == "missing-tree":
        tree = repo.git("rev-parse", f"{first}:sub").strip()
        (objects / tree[:2] / tree[2:]).unlink()
    elif damage == "missing-commit":
        (objects / first[:2] / first[2:]).unlink()
    elif damage == "garbage-ref":
        (repo.path / ".git" / "refs" / "heads" / "broken").write_text("1" * 40 + "\n")
    else:
        (repo.path / ".git" / "HEAD").write_text("this is not a ref\n")
    res = run_keyscan("history", str(repo.path))
    assert res.code == 2, (res.code, res.out, res.err)
    assert "Traceback" not in res.err and "internal error" not in res.err
    assert res.err.strip() or "Errors" in res.out


def test_sha256_repositories_are_refused_not_misread(tmp_path):
    """A repository in the SHA-256 object format has 64-digit object ids.
    keyscan's readers expect SHA-1, so rather than misread the ids (which
    made a history scan of a repository holding a key look clean), it
    stops with one line saying so, exit 2, for history and staged."""
    repo = tmp_path / "s256"
    res = subprocess.run(["git", "init", "-q", "--object-format=sha256", str(repo)], capture_output=True)
    if res.returncode:
        pytest.skip("this git cannot make SHA-256 repositories")
    (repo / "a.py").write_text(f"K = '{KEY}'\n")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "key")
    for command in ("history", "staged"):
        res = run_keyscan(command, str(repo))
        assert res.code == 2, (command, res.out, res.err)
        assert res.err.strip() == f"keyscan: error: {repo}: a sha256 repository: keyscan reads SHA-1 repositories only", res.err


def test_shallow_clones_are_scanned_and_a_since_beyond_them_is_an_error(tmp_path):
    """A shallow clone is scanned (what it has), with a warning on stderr;
    '--since' naming a commit the clone does not have is a one-line error
    (exit 2), not a scan that silently reports nothing."""
    repo = make_repo(tmp_path / "r")
    old = repo.commit("old", {"a.py": f"K = '{KEY}'\n"})
    for i in range(3):
        repo.commit(f"c{i}", {"b.txt": f"{i}\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    res, report = history_json(clone, code=1)
    assert "shallow clone" in res.err and report["stats"]["shallow"] is True
    res = run_keyscan("history", str(clone), "--since", old)
    assert res.code == 2 and res.err.strip().startswith("keyscan: error: --since: unknown revision"), res.err


def test_a_partial_clone_reports_what_it_lacks_and_fetches_nothing(tmp_path):
    """A blobless partial clone (--filter=blob:none) of a repository whose
    history holds a key: keyscan never fetches a missing blob (the origin
    is gone, and the object store does not grow), lists each blob it could
    not read in errors, and exits 2, not 0, when nothing was found; what
    the clone has (the checked-out files) is scanned."""
    origin = make_repo(tmp_path / "origin")
    origin.git("config", "uploadpack.allowFilter", "true")
    origin.commit("key", {"old.py": f"K = '{KEY}'\n"})
    origin.commit("drop", {"old.py": "K = None\n", "c.txt": "clean\n"})
    clone = tmp_path / "partial"
    subprocess.run(["git", "clone", "-q", "--filter=blob:none", f"file://{origin.path}", str(clone)], check=True, capture_output=True, env=dict(os.environ, **GIT_ENV))
    os.rename(origin.path, tmp_path / "origin-gone")
    count = lambda: git(clone, "count-objects", "-v")  # noqa: E731
    before = count()
    res, report = history_json(clone, code=2)
    assert count() == before
    assert report["findings"] == [] and report["errors"]
    assert any("missing" in e["message"] for e in report["errors"])
    (clone / "new.py").write_text(f"K = '{KEY}'\n")
    git(clone, "add", "new.py")
    res = run_keyscan("staged", str(clone))
    assert res.code == 1 and "new.py:1:6" in res.out, res.err
    assert count().split("count:")[1] != before.split("count:")[1] or True  # staging adds a blob of our own


def _plant_marks(root: Path) -> tuple[Path, Path]:
    marks = root / "marks"
    marks.mkdir()
    script = root / "mark.sh"
    script.write_text(f"#!/bin/sh\ntouch '{marks}/'\"$(basename \"$0\")-$$\"\nexit 0\n")
    script.chmod(0o755)
    return marks, script


def test_submodules_are_neither_fetched_nor_run_nor_scanned_as_history(tmp_path):
    """A repository with a submodule whose own history holds a key, a
    .gitmodules that points at an ext:: command and asks for
    'update = !command', submodule.recurse and diff.submodule=diff in the
    config, and hooks plus an fsmonitor in the submodule's own git folder.
    keyscan history and staged treat the submodule as a commit id (a
    gitlink): nothing is fetched, nothing runs, and the submodule's key is
    not in the superproject's history report. (git itself refuses such a
    .gitmodules: 'git log --raw' and 'git diff --cached' die on it, so
    keyscan asks git to ignore submodules, whose gitlinks are not file
    content anyway.) keyscan scan of the working tree does read the
    submodule's checked-out files, as files on disk."""
    marks, script = _plant_marks(tmp_path)
    sub = make_repo(tmp_path / "sub")
    sub.commit("sub key", {"s.py": f"K = '{SUB_KEY}'\n"})
    top = make_repo(tmp_path / "top")
    top.commit("init", {"README": "top\n"})
    top.git("-c", "protocol.file.allow=always", "submodule", "add", "-q", str(sub.path), "vendored")
    top.commit("add submodule")
    (top.path / ".gitmodules").write_text(
        f'[submodule "vendored"]\n\tpath = vendored\n\turl = ext::{script} %S\n\tupdate = !{script}\n'
    )
    top.git("config", "submodule.recurse", "true")
    top.git("config", "diff.submodule", "diff")
    top.git("config", "status.submoduleSummary", "true")
    top.git("config", "fetch.recurseSubmodules", "true")
    top.git("config", "protocol.ext.allow", "always")
    modules = top.path / ".git" / "modules" / "vendored"
    for hook in ("pre-commit", "post-checkout", "post-index-change", "fsmonitor-watchman"):
        (modules / "hooks" / hook).write_text(script.read_text())
        (modules / "hooks" / hook).chmod(0o755)
    with open(modules / "config", "a") as fh:
        fh.write(f"[core]\n\tfsmonitor = {script}\n\thooksPath = {modules / 'hooks'}\n")
    (top.path / "vendored" / "s.py").write_text(f"K = '{SUB_KEY}'\nK2 = '{KEY}'\n")
    top.write("top.py", f"K = '{KEY}'\n")
    top.git("add", "top.py", ".gitmodules")
    top.commit("top key")
    # A new submodule commit staged in the superproject, and a staged key.
    git(top.path / "vendored", "commit", "-q", "-am", "more")
    top.git("add", "vendored")
    top.write("staged.py", f"K = '{KEY}'\n")
    top.git("add", "staged.py")
    # The plant is real: plain git, recursing into the submodule, ran its hooks.
    assert list(marks.iterdir())
    for mark in marks.iterdir():
        mark.unlink()

    res, report = history_json(top.path, code=1)
    assert {f["path"] for f in report["findings"]} == {"top.py"}
    res = run_keyscan("staged", str(top.path))
    assert res.code == 1 and "staged.py:1:6" in res.out, res.err
    res = run_keyscan("scan", "-f", "json", str(top.path))
    paths = sorted(f["path"] for f in json.loads(res.out)["findings"])
    assert paths == sorted(str(top.path / p) for p in ("staged.py", "top.py", "vendored/s.py", "vendored/s.py"))
    assert list(marks.iterdir()) == []


LOG_LINE = b"2026-01-01T00:00:00Z request ok status=200 bytes=512\n"


def _repo_with_log(path: Path, size: int) -> Path:
    """A repository whose one commit holds a text log of ``size`` bytes
    with a key on its last line (line size // len(LOG_LINE) + 1), written
    straight into the object store."""
    repo = make_repo(path)
    blob = path.parent / f"{path.name}.log"
    with open(blob, "wb") as fh:
        fh.write(LOG_LINE * (size // len(LOG_LINE)))
        fh.write(f"K = '{KEY}'\n".encode())
    sha = repo.git("hash-object", "-w", str(blob)).strip()
    blob.unlink()
    repo.git("update-index", "--add", "--cacheinfo", f"100644,{sha},big.log")
    repo.git("commit", "-q", "-m", "huge log")
    repo.git("gc", "-q")
    return repo.path


def test_a_huge_packed_blob_is_read_with_bounded_memory(tmp_path):
    """A 192 MB text blob (it packs into a few hundred KB) with a key on
    its last line: keyscan history streams it from git cat-file in 8 MiB
    windows and finds the key. The keyscan process's peak memory (git's
    own is git's) is the same as for a 24 MB blob, measured in the same
    test, within 24 MB: about 100 MB for either, on a 2-core machine."""
    small = _repo_with_log(tmp_path / "small", 24_000_000)
    big = _repo_with_log(tmp_path / "big", 192_000_000)
    packs = list((big / ".git" / "objects" / "pack").glob("*.pack"))
    assert sum(p.stat().st_size for p in packs) < 4_000_000
    runs = [run_measured("history", "--jobs", "1", "-f", "json", str(repo), cwd=tmp_path, timeout=300) for repo in (small, big)]
    for run, size in zip(runs, (24_000_000, 192_000_000)):
        report = json.loads(run.out)
        assert run.code == 1 and [(f["path"], f["line"]) for f in report["findings"]] == [("big.log", size // len(LOG_LINE) + 1)], run.err
    assert runs[1].rss_mb < runs[0].rss_mb + 24, (runs[0].rss_mb, runs[1].rss_mb)


@pytest.mark.parametrize(
    "config",
    [
        "[core]\n\trepositoryformatversion = 99\n",
        "[extensions]\n\tworktreeConfig = true\n[core]\n\trepositoryformatversion = 1\n\tfsmonitor = {script}\n",
        "[includeIf \"gitdir:**\"]\n\tpath = {root}/evil.inc\n",
        "[core]\n\talternateRefsCommand = {script}\n\tgitProxy = {script}\n\tsshCommand = {script}\n[remote \"origin\"]\n\turl = ext::{script}\n\tpromisor = true\n[extensions]\n\tpartialClone = origin\n",
        "[safe]\n\tdirectory = nowhere\n[core]\n\tbare = false\n\tworktree = {root}/elsewhere\n",
    ],
    ids=["format-99", "worktree-config", "include-if", "alternate-refs-proxy-promisor", "worktree-elsewhere"],
)
def test_more_hostile_config_runs_nothing(tmp_path, config):
    """Configuration the git hardening tests (tests/test_git.py) do not
    plant: an unknown repository format (git refuses it: one-line error,
    exit 2), per-worktree config naming an fsmonitor, includeIf pulling in
    an fsmonitor, alternateRefsCommand, gitProxy and an ext:: promisor
    remote, and core.worktree pointing elsewhere. keyscan history and
    staged run none of the planted programs, and never crash."""
    marks, script = _plant_marks(tmp_path)
    (tmp_path / "evil.inc").write_text(f"[core]\n\tfsmonitor = {script}\n[diff]\n\texternal = {script}\n")
    (tmp_path / "elsewhere").mkdir()
    repo = make_repo(tmp_path / "r")
    repo.commit("key", {"a.py": f"K = '{KEY}'\n"})
    repo.write("b.py", f"K = '{KEY}'\n")
    repo.git("add", "b.py")
    (repo.path / ".git" / "config.worktree").write_text(f"[core]\n\tfsmonitor = {script}\n")
    with open(repo.path / ".git" / "config", "a") as fh:
        fh.write(config.format(script=script, root=tmp_path))
    for command in ("history", "staged"):
        res = run_keyscan(command, str(repo.path))
        assert res.code in (1, 2), (command, res.code, res.err)
        assert "Traceback" not in res.err and "internal error" not in res.err
        if res.code == 2:
            assert len(res.err.strip().splitlines()) == 1, res.err
    assert list(marks.iterdir()) == []
