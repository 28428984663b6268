"""The base64/hex finder's single-byte rejections (a bad first or second
lead in a run under 42 characters, a hex run's first and last character) and
the percent finder's windowed trigger search give exactly the runs of the
straightforward decoders in keyscan/decode/reference.py, at the lengths and
positions where the shortcuts switch on and off."""
import base64
import binascii
import json
import random
import string

import keyscan.decode as decode
from helpers import fake_immutable_secret, run_keyscan
from keyscan.decode import encodings as enc
from keyscan.decode import reference

PRINTABLE = (string.ascii_letters + string.digits + " ,.:;_-+/=!?").encode()


def _flat(runs):
    return [(kind, r.start, r.end, r.text, list(r.offsets)) for kind, r in runs]


def _same_b64_runs(text: str) -> list:
    fast = _flat(enc.base64_and_hex(text, decode._skip_inline_map(text)))
    want = _flat(reference.base64_and_hex(text))
    assert fast == want, text[:120]
    return fast


def _plain(rnd: random.Random, groups: int, bad: set[int]) -> bytes:
    """``groups`` 3-byte groups of printable text; the groups in ``bad``
    start with a newline, whose base64 lead ('C') is no text lead though the
    text stays printable."""
    out = bytearray()
    for g in range(groups):
        out.append(ord("\n") if g in bad else rnd.choice(PRINTABLE))
        out.extend(rnd.choice(PRINTABLE) for _ in range(2))
    return bytes(out)


def _run_of(rnd: random.Random, n: int, bad: set[int]) -> str:
    """A base64 run of exactly ``n`` characters (no padding) whose leads are
    good except the groups in ``bad``. A 4k+1 run gets one extra character,
    which decode_base64 drops."""
    groups = (n + 3) // 4
    run = base64.b64encode(_plain(rnd, groups, bad)).decode()
    if n % 4 == 1:
        return run[:n - 1] + rnd.choice("AQgw")
    return run[:n]


def test_one_bad_lead_starts_at_42_characters():
    # The shortcut may reject on one bad lead only below the first length
    # whose lead test tolerates one.
    allowed = 1 - enc.PRINTABLE_SHARE
    tolerant = [n for n in range(enc.MIN_B64, 200) if len(range(0, n - (n % 4 == 1), 4)) * allowed >= 1]
    assert tolerant[0] == enc._ONE_BAD_LEAD == 42
    assert all(enc._IS_LEAD[c] == (chr(c) in enc._B64_TEXT_LEADS) for c in range(256))
    assert all(enc._IS_HEX[c] == (chr(c) in enc._HEX_DIGITS) for c in range(256))


def test_runs_around_the_bad_lead_bound_give_the_same_runs():
    rnd = random.Random(4242)
    found = {}
    for n in range(enc.MIN_B64 - 1, 60):
        groups = (n + 3) // 4
        for bad in (set(), {0}, {1}, {2}, {groups - 1}, {0, 1}, {0, 5}):
            run = _run_of(rnd, n, {g for g in bad if g < groups})
            for text in (run, f" {run} ", f"k='{run}=='", f"é{run}✓", run.replace("+", "-").replace("/", "_"), f"x {run}=\n{run}"):
                found[(n, tuple(sorted(bad)), text == run)] = len(_same_b64_runs(text))
    # The shortcut's edges: with a bad first or second lead a 41-character
    # run is not base64, a 42-character one is.
    for lead in (0, 1):
        assert found[(41, (lead,), True)] == 0
        assert found[(42, (lead,), True)] == 1
        assert found[(44, (lead,), True)] == 1
    assert found[(30, (), True)] == 1 and found[(30, (2,), True)] == 0
    assert sum(found.values()) > 300


def test_hex_runs_at_their_shortcut_edges_give_the_same_runs():
    rnd = random.Random(16)
    found = 0
    for size in (15, 16, 17, 20, 31):
        digits = binascii.hexlify(bytes(rnd.choice(PRINTABLE) for _ in range(size))).decode()
        for text in (digits, digits.upper(), "0x" + digits, "0X" + digits, "g" + digits, digits + "z", digits + "=",
                     "_" + digits + "_", "é" + digits + "é", "0x" + digits[:-1] + "g", digits[:1] + "G" + digits[2:]):
            found += len(_same_b64_runs(text))
            found += len(_same_b64_runs(f"a = [{text}, {text}];"))
    assert found > 40


