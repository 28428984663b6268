"""Fast paths give what the straightforward ways give: display_path against
os.path.relpath, the walk's display prefixes, bundle and map reading."""
import os

import pytest

from keyscan.sources.worktree import display_path


def _slow(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        rel = path
    if rel.startswith(".." + os.sep) or rel == "..":
        rel = os.path.abspath(path)
    return rel.replace(os.sep, "/")


def test_fast_path_matches_relpath(workdir):
    cwd = os.getcwd()
    paths = [
        f"{cwd}/a.txt", f"{cwd}/d/e/.env", f"{cwd}/d//e", f"{cwd}/d/./e", f"{cwd}/d/../e", f"{cwd}/d/", f"{cwd}",
        f"{cwd}/", f"{cwd}x/a", os.path.dirname(cwd) + "/other/a", "/", "rel/a", "./rel", "../up/a", f"{cwd}/..",
        f"{cwd}/é ü/ß.txt", f"{cwd}/a/.", f"{cwd}/.hidden/..x", os.path.dirname(cwd), "/tmp", "/tmp/x/y.txt",
        "//double", "/a//b", "/a/./b", "/a/../b",
    ]
    for p in paths:
        assert display_path(p) == _slow(p), p


def test_fast_path_outside_the_working_directory(tmp_path, monkeypatch):
    inner = tmp_path / "cwd" / "deep"
    inner.mkdir(parents=True)
    monkeypatch.chdir(inner)
    for p in [str(tmp_path / "other" / "f.txt"), str(tmp_path), str(tmp_path / "cwd"), str(inner), str(inner / "x"), "/"]:
        assert display_path(p) == _slow(p), p


def test_walk_display_paths_unchanged(workdir):
    (workdir / "d" / ".e").mkdir(parents=True)
    (workdir / "d" / ".e" / "k.env").write_text("x")
    (workdir / "top.txt").write_text("x")
    from keyscan.sources.worktree import WalkOptions, walk

    got = [(e.display, _slow(e.path)) for e in walk([str(workdir)], WalkOptions())]
    assert got and all(a == b for a, b in got)


# --- the walk's per-folder display prefix, in every place the cwd can be ---


def _tree(root):
    for rel in ["a.txt", "d/b.txt", "d/e/c.env", "d/.h/x", "é/ß.txt"]:
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("x")


def _walked(root):
    from keyscan.sources.worktree import WalkOptions, walk

    return [(e.display, _slow(e.path)) for e in walk([str(root)], WalkOptions())]


def test_walk_display_paths_root_is_cwd_below_it_above_it_and_elsewhere(tmp_path, monkeypatch):
    top = tmp_path / "top"
    _tree(top)
    _tree(top / "d" / "e" / "deep")
    (tmp_path / "other").mkdir()
    cases = [
        (top, top),  # walk the working directory
        (top, tmp_path),  # walk a folder below it
        (top / "d" / "e", top),  # the working directory is inside the walk
        (top / "d" / "e" / "deep", top),  # ... several levels down
        (tmp_path / "other", top),  # outside: absolute paths
    ]
    for cwd, root in cases:
        monkeypatch.chdir(cwd)
        got = _walked(root)
        assert len(got) >= 5, (cwd, root)
        assert all(a == b for a, b in got), (cwd, root, [g for g in got if g[0] != g[1]])
    # Skipped entries are shown by the same rule: the working directory itself as "."
    from keyscan.models import Stats
    from keyscan.sources.worktree import WalkOptions, walk

    (top / ".gitignore").write_text("/d/e/\n")
    monkeypatch.chdir(top / "d" / "e")
    stats = Stats()
    list(walk([str(top)], WalkOptions(stats=stats)))
    assert stats.skipped_paths == [(".", "gitignored")]
    (top / ".gitignore").unlink()
    monkeypatch.chdir(top / "d")
    got = _walked("..")  # a relative root made absolute by the walk
    assert all(a == b for a, b in got) and "e/c.env" in [a for a, _ in got]


# --- reading: one sized read for small files, the same fragments as reading the file whole ---


def _reference(data: bytes, window: int):
    """What a file's fragments must hold, from its bytes read whole: the
    straightforward rule (binary skipped; small or UTF-16/32 text whole)."""
    from keyscan.decode.text import to_utf8

    first = data[:window]
    bom32 = first.startswith((b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff"))
    bom16 = first.startswith((b"\xff\xfe", b"\xfe\xff"))
    if not (bom32 or bom16) and b"\0" in first[:8192]:
        return None
    if len(data) < window or bom32 or bom16:
        return [to_utf8(data)]
    return "windows"


def _read(path, window, stats=None):
    from keyscan.models import Stats
    from keyscan.sources.worktree import FileEntry, read_fragments

    stats = stats if stats is not None else Stats()
    frags = list(read_fragments(FileEntry(str(path), "f"), stats, window=window))
    return frags, stats


def test_read_fragments_matches_reading_whole(tmp_path):
    window = 4096
    bodies = {
        "empty": b"",
        "one": b"k",
        "text": b"line one\nline two\n" * 10,
        "below": b"a" * (window - 1),
        "exact": b"b\n" * (window // 2),
        "above": b"c" * (window + 1),
        "nul": b"abc\0def",
        "nul-late": b"a" * 9000 + b"\0",
        "utf8-bom": b"\xef\xbb\xbfkey = 1\n",
        "utf16": "k = 1\n".encode("utf-16"),
        "utf16-big": "z\n".encode("utf-16") * window,
        "utf32": "k = 1\n".encode("utf-32"),
        "latin1": "café\n".encode("latin-1"),
    }
    for name, data in bodies.items():
        path = tmp_path / name
        path.write_bytes(data)
        frags, stats = _read(path, window)
        want = _reference(data, window)
        if want is None:
            assert frags == [] and stats.skipped == {"binary": 1}, name
        elif want == "windows":
            # windows: each one's bytes up to its report limit, then the last, give the file back
            whole = b"".join(f.data[:f.meta["report_limit"]] for f in frags[:-1]) + frags[-1].data
            assert whole == data and stats.files_scanned == 1, name
        else:
            assert [f.data for f in frags] == want, name
            assert stats.files_scanned == 1 and stats.bytes_scanned == len(data), name
            assert (frags[0].line, frags[0].column, frags[0].meta) == (1, 0, {}), name


def test_read_fragments_of_a_file_that_grew_or_reports_no_size(tmp_path, monkeypatch):
    from keyscan.sources import worktree

    path = tmp_path / "log.txt"
    data = b"0123456789\n" * 50
    path.write_bytes(data)
    real = worktree.open_sized

    def stale(p):  # the size as it was before the file grew (or 0, as /proc reports)
        fd, size = real(p)
        return fd, stale.size

    monkeypatch.setattr(worktree, "open_sized", stale)
    for stale.size in (0, 10, len(data) - 1):
        frags, _ = _read(path, 4096)
        assert [f.data for f in frags] == [data], stale.size
    stale.size = 100  # grew past a window: read as windows, all of it
    frags, stats = _read(path, 256)
    assert len(frags) > 1 and stats.files_scanned == 1


def test_read_fragments_closes_every_file(tmp_path):
    before = len(os.listdir("/proc/self/fd"))
    for i in range(50):
        (tmp_path / f"f{i}").write_bytes(b"x" * i + (b"\0" if i % 3 == 0 else b""))
        _read(tmp_path / f"f{i}", 4096)
    big = tmp_path / "big"
    big.write_bytes(b"y\n" * 5000)
    from keyscan.models import Stats
    from keyscan.sources.worktree import FileEntry, read_fragments

    gen = read_fragments(FileEntry(str(big), "big"), Stats(), window=1024)
    next(gen)
    gen.close()  # a reader stopped part way (Ctrl-C, an error) closes its file too
    assert len(os.listdir("/proc/self/fd")) == before


def test_sniffing_fast_paths_match_the_plain_rules():
    import codecs

    from keyscan.decode import text

    boms = [codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE]
    heads = [b"", b"\0", b"\0\0", b"\xff", b"\xfe", b"\xef\xbb"] + [bytes([i]) + b"abc" for i in range(256)]
    heads += [bom + tail for bom in boms for tail in (b"", b"x", b"\0\0", b"a\0b")]
    heads += [b"a" * 8191 + b"\0", b"a" * 8192 + b"\0", b"\0" + b"a" * 9000]
    for head in heads:
        plain = next((name for bom, name in text._BOMS if head.startswith(bom)), None)
        assert text.sniff_encoding(head) == plain, head[:8]
        assert text.looks_binary(head) == (plain in (None, "utf-8") and b"\0" in head[:text.SNIFF]), head[:8]


# --- bundles: looks_built by blocks, read_bundle and read_map_file in memory ---


def _looks_built_by_lines(head: bytes) -> bool:
    start = 0
    while start < len(head):
        nl = head.find(b"\n", start)
        end = len(head) if nl == -1 else nl
        if end - start >= 1000:
            return True
        if nl == -1:
            break
        start = nl + 1
    return False


def test_looks_built_matches_the_line_by_line_check():
    import random

    from keyscan.sources import bundles

    rng = random.Random(7)
    heads = [b"", b"\n", b"x" * 999, b"x" * 1000, b"x" * 999 + b"\n", b"\n" * 3000, b"\n" + b"x" * 1000 + b"\n"]
    for _ in range(400):
        parts = []
        for _ in range(rng.randint(0, 40)):
            n = rng.choice([0, 1, 20, 80, 499, 500, 501, 998, 999, 1000, 1001, 1499, 1500, 2500, rng.randint(0, 3000)])
            parts.append(b"y" * n)
        head = b"\n".join(parts)
        if rng.random() < 0.3:
            head = head[: rng.randint(0, len(head))]
        heads.append(head[:65536])
    for head in heads:
        assert bundles.looks_built(head, "src/x.js") == _looks_built_by_lines(head), [len(p) for p in head.split(b"\n")]
    assert bundles.looks_built(b"short", "dist/x.js")  # a build folder decides alone


def _frag_view(frags):
    out = []
    for f in frags:
        meta = {k: v for k, v in f.meta.items() if k != "original_of"}
        orig = f.meta.get("original_of")
        looked = [orig(i) for i in range(0, len(f.text), max(1, len(f.text) // 7))] if orig else None
        out.append((f.path, f.origin, f.line, f.column, f.data, meta, looked))
    return out


def _bundle_tree(root):
    import base64
    import json

    from keyscan.sources.sourcemap import encode_vlq

    src = "const k = 'abc';\nexport function f() { return process.env.API_KEY; }\n"
    mappings = ";".join(encode_vlq([0, 0, i, 0]) for i in range(3))
    smap = {"version": 3, "sources": ["../src/a.ts"], "sourcesContent": [src], "names": [], "mappings": mappings}
    dist = root / "dist"
    dist.mkdir(parents=True)
    code = "var k='abc';\nfunction f(){return 'zz';}\n"
    (dist / "app.js").write_text(code + "//# sourceMappingURL=app.js.map\n")
    (dist / "app.js.map").write_text(json.dumps(smap))
    inline = base64.b64encode(json.dumps(smap).encode()).decode()
    (dist / "inline.js").write_text(code + f"//# sourceMappingURL=data:application/json;base64,{inline}\n")
    (root / "plain.js").write_text("const x = 1;\n" * 50)
    (root / "long.js").write_text("x" * 1500 + "\n")
    (root / "empty.js").write_text("")
    (root / "bin.js").write_bytes(b"\0\1\2" * 100)
    (root / "bom.js").write_bytes("\ufeffconst y = 2;\n".encode("utf-16-le"))
    (dist / "missing.js").write_text(code + "//# sourceMappingURL=nowhere.js.map\n")
    (dist / "bad.js.map").write_text("{not json")
    (dist / "bad.js").write_text(code + "//# sourceMappingURL=bad.js.map\n")
    (root / "linker.map").write_text("Memory map of the linker\n0x0000 main\n")
    (root / "bom.map").write_bytes(b"\xef\xbb\xbf" + json.dumps(smap).encode())
    return sorted(p for p in root.rglob("*") if p.is_file())


def test_read_bundle_in_memory_gives_what_the_file_stream_gave(tmp_path, monkeypatch):
    from keyscan.models import Stats
    from keyscan.sources import bundles
    from keyscan.sources.worktree import FileEntry

    monkeypatch.chdir(tmp_path)
    for path in _bundle_tree(tmp_path / "t"):
        if path.suffix != ".js":
            continue
        entry = FileEntry(str(path), str(path.relative_to(tmp_path)), size=path.stat().st_size)
        s1, e1 = Stats(), []
        fast = _frag_view(bundles.read_bundle(entry, s1, e1))
        s2, e2 = Stats(), []
        with open(path, "rb") as fh:  # the way read_bundle read before: through a buffered file
            slow = _frag_view(bundles.bundle_fragments(fh, path.stat().st_size, entry.display, s2, e2, bundles.disk_resolver(entry)))
        assert fast == slow, path
        assert (s1, e1) == (s2, e2), path


def test_read_bundle_larger_than_a_window_and_grown_files(tmp_path, monkeypatch):
    from keyscan.models import Stats
    from keyscan.sources import bundles, worktree
    from keyscan.sources.worktree import FileEntry

    monkeypatch.chdir(tmp_path)
    path = tmp_path / "big.js"
    path.write_text("let a = 1;\n" * 3000 + "//# sourceMappingURL=big.js.map\n")
    entry = FileEntry(str(path), "big.js")
    views = []
    for window in (1 << 20, 4096):  # read whole, then through the stream (the file is past the window)
        monkeypatch.setattr(bundles, "WINDOW", window)
        stats, errors = Stats(), []
        views.append((_frag_view(bundles.read_bundle(entry, stats, errors)), stats, errors))
    assert views[0] == views[1] and views[0][1].files_scanned == 1
    # The size changed since the fstat: the file is read through the stream.
    real = worktree.open_sized

    def grown(p):
        fd, size = real(p)
        return fd, size - 10

    monkeypatch.setattr(bundles, "WINDOW", 1 << 20)
    monkeypatch.setattr(bundles, "open_sized", grown)
    frags = list(bundles.read_bundle(entry, Stats(), []))
    assert b"".join(f.data for f in frags) == path.read_bytes()


def test_read_map_file_gives_what_the_buffered_reads_gave(tmp_path, monkeypatch):
    from keyscan.models import Stats
    from keyscan.sources import sourcemap
    from keyscan.sources.worktree import FileEntry, read_fragments

    monkeypatch.chdir(tmp_path)
    paths = [p for p in _bundle_tree(tmp_path / "t") if p.suffix == ".map"]
    assert len(paths) == 4

    def slow(entry, stats, errors):
        with open(entry.path, "rb") as fh:
            head = fh.read(64)
            size = os.fstat(fh.fileno()).st_size
            if not sourcemap.looks_like_json_map(head):
                yield from read_fragments(entry, stats)
                return
            if size > sourcemap.MAX_MAP_BYTES:
                errors.append(sourcemap.ScanError(entry.display, "sourcemap", f"source map of {size >> 20} MiB is larger than {sourcemap.MAX_MAP_BYTES >> 20} MiB; scanned as plain text"))
                yield from read_fragments(entry, stats, origin="sourcemap")
                return
            data = head + fh.read(sourcemap.MAX_MAP_BYTES)
        yield from sourcemap.map_fragments(data, entry.display, stats, errors)

    for cap in (sourcemap.MAX_MAP_BYTES, 100):  # 100: every map is too large to parse
        monkeypatch.setattr(sourcemap, "MAX_MAP_BYTES", cap)
        for path in paths:
            entry = FileEntry(str(path), str(path.relative_to(tmp_path)))
            s1, e1, s2, e2 = Stats(), [], Stats(), []
            assert _frag_view(sourcemap.read_map_file(entry, s1, e1)) == _frag_view(slow(entry, s2, e2)), (cap, path)
            assert (s1, e1) == (s2, e2), (cap, path)


def test_sourcemap_mappings_built_on_first_lookup():
    import json

    from keyscan.sources import sourcemap

    raw = {"version": 3, "sources": ["a.ts"], "names": [], "mappings": "AAAA;AACA,ZZZZZZZZ;AAAA"}
    smap = sourcemap.parse(json.dumps(raw), "m.js.map")
    assert smap._mappings is None and smap.all_problems() == []
    assert smap.lookup(0, 0) is not None and smap._mappings is not None
    smap.lookup(2, 0)
    eager = sourcemap.Mappings(raw["mappings"], 1, 0)
    eager.lookup(2, 0)
    assert smap.all_problems() == eager.problems != []
    with pytest.raises(sourcemap.SourceMapError):
        sourcemap.parse(json.dumps(dict(raw, mappings=5)), "m.js.map")


def test_reader_for_by_extension_matches_every_suffix_compared():
    from keyscan import sources

    sources._load_readers()

    def slow(path):
        lowered = path.lower()
        for suffixes, fn in sources.READERS:
            if lowered.endswith(suffixes):
                return fn
        return sources.plain_reader

    names = ["a.py", "A.JS", "x.tar.gz", "x.TGZ", "y.gz", "pkg.whl", "m.js.map", "m.map", "b.mjs", "c.cjs", "Build/w.data",
             "w.wasm", "noext", ".gz", "gz", "dir.tar/file", "a.b.c.unitypackage", "x.tar.bz2", "x.bz2", "x.tar.xz",
             "a.", "", ".", "weird.Tar.Gz", "dist/app.js.gz", "x.unityweb", "f.zip!inner.js", "f.br"]
    names += [n + s for n in ("a", "a.b", "dir/x") for suffixes, _ in sources.READERS for s in suffixes]
    for name in names:
        assert sources.reader_for(name) is slow(name), name
    assert sources._BY_EXT[0] == len(sources.READERS) and sources._BY_EXT[1]


def test_reader_for_asks_every_reader_when_a_suffix_has_no_dot(monkeypatch):
    """A reader registered for a whole name (no leading ".") cannot be found
    by extension: the table is dropped and every reader is asked, and made
    again when the readers are back as they were."""
    from keyscan import sources

    sources._load_readers()

    def dockerfile_reader(entry, stats, errors):
        return iter(())

    monkeypatch.setattr(sources, "READERS", [*sources.READERS, (("dockerfile",), dockerfile_reader)])
    assert sources.reader_for("app/Dockerfile") is dockerfile_reader
    assert sources._BY_EXT == (len(sources.READERS), None)
    assert sources.reader_for("x.tar.gz") is not sources.plain_reader
    monkeypatch.undo()
    assert sources.reader_for("app/Dockerfile") is sources.plain_reader
    assert sources._BY_EXT[1]
