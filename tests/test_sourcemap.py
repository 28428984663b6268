"""The source map v3 parser: VLQ, mappings lookups, index maps, paths, and
untrusted input."""
from __future__ import annotations

import json
import random
import time
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyscan.sources import sourcemap as sm
from keyscan.sources.sourcemap import (
    Mappings,
    SourceMapError,
    decode_vlq,
    encode_vlq,
    parse,
    source_path,
)

ints = st.integers(min_value=-(2**30) + 1, max_value=2**30 - 1)


@given(st.lists(ints, max_size=40))
def test_vlq_round_trip(values):
    assert decode_vlq(encode_vlq(values)) == values


@pytest.mark.parametrize(
    "text, values",
    [("A", [0]), ("C", [1]), ("D", [-1]), ("gB", [16]), ("hB", [-16]), ("AAgBC", [0, 0, 16, 1]), ("2HwcrxB", [123, 456, -789]), ("2HwcqxB", [123, 456, 789])],
)
def test_vlq_known_values(text, values):
    # Values worked out by hand from the spec: 5 bits per digit, low bit of
    # the first digit is the sign, 32 marks a continuation.
    assert decode_vlq(text) == values


@pytest.mark.parametrize("bad", ["A!", "g", "gggggggggA", "Zz*"])
def test_vlq_rejects_bad_input(bad):
    with pytest.raises(SourceMapError):
        decode_vlq(bad)


def encode_mappings(lines: list[list[tuple]]) -> str:
    """Mappings text for absolute segments (col,) or (col, src, line, scol[, name])."""
    out_lines = []
    prev = [0, 0, 0, 0]
    for segs in lines:
        col_prev = 0
        parts = []
        for seg in segs:
            vals = [seg[0] - col_prev]
            col_prev = seg[0]
            if len(seg) >= 4:
                vals += [seg[1] - prev[0], seg[2] - prev[1], seg[3] - prev[2]]
                prev[0:3] = seg[1:4]
            if len(seg) == 5:
                vals.append(seg[4] - prev[3])
                prev[3] = seg[4]
            parts.append(encode_vlq(vals))
        out_lines.append(",".join(parts))
    return ";".join(out_lines)


segment = st.one_of(
    st.tuples(st.integers(0, 500)),
    st.tuples(st.integers(0, 500), st.integers(0, 2), st.integers(0, 300), st.integers(0, 200)),
    st.tuples(st.integers(0, 500), st.integers(0, 2), st.integers(0, 300), st.integers(0, 200), st.integers(0, 3)),
)
lines_of_segments = st.lists(st.lists(segment, max_size=12).map(lambda segs: sorted(segs, key=lambda s: s[0])), max_size=8)


def brute_lookup(lines, line, col):
    if line >= len(lines):
        return None
    best = None
    for seg in lines[line]:
        if seg[0] <= col:
            best = seg  # sorted: the last one not past col
    if best is None or len(best) == 1:
        return None
    return best


@given(lines_of_segments, st.lists(st.tuples(st.integers(0, 9), st.integers(0, 520)), max_size=30))
def test_lookup_matches_brute_force(lines, queries):
    m = Mappings(encode_mappings(lines), n_sources=3, n_names=4)
    for line, col in queries:
        got = m.lookup(line, col)
        want = brute_lookup(lines, line, col)
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert (got.source, got.line, got.column) == tuple(want[1:4])
            assert got.name == (want[4] if len(want) == 5 else -1)
    assert not m.problems


@given(lines_of_segments)
def test_segments_round_trip(lines):
    m = Mappings(encode_mappings(lines), n_sources=3, n_names=4)
    got = [(line, tuple(x for x in seg[:1]) if seg.source < 0 else (seg.generated_column, seg.source, seg.line, seg.column) + ((seg.name,) if seg.name >= 0 else ())) for line, seg in m.segments()]
    want = [(n, seg) for n, segs in enumerate(lines) for seg in segs]
    assert got == want


def test_out_of_range_indices_are_problems_not_crashes():
    m = Mappings(encode_mappings([[(0, 5, 0, 0), (4, 0, 1, 2, 9)]]), n_sources=1, n_names=1)
    assert m.lookup(0, 2) is None
    seg = m.lookup(0, 4)
    assert seg is not None and seg.name == -1
    assert any("source index 5" in p for p in m.problems)
    assert any("name index 9" in p for p in m.problems)


