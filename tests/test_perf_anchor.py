"""Anchored matching (engine/anchor.py) finds exactly what ``finditer`` finds."""
import random

import pytest

from keyscan.engine import Engine, matcher
from keyscan.engine.anchor import Anchors
from keyscan.engine.superset import head_pattern
from keyscan.models import Fragment
from keyscan.rulefile import load_ruleset
from keyscan.scan import scan_fragment
from helpers import ROOT, fake_immutable_secret

pytest.importorskip("hyperscan")
RULES = load_ruleset()
CORPUS = ROOT / "tests" / "corpus" / "files"


def _spans(matches):
    return [(m.span(), m.groupdict()) for m in matches]


def _same(anchors, rule, text):
    assert _spans(anchors.finditer(rule, text, 60)) == _spans(rule.pattern.finditer(text)), (rule.id, text[:200])


def test_most_rules_have_a_head():
    heads = [head_pattern(r.pattern_source) for r in RULES.rules]
    assert sum(h is not None for h in heads) >= len(RULES.rules) * 0.6
    for h in filter(None, heads):
        expr, lo, hi, first, nonascii = h
        assert 1 <= lo <= hi <= 256 and expr


def test_examples_alone_and_side_by_side():
    anchors = Anchors()
    for rule in RULES.rules:
        texts = [ex.text for ex in rule.examples] + [ex.text for ex in rule.negative_examples]
        for text in texts:
            _same(anchors, rule, text)
        # all of a rule's examples in one text: back-to-back matches, overlaps
        _same(anchors, rule, "\n".join(texts))
        _same(anchors, rule, "".join(texts))


def test_mutated_examples():
    rnd = random.Random(99)
    anchors = Anchors()
    pieces = [" ", "\n", "=", ":", '"', "'", "é", "\u00a0", "_", "-", "x", "0", "key", "token = "]
    for rule in RULES.rules:
        for ex in rule.examples:
            for _ in range(5):
                chars = list(ex.text)
                for _ in range(rnd.randint(1, 5)):
                    op = rnd.random()
                    pos = rnd.randrange(len(chars) + 1)
                    if op < 0.5:
                        chars.insert(pos, rnd.choice(pieces))
                    elif chars and pos < len(chars):
                        del chars[pos]
                text = "".join(chars)
                _same(anchors, rule, text + " " + text)


def test_real_files_of_the_quality_corpus():
    anchors = Anchors()
    text = "\n".join(p.read_text(errors="replace") for p in sorted(CORPUS.rglob("*")) if p.is_file())
    assert len(text) > 100_000
    for rule in RULES.rules:
        _same(anchors, rule, text)


def test_engine_uses_anchors_on_large_texts_with_the_same_report(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    keys = [fake_immutable_secret(seed=i) for i in range(5)]
    body = "".join(f"const a{i} = {{token: t{i}, password: p}};\n" for i in range(4000))
    text = body + f"API_TOKEN = '{keys[0]}x9Q'\n" + "\n".join(f"k{i}='{k}'" for i, k in enumerate(keys)) + "\n" + body
    assert len(text) > matcher.ANCHOR_MIN_TEXT
    plain = Engine(RULES, prefilter="stdlib")
    fast = Engine(RULES, prefilter="hyperscan")
    fast.warm()
    got = scan_fragment(fast, Fragment.from_text(text, "big.js"))
    want = scan_fragment(plain, Fragment.from_text(text, "big.js"))
    assert fast._anchors is not None  # the anchored path ran
    assert got == want
    assert sorted(f.secret for f in got[0] if f.rule_id == "immutable.secret-key") == sorted(keys)


def test_timeout_is_reported_like_finditer(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(matcher, "TIMEOUT_BASE", 0.0)
    monkeypatch.setattr(matcher, "TIMEOUT_PER_MB", 0.0)
    fast = Engine(RULES, prefilter="hyperscan")
    fast.warm()
    text = "password = 'Zx81vQ2pLm4tYr7w'\n" * 2000
    findings, _, errors = scan_fragment(fast, Fragment.from_text(text, "a.py"))
    assert errors and all(e.kind == "timeout" for e in errors)
