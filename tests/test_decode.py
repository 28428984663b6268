"""Decoders (JS escapes, base64, hex, percent-encoding): round trips, offset
maps, bounds, and findings through the real CLI."""
from __future__ import annotations

import base64
import json
import random
import string
import time
import urllib.parse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import fake_immutable_secret, run_keyscan
from keyscan.decode import MAX_DEPTH, MAX_OUTPUT, MAX_VARIANTS, decoded_variants
from keyscan.decode.encodings import decode_base64, decode_hex, decode_percent_run
from keyscan.decode.js import decode_js

# --- JS escapes ---------------------------------------------------------------


def js_escape(text: str, choices: list[int]) -> str:
    out = []
    for ch, how in zip(text, choices):
        code = ord(ch)
        if ch == "\\":
            out.append("\\\\")
        elif how == 1 and code < 0x100:
            out.append(f"\\x{code:02x}")
        elif how == 2 and code < 0x10000:
            out.append(f"\\u{code:04X}")
        elif how == 2:
            hi, lo = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
            out.append(f"\\u{hi:04x}\\u{lo:04x}")
        elif how == 3:
            out.append(f"\\u{{{code:x}}}")
        else:
            out.append(ch)
    return "".join(out)


@given(st.text(max_size=60).flatmap(lambda t: st.tuples(st.just(t), st.lists(st.integers(0, 3), min_size=len(t), max_size=len(t)))))
def test_js_round_trip_and_offsets(args):
    text, choices = args
    run = js_escape(text, choices)
    decoded, offsets = decode_js(run, 100)
    assert decoded == text
    assert len(offsets) == len(decoded) + 1 and offsets[-1] == 100 + len(run)
    assert list(offsets) == sorted(offsets)
    for i, ch in enumerate(decoded):
        unit = run[offsets[i] - 100:offsets[i + 1] - 100]
        assert decode_js(unit)[0] == ch


@pytest.mark.parametrize(
    "run, want",
    [
        (r"sk_imapik-\x51x7", "sk_imapik-Qx7"),
        (r"\u0024h3\u{1F600}", "$h3\U0001F600"),
        (r"a\nb\tc\'\"", "a\nb\tc'\""),
        (r"\ud83d\ude00", "\U0001F600"),
        (r"\u{110000}", r"\u{110000}"),
        ("end\\", "end\\"),
    ],
)
def test_js_examples(run, want):
    assert decode_js(run)[0] == want


# --- percent, hex, base64 -----------------------------------------------------


@given(st.text(min_size=1, max_size=60), st.sampled_from(["", "/", "$@", "/:=&"]))
def test_percent_round_trip_and_offsets(text, safe):
    run = urllib.parse.quote(text, safe=safe)
    decoded, offsets = decode_percent_run(run, 7)
    assert decoded == text
    assert offsets[0] == 7 and offsets[-1] == 7 + len(run) and list(offsets) == sorted(offsets)
    for i, ch in enumerate(decoded):
        assert decode_percent_run(run[offsets[i] - 7:offsets[i + 1] - 7])[0] == ch


printable = st.text(alphabet=string.ascii_letters + string.digits + string.punctuation + " ", min_size=18, max_size=200)


@given(printable)
def test_hex_round_trip_and_offsets(text):
    enc = text.encode().hex()
    doc = "x=" + enc + ";"
    run = decode_hex(doc, 2, 2 + len(enc))
    assert run is not None and run.text == text
    assert (run.start, run.end) == (2, 2 + len(enc))
    assert list(run.offsets) == list(range(2, 2 + len(enc) + 1, 2))


