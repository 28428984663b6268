"""keyscan history: unique blobs, one finding per key and path, provenance,
lifecycle and the guidance it implies, --branch, --since, and bad input.
Every test builds a real repository with fixed authors and dates."""
from __future__ import annotations

import json
import os
import subprocess
import zlib
from pathlib import Path

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan, tgz_bytes, zip_bytes
from keyscan.engine import Engine
from keyscan.errors import KeyscanError
from keyscan.history import HistoryOptions, scan_history
from keyscan.rulefile import load_ruleset


@pytest.fixture(scope="module")
def engine():
    return Engine(load_ruleset())


def history(repo, engine, **kw):
    return scan_history(str(repo.path), engine, HistoryOptions(**kw))


def secrets_of(report):
    return sorted((f.path, f.secret) for f in report.findings if f.key_class == "secret")


def only(report, secret):
    found = [f for f in report.findings if f.secret == secret]
    assert len(found) == 1, [(f.path, f.line) for f in found]
    return found[0]


def test_a_key_in_many_commits_is_one_finding_at_its_first_commit(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=1)
    repo.commit("init", {"README.md": "hello\n"})
    intro = repo.commit("add client", {"src/client.py": f"import os\n\nAPI_KEY = '{key}'\n"})
    for i in range(30):
        repo.commit(f"edit {i}", {"src/client.py": f"import os\n# revision {i}\nAPI_KEY = '{key}'\n"})
    report = history(repo, engine)
    f = only(report, key)
    assert (f.path, f.line, f.column) == ("src/client.py", 3, 12)
    assert f.exposure == "history" and f.severity == "high"
    assert f.commit == {"sha": intro, "author": "Ada Dev <ada@example.org>", "date": "2026-01-01T01:00:00Z", "subject": "add client"}
    assert f.source["kind"] == "history" and f.source["blob"] == repo.git("rev-parse", f"{intro}:src/client.py").strip()
    assert f.lifecycle["introduced"] == intro and f.lifecycle["present_at_head"] is True
    # Each unique blob is read once: README, and 31 versions of client.py.
    assert report.stats.extra["blobs"] == 32
    assert report.errors == []


def test_lifecycle_removed_and_pushed(tmp_path, engine):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=2)
    intro = repo.commit("add key", {"config.py": f"KEY = '{key}'\n"})
    repo.git("remote", "add", "origin", str(remote))
    repo.git("push", "-q", "origin", "main")
    removed = repo.commit("read the key from the environment", {"config.py": "import os\nKEY = os.environ['KEY']\n"})
    f = only(history(repo, engine), key)
    assert f.lifecycle == {
        "introduced": intro,
        "removed": removed,
        "present_at_head": False,
        "refs": ["refs/heads/main", "refs/remotes/origin/main"],
        "pushed": True,
    }
    notes = " ".join(f.rotation["notes"])
    assert "Removed from HEAD" in notes and "rotate it anyway" in notes
    assert "rewriting history does not un-leak a pushed key" in notes
    assert "Still present at HEAD" not in notes and "never pushed" not in notes


def test_lifecycle_still_at_head_and_never_pushed(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=3)
    repo.commit("add key", {"settings.py": f"KEY = '{key}'\n"})
    f = only(history(repo, engine), key)
    assert f.lifecycle["present_at_head"] is True and f.lifecycle["removed"] is None
    assert f.lifecycle["refs"] == ["refs/heads/main"] and f.lifecycle["pushed"] is False
    notes = f.rotation["notes"]
    assert notes[0].startswith("Still present at HEAD: rotate the key first, then move it out of the code")
    assert any("never pushed" in n and "before you push" in n for n in notes)
    assert not any("un-leak" in n for n in notes)


