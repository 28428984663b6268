"""The baseline: create, update, prune, and scans that report only new
findings, on real files and real git repositories."""
import json
import re
import resource
import signal
import subprocess
import sys

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan

K1 = fake_immutable_secret(seed=421)
K2 = fake_immutable_secret(seed=422)
K3 = fake_immutable_secret("test", seed=423)
PK = fake_immutable_publishable(seed=424)
BASE = ".keyscan-baseline.json"


@pytest.fixture
def repo(workdir):
    r = make_repo(workdir / "proj")
    r.commit("start", {"src/app.py": f"KEY = '{K1}'\n", "deploy/values.yaml": f"key: {K2}\n", "web/main.ts": f"const pk = '{PK}';\n"})
    return r


def ok(res, code=0):
    assert res.code == code, (res.code, res.out, res.err)
    return res


def scan(repo, *args, code=None, cwd=None):
    res = run_keyscan("scan", "-f", "json", *args, cwd=cwd or repo.path)
    assert res.code in ((0, 1) if code is None else (code,)), (res.code, res.err)
    return json.loads(res.out)


def new_paths(rep):
    return sorted((f["path"], f["line"]) for f in rep["findings"])


def load(path):
    return json.loads(path.read_text())


def test_create_writes_a_sorted_content_addressed_file(repo):
    res = ok(run_keyscan("baseline", "create", cwd=repo.path))
    assert f"{BASE}: 3 entries for 3 findings" in res.out
    raw = (repo.path / BASE).read_text()
    doc = json.loads(raw)
    assert list(doc) == ["version", "tool", "salt", "entries"]
    assert doc["version"] == 1 and doc["tool"] == "keyscan" and re.fullmatch(r"[0-9a-f]{32}", doc["salt"])
    assert [sorted(e) for e in doc["entries"]] == [["hash", "path", "rule_id"]] * 3
    assert doc["entries"] == sorted(doc["entries"], key=lambda e: (e["rule_id"], e["path"], e["hash"]))
    assert {e["path"] for e in doc["entries"]} == {"src/app.py", "deploy/values.yaml", "web/main.ts"}
    assert all(re.fullmatch(r"[0-9a-f]{64}", e["hash"]) for e in doc["entries"])
    # No plaintext, no line numbers, no timestamps; one entry per line.
    for secret in (K1, K2, PK):
        assert secret not in raw and secret[-12:] not in raw
    assert '"line"' not in raw and not re.search(r"20\d\d-\d\d-\d\d", raw)
    assert sum(1 for line in raw.splitlines() if line.strip().startswith('{"rule_id"')) == 3
    # Scans now report nothing new; the known findings stay visible as suppressed.
    rep = scan(repo, code=0)
    assert rep["findings"] == [] and {s["suppression"]["reason"] for s in rep["suppressed"]} == {"baseline"}
    assert rep["suppressed"][0]["suppression"]["detail"] == f"known in {BASE}"


