"""The fast JS-escape finder and the decoder framework's shortcuts give what
the straightforward code gives (keyscan/decode/reference.py):

* ``js.js_runs`` (token bounds and the codec path inline) against
  ``reference.js_runs`` (every token sliced and decoded by ``decode_js``);
* ``decode._runs`` (each decoder called only when its trigger character is
  in the text) against ``reference.runs``;
* ``decoded_variants`` (a decoded text is decoded again only when
  ``_may_hold_runs`` says it could hold a run) against the same generator
  with the reference decoders and nothing skipped: same texts, kinds, spans
  and offsets, in the same order."""
from __future__ import annotations

import base64
import random
import string
import urllib.parse

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import keyscan.decode as decode
from keyscan.decode import MAX_DEPTH, decoded_variants, reference
from keyscan.decode import js
from keyscan.decode.encodings import MAX_TOKEN, MIN_B64, MIN_DECODED
from helpers import fake_immutable_secret


def _flat(runs) -> list:
    return [(kind, r.start, r.end, r.text, list(r.offsets)) for kind, r in runs]


def _variants(text: str) -> list:
    return [(v.text, v.kinds, v.start, v.end, list(v.offsets)) for v in decoded_variants(text)]


def _reference_variants(text: str, monkeypatch) -> list:
    with monkeypatch.context() as m:
        m.setattr(decode, "_runs", reference.runs)
        m.setattr(decode, "_may_hold_runs", lambda text: True)
        return _variants(text)


# --- generated text ----------------------------------------------------------------

# Every escape JavaScript has, valid and not, and what sits around them.
_ESCAPES = [
    "\\x41", "\\x7a", "\\xE9", "\\xff", "\\x00", "\\x4g", "\\x4", "\\x",
    "\\u0041", "\\u00e9", "\\u20AC", "\\u0000", "\\uFFFD", "\\u12", "\\u12g4", "\\u",
    "\\uD83D\\uDE00", "\\ud83d\\ude00", "\\uD83D", "\\uDE00", "\\uDE00\\uD83D", "\\uD83D\\u0041", "\\uD83D\\x41",
    "\\u{41}", "\\u{1F600}", "\\u{10FFFF}", "\\u{110000}", "\\u{FFFFFF}", "\\u{}", "\\u{1234567}", "\\u{41",
    "\\n", "\\t", "\\r", "\\b", "\\f", "\\v", "\\0", "\\'", '\\"', "\\`", "\\\\", "\\\\x41", "\\\\u0041", "\\/", "\\q",
    "\\\n", "\\\r\n", "\\\u2028", "\\ ", "\\<",
]
_PLAIN = ["a", "Z", "9", "_", "-", "$", "=", "é", "ÿ", "Ā", "€", "✓", "\U0001f600", "%41", "%", "{", "}"]
# Separators of the backward search, and blanks that only end the forward one.
_SEPS = [" ", "\t", "\n", "\r", '"', "'", "`", "<", ">", "\x0b", "\x0c", "\x1c", "\x85", "\u2028", "\u3000", "\xa0"]


# What the codec path takes: \xNN and \uNNNN escapes (no surrogate) among
# Latin-1 characters.
_CODEC_ESCAPES = ["\\x41", "\\x7a", "\\xE9", "\\xff", "\\x00", "\\u0041", "\\u00e9", "\\u20AC", "\\uFFFD", "\\u0000"]
_LATIN1 = ["a", "Z", "9", "_", "-", "$", "=", "é", "ÿ", "%41", "{", "}"]


def _token(rnd: random.Random) -> str:
    escapes, plain = (_CODEC_ESCAPES, _LATIN1) if rnd.random() < 0.5 else (_ESCAPES, _PLAIN)
    return "".join(rnd.choice(escapes) if rnd.random() < 0.45 else rnd.choice(plain) for _ in range(rnd.randint(1, 14)))


def _escape_text(rnd: random.Random) -> str:
    return "".join(_token(rnd) + rnd.choice(_SEPS) * rnd.randint(0, 2) for _ in range(rnd.randint(1, 20)))


_LONE = ["\\uD83D", "\\uDE00", "\\uDE00\\uD83D", "\\uD83D\\u0041", "\\uD83D\\x41"]