def test_key_only_on_an_unpushed_branch(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=4)
    repo.commit("init", {"a.txt": "a\n"})
    repo.git("checkout", "-q", "-b", "experiment")
    intro = repo.commit("try a key", {"try.py": f"K = '{key}'\n"})
    repo.git("checkout", "-q", "main")
    f = only(history(repo, engine), key)
    assert f.lifecycle == {"introduced": intro, "removed": None, "present_at_head": False, "refs": ["refs/heads/experiment"], "pushed": False}
    assert any("Not at HEAD" in n for n in f.rotation["notes"])
    # --branch narrows the scan to what the named refs reach.
    assert history(repo, engine, branches=["main"]).findings == []
    assert [f.secret for f in history(repo, engine, branches=["experiment"]).findings] == [key]
    with pytest.raises(KeyscanError, match="--branch: unknown revision 'nope'"):
        history(repo, engine, branches=["nope"])


def test_one_finding_per_path_and_publishable_keys_are_info(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=5)
    pk = fake_immutable_publishable(seed=5)
    repo.commit("two copies", {"a/config.py": f"K = '{key}'\n", "b/config.py": f"x = 1\nK = '{key}'\n", "web/app.ts": f"const pk = '{pk}'\n"})
    repo.commit("touch", {"a/config.py": f"K = '{key}'\n# more\n"})
    report = history(repo, engine)
    assert secrets_of(report) == [("a/config.py", key), ("b/config.py", key)]
    assert [f.line for f in report.findings if f.path == "b/config.py"] == [2]
    pub = only(report, pk)
    assert pub.severity == "info" and pub.lifecycle["present_at_head"] is True
    assert not any("rotate" in n.lower() for n in pub.rotation["notes"])


def test_key_in_a_build_output_path_counts_as_shipped(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=6)
    repo.commit("build", {"dist/assets/index.js": f'var k="{key}";\n'})
    repo.commit("drop build", {})
    repo.git("rm", "-q", "-r", "dist")
    repo.commit("remove dist")
    f = only(history(repo, engine), key)
    assert f.exposure == "bundle" and f.severity == "critical"
    assert f.rotation["notes"][0].startswith("This key was shipped to the public")
    assert f.rotation["notes"][1].startswith("Removed from HEAD")


def test_key_brought_in_by_a_merge(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=7)
    repo.commit("init", {"app.py": "a = 1\nb = 2\n"})
    repo.git("checkout", "-q", "-b", "topic")
    intro = repo.commit("topic adds key", {"app.py": f"a = 1\nb = 2\nKEY = '{key}'\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main edits", {"app.py": "a = 10\nb = 2\n"})
    repo.git("merge", "-q", "--no-edit", "topic")
    repo.git("branch", "-q", "-D", "topic")
    f = only(history(repo, engine), key)
    assert f.lifecycle["introduced"] == intro and f.lifecycle["present_at_head"] is True
    assert f.line == 3


def test_key_added_by_a_merge_resolution(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=20)
    repo.commit("init", {"app.py": "a = 1\n"})
    repo.git("checkout", "-q", "-b", "topic")
    repo.commit("topic", {"other.py": "b = 2\n"})
    repo.git("checkout", "-q", "main")
    repo.commit("main", {"app.py": "a = 2\n"})
    repo.git("merge", "-q", "--no-commit", "topic")
    merge = repo.commit("merge topic, and a key slipped in", {"app.py": f"a = 2\nKEY = '{key}'\n"})
    assert len(repo.git("rev-list", "--parents", "-n1", "HEAD").split()) == 3
    f = only(history(repo, engine), key)
    assert f.lifecycle["introduced"] == merge and f.commit["subject"] == "merge topic, and a key slipped in"
    assert f.line == 2


def test_since_reports_only_what_the_range_added(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    old = fake_immutable_secret(seed=8)
    new = fake_immutable_secret(seed=9)
    gone = fake_immutable_secret(seed=10)
    base = repo.commit("base", {"config.py": f"OLD = '{old}'\n", "moved.py": f"OLD2 = '{old}'\n"})
    repo.git("checkout", "-q", "-b", "pr")
    repo.commit("edit the file that holds the old key", {"config.py": f"# changed\nOLD = '{old}'\n"})
    repo.git("mv", "moved.py", "renamed.py")
    repo.commit("rename it")
    added = repo.commit("add a new key", {"feature.py": f"NEW = '{new}'\n"})
    repo.commit("add and", {"tmp.py": f"G = '{gone}'\n"})
    repo.commit("remove again", {"tmp.py": "G = None\n"})
    report = history(repo, engine, since="main")
    assert secrets_of(report) == [("feature.py", new), ("tmp.py", gone)]
    assert only(report, new).lifecycle["introduced"] == added
    assert only(report, gone).lifecycle["present_at_head"] is False
    # Through the CLI, with a sha as REV.
    res = run_keyscan("history", "--since", base, "-f", "json", cwd=repo.path)
    assert res.code == 1, res.err
    assert sorted(f["secret"][:14] for f in json.loads(res.out)["findings"]) == sorted(s[:14] for s in (new, gone))
    assert new not in res.out
    res = run_keyscan("history", "--since", "no-such-branch", cwd=repo.path)
    assert res.code == 2 and "--since: unknown revision 'no-such-branch'" in res.err and "Traceback" not in res.err


def test_detached_head(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=11)
    first = repo.commit("with key", {"k.py": f"K = '{key}'\n"})
    repo.commit("without", {"k.py": "K = None\n"})
    repo.git("checkout", "-q", "--detach", first)
    f = only(history(repo, engine), key)
    assert f.lifecycle["present_at_head"] is True


def test_empty_repository_and_not_a_repository(tmp_path):
    repo = make_repo(tmp_path / "empty")
    res = run_keyscan("history", str(repo.path))
    assert res.code == 0 and "has no commits yet: nothing to scan" in res.err
    plain = tmp_path / "plain"
    plain.mkdir()
    res = run_keyscan("history", str(plain))
    assert res.code == 2 and res.err.strip() == f"keyscan: error: {plain}: not a git repository"
    res = run_keyscan("history", str(tmp_path / "missing"))
    assert res.code == 2 and "no such folder" in res.err and "Traceback" not in res.err


def test_shallow_clone_is_scanned_and_said_to_be_shallow(tmp_path):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=12)
    repo.commit("old key", {"a.py": f"K = '{key}'\n"})
    for i in range(3):
        repo.commit(f"c{i}", {"b.txt": f"{i}\n"})
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "2", f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    res = run_keyscan("history", str(clone), "-f", "json")
    assert res.code == 1, res.err
    assert "shallow clone" in res.err
    report = json.loads(res.out)
    assert report["stats"]["shallow"] is True
    (f,) = report["findings"]
    boundary = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=clone, capture_output=True, text=True).stdout.strip()
    assert f["lifecycle"]["introduced"] == boundary