def test_bad_vlq_keeps_earlier_lines():
    m = Mappings(encode_mappings([[(0, 0, 3, 1)]]) + ";AA!A;AAAA", n_sources=1, n_names=0)
    assert m.lookup(0, 10).line == 3
    assert m.lookup(2, 0) is None
    assert m.problems and "bad VLQ" in m.problems[0]


def test_unsorted_line_still_finds_the_right_segment():
    text = encode_vlq([10, 0, 5, 0]) + "," + encode_vlq([-10, 0, 1, 0])  # col 10 then col 0
    m = Mappings(text, 1, 0)
    assert m.lookup(0, 3).line == 6 and m.lookup(0, 12).line == 5


def map_json(lines, sources=("a.ts", "b.ts", "c.ts"), **extra):
    data = {"version": 3, "sources": list(sources), "names": ["w", "x", "y", "z"], "mappings": encode_mappings(lines)}
    data.update(extra)
    return data


def test_index_map_sections():
    first = map_json([[(0, 0, 0, 0)], [(0, 0, 1, 0)]], sources=["one.ts"])
    second = map_json([[(0, 0, 7, 2), (5, 0, 8, 0)], [(0, 0, 9, 0)]], sources=["two.ts"])
    index = {"version": 3, "sections": [{"offset": {"line": 0, "column": 0}, "map": first}, {"offset": {"line": 1, "column": 20}, "map": second}]}
    smap = parse(json.dumps(index), "dist/app.js.map")
    assert smap.lookup(1, 3).path == "dist/one.ts" and smap.lookup(1, 3).line == 1
    hit = smap.lookup(1, 26)  # 6 columns into the second section
    assert (hit.path, hit.line, hit.column) == ("dist/two.ts", 8, 0)
    assert smap.lookup(1, 22).line == 7
    assert smap.lookup(2, 1).line == 9  # a later line: columns are no longer offset
    assert smap.lookup(3, 0) is None


@pytest.mark.parametrize(
    "sections, message",
    [
        ("nope", "'sections' is not a list"),
        ([{"map": {}}], "no 'offset'"),
        ([{"offset": {"line": 2, "column": 0}, "map": {"mappings": ""}}, {"offset": {"line": 1, "column": 0}, "map": {"mappings": ""}}], "out of order"),
        ([{"offset": {"line": 0, "column": 0}, "map": {"sections": []}}], "index map inside"),
    ],
)
def test_bad_sections(sections, message):
    with pytest.raises(SourceMapError, match=message):
        parse(json.dumps({"version": 3, "sections": sections}), "x.map")


@pytest.mark.parametrize(
    "source, root, map_path, want",
    [
        ("../src/api/client.ts", "", "dist/app.js.map", "src/api/client.ts"),
        ("api/client.ts", "../src", "dist/app.js.map", "src/api/client.ts"),
        ("api/client.ts", "../src/", "dist/assets/app.js.map", "dist/src/api/client.ts"),
        ("webpack://my-app/./src/api/client.ts", "", "build/static/js/main.js.map", "src/api/client.ts"),
        ("webpack:///./src/api/client.ts", "", "build/main.js.map", "src/api/client.ts"),
        ("webpack:///webpack/bootstrap", "", "build/main.js.map", "webpack/bootstrap"),
        ("src/api/client.ts", "webpack://app/", "out/a.js.map", "src/api/client.ts"),
        ("file:///home/ada/app/src/x.ts", "", "dist/a.js.map", "/home/ada/app/src/x.ts"),
        ("https://example.com/src/x.ts", "", "dist/a.js.map", "src/x.ts"),
        ("C:\\work\\app\\src\\x.ts", "", "dist/a.js.map", "C:/work/app/src/x.ts"),
        ("../src/index.ts", "", "pkg.tgz!package/dist/index.js.map", "pkg.tgz!package/src/index.ts"),
        ("./x.ts", "", "a.js.map", "x.ts"),
        ("../../../up.ts", "", "dist/a.js.map", "../../up.ts"),
    ],
)
def test_source_paths(source, root, map_path, want):
    assert source_path(source, root, map_path) == want


