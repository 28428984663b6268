"""keyscan audit: many real repositories, the result cache, incremental
re-audits that equal a full one, faults, and the local executor. The dask
path is in test_audit_dask.py; the CLI, shards and merge in
test_audit_cli.py."""
from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, zip_bytes
from keyscan.audit import AuditOptions, ScanSpec, audit
from keyscan.audit import executors, run as run_mod
from keyscan.audit import worker as worker_mod
from keyscan.audit.repos import parse
from keyscan.engine import Engine
from keyscan.reporters import RenderOptions, renderer
from keyscan.rulefile import load_ruleset


@pytest.fixture(scope="module")
def engine_spec():
    ruleset = load_ruleset().without(set())
    spec = ScanSpec(rule_dirs=(), only=(), disable=(), ruleset_digest=ruleset.digest)
    return Engine(ruleset), spec


def run_audit(engine_spec, repos, cache, **kw):
    engine, spec = engine_spec
    kw.setdefault("jobs", 2)
    return audit([parse(str(r)) for r in repos], spec, AuditOptions(cache_dir=str(cache), **kw), engine)


def as_json(report) -> str:
    return renderer("json")(report, RenderOptions())


def make_org(tmp_path):
    """Three small repositories: a key removed from HEAD (pushed to a
    remote), a key still at HEAD plus a publishable key, and a clean one."""
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    api = make_repo(tmp_path / "org" / "api")
    api.commit("init", {"README.md": "api\n"})
    api.commit("add key", {"config.py": f"KEY = '{fake_immutable_secret(seed=11)}'\n"})
    api.git("remote", "add", "origin", str(remote))
    api.git("push", "-q", "origin", "main")
    api.commit("read the key from the environment", {"config.py": "import os\nKEY = os.environ['KEY']\n"})
    web = make_repo(tmp_path / "org" / "web")
    web.commit("init", {"src/app.js": f"const pk = '{fake_immutable_publishable(seed=12)}';\n"})
    web.commit("server", {"server/env.py": f"SECRET = '{fake_immutable_secret(seed=13)}'\n"})
    docs = make_repo(tmp_path / "org" / "docs")
    docs.commit("init", {"index.md": "# docs\n"})
    return {"api": api, "web": web, "docs": docs}


def test_three_repositories_one_report_with_a_summary_per_repository(tmp_path, engine_spec):
    org = make_org(tmp_path)
    result = run_audit(engine_spec, [r.path for r in org.values()], tmp_path / "cache")
    report = result.report
    assert result.statuses == {"full": 3}
    assert report.command == "audit" and report.errors == []
    api, web, docs = (str((tmp_path / "org" / n).resolve()) for n in ("api", "web", "docs"))
    found = sorted((f.repository, f.path, f.severity) for f in report.findings)
    assert found == [(api, "config.py", "high"), (web, "server/env.py", "high"), (web, "src/app.js", "info")]
    rows = {r["repository"]: r for r in report.stats.extra["repositories"]}
    assert [r["repository"] for r in report.stats.extra["repositories"]] == sorted(rows)
    assert rows[api]["keys_at_head"] == 0 and rows[api]["keys_only_in_history"] == 1 and rows[api]["status"] == "complete"
    assert rows[web]["keys_at_head"] == 2 and rows[web]["by_severity"]["high"] == 1 and rows[web]["by_severity"]["info"] == 1
    assert rows[docs]["findings"] == 0 and rows[docs]["head"] == org["docs"].git("rev-parse", "HEAD").strip()
    api_key = next(f for f in report.findings if f.repository == api)
    assert api_key.lifecycle["present_at_head"] is False and api_key.lifecycle["pushed"] is True
    assert "refs/remotes/origin/main" in api_key.lifecycle["refs"]
    doc = json.loads(as_json(report))
    assert all(f["repository"] in (api, web) for f in doc["findings"])
    assert doc["stats"]["repositories"] == report.stats.extra["repositories"]
    # The cache never holds a secret.
    cached = "".join(p.read_text() for p in (tmp_path / "cache" / "results").rglob("*.json"))
    for seed in (11, 13):
        assert fake_immutable_secret(seed=seed) not in cached
    assert fake_immutable_secret(seed=11)[:14] in cached  # the redacted form is there


