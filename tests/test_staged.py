"""keyscan staged: what `git commit` would record, added lines only, with
the staged file's line numbers; read from the index, not the working tree."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from helpers import GIT_ENV, fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan, zip_bytes
from keyscan.engine import Engine
from keyscan.errors import KeyscanError
from keyscan.git import parse_patch
from keyscan.rulefile import load_ruleset
from keyscan.sources.staged import AddedLines, scan_staged


@pytest.fixture(scope="module")
def engine():
    return Engine(load_ruleset())


def staged(repo, engine):
    return scan_staged(str(repo.path), engine)


def found(report):
    return [(f.path, f.line, f.secret) for f in report.findings]


def test_before_the_first_commit(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=1)
    repo.write("app/config.py", f"import os\n\nKEY = '{key}'\n")
    repo.git("add", "-A")
    report = staged(repo, engine)
    assert found(report) == [("app/config.py", 3, key)]
    f = report.findings[0]
    assert f.exposure == "source" and f.source["kind"] == "staged" and f.commit is None
    res = run_keyscan("staged", cwd=repo.path)
    assert res.code == 1 and "app/config.py:3:8" in res.out and "Rotate Key" in res.out
    assert key not in res.out


def test_only_added_lines_count_with_the_staged_line_numbers(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    old = fake_immutable_secret(seed=2)
    new = fake_immutable_secret(seed=3)
    repo.commit("old key", {"config.py": f"OLD = '{old}'\na = 1\nb = 2\n"})
    repo.write("config.py", f"OLD = '{old}'\na = 1\n# new lines\nNEW = '{new}'\nb = 2\n")
    repo.git("add", "config.py")
    assert found(staged(repo, engine)) == [("config.py", 4, new)]
    # A file whose only change is elsewhere: the old key is not reported.
    repo.commit("commit it")
    repo.write("config.py", f"OLD = '{old}'\na = 1\n# new lines\nNEW = '{new}'\nb = 3\n")
    repo.git("add", "config.py")
    assert found(staged(repo, engine)) == []


def test_reads_the_index_not_the_working_tree(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=4)
    unstaged = fake_immutable_secret(seed=5)
    repo.commit("init", {"a.py": "a = 1\n"})
    # Staged, then deleted from the working copy: still what the commit records.
    repo.write("gone.py", f"K = '{key}'\n")
    repo.git("add", "gone.py")
    os.remove(repo.path / "gone.py")
    # Partly staged: the staged version has the key, the working copy has not.
    repo.write("a.py", f"a = 1\nK = '{key}'\n")
    repo.git("add", "a.py")
    repo.write("a.py", f"a = 1\nK = os.environ['K']\nU = '{unstaged}'\n")
    report = staged(repo, engine)
    assert found(report) == [("a.py", 2, key), ("gone.py", 1, key)]


def test_renames_deletions_binary_and_symlinks(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=6)
    added = fake_immutable_secret(seed=7)
    body = "".join(f"line {i}\n" for i in range(20))
    repo.commit("init", {"old/name.py": f"K = '{key}'\n" + body, "drop.py": f"K = '{key}'\n", "link-target.txt": "x\n"})
    (repo.path / "new").mkdir()
    repo.git("mv", "old/name.py", "new/name.py")
    repo.write("new/name.py", f"K = '{key}'\n" + body + f"ADDED = '{added}'\n")
    repo.git("rm", "-q", "drop.py")
    repo.write("data.bin", b"\0\1\2" + f"K = '{added}'".encode())
    os.symlink("link-target.txt", repo.path / "link")
    repo.git("add", "-A")
    report = staged(repo, engine)
    assert found(report) == [("new/name.py", 22, added)]
    assert report.stats.skipped == {"binary": 1}
    assert report.errors == []


def test_typechange_and_mode_change(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=8)
    repo.write("target.txt", "t\n")
    os.symlink("target.txt", repo.path / "thing")
    repo.commit("symlink", {"script.sh": "echo hi\n"})
    os.remove(repo.path / "thing")
    repo.write("thing", f"K = '{key}'\n")
    os.chmod(repo.path / "script.sh", 0o755)
    repo.git("add", "-A")
    assert found(staged(repo, engine)) == [("thing", 1, key)]


def test_non_utf8_path_and_content(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=9)
    (repo.path / os.fsdecode(b"r\xe9glages.py")).write_bytes(b"# \xe9t\xe9\nK = '" + key.encode() + b"'\n")
    (repo.path / "tab\tand \"quote\".py").write_text(f"x = 1\nK = '{key}'\n", encoding="utf-8")
    repo.git("add", "-A")
    assert sorted(found(staged(repo, engine))) == [('r\\xe9glages.py', 2, key), ('tab\tand "quote".py', 2, key)]


def test_honours_the_hooks_index_file(tmp_path):
    """A hook run by `git commit -a` or `git commit FILE` gets GIT_INDEX_FILE
    naming the index being committed; keyscan staged (no REPO) reads it."""
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=10)
    repo.commit("init", {"a.py": "a = 1\n"})
    repo.write("a.py", f"a = 1\nK = '{key}'\n")
    other = tmp_path / "next-index"
    env = dict(os.environ, **GIT_ENV, GIT_INDEX_FILE=str(other))
    subprocess.run(["git", "read-tree", "HEAD"], cwd=repo.path, env=env, check=True)
    subprocess.run(["git", "add", "a.py"], cwd=repo.path, env=env, check=True)
    assert run_keyscan("staged", cwd=repo.path).code == 0  # the default index has nothing staged
    res = run_keyscan("staged", cwd=repo.path, env={"GIT_INDEX_FILE": str(other)})
    assert res.code == 1 and "a.py:2:6" in res.out
    # With REPO named, the caller's git context is not used.
    assert run_keyscan("staged", str(repo.path), env={"GIT_INDEX_FILE": str(other)}).code == 0


def test_from_a_subfolder_paths_are_repository_relative(tmp_path):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=11)
    repo.commit("init", {"pkg/sub/a.py": "a = 1\n"})
    repo.write("pkg/sub/a.py", f"a = 1\nK = '{key}'\n")
    repo.git("add", "-A")
    res = run_keyscan("staged", "-f", "json", cwd=repo.path / "pkg" / "sub")
    assert res.code == 1
    assert [(f["path"], f["line"]) for f in json.loads(res.out)["findings"]] == [("pkg/sub/a.py", 2)]


def test_publishable_key_and_clean_commit_pass(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.write("web/app.ts", f"export const pk = '{fake_immutable_publishable(seed=12)}'\n")
    repo.git("add", "-A")
    res = run_keyscan("staged", cwd=repo.path)
    assert res.code == 0 and "1 finding (1 info)" in res.out
    repo.commit("pk")
    repo.write("README.md", "nothing here\n")
    repo.git("add", "-A")
    res = run_keyscan("staged", cwd=repo.path)
    assert res.code == 0 and res.out.startswith("0 findings")


def test_bad_input(tmp_path, engine):
    plain = tmp_path / "plain"
    plain.mkdir()
    res = run_keyscan("staged", str(plain))
    assert res.code == 2 and res.err.strip() == f"keyscan: error: {plain}: not a git repository"
    bare = tmp_path / "bare.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    res = run_keyscan("staged", str(bare))
    assert res.code == 2 and "bare repository has no index" in res.err and "Traceback" not in res.err
    with pytest.raises(KeyscanError, match="no such folder"):
        scan_staged(str(tmp_path / "nope"), engine)


def test_a_diff_git_cannot_make_is_one_line_and_exit_2(tmp_path):
    """The staged diff is read from a pipe: when git fails (a damaged
    index) the error still comes from git's own message, in one line."""
    repo = make_repo(tmp_path / "r")
    repo.write("a.txt", "a\n")
    repo.git("add", "a.txt")
    (repo.path / ".git" / "index").write_bytes(b"DIRC\x00\x00\x00\x02garbage")
    res = run_keyscan("staged", str(repo.path))
    assert res.code == 2 and "Traceback" not in res.err
    assert res.err.strip().count("\n") == 0 and res.err.startswith(f"keyscan: error: git diff failed in {repo.path}: ")
    assert "index" in res.err


