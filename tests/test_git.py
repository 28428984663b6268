"""keyscan.git: nothing from a scanned repository runs. Each test plants
programs where a repository's config, attributes, hooks or remotes could make
git run them, checks that plain git does run them (so the plant is real), and
then shows that keyscan history and keyscan staged run none of them."""
from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from helpers import GIT_ENV, fake_immutable_secret, make_repo, run_keyscan
from keyscan import git as kgit
from keyscan.errors import KeyscanError

PROGRAMS = (
    "fsmonitor", "pager", "pager-log", "pager-diff", "askpass", "ssh", "editor", "ext-diff", "textconv",
    "diff-command", "clean", "smudge", "process", "gpg", "credential", "pack-hook", "hook", "ext-remote",
    "env-ext-diff", "env-ssh", "env-askpass", "env-pager", "system-fsmonitor", "include-fsmonitor",
)
HOOKS = ("pre-commit", "post-commit", "post-checkout", "post-index-change", "reference-transaction", "pre-auto-gc", "fsmonitor-watchman", "post-rewrite", "pre-push")


def plant_programs(root: Path) -> tuple[Path, Path]:
    """A folder of scripts that each leave a mark named after themselves."""
    bin_dir, marks = root / "bin", root / "marks"
    bin_dir.mkdir()
    marks.mkdir()
    for name in PROGRAMS:
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\ntouch '{marks / name}'\nexit 0\n")
        script.chmod(0o755)
    return bin_dir, marks


def plant_repo(repo, bin_dir: Path) -> None:
    """Everything a repository's own files can use to make git run a program."""
    b = bin_dir
    hooks = repo.path / "my-hooks"
    hooks.mkdir()
    for name in HOOKS:
        for folder in (hooks, repo.path / ".git" / "hooks"):
            dest = folder / name
            dest.write_text((b / "hook").read_text())
            dest.chmod(0o755)
    include = repo.path / ".git" / "evil.inc"
    include.write_text(f"[core]\n\tfsmonitor = {b}/include-fsmonitor\n")
    with open(repo.path / ".git" / "config", "a") as fh:
        fh.write(
            f"""[core]
\tfsmonitor = {b}/fsmonitor
\thooksPath = {hooks}
\tpager = {b}/pager
\taskPass = {b}/askpass
\tsshCommand = {b}/ssh
\teditor = {b}/editor
[diff]
\texternal = {b}/ext-diff
[diff "evil"]
\ttextconv = {b}/textconv
\tcommand = {b}/diff-command
[filter "evil"]
\tclean = {b}/clean
\tsmudge = {b}/smudge
\tprocess = {b}/process
\trequired = true
[pager]
\tlog = {b}/pager-log
\tdiff = {b}/pager-diff
[log]
\tshowSignature = true
[gpg]
\tprogram = {b}/gpg
[credential]
\thelper = {b}/credential
[protocol]
\tallow = always
[protocol "ext"]
\tallow = always
[protocol "file"]
\tallow = always
[uploadpack]
\tpackObjectsHook = {b}/pack-hook
[include]
\tpath = {include}
"""
        )
    (repo.path / ".git" / "info").mkdir(exist_ok=True)
    (repo.path / ".git" / "info" / "attributes").write_text("* diff=evil filter=evil\n")
    (repo.path / ".gitattributes").write_text("* diff=evil filter=evil\n")


def hostile_env(root: Path, bin_dir: Path) -> dict[str, str]:
    """Program-naming variables a caller might have set; keyscan drops them."""
    system = root / "system-gitconfig"
    system.write_text(f"[core]\n\tfsmonitor = {bin_dir}/system-fsmonitor\n")
    return {
        "GIT_CONFIG_SYSTEM": str(system),
        "GIT_CONFIG_NOSYSTEM": "",
        "GIT_EXTERNAL_DIFF": f"{bin_dir}/env-ext-diff",
        "GIT_SSH_COMMAND": f"{bin_dir}/env-ssh",
        "GIT_ASKPASS": f"{bin_dir}/env-askpass",
        "GIT_PAGER": f"{bin_dir}/env-pager",
    }


def plain_git(repo, *args, env=None, tty=False):
    full = dict(os.environ, **GIT_ENV)
    full.pop("GIT_CONFIG_NOSYSTEM")
    full.update(env or {})
    argv = ["git", *args]
    if tty:
        argv = ["script", "-qec", shlex.join(argv), os.devnull]
    return subprocess.run(argv, cwd=repo.path, env=full, capture_output=True, stdin=subprocess.DEVNULL)


def marks_of(marks: Path) -> set[str]:
    return {p.name for p in marks.iterdir()}


