"""The prefilter only removes work: every backend and stage gives the same
report. Stage 2 (superset patterns in Hyperscan) is built on purpose here;
a normal small scan never builds it."""
import json
import os
import random
import shutil

import pytest
import regex

from helpers import rule_file
from keyscan.engine import Engine
from keyscan.engine import prefilter as pf
from keyscan.engine.superset import shadow, superset_pattern
from keyscan.models import Fragment
from keyscan.reporters import RenderOptions, renderer
from keyscan.rulefile import load_ruleset
from keyscan.scan import ScanOptions, scan_fragment, scan_paths
from helpers import ROOT, fake_immutable_secret, run_keyscan

RULES = load_ruleset()
CORPUS = ROOT / "tests" / "corpus" / "files"


def _hs_db(exprs):
    hyperscan = pytest.importorskip("hyperscan")
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    flags = hyperscan.HS_FLAG_PREFILTER | hyperscan.HS_FLAG_ALLOWEMPTY | hyperscan.HS_FLAG_SINGLEMATCH
    ids = list(range(len(exprs)))
    db.compile(expressions=exprs, ids=ids, elements=len(exprs), flags=[flags] * len(exprs))
    return db


def _hits(db, data: bytes) -> set[int]:
    hit: set[int] = set()
    db.scan(data, match_event_handler=lambda i, *_: hit.add(i))
    return hit


@pytest.fixture
def warm_engine(tmp_path, monkeypatch):
    """An engine whose stage 2 is built (cache in a folder of the test's own)."""
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    engine = Engine(RULES, prefilter="hyperscan")
    engine.warm()
    assert engine.prefilter.patterns.ready
    return engine


def _render(report) -> str:
    return renderer("json")(report, RenderOptions())


def _texts_with_matches():
    """(rule index, text) for every example, also wrapped in non-ASCII text
    (so the shadow path is taken) and cut into pieces."""
    for index, rule in enumerate(RULES.rules):
        for ex in rule.examples:
            yield index, ex.text
            yield index, "é ✓ " + ex.text + " ü"
            yield index, ex.text.replace(" ", "\u00a0")  # a no-break space where \s may stand
        for neg in rule.negative_examples:
            yield index, neg.text


def test_every_translated_pattern_is_a_superset_on_examples():
    translated = {i: superset_pattern(r.pattern_source) for i, r in enumerate(RULES.rules)}
    # Nearly every shipped rule translates; the few that do not keep running their regex.
    assert sum(p is not None for p in translated.values()) >= len(RULES.rules) * 0.9
    ids = [i for i, p in translated.items() if p is not None]
    db = _hs_db([translated[i] for i in ids])
    position = {rule_index: pos for pos, rule_index in enumerate(ids)}
    checked = 0
    for index, text in _texts_with_matches():
        if index not in position:
            continue
        if not RULES.rules[index].pattern.search(text):
            continue
        assert position[index] in _hits(db, shadow(text)), (RULES.rules[index].id, text)
        checked += 1
    assert checked > len(ids)


@pytest.mark.parametrize(
    "pattern, text",
    [
        (r"(?i)token\s*=\s*(?P<secret>\w{12})", "TOKEN =\u3000ünïcödé_wörd"),  # Unicode \s and \w
        (r"(?<![A-Za-z])key(?=[:=])\b(?P<secret>[^\s]{4,100}+)", "key=é×÷ab"),  # lookarounds, possessive
        (r"(?P<a>ab)x(?P=a)", "abxab"),  # backreference
        (r"(?|a(?P<secret>\d{3})|b(?P<secret>\d{40}))", "b" + "7" * 40),  # branch reset, repeated name
        (r"(?s)begin.{0,2000}?end", "begin\n\n\u2028 end"),  # dotall, large bounded repeat
        (r"(?i:[^a-c]{2})z", "ÄÄz"),
        (r"(?x) a \  b  # comment", "a b"),
        # A list's second key, found by a lookbehind back to the list's name.
        (r'"(?P<secret>[0-9a-f]{16})"(?<=\bkeys:\s{0,3}\[[^\]]{0,100})', 'cfg = {keys: ["0123456789abcdef", "fedcba9876543210"]}'),
    ],
)
def test_translation_keeps_matches(pattern, text):
    assert regex.search(pattern, text)
    expr = superset_pattern(pattern)
    assert expr is not None
    assert _hits(_hs_db([expr]), shadow(text)) == {0}


