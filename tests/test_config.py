"""Project configuration: discovery, validation, precedence, exclude, [[allow]]."""
import json

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan

SECRET = fake_immutable_secret(seed=401)
OTHER = fake_immutable_secret(seed=402)
TEST_SECRET = fake_immutable_secret("test", seed=403)
PUBLISHABLE = fake_immutable_publishable(seed=404)


@pytest.fixture
def repo(workdir):
    r = make_repo(workdir / "proj")
    r.commit("code", {"src/app.py": f"KEY = '{SECRET}'\n", "tests/fixture.py": f"KEY = '{OTHER}'\n"})
    return r


def paths_of(res):
    return sorted(f["path"] for f in json.loads(res.out)["findings"])


def test_keyscan_toml_at_repo_root_applies_when_scanning_a_subfolder(repo):
    repo.write(".keyscan.toml", 'exclude = ["tests/"]\nformat = "json"\n')
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 1, res.err
    assert paths_of(res) == ["src/app.py"]
    # From a subfolder the same config is found by walking up.
    res = run_keyscan("scan", "..", cwd=repo.path / "src")
    assert paths_of(res) == ["app.py"]  # tests/ excluded by the config found above


def test_pyproject_tool_keyscan_table(repo):
    repo.write("pyproject.toml", '[project]\nname = "x"\n\n[tool.keyscan]\nexclude = ["src/"]\nformat = "json"\n')
    res = run_keyscan("scan", cwd=repo.path)
    assert paths_of(res) == ["tests/fixture.py"]


def test_pyproject_without_table_is_skipped_and_keyscan_toml_wins(repo):
    (repo.path / "src" / "pyproject.toml").write_text('[project]\nname = "inner"\n')
    repo.write(".keyscan.toml", 'format = "json"\nexclude = ["tests/"]\n')
    repo.write("pyproject.toml", '[tool.keyscan]\nformat = "text"\n')
    res = run_keyscan("scan", cwd=repo.path / "src")
    assert paths_of(res) == ["app.py"]


def test_nearest_config_wins(repo):
    repo.write(".keyscan.toml", 'format = "json"\n')
    repo.write("src/.keyscan.toml", 'format = "json"\nexclude = ["app.py"]\n')
    assert json.loads(run_keyscan("scan", cwd=repo.path / "src").out)["findings"] == []
    assert paths_of(run_keyscan("scan", cwd=repo.path)) == ["src/app.py", "tests/fixture.py"]


def test_discovery_stops_at_the_repository_root(workdir):
    (workdir / ".keyscan.toml").write_text('exclude = ["*.py"]\n')  # outside the repository
    r = make_repo(workdir / "proj")
    r.write("a.py", f"k = '{SECRET}'\n")
    res = run_keyscan("scan", "-f", "json", cwd=r.path)
    assert paths_of(res) == ["a.py"]


@pytest.mark.parametrize(
    "text, fragment",
    [
        ('exlude = ["x"]\n', "unknown key 'exlude' (did you mean 'exclude'?)"),
        ('fail_on = "high"\n', "unknown key 'fail_on' (did you mean 'fail-on'?)"),
        ('colour = "never"\n', "unknown key 'colour'"),
        ('exclude = "tests/"\n', "'exclude' must be a list of gitignore-style patterns"),
        ('fail-on = "severe"\n', "'fail-on' must be one of info, low, medium, high, critical, not 'severe'"),
        ('baseline = ""\n', "'baseline' must be a path"),
        ('inline-ignores = "no"\n', "'inline-ignores' must be true or false"),
        ("exclude = [\n", "invalid TOML"),
    ],
)
def test_bad_keyscan_toml_is_exit_2_naming_file_and_key(repo, text, fragment):
    repo.write(".keyscan.toml", text)
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 2
    assert res.err.startswith("keyscan: error: ") and ".keyscan.toml" in res.err and fragment in res.err
    assert res.err.count("\n") == 1 and "Traceback" not in res.err


def test_bad_pyproject_key_names_the_table(repo):
    repo.write("pyproject.toml", '[tool.keyscan]\ndisabled = ["x"]\n')
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 2
    assert "pyproject.toml [tool.keyscan]: unknown key 'disabled' (did you mean 'disable'?)" in res.err