def test_reaudit_with_nothing_changed_scans_nothing(tmp_path, engine_spec):
    org = make_org(tmp_path)
    repos = [r.path for r in org.values()]
    first = run_audit(engine_spec, repos, tmp_path / "cache")
    seen = []
    again = run_audit(engine_spec, repos, tmp_path / "cache", on_result=seen.append)
    assert again.statuses == {"unchanged": 3}
    assert sum(d.blobs for d in seen) == 0
    assert as_json(again.report) == as_json(first.report)


def _full(engine_spec, repos, cache):
    return as_json(run_audit(engine_spec, repos, cache).report)


def test_a_new_commit_scans_only_that_repository_and_equals_a_full_audit(tmp_path, engine_spec):
    org = make_org(tmp_path)
    repos = [r.path for r in org.values()]
    run_audit(engine_spec, repos, tmp_path / "cache")
    # A new file with a new key, on a new branch merged into main, plus an
    # unrelated edit: only these new blobs are read.
    web = org["web"]
    web.git("checkout", "-q", "-b", "feature")
    web.commit("payments", {"payments/stripe.py": f"KEY = '{fake_immutable_secret('test', seed=21)}'\n"})
    web.git("checkout", "-q", "main")
    web.commit("docs", {"README.md": "web\n"})
    web.git("merge", "-q", "--no-ff", "-m", "merge feature", "feature")
    seen = []
    inc = run_audit(engine_spec, repos, tmp_path / "cache", on_result=seen.append)
    assert inc.statuses == {"incremental": 1, "unchanged": 2}, [(d.repository, d.why) for d in seen]
    by_repo = {d.repository: d for d in seen}
    web_id = str(web.path.resolve())
    assert by_repo[web_id].status == "incremental"
    assert 0 < by_repo[web_id].blobs <= 4  # stripe.py, README.md (+ nothing old)
    assert as_json(inc.report) == _full(engine_spec, repos, tmp_path / "fresh")
    new = [f for f in inc.report.findings if f.path == "payments/stripe.py"]
    assert len(new) == 1 and new[0].severity == "medium" and new[0].lifecycle["present_at_head"] is True
    # The old key at HEAD is now also held by the new branch.
    old = next(f for f in inc.report.findings if f.path == "server/env.py")
    assert old.lifecycle["refs"] == ["refs/heads/feature", "refs/heads/main"]


def test_an_incremental_audit_over_new_archives_equals_a_full_audit(tmp_path, engine_spec):
    """History opens committed archives; what an incremental audit reads of
    the range (members included) is counted once, as a full audit counts it."""
    def zipped(text: str) -> bytes:
        return zip_bytes({"a.txt": text, "b/c.txt": text * 2})

    org = make_org(tmp_path)
    repos = [r.path for r in org.values()]
    v1 = zipped("v1\n")
    org["web"].commit("old assets", {"assets.zip": v1})
    org["web"].commit("new assets", {"assets.zip": zipped("v2\n")})
    run_audit(engine_spec, repos, tmp_path / "cache")
    # The old archive back (git lists its blob again) and a new one.
    org["web"].commit("revert the assets", {"assets.zip": v1, "more.zip": zipped("v3\n")})
    inc = run_audit(engine_spec, repos, tmp_path / "cache")
    assert inc.statuses == {"incremental": 1, "unchanged": 2}
    assert as_json(inc.report) == _full(engine_spec, repos, tmp_path / "fresh")


def test_a_new_commit_that_touches_a_key_file_is_audited_in_full_and_still_equal(tmp_path, engine_spec):
    org = make_org(tmp_path)
    repos = [r.path for r in org.values()]
    run_audit(engine_spec, repos, tmp_path / "cache")
    org["web"].commit("move the key out", {"server/env.py": "import os\nSECRET = os.environ['SECRET']\n"})
    seen = []
    again = run_audit(engine_spec, repos, tmp_path / "cache", on_result=seen.append)
    assert again.statuses == {"full": 1, "unchanged": 2}
    assert "held a key" in next(d.why for d in seen if d.status == "full")
    assert as_json(again.report) == _full(engine_spec, repos, tmp_path / "fresh")
    gone = next(f for f in again.report.findings if f.path == "server/env.py")
    assert gone.lifecycle["present_at_head"] is False and gone.lifecycle["removed"] == org["web"].git("rev-parse", "HEAD").strip()