def _loose_path(repo, sha: str) -> Path:
    return repo.path / ".git" / "objects" / sha[:2] / sha[2:]


def test_missing_object_is_an_error_and_never_looks_clean(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.commit("files", {"a.txt": "alpha\n", "sub/b.txt": "beta\n"})
    blob = repo.git("rev-parse", "HEAD:a.txt").strip()
    tree = repo.git("rev-parse", "HEAD:sub").strip()
    _loose_path(repo, blob).unlink()
    _loose_path(repo, tree).unlink()
    res = run_keyscan("history", str(repo.path), "-f", "json")
    assert res.code == 2, res.err
    errors = json.loads(res.out)["errors"]
    assert sorted(e["path"] for e in errors) == sorted([blob, tree])
    assert all("is missing" in e["message"] for e in errors)


def test_corrupt_object_is_reported_and_the_scan_goes_on(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=13)
    repo.commit("files", {"a.txt": "alpha " * 50 + "\n", "b.py": f"K = '{key}'\n"})
    blob = repo.git("rev-parse", "HEAD:a.txt").strip()
    path = _loose_path(repo, blob)
    path.chmod(0o644)
    # A valid header and a body that stops short: cat-file dies part way.
    body = zlib.compress(b"blob 301\0" + b"alpha " * 50 + b"\n")
    path.write_bytes(body[: len(body) // 2])
    report = history(repo, engine)
    assert secrets_of(report) == [("b.py", key)]
    (err,) = report.errors
    assert err.path == "a.txt" and err.kind == "git" and "could not be read" in err.message
    res = run_keyscan("history", str(repo.path))
    assert res.code == 1 and "a.txt: git: blob" in res.out


def test_huge_blob_is_read_in_windows(tmp_path, engine):
    from keyscan.sources.worktree import OVERLAP, WINDOW

    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=14)
    line = b"value = compute(1, 2, 3)  # padding line\n"
    n = (WINDOW - OVERLAP // 2) // len(line)
    head = line * n  # the key straddles the first window's report limit
    data = head + b"K = '" + key.encode() + b"'\n" + line * n + line * n + b"LAST = '" + key.encode() + b"'\n"
    assert len(data) > 2 * WINDOW
    repo.commit("big", {"big.txt": data})
    report = history(repo, engine)
    found = [f for f in report.findings if f.secret == key]
    assert [(f.path, f.line) for f in found] == [("big.txt", n + 1)]
    assert report.stats.bytes_scanned == len(data)


def test_non_utf8_paths_and_contents(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=15)
    name = b"caf\xe9-config.py"
    (repo.path / os.fsdecode(name)).write_bytes(b"# r\xe9glage\nK = '" + key.encode() + b"'\n")
    repo.commit("latin-1 name and content")
    report = history(repo, engine)
    f = only(report, key)
    assert f.path == "caf\\xe9-config.py" and f.line == 2
    assert f.lifecycle["present_at_head"] is True and f.lifecycle["introduced"]
    res = run_keyscan("history", str(repo.path), "-f", "json")
    assert res.code == 1 and json.loads(res.out)["findings"][0]["path"] == "caf\\xe9-config.py"


def test_binary_blobs_are_skipped_and_counted(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=16)
    repo.commit("binary", {"blob.bin": b"\0\1\2 K = '" + key.encode() + b"'\n"})
    report = history(repo, engine)
    assert report.findings == [] and report.stats.skipped == {"binary": 1}


def test_no_secret_is_ever_on_a_git_command_line(tmp_path, engine, monkeypatch):
    import keyscan.git as kgit

    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=17)
    repo.commit("a", {"k.py": f"K = '{key}'\n"})
    repo.commit("b", {"k.py": "K = None\n"})
    seen: list[list] = []
    real_run, real_popen = kgit.subprocess.run, kgit.subprocess.Popen

    def spy_run(argv, *a, **kw):
        seen.append(list(argv))
        return real_run(argv, *a, **kw)

    def spy_popen(argv, *a, **kw):
        seen.append(list(argv))
        return real_popen(argv, *a, **kw)

    monkeypatch.setattr(kgit.subprocess, "run", spy_run)
    monkeypatch.setattr(kgit.subprocess, "Popen", spy_popen)
    report = history(repo, engine)
    assert [f.secret for f in report.findings] == [key]
    assert any("log" in argv for argv in seen) and len(seen) >= 4
    for argv in seen:
        joined = " ".join(a.decode() if isinstance(a, bytes) else a for a in argv)
        assert key not in joined and key[10:20] not in joined


def test_config_exclude_applies_to_history(tmp_path):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=18)
    repo.commit("fixtures", {"tests/fixtures/key.py": f"K = '{key}'\n", ".keyscan.toml": 'exclude = ["tests/fixtures/"]\n'})
    res = run_keyscan("history", str(repo.path), "-f", "json")
    assert res.code == 0, res.out + res.err
    assert json.loads(res.out)["findings"] == []


def test_progress_goes_to_stderr_only_when_asked_or_on_a_terminal(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.commit("a", {"a.txt": "a\n"})
    quiet = run_keyscan("history", str(repo.path))
    assert quiet.code == 0 and quiet.err == ""
    loud = run_keyscan("history", str(repo.path), "--progress")
    assert loud.code == 0 and "keyscan: 1 blobs" in loud.err and "MB/s" in loud.err


def test_json_report_of_a_history_scan(tmp_path):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret("test", seed=19)
    sha = repo.commit("add sandbox key", {"app/.env": f"NEXT_PUBLIC_IMX_KEY={key}\n"}, author="Bo Builder <bo@example.org>")
    res = run_keyscan("history", str(repo.path), "-f", "json")
    assert res.code == 1, res.err
    out = json.loads(res.out)
    assert out["command"] == "history" and out["errors"] == []
    (f,) = out["findings"]
    assert f["exposure"] == "public-env" and f["environment"] == "test" and f["severity"] == "high"
    assert f["commit"] == {"sha": sha, "author": "Bo Builder <bo@example.org>", "date": "2026-01-01T00:00:00Z", "subject": "add sandbox key"}
    assert f["lifecycle"]["present_at_head"] is True and f["secret"] != key
    assert key not in res.out


def test_parallel_first_pass_matches_the_single_process_one(tmp_path, engine, monkeypatch):
    import keyscan.history as kh

    repo = make_repo(tmp_path / "r")
    keys = [fake_immutable_secret(seed=30 + i) for i in range(3)]
    repo.commit("many", {f"pkg/m{i}.py": f"x = {i}\n" for i in range(40)})
    repo.commit("keys", {"a.py": f"A = '{keys[0]}'\n", "pkg/b.py": f"B = '{keys[1]}'\n", "zz.bin": b"\0" + keys[2].encode()})
    repo.commit("gone", {"a.py": "A = None\n"})
    missing = repo.git("rev-parse", "HEAD~1:pkg/m3.py").strip()
    _loose_path(repo, missing).unlink()
    monkeypatch.setattr(kh, "PARALLEL_BATCH", 7)
    single = history(repo, engine)
    monkeypatch.setattr(kh, "PARALLEL_MIN_OBJECTS", 0)
    parallel = history(repo, engine, jobs=2)
    assert secrets_of(parallel) == secrets_of(single) == sorted([("a.py", keys[0]), ("pkg/b.py", keys[1])])
    assert [f.lifecycle for f in parallel.findings] == [f.lifecycle for f in single.findings]
    assert parallel.errors == single.errors and len(parallel.errors) == 1
    assert parallel.stats.as_dict() == single.stats.as_dict()


def test_a_blob_that_a_tag_points_at_is_scanned(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=40)
    repo.commit("init", {"a.txt": "a\n"})
    blob = repo.git("hash-object", "-w", "--stdin", input=f"K = '{key}'\n".encode()).strip()
    repo.git("tag", "release-key", blob)
    f = only(history(repo, engine), key)
    assert f.path == "refs/tags/release-key" and f.line == 1
    assert f.lifecycle == {"introduced": None, "removed": None, "present_at_head": False, "refs": ["refs/tags/release-key"], "pushed": False}
    assert history(repo, engine, branches=["main"]).findings == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_blobs_under_a_tree_that_a_tag_points_at_are_scanned(tmp_path, engine, monkeypatch, jobs):
    """A tag pointing at a tree (``git tag name <tree>``): no commit holds
    its files, yet they are in the history (and pushed with the tag); they
    are scanned at their paths in the tree. A tagged tree git cannot read is
    an error, not a clean scan."""
    import keyscan.history as kh

    monkeypatch.setattr(kh, "PARALLEL_MIN_OBJECTS", 0)
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=43)
    repo.commit("init", {"a.txt": "a\n"})
    repo.write("conf/prod.env", f"IMX_SECRET={key}\n")
    repo.git("add", "conf/prod.env")
    tree = repo.git("write-tree").strip()
    repo.git("reset", "-q")
    (repo.path / "conf/prod.env").unlink()
    repo.git("tag", "snapshot", tree)
    report = history(repo, engine, jobs=jobs)
    f = only(report, key)
    assert f.path == "conf/prod.env" and f.line == 1 and f.lifecycle["introduced"] is None
    assert report.errors == []
    inner = repo.git("mktree", input=f"100644 blob {repo.git('rev-parse', 'HEAD:a.txt').strip()}\tx.txt\n".encode()).strip()
    outer = repo.git("mktree", input=f"040000 tree {inner}\tlost\n100644 blob {repo.git('rev-parse', 'HEAD:a.txt').strip()}\tkept.txt\n".encode()).strip()
    repo.git("tag", "damaged", outer)
    (repo.path / ".git/objects" / inner[:2] / inner[2:]).unlink()
    report = history(repo, engine, jobs=jobs)
    assert only(report, key).path == "conf/prod.env"
    assert [(e.path, e.kind) for e in report.errors] == [(inner, "git")] and "is missing" in report.errors[0].message


def test_in_a_bare_repository_every_ref_counts_as_pushed(tmp_path, engine):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=41)
    repo.commit("key", {"k.py": f"K = '{key}'\n"})
    bare = tmp_path / "server.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(repo.path), str(bare)], check=True)
    f = only(scan_history(str(bare), engine, HistoryOptions()), key)
    assert f.lifecycle["pushed"] is True and f.lifecycle["refs"] == ["refs/heads/main"]
    assert f.lifecycle["present_at_head"] is True
    assert any("un-leak" in n for n in f.rotation["notes"])
    assert only(history(repo, engine), key).lifecycle["pushed"] is False