def test_bad_format_and_unknown_disabled_rule_in_config(repo):
    repo.write(".keyscan.toml", 'format = "yaml"\n')
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 2 and ".keyscan.toml: 'format' must be one of" in res.err
    repo.write(".keyscan.toml", 'disable = ["immutable.no-such-rule"]\n')
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 2 and ".keyscan.toml: 'disable': unknown rule id 'immutable.no-such-rule'" in res.err
    (repo.path / ".keyscan.toml").unlink()
    res = run_keyscan("scan", "--disable", "nope.rule", cwd=repo.path)
    assert res.code == 2 and "--disable: unknown rule id 'nope.rule'" in res.err


def test_disable_and_only_from_config(repo):
    repo.write("web.ts", f"const k = '{PUBLISHABLE}';\n")
    repo.write(".keyscan.toml", 'format = "json"\ndisable = ["immutable.secret-key"]\n')
    rep = json.loads(run_keyscan("scan", cwd=repo.path).out)
    assert {f["rule_id"] for f in rep["findings"]} == {"immutable.publishable-key"}


def test_rules_folder_from_config_is_relative_to_the_config(repo):
    repo.write("ci/rules/internal.toml", """format = 1
provider = "Acme"

[[rule]]
id = "acme.internal-token"
name = "Acme internal token"
description = "An internal token for Acme's build service; it can push artefacts."
references = ["https://example.org/acme"]
key_class = "secret"
keywords = ["acme_tok_"]
pattern = '''(?P<secret>acme_tok_[a-z0-9]{24})'''
environment = "production"

[rule.rotation]
url = "https://example.org/acme/rotate"
steps = ["Revoke the token in the Acme console.", "Issue a new one."]

[[rule.examples]]
text = "T = 'acme_tok_q8w7e6r5t4y3u2i1o9p8a7s6'"
secret = "acme_tok_q8w7e6r5t4y3u2i1o9p8a7s6"

[[rule.negative_examples]]
text = "acme_tok_short"
why = "too short"
""")
    repo.write("deploy.sh", "export T=acme_tok_m3n4b5v6c7x8z9l1k2j3h4g5\n")
    repo.write(".keyscan.toml", 'rules = ["ci/rules"]\nformat = "json"\n')
    rep = json.loads(run_keyscan("scan", "deploy.sh", cwd=repo.path).out)
    assert [f["rule_id"] for f in rep["findings"]] == ["acme.internal-token"]


def test_explicit_config_overrides_discovery(repo, workdir):
    repo.write(".keyscan.toml", 'exclude = ["src/", "tests/"]\n')
    (workdir / "strict.toml").write_text('format = "json"\n')
    res = run_keyscan("scan", "--config", str(workdir / "strict.toml"), cwd=repo.path)
    assert paths_of(res) == ["src/app.py", "tests/fixture.py"]
    res = run_keyscan("scan", cwd=repo.path, env={"KEYSCAN_CONFIG": str(workdir / "strict.toml")})
    assert paths_of(res) == ["src/app.py", "tests/fixture.py"]


def test_explicit_config_outside_repo_anchors_patterns_on_the_scanned_repo(repo, workdir):
    (workdir / "central").mkdir()
    (workdir / "central" / "keyscan.toml").write_text('format = "json"\nexclude = ["tests/"]\n')
    res = run_keyscan("scan", "--config", str(workdir / "central" / "keyscan.toml"), cwd=repo.path)
    assert paths_of(res) == ["src/app.py"]


def test_explicit_config_errors(repo, workdir):
    res = run_keyscan("scan", "--config", "missing.toml", cwd=repo.path)
    assert res.code == 2 and "missing.toml: config file not found" in res.err
    repo.write("other/pyproject.toml", '[project]\nname = "x"\n')
    res = run_keyscan("scan", "--config", "other/pyproject.toml", cwd=repo.path)
    assert res.code == 2 and "other/pyproject.toml: no [tool.keyscan] table" in res.err


