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


FOLDS = {"i": "\u0130", "s": "\u017f", "k": "\u212a", "K": "\u212a", "S": "\u017f", "I": "\u0130"}


def test_text_with_characters_that_fold_to_ascii():
    """İ, ſ and K match i, s and k caselessly but are ``?`` in the shadow:
    such text gets the folded head, with the same matches as finditer."""
    anchors = Anchors()
    compared = 0
    for rule in RULES.rules:
        for ex in rule.examples:
            for plain, special in FOLDS.items():
                pos = ex.text.find(plain)
                if pos == -1:
                    continue
                text = ex.text[:pos] + special + ex.text[pos + 1:]
                _same(anchors, rule, text + "\n" + ex.text + " " + special)
                compared += bool(list(rule.pattern.finditer(text)))
    assert compared > 20  # some still match: the folded character was caseless there
    assert any(fold for (_, fold), head in anchors._heads.items() if head is not None)


def test_engine_reuses_the_prefilter_shadow_of_non_ascii_text(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    keys = [fake_immutable_secret(seed=20 + i) for i in range(3)]
    body = "".join(f"const é{i} = {{token: t{i}, password: «p»}};\n" for i in range(300))
    text = body + f"API_TOKEN = 'Zq8{keys[0]}'\nclé = '{keys[1]}' ✓\npassword = 'Xr4vB8nT2mQ9kL1p' ü\n" + body + keys[2] + "\n"
    plain = Engine(RULES, prefilter="stdlib")
    fast = Engine(RULES, prefilter="hyperscan")
    fast.warm()
    frag = Fragment.from_text(text, "big.js")
    got = scan_fragment(fast, frag)
    assert fast.prefilter.last_shadow[0] is frag.text  # the shadow anchored matching was handed
    assert got == scan_fragment(plain, Fragment.from_text(text, "big.js"))
    assert sorted(f.secret for f in got[0] if f.rule_id == "immutable.secret-key") == sorted(keys[1:])  # keys[0] is glued to Zq8
    assert any(f.rule_id == "generic.secret-assignment" for f in got[0])


def test_heads_are_cached_and_preloaded(tmp_path, monkeypatch):
    """A head database is compiled once and cached on disk; an engine warmed
    for a parallel scan loads the cached ones before its workers fork; a
    damaged file is rebuilt."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    rule = RULES.by_id()["generic.secret-assignment"]
    text = "x = 1\n" * 200 + "password = 'Xr4vB8nT2mQ9kL1p'\n"
    first = Anchors()
    want = _spans(rule.pattern.finditer(text))
    assert _spans(first.finditer(rule, text, 60)) == want
    (cached,) = (tmp_path / "keyscan").glob("head-*.hsdb")
    warmed = Engine(RULES, prefilter="hyperscan")
    warmed.warm()
    assert (rule.id, False) in warmed._anchors._heads  # loaded, not compiled
    assert _spans(warmed._anchors.finditer(rule, text, 60)) == want
    good = cached.read_bytes()
    cached.write_bytes(good[:-50])
    again = Anchors()
    assert _spans(again.finditer(rule, text, 60)) == want
    assert cached.read_bytes() == good