def test_refs_list_is_capped_with_branches_first(tmp_path, engine, monkeypatch):
    import keyscan.history as kh

    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=42)
    repo.commit("key", {"k.py": f"K = '{key}'\n"})
    for i in range(5):
        repo.git("update-ref", f"refs/pull/{i}/head", "HEAD")
    repo.git("tag", "v1")
    monkeypatch.setattr(kh, "MAX_REFS", 3)
    f = only(history(repo, engine), key)
    assert f.lifecycle["refs"] == ["refs/heads/main", "refs/pull/0/head", "refs/tags/v1"]
    assert f.lifecycle["refs_more"] == 4


def test_progress_lines_name_each_phase(capsys):
    """What `--progress` prints in each phase of a history scan, the
    listing (before any blob is read: a parallel scan orders the whole
    listing first) included."""
    from keyscan.cli import _progress_printer
    from keyscan.sources.history import Progress

    show = _progress_printer()
    show(Progress(8192, 0, 1.0, "listing"))
    assert capsys.readouterr().err == "\r\033[Kkeyscan: listing the history: 8,192 objects so far..."
    show(Progress(120, 5_000_000, 2.0, "blobs"))
    assert capsys.readouterr().err == "\r\033[Kkeyscan: 120 blobs, 5.0 MB, 2.5 MB/s"
    show(Progress(165_291, 5_630_000_000, 20.0, "provenance"))
    assert capsys.readouterr().err.endswith("165,291 blobs, 5,630.0 MB read; finding the commits that added the keys...")