def test_runs_of_random_run_characters_give_the_same_runs():
    # Identifiers, paths and base64 of anything: the population the
    # shortcuts are for, with every lead pattern.
    rnd = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "+/_-"
    leads = enc._B64_TEXT_LEADS
    for _ in range(3000):
        n = rnd.randint(enc.MIN_B64, 70)
        chars = [rnd.choice(alphabet) for _ in range(n)]
        for i in range(0, n, 4):  # mostly good leads, so some runs pass
            if rnd.random() < 0.9:
                chars[i] = rnd.choice(leads)
        run = "".join(chars)
        _same_b64_runs(rnd.choice(["", " ", "é", "0x"]) + run + rnd.choice(["", "=", "==", "===", " ", "✓"]))


def test_long_runs_give_the_same_runs():
    rnd = random.Random(9)
    big = base64.b64encode(_plain(rnd, enc.MAX_RUN // 4 + 10, {0, 1})).decode()
    assert _same_b64_runs("x " + big + " y")  # longer than MAX_RUN: no lead test
    assert _same_b64_runs(base64.b64encode(_plain(rnd, 4000, set(range(0, 4000, 11)))).decode())


# --- percent triggers in windows ----------------------------------------------------


def _same_percent_runs(text: str) -> list:
    fast = _flat(enc.percent_runs(text))
    assert fast == _flat(reference.percent_runs(text)), text[:120]
    return fast


def test_percent_triggers_around_the_window_edge():
    window = enc._PCT_WINDOW
    found = 0
    for filler in ("x", "%", "%z", "é", "✓%", "\U0001f600"):
        for gap in range(window - 6, window + 6):
            lead = (filler * gap)[:gap]
            for tail in ("%41%42%43%44%45", "p%40ssw0rd123", "%4", "%"):
                text = "%s" + lead + tail
                found += len(_same_percent_runs(text))
                found += len(_same_percent_runs("a " + text + " b"))
    assert found > 100


def test_text_dense_with_percent_signs():
    rnd = random.Random(5)
    for _ in range(200):
        text = "".join(rnd.choice(["%", "%%", "%s", "%02x", "%4", "%41", "%e2%9c%93", "a", " ", "&", "é"]) for _ in range(rnd.randint(1, 400)))
        _same_percent_runs(text)
    assert _same_percent_runs("%" * 5000 + "%41bcdefgh" + "%" * 5000)


# --- spans kept for texts seen again --------------------------------------------------


def _big_text(rnd: random.Random, middle: str = "") -> str:
    """Over _SEEN_MIN characters of code with base64 and hex runs planted,
    and ``middle`` in the middle."""
    parts = []
    while sum(map(len, parts)) < enc._SEEN_MIN:
        kind = rnd.randrange(4)
        if kind == 0:
            parts.append(f"k{len(parts)} = '{base64.b64encode(_plain(rnd, rnd.randint(6, 20), set())).decode()}';\n")
        elif kind == 1:
            parts.append(f"h{len(parts)} = 0x{binascii.hexlify(_plain(rnd, 6, set())).decode()};\n")
        else:
            parts.append("".join(rnd.choice(string.ascii_letters + "_/") for _ in range(rnd.randint(10, 50))) + "();\n")
    half = len(parts) // 2
    return "".join(parts[:half]) + middle + "".join(parts[half:])


def test_a_text_seen_again_gives_the_same_runs_without_a_new_search(monkeypatch):
    monkeypatch.setattr(enc, "_SEEN", enc._Seen())
    searched = []
    spans = enc._spans
    monkeypatch.setattr(enc, "_spans", lambda text, shadow=None: searched.append(len(text)) or spans(text, shadow))
    text = _big_text(random.Random(1))
    first = _same_b64_runs(text)
    assert len(first) > 10 and len(searched) == 1
    copy = "".join(list(text))  # equal, another object
    assert copy is not text
    assert _same_b64_runs(copy) == first and _same_b64_runs(text) == first
    assert len(searched) == 1
    # The caller's veto still applies to kept spans.
    assert _flat(enc.base64_and_hex(text, lambda start, end: True)) == []
    assert len(_flat(enc.base64_and_hex(text, lambda start, end: start < len(text) // 2))) < len(first)


def test_texts_alike_at_both_ends_are_told_apart(monkeypatch):
    monkeypatch.setattr(enc, "_SEEN", enc._Seen())
    key = base64.b64encode(b"api_key=" + _plain(random.Random(2), 10, set())).decode()
    decoy = "." * len(key)  # no run there
    with_key = _big_text(random.Random(4), f"\nsecret = '{key}'\n")
    without = _big_text(random.Random(4), f"\nsecret = '{decoy}'\n")
    assert len(with_key) == len(without) and with_key[:64] == without[:64] and with_key[-64:] == without[-64:]
    for text in (without, with_key, without, with_key):
        runs = _same_b64_runs(text)
        assert any(r[3].startswith("api_key=") for r in runs) == (text is with_key)


def test_kept_texts_stay_within_their_budget(monkeypatch):
    seen = enc._Seen()
    monkeypatch.setattr(enc, "_SEEN", seen)
    monkeypatch.setattr(enc, "_SEEN_CHARS", 3 * enc._SEEN_MIN)
    rnd = random.Random(6)
    texts = [_big_text(rnd) for _ in range(6)]
    for text in texts + texts[::-1]:
        _same_b64_runs(text)
        assert seen.chars == sum(len(t) + enc._SPAN_CHARS * len(s) for t, s in seen.kept.values()) <= enc._SEEN_CHARS
        assert seen.kept
    _same_b64_runs(texts[0] * 5)  # over the budget alone: nothing is kept
    assert not seen.kept and seen.chars == 0


def test_decoded_variants_of_texts_seen_again(monkeypatch):
    monkeypatch.setattr(enc, "_SEEN", enc._Seen())
    text = _big_text(random.Random(8), "\n" + base64.b64encode(b"token=" + base64.b64encode(_plain(random.Random(9), 8, set()))).decode() + "\n")

    def variants():
        return [(v.text, v.kinds, v.start, v.end, list(v.offsets)) for v in decode.decoded_variants(text)]

    fast = variants()
    assert variants() == fast
    with monkeypatch.context() as m:
        m.setattr(decode, "_runs", reference.runs)
        assert variants() == fast
    assert any(v[1] == ("base64", "base64") for v in fast)


def test_a_key_in_files_of_the_same_text_is_found_in_each(tmp_path):
    # Three copies of a large file holding a made-up key in base64 and in
    # hex, and one alike at both ends without it: keyscan (one process, so
    # the kept spans serve the copies) reports the key in every copy, as the
    # reference decoders do.
    key = fake_immutable_secret(seed=13)
    planted = f"\nb = '{base64.b64encode(f'token={key}'.encode()).decode()}';\nh = '{binascii.hexlify(key.encode()).decode()}';\n"
    text = _big_text(random.Random(21), planted)
    other = _big_text(random.Random(21), "\n" + "#" * (len(planted) - 2) + "\n")
    assert len(text) == len(other) and len(text) >= enc._SEEN_MIN
    for name in ("a.js", "b/a.js", "c/d/a.js"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    (tmp_path / "0.js").write_text(other)  # walked first
    reports = []
    for mode in ("fast", "reference"):
        res = run_keyscan("scan", str(tmp_path), "--no-gitignore", "--no-redact", "--jobs", "1", "-f", "json", env={"KEYSCAN_DECODE": mode})
        assert res.code == 1, res.err
        reports.append(json.loads(res.out)["findings"])
    assert reports[0] == reports[1]
    found = {(f["path"], f["secret"], tuple(f["source"].get("decoded") or ())) for f in reports[0]}
    for name in ("a.js", "b/a.js", "c/d/a.js"):
        assert any(p.endswith(name) and k == key and d == ("base64",) for p, k, d in found), found
        assert any(p.endswith(name) and k == key and d == ("hex",) for p, k, d in found), found
    assert not any(p.endswith("0.js") for p, _, _ in found)


def test_the_engine_hands_the_decoders_a_shadow_it_already_has(monkeypatch):
    """An ASCII fragment's bytes, or the prefilter's shadow of a non-ASCII
    text, serve as the text's shadow for the base64/hex search, which
    gives the same runs with it as without it."""
    from keyscan.engine.matcher import Engine
    from keyscan.models import Fragment
    from keyscan.rulefile import load_ruleset

    rnd = random.Random(7)
    texts = [_big_text(rnd), "café ✓ " + _big_text(rnd) + " ünïcode"]
    engine = Engine(load_ruleset())
    engine.warm()
    stage_ready = getattr(engine.prefilter, "patterns", None) is not None and engine.prefilter.patterns.ready
    for text in texts:
        fragment = Fragment(text.encode("utf-8"), "src/app.js", "worktree")
        engine.scan(fragment)
        shadow = engine._shadow_of(fragment)
        if text.isascii():
            assert shadow is fragment.data
        elif stage_ready:
            assert shadow == text.encode("ascii", "replace")
        if shadow is not None:
            monkeypatch.setattr(enc, "_SEEN", enc._Seen())  # searched now, with the shadow
            assert _flat(enc.base64_and_hex(text, None, shadow)) == _flat(reference.base64_and_hex(text))
            with_shadow = [(v.kinds, v.start, v.end, v.text) for v in decode.decoded_variants(text, shadow=shadow)]
            assert with_shadow == [(v.kinds, v.start, v.end, v.text) for v in decode.decoded_variants(text)]
            assert with_shadow
