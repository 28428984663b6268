"""Every report format against golden files, their published schemas, and
determinism.

The sample report is built by hand (not from the rule files) so that the
golden files change only when a reporter does. Update them after an
intended change with:

    UPDATE_GOLDEN=1 python -m pytest tests/test_reporters.py

and review the diff. (Not a KEYSCAN_* variable: conftest.py clears those.)
"""
from __future__ import annotations

import json
import os
import random
import re
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import jsonschema
import pytest

from keyscan.models import Finding, Report, ScanError, Stats, Suppressed
from keyscan.reporters import FORMATS, RenderOptions, renderer

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
SCHEMAS = HERE / "schemas"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
EXTENSIONS = {"text": "txt", "json": "json", "sarif": "sarif", "gitlab": "gitlab.json", "junit": "junit.xml", "github": "github.txt", "html": "html"}

# Made-up keys of the documented shapes; none is real.
K_PROD = "sk_imapik-Zr8Kd2Lq5Wn9Bx3Tc7Hv_4b1e8d"
K_TEST = "sk_imapik-test-Pm4Xs7Qa2Ve9Ju5Ly1Gf_9c3a7e"
K_OLD = "sk_imapik-Hd6Rt1Ko8Mz3Fw5Nq2Ub_e05c2f"
K_PUB = "pk_imapik-Ye3Wc9Tn6Bq1Lr4Zs8Dk"
K_STRIPE = "sk_test_" + "4eC39HqLyjWDarjtT1zdp7dcQw"[::-1]
K_HOSTILE = "sk_imapik-Vb2Gh7Jk4Lp9Qw3Er6Ty_7a2d4f"
SHA_A = "3f2a9c1e7b6d5a4f3e2d1c0b9a8f7e6d5c4b3a21"
SHA_B = "8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d"
SHA_C = "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678"

IMX_ROTATION = {
    "url": "https://hub.immutable.com",
    "steps": [
        "Get every service that uses the key ready for a new one: the old key stops working at once.",
        "In Immutable Hub open the project, then Settings -> API Keys -> Rotate Key.",
        "Deploy the new key to every server that uses it.",
        "Keep the key in a secret manager; remove it from the code.",
    ],
    "notes": ["Rotation is immediate: requests still using the old key fail."],
}
SHIPPED_NOTE = "This key was shipped to the public: treat it as already stolen and rotate now."
IMX_DESC = "An Immutable secret API key: whoever holds it can mint and change on-chain state as your project."


def _f(**kw) -> Finding:
    base = dict(
        rule_id="immutable.secret-key",
        provider="Immutable",
        name="Immutable secret API key",
        key_class="secret",
        environment="production",
        severity="high",
        exposure="source",
        path=".env",
        line=1,
        column=16,
        secret=K_PROD,
        redacted=K_PROD[:14] + "…",
        fingerprint="ks1:" + "0" * 32,
        source={"kind": "worktree"},
        rotation=IMX_ROTATION,
        description=IMX_DESC,
        references=("https://docs.immutable.com",),
    )
    base.update(kw)
    return Finding(**base)