@given(printable, st.booleans())
def test_base64_round_trip_and_offsets(text, urlsafe):
    enc = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(text.encode()).decode()
    doc = "v: " + enc + "\n"
    run = decode_base64(doc, 3, 3 + len(enc))
    assert run is not None and run.text == text
    assert run.offsets[0] == 3 and run.offsets[-1] == 3 + len(enc)
    for i in range(len(text)):
        # each character maps to the 4-character group holding its byte
        assert run.offsets[i] == 3 + 4 * (i // 3)
        group = doc[run.offsets[i]:run.offsets[i] + 4]
        assert text[i] in base64.b64decode(group.replace("-", "+").replace("_", "/") + "==").decode("latin-1")


def test_base64_of_binary_or_identifiers_is_not_decoded():
    assert decode_base64("getOwnPropertyDescriptorsForObjectKeys", 0, 38) is None
    blob = base64.b64encode(bytes(range(256))).decode()
    assert decode_base64(blob, 0, len(blob)) is None


# --- decoded_variants ---------------------------------------------------------


@settings(max_examples=200)
@given(st.lists(st.sampled_from(list("aZ09+/=_-%\\xu{}\"' \n") + ["\\x41", "%24", "c2tf", "\\u0024", "\U0001F600", "c2tfaW1hcGlrLXRlc3Qt"]), max_size=120).map("".join))
def test_variant_spans_and_offsets_stay_inside_the_text(text):
    for v in decoded_variants(text):
        assert 0 <= v.start < v.end <= len(text)
        assert 1 <= len(v.kinds) <= MAX_DEPTH
        assert len(v.offsets) == len(v.text) + 1
        assert all(v.start <= o <= v.end for o in v.offsets)
        assert list(v.offsets) == sorted(v.offsets)


def test_nested_encodings_found_and_depth_bounded():
    secret = fake_immutable_secret("test", seed=3)
    inner = json.dumps({"key": secret}).replace("sk_", "\\u0073k_")
    layer = inner
    for _ in range(6):
        layer = base64.b64encode(layer.encode()).decode()
    text = f"blob: {layer}\n"
    variants = list(decoded_variants(text))
    assert max(len(v.kinds) for v in variants) == MAX_DEPTH
    assert all(v.start == 6 for v in variants)
    two = base64.b64encode(inner.encode()).decode()
    found = [v for v in decoded_variants("x " + two) if secret in v.text]
    assert [v.kinds for v in found] == [("base64", "js-escape")]


def test_output_is_bounded(monkeypatch):
    import keyscan.decode as decode

    assert MAX_VARIANTS >= 10_000
    monkeypatch.setattr(decode, "MAX_VARIANTS", 300)
    rnd = random.Random(5)
    runs = [base64.b64encode("".join(rnd.choice(string.ascii_letters) for _ in range(30)).encode()).decode() for _ in range(400)]
    assert len(list(decoded_variants(" ".join(runs[:250])))) == 250
    assert len(list(decoded_variants(" ".join(runs)))) == 300
    big = base64.b64encode(("A" * 700_000).encode()).decode()
    text = " ".join([big] * 40)
    assert sum(len(v.text) for v in decoded_variants(text)) <= MAX_OUTPUT


def test_plain_code_yields_nothing_and_is_cheap():
    rnd = random.Random(1)
    words = ["const", "function", "return", "getElementById", "addEventListener", "=>", "{", "}", "(", ")", ";", "100%", "a.b.c", "\"text\"", "__webpack_require__"]
    text = " ".join(rnd.choice(words) for _ in range(1_500_000))  # ~10 MB
    t0 = time.perf_counter()
    assert list(decoded_variants(text)) == []
    assert time.perf_counter() - t0 < 3.0


# --- through the CLI ----------------------------------------------------------


def test_encoded_keys_found_in_every_kind_of_file(tmp_path):
    plain = fake_immutable_secret("test", seed=11)
    secret = plain[:15] + "$" + plain[16:20] + "@" + plain[21:]  # '$' and '@' need percent-encoding
    b64 = base64.b64encode(secret.encode()).decode()
    files = {
        "k8s/secret.yaml": f"apiVersion: v1\nkind: Secret\nmetadata:\n  name: imx\ndata:\n  IMX_API_KEY: {b64}\n",
        "logs/app.jsonl": json.dumps({"level": "info", "msg": f"calling with {secret}"}).replace("-test-", "\\u002dtest\\u002d") + "\n",
        "notes/url.txt": f"curl 'https://api.example.com/v1/orders?api_key={urllib.parse.quote(secret, safe='')}&limit=5'\n",
        "conf/hex.env": f"IMX_KEY_HEX={secret.encode().hex()}\n",
        "src/obf.js": "const k = atob(\"" + base64.b64encode(secret.encode()).decode() + "\");\n",
        "src/escaped.js": 'const k = "' + "".join(f"\\x{ord(c):02x}" for c in secret) + '";\n',
    }
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(content)
    res = run_keyscan("scan", ".", "--format", "json", cwd=tmp_path)
    assert res.code == 1, res.err
    report = json.loads(res.out)
    got = {f["path"]: f for f in report["findings"]}
    want_kind = {"k8s/secret.yaml": "base64", "logs/app.jsonl": "js-escape", "notes/url.txt": "percent", "conf/hex.env": "hex", "src/obf.js": "base64", "src/escaped.js": "js-escape"}
    assert set(got) == set(files)
    for rel, kind in want_kind.items():
        f = got[rel]
        assert f["source"]["decoded"] == [kind], rel
        assert f["secret"].startswith("sk_imapik-test-") and secret not in res.out
        # The location is the encoded text: its line, and a column inside it.
        line = files[rel].splitlines()[f["line"] - 1]
        assert secret not in line
        assert f["column"] - 1 <= line.find(secret[:4]) if secret[:4] in line else True
    assert got["k8s/secret.yaml"]["line"] == 6 and got["k8s/secret.yaml"]["column"] == files["k8s/secret.yaml"].splitlines()[5].index(b64) + 1
    hexline = files["conf/hex.env"].splitlines()[0]
    assert got["conf/hex.env"]["column"] == hexline.index("=") + 2
    assert got["src/escaped.js"]["column"] == files["src/escaped.js"].index("\\x") + 1


# --- offsets to lines -----------------------------------------------------------


class _TableIndex:
    """LineIndex as a full table of line starts (the straightforward way)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]

    def position(self, offset):
        import bisect

        line = bisect.bisect_right(self.starts, offset) - 1
        return line, offset - self.starts[line]

    def _end(self, line):
        return self.starts[line + 1] - 1 if line + 1 < len(self.starts) else len(self.text)

    def line_text(self, line, limit=4096):
        start = self.starts[line]
        return self.text[start:min(self._end(line), start + limit)].rstrip("\r")

    def around(self, offset, radius=2048):
        line, _ = self.position(offset)
        return self.text[max(self.starts[line], offset - radius):min(self._end(line), offset + radius)].rstrip("\r")


def _ask(index, text: str, rnd: random.Random) -> list:
    out = []
    for _ in range(60):
        how = rnd.randrange(5)
        offset = rnd.randint(-3, len(text) + 3)
        limit = rnd.choice([1, 3, 8, 4096])
        try:
            if how == 4:  # a line near one looked up: the previous line, the next
                out.append(index.line_text(index.position(offset)[0] + rnd.randint(-3, 3), limit))
            elif how == 0:
                out.append(index.position(offset))
            elif how == 1:
                out.append(index.around(offset, limit))
            elif how == 2:
                out.append(index.line_text(index.position(offset)[0], limit))
            else:
                out.append(index.line_text(rnd.randint(-2, text.count("\n") + 2), limit))
        except IndexError:
            out.append("IndexError")
    return out


def test_line_index_answers_as_a_table_of_lines():
    from keyscan.decode.offsets import LineIndex

    rnd = random.Random(6)
    for _ in range(400):
        text = "".join(rnd.choice(["a", "bc", "\n", "\r\n", "\n\n", "é", "x" * 20]) for _ in range(rnd.randint(0, 40)))
        seed = rnd.random()
        assert _ask(LineIndex(text), text, random.Random(seed)) == _ask(_TableIndex(text), text, random.Random(seed)), repr(text)


def test_line_index_of_a_large_text_with_one_lookup_is_cheap():
    from keyscan.decode.offsets import LineIndex

    text = "x = 1\n" * 2_000_000  # 12 MB, 2 million lines
    t0 = time.process_time()
    for _ in range(20):
        index = LineIndex(text)
        assert index.position(len(text) - 3) == (1_999_999, 3)
        assert index.line_text(1_999_999) == "x = 1"
    # A table of every line takes about 0.2 s per text.
    assert time.process_time() - t0 < 1.5


def test_line_index_walks_to_lines_near_known_ones_and_tables_the_rest():
    from keyscan.decode import offsets

    text = "".join(f"line {i}\n" for i in range(1_000))
    table = _TableIndex(text)
    index = offsets.LineIndex(text)
    assert index.position(text.index("line 500")) == (500, 0)
    for line in (499, 436, 501, 564):  # within _WALK of line 500
        assert index.line_text(line) == table.line_text(line) == f"line {line}"
    assert index._table is None
    assert index.line_text(900) == "line 900"  # far: the table is made
    assert index._table is not None


def test_many_lookups_in_one_long_line_are_cheap():
    from keyscan.decode.offsets import LineIndex

    # A minified bundle: 8 MB on one line, 1,000 matches found by 5 rules,
    # each rule's in order; and 1,000 more in no order.
    text = "var a=1;" * 1_000_000 + "\n" + "b" * 100
    rnd = random.Random(2)
    offsets = [o for _ in range(5) for o in sorted(rnd.randrange(len(text)) for _ in range(200))]
    offsets += [rnd.randrange(len(text)) for _ in range(1_000)]
    t0 = time.process_time()
    index = LineIndex(text)
    for o in offsets:
        assert index.position(o) == ((0, o) if o <= 8_000_000 else (1, o - 8_000_001))
        index.around(o)
    # Counting from the start of the text for each would read 8 GB.
    assert time.process_time() - t0 < 1.0
    assert index._table is None
