"""The gate (--fail-on) and suppressed findings staying visible."""
import json

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan

SEVERITIES = ["info", "low", "medium", "high", "critical"]

# One file per severity the Immutable rules produce (see the README's table).
FILES = {
    "critical": ("dist/app.js", f'fetch(u,{{headers:{{"x-immutable-api-key":"{fake_immutable_secret(seed=431)}"}}}})'),
    "high": ("server/imx.py", f"KEY = '{fake_immutable_secret(seed=432)}'\n"),
    "medium": ("server/testnet.py", f"KEY = '{fake_immutable_secret('test', seed=433)}'\n"),
    "info": ("web/main.ts", f"const pk = '{fake_immutable_publishable(seed=434)}';\n"),
}


@pytest.mark.parametrize("found", sorted(FILES))
def test_gate_fails_at_or_above_its_level(workdir, found):
    path, text = FILES[found]
    (workdir / path).parent.mkdir(parents=True, exist_ok=True)
    (workdir / path).write_text(text)
    at = SEVERITIES.index(found)
    res = run_keyscan("scan", "-f", "json", "--fail-on", found)
    [f] = json.loads(res.out)["findings"]
    assert f["severity"] == found and res.code == 1  # at the gate
    if at + 1 < len(SEVERITIES):  # just below the gate
        assert run_keyscan("scan", "--fail-on", SEVERITIES[at + 1]).code == 0
    if at > 0:  # above the gate
        assert run_keyscan("scan", "--fail-on", SEVERITIES[at - 1]).code == 1


def test_default_gate_is_low_so_info_never_fails_it(workdir):
    for sev in ("info", "medium"):
        path, text = FILES[sev]
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_text(text)
        res = run_keyscan("scan")
        assert res.code == (0 if sev == "info" else 1)
        assert res.out.rstrip().endswith(f"{0 if sev == 'info' else 1} at or above --fail-on low.")


def test_unknown_gate_is_exit_2_from_every_source(workdir):
    res = run_keyscan("scan", "--fail-on", "warning")
    assert res.code == 2 and "--fail-on" in res.err and "'warning'" in res.err and "Traceback" not in res.err
    res = run_keyscan("scan", env={"KEYSCAN_FAIL_ON": "HIGHEST"})
    assert res.code == 2 and "--fail-on" in res.err
    (workdir / ".keyscan.toml").write_text('fail-on = "severe"\n')
    res = run_keyscan("scan")
    assert res.code == 2 and ".keyscan.toml: 'fail-on' must be one of" in res.err


def test_gate_from_config_and_command_line_override(workdir):
    path, text = FILES["medium"]
    (workdir / "server").mkdir()
    (workdir / path).write_text(text)
    (workdir / ".keyscan.toml").write_text('fail-on = "high"\n')
    assert run_keyscan("scan").code == 0
    assert run_keyscan("scan", "--fail-on", "medium").code == 1
    assert run_keyscan("scan", "-f", "json", "-o", "r.json", "--fail-on", "medium").code == 1


def test_every_suppression_reason_is_visible_and_none_fails_the_gate(workdir):
    repo = make_repo(workdir / "r")
    crit = fake_immutable_secret(seed=435)
    repo.commit(
        "keys",
        {
            "dist/app.js": f'fetch(u,{{headers:{{"x-immutable-api-key":"{crit}"}}}})',
            "server/inline.py": f"K = '{fake_immutable_secret(seed=436)}'  # keyscan:allow rotated on 2026-01-02\n",
            "fixtures/keys.py": f"K = '{fake_immutable_secret('test', seed=437)}'\n",
            "README.md": "Put your key here: `sk_imapik-xxxxxxxxxxxxxxxxxxxx_000000`\n",
            ".keyscan.toml": '[[allow]]\npaths = ["fixtures/"]\nreason = "test fixtures"\n',
        },
    )
    assert run_keyscan("baseline", "create", "dist", cwd=repo.path).code == 0
    res = run_keyscan("scan", "-f", "json", "--fail-on", "info", cwd=repo.path)
    assert res.code == 0, res.err
    rep = json.loads(res.out)
    assert rep["findings"] == [] and rep["summary"]["suppressed"] == 4
    got = {s["path"]: (s["severity"], s["suppression"]["reason"]) for s in rep["suppressed"]}
    assert got == {
        "dist/app.js": ("critical", "baseline"),
        "server/inline.py": ("high", "inline"),
        "fixtures/keys.py": ("medium", "config"),
        "README.md": (got["README.md"][0], "placeholder"),
    }
    assert all(s["suppression"]["detail"] for s in rep["suppressed"])
    assert crit not in res.out
    # The text report hides them unless asked, and then shows each reason.
    res = run_keyscan("scan", cwd=repo.path)
    assert res.code == 0 and "4 suppressed" in res.out and "[baseline" not in res.out
    res = run_keyscan("scan", "--show-suppressed", cwd=repo.path)
    for tag in ("[baseline: known in .keyscan-baseline.json]", "[inline: keyscan:allow: rotated on 2026-01-02]", "[config: test fixtures]", "[placeholder"):
        assert tag in res.out, res.out
    # Strict CI: inline allows off, the rest still applies.
    res = run_keyscan("scan", "-f", "json", "--no-inline-ignores", cwd=repo.path)
    assert res.code == 1 and [f["path"] for f in json.loads(res.out)["findings"]] == ["server/inline.py"]