def test_a_literal_in_a_closing_lookbehind_comes_first_when_it_cannot_overlap_the_match():
    """``R(?<=...literal...)``: the literal must end before the match when
    its last character is one R cannot match; the superset then starts with
    it (Hyperscan looks for a literal, not for every quote). When the
    literal could end inside the match, it is left out."""
    keyed = superset_pattern(r'"(?P<secret>[0-9a-f]{16})"(?<=\bkeys:\s{0,3}\[[^\]]{0,100})')
    # Between the literal and the match: only what the rest of the
    # lookbehind can match (every character but "]").
    assert keyed.startswith(b"[\\x6b][\\x65][\\x79][\\x73][\\x3a][\\x00-\\x5c\\x5e-\\x7f]*")
    db = _hs_db([keyed])
    assert _hits(db, b'keys: ["0123456789abcdef"]') == {0}
    assert _hits(db, 'keys:\u3000[ "é", "0123456789abcdef"]'.encode("ascii", "replace")) == {0}
    assert _hits(db, b'["0123456789abcdef"] keys: [') == set()
    assert _hits(db, b'keys: [] x = ["0123456789abcdef"]') == set()
    digits = superset_pattern(r"(?P<secret>[0-9]{4})(?<=\bpin:[0-9]{4})")
    assert _hits(_hs_db([digits]), b"pin:1234") == {0}
    assert _hits(_hs_db([digits]), b"pin: 1234") == set()
    # Nothing after the literal: any ASCII character may come between.
    assert superset_pattern(r"x*(?<=pin:)").startswith(b"[\\x70][\\x69][\\x6e][\\x3a][\\x00-\\x7f]*")
    overlapping = superset_pattern(r"[a-z]{3}(?<=abc)")
    assert b"\\x00-\\x7f" not in overlapping
    assert _hits(_hs_db([overlapping]), b"abc") == {0}
    # The shipped Hardhat rule gets its list's name as a prefix.
    hardhat = next(r for r in RULES.rules if r.id == "evm.hardhat-accounts")
    assert superset_pattern(hardhat.pattern_source).startswith(b"[\\x61][\\x63][\\x63][\\x6f][\\x75][\\x6e][\\x74][\\x73][\\x00-\\x5c\\x5e-\\x7f]*")


@pytest.mark.parametrize("pattern", [r"\p{L}{8}", r"(?V1)[[a-z]--[aeiou]]", r"a(?(?=b)b|c)"])
def test_untranslatable_patterns_are_left_to_the_regex(pattern):
    assert superset_pattern(pattern) is None


def test_random_texts_never_lose_a_match():
    """Random mixes of key-like runs, separators and non-ASCII characters:
    wherever a rule's regex matches, its superset pattern does too."""
    rnd = random.Random(1234)
    rules = [(i, r) for i, r in enumerate(RULES.rules) if superset_pattern(r.pattern_source)]
    db = _hs_db([superset_pattern(r.pattern_source) for _, r in rules])
    pieces = [" ", "\n", "=", ": ", '"', "'", "é", "ß", "\u00a0", "_", "-", "/", "+", "=="]
    found = 0
    for index, (_, rule) in enumerate(rules):
        base = rule.examples[0].text
        for _ in range(6):
            chars = list(base)
            for _ in range(rnd.randint(1, 4)):
                chars.insert(rnd.randrange(len(chars) + 1), rnd.choice(pieces))
            text = "".join(chars)
            if any(c in text for c in ("\u0130", "\u017f", "\u212a")):
                continue
            if rule.pattern.search(text):
                found += 1
                assert index in _hits(db, shadow(text)), (rule.id, text)
    assert found > len(rules)


def test_engine_reports_are_identical_on_the_quality_corpus(warm_engine):
    stdlib = Engine(RULES, prefilter="stdlib")
    serial = scan_paths([str(CORPUS)], stdlib, ScanOptions(jobs=1))
    staged = scan_paths([str(CORPUS)], warm_engine, ScanOptions(jobs=1))
    assert len(serial.findings) > 100
    assert _render(staged) == _render(serial)