def test_corrupt_staged_blob_is_an_error(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.write("a.txt", "some text that is staged\n")
    repo.git("add", "a.txt")
    blob = repo.git("rev-parse", ":a.txt").strip()
    (repo.path / ".git" / "objects" / blob[:2] / blob[2:]).unlink()
    res = run_keyscan("staged", str(repo.path), "-f", "json")
    assert res.code == 2, res.out + res.err
    (err,) = json.loads(res.out)["errors"]
    assert err["path"] == "a.txt" and err["kind"] == "git"


def test_added_lines():
    added = AddedLines([(10, 3), (1, 1), (20, 1)])
    assert [n for n in range(1, 25) if n in added] == [1, 10, 11, 12, 20]
    assert 0 not in AddedLines([])


def test_parse_patch_of_real_git_output(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.commit("init", {"keep.txt": "a\nb\nc\nd\n", "gone.txt": "x\n"})
    repo.write("keep.txt", "a\nB\nc\nd\ne\nf\n")
    repo.write("sp ace.txt", "1\n2\n")
    (repo.path / os.fsdecode(b"n\xffl.txt")).write_bytes(b"z\n")
    os.remove(repo.path / "gone.txt")
    repo.git("add", "-A")
    patch = subprocess.run(
        ["git", "diff", "--cached", "-U0", "--text", "--full-index", "-M", "--diff-filter=ACMRT", "--src-prefix=a/", "--dst-prefix=b/"],
        cwd=repo.path, capture_output=True, check=True,
    ).stdout
    files = {f.path: f for f in parse_patch(patch)}
    assert set(files) == {b"keep.txt", b"sp ace.txt", b"n\xffl.txt"}
    assert files[b"keep.txt"].added == ((2, 1), (5, 2))
    assert files[b"sp ace.txt"].added == ((1, 2),)
    assert files[b"keep.txt"].blob == repo.git("rev-parse", ":keep.txt").strip()
    assert files[b"keep.txt"].old == repo.git("rev-parse", "HEAD:keep.txt").strip()
    assert files[b"sp ace.txt"].old == "0" * 40  # a new file replaces nothing


def test_staged_archives_are_opened_and_only_their_new_keys_count(tmp_path, engine):
    """A zip or .gz in the commit is opened like one on disk (members shown
    as ``archive!member``); a changed archive reports the keys that the
    version it replaces did not hold, not every key it holds."""
    import gzip

    repo = make_repo(tmp_path / "r")
    old, new = fake_immutable_secret(seed=40), fake_immutable_secret(seed=41)
    repo.write("deploy/conf.zip", zip_bytes({".env": f"IMX_SECRET={old}\n"}))
    repo.write("notes.txt.gz", gzip.compress(f"pad\nkey {new}\n".encode()))
    repo.git("add", "-A")
    report = staged(repo, engine)
    assert found(report) == [("deploy/conf.zip!.env", 1, old), ("notes.txt.gz!notes.txt", 2, new)]
    assert {f.source["kind"] for f in report.findings} == {"staged"}
    assert report.findings[0].source["blob"] == repo.git("rev-parse", ":deploy/conf.zip").strip()
    repo.commit("archives")
    # The same key, moved and with a new key beside it: only the new one.
    repo.write("deploy/conf.zip", zip_bytes({"config/app.env": f"A={old}\nB={new}\n"}))
    repo.git("add", "-A")
    assert found(staged(repo, engine)) == [("deploy/conf.zip!config/app.env", 2, new)]
    # Moved as it is: nothing new.
    repo.git("reset", "-q", "--hard")
    repo.git("mv", "deploy/conf.zip", "conf-moved.zip")
    assert found(staged(repo, engine)) == []


def test_staged_corrupt_archive_is_a_note_not_a_crash(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.write("broken.zip", b"PK\x03\x04" + b"\xff" * 300)
    repo.write("broken.tar.gz", b"\x1f\x8b\x08\x00" + b"\x00" * 40)
    repo.git("add", "-A")
    res = run_keyscan("staged", "-f", "json", cwd=repo.path)
    # Listed, as `keyscan scan` lists it; unlike an unreadable blob it does
    # not fail the hook by itself.
    assert res.code == 0, res.err
    errors = json.loads(res.out)["errors"]
    assert sorted((e["path"], e["kind"]) for e in errors) == [("broken.tar.gz", "archive"), ("broken.zip", "archive")]
    assert "Traceback" not in res.err
    text = run_keyscan("staged", cwd=repo.path)
    assert text.code == 0 and "broken.zip" in text.out and "Traceback" not in text.err


def test_diff_lines_are_read_with_bounded_memory():
    """A staged binary's --text diff can be one line of hundreds of MB: the
    parser gets each line's head only, the rest is read and dropped."""
    import io

    from keyscan.git import line_heads

    data = b"diff --git a/x b/x\n" + b"+" + b"z" * 5000 + b"\n@@ -0,0 +1 @@\n" + b"y" * 10 + b"\n" + b"w" * 64 + b"\nlast"
    assert list(line_heads(io.BytesIO(data), 64)) == [b"diff --git a/x b/x", b"+" + b"z" * 63, b"@@ -0,0 +1 @@", b"y" * 10, b"w" * 64, b"last"]
    assert list(line_heads(io.BytesIO(data), 1 << 20)) == data.split(b"\n")


def test_a_long_staged_line_does_not_hide_the_next_files_lines(tmp_path, engine, monkeypatch):
    import keyscan.git

    monkeypatch.setattr(keyscan.git, "DIFF_LINE_MAX", 256)
    repo = make_repo(tmp_path / "r")
    key, other = fake_immutable_secret(seed=50), fake_immutable_secret(seed=51)
    repo.write("a-blob.min.js", "var x=1;" * 5000 + f"var k='{key}';")  # one line, no newline at the end
    repo.write("b.py", f"a = 1\nK = '{other}'\n")
    repo.git("add", "-A")
    assert found(staged(repo, engine)) == [("a-blob.min.js", 1, key), ("b.py", 2, other)]
