"""Report formats through the real CLI on real repositories: --format,
--output, repeatable --report FORMAT=FILE, --timestamps, schema validity and
byte-for-byte determinism across runs."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan
from test_reporters import GITLAB_SCHEMA, SARIF_SCHEMA, assert_sarif_uris, assert_valid

SECRET = fake_immutable_secret(seed=41)
TEST_SECRET = fake_immutable_secret("test", seed=42)
PUBLISHABLE = fake_immutable_publishable(seed=43)


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    repo = make_repo(tmp_path_factory.mktemp("cli") / "app")
    repo.commit(
        "app",
        {
            ".env": f"IMX_SECRET_KEY={SECRET}\n",
            ".env.production": f"NEXT_PUBLIC_IMX_KEY={TEST_SECRET}\n",
            "dist/assets/index.js": f'const k="{SECRET}";\n',
            "src/passport.ts": f"export const pk = '{PUBLISHABLE}';\n",
            "README.md": "nothing here\n",
        },
    )
    return repo.path


ALL = ["sarif", "gitlab", "junit", "github", "html", "json", "text"]


def test_reports_besides_the_terminal_report(project, tmp_path):
    args = ["scan", "."]
    for fmt in ALL:
        args += ["--report", f"{fmt}={tmp_path / ('out.' + fmt)}"]
    res = run_keyscan(*args, cwd=project)
    assert res.code == 1, res.err
    assert res.err == ""
    # The text report still goes to the terminal...
    assert "Settings -> API Keys -> Rotate Key" in res.out and "finding" in res.out.splitlines()[-1]
    # ...and each file holds its format, with nothing secret in it.
    for fmt in ALL:
        data = (tmp_path / f"out.{fmt}").read_text(encoding="utf-8")
        assert SECRET not in data and TEST_SECRET not in data
    assert_valid(json.loads((tmp_path / "out.sarif").read_text()), SARIF_SCHEMA)
    assert_sarif_uris(json.loads((tmp_path / "out.sarif").read_text()))
    assert_valid(json.loads((tmp_path / "out.gitlab").read_text()), GITLAB_SCHEMA)
    root = ET.parse(tmp_path / "out.junit").getroot()
    assert root.get("tests") == "4" and root.get("failures") == "3"
    assert (tmp_path / "out.github").read_text().startswith("::error file=")
    assert "\x1b[" not in (tmp_path / "out.text").read_text()  # never coloured in a file
    assert json.loads((tmp_path / "out.json").read_text())["summary"]["findings"] == 4


def test_main_format_to_output_and_reports_together(project, tmp_path):
    res = run_keyscan("scan", ".", "-f", "sarif", "-o", str(tmp_path / "main.sarif"), "--report", f"html={tmp_path / 'audit.html'}", cwd=project)
    assert res.code == 1 and res.out == ""
    assert json.loads((tmp_path / "main.sarif").read_text())["version"] == "2.1.0"
    assert (tmp_path / "audit.html").read_text().startswith("<!DOCTYPE html>")


def test_same_scan_same_bytes(project, tmp_path):
    runs = []
    for n in range(2):
        folder = tmp_path / str(n)
        folder.mkdir()
        args = ["scan", "."]
        for fmt in ("sarif", "gitlab", "junit", "github", "html"):
            args += ["--report", f"{fmt}={folder / fmt}"]
        res = run_keyscan(*args, cwd=project)
        assert res.code == 1
        runs.append({p.name: p.read_bytes() for p in folder.iterdir()})
    assert len(runs[0]) == 5 and all(runs[0].values())
    assert runs[0] == runs[1]


def test_sarif_from_real_scan(project):
    doc = json.loads(run_keyscan("scan", ".", "-f", "sarif", cwd=project).out)
    results = doc["runs"][0]["results"]
    by_uri = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r for r in results}
    assert set(by_uri) == {".env", ".env.production", "dist/assets/index.js", "src/passport.ts"}
    assert by_uri["dist/assets/index.js"]["level"] == "error"
    assert by_uri["src/passport.ts"]["level"] == "note"
    # The same key in .env and the bundle: one rule, one fingerprint.
    assert by_uri[".env"]["partialFingerprints"] == by_uri["dist/assets/index.js"]["partialFingerprints"]
    rule = doc["runs"][0]["tool"]["driver"]["rules"][by_uri[".env"]["ruleIndex"]]
    assert rule["id"] == "immutable.secret-key" and "Rotate Key" in rule["help"]["markdown"]


def test_timestamps_only_when_asked(project, tmp_path):
    plain = json.loads(run_keyscan("scan", ".", "-f", "gitlab", cwd=project).out)
    assert plain["scan"]["start_time"] == "1970-01-01T00:00:00"
    timed = run_keyscan("scan", ".", "-f", "gitlab", "--timestamps", "--report", f"sarif={tmp_path / 't.sarif'}", cwd=project)
    doc = json.loads(timed.out)
    assert doc["scan"]["start_time"].startswith("20") and doc["scan"]["start_time"] <= doc["scan"]["end_time"]
    assert_valid(doc, GITLAB_SCHEMA)
    inv = json.loads((tmp_path / "t.sarif").read_text())["runs"][0]["invocations"][0]
    assert inv["startTimeUtc"].endswith("Z") and inv["endTimeUtc"] >= inv["startTimeUtc"]


@pytest.mark.parametrize(
    "value, message",
    [
        ("sarif", "is not FORMAT=FILE"),
        ("sarif=", "is not FORMAT=FILE"),
        ("pdf=out.pdf", "unknown format 'pdf'"),
    ],
)
def test_bad_report_option_is_usage_error(project, value, message):
    res = run_keyscan("scan", ".", "--report", value, cwd=project)
    assert res.code == 2
    assert message in res.err and "Traceback" not in res.err


def test_report_file_named_twice_or_same_as_output(project, tmp_path):
    out = str(tmp_path / "x")
    res = run_keyscan("scan", ".", "--report", f"sarif={out}", "--report", f"html={out}", cwd=project)
    assert res.code == 2 and "named twice" in res.err
    res = run_keyscan("scan", ".", "-o", out, "--report", f"sarif={out}", cwd=project)
    assert res.code == 2 and "also the --output file" in res.err
    assert not (tmp_path / "x").exists()


def test_report_into_missing_folder_is_one_line_error(project, tmp_path):
    res = run_keyscan("scan", ".", "--report", f"sarif={tmp_path / 'nope' / 'x.sarif'}", cwd=project)
    assert res.code == 2
    assert res.err.count("\n") == 1 and "does not exist" in res.err


def test_report_option_from_environment(project, tmp_path):
    target = tmp_path / "env.sarif"
    res = run_keyscan("scan", ".", cwd=project, env={"KEYSCAN_REPORT": f"sarif={target}"})
    assert res.code == 1
    assert json.loads(target.read_text())["runs"][0]["results"]


def test_clean_scan_reports(tmp_path):
    repo = make_repo(tmp_path / "clean")
    repo.commit("clean", {"a.txt": "hello\n"})
    args = ["scan", "."]
    for fmt in ("sarif", "gitlab", "junit", "html"):
        args += ["--report", f"{fmt}={tmp_path / fmt}"]
    res = run_keyscan(*args, "-f", "github", cwd=repo.path)
    assert res.code == 0
    assert res.out == "keyscan: 0 findings; 0 at or above --fail-on low.\n"
    assert_valid(json.loads((tmp_path / "sarif").read_text()), SARIF_SCHEMA)
    assert_valid(json.loads((tmp_path / "gitlab").read_text()), GITLAB_SCHEMA)
    junit = ET.parse(tmp_path / "junit").getroot()
    assert junit.get("failures") == "0" and junit.get("tests") == "1"
    assert "No leaked keys found" in (tmp_path / "html").read_text()


def test_report_never_replaces_a_pipe_or_folder(project, tmp_path):
    # A FIFO of our own stands for /dev/stdout and other devices (never risk the real ones).
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    for target in (fifo, tmp_path):
        res = run_keyscan("scan", ".", "--report", f"sarif={target}", cwd=project)
        assert res.code == 2 and "not a regular file" in res.err, res.err
    assert not fifo.is_file() and fifo.exists()
