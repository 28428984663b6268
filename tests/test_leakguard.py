"""keyscan.leakguard: the guard that redacts any full key reaching a
rendered report or a message by another road."""
import random
import re

from helpers import fake_immutable_secret
from keyscan.leakguard import _spaced, guard


def _alternation(text: str, keywords: list[str]) -> str:
    """What the guard did before: one caseless ``re`` alternation."""
    alternation = re.compile("|".join(re.escape(k) for k in keywords), re.IGNORECASE)
    return alternation.sub(lambda m: " " + m.group(0), text)


def test_spacing_keywords_matches_a_caseless_alternation():
    """Leftmost, longest at a place, none inside another, and the four
    non-ASCII characters ``re`` folds onto ASCII letters (İ ı ſ K) or a
    non-ASCII keyword take the alternation itself."""
    rnd = random.Random(11)
    keywords = ["key", "api_key", "apikey", "sk_imapik-", "secret", "token", "AKIA", "ghp_", "x", "xk", "kx", "aa", "aaa", "clé"]
    pieces = ["key", "KEY", "api_", "Api_Key", "sk_imapik-", "AkIa", "x", "k", "a", "aa", " ", "=", "secret", "tok", "en", "\n", "…", "é", "Σ", "\u212a", "ſ", "İ", "ı", "CLÉ"]
    for _ in range(20_000):
        chosen = sorted(rnd.sample(keywords, rnd.randint(1, 6)), key=len, reverse=True)
        text = "".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30)))
        assert _spaced(text, chosen) == _alternation(text, chosen), (text, chosen)


def test_a_key_glued_to_a_word_in_a_non_ascii_report_is_redacted():
    key = fake_immutable_secret(seed=77)
    report = f'{{"path": "src/missing-{key}.txt", "note": "déjà vu …"}}\n' * 50
    out = guard(report)
    assert key not in out
    assert out.count("missing-sk_i…") == 50


def test_a_large_report_is_guarded_the_same_with_stage_two_loaded(monkeypatch, tmp_path):
    """A report of 64 KB or more (like any fragment that long) loads the
    cached stage-2 database before the rules run (narrowed and anchored);
    what it redacts is what the unnarrowed rules redact."""
    from keyscan import leakguard
    from keyscan.engine import matcher, prefilter

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("KEYSCAN_NO_CACHE", raising=False)
    keys = [fake_immutable_secret(seed=80 + i) for i in range(3)]
    filler = "".join(f'{{"path": "src/m{i}.js", "secret": "sk_imapik-…", "token_count": {i}}},\n' for i in range(1500))
    text = filler + f"missing-{keys[0]} {keys[1]}\n" + filler + f'"db_password": "{keys[2]}"\n'
    assert len(text) >= matcher.LOAD_STAGE2_TEXT

    monkeypatch.setattr(leakguard, "_ENGINE", None)
    monkeypatch.setattr(matcher, "LOAD_STAGE2_TEXT", 1 << 40)
    monkeypatch.setattr(prefilter.PatternStage, "LOAD_AFTER", 1e9)  # no load part way either
    plain = guard(text)
    stage = leakguard._engine().prefilter.patterns
    assert stage is not None and not stage.ready  # these rules ran unnarrowed
    stage.build()  # what a large scan leaves in the cache

    monkeypatch.setattr(leakguard, "_ENGINE", None)
    monkeypatch.setattr(matcher, "LOAD_STAGE2_TEXT", 64 * 1024)
    loaded = guard(text)
    assert leakguard._engine().prefilter.patterns.ready
    assert loaded == plain and not any(k in loaded for k in keys)