def test_refs_that_move_without_new_commits_and_a_renamed_key_file(tmp_path, engine_spec):
    org = make_org(tmp_path)
    api = org["api"]
    repos = [api.path]
    run_audit(engine_spec, repos, tmp_path / "cache")
    # A tag at an old commit: no new commits, but the refs holding the key change.
    api.git("tag", "v1", "HEAD~1")
    inc = run_audit(engine_spec, repos, tmp_path / "cache")
    assert inc.statuses == {"incremental": 1}
    key = inc.report.findings[0]
    assert "refs/tags/v1" in key.lifecycle["refs"]
    assert as_json(inc.report) == _full(engine_spec, repos, tmp_path / "fresh1")
    # A copy of an old version that held the key, at a new path: the old
    # blob (git may list it among the new commits' objects again).
    old_file = api.git("show", "HEAD~1:config.py")
    api.commit("keep a backup", {"backup/config.py": old_file})
    again = run_audit(engine_spec, repos, tmp_path / "cache")
    assert sorted(f.path for f in again.report.findings) == ["backup/config.py", "config.py"]
    assert as_json(again.report) == _full(engine_spec, repos, tmp_path / "fresh2")


def test_a_copy_of_a_key_file_still_at_head_is_audited_in_full(tmp_path, engine_spec):
    org = make_org(tmp_path)
    web = org["web"]
    run_audit(engine_spec, [web.path], tmp_path / "cache")
    # The same blob as server/env.py at HEAD: the range scan does not read
    # it (an old tip's tree holds it), so only a full audit finds the new path.
    web.commit("copy", {"deploy/env.py": (web.path / "server" / "env.py").read_text()})
    seen = []
    again = run_audit(engine_spec, [web.path], tmp_path / "cache", on_result=seen.append)
    assert again.statuses == {"full": 1}
    assert seen[0].why == "new commits put an old file that holds a key at a new path"
    assert "deploy/env.py" in {f.path for f in again.report.findings}
    assert as_json(again.report) == _full(engine_spec, [web.path], tmp_path / "fresh")


def test_a_rewound_branch_is_audited_in_full(tmp_path, engine_spec):
    org = make_org(tmp_path)
    web = org["web"]
    run_audit(engine_spec, [web.path], tmp_path / "cache")
    web.git("reset", "-q", "--hard", "HEAD~1")  # the key commit is gone from every ref
    again = run_audit(engine_spec, [web.path], tmp_path / "cache")
    assert again.statuses == {"full": 1}
    assert [f.path for f in again.report.findings] == ["src/app.js"]
    assert as_json(again.report) == _full(engine_spec, [web.path], tmp_path / "fresh")


def test_broken_repositories_are_errors_and_the_others_finish(tmp_path, engine_spec):
    org = make_org(tmp_path)
    not_git = tmp_path / "plain"
    not_git.mkdir()
    (not_git / "a.txt").write_text("hello\n")
    missing = tmp_path / "nowhere"
    corrupt = make_repo(tmp_path / "corrupt")
    corrupt.commit("one", {"a.py": f"K = '{fake_immutable_secret(seed=31)}'\n"})
    blob = corrupt.git("rev-parse", "HEAD:a.py").strip()
    os.remove(corrupt.path / ".git" / "objects" / blob[:2] / blob[2:])
    repos = [org["api"].path, not_git, missing, corrupt.path, org["docs"].path]
    result = run_audit(engine_spec, repos, tmp_path / "cache")
    rows = {r["repository"]: r["status"] for r in result.report.stats.extra["repositories"]}
    assert rows[str(org["api"].path.resolve())] == "complete" and rows[str(org["docs"].path.resolve())] == "complete"
    assert rows[str(not_git.resolve())] == "failed" and rows[str(missing.resolve())] == "failed" and rows[str(corrupt.path.resolve())] == "failed"
    errors = {e.repository: e for e in result.report.errors}
    assert "does not appear to be a git repository" in errors[str(not_git.resolve())].message
    assert "no such folder" in errors[str(missing.resolve())].message
    assert errors[str(corrupt.path.resolve())].kind == "fetch"
    assert len(result.report.findings) == 1  # api's key


