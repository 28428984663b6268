"""The audit's repository list (identities, credentials, bad entries) and
--shard (a partition, balanced, stable)."""
from __future__ import annotations

import random

import pytest

from keyscan.audit.repos import parse, read_list, unique, without_credentials
from keyscan.audit.shard import assign, parse_spec, select
from keyscan.errors import KeyscanError


@pytest.mark.parametrize(
    ("entry", "identity", "kind"),
    [
        ("https://github.com/Org/API.git", "github.com/Org/API", "url"),
        ("https://bot:ghp_notreal@GitHub.com/Org/API/", "github.com/Org/API", "url"),
        ("git@github.com:Org/API.git", "github.com/Org/API", "url"),
        ("ssh://git@git.example.org:2222/team/svc.git", "git.example.org:2222/team/svc", "url"),
        ("git://git.example.org/pub/tool", "git.example.org/pub/tool", "url"),
        ("file:///srv/git/api.git", "file:///srv/git/api", "url"),
        ("file:///srv/git/../git/api.git/", "file:///srv/git/api", "url"),
    ],
)
def test_identities(entry, identity, kind):
    repo = parse(entry)
    assert (repo.identity, repo.kind) == (identity, kind)
    assert repo.location == entry  # git gets what was written
    assert "ghp_notreal" not in repo.slug and repo.slug.endswith(repo.slug[-12:])


def test_local_paths_are_real_paths_relative_to_the_list(tmp_path, monkeypatch):
    (tmp_path / "repos" / "api").mkdir(parents=True)
    (tmp_path / "lists").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "repos")
    listing = tmp_path / "lists" / "repos.txt"
    listing.write_text("# org\n\n../repos/api   # the API\n  ../link/api\nhttps://h.example/a/b\n")
    monkeypatch.chdir(tmp_path / "repos")
    repos = read_list(str(listing))
    assert [r.identity for r in repos] == [str((tmp_path / "repos" / "api").resolve())] * 2 + ["h.example/a/b"]
    kept, repeats = unique(repos)
    assert len(kept) == 2 and len(repeats) == 1
    assert parse("api").identity == str((tmp_path / "repos" / "api").resolve())  # the command line: the working folder


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("--upload-pack=touch /tmp/x", "starts with '-'"),
        ("ext::sh -c id", "remote helpers"),
        ("fd::3", "remote helpers"),
        ("ftp://h.example/a", "unsupported scheme 'ftp'"),
        ("file://otherhost/srv/a", "names a path on this machine"),
        ("https:///nohost", "names no host"),
        ("https://h.example/", "names no host and repository path"),
        ("https://h.example:99999/a", "not a valid URL"),
    ],
)
def test_bad_entries(entry, message):
    with pytest.raises(KeyscanError) as err:
        parse(entry, "repos.txt:3")
    assert str(err.value).startswith("repos.txt:3: ") and message in str(err.value)


def test_bad_lists(tmp_path):
    for data, message in [(b"\xff\xfe", "not UTF-8"), (b"ok\n-x\n", "repos.txt:2: '-x' is not a repository")]:
        (tmp_path / "repos.txt").write_bytes(data)
        with pytest.raises(KeyscanError, match=message):
            read_list(str(tmp_path / "repos.txt"))
    with pytest.raises(KeyscanError, match="repository list not found"):
        read_list(str(tmp_path / "missing.txt"))


def test_credentials_are_removed_from_messages():
    text = "fatal: unable to access 'https://bot:tok3n@h.example/a.git/': 403; see ssh://u@h2/x"
    assert without_credentials(text) == "fatal: unable to access 'https://h.example/a.git/': 403; see ssh://h2/x"


def test_shard_spec():
    assert parse_spec("2/8") == (2, 8) and parse_spec(" 1 / 1 ") == (1, 1)
    for bad, message in [("0/4", "I must be between 1 and 4"), ("5/4", "I must be between 1 and 4"), ("1/0", "N must be"), ("a/b", "is not I/N"), ("3", "is not I/N")]:
        with pytest.raises(KeyscanError, match=message):
            parse_spec(bad)


class _R:
    def __init__(self, identity):
        self.identity = identity


def test_shards_partition_balance_and_stability():
    names = [f"github.com/org/service-{i}" for i in range(203)]
    repos = [_R(n) for n in names]
    slices = [select(repos, (i, 8)) for i in range(1, 9)]
    got = [r.identity for s in slices for r in s]
    assert sorted(got) == sorted(names)  # each repository in exactly one shard
    assert max(len(s) for s in slices) - min(len(s) for s in slices) <= 1  # 203/8: 25 or 26 each
    assert all(len(s) <= 26 for s in slices)
    shuffled = names[:]
    random.Random(7).shuffle(shuffled)
    assert assign(shuffled, 8) == assign(names, 8)  # the list's order does not matter
    before = assign(names, 8)
    after = assign(names + ["github.com/org/new-one"], 8)
    moved = sum(1 for n in names if before[n] != after[n])
    assert moved <= len(names) // 10  # adding one repository moves few others
    # One shard of more shards than repositories: every repository once, some shards empty.
    few = [_R("a/b"), _R("c/d")]
    assert sorted(r.identity for i in range(1, 6) for r in select(few, (i, 5))) == ["a/b", "c/d"]
