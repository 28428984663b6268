"""Property-based fuzzing of every parser of untrusted input: the rule
loader, the decoders, the source map parser, the archive reader and the
parsers of git's output. Each property says what must hold for any input;
the number of examples is scaled by ADVERSARIAL_FUZZ_FACTOR (see support.py)."""
from __future__ import annotations

import base64
import bz2
import gzip
import io
import json
import lzma
import string
import tarfile
import tomllib
import urllib.parse
import warnings
import zipfile

from hypothesis import assume, given, strategies as st

from helpers import fake_immutable_secret
from keyscan.decode import MAX_DEPTH, MAX_OUTPUT, decoded_variants
from keyscan.engine import Engine
from keyscan.errors import RuleFileError
from keyscan.models import Fragment, Stats
from keyscan.rulefile import builtin_rules_dir, load_ruleset, parse_rule_file
from keyscan.scan import scan_fragment

from .support import fuzz

KEY = fake_immutable_secret(seed=1101)
ENGINE = Engine(load_ruleset())

# --- a small TOML writer (tomllib only reads) ----------------------------------


def toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string for anything json.dumps writes
    if isinstance(v, list):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(x)}" for k, x in v.items()) + "}"
    raise TypeError(type(v))


def toml_doc(doc: dict) -> str:
    """Top-level keys, then [[rule]] tables, each with its sub-tables
    written as [rule.x] / [[rule.x]]."""
    out = [f"{json.dumps(k)} = {toml_value(v)}" for k, v in doc.items() if k != "rule"]
    rules = doc.get("rule", [])
    if not isinstance(rules, list) or not all(isinstance(r, dict) for r in rules):
        return "\n".join(out + [f"rule = {toml_value(rules)}"]) + "\n"
    for rule in rules:
        out.append("[[rule]]")
        subs = []
        for k, v in rule.items():
            if isinstance(v, dict) and v:
                subs.append((f"[rule.{json.dumps(k)}]", v))
            elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
                subs += [(f"[[rule.{json.dumps(k)}]]", x) for x in v]
            else:
                out.append(f"{json.dumps(k)} = {toml_value(v)}")
        for header, table in subs:
            out.append(header)
            out += [f"{json.dumps(k)} = {toml_value(v)}" for k, v in table.items()]
    return "\n".join(out) + "\n"


def _real_docs() -> list[dict]:
    docs = []
    for path in sorted(builtin_rules_dir().glob("*.toml"))[:40]:
        doc = tomllib.loads(path.read_text())
        if toml_doc(doc) and tomllib.loads(toml_doc(doc)) == doc:
            docs.append(doc)
    return docs


REAL_DOCS = _real_docs()

toml_scalars = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["secret", "publishable", "credential", "generic", "production", "test", "sandbox", "https://example.com", "(?P<secret>x+)", "(?P<secret>", "[", "(?P<secret>a)(?P<env>b)", "**/*.js", "!", "\\", ""]),
    st.integers(-10, 10),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.booleans(),
)
toml_values = st.recursive(toml_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)