def sample_report() -> Report:
    """A report with every kind of finding keyscan produces, suppressions,
    an error, and untrusted text that needs escaping in every format."""
    hostile_commit = {
        "sha": SHA_C,
        "author": "Mallory <b>Bold</b> \x1b]0;pwned\x07 <mallory@example.org>",
        "date": "2026-01-03T09:30:00Z",
        "subject": "fix</script><script>window.__ks_pwned=1</script> \x1b[2J\x1b[31mred\x00\x0b\u202eevil",
    }
    findings = [
        _f(fingerprint="ks1:1f0e2d3c4b5a69788796a5b4c3d2e1f0"),
        _f(
            severity="critical",
            exposure="bundle",
            path="dist/assets/index-4f9a.js",
            line=1,
            column=48213,
            fingerprint="ks1:1f0e2d3c4b5a69788796a5b4c3d2e1f0",
            source={"kind": "bundle", "decoded": ["js-escape"]},
            original={"path": "src/api/client.ts", "line": 17, "column": 17, "env_var": "NEXT_PUBLIC_IMX_API_KEY"},
            env_var="NEXT_PUBLIC_IMX_API_KEY",
            rotation=dict(IMX_ROTATION, notes=[SHIPPED_NOTE, *IMX_ROTATION["notes"], "Remove NEXT_PUBLIC_IMX_API_KEY from the public build environment."]),
        ),
        _f(
            environment="test",
            severity="medium",
            path="src/server/imx.ts",
            line=12,
            column=22,
            secret=K_TEST,
            redacted=K_TEST[:19] + "…",
            fingerprint="ks1:2a3b4c5d6e7f8091a2b3c4d5e6f70819",
        ),
        _f(
            exposure="history",
            path="config/staging.env",
            line=3,
            column=9,
            secret=K_OLD,
            redacted=K_OLD[:14] + "…",
            fingerprint="ks1:3c4d5e6f708192a3b4c5d6e7f8091a2b",
            source={"kind": "history"},
            commit={"sha": SHA_A, "author": "Ada Dev <ada@example.org>", "date": "2026-01-01T03:00:00Z", "subject": "add staging config"},
            lifecycle={"introduced": SHA_A, "removed": {"sha": SHA_B, "date": "2026-01-02T05:00:00Z"}, "present_at_head": False, "pushed": True},
        ),
        _f(
            exposure="history",
            path="<img src=x onerror=window.__ks_pwned=2>\x1b[31m.env",
            line=2,
            column=5,
            secret=K_HOSTILE,
            redacted=K_HOSTILE[:14] + "…",
            fingerprint="ks1:4d5e6f708192a3b4c5d6e7f8091a2b3c",
            source={"kind": "history"},
            commit=hostile_commit,
            lifecycle={"introduced": SHA_C, "removed": None, "present_at_head": True, "pushed": False},
        ),
        _f(
            rule_id="immutable.publishable-key",
            name="Immutable publishable API key",
            key_class="publishable",
            severity="info",
            path="src/web/passport.ts",
            line=4,
            column=19,
            secret=K_PUB,
            redacted=K_PUB[:14] + "…",
            fingerprint="ks1:5e6f708192a3b4c5d6e7f8091a2b3c4d",
            rotation={"url": "https://hub.immutable.com", "steps": ["Nothing to rotate: publishable keys are meant for client code."], "notes": []},
            description="An Immutable publishable key, made to be shipped in client code.",
        ),
        _f(
            rule_id="stripe.secret-key",
            provider="Stripe",
            name="Stripe secret key",
            environment="test",
            severity="medium",
            path="payments/settings.py",
            line=8,
            column=18,
            secret=K_STRIPE,
            redacted="sk_test_dcQw…",
            fingerprint="ks1:6f708192a3b4c5d6e7f8091a2b3c4d5e",
            rotation={"url": "https://dashboard.stripe.com/apikeys", "steps": ["Roll the key in the Stripe dashboard.", "Deploy the new key."], "notes": []},
            description="A Stripe secret key (test mode).",
            references=("https://docs.stripe.com/keys", "javascript:alert(1)"),
        ),
    ]
    suppressed = [
        Suppressed(_f(path="tests/fixtures/keys.env", fingerprint="ks1:708192a3b4c5d6e7f8091a2b3c4d5e6f", line=2, column=7), "inline", "keyscan:allow fixture"),
        Suppressed(_f(path="legacy/old.js", fingerprint="ks1:8192a3b4c5d6e7f8091a2b3c4d5e6f70", line=9, column=3), "baseline", "accepted 2026-01"),
    ]
    errors = [ScanError("dist/huge.min.js", "timeout", "rule immutable.secret-key timed out after 2 s", "immutable.secret-key")]
    stats = Stats(files_scanned=42, bytes_scanned=1_234_567, skipped={"binary": 3})
    return Report(findings=findings, suppressed=suppressed, errors=errors, stats=stats, command="history")


def shuffled(report: Report, seed: int) -> Report:
    rnd = random.Random(seed)
    out = Report(list(report.findings), list(report.suppressed), list(report.errors), report.stats, report.command)
    for items in (out.findings, out.suppressed, out.errors):
        rnd.shuffle(items)
    return out