def test_nothing_planted_in_a_repository_runs(tmp_path):
    bin_dir, marks = plant_programs(tmp_path)
    repo = make_repo(tmp_path / "r")
    key, staged_key = fake_immutable_secret(seed=1), fake_immutable_secret(seed=2)
    repo.commit("key", {"a.py": f"K = '{key}'\n", "b.txt": "plain\n"})
    repo.commit("more", {"b.txt": "plain\nmore\n"})
    repo.write("c.py", f"K2 = '{staged_key}'\n")
    repo.git("add", "c.py")
    plant_repo(repo, bin_dir)
    env = hostile_env(tmp_path, bin_dir)

    # The plant is real: plain git runs these programs.
    plain_git(repo, "status", env=env)
    no_filter = ("-c", "filter.evil.process=", "-c", "filter.evil.required=false")
    plain_git(repo, *no_filter, "diff", "--cached", env=env)
    plain_git(repo, *no_filter, "-c", "core.fsmonitor=", "diff", "--cached", "--no-ext-diff", env={})
    if shutil.which("script"):  # a terminal, so that plain git starts its pager
        plain_git(repo, "-c", "core.fsmonitor=", "-c", "log.showSignature=false", "-c", "filter.evil.process=",
                  "-c", "filter.evil.required=false", "log", "-1", "--no-ext-diff", env={}, tty=True)
        assert "pager-log" in marks_of(marks)
    ran = marks_of(marks)
    assert {"include-fsmonitor", "process", "diff-command", "textconv"} <= ran, ran
    for p in marks.iterdir():
        p.unlink()

    runs = [
        run_keyscan("history", str(repo.path), env=env),
        run_keyscan("history", "--since", "HEAD~1", "--branch", "main", str(repo.path), env=env),
        run_keyscan("staged", str(repo.path), env=env),
        run_keyscan("history", cwd=repo.path, env=env),
        run_keyscan("staged", cwd=repo.path, env=env),
    ]
    assert marks_of(marks) == set()
    assert [r.code for r in runs] == [1, 0, 1, 1, 1], [r.err for r in runs]
    assert "a.py:1:6" in runs[0].out and "c.py:1:7" in runs[2].out
    assert all(r.err == "" for r in runs)


@pytest.mark.parametrize("transport", ["ext", "ssh"])
def test_a_partial_clone_never_fetches_a_missing_object(tmp_path, transport):
    bin_dir, marks = plant_programs(tmp_path)
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=3)
    repo.commit("files", {"a.py": f"K = '{key}'\n", "b.txt": "plain\n"})
    blob = repo.git("rev-parse", "HEAD:b.txt").strip()
    repo.git("config", "core.repositoryformatversion", "1")
    repo.git("config", "extensions.partialClone", "origin")
    url, mark = (f"ext::{bin_dir}/ext-remote %S", "ext-remote") if transport == "ext" else ("ssh://git.invalid/repo.git", "ssh")
    repo.git("config", "remote.origin.url", url)
    repo.git("config", "remote.origin.promisor", "true")
    repo.git("config", "protocol.ext.allow", "always")
    repo.git("config", "core.sshCommand", f"{bin_dir}/ssh")
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    plain_git(repo, "cat-file", "-p", blob)
    assert marks_of(marks) == {mark}  # plain git runs it to fetch the object
    (marks / mark).unlink()
    res = run_keyscan("history", str(repo.path), env={"GIT_SSH_COMMAND": f"{bin_dir}/env-ssh"})
    assert marks_of(marks) == set()
    assert res.code == 1 and f"{blob}: git: object {blob} is missing" in res.out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to give the repository to another user")
def test_a_checkout_owned_by_someone_else_can_be_scanned(tmp_path):
    repo = make_repo(tmp_path / "theirs")
    key = fake_immutable_secret(seed=4)
    repo.commit("key", {"a.py": f"K = '{key}'\n"})
    repo.write("b.py", f"K = '{key}'\n")
    repo.git("add", "b.py")
    for dirpath, dirnames, filenames in os.walk(repo.path):
        for name in [*dirnames, *filenames]:
            os.chown(os.path.join(dirpath, name), 65534, 65534, follow_symlinks=False)
    os.chown(repo.path, 65534, 65534)
    assert b"dubious ownership" in plain_git(repo, "log").stderr
    assert run_keyscan("history", str(repo.path)).code == 1
    assert run_keyscan("staged", str(repo.path)).code == 1