@pytest.mark.parametrize("jobs", [1, 2])
def test_keys_inside_committed_archives_have_a_lifecycle(tmp_path, engine, monkeypatch, jobs):
    """A committed zip, tarball or .gz is opened as on disk: a key in a
    member is found once per archive path (shown as ``path!member``), at
    the commit that added it, and removed when a later version of the
    archive no longer holds it; the line is the member's."""
    import gzip

    import keyscan.history as kh

    monkeypatch.setattr(kh, "PARALLEL_MIN_OBJECTS", 0)
    repo = make_repo(tmp_path / "r")
    zipped, tarred, gzipped, nested = (fake_immutable_secret(seed=60 + i) for i in range(4))
    intro = repo.commit("fixtures", {
        "ops/conf.zip": zip_bytes({"app/.env": f"# prod\nIMX_SECRET={zipped}\n"}),
        "pkg.tgz": tgz_bytes({"package/index.js": f"module.exports = '{tarred}'\n", "package/inner.zip": zip_bytes({"k.txt": nested})}),
        "dump.sql.gz": gzip.compress(f"insert into keys values ('{gzipped}');\n".encode()),
    })
    repo.commit("same key, new member beside it", {"ops/conf.zip": zip_bytes({"app/.env": f"# prod\nIMX_SECRET={zipped}\n", "README": "x\n"})})
    removed = repo.commit("no key in the archive any more", {"ops/conf.zip": zip_bytes({"app/.env": "IMX_SECRET=\n"})})
    report = history(repo, engine, jobs=jobs)
    assert secrets_of(report) == sorted([("dump.sql.gz!dump.sql", gzipped), ("ops/conf.zip!app/.env", zipped), ("pkg.tgz!package/index.js", tarred), ("pkg.tgz!package/inner.zip!k.txt", nested)])
    assert only(report, nested).exposure == "history"  # nested too: history, not a shipped package
    z = only(report, zipped)
    assert (z.line, z.exposure, z.source["kind"]) == (2, "history", "history")
    assert z.lifecycle["introduced"] == intro and z.lifecycle["removed"] == removed and not z.lifecycle["present_at_head"]
    assert only(report, tarred).lifecycle["present_at_head"] and only(report, gzipped).commit["sha"] == intro
    assert report.stats.extra["archive_members"] >= 3 and report.errors == []


