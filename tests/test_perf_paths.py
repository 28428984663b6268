"""display_path's fast path gives what os.path.relpath gives."""
import os

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
