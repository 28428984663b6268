"""The fast decoders (bounds before decoding, one regex search per trigger,
the base64 lead test on bytes, the batched prefilter over decoded variants)
give exactly what the straightforward ones give (keyscan/decode/reference.py,
the engine asking the prefilter about each variant alone)."""
import base64
import binascii
import json
import os
import random
import string
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import keyscan.decode as decode
from keyscan.decode import decoded_variants, reference
from keyscan.decode import encodings as enc
from keyscan.decode import js
from keyscan.engine import Engine
from keyscan.engine import matcher
from keyscan.models import Fragment
from keyscan.rulefile import load_ruleset
from helpers import ROOT, fake_immutable_publishable, fake_immutable_secret, run_keyscan

CORPUS = ROOT / "tests" / "corpus" / "files"
RULES = load_ruleset()
B64 = string.ascii_letters + string.digits + "+/"


def _flat(runs):
    return [(kind, r.start, r.end, r.text, list(r.offsets)) for kind, r in runs]


def _same_runs(text: str) -> list:
    want = _flat(reference.runs(text))
    assert _flat(decode._runs(text)) == want
    return want


def _variants(text: str) -> list:
    return [(v.text, v.kinds, v.start, v.end, list(v.offsets) if v.offsets is not None else None) for v in decoded_variants(text)]


def _same_variants(text: str, monkeypatch) -> list:
    fast = _variants(text)
    with monkeypatch.context() as m:
        m.setattr(decode, "_runs", reference.runs)
        assert _variants(text) == fast
    return fast


# --- generated text ------------------------------------------------------------


def _js_escape(rnd: random.Random, s: str) -> str:
    out = []
    for ch in s:
        r = rnd.random()
        if ch == "\\":
            out.append("\\\\")
        elif r < 0.3 and ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif r < 0.5 and ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04X}")
        elif r < 0.55:
            out.append(f"\\u{{{ord(ch):x}}}")
        else:
            out.append(ch)
    return "".join(out)


def _piece(rnd: random.Random, depth: int = 0) -> str:
    key = fake_immutable_secret(seed=rnd.randrange(1000)) if rnd.random() < 0.5 else fake_immutable_publishable(seed=rnd.randrange(1000))
    plain = rnd.choice([key, f"api_key={key}", "hello world " * rnd.randint(1, 3), "ünïcödé ✓ " + key, "".join(rnd.choice(string.printable) for _ in range(rnd.randint(1, 40)))])
    kind = rnd.randrange(14)
    if kind == 0:
        return _js_escape(rnd, plain)
    if kind == 1:
        return urllib.parse.quote(plain, safe=rnd.choice(["", "/", "=_-"]))
    if kind == 2:
        return base64.b64encode(plain.encode()).decode()
    if kind == 3:
        return base64.urlsafe_b64encode(plain.encode()).decode().rstrip("=")
    if kind == 4:
        return rnd.choice(["", "0x", "0X"]) + binascii.hexlify(plain.encode()).decode()
    if kind == 5 and depth < 2:  # nested: an encoding of an encoding
        inner = _piece(rnd, depth + 1)
        return rnd.choice([base64.b64encode(inner.encode()).decode(), urllib.parse.quote(inner), _js_escape(rnd, inner)])
    if kind == 6:  # C format strings and lookalikes
        return rnd.choice(["printf(\"%02x %-20s %2d\\n\", a, b, c);", "%%41%4", "%zz%", "100%", "%E2%9C%93%E2%9C", "%ff%fe%00x", "%41%42%43%44%45%46%47%48"])
    if kind == 7:  # JS lookalikes and edge escapes
        return rnd.choice(["\\\\x41\\x42", "\\x1b[0m", "\\u{110000}abcdefgh", "\\u{FFFFFF}\\x41bcdefgh", "\\uD83D\\uDE00abcdefgh", "ab\\", "\\x4", "\\u00", "'\\x00'"])
    if kind == 8:  # base64-class runs that are not base64: identifiers, paths, hashes
        return rnd.choice(["__PRIVATE_arrayValueContains", "/internal/operators/windowToggle", "ATTR_K8S_RESOURCEQUOTA_NAME_X"]) + "".join(rnd.choice(B64 + "_-") for _ in range(rnd.randint(0, 50)))
    if kind == 9:  # runs at the length thresholds, with padding
        n = rnd.choice([17, 18, 19, 23, 24, 25, 31, 32, 33])
        return base64.b64encode(bytes(rnd.randrange(0x20, 0x7F) for _ in range(n))).decode() + "=" * rnd.randint(0, 3)
    if kind == 10:
        return "".join(rnd.choice("0123456789abcdefABCDEF") for _ in range(rnd.choice([30, 31, 32, 33, 40, 64])))
    if kind == 11:  # an inline source map and a lookalike
        return rnd.choice(["//# sourceMappingURL=data:application/json;base64,", "base64, ", "base64,\n"]) + base64.b64encode(b'{"version":3,"sources":["a.js"]}').decode()
    if kind == 12:
        return "".join(rnd.choice("éü✓€\U0001f600 \t\n\"'`<>&?#=;,") for _ in range(rnd.randint(1, 6)))
    return "".join(rnd.choice(" \n\t\"'`<>&?#=;:,") for _ in range(rnd.randint(1, 4)))


