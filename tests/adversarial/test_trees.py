"""Hostile working trees: special files, links, sparse giants, files that
change under the scan, unreadable files, odd names and contents, very long
lines and many files. Each test says what keyscan does in that case."""
from __future__ import annotations

import errno
import json
import os
import socket
import stat
from pathlib import Path

import pytest

from helpers import fake_immutable_secret, run_keyscan
from keyscan.engine import Engine
from keyscan.findings import fingerprint
from keyscan.models import Stats
from keyscan.rulefile import load_ruleset
from keyscan.scan import ScanOptions, scan_fragment, scan_paths
from keyscan.sources import fragments_of
from keyscan.sources.worktree import FileEntry, WalkOptions, read_fragments, walk

from .support import run_measured

KEY = fake_immutable_secret(seed=601)
OUTSIDE_KEY = fake_immutable_secret(seed=602)
ENGINE = Engine(load_ruleset())


def scan_json(*args: str, cwd, timeout: float = 60):
    res = run_keyscan("scan", "--format", "json", *args, cwd=cwd, timeout=timeout)
    assert res.code in (0, 1), res.err
    return res, json.loads(res.out)


def secrets(report) -> list[tuple[str, str]]:
    """(path, fingerprint) of each finding: reports never hold the secret."""
    return sorted((f["path"], f["fingerprint"]) for f in report["findings"])


def fp(key: str) -> str:
    return fingerprint("immutable.secret-key", key)


def make_device(path: Path, major: int, minor: int) -> bool:
    """A character device node (needs CAP_MKNOD); False when not allowed."""
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(major, minor))
    except (PermissionError, OSError):
        return False
    return True


def test_special_files_and_symlinks_never_hang_recurse_or_leave_the_tree(workdir, tmp_path_factory):
    """FIFOs, sockets, device nodes (a copy of /dev/zero inside the tree) and
    symlinks (to /dev/zero, to themselves, to a parent folder, out of the
    tree, dangling) are skipped without being opened, counted under
    'special file' or 'symlink' in stats, and listed with -v. Named on the
    command line they are skipped the same way. The scan finishes and finds
    the one key that really is in the tree."""
    outside = tmp_path_factory.mktemp("outside")
    (outside / "k.txt").write_text(f"k={OUTSIDE_KEY}\n")
    (workdir / "real.txt").write_text(f"k={KEY}\n")
    sub = workdir / "sub"
    sub.mkdir()
    os.mkfifo(workdir / "fifo")
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(workdir / "sock"))
    device = make_device(workdir / "zero-device", 1, 5)
    links = {
        "to-dev-zero": "/dev/zero",
        "self-loop": "self-loop",
        "sub/up": "..",
        "sub/root": "/",
        "to-outside-file": str(outside / "k.txt"),
        "to-outside-dir": str(outside),
        "dangling": str(workdir / "nothing-here"),
    }
    for name, target in links.items():
        os.symlink(target, workdir / name)
    try:
        res, report = scan_json("-v", cwd=workdir, timeout=30)
        assert secrets(report) == [("real.txt", fp(KEY))]
        skipped = report["stats"]["skipped"]
        assert skipped["symlink"] == len(links)
        assert skipped["special file"] == 2 + device
        text = run_keyscan("scan", "-v", cwd=workdir, timeout=30)
        assert "fifo: special file" in text.out and "to-dev-zero: symlink" in text.out
        named = ["fifo", "sock", "to-dev-zero", "self-loop", "sub/up", "to-outside-dir"] + (["zero-device"] if device else [])
        res, report = scan_json(*named, cwd=workdir, timeout=30)
        assert report["findings"] == [] and res.code == 0
        assert sum(report["stats"]["skipped"].values()) == len(named)
        res, report = scan_json("/dev/zero", cwd=workdir, timeout=30)
        assert report["stats"]["skipped"] == {"special file": 1}
    finally:
        sock.close()


