"""Untrusted input in every report: a real repository whose file names and
commit messages carry HTML and script, XML-invalid control characters and
terminal escape sequences.

* text: no escape or control character reaches the terminal;
* JUnit: a strict XML parser reads it (no invalid character, no injected element);
* SARIF and GitLab: valid JSON that validates against the schema, URIs
  percent-encoded, no raw control characters in any string;
* GitHub: one workflow command per line, nothing untrusted starts a line;
* HTML: the markup is text (static check here; the browser proves no script
  runs in test_html_browser.py).

File names go through ``keyscan scan``. Commit messages and author names
need ``keyscan history``; that command is tested when it exists, and the same
hostile commit data is also fed to the reporters directly (a Report built by
hand), so the escaping is tested either way.
"""
from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from helpers import fake_immutable_secret, make_repo, run_keyscan
from keyscan.models import Finding, Report
from keyscan.reporters import RenderOptions, renderer
from test_reporters import GITLAB_SCHEMA, SARIF_SCHEMA, assert_sarif_uris, assert_valid, sample_report

# Names a Linux file system accepts (no '/' or NUL).
HOSTILE_FILES = [
    "<img src=x onerror=window.__ks_pwned=1>.env",
    "<svg onload=window.__ks_pwned=2>.env",
    "\x1b[31mred\x1b[0m.env",
    "\x1b]0;title\x07bell.env",
    "ctl\x01\x02\x0b\x0c\x7f.env",
    "new\nline::error file=x::injected.env",
    "bidi\u202eevil\u202c.env",
    "amp&quot;&lt;\"'.env",
]
HOSTILE_SUBJECT = "add </script><script>window.__ks_pwned=3</script> \x1b[2J\x1b[31mboom\x08\x1b]8;;http://x\x07link"
HOSTILE_AUTHOR = "Eve \x1b[5m<img src=x onerror=window.__ks_pwned=4> <eve@example.org>"

# What drives a terminal: C0 controls (ESC among them) other than newline and
# tab, DEL and C1 controls (CSI, OSC as single characters).
TERMINAL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# The CI reporters also show every bidi embedding/override/isolate as an escape.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


@pytest.fixture(scope="module")
def hostile_repo(tmp_path_factory) -> Path:
    repo = make_repo(tmp_path_factory.mktemp("esc") / "repo")
    files = {name: f"KEY={fake_immutable_secret(seed=200 + i)}\n" for i, name in enumerate(HOSTILE_FILES)}
    repo.commit(HOSTILE_SUBJECT, files, author=HOSTILE_AUTHOR)
    return repo.path


def _all_reports(cwd: Path, command: str, tmp: Path) -> dict[str, str]:
    args = [command, "."]
    for fmt in ("sarif", "gitlab", "junit", "github", "html", "json"):
        args += ["--report", f"{fmt}={tmp / fmt}"]
    res = run_keyscan(*args, cwd=cwd)
    assert res.code == 1, res.err
    assert "Traceback" not in res.err
    out = {"text": res.out, "stderr": res.err}
    for fmt in ("sarif", "gitlab", "junit", "github", "html", "json"):
        out[fmt] = (tmp / fmt).read_bytes().decode("utf-8")
    return out


def check_reports(reports: dict[str, str], n_findings: int) -> None:
    # text: nothing that drives a terminal.
    for stream in ("text", "stderr"):
        assert not TERMINAL.search(reports[stream].replace("\n", "")), repr(TERMINAL.findall(reports[stream]))
    assert "\\x1b[31m" in reports["text"]

    # JUnit: strict XML, one case per finding, text preserved as text.
    assert not XML_INVALID.search(reports["junit"])
    root = ET.fromstring(reports["junit"].encode("utf-8"))
    cases = root.findall("testsuite/testcase")
    assert len(cases) == n_findings
    assert not root.findall(".//script") and not root.findall(".//img")
    assert any("<img src=x onerror=window.__ks_pwned=1>" in (c.get("file") or "") for c in cases)

    # SARIF and GitLab: valid, no raw control character in any string.
    for fmt, schema in (("sarif", SARIF_SCHEMA), ("gitlab", GITLAB_SCHEMA)):
        doc = json.loads(reports[fmt])
        assert_valid(doc, schema)
        assert not CONTROL.search(json.dumps(doc, ensure_ascii=False).replace("\n", ""))
    sarif = json.loads(reports["sarif"])
    assert_sarif_uris(sarif)
    assert len(sarif["runs"][0]["results"]) == n_findings

    # GitHub: every line is a command or the summary; no raw control characters.
    lines = reports["github"].splitlines()
    assert len(lines) == n_findings + 1
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines[:-1])
    assert lines[-1].startswith("keyscan: ")
    assert not CONTROL.search(reports["github"].replace("\n", ""))
    assert "file=new\\x0aline%3A%3Aerror file=x%3A%3Ainjected.env," in reports["github"]

    # HTML: markup from the repository is text, never elements.
    page = reports["html"]
    assert "<img src=x" not in page and "<svg onload" not in page and "<script>window" not in page
    assert "&lt;img src=x onerror=window.__ks_pwned=1&gt;" in page
    assert not CONTROL.search(page.replace("\n", ""))


def test_hostile_file_names_through_scan(hostile_repo, tmp_path):
    reports = _all_reports(hostile_repo, "scan", tmp_path)
    check_reports(reports, len(HOSTILE_FILES))


def _has_history() -> bool:
    return run_keyscan("history", "--help").code == 0


def test_hostile_commit_messages_through_history(hostile_repo, tmp_path):
    if not _has_history():
        pytest.skip("keyscan history is not there yet; test_hostile_commit_data_in_every_reporter covers the reporters")
    reports = _all_reports(hostile_repo, "history", tmp_path)
    check_reports(reports, len(HOSTILE_FILES))
    assert "window.__ks_pwned=3" in reports["sarif"]  # the subject is there, as inert text
    assert "&lt;/script&gt;&lt;script&gt;window.__ks_pwned=3" in reports["html"] or "window.__ks_pwned=3" not in reports["html"]


def test_hostile_commit_data_in_every_reporter(tmp_path):
    """The commit subject and author of a history finding, fed straight to the
    reporters (no history command needed)."""
    base = sample_report()
    template: Finding = next(f for f in base.findings if f.commit and f.commit["sha"].startswith("3f2a"))
    findings = []
    for i, name in enumerate(HOSTILE_FILES):
        commit = dict(template.commit, subject=HOSTILE_SUBJECT + "\x00\ud800", author=HOSTILE_AUTHOR)
        findings.append(
            Finding(**{**template.__dict__, "path": name, "commit": commit, "fingerprint": f"ks1:{i:032x}", "lifecycle": {"introduced": commit["sha"], "removed": None, "present_at_head": True}})
        )
    report = Report(findings=findings, command="history")
    reports = {fmt: renderer(fmt)(report, RenderOptions()) for fmt in ("sarif", "gitlab", "junit", "github", "html", "json")}
    reports["text"] = renderer("text")(report, RenderOptions())
    reports["stderr"] = ""
    check_reports(reports, len(HOSTILE_FILES))
    assert "\\x1b[2J" in reports["junit"] and "\\x1b[2J" in reports["github"]
    assert "&lt;/script&gt;&lt;script&gt;window.__ks_pwned=3&lt;/script&gt;" in reports["html"]
    subject = json.loads(reports["sarif"])["runs"][0]["results"][0]["properties"]["commit"]["subject"]
    assert subject.startswith("add </script><script>window.__ks_pwned=3</script> \\x1b[2J")