def test_precedence_command_line_over_environment_over_config(repo):
    repo.write("src/app.py", f"KEY = '{TEST_SECRET}'\n")  # medium
    repo.write(".keyscan.toml", 'fail-on = "high"\nformat = "json"\nexclude = ["tests/"]\n')
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 0 and json.loads(res.out)["findings"]  # config gate: high
    assert run_keyscan("scan", cwd=repo.path, env={"KEYSCAN_FAIL_ON": "medium"}).code == 1
    assert run_keyscan("scan", "--fail-on", "critical", cwd=repo.path, env={"KEYSCAN_FAIL_ON": "medium"}).code == 0
    res = run_keyscan("scan", "--format", "text", cwd=repo.path, env={"KEYSCAN_FORMAT": "json"})
    assert res.out.rstrip().endswith("at or above --fail-on high.")
    res = run_keyscan("scan", cwd=repo.path, env={"KEYSCAN_FORMAT": "text"})
    assert "1 finding (1 medium)" in res.out


def test_inline_ignores_setting_and_its_overrides(repo):
    repo.write("src/app.py", f"KEY = '{SECRET}'  # keyscan:allow demo key\n")
    repo.write(".keyscan.toml", 'exclude = ["tests/"]\ninline-ignores = false\n')
    assert run_keyscan("scan", cwd=repo.path).code == 1
    repo.write(".keyscan.toml", 'exclude = ["tests/"]\n')
    assert run_keyscan("scan", cwd=repo.path).code == 0
    assert run_keyscan("scan", "--no-inline-ignores", cwd=repo.path).code == 1
    assert run_keyscan("scan", cwd=repo.path, env={"KEYSCAN_NO_INLINE_IGNORES": "1"}).code == 1


def test_exclude_is_gitignore_style(repo):
    repo.write("a/secrets.env", f"K={SECRET}\n")
    repo.write("a/keep.env", f"K={OTHER}\n")
    repo.write("b/deep/x.env", f"K={TEST_SECRET}\n")
    repo.write(".keyscan.toml", 'format = "json"\nexclude = ["*.env", "!keep.env", "src/", "/tests/"]\n')
    assert paths_of(run_keyscan("scan", cwd=repo.path)) == ["a/keep.env"]


def test_allow_tables_suppress_with_reason_config(repo):
    first = json.loads(run_keyscan("scan", "-f", "json", cwd=repo.path).out)["findings"]
    fp = next(f["fingerprint"] for f in first if f["path"] == "src/app.py")
    repo.write("docs/example.md", f"Use `{OTHER}` as in the tests.\n")
    repo.write(
        ".keyscan.toml",
        f"""format = "json"

[[allow]]
fingerprint = "{fp}"
reason = "revoked demo key, kept for the tutorial"

[[allow]]
paths = ["tests/", "docs/*.md"]
rules = ["immutable.secret-key"]
reason = "fixtures"
""",
    )
    res = run_keyscan("scan", cwd=repo.path)
    rep = json.loads(res.out)
    assert res.code == 0 and rep["findings"] == []
    got = sorted((s["path"], s["suppression"]["reason"], s["suppression"]["detail"]) for s in rep["suppressed"])
    assert got == [
        ("docs/example.md", "config", "fixtures"),
        ("src/app.py", "config", "revoked demo key, kept for the tutorial"),
        ("tests/fixture.py", "config", "fixtures"),
    ]
    # The fingerprint names one secret: a different key on the same line is reported.
    repo.write("src/app.py", f"KEY = '{fake_immutable_secret(seed=499)}'\n")
    rep = json.loads(run_keyscan("scan", cwd=repo.path).out)
    assert [f["path"] for f in rep["findings"]] == ["src/app.py"]


@pytest.mark.parametrize(
    "table, fragment",
    [
        ('paths = ["x"]', "[[allow]] #1 needs a 'reason'"),
        ('reason = "why"', "[[allow]] #1 needs at least one of 'fingerprint', 'paths', 'rules'"),
        ('reason = "why"\nfingerprint = "abc"', "'fingerprint' must look like 'ks1:'"),
        ('reason = "why"\npath = ["x"]', "[[allow]] #1: unknown key 'path' (did you mean 'paths'?)"),
        ('reason = "why"\nrules = ["immutable.nope"]', "[[allow]] #1: unknown rule id 'immutable.nope'"),
    ],
)
def test_bad_allow_tables(repo, table, fragment):
    repo.write(".keyscan.toml", f"[[allow]]\n{table}\n")
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 2 and ".keyscan.toml" in res.err and fragment in res.err, res.err