def test_stage_two_skips_rules_and_keeps_findings(warm_engine):
    key = fake_immutable_secret(seed=7)
    text = f"# the token and the secret and the password are set elsewhere\nIMX_KEY = '{key}'\n"
    frag = Fragment.from_text(text, "settings.py")
    stage1 = warm_engine.candidates(frag.data, frag.path)
    stage2 = warm_engine.selected(frag.data, lambda: frag.text, frag.path)
    assert {r.id for r in stage2} < {r.id for r in stage1}  # generic rules dropped
    assert "immutable.secret-key" in {r.id for r in stage2}
    findings, _, _ = scan_fragment(warm_engine, frag)
    assert [f.secret for f in findings] == [key]


def test_characters_that_fold_to_ascii_use_the_folded_database(warm_engine):
    """İ, ſ and K match i, s and k under IGNORECASE: text holding them is
    checked with the looser database, and reports stay the same."""
    stdlib = Engine(RULES, prefilter="stdlib")
    swaps = {"i": "\u0130", "s": "\u017f", "k": "\u212a", "K": "\u212a", "S": "\u017f"}
    compared = 0
    for rule in RULES.rules:
        for ex in rule.examples:
            for plain, special in swaps.items():
                # swap the first occurrence before the secret (in the context the keywords live in)
                head = ex.text.find(ex.secret)
                pos = ex.text.find(plain, 0, head if head > 0 else len(ex.text))
                if pos == -1:
                    continue
                text = ex.text[:pos] + special + ex.text[pos + 1:] + "\nsecret key api\n"
                frag = Fragment.from_text(text, ex.path or "a.txt")
                want = scan_fragment(stdlib, frag)
                frag = Fragment.from_text(text, ex.path or "a.txt")
                assert scan_fragment(warm_engine, frag) == want, (rule.id, text)
                compared += bool(want[0])
    assert compared > 20
    assert warm_engine.prefilter.patterns._folded is not None and warm_engine.prefilter.patterns._folded.ready


def test_folded_translation_accepts_the_shadow_of_folding_characters():
    plain = superset_pattern(r"(?i)secret_key")
    folded = superset_pattern(r"(?i)secret_key", fold=True)
    text = "\u017fecret_\u212aey"
    assert regex.search(r"(?i)secret_key", text)
    assert _hits(_hs_db([plain]), shadow(text)) == set()  # why the folded database exists
    assert _hits(_hs_db([folded]), shadow(text)) == {0}
    assert superset_pattern(r"secret_key", fold=True) == superset_pattern(r"secret_key")  # case-sensitive: unchanged


def test_damaged_cache_is_rebuilt(tmp_path, monkeypatch):
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    Engine(RULES, prefilter="hyperscan").warm()
    (cached,) = (tmp_path / "keyscan").glob("superset-*.hsdb")
    good = cached.read_bytes()
    cached.write_bytes(good[:-100])  # torn write
    engine = Engine(RULES, prefilter="hyperscan")
    engine.warm()
    assert engine.prefilter.patterns.ready
    assert cached.read_bytes() == good  # rewritten whole
    cached.write_bytes(b"\0" * 64)
    again = Engine(RULES, prefilter="hyperscan")
    again.warm()
    frag = Fragment.from_text(f"k={fake_immutable_secret(seed=9)}\n", "a.env")
    assert [f.rule_id for f in scan_fragment(again, frag)[0]] == ["immutable.secret-key"]


def test_stdlib_and_hyperscan_cli_reports_match(workdir):
    """The whole CLI, forced onto each backend (the stdlib one is what a
    platform without the Hyperscan wheel runs), in worker processes so
    stage 2 is built before they fork."""
    for copy in "abc":  # 414 files: past parallel.MIN_FILES, so workers fork
        shutil.copytree(CORPUS, workdir / "tree" / copy)
    (workdir / "tree" / "unicode.txt").write_text(f"clé = «{fake_immutable_secret(seed=11)}» ✓\npassword=\u212aelvin99x\n")
    out = {}
    for backend in ("stdlib", "hyperscan"):
        if backend == "hyperscan":
            pytest.importorskip("hyperscan")
        env = {"KEYSCAN_PREFILTER": backend, "XDG_CACHE_HOME": str(workdir / f"cache-{backend}")}
        res = run_keyscan("scan", "tree", "--jobs", "2", "-f", "json", "-o", f"{backend}.json", cwd=workdir, env=env)
        assert res.code == 1, res.err
        out[backend] = json.loads((workdir / f"{backend}.json").read_text())
    assert out["stdlib"]["findings"] == out["hyperscan"]["findings"]
    assert out["stdlib"]["suppressed"] == out["hyperscan"]["suppressed"]
    assert list((workdir / "cache-hyperscan" / "keyscan").glob("superset-*.hsdb"))
    assert not list((workdir / "cache-stdlib" / "keyscan").glob("superset-*.hsdb"))