@pytest.mark.parametrize("name", ["plain.txt", "app.js", "app.js.map", "pkg.tgz", "game.wasm"])
@pytest.mark.parametrize("swap", ["fifo", "link-to-dev-zero", "link-outside", "vanished"])
def test_a_file_swapped_after_the_walk_is_never_opened_through(tmp_path, name, swap):
    """Between the walk listing a file and a reader opening it, the file is
    replaced by a FIFO, a symlink (to /dev/zero, or out of the tree) or
    removed. Every reader (text, bundle, source map, archive, game build)
    opens with O_NOFOLLOW|O_NONBLOCK and checks fstat: the file is skipped
    as unreadable, nothing hangs, nothing outside is read."""
    (tmp_path / "outside.txt").write_text(f"k={OUTSIDE_KEY}\n")
    root = tmp_path / "tree"
    root.mkdir()
    target = root / name
    target.write_text(f"k={KEY}\n")
    stats = Stats()
    [entry] = list(walk([str(root)], WalkOptions(stats=stats)))
    target.unlink()
    if swap == "fifo":
        os.mkfifo(target)
    elif swap == "link-to-dev-zero":
        os.symlink("/dev/zero", target)
    elif swap == "link-outside":
        os.symlink(tmp_path / "outside.txt", target)
    errors: list = []
    frags = list(fragments_of(entry, stats, errors))
    assert frags == []
    assert [reason for _, reason in stats.skipped_paths if reason.startswith("unreadable")], (stats.skipped_paths, errors)