def test_a_damaged_archive_in_history_is_an_error_not_a_crash(tmp_path):
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=64)
    # A bundle whose map is not in the archive, with an allowed key (looking
    # for its original location notes the missing map; nothing is found).
    bundle = f"var k = '{fake_immutable_secret(seed=65)}'; // keyscan:allow\n//# sourceMappingURL=app.js.map\n"
    repo.commit("bad", {"broken.zip": b"PK\x03\x04" + b"\xee" * 200, "logs.gz": b"\x1f\x8b\x08\x00" + b"\x00" * 30, "app.zip": zip_bytes({"dist/app.js": bundle})})
    res = run_keyscan("history", "-f", "json", cwd=repo.path)
    # Listed, as `keyscan scan` lists them; a fixture like these must not
    # fail every later history scan (an unreadable blob still does: exit 2).
    assert res.code == 0 and "Traceback" not in res.err
    errors = sorted((e["path"], e["kind"]) for e in json.loads(res.out)["errors"])
    assert errors == [("app.zip!dist/app.js", "sourcemap"), ("broken.zip", "archive"), ("logs.gz", "archive")]
    repo.commit("key", {"k.py": f"K = '{key}'\n"})
    res = run_keyscan("history", "-f", "json", cwd=repo.path)
    assert res.code == 1 and [f["path"] for f in json.loads(res.out)["findings"]] == ["k.py"]
    _loose_path(repo, repo.git("rev-parse", "HEAD:k.py").strip()).unlink()
    res = run_keyscan("history", "-f", "json", cwd=repo.path)
    assert res.code == 2 and {e["kind"] for e in json.loads(res.out)["errors"]} == {"archive", "sourcemap", "git"}


