"""Match -> Finding: severity, exposure, fingerprint, redaction."""
import pytest

from keyscan.engine import Engine
from keyscan.findings import fingerprint, severity
from keyscan.models import Fragment
from keyscan.redact import redact
from keyscan.rulefile import load_ruleset
from keyscan.scan import scan_fragment
from helpers import fake_immutable_publishable, fake_immutable_secret

ENGINE = Engine(load_ruleset())


def findings_of(text, path, **kw):
    return scan_fragment(ENGINE, Fragment.from_text(text, path, **kw))[0]


@pytest.mark.parametrize(
    "key_class, env, public, expected",
    [
        ("secret", "production", False, "high"),
        ("secret", "production", True, "critical"),
        ("secret", "test", False, "medium"),
        ("secret", "test", True, "high"),
        ("publishable", "production", True, "info"),
        ("publishable", "test", False, "info"),
    ],
)
def test_severity_table(key_class, env, public, expected):
    assert severity(key_class, env, public) == expected


@pytest.mark.parametrize(
    "path, line, exposure, sev",
    [
        ("src/config.ts", "const k = '{k}';", "source", "high"),
        (".env", "IMX_SECRET_KEY={k}", "source", "high"),
        (".env.local", "NEXT_PUBLIC_IMX_API_KEY={k}", "public-env", "critical"),
        ("web/.env.production", "export VITE_IMX_KEY=\"{k}\"", "public-env", "critical"),
        ("app/.env", "REACT_APP_KEY = {k}", "public-env", "critical"),
        ("dist/assets/index-4f9a.js", "var a=\"{k}\";", "bundle", "critical"),
        ("build/static/js/main.js.map", "\"{k}\"", "sourcemap", "critical"),
        ("src/dist.js", "var a=\"{k}\";", "source", "high"),
        ("dist/readme.md", "{k}", "source", "high"),
    ],
)
def test_exposure_from_path_and_public_env_var(path, line, exposure, sev):
    key = fake_immutable_secret(seed=21)
    [f] = findings_of(line.format(k=key) + "\n", path)
    assert (f.exposure, f.severity) == (exposure, sev)
    if exposure == "public-env":
        assert f.env_var and any(f.env_var in n for n in f.rotation["notes"])


def test_publishable_key_in_bundle_stays_info():
    [f] = findings_of(f"var a=\"{fake_immutable_publishable(seed=3)}\";", "dist/app.js")
    assert (f.exposure, f.severity) == ("bundle", "info")


def test_origin_bundle_is_public_whatever_the_path():
    [f] = findings_of(f"k='{fake_immutable_secret(seed=4)}'", "pkg/index.js", origin="archive")
    assert (f.exposure, f.severity) == ("archive", "critical")


def test_fingerprint_ignores_line_and_path_but_not_secret_or_rule():
    key = fake_immutable_secret(seed=5)
    a = findings_of(f"k={key}\n", "a.txt")[0]
    b = findings_of(f"\n\n\n    k = {key}\n", "b/c.txt")[0]
    assert a.fingerprint == b.fingerprint == fingerprint("immutable.secret-key", key)
    assert (a.line, b.line) == (1, 4)
    assert fingerprint("immutable.secret-key", fake_immutable_secret(seed=6)) != a.fingerprint
    assert fingerprint("other.rule", key) != a.fingerprint


def test_redaction_keeps_public_prefix_and_at_most_four_characters():
    key = fake_immutable_secret("test", seed=7)
    [f] = findings_of(f"k={key}", "a.txt")
    assert f.redacted == key[: len("sk_imapik-test-") + 4] + "…"
    assert redact("abcdefgh") == "ab…"
    assert redact("abc") == "…"
    assert redact("sk_live_" + "Z" * 30, "sk_live_") == "sk_live_ZZZZ…"


def test_line_and_column_in_a_long_minified_line():
    key = fake_immutable_secret(seed=8)
    text = "a" * 2_000_000 + ";" + key + ";" + "b" * 1000 + "\n" + key
    fs = findings_of(text, "dist/x.js")
    assert [(f.line, f.column) for f in fs] == [(1, 2_000_002), (2, 1)]


def test_report_order_does_not_depend_on_arrival_order():
    """The same key at the same place reached by two roads (a bundle and its
    map's sourcesContent) sorts the same whichever arrived first, as
    workers finishing in another order would deliver them."""
    import dataclasses

    from keyscan.models import Report, Suppressed

    (found,) = findings_of(f"KEY={fake_immutable_secret(seed=41)}\n", "dist/app.js")
    other = dataclasses.replace(found, exposure="sourcemap", source={"kind": "sourcemap", "map": "dist/app.js.map"}, original={"path": "src/a.ts", "line": 3, "column": 7})
    suppressed = [Suppressed(other, "placeholder"), Suppressed(found, "placeholder"), Suppressed(found, "inline", "b"), Suppressed(found, "inline", "a")]
    orders = []
    for flip in (False, True):
        report = Report(command="scan")
        report.findings = [other, found] if flip else [found, other]
        report.suppressed = suppressed[::-1] if flip else list(suppressed)
        report.sort()
        orders.append((report.findings, report.suppressed))
    assert orders[0] == orders[1]
    assert [s.detail for s in orders[0][1] if s.reason == "inline"] == ["a", "b"]