def _text(rnd: random.Random, parts: int) -> str:
    return "".join(_piece(rnd) + rnd.choice(["", " ", "\n", "'", '"', "&", "\\", "%"]) for _ in range(parts))


def test_generated_texts_give_the_same_runs(monkeypatch):
    rnd = random.Random(20261126)
    found = 0
    for _ in range(400):
        text = _text(rnd, rnd.randint(1, 14))
        found += len(_same_runs(text))
        _same_variants(text, monkeypatch)
    assert found > 500


def test_tokens_at_the_length_bounds():
    # JS tokens of MIN_DECODED - 1 and MIN_DECODED characters, percent
    # tokens of MIN_DECODED + 1 and + 2, at the start, the end and alone.
    cases = ["\\x41bcdef", "\\x41bcdefg", "\\x41bcdefgh", "%41bcdefg", "%41bcdefgh", "%41bcdefghi", "a%41%42%43%44%45", "\\u{41}bcdef", "\\u{41}bcdefgh"]
    for case in cases:
        for text in (case, " " + case, case + " ", f"x='{case}'", f"{case}&{case}"):
            _same_runs(text)
    assert _same_runs("%41bcdefgh") and _same_runs("\\x41bcdefgh")


def test_hex_runs_at_the_length_bounds():
    # 15 to 17 bytes of text as hex (30 to 34 digits): under, at and over
    # MIN_HEX, with and without 0x, with padding after (then not hex).
    found = 0
    for n in (15, 16, 17):
        digits = binascii.hexlify(b"Zq=sk_imapik-test"[:n]).decode()
        for text in (digits, "0x" + digits, "0X" + digits, digits + "=", f"h = '{digits}';", digits.upper()):
            found += len(_same_runs(text))
    assert found >= 8


def test_long_tokens_and_runs():
    rnd = random.Random(3)
    long_token = "a" * 5000 + "%41" + "b" * 5000
    _same_runs(long_token)
    _same_runs("x" * 5000 + "\\x41" + "y" * 3000)
    big = base64.b64encode(("secret=" + "".join(rnd.choice(string.ascii_letters) for _ in range(enc.MAX_RUN))).encode()).decode()
    assert _same_runs(big + "==")  # longer than MAX_RUN: decoded up to it


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list("%\\xu{}0123456789aAfFgG=+/_- \n'\"é✓") + ["%41", "\\x41", "\\u0041", "QUJD", "0x"]), max_size=60))
def test_any_text_gives_the_same_runs(pieces):
    _same_runs("".join(pieces))


def test_corpus_files_give_the_same_variants(monkeypatch):
    found = 0
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file():
            found += len(_same_variants(path.read_text(errors="replace"), monkeypatch))
    assert found > 10


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_percent_decoding_matches_the_unit_by_unit_decoder(text):
    quoted = urllib.parse.quote(text, safe="/=&") + "%zz%4%"
    for run in (quoted, text):
        got, offsets = enc.decode_percent_run(run, 7)
        want, want_offsets = reference.decode_percent_run(run, 7)
        assert (got, list(offsets)) == (want, list(want_offsets))


def test_token_bounds_match_the_window_search():
    rnd = random.Random(11)
    for _ in range(300):
        text = "".join(rnd.choice("ab\\%x ' \"\t<>&?#`") for _ in range(rnd.randint(1, 300)))
        pos = rnd.randrange(len(text))
        for seps, token in ((js._SEPARATORS, js._TOKEN), (enc._PCT_SEPARATORS, enc._PCT_TOKEN)):
            assert enc.token_bounds(text, pos, seps, token) == reference.token_bounds(text, pos, seps, token)
    far = "x" * (enc.MAX_TOKEN + 50) + "%41"
    assert enc.token_bounds(far, len(far) - 3, enc._PCT_SEPARATORS, enc._PCT_TOKEN)[0] == len(far) - 3 - enc.MAX_TOKEN


# --- the batched prefilter over variants -----------------------------------------


