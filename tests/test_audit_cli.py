"""keyscan audit and keyscan merge on the command line: exit codes, the
repository list, shards merged back into the whole, every format, bad input,
credentials in URLs, and the config's patterns on each repository."""
from __future__ import annotations

import json
import subprocess

import pytest

from helpers import fake_immutable_secret, make_repo, run_keyscan
from test_audit import make_org


@pytest.fixture
def org(tmp_path):
    return make_org(tmp_path)


def audit(tmp_path, *args, cache="cache", **kw):
    return run_keyscan("audit", "--cache", str(tmp_path / cache), "--jobs", "2", *args, cwd=tmp_path, **kw)


def test_exit_codes_and_the_text_report(tmp_path, org):
    clean = audit(tmp_path, str(org["docs"].path))
    assert clean.code == 0, clean.err
    assert "Repositories: 1 audited." in clean.out and "keyscan: audited 1 repository" in clean.err
    found = audit(tmp_path, str(org["api"].path), str(org["docs"].path))
    assert found.code == 1, found.err
    api = str(org["api"].path.resolve())
    assert f"{api}/config.py:1:8" in found.out  # the repository is the first part of the path
    assert "1 repository with no findings and no errors." in found.out
    incomplete = audit(tmp_path, str(org["api"].path), str(tmp_path / "missing"))
    assert incomplete.code == 3, incomplete.err
    assert f"{tmp_path / 'missing'}: fetch: no such folder" in incomplete.out
    assert "Traceback" not in incomplete.err


def test_shards_merge_into_the_whole_audit(tmp_path, org):
    listing = tmp_path / "repos.txt"
    listing.write_text(
        "# the organisation\n"
        + "".join(f"{r.path}   # {name}\n" for name, r in org.items())
        + f"\n{org['api'].path}\n"  # listed twice: audited once
    )
    whole = audit(tmp_path, "--repos", str(listing), "-f", "json", "-o", "whole.json")
    assert whole.code == 1 and "listed more than once" in whole.err
    shards = []
    for i in (1, 2):
        r = audit(tmp_path, "--repos", str(listing), "--shard", f"{i}/2", "-f", "json", "-o", f"shard-{i}.json", cache=f"cache{i}")
        assert r.code in (0, 1), r.err
        shards.append(json.loads((tmp_path / f"shard-{i}.json").read_text())["stats"]["repositories"])
    assert sorted(len(s) for s in shards) == [1, 2]
    assert not {r["repository"] for r in shards[0]} & {r["repository"] for r in shards[1]}
    merged = run_keyscan("merge", "shard-1.json", "shard-2.json", "-f", "json", "-o", "merged.json", "--report", "sarif=merged.sarif", "--report", "html=merged.html", cwd=tmp_path)
    assert merged.code == 1, merged.err
    assert (tmp_path / "merged.json").read_text() == (tmp_path / "whole.json").read_text()
    sarif = json.loads((tmp_path / "merged.sarif").read_text())
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"])
    assert len(uris) == 3 and all("org/api/" in u or "org/web/" in u for u in uris)
    assert "org/web/server/env.py" in (tmp_path / "merged.html").read_text()
    text = run_keyscan("merge", "shard-2.json", "shard-1.json", cwd=tmp_path)
    assert text.code == 1 and "Repositories: 3 audited." in text.out


def test_merge_rejects_what_is_not_a_set_of_audit_shards(tmp_path, org):
    r = audit(tmp_path, str(org["docs"].path), "-f", "json", "-o", "a.json")
    assert r.code == 0
    (tmp_path / "garbage.json").write_text("{not json")
    history = run_keyscan("history", str(org["docs"].path), "-f", "json", "-o", "history.json", cwd=tmp_path)
    assert history.code == 0
    doc = json.loads((tmp_path / "a.json").read_text())
    doc["findings"] = [{"rule_id": "x"}]
    (tmp_path / "broken.json").write_text(json.dumps(doc))
    cases = {
        ("a.json", "a.json"): "appears in more than one report",
        ("missing.json",): "missing.json: no such file",
        ("garbage.json",): "garbage.json: not a JSON report",
        ("history.json",): "a 'history' report, not an audit report",
        ("broken.json",): "broken.json: not a keyscan JSON report (a finding has no text 'provider')",
    }
    for files, message in cases.items():
        out = run_keyscan("merge", *files, cwd=tmp_path)
        assert out.code == 2 and message in out.err and "Traceback" not in out.err, (files, out.err)
        assert len(out.err.strip().splitlines()) == 1


