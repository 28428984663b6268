"""Walking and reading the working tree."""
import json
import os
import socket

import pytest

from keyscan.models import Stats
from keyscan.sources.worktree import FileEntry, read_fragments
from keyscan.engine import Engine
from keyscan.rulefile import load_ruleset
from keyscan.scan import scan_fragment
from helpers import fake_immutable_secret, make_repo, run_keyscan

KEY = fake_immutable_secret(seed=11)


def scan_json(*args, cwd):
    res = run_keyscan("scan", "--format", "json", *args, cwd=cwd)
    assert res.code in (0, 1), res.err
    return res, json.loads(res.out)


def paths_of(report):
    return sorted(f["path"] for f in report["findings"])


def test_gitignore_nested_and_negation(workdir):
    (workdir / ".gitignore").write_text("*.log\nsecret/\n!keep.log\n")
    (workdir / "sub").mkdir()
    (workdir / "sub" / ".gitignore").write_text("local.txt\n!important.log\n")
    for rel in ["a.log", "keep.log", "a.txt", "secret/x.txt", "sub/local.txt", "sub/important.log", "sub/b.log", "sub/c.txt"]:
        p = workdir / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(f"k={KEY}\n")
    _, rep = scan_json(cwd=workdir)
    assert paths_of(rep) == ["a.txt", "keep.log", "sub/c.txt", "sub/important.log"]
    assert rep["stats"]["skipped"]["gitignored"] == 4
    _, rep = scan_json("--no-gitignore", cwd=workdir)
    assert len(rep["findings"]) == 8