def _dying_audit(task):
    if "doomed" in task.repo.identity:
        os.kill(os.getpid(), signal.SIGKILL)
    return worker_mod.audit_repository(task)


def test_a_worker_that_dies_fails_only_its_repository(tmp_path, engine_spec, monkeypatch):
    org = make_org(tmp_path)
    doomed = make_repo(tmp_path / "doomed")
    doomed.commit("one", {"a.txt": "x\n"})
    monkeypatch.setattr(run_mod, "audit_repository", _dying_audit)
    repos = [org["api"].path, doomed.path, org["web"].path, org["docs"].path]
    result = run_audit(engine_spec, repos, tmp_path / "cache")
    rows = {r["repository"]: r["status"] for r in result.report.stats.extra["repositories"]}
    assert rows.pop(str(doomed.path.resolve())) == "failed"
    assert set(rows.values()) == {"complete"}
    (err,) = result.report.errors
    assert err.repository == str(doomed.path.resolve()) and "died" in err.message
    assert result.statuses["failed"] == 1 and result.statuses.get("full") == 3


def test_an_interrupted_audit_resumes_from_the_cache(tmp_path, engine_spec):
    org = make_org(tmp_path)
    repos = [r.path for r in org.values()]
    done = []

    def stop_after_first(d):
        done.append(d.repository)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_audit(engine_spec, repos, tmp_path / "cache", jobs=1, on_result=stop_after_first)
    assert len(done) == 1
    seen = []
    resumed = run_audit(engine_spec, repos, tmp_path / "cache", on_result=seen.append)
    status = {d.repository: d.status for d in seen}
    assert status.pop(done[0]) == "unchanged"
    assert set(status.values()) == {"full"}
    assert as_json(resumed.report) == _full(engine_spec, repos, tmp_path / "fresh")


def test_run_isolates_a_crashing_task_from_its_pool_neighbours():
    pool = executors.process_pool(2)
    items = [1, 2, -1, 3, 4]
    with pool:
        out = dict(executors.run(pool, _square_or_die, items, solo=lambda: executors.process_pool(1), parallel_solo=2))
    assert {i: o for i, o in out.items() if o[0] == "ok"} == {0: ("ok", 1), 1: ("ok", 4), 3: ("ok", 9), 4: ("ok", 16)}
    assert out[2][0] == "died"


def _square_or_die(x):
    if x < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    if x == 99:
        raise ValueError("bad input")
    return x * x


def test_run_reports_an_exception_as_that_items_failure():
    with executors.process_pool(1) as pool:
        out = dict(executors.run(pool, _square_or_die, [2, 99]))
    assert out == {0: ("ok", 4), 1: ("error", "ValueError: bad input")}


def test_a_copy_that_cannot_be_read_entirely_is_incomplete_and_retried(tmp_path, engine_spec):
    from keyscan.audit.cache import Layout

    org = make_org(tmp_path)
    web = org["web"]
    cache = tmp_path / "cache"
    run_audit(engine_spec, [web.path], cache)
    # Lose a blob of the cache's copy (a disk fault), then audit afresh.
    git_dir = Layout(str(cache)).git_dir(parse(str(web.path)))
    blob = web.git("rev-parse", "HEAD:server/env.py").strip()
    loose = os.path.join(git_dir, "objects", blob[:2], blob[2:])
    assert os.path.exists(loose)
    os.remove(loose)
    for p in (cache / "results").rglob("*.json"):
        p.unlink()
    seen = []
    result = run_audit(engine_spec, [web.path], cache, on_result=seen.append)
    (row,) = result.report.stats.extra["repositories"]
    assert row["status"] == "incomplete" and row["errors"] >= 1
    assert any(blob in e.message for e in result.report.errors)
    again = []
    run_audit(engine_spec, [web.path], cache, on_result=again.append)
    assert again[0].status == "full" and again[0].why == "the previous audit could not read everything"
