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