def test_sources_content_and_xssi_prefix():
    data = ")]}'\n" + json.dumps(map_json([[(0, 1, 0, 0)]], sources=["a.ts", None], sourcesContent=["A", "B", "extra"]))
    smap = parse(data, "m.js.map")
    assert list(smap.every_content()) == [("a.ts", "A"), ("m.js.map#source1", "B"), ("m.js.map#source2", "extra")]
    assert any("'sourcesContent' has 3 entries" in p for p in smap.all_problems())


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.sampled_from(["version", "sources", "sourcesContent", "names", "mappings", "sections", "offset", "map", "line", "column", "sourceRoot", "file"]), inner, max_size=6),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None)
@given(json_values, st.lists(st.tuples(st.integers(-2, 5), st.integers(-2, 50)), max_size=5))
def test_parser_never_crashes_on_json(value, queries):
    try:
        smap = parse(json.dumps(value), "dist/x.js.map")
    except SourceMapError as exc:
        assert "\n" not in str(exc)
        return
    for line, col in queries:
        smap.lookup(line, col)
    list(smap.every_content())
    smap.all_problems()


@settings(max_examples=300)
@given(st.text(max_size=200) | st.binary(max_size=200))
def test_parser_never_crashes_on_text(data):
    try:
        smap = parse(data, "x.map")
    except SourceMapError:
        return
    smap.lookup(0, 0)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/,;!", max_size=300), st.integers(0, 5), st.integers(0, 80))
def test_mappings_never_crash(text, line, col):
    m = Mappings(text, 2, 2)
    m.lookup(line, col)
    list(m.segments())


def _outcome(data, monkeypatch, fast: bool):
    """What ``parse`` makes of ``data`` with orjson (``fast``) or with the
    standard library alone: the map's readable state, or the error."""
    monkeypatch.setattr(sm, "_orjson", sm._orjson if fast else None)
    try:
        smap = parse(data, "dist/x.js.map")
    except SourceMapError as exc:
        return ("error", str(exc))
    return ("map", smap.file, smap.sources, smap.paths, smap.contents, smap.names, smap._mappings_text,
            [(line, col, sub.sources, sub.contents) for line, col, sub in smap.sections], smap.all_problems())


TRICKY_MAPS = [
    b'{"version":3,"sources":["a.js"],"sourcesContent":["k = 1"],"mappings":"AAAA"}',
    b'\xef\xbb\xbf  {"version":3,"sources":["a.js"],"mappings":""}',
    b')]}\'\n{"version":3,"sources":["\\ud83d\\ude00.js"],"mappings":";;"}',
    b'{"version":3,"sources":["\\ud800.js"],"sourcesContent":["lone \\udc80"],"mappings":""}',  # lone surrogates
    b'{"version":123456789012345678901234567890,"sources":[],"mappings":""}',  # beyond 64 bits
    b'{"version":3.0,"sources":[],"mappings":""}',
    b'{"version":true,"sources":[],"mappings":""}',
    b'{"version":2,"sources":[],"mappings":""}',
    b'{"version":3,"sources":[NaN],"mappings":""}',
    b'{"version":3,"sources":[1e999, 12345678901234567890123],"names":[1.5],"mappings":""}',
    b'{"version":3,"sections":[{"offset":{"line":0,"column":0},"map":{"version":3,"sources":["s.js"],"sourcesContent":["x"],"mappings":"AAAA"}}]}',
    b'{"version":3,"sections":[{"offset":{"line":99999999999999999999,"column":0},"map":{"version":3,"sources":[],"mappings":""}}]}',
    b'{"version":3,"sources":["a.js"],"mappings":"AAAA"} trailing',
    b'{"version":3,"sources":["a.js"],"mappings":"AAAA",}',
    b'{"version":3,"sources":["\xff"],"mappings":""}',  # not UTF-8
    b'{"version":3,"sources":["a\tb"],"mappings":""}',  # a raw control character
    b'\x0b{"version":3,"sources":[],"mappings":""}',  # whitespace JSON does not allow
    b'\x1c\xc2\xa0 {"version":3,"sources":[],"mappings":""}',  # blanks str.lstrip takes and bytes.lstrip leaves
    b'\x0c)]}\'\n\x1c{"version":3,"sources":["p.js"],"mappings":""}',
    b')]}\'',  # the prefix and nothing else
    b'[1, 2]',
    b'{"sources":[]}',
    b'{"a":1,"a":{"version":3},"mappings":"","sources":["x"],"sources":["y"]}',
    b"[" * 2000 + b"]" * 2000,
]


