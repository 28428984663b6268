"""The engine on its own: prefilter backends, placeholders, timeouts."""
import pytest

from keyscan.engine import Engine, matcher
from keyscan.engine.prefilter import StdlibPrefilter, make_prefilter
from keyscan.models import Fragment
from keyscan.rulefile import load_ruleset
from keyscan.scan import scan_fragment
from helpers import fake_immutable_publishable, fake_immutable_secret, rule_file

RULES = load_ruleset()


def test_stdlib_and_hyperscan_prefilters_agree():
    pytest.importorskip("hyperscan")
    keywords = [r.keywords for r in RULES.rules]
    hs = make_prefilter(keywords, "hyperscan")
    std = make_prefilter(keywords, "stdlib")
    assert isinstance(std, StdlibPrefilter)
    samples = [b"", b"nothing here", b"SK_IMAPIK-", b"x sk_imapik- y pk_imapik-", fake_immutable_secret(seed=1).encode()]
    samples += [r.examples[0].text.encode() for r in RULES.rules]
    for s in samples:
        assert hs.candidates(s) == std.candidates(s), s


def test_prefilter_is_case_insensitive_but_pattern_is_not():
    engine = Engine(RULES)
    key = fake_immutable_secret(seed=2)
    upper = key.replace("sk_imapik-", "SK_IMAPIK-")
    assert engine.candidates(upper.encode(), "a.txt")  # prefilter selects the rule
    assert engine.scan(Fragment.from_text(upper, "a.txt")).matches == []  # regex does not match


@pytest.mark.parametrize(
    "text",
    [
        "pk_imapik-your-publishable-key",
        "sk_imapik-xxxxxxxxxxxxxxxxxxxx_000000",
        "sk_imapik-test-aaaaaaaaaaaaaaaaaaaa_abc123",
        "sk_imapik-Qx7vR2mLk9Tz4Wb8Nc3P_000000",
    ],
)
def test_placeholders_are_suppressed_not_reported(text):
    findings, suppressed, errors = scan_fragment(Engine(RULES), Fragment.from_text(f"KEY={text}\n", "a.env"))
    assert findings == []
    assert [s.reason for s in suppressed] == ["placeholder"]


@pytest.mark.parametrize("before, after", [("$", "-"), ("@", "@"), ("-", "$")])
def test_body_may_start_with_dollar_or_at_and_end_with_dash(before, after):
    key = "sk_imapik-" + before + "Qx7vR2mLk9Tz4Wb8Nc" + after + "_5e0a9f"
    for wrapper in ("'{}'", '"{}"', "x={}", "({})", "`{}`", "{}\n"):
        findings, _, _ = scan_fragment(Engine(RULES), Fragment.from_text(wrapper.format(key), "a.ts"))
        assert [f.secret for f in findings] == [key], wrapper


def test_environment_from_prefix():
    engine = Engine(RULES)
    text = "\n".join([fake_immutable_secret(seed=3), fake_immutable_secret("test", seed=4), fake_immutable_secret("sandbox", seed=5), fake_immutable_publishable("test", seed=6)])
    findings, _, _ = scan_fragment(engine, Fragment.from_text(text, "keys.txt"))
    assert [(f.key_class, f.environment, f.severity) for f in findings] == [
        ("secret", "production", "high"),
        ("secret", "test", "medium"),
        ("secret", "test", "medium"),
        ("publishable", "test", "info"),
    ]


def test_regex_timeout_becomes_an_error_and_scan_goes_on(tmp_path, monkeypatch):
    rules = tmp_path / "r"
    rules.mkdir()
    (rules / "slow.toml").write_text(rule_file("slow.rule", ["slowkey"], "(?P<secret>slowkey(?:a|aa)+b)", "slowkeyaab", "slowkeyaab", provider="Slow", description="A catastrophic pattern."))
    monkeypatch.setattr(matcher, "TIMEOUT_BASE", 0.2)
    engine = Engine(load_ruleset([rules]))
    key = fake_immutable_secret(seed=9)
    text = "slowkey" + "a" * 60 + "\n" + key + "\n"
    findings, _, errors = scan_fragment(engine, Fragment.from_text(text, "f.txt"))
    assert [e.kind for e in errors] == ["timeout"]
    assert errors[0].rule_id == "slow.rule"
    assert [f.secret for f in findings] == [key]


def test_keyword_flood_is_linear():
    """A million keywords cost about what ordinary text of that size does."""
    import time

    engine = Engine(RULES)
    flood = ("sk_imapik-" * 100_000).encode()
    normal = (b"const value = compute(alpha, beta);\n" * 28_000)[: len(flood)]

    def timed(data):
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            scan_fragment(engine, Fragment(data, "f.js"))
            best = min(best, time.perf_counter() - t)
        return best

    assert timed(flood) < max(0.5, 50 * timed(normal))