def _no_lone_surrogates(text: str) -> str:
    # See test_percent_after_a_lone_surrogate (encodings.percent_runs).
    for lone in _LONE:
        text = text.replace(lone, "\\u00e9")
    return text


def test_js_runs_match_the_reference_on_generated_text():
    rnd = random.Random(20261126)
    kinds = {"codec": 0, "decode_js": 0}
    for _ in range(3_000):
        text = _escape_text(rnd)
        got = _flat(js.js_runs(text))
        assert got == _flat(reference.js_runs(text)), repr(text)
        for kind, run in js.js_runs(text):
            kinds["codec" if isinstance(run.offsets, js._JSOffsets) else "decode_js"] += 1
    # Both decoding paths were taken many times.
    assert kinds["codec"] > 500 and kinds["decode_js"] > 500, kinds


def test_dense_translation_table():
    # The kind of file js_runs spends its time on: every few words a
    # \u-escaped letter, many tokens too short to report once decoded.
    rnd = random.Random(4)
    words = []
    for _ in range(3_000):
        word = "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(1, 9)))
        cut = rnd.randrange(len(word) + 1)
        words.append(word[:cut] + rnd.choice(["\\u00e9", "\\u0131", "\\u015f", "\\u4e2d\\u6587", "\\x e9", "\\xe9"]) + word[cut:])
    text = '{"a": "' + " ".join(words) + '", "b": "' + "\\u0432\\u044b" * 20 + '"}'
    got = _flat(js.js_runs(text))
    assert got == _flat(reference.js_runs(text))
    assert 100 < len(got) < 3_000  # some tokens are reported, not all


def test_tokens_at_the_bounds():
    # MIN_DECODED characters decoded or one fewer, from both paths; tokens
    # reaching MAX_TOKEN each way from the trigger.
    for body in ("abcdef", "abcdefg", "abcdefgh"):
        for esc in ("\\x41", "\\u0041", "\\u{41}", "\\n\\x41", "\\uD83D\\uDE00"):
            for text in (esc + body, body + esc, " " + esc + body + " ", f"'{body}{esc}'"):
                assert _flat(js.js_runs(text)) == _flat(reference.js_runs(text))
    for left in (MAX_TOKEN - 1, MAX_TOKEN, MAX_TOKEN + 1):
        for right in (MAX_TOKEN - 5, MAX_TOKEN - 4, MAX_TOKEN + 3):
            text = "x" * left + "\\x41" + "y" * right
            got = _flat(js.js_runs(text))
            assert got == _flat(reference.js_runs(text))
            assert got and got[0][1] == max(0, left - MAX_TOKEN)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(_ESCAPES + _PLAIN + _SEPS), max_size=40).map("".join))
def test_any_escape_text_matches_the_reference(text):
    assert _flat(js.js_runs(text)) == _flat(reference.js_runs(text))
    assert _flat(decode._runs(text)) == _flat(reference.runs(text))


# --- nesting: what the framework skips -----------------------------------------------


@settings(max_examples=500, deadline=None)
@given(st.lists(st.sampled_from(list("\\%xu{}0123456789abcdefABCDEF=+/_-é ") + ["%41", "\\x41", "\\u0041", "QUJD"]), max_size=30).map("".join))
@example("abcdefg%41")
@example("\\x41bcdefgh")
def test_a_text_that_may_not_hold_runs_yields_none(text):
    # The condition the framework skips nested decoding on is a sure one.
    if not decode._may_hold_runs(text):
        assert list(reference.runs(text)) == []


def test_may_hold_runs_at_its_bounds():
    assert not decode._may_hold_runs("a" * (MIN_B64 - 1))
    assert decode._may_hold_runs("a" * MIN_B64)
    assert decode._may_hold_runs("\\x41")
    assert decode._may_hold_runs("%41")
    # The shortest base64 run that decodes is MIN_B64 long.
    shortest = base64.b64encode(b"secret=abcdefghijk").decode()
    assert len(shortest) == MIN_B64 and list(reference.runs(shortest))
    for text in (shortest, "abcdefg%41", "\\x41bcdefgh"):
        assert decode._may_hold_runs(text)
        assert _flat(decode._runs(text)) == _flat(reference.runs(text)) != []