def _paths_in(doc, prefix=()):
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths_in(v, prefix + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths_in(v, prefix + (i,))


@st.composite
def mutated_rule_docs(draw):
    """A real rule file with a few of its values replaced, removed or added
    (any TOML type, at any depth)."""
    import copy

    doc = copy.deepcopy(draw(st.sampled_from(REAL_DOCS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = [p for p in _paths_in(doc) if p]
        path = draw(st.sampled_from(paths))
        parent = doc
        for k in path[:-1]:
            parent = parent[k]
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["extra", "paths", "placeholders", "validator", "severity", "environment", "min_entropy", "tags"]))] = draw(toml_values)
        else:
            parent[path[-1]] = draw(toml_values)
    return doc


def _exercise(rules) -> None:
    """What a scan does with a rule: path filters, compile, match, environment."""
    for rule in rules:
        rule.applies_to("src/app/config.js")
        rule.applies_to("dist/x.min.js")
        for ex in rule.examples:
            m = rule.pattern.search(ex.text)
            if m is not None:
                rule.environment_of(m)
        rule.placeholders  # noqa: B018 - compiles them


@fuzz(150)
@given(mutated_rule_docs())
def test_rule_loader_takes_any_mutated_rule_file(doc):
    """Real rule files with values replaced by any TOML value, removed, or
    keys added: the loader either returns rules that work (path filters,
    regexes, placeholders and environments all usable) or raises
    RuleFileError whose message is one line naming the file; never another
    exception."""
    data = toml_doc(doc).encode()
    try:
        rules = parse_rule_file(data, "fuzz.toml", validate=True)
    except RuleFileError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("fuzz.toml")
        return
    _exercise(rules)


@fuzz(150)
@given(st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_rule_loader_takes_any_bytes(data):
    """Arbitrary bytes as a rule file: RuleFileError (not UTF-8, invalid
    TOML, missing 'format') with a one-line message, or no rules."""
    try:
        rules = parse_rule_file(data, "fuzz.toml", validate=True)
    except RuleFileError as exc:
        assert "\n" not in str(exc)
        return
    _exercise(rules)


# --- decoders ------------------------------------------------------------------


def _b64(s: str) -> str:
    return base64.b64encode(s.encode("utf-8", "surrogatepass")).decode()


def _pct(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def _js(s: str) -> str:
    return "".join(f"\\u{ord(c):04x}" if ord(c) < 0x10000 else c for c in s)


def _hex(s: str) -> str:
    return s.encode("utf-8", "surrogatepass").hex()


ENCODERS = {"base64": _b64, "percent": _pct, "js-escape": _js, "hex": _hex}
plain = st.text(alphabet=string.ascii_letters + string.digits + " =:\"'\n%\\+/_-", max_size=40) | st.just(f"IMX_API_KEY={KEY} ")
layered = st.recursive(plain, lambda inner: st.tuples(st.sampled_from(sorted(ENCODERS)), inner).map(lambda kv: ENCODERS[kv[0]](kv[1])), max_leaves=6)


@fuzz(200)
@given(st.lists(layered, min_size=1, max_size=6), st.sampled_from(["", " ", "\n", '"', "&", "%", "\\"]))
def test_decoders_stay_inside_the_text_and_their_budget(pieces, sep):
    """Text made of plain pieces and pieces encoded in layers (base64,
    percent, JavaScript escapes, hex, in any order and depth): every
    decoded variant lies inside the text, at most MAX_DEPTH decoders deep,
    with a non-decreasing offset map from its characters back into that
    span, and all decoded text together stays under the output budget."""
    text = sep.join(pieces)
    total = 0
    for v in decoded_variants(text):
        assert 0 <= v.start <= v.end <= len(text)
        assert 1 <= len(v.kinds) <= MAX_DEPTH and set(v.kinds) <= set(ENCODERS)
        total += len(v.text)
        if v.offsets is not None:
            offs = list(v.offsets)
            assert len(offs) == len(v.text) + 1
            assert all(v.start <= o <= v.end for o in offs) and offs == sorted(offs)
    assert total <= MAX_OUTPUT


@fuzz(100)
@given(st.lists(st.sampled_from(sorted(ENCODERS)), min_size=1, max_size=MAX_DEPTH), st.text(alphabet=" \n\"'", max_size=3))
def test_a_key_under_up_to_three_layers_is_found(chain, around):
    """A key line wrapped in up to three layers of any of the encodings is
    found by the engine, reported at the outer run, with its decoders, as
    long as each layer's encoded run fits the decoders' token limit (4,096
    characters for escapes; three layers of JavaScript escapes of one line
    do not: their innermost layer is cut and what it hides is missed)."""
    text = f"IMX_API_KEY={KEY} "
    for kind in chain:
        text = ENCODERS[kind](text)
    assume(len(text) <= 4_000)
    found, _, _ = scan_fragment(ENGINE, Fragment.from_text(f"v = {around}{text}{around}\n", "f.txt"))
    assert KEY in {f.secret for f in found}, chain


# --- source maps -----------------------------------------------------------------

from keyscan.sources.sourcemap import SourceMapError, map_fragments, parse  # noqa: E402

vlq = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/", min_size=1, max_size=8)
mappings = st.lists(st.lists(vlq, max_size=6).map(",".join), max_size=8).map(";".join) | st.text(alphabet="AgC+/,;=!", max_size=60)
hostile_strings = st.text(max_size=20) | st.sampled_from(["../../../etc/passwd", "/abs/x.ts", "webpack:///./src/a.ts", "file:///C:/x.ts", "data:text/plain,x", "C:\\\\x.ts", "\x00", "\u202e", f"src/{KEY}.ts"])


@st.composite
def source_maps(draw, depth=0):
    raw = {"version": draw(st.sampled_from([3, 3, 3, 2, "3", None]))}
    if depth == 0 and draw(st.integers(0, 4)) == 0:
        raw["sections"] = [
            {"offset": {"line": draw(st.integers(-1, 5)), "column": draw(st.integers(-1, 50))}, "map": draw(source_maps(depth=1))}
            for _ in range(draw(st.integers(0, 3)))
        ]
        return raw
    n = draw(st.integers(0, 4))
    raw["sources"] = draw(st.lists(hostile_strings | st.none() | st.integers(), min_size=n, max_size=n))
    raw["sourcesContent"] = draw(st.lists(st.none() | st.text(max_size=40) | st.just(f"K = '{KEY}'"), max_size=n + 2))
    raw["names"] = draw(st.lists(st.text(max_size=5), max_size=3))
    raw["mappings"] = draw(mappings)
    if draw(st.booleans()):
        raw["sourceRoot"] = draw(hostile_strings)
    return raw


@fuzz(200)
@given(source_maps(), st.lists(st.tuples(st.integers(-1, 10), st.integers(-1, 200)), max_size=6))
def test_source_map_parser_takes_any_map(raw, queries):
    """Structurally plausible but hostile source maps (wrong versions, index
    maps with bad offsets, sources that are paths out of the tree, URLs,
    None or numbers, contents holding keys, random VLQ): parse raises only
    SourceMapError (one line) or gives a map whose lookups, problems and
    contents never raise; scanning it as a .map file never raises, and a
    key in its sources' contents is found."""
    data = json.dumps(raw).encode()
    try:
        smap = parse(data, "dist/app.js.map")
    except SourceMapError as exc:
        assert "\n" not in str(exc)
    else:
        for line, col in queries:
            orig = smap.lookup(line, col)
            assert orig is None or (orig.line >= 0 and orig.column >= 0)
        assert all("\n" not in p for p in smap.all_problems())
        list(smap.every_content())
    errors: list = []
    texts = []
    for frag in map_fragments(data, "dist/app.js.map", Stats(), errors):
        texts.append(frag.text)
    assert all("\n" not in e.message for e in errors)
    contents = [c for c in raw.get("sourcesContent") or [] if isinstance(c, str)]
    if f"K = '{KEY}'" in contents:
        assert any(KEY in t for t in texts)


# --- archives ----------------------------------------------------------------------

member_names = st.text(alphabet=string.ascii_letters + "./-_ \\é", min_size=1, max_size=20) | st.sampled_from(["../../escape.txt", "/etc/passwd", "package/dist/app.js", "package/dist/app.js.map", "inner.tgz", "a/b/c.env"])
members = st.lists(st.tuples(member_names, st.binary(max_size=200) | st.just(f"K = '{KEY}'\n".encode())), min_size=1, max_size=5)


def build_archive(kind: str, items) -> bytes:
    buf = io.BytesIO()
    if kind in ("tar", "tgz"):
        with tarfile.open(fileobj=buf, mode="w:gz" if kind == "tgz" else "w") as tf:
            for name, data in items:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tf.addfile(info, io.BytesIO(data))
    elif kind == "zip":
        with warnings.catch_warnings(), zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            warnings.simplefilter("ignore")  # duplicate names are part of the test
            for name, data in items:
                zf.writestr(name, data)
    else:
        data = b"".join(d for _, d in items)
        return {"gz": gzip.compress, "bz2": bz2.compress, "xz": lzma.compress}[kind](data)
    return buf.getvalue()


@fuzz(200)
@given(st.sampled_from(["tar", "tgz", "zip", "gz", "bz2", "xz"]), members, st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=6), st.floats(0.2, 1.0))
def test_archive_reader_takes_any_damaged_archive(tmp_path_factory, kind, items, flips, keep):
    """A valid archive of each kind (tar, tar.gz, zip, .gz, .bz2, .xz) with
    hostile member names, then bytes overwritten and the end cut off: the
    reader yields fragments and one-line notes, never an exception, never
    writes a file; the undamaged archive's key is always found."""
    from keyscan.sources import fragments_of
    from keyscan.sources.worktree import FileEntry

    folder = tmp_path_factory.mktemp("arc")
    suffix = {"tgz": ".tgz", "tar": ".tar", "zip": ".zip", "gz": ".txt.gz", "bz2": ".txt.bz2", "xz": ".txt.xz"}[kind]
    clean = build_archive(kind, items)
    damaged = bytearray(clean)
    for where, value in flips:
        damaged[int(where * (len(damaged) - 1))] = value
    damaged = bytes(damaged[: max(1, int(len(damaged) * keep))])
    for data, intact in ((clean, True), (damaged, damaged == clean)):
        path = folder / f"pkg{suffix}"
        path.write_bytes(data)
        errors: list = []
        found = set()
        for frag in fragments_of(FileEntry(str(path), f"pkg{suffix}"), Stats(), errors):
            found |= {f.secret for f in scan_fragment(ENGINE, frag)[0]}
        assert all("\n" not in e.message for e in errors)
        whole = b"".join(d for _, d in items)
        if intact and kind in ("gz", "bz2", "xz") and KEY.encode() in whole and b"\0" not in whole[:8192]:
            assert KEY in found
        assert sorted(p.name for p in folder.iterdir()) == [f"pkg{suffix}"]


# --- git output ----------------------------------------------------------------------

from keyscan.git import BlobList, _parse_log, line_heads, parse_listing, parse_patch, unquote  # noqa: E402

path_bytes = st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b and b"\n" not in b and b"/" not in b)
hexsha = st.text(alphabet="0123456789abcdef", min_size=40, max_size=40).map(str.encode).filter(lambda s: s != b"0" * 40)


@st.composite
def trees(draw, depth=0):
    """{name: blob sha | subtree} with unique names."""
    # A tree holds at least one entry: git cannot record an empty folder, and
    # an empty tree would look like a blob (read_blobs drops it later).
    names = draw(st.lists(path_bytes, min_size=1, max_size=4, unique=True))
    out = {}
    for name in names:
        out[name] = draw(trees(depth + 1)) if depth < 2 and draw(st.booleans()) else draw(hexsha)
    return out


def listing_of(tree, prefix=b""):
    """rev-list --objects lines for a tree's entries, depth first (a tree's
    line, then everything under it)."""
    for name, value in tree.items():
        path = prefix + name
        if isinstance(value, dict):
            yield b"f" * 40 + b" " + path + b"\n"
            yield from listing_of(value, path + b"/")
        else:
            yield value + b" " + path + b"\n"


def blobs_of(tree, prefix=b""):
    for name, value in tree.items():
        if isinstance(value, dict):
            yield from blobs_of(value, prefix + name + b"/")
        else:
            yield value, prefix + name


@fuzz(200)
@given(trees(), st.lists(hexsha, max_size=3))
def test_rev_list_listing_is_parsed_back_to_its_blobs(tree, missing):
    """rev-list --objects output for a random tree of random byte names
    (not UTF-8, spaces, quotes, dashes; never NUL, newline or slash, which
    git paths cannot hold), with a commit, the root tree and missing
    objects (?<id>) mixed in: parse_listing gives back exactly its blobs
    with their paths, and the missing ids."""
    lines = [b"c" * 40 + b"\n", b"e" * 40 + b" \n"]
    lines += list(listing_of(tree))
    lines += [b"?" + m + b"\n" for m in missing]
    got_missing: list = []
    got = list(parse_listing(lines, got_missing))
    want = list(blobs_of(tree))
    # A blob whose name happens to look like a subtree's prefix cannot be
    # told from a tree by position alone; rev-list order never puts one there.
    assume(len({p for _, p in want}) == len(want))
    assert got == want
    assert got_missing == [m.decode() for m in missing]
    listed = BlobList.of(got)
    assert [listed.sha(i).encode() for i in range(len(listed))] == [s for s, _ in want]


@fuzz(200)
@given(st.binary(max_size=400))
def test_git_output_parsers_take_any_bytes(data):
    """Whatever bytes git printed (a newer git, a broken pipe part way):
    the rev-list, log and diff parsers return what they understood and
    never raise."""
    list(parse_listing(data.split(b"\n"), []))
    parse_patch(data)
    parse_patch(line_heads(io.BytesIO(data), 16))
    unquote(data)
    try:
        list(_parse_log(io.BytesIO(data)))
    except ValueError:
        # A commit header whose time is not a number: git never prints one.
        pass


def git_quote(path: bytes) -> bytes:
    """How git (core.quotePath=true) writes a path in a diff header."""
    special = {0x07: b"\\a", 0x08: b"\\b", 0x09: b"\\t", 0x0A: b"\\n", 0x0B: b"\\v", 0x0C: b"\\f", 0x0D: b"\\r", 0x22: b'\\"', 0x5C: b"\\\\"}
    if not any(c < 0x20 or c >= 0x7F or c in (0x22, 0x5C) for c in path):
        return path
    out = bytearray(b'"')
    for c in path:
        if c in special:
            out += special[c]
        elif c < 0x20 or c >= 0x7F:
            out += b"\\%03o" % c
        else:
            out.append(c)
    return bytes(out + b'"')


@fuzz(200)
@given(st.lists(st.tuples(st.binary(min_size=1, max_size=16).filter(lambda b: b"\0" not in b and b"\n" not in b), hexsha, st.lists(st.tuples(st.integers(1, 500), st.integers(0, 20)), max_size=4)), max_size=4, unique_by=lambda t: t[0]))
def test_staged_diff_is_parsed_back_to_its_files_and_lines(files):
    """A 'git diff --cached -U0 --full-index' text for random files (names
    that need git's C quoting: tabs, quotes, backslashes, bytes past 0x7f)
    with random added ranges: parse_patch gives back each file's path,
    blob and ranges (ranges that add no line are dropped)."""
    chunks = []
    for name, blob, hunks in files:
        q = git_quote(b"b/" + name)
        chunks.append(b"diff --git " + git_quote(b"a/" + name) + b" " + q)
        chunks.append(b"new file mode 100644")
        chunks.append(b"index " + b"0" * 40 + b".." + blob)
        chunks.append(b"--- /dev/null")
        chunks.append(b"+++ " + q)
        for start, count in hunks:
            chunks.append(b"@@ -0,0 +%d,%d @@" % (start, count))
            chunks += [b"+line"] * count
            # A long content line: read in heads of 256 bytes, its rest (which
            # looks like a header) must be dropped, not parsed.
            chunks.append(b"+" + b"x" * 255 + b"diff --git a/q b/q")
    text = b"\n".join(chunks) + b"\n"
    got = [(f.path, f.blob, f.added) for f in parse_patch(text)]
    want = [(name, blob.decode(), tuple((s, c) for s, c in hunks if c > 0)) for name, blob, hunks in files]
    assert got == want
    # Read as staged_files reads it: line by line, content lines cut short.
    assert parse_patch(line_heads(io.BytesIO(text), 256)) == parse_patch(text)


@fuzz(150)
@given(st.lists(st.tuples(hexsha, st.binary(max_size=12).filter(lambda b: b"\0" not in b), st.binary(max_size=12).filter(lambda b: b"\0" not in b), st.integers(0, 2**33), st.binary(max_size=20).filter(lambda b: b"\0" not in b), st.lists(st.tuples(hexsha, hexsha, st.sampled_from([b"A", b"M", b"D", b"T"]), st.binary(min_size=1, max_size=12).filter(lambda b: b"\0" not in b)), max_size=3)), max_size=4))
def test_git_log_output_is_parsed_back_to_its_commits(commits):
    """'git log --raw -z' output in keyscan's format for commits whose
    author, email, subject and file names are any bytes but NUL (a subject
    or a file name starting with the record mark \\x01 included): every
    commit and change comes back as written."""
    out = b""
    for sha, author, email, when, subject, changes in commits:
        out += b"\x01" + sha + b"\0" + author + b"\0" + email + b"\0" + str(when).encode() + b"\0" + subject + b"\0"
        for old, new, status, path in changes:
            out += b"\n:100644 100644 " + old + b" " + new + b" " + status + b"\0" + path + b"\0"
    got = list(_parse_log(io.BytesIO(out)))
    assert [(c.sha, c.time, [(ch.old, ch.new, ch.status, ch.path) for ch in c.changes]) for c in got] == [
        (sha.decode(), when, [(o.decode(), n.decode(), s.decode(), p) for o, n, s, p in changes]) for sha, _, _, when, _, changes in commits
    ]
    assert [(c.author, c.email, c.subject) for c in got] == [(a.decode("utf-8", "replace"), e.decode("utf-8", "replace"), s.decode("utf-8", "replace")) for _, a, e, _, s, _ in commits]