def test_stdlib_backend_when_hyperscan_cannot_be_imported(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_hyperscan(name, *args, **kw):
        if name == "hyperscan":
            raise ImportError("no wheel for this platform")
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_hyperscan)
    monkeypatch.delenv("KEYSCAN_PREFILTER", raising=False)
    engine = Engine(RULES)
    assert engine.prefilter.name == "stdlib"
    engine.warm()  # nothing to build, no error
    frag = Fragment.from_text(f"k={fake_immutable_secret(seed=12)}\n", "a.env")
    assert [f.rule_id for f in scan_fragment(engine, frag)[0]] == ["immutable.secret-key"]


def test_no_cache_writes_no_database(tmp_path, monkeypatch):
    """KEYSCAN_NO_CACHE=1: both Hyperscan databases are compiled in memory
    and nothing is written; without it, both are cached."""
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("KEYSCAN_NO_CACHE", "1")
    engine = Engine(RULES, prefilter="hyperscan")
    engine.warm()
    assert engine.prefilter.patterns.ready
    assert not (tmp_path / "keyscan").exists() or not list((tmp_path / "keyscan").glob("*.hsdb"))
    monkeypatch.delenv("KEYSCAN_NO_CACHE")
    Engine(RULES, prefilter="hyperscan").warm()
    assert {p.name.split("-")[0] for p in (tmp_path / "keyscan").glob("*.hsdb")} == {"keywords", "superset"}


def _two_stage_reference(data: bytes, text: str) -> frozenset[int]:
    """What the prefilter must select, computed without it: stage 1 with
    ``bytes.find`` on the lowered raw bytes (the stdlib backend), stage 2
    with a database of superset patterns alone, on the shadow."""
    stage1 = pf.StdlibPrefilter([r.keywords for r in RULES.rules]).candidates(data)
    if not stage1:
        return frozenset()
    hit = {i for i, p in _SUPERSETS.items() if p is None}
    db = _superset_db()
    hit |= {_SUPERSET_IDS[j] for j in _hits(db, shadow(text))}
    return stage1 & frozenset(hit)


_SUPERSETS = {i: superset_pattern(r.pattern_source) for i, r in enumerate(RULES.rules)}
_SUPERSET_IDS = [i for i, p in _SUPERSETS.items() if p is not None]
_DB: list = []


def _superset_db():
    if not _DB:
        _DB.append(_hs_db([_SUPERSETS[i] for i in _SUPERSET_IDS]))
    return _DB[0]


def _prefilter_texts():
    """ASCII, non-ASCII, invalid UTF-8 and lone surrogates around every
    example, the corpus files, and random mixes."""
    rnd = random.Random(77)
    pieces = [" ", "\n", "=", ": ", '"', "é", "ß", "✓", "\u00a0", "\ud800", "_", "-", "token", "KEY", "secret=", "??"]
    for rule in RULES.rules:
        for ex in rule.examples[:2]:
            yield ex.text.encode("utf-8"), ex.text
            for wrap in ("é " + ex.text, ex.text + " ✓\U0001f511", ex.text.replace("=", "\u3000=")):
                yield wrap.encode("utf-8"), wrap
            raw = b"\xff\xfe " + ex.text.encode("utf-8") + b" \xc3"  # not UTF-8: decoded with U+FFFD
            yield raw, raw.decode("utf-8", "replace")
            chars = list(ex.text)
            for _ in range(3):
                chars.insert(rnd.randrange(len(chars) + 1), rnd.choice(pieces))
            mixed = "".join(chars)
            yield mixed.encode("utf-8", "surrogatepass"), mixed
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            yield data, data.decode("utf-8", "replace")