def test_hardened_environment():
    base = {
        "PATH": "/usr/bin", "HOME": "/home/u", "GIT_EXTERNAL_DIFF": "x", "GIT_SSH_COMMAND": "x", "GIT_SSH": "x",
        "GIT_ASKPASS": "x", "SSH_ASKPASS": "x", "GIT_CONFIG_SYSTEM": "x", "GIT_PAGER": "less",
        "GIT_DIR": "/r/.git", "GIT_INDEX_FILE": "/r/.git/next-index", "GIT_WORK_TREE": "/r",
    }
    env = kgit.hardened_env(False, base)
    for name in ("GIT_EXTERNAL_DIFF", "GIT_SSH_COMMAND", "GIT_SSH", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_CONFIG_SYSTEM", "GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE"):
        assert name not in env
    assert env["GIT_CONFIG_NOSYSTEM"] == "1" and env["GIT_TERMINAL_PROMPT"] == "0" and env["GIT_PAGER"] == "cat"
    assert env["GIT_NO_LAZY_FETCH"] == "1" and env["GIT_OPTIONAL_LOCKS"] == "0"
    assert env["PATH"] == "/usr/bin" and env["HOME"] == "/home/u"
    kept = kgit.hardened_env(True, base)
    assert kept["GIT_INDEX_FILE"] == "/r/.git/next-index" and kept["GIT_DIR"] == "/r/.git"
    assert "GIT_EXTERNAL_DIFF" not in kept
    args = kgit.config_args()
    pairs = dict(a.split("=", 1) for a in args[1::2])
    assert args[::2] == ["-c"] * len(pairs)
    assert pairs["core.hooksPath"] == "/dev/null" and pairs["core.fsmonitor"] == "false"
    assert pairs["protocol.allow"] == "never" and pairs["protocol.ext.allow"] == "never"
    assert pairs["safe.directory"] == "*" and pairs["diff.external"] == "" and pairs["core.pager"] == "cat"


def test_git_not_installed_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(kgit, "GIT_EXE", str(tmp_path / "no-git-here"))
    with pytest.raises(KeyscanError, match="git is not installed or not on PATH"):
        kgit.open_repo(str(tmp_path))


def test_unquote():
    assert kgit.unquote(b'"b/tab\\there \\"q\\" \\\\ caf\\303\\251 n\\377"') == b'b/tab\there "q" \\ caf\xc3\xa9 n\xff'
    assert kgit.unquote(b"b/plain name") == b"b/plain name"
    assert kgit.unquote(b'"b/end\\') == b'"b/end\\'


def test_untrusted_text_is_one_line():
    assert kgit.clean("a\nb\x1b[31m\tc") == "a\\x0ab\\x1b[31m\tc"
    assert kgit.display(b"caf\xe9/\xc3\xa9") == "caf\\xe9/é"


def test_read_blobs_streams_in_order_and_reports_missing(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.commit("files", {"a.txt": "A" * 100_000, "b.txt": "b\n"})
    a = repo.git("rev-parse", "HEAD:a.txt").strip()
    b = repo.git("rev-parse", "HEAD:b.txt").strip()
    git = kgit.open_repo(str(repo.path)).git
    items = [(a, b"a.txt"), ("0" * 39 + "1", b"nowhere"), (b, b"b.txt")]
    out = []
    for blob in kgit.read_blobs(git, kgit.BlobList.of(items)):
        if blob.error:
            out.append((blob.path, "error"))
        elif blob.path == b"a.txt":
            out.append((blob.path, len(blob.stream.read(10))))  # the rest is drained
        else:
            out.append((blob.path, blob.stream.read()))
    assert out == [(b"a.txt", 10), (b"nowhere", "error"), (b"b.txt", b"b\n")]
    assert stat.S_ISDIR(os.stat(repo.path).st_mode)


def test_one_cat_file_serves_batch_after_batch(tmp_path):
    """A history worker reads every batch through one cat-file: the same
    process answers the next batch, a missing object is reported without
    losing it, and a reader stopped half way never leaves replies behind
    for the next batch (a fresh process takes over)."""
    repo = make_repo(tmp_path / "r")
    repo.commit("files", {f"f{i}.txt": f"file {i}\n" * (i + 1) for i in range(6)})
    info = kgit.open_repo(str(repo.path))
    listing = repo.git("ls-tree", "HEAD").splitlines()
    items = [(line.split()[2], line.split("\t")[1].encode()) for line in listing]
    expected = {sha: repo.git("cat-file", "blob", sha).encode() for sha, _ in items}
    cat = kgit.CatFile(info.git)

    def read(batch):
        return [(b.sha, b.error, b.stream.read() if b.stream is not None else None) for b in kgit.read_blobs(info.git, kgit.BlobList.of(batch), cat)]

    first = read(items[:3])
    pid = cat.proc.proc.pid
    missing = "0123456789abcdef0123456789abcdef01234567"
    second = read([items[3], (missing, b"gone.txt"), items[4]])
    assert cat.proc.proc.pid == pid  # the same process
    assert [(sha, data) for sha, _, data in first] == [(sha, expected[sha]) for sha, _ in items[:3]]
    assert second[0][2] == expected[items[3][0]] and second[2][2] == expected[items[4][0]]
    assert second[1][0] == missing and "missing" in second[1][1]

    blobs = kgit.read_blobs(info.git, kgit.BlobList.of(items), cat)
    next(blobs)  # stop after the first reply: the rest are pending
    blobs.close()
    assert cat.proc is None
    assert [data for _, _, data in read(items[5:])] == [expected[items[5][0]]]
    assert cat.proc.proc.pid != pid
    cat.close()


def test_split_log_finds_what_one_log_finds(tmp_path, monkeypatch):
    """The provenance walk shared by several git processes (consecutive
    parts of the commit order, each diffed by `git log --no-walk=unsorted
    --stdin`) gives the commits, changes and order of one `git log`: on a
    history with branches, merges, a root commit, deletions, and the same
    blob added at two paths and re-added after removal."""
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=31)
    repo.commit("root", {"a.txt": "plain\n"})
    repo.commit("key", {"cfg/app.env": f"K={key}\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("copy", {"other/copy.env": f"K={key}\n", "b.txt": "side\n"})
    repo.git("checkout", "-q", "main")
    repo.git("rm", "-q", "cfg/app.env")
    repo.git("commit", "-q", "-m", "remove")
    for i in range(6):
        repo.commit(f"work {i}", {f"w{i}.txt": f"{i}\n"})
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    repo.commit("back", {"cfg/app.env": f"K={key}\n"})
    info = kgit.open_repo(str(repo.path))
    blob = repo.git("rev-parse", "HEAD:cfg/app.env").strip()
    other = repo.git("rev-parse", "HEAD:w3.txt").strip()
    monkeypatch.setattr(kgit, "SPLIT_LOG_MIN_COMMITS", 2)
    for reverse in (True, False):
        one = list(kgit.log_changes(info.git, ["--all"], find_objects=[blob, other], reverse=reverse))
        assert len(one) >= 4
        for jobs in (2, 3, 5):
            assert list(kgit.log_changes(info.git, ["--all"], find_objects=[blob, other], reverse=reverse, jobs=jobs)) == one


def test_split_log_and_refs_from_a_commit_graph_read_beforehand(tmp_path, monkeypatch):
    """The commit graph read once in the background (`commit_graph`) gives
    the split provenance walk and `refs_containing` exactly what they find
    by running git themselves."""
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=32)
    repo.commit("root", {"a.txt": "plain\n"})
    repo.commit("key", {"cfg/app.env": f"K={key}\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"b.txt": "side\n", "cfg/app.env": "K=none\n"})
    repo.git("checkout", "-q", "main")
    for i in range(4):
        repo.commit(f"work {i}", {f"w{i}.txt": f"{i}\n"})
    repo.git("merge", "-q", "--no-ff", "-m", "merge side", "side")
    repo.git("tag", "v1", "HEAD~2")
    info = kgit.open_repo(str(repo.path))
    graph = kgit.commit_graph(info.git, ["--all"])
    commits = repo.git("rev-list", "--all").split()
    assert sorted(line.split()[0].decode() for line in graph) == sorted(commits)
    blob = repo.git("rev-parse", "HEAD~1:cfg/app.env").strip()
    monkeypatch.setattr(kgit, "SPLIT_LOG_MIN_COMMITS", 2)
    for reverse in (True, False):
        own = list(kgit.log_changes(info.git, ["--all"], find_objects=[blob], reverse=reverse, jobs=2))
        assert len(own) >= 2
        assert own == list(kgit.log_changes(info.git, ["--all"], find_objects=[blob], reverse=reverse))  # one git log, not split
        assert list(kgit.log_changes(info.git, ["--all"], find_objects=[blob], reverse=reverse, jobs=2, graph=graph)) == own
    own_refs = kgit.refs_containing(info.git, commits)
    assert own_refs[repo.git("rev-parse", "HEAD~2").strip()] == ["refs/heads/main", "refs/tags/v1"]
    assert kgit.refs_containing(info.git, commits, graph) == own_refs


def _listing(git, revs=("--all",)) -> list[tuple[bytes, bytes]]:
    blobs = kgit.BlobList()
    kgit.fill_blobs(git, list(revs), blobs)
    assert blobs.error is None, blobs.error
    return [(blobs.sha(i).encode(), blobs.path(i)) for i in range(len(blobs))]


def _offsets(idx: Path) -> dict[str, int]:
    """Object id -> offset in the pack, as git's own show-index reads the index."""
    lines = subprocess.run(["git", "show-index"], input=idx.read_bytes(), capture_output=True, check=True).stdout.splitlines()
    return {line.split()[1].decode(): int(line.split()[0]) for line in lines}


def test_blobs_are_read_in_pack_order_missing_ones_last(tmp_path):
    """`in_pack_order` orders the listing's blobs as the packs hold them
    (what cat-file's delta cache wants): the newest pack's first, each
    pack's by offset (from its index file), then the blobs no pack holds
    (loose, or missing) in listing order."""
    repo = make_repo(tmp_path / "r")
    for i in range(6):
        repo.commit(f"c{i}", {f"sub/f{j}.txt": f"{i} {j}\n" * (20 + i) for j in range(4)})
    repo.git("repack", "-a", "-d", "-q")
    repo.commit("second pack", {"sub/extra.txt": "extra\n", "sub/f0.txt": "again\n" * 30})
    repo.git("repack", "-d", "-q")  # the new objects only, in a second pack
    repo.commit("loose", {"new.txt": "loose\n"})
    packs = sorted((repo.path / ".git/objects/pack").glob("*.idx"), key=lambda p: len(_offsets(p)))
    newer, older = packs  # the second pack is the smaller
    os.utime(older, (1_000_000_000, 1_000_000_000))
    info = kgit.open_repo(str(repo.path))
    listed = _listing(info.git)
    ghost = b"1234567890abcdef1234567890abcdef12345678"
    blobs = kgit.BlobList.of([(ghost, b"ghost.txt"), *listed])
    order = list(kgit.in_pack_order(info.git, blobs))
    assert sorted(order) == list(range(len(blobs)))
    shas = [blobs.sha(i) for i in order]
    first, second = _offsets(newer), _offsets(older)
    in_first = [s for s in shas if s in first]
    in_second = [s for s in shas if s in second and s not in first]
    rest = [blobs.sha(i) for i in range(len(blobs)) if blobs.sha(i) not in first and blobs.sha(i) not in second]
    assert shas == in_first + in_second + rest
    assert in_first == sorted(in_first, key=first.__getitem__) and len(in_first) == 2
    assert in_second == sorted(in_second, key=second.__getitem__) and len(in_second) == 24
    assert rest == [ghost.decode(), repo.git("rev-parse", "HEAD:new.txt").strip()]


def test_a_blob_list_spilled_to_a_file_gives_its_blobs_back_in_order_and_in_batches():
    ids = [bytes([i % 256, i // 256]) * 10 for i in range(1500)]
    blobs = kgit.BlobList.of([(raw.hex(), f"dir/{i % 7}.txt".encode()) for i, raw in enumerate(ids)])
    order = [*range(1499, 999, -1), *range(1000)]
    batches = list(blobs.spill(order, 512))
    assert [len(b) for b in batches] == [512, 512, 476]
    assert [item for b in batches for item in b] == [(ids[i].hex(), f"dir/{i % 7}.txt".encode()) for i in order]
    assert len(blobs) == 0
    assert list(kgit.BlobList.of([]).spill([], 512)) == []


def test_a_temporary_file_that_cannot_be_written_is_one_clear_error(tmp_path, monkeypatch):
    """The blob list spilled for the workers and the commit graph git writes
    go to unnamed temporary files: a full disk there is a KeyscanError
    naming the folder and TMPDIR (one line from the CLI), never a traceback."""
    import errno

    from keyscan.errors import KeyscanError

    class Full:
        def write(self, data):
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self):
            pass

    blobs = kgit.BlobList.of([(b"ab" * 20, b"p"), (b"cd" * 20, b"q")])
    monkeypatch.setattr(kgit, "_temporary_file", Full)
    with pytest.raises(KeyscanError, match=r"^cannot write a temporary file in .*: No space left on device \(set TMPDIR to a folder with room\)$"):
        blobs.spill([0, 1], 10)

    def refused():
        raise kgit._temporary_error(OSError(errno.EROFS, "Read-only file system"))

    monkeypatch.setattr(kgit, "_temporary_file", refused)
    repo = make_repo(tmp_path / "r")
    repo.commit("a", {"a.txt": "a\n"})
    with pytest.raises(KeyscanError, match="Read-only file system"):
        kgit.commit_graph(kgit.open_repo(str(repo.path)).git, ["--all"])


def test_the_listing_names_every_blob_of_the_history_once(tmp_path):
    """The listing from each commit's changes holds exactly the blobs
    ``rev-list --objects`` reaches (a merge's own resolution, a symlink and
    a blob only a tag reaches included; no tree, no submodule commit),
    each once however often it comes back (a revert, a copy), at the first
    path not dropped, newest commit first."""
    repo = make_repo(tmp_path / "r")
    repo.commit("root", {"a.txt": "same\n", "vendor/lib.js": "shared()\n"})
    repo.commit("copy and change", {"b.txt": "same\n", "a.txt": "changed\n"})
    repo.commit("revert", {"a.txt": "same\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side", {"c.txt": "side\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main moves", {"d.txt": "main\n"})
    repo.git("merge", "-q", "--no-ff", "--no-commit", "side")
    repo.write("merge-only.txt", "made by the merge\n")
    repo.git("add", "-A")
    repo.git("commit", "-q", "-m", "merge with a file of its own")
    os.symlink("a.txt", repo.path / "link")
    repo.commit("symlink, and vendored code copied", {"src/lib.js": "shared()\n"})
    sub = make_repo(tmp_path / "sub")
    sub_head = sub.commit("sub", {"s.txt": "s\n"})
    repo.git("update-index", "--add", "--cacheinfo", f"160000,{sub_head},module")
    repo.git("commit", "-q", "-m", "a submodule entry")
    repo.git("checkout", "-q", "--orphan", "tagged")
    repo.git("rm", "-rfq", ".")
    repo.commit("only under a tag", {"t.txt": "tagged\n"})
    repo.git("tag", "t1")
    repo.git("checkout", "-q", "main")
    repo.git("branch", "-D", "tagged")
    info = kgit.open_repo(str(repo.path))
    listed = _listing(info.git)
    objects = repo.git("rev-list", "--objects", "--all").split("\n")
    kinds = repo.git("cat-file", "--batch-check=%(objectname) %(objecttype)", input="".join(line[:40] + "\n" for line in objects if line).encode()).split()
    blobs = {sha for sha, kind in zip(kinds[0::2], kinds[1::2]) if kind == "blob"}
    assert sorted(sha.decode() for sha, _ in listed) == sorted(blobs) and len(listed) == 8
    path_of = {sha.decode(): path for sha, path in listed}
    assert path_of[repo.git("rev-parse", "HEAD:a.txt").strip()] == b"a.txt"  # the revert is newer than the copy
    assert path_of[repo.git("rev-parse", "HEAD:src/lib.js").strip()] == b"src/lib.js"
    assert path_of[repo.git("rev-parse", "HEAD:merge-only.txt").strip()] == b"merge-only.txt"
    # With the commit graph at hand, merges are diffed by a second git (or,
    # without a graph, by a second walk): the same blobs, non-merges' first.
    for graph in (lambda: kgit.commit_graph(info.git, ["--all"]), lambda: None):
        both = kgit.BlobList()
        kgit.fill_blobs(info.git, ["--all"], both, graph=graph)
        assert both.error is None and sorted(both.sha(i) for i in range(len(both))) == sorted(blobs)
        assert both.sha(len(both) - 1) == repo.git("rev-parse", "HEAD:merge-only.txt").strip()  # only a merge brings it
    kept = kgit.BlobList()
    kgit.fill_blobs(info.git, ["--all"], kept, keep=lambda path: not path.startswith(b"src/"))
    assert kept.path(kept.find(bytes.fromhex(repo.git("rev-parse", "HEAD:src/lib.js").strip()))) == b"vendor/lib.js"
    assert len(kept) == 8


def test_blobs_refs_point_at_are_found_even_beside_a_ref_to_a_missing_object(tmp_path):
    """``tagged_blobs``: a blob a tag points at (plain or annotated), the
    blobs under a tagged tree; with a ref to an object git does not have
    (for-each-ref then fails as a whole), the same, object by object, and
    the missing one named."""
    repo = make_repo(tmp_path / "r")
    repo.commit("init", {"a.txt": "a\n"})
    blob = repo.git("hash-object", "-w", "--stdin", input=b"loose blob\n").strip()
    repo.git("tag", "plain", blob)
    repo.git("tag", "-a", "-m", "annotated", "annotated", blob)
    repo.write("d/in-tree.txt", "in a tree\n")
    repo.git("add", "d")
    tree = repo.git("write-tree").strip()
    repo.git("reset", "-q")
    repo.git("tag", "-a", "-m", "a tree", "treetag", tree)
    git = kgit.open_repo(str(repo.path)).git
    missing: list[str] = []
    whole = sorted(kgit.tagged_blobs(git, missing))
    in_tree = repo.git("rev-parse", f"{tree}:d/in-tree.txt").strip().encode()
    a_txt = repo.git("rev-parse", "HEAD:a.txt").strip().encode()
    assert whole == sorted([(blob.encode(), b"refs/tags/annotated"), (blob.encode(), b"refs/tags/plain"), (a_txt, b"a.txt"), (in_tree, b"d/in-tree.txt")])
    assert missing == []
    (repo.path / ".git/refs/heads/broken").write_text("1" * 40 + "\n")
    assert sorted(kgit.tagged_blobs(git, missing)) == whole
    assert missing == ["1" * 40]


def test_the_listing_goes_on_past_a_tree_git_cannot_read(tmp_path):
    """When git's log stops at a missing tree, the listing is completed by
    ``rev-list --objects --missing=print``: the blobs it can still reach are
    listed once, the missing tree is named."""
    repo = make_repo(tmp_path / "r")
    repo.commit("first", {"sub/a.txt": "alpha\n", "top.txt": "top\n"})
    repo.commit("second", {"b.txt": "beta\n"})
    tree = repo.git("rev-parse", "HEAD:sub").strip()
    (repo.path / ".git/objects" / tree[:2] / tree[2:]).unlink()
    blobs = kgit.BlobList()
    kgit.fill_blobs(kgit.open_repo(str(repo.path)).git, ["--all"], blobs)
    assert blobs.error is None and blobs.missing == [tree]
    assert sorted(blobs.path(i) for i in range(len(blobs))) == [b"b.txt", b"top.txt"]


@pytest.mark.parametrize("index", ["version 1", "64-bit offsets"])
def test_pack_order_reads_every_kind_of_pack_index(tmp_path, index):
    """Pack indexes of version 1, and of version 2 with offsets in the
    64-bit table (git writes them for packs over 2 GiB; ``index-pack
    --index-version=2,<n>`` for any object past offset n), give the same
    order as git's own default index."""
    repo = make_repo(tmp_path / "r")
    for i in range(4):
        repo.commit(f"c{i}", {f"f{j}.txt": f"{i} {j}\n" * (30 + i) for j in range(5)})
    repo.git("repack", "-a", "-d", "-q")
    info = kgit.open_repo(str(repo.path))
    blobs = kgit.BlobList.of(sorted(_listing(info.git)))  # by id: not the pack's order
    before = list(kgit.in_pack_order(info.git, blobs))
    assert sorted(before) == list(range(len(blobs))) and before != list(range(len(blobs)))
    (idx,) = (repo.path / ".git/objects/pack").glob("*.idx")
    offsets = _offsets(idx)
    idx.chmod(0o644)
    idx.unlink()
    version = "--index-version=1" if index == "version 1" else "--index-version=2,100"
    repo.git("index-pack", version, "-o", str(idx), str(idx.with_suffix(".pack")))
    raw = idx.read_bytes()
    assert (raw[:4] == b"\xfftOc") == (index != "version 1")
    assert _offsets(idx) == offsets
    assert list(kgit.in_pack_order(info.git, blobs)) == before


def test_pack_order_skips_a_damaged_pack_index(tmp_path):
    """An index file that is cut short or not an index at all: its objects
    come after the packed ones, in listing order, and nothing fails."""
    repo = make_repo(tmp_path / "r")
    repo.commit("a", {f"f{j}.txt": f"{j}\n" * 40 for j in range(5)})
    repo.git("repack", "-a", "-d", "-q")
    info = kgit.open_repo(str(repo.path))
    blobs = kgit.BlobList.of(sorted(_listing(info.git)))
    assert list(kgit.in_pack_order(info.git, blobs)) != list(range(len(blobs)))
    (idx,) = (repo.path / ".git/objects/pack").glob("*.idx")
    idx.chmod(0o644)
    for damage in (idx.read_bytes()[:1100], b"", b"\xfftOc\x00\x00\x00\x07" + bytes(2000)):
        idx.write_bytes(damage)
        assert list(kgit.in_pack_order(info.git, blobs)) == list(range(len(blobs)))


def test_pack_order_falls_back_to_the_listing_when_git_fails(tmp_path, monkeypatch):
    repo = make_repo(tmp_path / "r")
    repo.commit("a", {"a.txt": "a\n", "b.txt": "b\n"})
    info = kgit.open_repo(str(repo.path))
    blobs = kgit.BlobList.of(kgit.parse_listing(kgit.list_objects(info.git, ["--all"]).stdout, []))
    monkeypatch.setattr(info.git, "_prefix", [*info.git._prefix, "--no-such-option"])
    assert list(kgit.in_pack_order(info.git, blobs)) == [0, 1]


def test_the_git_processes_that_read_a_whole_history_run_with_small_caches(tmp_path, monkeypatch):
    """The listings (a log of changes; ``rev-list --objects`` for a range),
    both provenance walks (one log, the split one) and the commit graph
    (read early, or by ``refs_containing`` itself) run with ``LEAN_CONFIG``,
    after the hardened settings so that it wins; git accepts it and the
    answers stay right."""
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=33)
    repo.commit("root", {"a.txt": "plain\n"})
    repo.commit("key", {"cfg/app.env": f"K={key}\n"})
    repo.commit("more", {"b.txt": "b\n"})
    info = kgit.open_repo(str(repo.path))
    seen: list[list] = []

    def argv_of(self, args, config=()):
        argv = real_argv(self, args, config)
        seen.append([a.decode() if isinstance(a, bytes) else a for a in argv])
        return argv

    real_argv = kgit.Git.argv
    monkeypatch.setattr(kgit.Git, "argv", argv_of)
    blob = repo.git("rev-parse", "HEAD~1:cfg/app.env").strip()

    listed = _listing(info.git)
    assert sorted(listed) == sorted(_listing(info.git, ["HEAD", "^HEAD~2"]) + _listing(info.git, ["HEAD~2"]))
    assert len(listed) == 3 and sum("--objects" in argv for argv in seen) == 1
    one = list(kgit.log_changes(info.git, ["--all"], find_objects=[blob]))
    monkeypatch.setattr(kgit, "SPLIT_LOG_MIN_COMMITS", 2)
    assert list(kgit.log_changes(info.git, ["--all"], find_objects=[blob], jobs=2)) == one
    assert len(one) == 1
    graph = kgit.commit_graph(info.git, ["--all"])
    assert len(list(graph)) == 3
    commit = one[0].sha
    assert kgit.refs_containing(info.git, [commit]) == kgit.refs_containing(info.git, [commit], graph) != {commit: []}

    def settings(argv):
        return [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == "-c"]

    commands = {next(a for a in argv[1:] if not a.startswith("-") and "=" not in a): argv for argv in seen}
    assert {"rev-list", "log"} <= set(commands)
    assert sum("--parents" in argv for argv in seen) >= 2  # commit_graph (here and in the split walk), refs_containing's own walk
    for argv in seen:
        if "--objects" in argv or "--batch-all-objects" in argv or "log" in argv or "--parents" in argv:
            got = settings(argv)
            for item in kgit.LEAN_CONFIG:
                name = item.split("=")[0]
                last = [s for s in got if s.startswith(name + "=")][-1]
                assert last == item, (argv, name)


def test_commit_graph_lines_come_from_bytes_or_a_file_again_and_again(tmp_path):
    for raw in (b"", b"a\n", b"a b c\nd e\n", b"a\nb", b"a\n\nb\n"):
        assert list(kgit.CommitGraph(raw)) == raw.splitlines()
        (tmp_path / "g").write_bytes(raw)
        with open(tmp_path / "g", "rb") as fh:
            graph = kgit.CommitGraph(fh)
            assert list(graph) == list(graph) == raw.splitlines()


def test_git_output_to_a_file_and_its_errors(tmp_path):
    repo = make_repo(tmp_path / "r")
    first = repo.commit("a", {"a.txt": "a\n"})
    info = kgit.open_repo(str(repo.path))
    with info.git.to_file("rev-list", "--all") as fh:
        assert fh.read() == f"{first}\n".encode()
    with pytest.raises(kgit.GitError, match=r"^git rev-list failed in .*: ambiguous argument 'nope': unknown revision"):
        info.git.to_file("rev-list", "nope")


def test_split_log_of_one_branch_from_that_branchs_graph(tmp_path, monkeypatch):
    """A history scan of one branch reads that branch's commit graph early
    too; the split walk given it finds what it finds by itself (and no
    commit of another branch)."""
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=34)
    repo.commit("root", {"a.txt": "plain\n"})
    repo.git("checkout", "-q", "-b", "side")
    repo.commit("side key", {"cfg/app.env": f"K={key}\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main key", {"cfg/app.env": f"K={key}\n"})
    for i in range(3):
        repo.commit(f"work {i}", {f"w{i}.txt": f"{i}\n"})
    info = kgit.open_repo(str(repo.path))
    blob = repo.git("rev-parse", "main:cfg/app.env").strip()
    graph = kgit.commit_graph(info.git, ["main"])
    monkeypatch.setattr(kgit, "SPLIT_LOG_MIN_COMMITS", 2)
    for reverse in (True, False):
        own = list(kgit.log_changes(info.git, ["main"], find_objects=[blob], reverse=reverse, jobs=2))
        assert [c.sha for c in own] == [repo.git("rev-parse", "main~3").strip()]
        assert list(kgit.log_changes(info.git, ["main"], find_objects=[blob], reverse=reverse, jobs=2, graph=graph)) == own