def test_gitignore_of_enclosing_repository_applies_to_subfolder(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.write(".gitignore", "*.gen.ts\n")
    repo.write("src/a.gen.ts", f"k={KEY}\n")
    repo.write("src/b.ts", f"k={KEY}\n")
    _, rep = scan_json("src", cwd=repo.path)
    assert paths_of(rep) == ["src/b.ts"]


def test_explicitly_named_paths_are_scanned_even_if_ignored(workdir):
    (workdir / ".gitignore").write_text("dist/\n*.env\n")
    (workdir / "dist").mkdir()
    (workdir / "dist" / "app.js").write_text(f'var k="{KEY}";')
    (workdir / "prod.env").write_text(f"K={KEY}\n")
    _, rep = scan_json(cwd=workdir)
    assert rep["findings"] == []
    _, rep = scan_json("dist/", "prod.env", cwd=workdir)
    assert paths_of(rep) == ["dist/app.js", "prod.env"]
    assert {f["exposure"] for f in rep["findings"]} == {"bundle", "source"}


def test_never_enters_git_folder(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.commit("add", {"a.txt": f"k={KEY}\n"})
    repo.write("a.txt", "clean\n")
    _, rep = scan_json(cwd=repo.path)
    assert rep["findings"] == []


def test_symlinks_are_not_followed(workdir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "k.txt").write_text(f"k={KEY}\n")
    os.symlink(outside / "k.txt", workdir / "link.txt")
    os.symlink(outside, workdir / "linkdir")
    os.symlink("/dev/zero", workdir / "zero")
    os.symlink(workdir, workdir / "loop")
    _, rep = scan_json(cwd=workdir)
    assert rep["findings"] == []
    assert rep["stats"]["skipped"]["symlink"] == 4


def test_fifo_socket_and_device_are_skipped_without_hanging(workdir):
    os.mkfifo(workdir / "fifo")
    s = socket.socket(socket.AF_UNIX)
    s.bind(str(workdir / "sock"))
    (workdir / "a.txt").write_text(f"k={KEY}\n")
    try:
        res, rep = scan_json(cwd=workdir)
    finally:
        s.close()
    assert paths_of(rep) == ["a.txt"]
    assert rep["stats"]["skipped"]["special file"] == 2
    res = run_keyscan("scan", "fifo", cwd=workdir, timeout=20)
    assert res.code == 0


def test_binary_files_skipped_and_counted(workdir):
    (workdir / "img.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0" + KEY.encode())
    (workdir / "a.txt").write_text("nothing\n")
    res, rep = scan_json("-v", cwd=workdir)
    assert rep["findings"] == []
    assert rep["stats"]["skipped"]["binary"] == 1
    res = run_keyscan("scan", "-v", cwd=workdir)
    assert "img.png: binary" in res.out


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-8-sig", "utf-32"])
def test_unicode_encodings_with_bom(workdir, encoding):
    text = f"first line\nkey = '{KEY}'\n"
    data = text.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    (workdir / "k.txt").write_bytes(data)
    _, rep = scan_json(cwd=workdir)
    assert [(f["line"], f["column"]) for f in rep["findings"]] == [(2, 8)]


def test_broken_utf8_and_non_utf8_names(workdir):
    name = os.fsencode(workdir) + b"/caf\xe9-\xff.txt"
    with open(name, "wb") as fh:
        fh.write(b"\xfa\xff\xfe bad bytes \xc3\n" + f"k={KEY}\n".encode())
    res, rep = scan_json(cwd=workdir)
    assert len(rep["findings"]) == 1
    assert rep["findings"][0]["line"] == 2
    res = run_keyscan("scan", cwd=workdir)
    assert res.code == 1 and "Traceback" not in res.err


def test_unreadable_file_is_skipped_and_scan_goes_on(workdir, monkeypatch):
    from keyscan.scan import scan_paths

    (workdir / "locked.txt").write_text(KEY)
    (workdir / "open.txt").write_text(KEY)
    real_open = os.open

    def fake_open(path, flags, *a, **kw):
        if str(path).endswith("locked.txt"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *a, **kw)

    monkeypatch.setattr(os, "open", fake_open)
    report = scan_paths(["."], Engine(load_ruleset()))
    assert [f.path for f in report.findings] == ["open.txt"]
    assert report.stats.skipped == {"unreadable (Permission denied)": 1}


def _chunked_findings(path, window):
    engine = Engine(load_ruleset())
    stats = Stats()
    out = []
    for frag in read_fragments(FileEntry(str(path), "big.txt"), stats, window=window):
        findings, _, _ = scan_fragment(engine, frag)
        out += [(f.secret, f.line, f.column) for f in findings]
    return out, stats


@pytest.mark.parametrize("window", [70_000, 65_537 + 40, 100_003])
def test_large_file_windows_find_each_key_once_with_exact_position(tmp_path, window):
    from keyscan.sources import worktree

    keys = [fake_immutable_secret(seed=s) for s in range(40)]
    lines, expected = [], []
    for i, k in enumerate(keys):
        pad = "x" * (997 * i % 3001)
        lines.append(f"{pad} {k} tail")
        expected.append((k, i * 3 + 1, len(pad) + 2))
        lines.append("y" * 4000)
        lines.append("")
    body = "\n".join(lines) + "\n"
    # and one key on a single very long line that straddles windows
    long_line = "z" * (window - 50) + " " + keys[0] + " " + "q" * 10
    body += long_line + "\n"
    expected.append((keys[0], len(lines) + 1, window - 50 + 2))
    path = tmp_path / "big.txt"
    path.write_text(body)
    assert worktree.OVERLAP < window
    found, stats = _chunked_findings(path, window)
    assert sorted(found) == sorted(expected)
    assert stats.bytes_scanned == len(body)
    whole, _ = _chunked_findings(path, 10 * len(body))
    assert sorted(whole) == sorted(expected)


def test_missing_path_is_exit_2_one_line(workdir):
    res = run_keyscan("scan", "does-not-exist")
    assert res.code == 2
    assert res.err.strip() == "keyscan: error: does-not-exist: no such file or folder"


def test_ignored_folder_named_in_a_repository_is_scanned(tmp_path):
    repo = make_repo(tmp_path / "r")
    repo.write(".gitignore", "dist/\n*.log\n")
    repo.write("dist/app.js", f'var k="{KEY}";')
    repo.write("dist/debug.log", f"k={KEY}\n")
    repo.write("dist/.gitignore", "inner.txt\n")
    repo.write("dist/inner.txt", f"k={KEY}\n")
    _, rep = scan_json(cwd=repo.path)
    assert rep["findings"] == []
    _, rep = scan_json("dist", cwd=repo.path)
    assert paths_of(rep) == ["dist/app.js", "dist/debug.log"]