def test_moved_and_reindented_key_stays_known_a_different_key_on_the_same_line_is_new(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    repo.commit("refactor", {"src/app.py": f"import os\n\n\ndef key():\n        return '{K1}'\n"})
    assert scan(repo, code=0)["findings"] == []
    repo.commit("swap key", {"src/app.py": f"import os\n\n\ndef key():\n        return '{K3}'\n"})
    rep = scan(repo, code=1)
    assert new_paths(rep) == [("src/app.py", 5)]


def test_known_key_in_a_new_file_is_new_unless_entries_have_no_paths(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    repo.commit("copy into a bundle", {"dist/app.js": f'fetch(u,{{headers:{{"x-immutable-api-key":"{K1}"}}}})'})
    rep = scan(repo, code=1)
    assert new_paths(rep) == [("dist/app.js", 1)] and rep["findings"][0]["severity"] == "critical"
    ok(run_keyscan("baseline", "create", "--force", "--no-paths", cwd=repo.path))
    assert all("path" not in e for e in load(repo.path / BASE)["entries"])
    assert scan(repo, code=0)["findings"] == []


def test_paths_are_relative_to_the_repository_whatever_the_working_folder(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    # From a subfolder: the default baseline at the repository root is found and matches.
    rep = scan(repo, ".", cwd=repo.path / "src", code=0)
    assert rep["findings"] == [] and len(rep["suppressed"]) == 1
    # Created from a subfolder, it still lands at the root with root-relative paths.
    (repo.path / BASE).unlink()
    ok(run_keyscan("baseline", "create", "..", cwd=repo.path / "src"))
    assert {e["path"] for e in load(repo.path / BASE)["entries"]} == {"src/app.py", "deploy/values.yaml", "web/main.ts"}


def test_update_adds_only_new_findings_and_never_churns(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    before = (repo.path / BASE).read_bytes()
    res = ok(run_keyscan("baseline", "update", cwd=repo.path))
    assert "nothing new (3 entries); file unchanged" in res.out
    assert (repo.path / BASE).read_bytes() == before
    repo.commit("more", {"src/other.py": f"K = '{K3}'\n", "src/app.py": f"\n\n  KEY = '{K1}'\n"})
    res = ok(run_keyscan("baseline", "update", cwd=repo.path))
    assert "added 1 entry (4 in all)" in res.out
    after = load(repo.path / BASE)
    assert after["salt"] == json.loads(before)["salt"]
    old_lines = set(before.decode().splitlines())
    new_lines = (repo.path / BASE).read_text().splitlines()
    changed = [line for line in new_lines if line not in old_lines and line.rstrip(",") not in {x.rstrip(",") for x in old_lines}]
    assert len(changed) == 1 and '"src/other.py"' in changed[0]
    assert scan(repo, code=0)["findings"] == []


def test_update_and_prune_need_an_existing_baseline(repo):
    for cmd in ("update", "prune"):
        res = run_keyscan("baseline", cmd, cwd=repo.path)
        assert res.code == 2 and f"{BASE}: baseline file not found" in res.err and "keyscan baseline create" in res.err


def test_create_refuses_to_overwrite_without_force_and_force_keeps_the_salt(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    before = (repo.path / BASE).read_bytes()
    res = run_keyscan("baseline", "create", cwd=repo.path)
    assert res.code == 2 and "already exists" in res.err and "--force" in res.err
    ok(run_keyscan("baseline", "create", "--force", cwd=repo.path))
    assert (repo.path / BASE).read_bytes() == before


def test_prune_removes_and_lists_stale_entries_without_secrets(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    entries = {e["path"]: e for e in load(repo.path / BASE)["entries"]}
    repo.commit("remove the key", {"deploy/values.yaml": "key: ${IMX_SECRET}\n"})
    res = ok(run_keyscan("baseline", "prune", cwd=repo.path))
    gone = entries["deploy/values.yaml"]
    assert f"removed  immutable.secret-key  {gone['hash'][:12]}  deploy/values.yaml" in res.out
    assert gone["hash"] not in res.out and K2 not in res.out and K2[:14] not in res.out
    assert "removed 1 entry, 2 left" in res.out
    assert {e["path"] for e in load(repo.path / BASE)["entries"]} == {"src/app.py", "web/main.ts"}
    res = ok(run_keyscan("baseline", "prune", cwd=repo.path))
    assert "every entry still matches (2 entries); file unchanged" in res.out


def test_prune_only_touches_entries_of_rules_that_ran_under_the_paths_scanned(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    repo.commit("clean web and src", {"web/main.ts": "const pk = process.env.PK;\n", "src/app.py": "KEY = os.environ['K']\n"})
    res = ok(run_keyscan("baseline", "prune", "--disable", "immutable.publishable-key", "web", cwd=repo.path))
    assert "every entry still matches (3 entries)" in res.out
    res = ok(run_keyscan("baseline", "prune", "web", cwd=repo.path))
    assert "web/main.ts" in res.out and "src/app.py" not in res.out
    assert {e["path"] for e in load(repo.path / BASE)["entries"]} == {"src/app.py", "deploy/values.yaml"}


def test_explicit_baseline_file_and_configured_baseline(repo):
    (repo.path / "ci").mkdir()
    res = ok(run_keyscan("baseline", "create", "--baseline", "ci/known.json", cwd=repo.path))
    assert "scans report only new findings with --baseline ci/known.json" in res.out
    assert not (repo.path / BASE).exists()
    assert scan(repo, code=1)["findings"]  # another name: not used unless named
    assert scan(repo, "--baseline", "ci/known.json", code=0)["findings"] == []
    assert run_keyscan("scan", cwd=repo.path, env={"KEYSCAN_BASELINE": "ci/known.json"}).code == 0
    repo.write(".keyscan.toml", 'baseline = "ci/known.json"\n')
    assert scan(repo, code=0)["findings"] == []
    assert scan(repo, ".", cwd=repo.path / "src", code=0)["findings"] == []  # relative to the config
    assert scan(repo, "--no-baseline", code=1)["findings"]
    assert run_keyscan("scan", cwd=repo.path, env={"KEYSCAN_NO_BASELINE": "1"}).code == 1
    # `baseline update` writes to the configured file.
    repo.commit("new", {"src/new.py": f"K = '{K3}'\n"})
    res = ok(run_keyscan("baseline", "update", cwd=repo.path))
    assert "ci/known.json: added 1 entry" in res.out
    assert scan(repo, code=0)["findings"] == []


@pytest.mark.parametrize(
    "content, message",
    [
        (None, "baseline file not found (create it with: keyscan baseline create --baseline b.json)"),
        (b"", "corrupt baseline (invalid JSON at line 1, column 1)"),
        (b'{"version": 1, "tool": "keyscan", "salt": "00ff", "entries": []', "corrupt baseline (invalid JSON"),
        (b"\xff\xfe{}", "corrupt baseline (not UTF-8)"),
        (b'[{"Fingerprint": "x"}]', "not a keyscan baseline (a JSON list: a gitleaks report or baseline?)"),
        (b'{"version": "1.4.0", "plugins_used": [], "results": {}}', "not a keyscan baseline (looks like a detect-secrets baseline)"),
        (b'{"findings": [], "suppressed": []}', "looks like a keyscan report, not a baseline"),
        (b'{"version": 2, "tool": "keyscan", "salt": "' + b"ab" * 16 + b'", "entries": []}', "format version 2 is newer than this keyscan understands"),
        (b'{"version": 1, "tool": "keyscan", "salt": "xyz", "entries": []}', "'salt' must be 32 to 128 lowercase hex digits"),
        (b'{"version": 1, "tool": "keyscan", "salt": "' + b"ab" * 16 + b'", "entries": {}}', "'entries' must be a list"),
        (b'{"version": 1, "tool": "keyscan", "salt": "' + b"ab" * 16 + b'", "entries": [{"rule_id": "r", "hash": "abc"}]}', "entry 1: 'hash' must be 64 lowercase hex digits"),
        (b'{"version": 1, "tool": "keyscan", "salt": "' + b"ab" * 16 + b'", "entries": [{"rule_id": "r", "hash": "' + b"0" * 64 + b'", "line": 3}]}', "entry 1 has unknown key 'line'"),
    ],
)
def test_missing_corrupt_or_foreign_baseline_is_exit_2(repo, content, message):
    if content is not None:
        (repo.path / "b.json").write_bytes(content)
    res = run_keyscan("scan", "--baseline", "b.json", cwd=repo.path)
    assert res.code == 2, res
    assert res.err.startswith("keyscan: error: b.json: ") and message in res.err, res.err
    assert res.err.count("\n") == 1 and res.out == ""


def test_a_corrupt_default_baseline_is_not_ignored(repo):
    (repo.path / BASE).write_text("{oops")
    for args in (["scan"], ["baseline", "update"], ["baseline", "prune"]):
        res = run_keyscan(*args, cwd=repo.path)
        assert res.code == 2 and f"{BASE}: corrupt baseline" in res.err
    res = run_keyscan("baseline", "create", cwd=repo.path)
    assert res.code == 2 and "already exists" in res.err
    assert run_keyscan("scan", "--no-baseline", cwd=repo.path).code == 1
    ok(run_keyscan("baseline", "create", "--force", cwd=repo.path))
    assert scan(repo, code=0)["findings"] == []


def test_writes_are_atomic_and_leave_no_temporary_files(repo):
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    assert sorted(p.name for p in repo.path.iterdir() if p.name.startswith(".keyscan")) == [BASE]
    (repo.path / "src" / "x.py").write_text(f"K = '{K3}'\n")
    before = (repo.path / BASE).read_bytes()

    def small_files():  # in the child: writes beyond 300 bytes fail (EFBIG), as on a full disk
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (300, 300))

    proc = subprocess.run(
        [sys.executable, "-m", "keyscan", "baseline", "update"], cwd=repo.path, capture_output=True, text=True, preexec_fn=small_files
    )
    assert proc.returncode == 2 and f"{BASE}: cannot write" in proc.stderr, proc.stderr
    assert (repo.path / BASE).read_bytes() == before
    assert sorted(p.name for p in repo.path.iterdir() if p.name.startswith(".keyscan")) == [BASE]
    res = ok(run_keyscan("baseline", "create", "--baseline", "no/such/folder.json", cwd=repo.path), 2)
    assert "no/such/folder.json: cannot write" in res.err


def test_two_branches_updating_the_baseline_merge_without_conflict(repo):
    repo.commit("middle", {"m/mid.py": f"K = '{fake_immutable_secret(seed=425)}'\n"})
    ok(run_keyscan("baseline", "create", cwd=repo.path))
    repo.commit("baseline")
    repo.git("checkout", "-q", "-b", "feature")
    repo.commit("feature key", {"a/early.py": f"K = '{fake_immutable_secret(seed=426)}'\n"})
    ok(run_keyscan("baseline", "update", cwd=repo.path))
    repo.commit("feature baseline")
    repo.git("checkout", "-q", "main")
    repo.commit("main key", {"z/late.py": f"K = '{fake_immutable_secret(seed=427)}'\n"})
    ok(run_keyscan("baseline", "update", cwd=repo.path))
    repo.commit("main baseline")
    out = repo.git("merge", "--no-edit", "feature", check=False)
    assert "CONFLICT" not in out, out
    doc = load(repo.path / BASE)
    assert len(doc["entries"]) == 6
    assert scan(repo, code=0)["findings"] == []


def test_history_baseline_gates_keyscan_history_on_new_keys_only(workdir):
    repo = make_repo(workdir / "h")
    repo.commit("leak", {"old/creds.py": f"K = '{K1}'\n"})
    repo.commit("remove", {"old/creds.py": "K = os.environ['K']\n"})
    repo.commit("current", {"src/app.py": f"K = '{K2}'\n"})
    assert run_keyscan("history", cwd=repo.path).code == 1
    res = ok(run_keyscan("baseline", "create", "--history", cwd=repo.path))
    assert "2 entries for 2 findings" in res.out
    assert {e["path"] for e in load(repo.path / BASE)["entries"]} == {"old/creds.py", "src/app.py"}
    repo.commit("baseline")
    assert ok(run_keyscan("history", cwd=repo.path)).code == 0
    assert ok(run_keyscan("scan", cwd=repo.path)).code == 0
    repo.commit("new leak", {"src/app.py": f"K = '{K2}'\nJ = '{K3}'\n"})
    res = run_keyscan("history", "-f", "json", cwd=repo.path)
    assert res.code == 1 and [f["path"] for f in json.loads(res.out)["findings"]] == ["src/app.py"]
    assert len(json.loads(res.out)["findings"]) == 1
    # Pruning by history keeps the key that is only in history; a working-tree prune would drop it.
    res = ok(run_keyscan("baseline", "prune", "--history", cwd=repo.path))
    assert "every entry still matches" in res.out
    res = ok(run_keyscan("baseline", "prune", cwd=repo.path))
    assert "old/creds.py" in res.out and "removed 1 entry" in res.out
    assert run_keyscan("baseline", "create", "--history", "a", "b", cwd=repo.path).code == 2


def test_baseline_scans_use_workers_like_scan_and_history(repo, monkeypatch):
    """`baseline create/update/prune` run the scan `keyscan scan` or
    `keyscan history` would, workers included (they ran in one process),
    and the baseline does not depend on how many."""
    import keyscan.history
    import keyscan.scan
    from keyscan.cli import main

    def run(*argv: str) -> int:
        with pytest.raises(SystemExit) as done:
            main(list(argv))
        return done.value.code

    for i in range(450):  # past parallel.MIN_FILES
        repo.write(f"pkg/m{i}.py", f"x = {i}\n")
    repo.commit("many files")
    seen = []
    for module, name in ((keyscan.scan, "scan_paths"), (keyscan.history, "scan_history")):
        real = getattr(module, name)
        monkeypatch.setattr(module, name, lambda *a, _real=real, _name=name: seen.append((_name, a[2].jobs)) or _real(*a))
    monkeypatch.chdir(repo.path)
    assert run("baseline", "create", "-j", "1") == 0
    one = (repo.path / BASE).read_bytes()
    assert run("baseline", "create", "--force", "--jobs", "2") == 0
    assert (repo.path / BASE).read_bytes() == one and len(load(repo.path / BASE)["entries"]) == 3
    monkeypatch.setenv("KEYSCAN_JOBS", "3")
    assert run("baseline", "update") == 0
    assert run("baseline", "prune", "--history") == 0
    assert seen == [("scan_paths", 1), ("scan_paths", 2), ("scan_paths", 3), ("scan_history", 3)]