def test_a_folder_swapped_for_a_symlink_during_the_walk_is_not_followed(tmp_path):
    """The walk lists a folder, and before it descends into it the folder is
    replaced by a symlink to a folder outside the tree. keyscan opens each
    folder with O_NOFOLLOW and checks it is the one it listed, so it never
    walks into the link's target; the folder is reported as skipped."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "k.txt").write_text(f"k={OUTSIDE_KEY}\n")
    root = tmp_path / "tree"
    (root / "b-sub").mkdir(parents=True)
    (root / "b-sub" / "inner.txt").write_text("nothing\n")
    (root / "a.txt").write_text("first\n")
    stats = Stats()
    seen = []
    for entry in walk([str(root)], WalkOptions(stats=stats)):
        seen.append(entry.path)
        if entry.path.endswith("a.txt"):
            os.rename(root / "b-sub", tmp_path / "moved")
            os.symlink(outside, root / "b-sub")
    assert not any(str(outside) in p or p.endswith("k.txt") for p in seen), seen
    assert any("b-sub" in path for path, _ in stats.skipped_paths), stats.skipped_paths


def _keys_in(entry: FileEntry, stats: Stats, window: int, between=None) -> list[str]:
    found = []
    for i, frag in enumerate(read_fragments(entry, stats, window=window)):
        found += [f.secret for f in scan_fragment(ENGINE, frag)[0]]
        if between is not None:
            between(i)
    return found


def test_files_that_change_while_they_are_read(tmp_path):
    """A large file is read in windows; between windows it is truncated,
    unlinked, or appended to without end. keyscan scans what it reads:
    truncation ends the file early, an unlinked file is read to its end
    through the open descriptor, and a file that keeps growing is read only
    up to the size it had when opened, so the scan always ends."""
    window = 70_000
    body = ("x = 1\n" * 20_000).encode()  # 120 KB: two windows
    path = tmp_path / "f.txt"

    path.write_bytes(b"K = '" + KEY.encode() + b"'\n" + body)
    entry = FileEntry(str(path), "f.txt")
    assert _keys_in(entry, Stats(), window, lambda i: os.truncate(path, 10)) == [KEY]

    path.write_bytes(body + b"K = '" + KEY.encode() + b"'\n")
    assert _keys_in(entry, Stats(), window, lambda i: path.unlink() if i == 0 else None) == [KEY]

    path.write_bytes(b"K = '" + KEY.encode() + b"'\n" + body)
    grown = []

    def grow(i):
        grown.append(i)
        assert i < 50, "still reading a file that grows without end"
        with open(path, "ab") as fh:
            fh.write(body)

    stats = Stats()
    assert _keys_in(entry, stats, window, grow) == [KEY]
    assert stats.bytes_scanned <= len(body) + 64 + window


def test_a_file_that_vanishes_after_the_walk_is_skipped(workdir, monkeypatch):
    """A file listed by the walk and deleted before it is read is skipped
    as 'unreadable (No such file or directory)'; the rest is scanned."""
    (workdir / "a.txt").write_text(f"k={KEY}\n")
    (workdir / "b.txt").write_text(f"k={KEY}\n")
    from keyscan import parallel

    real = parallel._scan_batch

    def vanish_first(entries):
        entries = list(entries)
        os.unlink(entries[0].path)
        return real(entries)

    monkeypatch.setattr(parallel, "_scan_batch", vanish_first)
    report = scan_paths(["."], ENGINE, ScanOptions(jobs=1))
    assert [f.path for f in report.findings] == ["b.txt"]
    assert report.stats.skipped_paths == [("a.txt", "unreadable (No such file or directory)")]


def test_unreadable_files_folders_and_read_errors_are_reported_and_skipped(workdir, monkeypatch):
    """Running as root, permissions cannot make a file unreadable, so the
    failures are injected: a file whose open fails with EACCES, a folder
    whose listing fails with EACCES, and a file whose read fails with EIO
    after its first window. Each is skipped with the reason in stats
    (the window read before the failure is still scanned); every other file
    is scanned."""
    for rel in ("ok.txt", "locked.txt", "closed/inside.txt"):
        p = workdir / rel
        p.parent.mkdir(exist_ok=True)
        p.write_text(f"k={KEY}\n")
    big = workdir / "flaky.txt"
    big.write_bytes(b"K = '" + KEY.encode() + b"'\n" + b"y = 2\n" * 2_000_000)
    real_open, real_scandir, real_fdopen = os.open, os.scandir, os.fdopen

    def fake_open(path, flags, *a, **kw):
        if str(path).endswith("locked.txt") or str(path).endswith("/closed"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(path, flags, *a, **kw)

    def fake_scandir(path="."):
        if str(path).endswith("closed"):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_scandir(path)

    class Flaky:
        def __init__(self, fh):
            self.fh, self.reads = fh, 0

        def read(self, n=-1):
            self.reads += 1
            if self.reads > 1:
                raise OSError(errno.EIO, "Input/output error")
            return self.fh.read(n)

        def __getattr__(self, name):
            return getattr(self.fh, name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def fake_fdopen(fd, *a, **kw):
        fh = real_fdopen(fd, *a, **kw)
        return Flaky(fh) if os.readlink(f"/proc/self/fd/{fd}").endswith("flaky.txt") else fh

    monkeypatch.setattr(os, "open", fake_open)
    monkeypatch.setattr(os, "scandir", fake_scandir)
    monkeypatch.setattr(os, "fdopen", fake_fdopen)
    report = scan_paths(["."], ENGINE, ScanOptions(jobs=1))
    assert sorted(f.path for f in report.findings) == ["flaky.txt", "ok.txt"]
    reasons = dict(report.stats.skipped_paths)
    assert reasons["locked.txt"] == "unreadable (Permission denied)"
    assert reasons["closed"].startswith("unreadable folder (Permission denied)")
    assert reasons["flaky.txt"] == "read failed part way (Input/output error)"


NAMES = [
    b"caf\xe9-latin1.txt",
    b"\xff\xfe-not-utf8.env",
    b"new\nline.txt",
    b"esc\x1b[31mred.txt",
    b"bidi-\xe2\x80\xae-txt.js",
    b"-rf.txt",
    b"--output=x.txt",
    b"back\\slash.txt",
    b"quote\"'.txt",
    b"n" * 250 + b".txt",
]


def test_non_utf8_and_hostile_names_and_contents(workdir):
    """File names that are not UTF-8, hold newlines, terminal escapes, bidi
    overrides or option-like dashes, and contents with broken UTF-8 around
    the key: every key is found, reported once with its line, the JSON
    report stays valid (names shown with backslash escapes) and the text
    report carries no raw control character."""
    root = os.fsencode(workdir)
    contents = [
        b"\xfa\xff\xfe bad bytes \xc3\nK='" + KEY.encode() + b"'\n",
        b"\xed\xa0\x80 surrogate \xc0\xaf overlong\nK='" + KEY.encode() + b"'\n",
        b"K='" + KEY.encode() + b"'\x80\x80\n",
    ]
    for i, name in enumerate(NAMES):
        with open(root + b"/" + name, "wb") as fh:
            fh.write(contents[i % len(contents)])
    res, report = scan_json(cwd=workdir)
    assert len(report["findings"]) == len(NAMES), report["stats"]
    assert all(f["secret"].endswith("…") for f in report["findings"])
    assert {f["line"] for f in report["findings"]} == {1, 2}
    text = run_keyscan("scan", cwd=workdir)
    assert text.code == 1 and "Traceback" not in text.err
    body = text.out
    assert not any(c in body for c in "\x1b\u202e\r") and "new\\x0aline.txt" in body


def test_deep_folders_and_paths_longer_than_path_max(tmp_path):
    """A folder 400 levels deep is walked without recursion. A path longer
    than PATH_MAX (4096 bytes) cannot be opened by name: keyscan skips the
    folder with 'unreadable folder (File name too long)' and goes on."""
    root = tmp_path / "deep"
    p = root
    for _ in range(400):
        p = p / "d"
    p.mkdir(parents=True)
    (p / "k.txt").write_text(f"k={KEY}\n")
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(25):  # 25 x 200 bytes: past PATH_MAX
            name = "L" * 200
            os.mkdir(name, dir_fd=fd)
            nxt = os.open(name, os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nxt
        with open(os.open("far.txt", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd), "w") as fh:
            fh.write(f"k={KEY}\n")
    finally:
        os.close(fd)
    report = scan_paths([str(root)], ENGINE, ScanOptions(jobs=1))
    assert [f.line for f in report.findings] == [1]
    assert any("File name too long" in why for _, why in report.stats.skipped_paths)


def test_very_long_lines(workdir):
    """One 40 MB line with no newline and keys at its start, across the
    8 MiB window boundaries and at its end: each key is found once, on
    line 1, at its exact column; memory stays bounded by the window size
    (measured in the next tests)."""
    from keyscan.sources.worktree import WINDOW

    filler = b"a=1;" * (WINDOW // 4)
    keys = [fake_immutable_secret(seed=610 + i) for i in range(4)]
    parts = [b"'" + keys[0].encode() + b"'", filler[:-20], b" '" + keys[1].encode() + b"' ", filler * 3, b"'" + keys[2].encode() + b"'", filler, b"'" + keys[3].encode() + b"'"]
    data = b"".join(parts)
    (workdir / "one-line.min.js").write_bytes(data)
    report = scan_paths(["."], ENGINE, ScanOptions(jobs=1))
    got = sorted((f.secret, f.line, f.column) for f in report.findings)
    want = sorted((k, 1, data.index(k.encode()) + 1) for k in keys)
    assert got == want


def test_sparse_multi_gigabyte_files_finish_with_bounded_memory(tmp_path):
    """Sparse files made with truncate. A 16 GiB file that is one hole is
    binary (NUL bytes) and skipped at once. An 8 GiB file with a text head,
    a key 3 GiB in and another at its end is read in 8 MiB windows, the
    holes between its written parts jumped over (SEEK_DATA: a hole reads as
    NUL bytes, which hold no key), so it takes well under a second; every
    key is found at its exact line and column. The keyscan process's peak
    memory stays within 64 MB of a scan of a tiny file, measured in the
    same test."""
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    (tiny / "k.txt").write_text(f"K = '{KEY}'\n")
    base = run_measured("scan", "--jobs", "1", "-f", "json", str(tiny), cwd=tmp_path)
    assert base.code == 1, base.err

    hole = tmp_path / "hole"
    hole.mkdir()
    with open(hole / "all-hole.txt", "wb") as fh:
        fh.truncate(16 << 30)
    run = run_measured("scan", "--jobs", "1", "-f", "json", str(hole), cwd=tmp_path, timeout=60)
    assert run.code == 0 and json.loads(run.out)["stats"]["skipped"] == {"binary": 1}
    assert run.rss_mb < base.rss_mb + 64

    keys = [fake_immutable_secret(seed=620 + i) for i in range(3)]
    head = tmp_path / "head"
    head.mkdir()
    with open(head / "big.log", "wb") as fh:
        fh.write(b"started\n" * 2000 + f"K = '{keys[0]}'\n".encode())
        fh.seek(3 << 30)
        fh.write(f"\nK = '{keys[1]}'\n".encode())
        fh.truncate((8 << 30) - 64)
        fh.seek(0, os.SEEK_END)
        fh.write(f"\nK = '{keys[2]}'\n".encode().ljust(64, b" "))
    run = run_measured("scan", "--jobs", "1", "-f", "json", str(head), cwd=tmp_path, timeout=120)
    report = json.loads(run.out)
    assert run.code == 1, run.err
    assert sorted((f["fingerprint"], f["line"], f["column"]) for f in report["findings"]) == sorted(
        [(fp(keys[0]), 2001, 6), (fp(keys[1]), 2003, 6), (fp(keys[2]), 2005, 6)]
    )
    assert report["stats"]["bytes_scanned"] == 8 << 30
    assert run.rss_mb < base.rss_mb + 64, (run.rss_mb, base.rss_mb)


def test_holes_are_jumped_without_changing_what_is_found(tmp_path):
    """Jumping over the holes of a sparse file finds the same keys at the
    same lines and columns as reading every NUL byte would (the same file
    content read through a stream that cannot seek), with keys just
    before and just after holes and on lines that span a hole."""
    from keyscan.sources.worktree import _windows

    window = 70_000
    keys = [fake_immutable_secret(seed=630 + i) for i in range(6)]
    path = tmp_path / "sparse.txt"
    with open(path, "wb") as fh:
        fh.write(b"a\n" * 50_000 + f"'{keys[0]}'".encode())
        fh.seek(400_000)
        fh.write(f"'{keys[1]}' and\n'{keys[2]}'".encode())
        fh.seek(1_000_000)
        fh.write(f"{keys[3]}\n".encode() + b"b" * 100_000 + f" {keys[4]}".encode())
        fh.seek(1_500_003)
        fh.write(f"={keys[5]}".encode())
        fh.truncate(2_000_000)
    data = path.read_bytes()

    def found(fragments):
        return sorted((f.secret, f.line, f.column) for frag in fragments for f in scan_paths_fragment(frag))

    def scan_paths_fragment(frag):
        from keyscan.scan import scan_fragment as sf

        return sf(ENGINE, frag)[0]

    jumped_stats = Stats()
    jumped = found(read_fragments(FileEntry(str(path), "sparse.txt"), jumped_stats, window=window))
    import io

    stream = io.BytesIO(data)
    every = found(_windows(stream, stream.read(window), "sparse.txt", "worktree", window, Stats()))
    assert jumped == every and len(jumped) == 6
    assert jumped_stats.bytes_scanned == len(data)


def _tree_of(root: Path, files: int, per_folder: int = 100) -> None:
    for i in range(files):
        folder = root / f"d{i // per_folder:04d}"
        if i % per_folder == 0:
            folder.mkdir(parents=True)
        (folder / f"f{i % per_folder:03d}.txt").write_bytes(b"value = compute(1)\n")


def test_many_small_files_memory_does_not_grow_with_their_number(tmp_path):
    """20,000 small files in 200 folders against 2,000 in 20: keyscan
    streams the walk into the scan, in one process or in batches to worker
    processes, so the peak memory for 10 times the files stays within
    1.8 MB of the small tree's (less than 100 bytes per extra file; holding
    every listed file would cost about 280), and every file is counted."""
    small, large = tmp_path / "small", tmp_path / "large"
    _tree_of(small, 2_000)
    _tree_of(large, 20_000)
    for tree in (small, large):  # one finding each: the same report work
        (tree / "d0010" / "f050.txt").write_text(f"K = '{KEY}'\n")
    # The plain keyword prefilter: the Hyperscan one builds its second stage
    # after enough regex work, which would add its own memory to one run.
    env = {"KEYSCAN_PREFILTER": "stdlib"}
    a = run_measured("scan", "--jobs", "1", "-f", "json", "small", cwd=tmp_path, env=env)
    assert json.loads(a.out)["stats"]["files_scanned"] == 2_000 and a.code == 1
    for jobs in ("1", "2"):
        b = run_measured("scan", "--jobs", jobs, "-f", "json", "large", cwd=tmp_path, env=env)
        rep = json.loads(b.out)
        assert rep["stats"]["files_scanned"] == 20_000 and len(rep["findings"]) == 1
        grown = (b.rss_mb - a.rss_mb) * 1024 * 1024
        assert grown < 100 * 18_000, f"--jobs {jobs}: {b.rss_mb:.1f} MB for 20,000 files against {a.rss_mb:.1f} MB for 2,000"


@pytest.mark.parametrize("where", [".gitignore", "sub/.gitignore"])
def test_a_gitignore_that_is_a_fifo_or_a_link_does_not_hang_the_walk(tmp_path, where):
    """A '.gitignore' that is a FIFO would block a plain open() forever; one
    that is a symlink could pull patterns from anywhere. keyscan reads a
    .gitignore only when it is a regular file (opened with O_NONBLOCK and
    O_NOFOLLOW, as git itself does not follow a symlinked .gitignore);
    otherwise the folder is walked as if it had none."""
    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "k.txt").write_text(f"k={KEY}\n")
    os.mkfifo(root / where)
    res, report = scan_json(cwd=root, timeout=20)
    assert secrets(report) == [("sub/k.txt", fp(KEY))]
    os.unlink(root / where)
    (tmp_path / "elsewhere").write_text("*.txt\n")
    os.symlink(tmp_path / "elsewhere", root / where)
    res, report = scan_json(cwd=root, timeout=20)
    assert secrets(report) == [("sub/k.txt", fp(KEY))]