@pytest.fixture(scope="module", params=["stdlib", "hyperscan"])
def engine(request, tmp_path_factory):
    if request.param == "hyperscan":
        pytest.importorskip("hyperscan")
        old = os.environ.get("XDG_CACHE_HOME")
        os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
        try:
            eng = Engine(RULES, prefilter="hyperscan")
            eng.warm()  # stage 2 too
        finally:
            if old is None:
                del os.environ["XDG_CACHE_HOME"]
            else:
                os.environ["XDG_CACHE_HOME"] = old
        return eng
    return Engine(RULES, prefilter="stdlib")


def _result(eng, text: str):
    res = eng.scan(Fragment.from_text(text, "src/app.js"))
    key = lambda m: (m.rule.id, m.start, m.end, m.secret, m.decoded)  # noqa: E731
    return [key(m) for m in res.matches], [(key(m), why) for m, why in res.placeholders], [(e.kind, e.message) for e in res.errors]


def test_batched_variants_find_what_one_by_one_finds(engine, monkeypatch):
    rnd = random.Random(99)
    found = 0
    for _ in range(120):
        text = _text(rnd, rnd.randint(2, 30))
        batched = _result(engine, text)
        with monkeypatch.context() as m:
            m.setattr(matcher, "BATCH_VARIANTS", 1)  # every variant asked alone, as before
            assert _result(engine, text) == batched
        found += len(batched[0])
    assert found > 20


def test_a_key_among_many_decoy_variants_is_found(engine, monkeypatch):
    key = fake_immutable_secret(seed=5)
    decoys = [f"\\x41\\x42ordinary{i}text" for i in range(600)]
    decoys[437] = "k=" + "".join(f"\\x{ord(c):02x}" if c in "_-" else c for c in key)
    text = "\n".join(f"s{i} = '{d}'" for i, d in enumerate(decoys))
    batched = _result(engine, text)
    assert [m[3] for m in batched[0]] == [key]
    with monkeypatch.context() as m:
        m.setattr(matcher, "BATCH_VARIANTS", 1)
        assert _result(engine, text) == batched


# --- through the CLI ---------------------------------------------------------------


@pytest.mark.parametrize("backend", ["stdlib", "hyperscan"])
def test_reports_match_the_reference_decoders(tmp_path, backend):
    if backend == "hyperscan":
        pytest.importorskip("hyperscan")
    rnd = random.Random(backend)
    for i in range(12):
        (tmp_path / f"f{i}.js").write_text(_text(rnd, 25), encoding="utf-8")
    (tmp_path / "corpus").mkdir()
    for path in sorted(CORPUS.rglob("*"))[:40]:
        if path.is_file():
            (tmp_path / "corpus" / path.name).write_bytes(path.read_bytes())
    reports = []
    for mode in ("fast", "reference"):
        env = {"KEYSCAN_PREFILTER": backend, "KEYSCAN_DECODE": mode}
        res = run_keyscan("scan", str(tmp_path), "--no-gitignore", "--jobs", "1", "-f", "json", env=env)
        assert res.code in (0, 1), res.err
        report = json.loads(res.out)
        reports.append((report["findings"], report["errors"]))
    assert reports[0] == reports[1]
    assert len(reports[0][0]) > 5


def test_plain_escape_tokens_decode_as_decode_js_does():
    """The codec path for tokens of nothing but \\xNN/\\uNNNN escapes gives
    decode_js's text, and its lazy offsets decode_js's offsets; tokens it
    cannot take (other escapes, \\u{...}, surrogates, non-Latin-1, short
    escapes, a trailing backslash) are left to decode_js."""
    rnd = random.Random(77)
    pieces = ["\\x41", "\\u0041", "\\u00e9", "\\x7A", "\\uD83D", "\\uDE00", "\\x", "\\u{41}", "\\\\", "\\n", "\\'", "a", "é", "€", "\\x4g", "\\u12", "z", "\\", "%41"]
    taken = 0
    for _ in range(30_000):
        raw = "".join(rnd.choice(pieces) for _ in range(rnd.randint(1, 12)))
        fast = js._plain_decode(raw)
        if fast is None:
            continue
        taken += 1
        text, offsets = js.decode_js(raw, 100)
        assert fast == text, raw
        assert list(js._JSOffsets(raw, 100, len(fast) + 1)) == list(offsets), raw
    assert taken > 1_000
    assert js._plain_decode("\\uD83D\\uDE00abcdefgh") is None  # a pair: decode_js joins it
    assert js._plain_decode("\\u{1F600}abcdefgh") is None
    assert js._plain_decode("abc\\tdef\\x41") is None