def schema_validator(name: str):
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


SARIF_SCHEMA = "sarif-schema-2.1.0.json"
GITLAB_SCHEMA = "secret-detection-report-format.json"


def assert_valid(doc: dict, schema: str) -> None:
    errors = sorted(schema_validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])


URI_CHARS = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+$")


def assert_sarif_uris(doc: dict) -> None:
    for run in doc["runs"]:
        for result in run["results"]:
            for loc in result["locations"] + result.get("relatedLocations", []):
                uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                assert URI_CHARS.match(uri), uri


# ------------------------------------------------------------------ goldens


@pytest.mark.parametrize("fmt", sorted(EXTENSIONS))
def test_golden(fmt):
    assert fmt in FORMATS
    out = renderer(fmt)(sample_report(), RenderOptions())
    path = GOLDEN / f"sample.{EXTENSIONS[fmt]}"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(out.encode("utf-8"))
    expected = path.read_bytes().decode("utf-8") if path.exists() else None
    assert expected is not None, f"{path} is missing: run with UPDATE_GOLDEN=1"
    assert out == expected, f"{fmt} report differs from {path.name}; if intended, run with UPDATE_GOLDEN=1 and review the diff"


MINE = ["github", "gitlab", "html", "junit", "sarif"]


@pytest.mark.parametrize("fmt", MINE)
def test_output_does_not_depend_on_input_order(fmt):
    """These reporters sort for themselves (text and json rely on the scan's
    Report.sort())."""
    render = renderer(fmt)
    first = render(sample_report(), RenderOptions())
    for seed in range(3):
        assert render(shuffled(sample_report(), seed), RenderOptions()) == first


@pytest.mark.parametrize("fmt", ["sarif", "gitlab", "junit", "github", "html"])
def test_no_secret_unless_no_redact(fmt):
    report = sample_report()
    secrets = [f.secret for f in report.findings]
    out = renderer(fmt)(report, RenderOptions())
    assert not [s for s in secrets if s in out]
    shown = renderer(fmt)(report, RenderOptions(redact=False))
    assert all(s in shown for s in secrets)


@pytest.mark.parametrize("fmt", ["sarif", "gitlab", "junit", "html"])
def test_no_timestamps_unless_asked(fmt):
    plain = renderer(fmt)(sample_report(), RenderOptions())
    assert "2031-" not in plain
    timed = renderer(fmt)(sample_report(), RenderOptions(started="2031-05-06T07:08:09", finished="2031-05-06T07:08:10"))
    assert "2031-05-06T07:08:09" in timed


# ------------------------------------------------------------------ SARIF