def test_bad_input_is_a_one_line_error(tmp_path, org):
    (tmp_path / "bad.txt").write_text(f"{org['docs'].path}\next::sh -c touch${{IFS}}pwned\n")
    cases = [
        (["--repos", "bad.txt"], "bad.txt:2: 'ext::sh -c touch${IFS}pwned': git remote helpers (ext::, fd::) are not allowed"),
        ([str(org["docs"].path), "--no-redact"], "--no-redact: audit reports are built from a cache that never holds a secret"),
        ([str(org["docs"].path), "--scheduler", "tcp://127.0.0.1:1"], "--scheduler needs --executor dask"),
        ([str(org["docs"].path), "--shard", "3/2"], "I must be between 1 and 2"),
        ([], "no repositories"),
        (["--", "-uhello"], "is not a repository (starts with '-')"),
    ]
    for args, message in cases:
        out = audit(tmp_path, *args)
        assert out.code == 2 and message in out.err and "Traceback" not in out.err, (args, out.err)
    assert not (tmp_path / "pwned").exists()


def test_credentials_in_a_url_are_never_shown_or_stored(tmp_path, org):
    token = "ghp_" + "Zq8" * 12
    url = f"https://audit-bot:{token}@127.0.0.1:9/org/private.git"
    r = audit(tmp_path, url, str(org["docs"].path), "-f", "json", "--fetch-timeout", "20")
    assert r.code == 3, r.err
    doc = json.loads(r.out)
    (err,) = doc["errors"]
    assert err["repository"] == "127.0.0.1:9/org/private" and err["kind"] == "fetch"
    stored = "".join(p.read_text(errors="replace") for p in (tmp_path / "cache").rglob("*") if p.is_file())
    for text in (r.out, r.err, stored):
        assert token not in text and "audit-bot" not in text


def test_a_url_is_a_remote_so_its_keys_are_pushed(tmp_path, org):
    web = org["web"]
    bare = tmp_path / "web.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(web.path), str(bare)], check=True)
    r = audit(tmp_path, f"file://{bare}", "-f", "json")
    assert r.code == 1, r.err
    doc = json.loads(r.out)
    server = next(f for f in doc["findings"] if f["path"] == "server/env.py")
    assert server["repository"] == f"file://{tmp_path / 'web'}"
    assert server["lifecycle"]["pushed"] is True and server["lifecycle"]["refs"] == ["refs/remotes/origin/main"]
    assert server["lifecycle"]["present_at_head"] is True
    assert not any("never pushed" in n for n in server["rotation"]["notes"])


def test_config_patterns_apply_to_each_repositorys_paths(tmp_path, org):
    key = fake_immutable_secret(seed=41)
    other = make_repo(tmp_path / "org" / "svc")
    other.commit("init", {"vendor/lib.py": f"VENDORED = '{key}'\n", "app/main.py": f"K = '{key}'\n", "ops/deploy.py": f"K2 = '{fake_immutable_secret(seed=42)}'\n"})
    (tmp_path / ".keyscan.toml").write_text('exclude = ["vendor/"]\n\n[[allow]]\nreason = "ops test key, rotated"\npaths = ["ops/"]\n')
    r = audit(tmp_path, str(other.path), str(org["web"].path), "-f", "json")
    assert r.code == 1, r.err
    doc = json.loads(r.out)
    assert sorted(f["path"] for f in doc["findings"]) == ["app/main.py", "server/env.py", "src/app.js"]
    assert [(s["path"], s["suppression"]["reason"]) for s in doc["suppressed"]] == [("ops/deploy.py", "config")]