def _nested(rnd: random.Random) -> str:
    key = fake_immutable_secret(seed=rnd.randrange(100))
    layers = rnd.choice([
        ["b64", "js"], ["js", "b64"], ["pct", "js"], ["js", "pct"], ["b64", "pct", "js"], ["pct", "b64", "js"],
        ["js", "js"], ["b64", "b64", "b64", "b64"], ["js"], ["b64"], ["pct"],
    ])
    text = rnd.choice([key, "api_key=" + key, "é✓ " + key, "short", "\\x41\\x42"])
    for layer in reversed(layers):
        if layer == "b64":
            text = base64.b64encode(text.encode()).decode()
        elif layer == "pct":
            text = urllib.parse.quote(text, safe=rnd.choice(["", "=", "\\"]))
        else:
            text = "".join(f"\\x{ord(c):02x}" if ord(c) < 0x100 and rnd.random() < 0.4 else (f"\\u{ord(c):04x}" if ord(c) < 0x10000 and rnd.random() < 0.2 else c) for c in text)
    return text


def test_nested_variants_match_the_reference(monkeypatch):
    rnd = random.Random(8)
    depths = set()
    for _ in range(300):
        text = rnd.choice(["", "x = '", '{"v": "']) + " ".join(_nested(rnd) for _ in range(rnd.randint(1, 4))) + rnd.choice(["", "'", '"}'])
        fast = _variants(text)
        assert fast == _reference_variants(text, monkeypatch), repr(text)
        depths.update(len(v[1]) for v in fast)
    assert depths == set(range(1, MAX_DEPTH + 1))


def test_generated_escape_texts_give_the_reference_variants(monkeypatch):
    rnd = random.Random(12)
    found = 0
    for _ in range(400):
        text = _no_lone_surrogates(_escape_text(rnd))
        fast = _variants(text)
        assert fast == _reference_variants(text, monkeypatch), repr(text)
        found += len(fast)
    assert found > 300


def test_a_key_in_base64_in_js_escapes_in_percent_is_found():
    key = fake_immutable_secret("test", seed=21)
    inner = base64.b64encode(("token=" + key).encode()).decode()
    js_text = "".join(f"\\x{ord(c):02x}" if i % 3 == 0 else c for i, c in enumerate(inner))
    text = "u=" + urllib.parse.quote(js_text, safe="")
    kinds = [v.kinds for v in decoded_variants(text) if key in v.text]
    assert kinds == [("percent", "js-escape", "base64")]


def test_percent_after_a_lone_surrogate():
    # A JS-escaped lone surrogate, then a percent escape: the decoded JS text
    # is 10 characters, percent-decoded to 10 (the surrogate's 3 bytes are 3
    # replacement characters); the length bound must not skip it.
    text = "x4g\udE00\ud83d%41"
    assert _flat(decode.encodings.percent_runs(text)) == _flat(reference.percent_runs(text))


@settings(max_examples=1_000, deadline=None)
@given(st.lists(st.sampled_from(_ESCAPES + _PLAIN + ["\\0", "\\01", "\\a", "\\N{DASH}", "\\U0001F600", "\\7", "\\\\\\", "\\€", "\\\x0c", "\udc80"]), min_size=1, max_size=16).map("".join))
def test_the_codec_path_decodes_as_decode_js(raw):
    # Where _plain_decode takes a token, its text is decode_js's and the
    # lazy offsets are decode_js's offsets.
    fast = js._plain_decode(raw)
    if fast is not None:
        text, offsets = js.decode_js(raw, 5)
        assert fast == text
        assert list(js._JSOffsets(raw, 5, len(fast) + 1)) == list(offsets)


def test_the_codec_path_takes_the_common_tokens():
    for raw in ("d\\u00e9j\\u00e0", "\\x3cdiv\\x3e", "\\u0432\\u044b\\u0434", "caf\\xe9-\\xff"):
        assert js._plain_decode(raw) == js.decode_js(raw)[0], raw
    # Left to decode_js: other escapes, \\u{...}, pairs, short escapes, a
    # trailing backslash, characters past Latin-1.
    for raw in ("\\n\\x41", "\\\\x41", "\\0", "\\u{41}", "\\uD83D\\uDE00", "\\x4g", "ab\\x41\\", "\u20ac\\u0041"):
        assert js._plain_decode(raw) is None, raw