def test_one_scan_selects_what_the_two_stages_select(warm_engine):
    """Once stage 2 is built, one scan of the database holding both stages
    answers both, on ASCII bytes and on the shadow of any other text (the
    keywords looked for there): the same rules as stage 1 on the raw bytes
    narrowed by stage 2, computed independently."""
    prefilter = warm_engine.prefilter
    assert prefilter._shadow_keywords
    kinds = {"ascii": 0, "other": 0}
    for data, text in _prefilter_texts():
        if any(c in text for c in ("\u0130", "\u017f", "\u212a")):
            continue
        want = _two_stage_reference(data, text)
        assert prefilter.select(data, lambda: text) == want, text[:120]
        kinds["ascii" if data.isascii() else "other"] += 1
    assert kinds["ascii"] > 300 and kinds["other"] > 300


def test_keywords_outside_ascii_are_looked_for_in_the_bytes(tmp_path, monkeypatch):
    """A keyword that is not ASCII cannot be looked for in the shadow (its
    characters are ``?`` there): such a rule set keeps stage 1 on the raw
    bytes, and finds the same as the stdlib backend."""
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "cle.toml").write_text(
        rule_file("cle.key", ["clé_api"], r"(?i)clé_api\s*=\s*(?P<secret>[A-Za-z0-9]{24})", "CLÉ_API = 4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H", "4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H", provider="Clé"),
        encoding="utf-8",
    )
    ruleset = load_ruleset([rules])
    fast = Engine(ruleset, prefilter="hyperscan")
    fast.warm()
    assert fast.prefilter.patterns.ready and not fast.prefilter._shadow_keywords
    slow = Engine(ruleset, prefilter="stdlib")
    for text in ("clé_api = 4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H ✓", "cl?_api = 4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H ✓", "x" * 600 + "\nclé_api=4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H é"):
        want = scan_fragment(slow, Fragment.from_text(text, "a.txt"))
        assert scan_fragment(fast, Fragment.from_text(text, "a.txt")) == want
    assert [f.secret for f in scan_fragment(fast, Fragment.from_text("clé_api = 4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H ✓", "a.txt"))[0] if f.rule_id == "cle.key"] == ["4fQz8Lr1Tk0Wm3Xp9Bn2Vc7H"]


def test_cached_stage_two_is_loaded_sooner(tmp_path, monkeypatch):
    """Without a cached database, stage 2 waits for BUILD_AFTER seconds of
    regex work (compiling costs up to a second); with one, for LOAD_AFTER."""
    pytest.importorskip("hyperscan")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    stage = Engine(RULES, prefilter="hyperscan").prefilter.patterns
    between = (pf.PatternStage.LOAD_AFTER + pf.PatternStage.BUILD_AFTER) / 2
    stage.spent(between)
    assert not stage.ready  # nothing cached yet
    stage.spent(pf.PatternStage.BUILD_AFTER)
    assert stage.ready
    again = Engine(RULES, prefilter="hyperscan").prefilter.patterns
    again.spent(pf.PatternStage.LOAD_AFTER / 2)
    assert not again.ready
    again.spent(pf.PatternStage.LOAD_AFTER)
    assert again.ready
    monkeypatch.setenv("KEYSCAN_NO_CACHE", "1")  # the cache is not looked at
    third = Engine(RULES, prefilter="hyperscan").prefilter.patterns
    third.spent(between)
    assert not third.ready


def test_shadow_from_the_bytes_is_the_shadow_of_the_text():
    """The prefilter makes the shadow of valid UTF-8 with bytes.translate;
    it must equal the text's, also for what the engine builds fragments
    from (surrogatepass, replace) and for bytes that are not UTF-8."""
    rnd = random.Random(5)
    alphabet = ["a", "Z", "0", "=", "?", " ", "\n", "é", "ß", "✓", "\u3000", "\U0001f511", "\ud800", "\udcff", "\ufffd", "\u0130"]
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(0, 40)))
        for data in (text.encode("utf-8", "surrogatepass"), text.encode("utf-8", "replace")):
            assert pf._shadow_of(data, text) == shadow(text), repr(text)
        raw = bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 40)))
        decoded = raw.decode("utf-8", "replace")
        assert pf._shadow_of(raw, decoded) == shadow(decoded), raw
