"""Every shipped rule's examples and negative examples, through the full
engine; and rule-file validation errors that name the file and the field."""
from pathlib import Path

import pytest

from keyscan.engine import Engine
from keyscan.errors import RuleFileError
from keyscan.rulecheck import check_rule
from keyscan.rulefile import load_ruleset
from helpers import run_keyscan

RULESET = load_ruleset(validate=True)
ENGINE = Engine(RULESET)


@pytest.mark.parametrize("rule", RULESET.rules, ids=lambda r: r.id)
def test_rule_examples_pass_through_full_engine(rule):
    assert check_rule(rule, ENGINE) == []


def test_rule_ids_unique_and_every_rule_has_examples():
    ids = [r.id for r in RULESET.rules]
    assert len(ids) == len(set(ids))
    for r in RULESET.rules:
        assert len(r.examples) >= 2, r.id
        assert len(r.negative_examples) >= 2, r.id


GOOD = '''format = 1
provider = "Acme"

[[rule]]
id = "acme.token"
name = "Acme token"
description = "An Acme API token."
key_class = "secret"
keywords = ["acme_"]
pattern = '(?P<secret>acme_[a-z0-9]{12})'
[rule.rotation]
url = "https://acme.example.com/tokens"
steps = ["Revoke it."]
[[rule.examples]]
text = "t = acme_q8w7e6r5t4y3"
secret = "acme_q8w7e6r5t4y3"
[[rule.examples]]
text = "ACME=acme_z9x8c7v6b5n4"
secret = "acme_z9x8c7v6b5n4"
[[rule.negative_examples]]
text = "acme_short"
why = "too short"
[[rule.negative_examples]]
text = "ACME_Q8W7E6R5T4Y3"
why = "upper case"
'''


def write_rules(tmp_path: Path, text: str) -> Path:
    d = tmp_path / "myrules"
    d.mkdir(exist_ok=True)
    (d / "acme.toml").write_text(text)
    return d


def test_user_rules_load_and_check(tmp_path):
    d = write_rules(tmp_path, GOOD)
    res = run_keyscan("rules", "check", str(d))
    assert res.code == 0, res.err
    assert "1 rules OK" in res.out
    (tmp_path / "a.txt").write_text("token acme_q8w7e6r5t4y3\n")
    res = run_keyscan("scan", "--rules", str(d), "--format", "json", str(tmp_path / "a.txt"))
    assert res.code == 1
    assert '"rule_id": "acme.token"' in res.out


@pytest.mark.parametrize(
    "mutation, expected",
    [
        (("keywords = [\"acme_\"]", "keywords = [\"acme_\"]\ncolour = \"red\""), "unknown key 'colour'"),
        (("name = \"Acme token\"\n", ""), "missing field 'name'"),
        (("(?P<secret>acme_[a-z0-9]{12})", "(?P<secret>acme_[a-z0-9]{12}"), "'pattern' is not a valid regex"),
        (("(?P<secret>acme_[a-z0-9]{12})", "acme_[a-z0-9]{12}"), "named group 'secret'"),
        (("key_class = \"secret\"", "key_class = \"top\""), "'key_class' must be one of"),
        (("format = 1", "format = 2"), "'format = 1'"),
        (("url = \"https://acme.example.com/tokens\"", "url = \"http://acme\""), "https URL"),
        (("[[rule.examples]]\ntext = \"t = ", "[[rule.examples]]\nwhat = 1\ntext = \"t = "), "unknown key 'what' in example"),
        (("pattern =", "pattern = = "), "invalid TOML"),
    ],
)
def test_rule_file_errors_name_file_and_field(tmp_path, mutation, expected):
    old, new = mutation
    assert old in GOOD
    d = write_rules(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(RuleFileError) as exc:
        load_ruleset([d], builtin=False, validate=True)
    assert expected in str(exc.value)
    assert "acme.toml" in str(exc.value)
    res = run_keyscan("rules", "check", str(d))
    assert res.code == 2
    assert expected in res.err and "acme.toml" in res.err
    assert "Traceback" not in res.err
    assert len(res.err.strip().splitlines()) == 1


def test_rules_check_reports_failing_example(tmp_path):
    d = write_rules(tmp_path, GOOD.replace('secret = "acme_z9x8c7v6b5n4"', 'secret = "acme_000000000000"'))
    res = run_keyscan("rules", "check", str(d))
    assert res.code == 1
    assert "examples[1] is not found" in res.err


def test_rules_check_flags_slow_regex(tmp_path):
    slow = GOOD.replace("(?P<secret>acme_[a-z0-9]{12})", "(?P<secret>acme_(?:[a-z0-9_]+)*[a-z0-9]{12}!)")
    d = write_rules(tmp_path, slow)
    res = run_keyscan("rules", "check", str(d), timeout=120)
    assert res.code == 1
    assert "adversarial input" in res.err


def test_duplicate_rule_id_is_an_error(tmp_path):
    d = write_rules(tmp_path, GOOD)
    (d / "acme2.toml").write_text(GOOD)
    with pytest.raises(RuleFileError, match="already defined"):
        load_ruleset([d], builtin=False)


def test_missing_rule_folder(tmp_path):
    res = run_keyscan("scan", "--rules", str(tmp_path / "nope"), str(tmp_path))
    assert res.code == 2
    assert "nope" in res.err and "does not exist" in res.err


def test_rules_are_loaded_once_per_process_while_unchanged(tmp_path):
    d = write_rules(tmp_path, GOOD)
    a = load_ruleset([d], builtin=False)
    assert load_ruleset([d], builtin=False) is a
    (d / "acme.toml").write_text(GOOD.replace("Acme token", "Acme API token"))
    b = load_ruleset([d], builtin=False)
    assert b is not a and b.rules[0].name == "Acme API token"


def test_builtin_rule_cache_is_used_and_survives_corruption(tmp_path, monkeypatch):
    from keyscan import rulefile

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(rulefile, "_LOADED", {})  # the per-process memo would hide the disk cache
    first = load_ruleset()
    [cache] = list((tmp_path / "keyscan").glob("rules-*.json"))
    rulefile._LOADED.clear()
    second = load_ruleset()
    assert [r.id for r in first.rules] == [r.id for r in second.rules]
    assert first.digest == second.digest
    calls = []
    rulefile._LOADED.clear()
    monkeypatch.setattr(rulefile, "_toml_doc", lambda *a: calls.append(a) or {})
    load_ruleset()
    assert calls == []  # served from the cache, no TOML parsed
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(rulefile, "_LOADED", {})
    cache.write_text("{not json")
    assert [r.id for r in load_ruleset().rules] == [r.id for r in first.rules]