@pytest.mark.parametrize("data", TRICKY_MAPS)
def test_orjson_and_the_standard_library_read_maps_alike(data, monkeypatch):
    """orjson is only a faster way to the same result: on documents where
    the two parsers differ (lone surrogates, NaN, huge integers, nesting,
    BOM and XSSI prefix, bad UTF-8), the map read or the error given is the
    one the standard library path gives."""
    if sm._orjson is None:
        pytest.skip("orjson not installed")
    assert _outcome(data, monkeypatch, fast=True) == _outcome(data, monkeypatch, fast=False)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_orjson_and_the_standard_library_read_any_json_alike(value):
    if sm._orjson is None:
        return
    data = json.dumps(value).encode()
    with pytest.MonkeyPatch.context() as mp:
        assert _outcome(data, mp, fast=True) == _outcome(data, mp, fast=False)


def test_deeply_nested_json_is_an_error():
    with pytest.raises(SourceMapError):
        parse("[" * 100_000 + "]" * 100_000, "x.map")


def test_decoding_is_linear_in_one_long_line():
    """Half a million segments on one generated line (a minified bundle):
    decoded once, then every lookup is a binary search."""
    n = 500_000
    text = "AAAA," + ",".join(["CAAC"] * (n - 1))
    t0 = time.perf_counter()
    m = Mappings(text, 1, 0)
    assert m.lookup(0, n - 1).column == n - 1
    first = time.perf_counter() - t0
    t0 = time.perf_counter()
    for col in range(0, n, 50):
        assert m.lookup(0, col).column == col
    lookups = time.perf_counter() - t0
    assert first < 15, first
    assert lookups < 2, lookups


# --- the fast decoder against the straightforward one ----------------------
#
# Mappings decodes with _FastMappings (string splitting, memoised segments,
# C-level sums) and falls back to the straightforward per-segment decoder on
# anything unusual. Both must give the same segments, the same lookups and
# the same problems, after every lookup (the report lists problems found so
# far), whatever the text.


@contextmanager
def small_pieces(piece: int, memo: int):
    """Decode in tiny pieces with tiny memos, so that cuts inside lines,
    between lines and the memos' clearing all happen on small inputs."""
    old = sm._PIECE, sm._MEMO_MAX
    sm._PIECE, sm._MEMO_MAX = piece, memo
    try:
        yield
    finally:
        sm._PIECE, sm._MEMO_MAX = old
        sm._SEGMENTS.clear()


def assert_same_decoding(text: str, n_sources: int, n_names: int, queries) -> Mappings:
    fast = Mappings(text, n_sources, n_names)
    slow = Mappings(text, n_sources, n_names, fast=False)
    for line, col in queries:
        assert fast.lookup(line, col) == slow.lookup(line, col), (line, col)
        assert fast.problems == slow.problems, (line, col)
    assert list(fast.segments()) == list(slow.segments())
    assert fast.problems == slow.problems
    return fast


# Relative segments as they are written, so that anything can be expressed:
# out-of-range indices, negative values, lines out of column order.
raw_segment = st.one_of(
    st.tuples(st.integers(-3, 40)),
    st.tuples(st.integers(-3, 40), st.integers(-2, 3), st.integers(-5, 20), st.integers(-5, 20)),
    st.tuples(st.integers(-3, 40), st.integers(-2, 3), st.integers(-5, 20), st.integers(-5, 20), st.integers(-2, 4)),
)
raw_lines = st.lists(st.lists(raw_segment, max_size=8), max_size=10)
queries = st.lists(st.tuples(st.integers(0, 11), st.integers(0, 300)), max_size=12)


def raw_text(lines) -> str:
    return ";".join(",".join(encode_vlq(seg) for seg in segs) for segs in lines)


@settings(max_examples=300, deadline=None)
@given(raw_lines, queries, st.integers(0, 4), st.integers(0, 4), st.sampled_from([(1, 2), (3, 1), (8, 5), (64 * 1024, 32_768)]))
def test_fast_decoder_matches_straightforward_on_any_segments(lines, queries, n_sources, n_names, sizes):
    with small_pieces(*sizes):
        assert_same_decoding(raw_text(lines), n_sources, n_names, queries)