def test_sarif_sample_is_valid_and_complete():
    doc = json.loads(renderer("sarif")(sample_report(), RenderOptions()))
    assert_valid(doc, SARIF_SCHEMA)
    assert_sarif_uris(doc)
    run = doc["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == ["immutable.publishable-key", "immutable.secret-key", "stripe.secret-key"]
    imx = rules[1]
    assert imx["shortDescription"]["text"] == "Immutable secret API key"
    assert imx["fullDescription"]["text"] == IMX_DESC
    assert "Settings -> API Keys -> Rotate Key" in imx["help"]["text"]
    assert "1. Get every service" in imx["help"]["markdown"]
    assert imx["helpUri"] == "https://hub.immutable.com"
    assert imx["properties"]["security-severity"] == "9.5"  # its worst finding is critical
    assert imx["properties"]["precision"] == "very-high" and "security" in imx["properties"]["tags"]
    assert "security-severity" not in rules[0]["properties"]  # publishable: info only
    stripe = rules[2]
    assert stripe["helpUri"] == "https://dashboard.stripe.com/apikeys"
    assert "javascript:" not in json.dumps(stripe)

    results = run["results"]
    levels = {(r["ruleId"], r["properties"]["severity"]): r["level"] for r in results}
    assert levels[("immutable.secret-key", "critical")] == "error"
    assert levels[("immutable.secret-key", "high")] == "error"
    assert levels[("immutable.secret-key", "medium")] == "warning"
    assert levels[("immutable.publishable-key", "info")] == "note"
    for r in results:
        assert rules[r["ruleIndex"]]["id"] == r["ruleId"]
        loc = r["locations"][0]["physicalLocation"]
        assert loc["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert loc["region"]["startLine"] >= 1 and loc["region"]["startColumn"] >= 1
        assert r["partialFingerprints"]["keyscanFingerprint/v1"].startswith("ks1:")
    bundle = next(r for r in results if r["properties"]["exposure"] == "bundle")
    # Reached through a JS-escape decoding: the key's length in the file is unknown, so no endColumn.
    assert bundle["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 48213}
    plain = next(r for r in results if r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == ".env")
    assert plain["locations"][0]["physicalLocation"]["region"] == {"startLine": 1, "startColumn": 16, "endColumn": 16 + len(K_PROD)}
    related = bundle["relatedLocations"][0]["physicalLocation"]
    assert related["artifactLocation"]["uri"] == "src/api/client.ts" and related["region"] == {"startLine": 17, "startColumn": 17}
    assert SHIPPED_NOTE in bundle["message"]["text"]
    history = next(r for r in results if r["properties"].get("commit", {}).get("sha") == SHA_A)
    assert history["properties"]["lifecycle"]["removed"]["sha"] == SHA_B
    suppressed = [r for r in results if "suppressions" in r]
    assert [(s["suppressions"][0]["kind"], s["suppressions"][0]["justification"]) for s in suppressed] == [
        ("external", "baseline: accepted 2026-01"),
        ("inSource", "inline: keyscan:allow fixture"),
    ]
    assert run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith("dist/huge.min.js: timeout")
    # Untrusted text: percent-encoded in URIs, escapes shown as text elsewhere.
    hostile = next(r for r in results if r["properties"].get("commit", {}).get("sha") == SHA_C)
    assert hostile["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "%3Cimg%20src%3Dx%20onerror%3Dwindow.__ks_pwned%3D2%3E%1B%5B31m.env"
    assert "\x1b" not in json.dumps(doc, ensure_ascii=False)
    assert "\\x1b[2J" in hostile["properties"]["commit"]["subject"]


def test_sarif_empty_report_is_valid():
    doc = json.loads(renderer("sarif")(Report(), RenderOptions()))
    assert_valid(doc, SARIF_SCHEMA)
    assert doc["runs"][0]["results"] == [] and doc["runs"][0]["tool"]["driver"]["rules"] == []


def test_sarif_absolute_path_is_file_uri():
    report = Report(findings=[_f(path="/srv/app/.env")])
    doc = json.loads(renderer("sarif")(report, RenderOptions()))
    assert_valid(doc, SARIF_SCHEMA)
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"] == {"uri": "file:///srv/app/.env"}


def test_sarif_undecodable_file_name_keeps_its_bytes():
    name = b"conf\xff\xfe.env".decode("utf-8", "surrogateescape")
    report = Report(findings=[_f(path=name)])
    out = renderer("sarif")(report, RenderOptions())
    out.encode("utf-8")  # writable
    doc = json.loads(out)
    assert doc["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "conf%FF%FE.env"


# ------------------------------------------------------------------ GitLab


def test_gitlab_sample_is_valid_and_complete():
    doc = json.loads(renderer("gitlab")(sample_report(), RenderOptions()))
    assert_valid(doc, GITLAB_SCHEMA)
    assert doc["version"] == "15.2.1"
    assert doc["scan"]["type"] == "secret_detection" and doc["scan"]["status"] == "success"
    assert doc["scan"]["start_time"] == doc["scan"]["end_time"] == "1970-01-01T00:00:00"
    vulns = doc["vulnerabilities"]
    assert len(vulns) == len(sample_report().findings)  # suppressed findings are left out
    assert len({v["id"] for v in vulns}) == len(vulns)
    by_sev = {v["severity"] for v in vulns}
    assert by_sev == {"Critical", "High", "Medium", "Info"}
    bundle = next(v for v in vulns if v["severity"] == "Critical")
    assert bundle["location"] == {"file": "dist/assets/index-4f9a.js", "start_line": 1, "end_line": 1, "commit": {"sha": "0000000"}}
    assert "Settings -> API Keys -> Rotate Key" in bundle["solution"] and SHIPPED_NOTE in bundle["solution"]
    assert bundle["identifiers"][0]["value"] == "immutable.secret-key"
    assert bundle["details"]["original"]["file_name"] == "src/api/client.ts"
    history = next(v for v in vulns if v["location"]["commit"]["sha"] == SHA_A)
    assert history["location"]["commit"]["message"] == "add staging config"
    assert history["details"]["removed"]["value"] == SHA_B
    assert all("javascript:" not in link["url"] for v in vulns for link in v.get("links", []))
    assert doc["scan"]["messages"][0]["level"] == "warn"


def test_gitlab_ids_are_stable_and_timestamps_only_when_asked():
    a = json.loads(renderer("gitlab")(sample_report(), RenderOptions()))
    b = json.loads(renderer("gitlab")(shuffled(sample_report(), 7), RenderOptions()))
    assert [v["id"] for v in a["vulnerabilities"]] == [v["id"] for v in b["vulnerabilities"]]
    timed = json.loads(renderer("gitlab")(Report(), RenderOptions(started="2026-03-01T10:00:00", finished="2026-03-01T10:00:05")))
    assert_valid(timed, GITLAB_SCHEMA)
    assert (timed["scan"]["start_time"], timed["scan"]["end_time"]) == ("2026-03-01T10:00:00", "2026-03-01T10:00:05")


# ------------------------------------------------------------------ JUnit


def test_junit_sample_parses_and_counts():
    out = renderer("junit")(sample_report(), RenderOptions())
    root = ET.fromstring(out.encode("utf-8"))
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    cases = suite.findall("testcase")
    failures = [c for c in cases if c.find("failure") is not None]
    skipped = [c for c in cases if c.find("skipped") is not None]
    errors = [c for c in cases if c.find("error") is not None]
    # 7 findings (6 at or above --fail-on low, 1 info), 2 suppressed, 1 error.
    assert (len(cases), len(failures), len(skipped), len(errors)) == (10, 6, 2, 1)
    assert suite.get("tests") == "10" and suite.get("failures") == "6" and suite.get("skipped") == "2" and suite.get("errors") == "1"
    bundle = next(c for c in failures if c.get("file") == "dist/assets/index-4f9a.js")
    assert bundle.get("classname") == "keyscan.immutable.secret-key" and bundle.get("line") == "1"
    body = bundle.find("failure").text
    assert "Settings -> API Keys -> Rotate Key" in body and SHIPPED_NOTE in body
    info = next(c for c in cases if c.get("file") == "src/web/passport.ts")
    assert info.find("failure") is None and "Below --fail-on low" in info.find("system-out").text
    hostile = next(c for c in cases if "ks_pwned=2" in c.get("file"))
    assert "\\x1b[31m" in hostile.get("file")
    assert "</script>" in hostile.find("failure").text  # as text, parsed back from escaped XML


def test_junit_gate_moves_failures():
    out = renderer("junit")(sample_report(), RenderOptions(fail_on="critical"))
    suite = ET.fromstring(out.encode()).find("testsuite")
    assert suite.get("failures") == "1"


def test_junit_clean_scan_is_one_passing_case():
    root = ET.fromstring(renderer("junit")(Report(), RenderOptions()).encode())
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 1 and list(cases[0]) == []
    assert root.get("failures") == "0"


# ------------------------------------------------------------------ GitHub


def test_github_workflow_commands():
    out = renderer("github")(sample_report(), RenderOptions())
    lines = out.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert len(commands) == len(sample_report().findings) + 1  # + the scan error
    bundle = next(line for line in commands if "dist/assets/index-4f9a.js" in line)
    assert bundle.startswith("::error file=dist/assets/index-4f9a.js,line=1,col=48213,title=")  # decoded: no endColumn
    assert next(line for line in commands if "file=.env," in line).startswith(f"::error file=.env,line=1,col=16,endColumn={16 + len(K_PROD)},")
    assert "title=Immutable secret API key (critical)::" in bundle
    assert "%0A1. Get every service" in bundle and "Settings -> API Keys -> Rotate Key" in bundle
    assert next(line for line in commands if "payments/settings.py" in line).startswith("::warning ")
    assert next(line for line in commands if "passport.ts" in line).startswith("::notice ")
    assert lines[-1].startswith("keyscan: 7 findings (1 critical, 3 high, 2 medium, 1 info), 2 suppressed")
    # One line per command: nothing untrusted can start a line of its own.
    hostile = next(line for line in commands if "ks_pwned=2" in line)
    assert "file=<img src=x onerror=window.__ks_pwned=2>\\x1b[31m.env," in hostile
    assert "\x1b" not in out and "\r" not in out


@pytest.mark.parametrize(
    "text, data, prop",
    [
        ("a%b", "a%25b", "a%25b"),
        ("a\nb\rc", "a%0Ab%0Dc", "a%0Ab%0Dc"),
        ("x:y,z", "x:y,z", "x%3Ay%2Cz"),
    ],
)
def test_github_escaping(text, data, prop):
    from keyscan.reporters.github import escape_data, escape_property

    assert escape_data(text) == data
    assert escape_property(text) == prop


def test_github_path_with_comma_and_colon():
    out = renderer("github")(Report(findings=[_f(path="a,b:c%d.env")]), RenderOptions())
    assert out.startswith("::error file=a%2Cb%3Ac%25d.env,line=1,")


# ------------------------------------------------------------------ HTML (static checks; the browser test is in test_html_browser.py)


def test_html_is_self_contained():
    out = renderer("html")(sample_report(), RenderOptions())
    assert out.startswith("<!DOCTYPE html>")
    # Nothing loaded from anywhere: no src/href to another document except plain links.
    assert not re.search(r"<(script|link|img|iframe)[^>]*\s(src|href)=", out)
    assert "Content-Security-Policy" in out and "default-src 'none'" in out
    assert "<script>window.__ks_pwned" not in out and "<img src=x" not in out
    assert "&lt;img src=x onerror=window.__ks_pwned=2&gt;" in out
    assert "javascript:" not in out.replace("javascript:alert", "")  # the bad reference is never a link
    assert 'href="javascript:' not in out


def test_html_timeline_only_for_history():
    report = sample_report()
    assert 'id="timeline"' in renderer("html")(report, RenderOptions())
    report.findings = [f for f in report.findings if not f.commit]
    assert 'id="timeline"' not in renderer("html")(report, RenderOptions())


def test_html_no_redact_banner():
    out = renderer("html")(sample_report(), RenderOptions(redact=False))
    assert "shows full secrets" in out and K_PROD in out


def test_every_format_renders_empty_report():
    for fmt in FORMATS:
        out = renderer(fmt)(Report(), RenderOptions())
        assert out.endswith("\n")
        out.encode("utf-8")


def test_finding_variants_do_not_break_reporters():
    """Odd but possible shapes: lifecycle with bare shas, no rotation, an
    original without a line, a lone surrogate from an undecodable path."""
    odd = [
        _f(path="a\udcff.env", rotation=None, fingerprint="ks1:" + "1" * 32),
        _f(path="b.js", original={"path": "webpack:///src/b.ts"}, fingerprint="ks1:" + "2" * 32, exposure="bundle", severity="critical"),
        _f(path="c.env", commit={"sha": SHA_A}, lifecycle={"introduced": SHA_A, "removed": SHA_B}, fingerprint="ks1:" + "3" * 32),
        replace(_f(), references=()),
    ]
    report = Report(findings=odd)
    for fmt in MINE:
        out = renderer(fmt)(report, RenderOptions())
        out.encode("utf-8")
    assert_valid(json.loads(renderer("sarif")(report, RenderOptions())), SARIF_SCHEMA)
    assert_valid(json.loads(renderer("gitlab")(report, RenderOptions())), GITLAB_SCHEMA)
    ET.fromstring(renderer("junit")(report, RenderOptions()).encode())


def test_html_long_lists_are_capped_in_the_checklist_not_the_table():
    many = [_f(path=f"src/f{i:02d}.ts") for i in range(30)]
    out = renderer("html")(Report(findings=many), RenderOptions())
    assert "… and 5 more places" in out
    assert out.count('<tr data-severity="high"') == 30