def test_an_archive_over_the_cap_is_noted_and_the_blobs_after_it_still_read(tmp_path, engine, monkeypatch):
    """A committed archive larger than the cap is not opened (a note says
    so); the rest of its bytes are drained from cat-file, so the blob after
    it is read whole and its key found."""
    import keyscan.sources.archives as archives

    monkeypatch.setattr(archives, "MEMBER_CAP", 4096)
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=70)
    big = zip_bytes({f"m{i}.txt": os.urandom(600).hex() for i in range(8)})
    assert len(big) > 4096
    repo.commit("big archive, then a key", {"a-big.zip": big, "b.py": f"K = '{key}'\n"})
    report = history(repo, engine)
    assert secrets_of(report) == [("b.py", key)]
    assert [(e.path, e.kind) for e in report.errors] == [("a-big.zip", "archive")]
    assert "larger than" in report.errors[0].message and "not opened" in report.errors[0].message


def test_members_shared_by_versions_of_a_committed_archive_are_scanned_once():
    """Successive versions of a committed archive are different blobs that
    share most members: the engine's result memo takes members (paths with
    a ``!``) as it takes files on disk, and the report is the one a scan
    without it gives."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        repo = make_repo(Path(tmp) / "r")
        key = fake_immutable_secret(seed=66)
        shared = {f"lib/m{i}.js": f"export const v{i} = {i};\n" * 200 for i in range(4)}
        shared["lib/config.js"] = f"export const key = '{key}';\n" + "// pad\n" * 300
        for v in range(3):
            repo.commit(f"release {v}", {"dist/release.zip": zip_bytes({**shared, "VERSION": f"{v}\n"})})
        with_memo = Engine(load_ruleset())
        report = history(repo, with_memo)
        without = Engine(load_ruleset())
        without.memo = None
        plain = history(repo, without)
    assert with_memo.memo.hits >= 10  # 5 shared members of 1 KB or more, in versions 2 and 3
    assert secrets_of(report) == secrets_of(plain) == [("dist/release.zip!lib/config.js", key)]
    assert [f.lifecycle for f in report.findings] == [f.lifecycle for f in plain.findings]
    assert report.stats.as_dict() == plain.stats.as_dict()