@settings(max_examples=300, deadline=None)
@given(lines_of_segments, queries, st.sampled_from([(1, 2), (5, 3), (64 * 1024, 32_768)]))
def test_fast_decoder_is_used_on_well_formed_maps(lines, queries, sizes):
    with small_pieces(*sizes):
        m = assert_same_decoding(encode_mappings(lines), 3, 4, queries)
    assert m._fast is not None  # it did not give up: the results above are its own


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="AACgB/+9zf,;;,!= ", max_size=120), queries, st.sampled_from([(2, 2), (64 * 1024, 32_768)]))
def test_fast_decoder_matches_straightforward_on_any_text(text, queries, sizes):
    with small_pieces(*sizes):
        assert_same_decoding(text, 2, 2, queries)


@pytest.mark.parametrize(
    "text, n_sources, n_names, where",
    [
        ("AAAA;AACA,CAAC;ZAAA", 1, 0, "a negative column"),  # Z: -12 on line 2
        ("AAAA,KAAK,DAAD", 1, 0, "out of column order"),  # col 0, 5, 4
        ("AAAA;AgBAA", 1, 0, "source index 16"),
        ("AAAA;AADA", 1, 0, "negative line"),
        ("AAAA;AAAD", 1, 0, "negative column"),
        ("AAAAA;AAAAD", 1, 1, "name index -1"),
        ("AAAA;AA", 1, 0, "2 fields"),
        ("AAAA;AAAAAA", 1, 0, "6 fields"),
        ("AAAA;gggggggggA", 1, 0, "too large"),
        ("AAAA;AA\nAA", 1, 0, "a newline"),
        ("AAAA;;,AAAA", 1, 0, "an empty segment"),
        ("AAAA;AAAA,", 1, 0, "a trailing comma"),
    ],
)
def test_fast_decoder_hands_problems_to_straightforward(text, n_sources, n_names, where):
    # Line 0 is fine in every case: a lookup there reports nothing, one on
    # line 1 reports what the straightforward decoder reports.
    m = assert_same_decoding(text, n_sources, n_names, [(0, 0), (1, 3), (2, 0)])
    assert m._fast is None, where
    if where not in ("out of column order", "an empty segment", "a trailing comma"):
        assert m.problems, where


def test_fast_decoder_on_a_large_realistic_map():
    """A plain-bundle map (thousands of short lines, repeated segments) and
    a minified one (one long line): same lookups as the straightforward
    decoder on every line, and the fast one does not give up."""
    rnd = random.Random(7)
    plain, minified = [], [[]]
    src = line = 0
    for n in range(4000):
        segs, col = [], 0
        for _ in range(rnd.randrange(0, 6)):
            col += rnd.randrange(1, 30)
            src = rnd.randrange(3) if rnd.random() < 0.01 else src
            line += rnd.randrange(0, 2)
            seg = (col, src, line, rnd.randrange(0, 80)) + ((rnd.randrange(4),) if rnd.random() < 0.3 else ())
            segs.append(seg if rnd.random() < 0.98 else (col,))
        plain.append(segs)
        minified[0].extend((s[0] + n * 200,) + s[1:] for s in segs)
    for lines in (plain, minified):
        text = encode_mappings(lines)
        fast, slow = Mappings(text, 3, 4), Mappings(text, 3, 4, fast=False)
        for n, segs in enumerate(lines):
            for seg in segs[:3]:
                for col in (seg[0], seg[0] + 1):
                    assert fast.lookup(n, col) == slow.lookup(n, col)
        assert fast._fast is not None and not fast.problems and not slow.problems


def test_fast_decoder_stays_linear_on_hostile_mappings():
    """Long runs without separators, or separators of one kind only, must
    not make cutting the text into pieces quadratic."""
    cases = [
        ";".join(["AAAA"] * 100_000),  # no commas at all
        "AAAA;" + "g" * 300_000 + ";AAAA",  # one huge bad segment (was quadratic to match)
        ";".join(["g" * 40] * 20_000),  # many bad ones
        ",".join(["AAAA"] + ["CAAC"] * 100_000),  # no semicolons
    ]
    for text in cases:
        t0 = time.process_time()
        assert_same_decoding(text, 1, 0, [(0, 0), (1, 0), (3, 1)])
        assert time.process_time() - t0 < 10
