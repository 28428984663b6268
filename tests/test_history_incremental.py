"""keyscan history's incremental first pass (each blob version scanned only
around what changed since the last version of its path it saw) against full
scans of every blob (the default; KEYSCAN_HISTORY_INCREMENTAL=1 turns the
incremental pass on): the same keys in every blob, at
the same lines, and the same report. Every repository is real and every key
made up."""
from __future__ import annotations

import base64
import json
import random
import string

import pytest

from helpers import fake_immutable_secret, make_repo, run_keyscan
from keyscan import history
from keyscan.engine import Engine
from keyscan.history import HistoryOptions, scan_history
from keyscan.models import Suppressed
from keyscan.rulefile import load_ruleset

WORDS = ["alpha", "bravo", "delta", "echo", "golf", "hotel", "india", "lima", "mike", "oscar", "papa", "romeo", "sierra", "tango", "victor", "whiskey", "yankee", "zulu"]


@pytest.fixture(scope="module")
def engine():
    return Engine(load_ruleset())


def filler(n: int, rnd: random.Random) -> list[str]:
    """Lines of harmless code (no rule's keyword), about 60 bytes each."""
    out = []
    for _ in range(n):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(3, 7))]
        out.append(f"    {words[0]}_{rnd.randint(0, 999)} = compute({', '.join(words[1:])})")
    return out


def text(lines: list[str]) -> str:
    return "\n".join(lines) + "\n"


def aws_pair(rnd: random.Random) -> tuple[str, str]:
    key_id = "AKIA" + "".join(rnd.choice(string.ascii_uppercase + string.digits) for _ in range(16))
    secret = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(38)) + "Qz"
    return key_id, secret


def pem_block(rnd: random.Random) -> list[str]:
    alphabet = string.ascii_letters + string.digits + "+/"
    body = ["".join(rnd.choice(alphabet) for _ in range(64)) for _ in range(12)]
    return ["-----BEGIN RSA PRIVATE KEY-----", *body, "".join(rnd.choice(alphabet) for _ in range(20)) + "==", "-----END RSA PRIVATE KEY-----"]


def run(repo, engine, monkeypatch, *, full: bool, jobs: int = 1):
    """The report and the first pass's findings per blob."""
    if full:
        monkeypatch.delenv("KEYSCAN_HISTORY_INCREMENTAL", raising=False)
    else:
        monkeypatch.setenv("KEYSCAN_HISTORY_INCREMENTAL", "1")
    monkeypatch.setattr(history, "PARALLEL_MIN_OBJECTS", 0)
    first: dict = {}
    real = history._provenance

    def spy(git, engine, revs, head, hits, report, **kw):
        for sha, hit in hits.items():
            first[sha] = [_pos(i) for i in [*hit.findings, *hit.suppressed]]
        return real(git, engine, revs, head, hits, report, **kw)

    monkeypatch.setattr(history, "_provenance", spy)
    report = scan_history(str(repo.path), engine, HistoryOptions(jobs=jobs))
    return report, first


def _pos(item):
    f = item.finding if isinstance(item, Suppressed) else item
    return (f.rule_id, f.secret, f.path, f.line, f.column, f.source.get("blob"), tuple(f.source.get("decoded", ())), f.line_text, f.prev_line_text, isinstance(item, Suppressed))


def summary(report) -> dict:
    def one(f):
        return (f.rule_id, f.secret, f.path, f.line, f.column, json.dumps(f.commit, sort_keys=True), json.dumps(f.lifecycle, sort_keys=True), f.severity)

    return {
        "findings": [one(f) for f in report.findings],
        "suppressed": [(one(s.finding), s.reason, s.detail) for s in report.suppressed],
        "errors": list(report.errors),
    }


def same_both_ways(repo, engine, monkeypatch, jobs: int = 1):
    """Scan in both modes, check they agree, and that the incremental pass
    did work incrementally; the incremental report."""
    full, full_first = run(repo, engine, monkeypatch, full=True, jobs=jobs)
    inc, inc_first = run(repo, engine, monkeypatch, full=False, jobs=jobs)
    assert inc_first == full_first
    assert summary(inc) == summary(full)
    assert "incremental_blobs" not in full.stats.extra
    assert inc.stats.extra.get("incremental_blobs", 0) > 0
    assert inc.stats.bytes_scanned < full.stats.bytes_scanned
    return inc, inc_first


def found(report, secret):
    return [f for f in report.findings if f.secret == secret]


def test_key_added_late_to_a_long_file(tmp_path, engine, monkeypatch):
    rnd = random.Random(1)
    repo = make_repo(tmp_path / "r")
    lines = filler(700, rnd)
    repo.commit("v0", {"src/app.py": text(lines)})
    for i in range(4):
        lines[rnd.randrange(len(lines))] = f"    step_{i} = compute(alpha)"
        repo.commit(f"v{i + 1}", {"src/app.py": text(lines)})
    key = fake_immutable_secret(seed=11)
    lines.insert(300, f"    client = Client('{key}')")
    intro = repo.commit("add key", {"src/app.py": text(lines)})
    lines[10] = "    late = compute(bravo)"
    repo.commit("after", {"src/app.py": text(lines)})
    report, first = same_both_ways(repo, engine, monkeypatch)
    [f] = found(report, key)
    assert (f.line, f.column, f.commit["sha"]) == (301, 22, intro)
    # The last version inherits the key from its base, at its line.
    last = repo.git("rev-parse", "HEAD:src/app.py").strip()
    assert [(p[3], p[4]) for p in first[last]] == [(301, 22)]


def test_key_edited_into_another_key_and_then_removed(tmp_path, engine, monkeypatch):
    rnd = random.Random(2)
    repo = make_repo(tmp_path / "r")
    lines = filler(700, rnd)
    old, new = fake_immutable_secret(seed=21), fake_immutable_secret(seed=22)
    lines.insert(200, f"KEY = '{old}'")
    repo.commit("v0", {"config.py": text(lines)})
    lines[5] = "    first = compute(echo)"
    repo.commit("v1", {"config.py": text(lines)})
    lines[200] = f"KEY = '{new}'"
    edited = repo.commit("rotate", {"config.py": text(lines)})
    lines[390] = "    later = compute(golf)"
    repo.commit("v3", {"config.py": text(lines)})
    del lines[200]
    removed = repo.commit("remove", {"config.py": text(lines)})
    lines[50] = "    after = compute(lima)"
    repo.commit("v5", {"config.py": text(lines)})
    report, _ = same_both_ways(repo, engine, monkeypatch)
    [f_old], [f_new] = found(report, old), found(report, new)
    assert f_old.lifecycle["removed"] == edited and f_new.commit["sha"] == edited
    assert f_new.lifecycle["removed"] == removed and f_new.lifecycle["present_at_head"] is False


def test_pem_block_added_inside_an_existing_file(tmp_path, engine, monkeypatch):
    rnd = random.Random(3)
    repo = make_repo(tmp_path / "r")
    lines = filler(700, rnd)
    repo.commit("v0", {"deploy/notes.txt": text(lines)})
    lines[600] = "    before = compute(sierra)"
    repo.commit("v1", {"deploy/notes.txt": text(lines)})
    pem = pem_block(rnd)
    lines[150:150] = pem
    intro = repo.commit("add key", {"deploy/notes.txt": text(lines)})
    lines[20] = "    other = compute(papa)"
    repo.commit("v2", {"deploy/notes.txt": text(lines)})
    # An edit inside the block: a new key, found although the block's first
    # line did not change.
    lines[156] = lines[156][::-1]
    edited = repo.commit("edit block", {"deploy/notes.txt": text(lines)})
    report, _ = same_both_ways(repo, engine, monkeypatch)
    pems = sorted((f.commit["sha"], f.line) for f in report.findings if f.rule_id == "private-key.rsa")
    assert pems == sorted([(intro, 151), (edited, 151)])


def test_key_moved_within_the_file(tmp_path, engine, monkeypatch):
    rnd = random.Random(4)
    repo = make_repo(tmp_path / "r")
    lines = filler(700, rnd)
    key = fake_immutable_secret(seed=41)
    lines.insert(50, f"TOKEN_VALUE = \"{key}\"")
    repo.commit("v0", {"svc.py": text(lines)})
    lines[0:0] = filler(30, rnd)  # 30 lines above it
    repo.commit("grow", {"svc.py": text(lines)})
    line = lines.pop(80)
    lines.insert(350, line)  # moved far down
    repo.commit("move", {"svc.py": text(lines)})
    del lines[10:20]
    repo.commit("shrink", {"svc.py": text(lines)})
    _, first = same_both_ways(repo, engine, monkeypatch)
    shas = [repo.git("rev-parse", f"HEAD~{n}:svc.py").strip() for n in (3, 2, 1, 0)]
    assert [[p[3] for p in first[sha] if p[1] == key] for sha in shas] == [[51], [81], [351], [341]]


def test_key_whose_keyword_line_changes_no_longer_matches(tmp_path, engine, monkeypatch):
    # The AWS key id + secret rule needs the key id before the secret: edit
    # the id's line away and the (unchanged) secret line is no key.
    rnd = random.Random(5)
    repo = make_repo(tmp_path / "r")
    lines = filler(700, rnd)
    key_id, secret = aws_pair(rnd)
    lines[200:200] = [f"aws_id = {key_id}", "# the pair", f"aws_value = {secret}"]
    intro = repo.commit("v0", {"ops/creds.cfg": text(lines)})
    lines[300] = "    x = compute(zulu)"
    repo.commit("v1", {"ops/creds.cfg": text(lines)})
    lines[200] = "aws_id = (moved to the vault)"
    gone = repo.commit("drop id", {"ops/creds.cfg": text(lines)})
    lines[390] = "    y = compute(mike)"
    repo.commit("v3", {"ops/creds.cfg": text(lines)})
    report, first = same_both_ways(repo, engine, monkeypatch)
    [f] = [f for f in found(report, secret) if f.rule_id == "aws.access-key-with-secret"]
    assert f.commit["sha"] == intro and f.lifecycle["removed"] == gone
    head = repo.git("rev-parse", "HEAD:ops/creds.cfg").strip()
    assert head not in first


def test_inline_allow_added_above_an_old_key(tmp_path, engine, monkeypatch):
    rnd = random.Random(6)
    repo = make_repo(tmp_path / "r")
    lines = filler(700, rnd)
    key = fake_immutable_secret(seed=61)
    lines.insert(120, f"fixture_key = '{key}'")
    repo.commit("v0", {"tests/fixture.py": text(lines)})
    lines.insert(120, "# keyscan:allow-next-line made-up key for the tests")
    repo.commit("allow", {"tests/fixture.py": text(lines)})
    _, first = same_both_ways(repo, engine, monkeypatch)
    head = repo.git("rev-parse", "HEAD:tests/fixture.py").strip()
    [p] = first[head]
    assert p[3] == 122 and "keyscan:allow-next-line" in p[8]  # prev_line_text, for the inline filter


def test_same_key_in_two_paths_and_renames(tmp_path, engine, monkeypatch):
    rnd = random.Random(7)
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=71)
    a, b = filler(600, rnd), filler(600, rnd)
    a.insert(100, f"KEY_A = '{key}'")
    b.insert(200, f"KEY_B = '{key}'")
    repo.commit("v0", {"a.py": text(a), "b.py": text(b)})
    a[5], b[5] = "    p = compute(india)", "    q = compute(hotel)"
    repo.commit("v1", {"a.py": text(a), "b.py": text(b)})
    (repo.path / "moved").mkdir()
    repo.git("mv", "a.py", "moved/a2.py")
    repo.commit("rename")
    a[250] = "    r = compute(oscar)"
    repo.commit("v3", {"moved/a2.py": text(a)})
    report, _ = same_both_ways(repo, engine, monkeypatch)
    assert sorted((f.path, f.line) for f in found(report, key)) == [("a.py", 101), ("b.py", 201), ("moved/a2.py", 101)]


def test_decoded_key_in_a_long_file(tmp_path, engine, monkeypatch):
    rnd = random.Random(8)
    repo = make_repo(tmp_path / "r")
    key = fake_immutable_secret(seed=81)
    lines = filler(700, rnd)
    lines.insert(250, "blob = '" + base64.b64encode(f"api: {key}".encode()).decode() + "'")
    repo.commit("v0", {"data.py": text(lines)})
    lines[10] = "    z = compute(tango)"
    repo.commit("v1", {"data.py": text(lines)})
    lines[249] = "    near = compute(romeo)"  # the line above it
    repo.commit("v2", {"data.py": text(lines)})
    _, first = same_both_ways(repo, engine, monkeypatch)
    for n in (0, 1, 2):
        [p] = first[repo.git("rev-parse", f"HEAD~{n}:data.py").strip()]
        assert p[1] == key and p[3] == 251 and p[6] == ("base64",)


def _random_edit(lines: list[str], rnd: random.Random) -> None:
    what = rnd.random()
    at = rnd.randrange(len(lines) + 1)
    keyed = [i for i, line in enumerate(lines) if "sk_imapik" in line or "AKIA" in line or "auth_token" in line or "cfg = " in line]
    if what < 0.2:
        lines[at:at] = filler(rnd.randint(1, 5), rnd)
    elif what < 0.32 and len(lines) > 60:
        del lines[at:at + rnd.randint(1, 8)]
    elif what < 0.42 and at < len(lines):
        lines[at] = lines[at][::-1]
    elif what < 0.55 and keyed:  # an edit next to a key, or of the key itself
        i = min(max(rnd.choice(keyed) + rnd.randint(-3, 3), 0), len(lines) - 1)
        line = lines[i]
        j = rnd.randrange(len(line)) if line else 0
        lines[i] = line[:j] + rnd.choice("AbQz9") + line[j + 1:]
    elif what < 0.65:
        lines.insert(at, f"api_secret = \"{fake_immutable_secret(seed=rnd.randrange(10**9))}\"")
    elif what < 0.72:
        key_id, secret = aws_pair(rnd)
        lines[at:at] = [f"id {key_id}", f"value {secret}"]
    elif what < 0.74:
        lines[at:at] = pem_block(rnd)
    elif what < 0.82:
        value = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(24))
        lines.insert(at, f"auth_token: {value}")
    elif what < 0.88:
        key = fake_immutable_secret(seed=rnd.randrange(10**9))
        lines.insert(at, "cfg = '" + base64.b64encode(f"key={key}".encode()).decode() + "'")
    elif what < 0.92:
        lines.insert(at, "KEY = 'sk_imapik-xxxxxxxxxxxxxxxxxxxx_000000'")  # a placeholder
    elif what < 0.96 and keyed:  # a key's line removed
        del lines[rnd.choice(keyed)]
    else:  # a block moved
        start = rnd.randrange(len(lines))
        block = lines[start:start + 10]
        del lines[start:start + 10]
        at = rnd.randrange(len(lines) + 1)
        lines[at:at] = block


def _random_history(repo, rnd: random.Random, commits: int, files: int = 4) -> None:
    contents = {f"f{i}.txt": filler(rnd.randint(400, 800), rnd) for i in range(files)}
    repo.commit("v0", {p: text(v) for p, v in contents.items()})
    for n in range(commits):
        changed = {}
        for path in rnd.sample(sorted(contents), rnd.randint(1, 2)):
            for _ in range(rnd.randint(1, 4)):
                _random_edit(contents[path], rnd)
            changed[path] = text(contents[path])
        if rnd.random() < 0.1:  # a rename (git sees it: the content is the same or close)
            old = rnd.choice(sorted(contents))
            new = f"r{n}/{old.rsplit('/', 1)[-1]}"
            for path, content in changed.items():
                repo.write(path, content)
            (repo.path / new).parent.mkdir(parents=True, exist_ok=True)
            repo.git("mv", old, new)
            contents[new] = contents.pop(old)
            changed.pop(old, None)
        repo.commit(f"c{n}", changed)


@pytest.mark.parametrize(("seed", "jobs"), [(101, 1), (202, 1), (303, 2), (404, 2)])
def test_random_histories_match_full_scans(tmp_path, engine, monkeypatch, seed, jobs):
    rnd = random.Random(seed)
    repo = make_repo(tmp_path / "r")
    _random_history(repo, rnd, 30)
    report, first = same_both_ways(repo, engine, monkeypatch, jobs=jobs)
    assert len(report.findings) >= 5  # the edits planted keys


def test_cli_switch_and_identical_json(tmp_path):
    rnd = random.Random(9)
    repo = make_repo(tmp_path / "r")
    _random_history(repo, rnd, 8)
    out = {}
    for name, env in (("full", {"KEYSCAN_HISTORY_INCREMENTAL": ""}), ("inc", {"KEYSCAN_HISTORY_INCREMENTAL": "1"})):
        res = run_keyscan("history", str(repo.path), "-f", "json", env=env)
        assert res.code in (0, 1), res.err
        out[name] = json.loads(res.out)
    stats = {name: doc.pop("stats") for name, doc in out.items()}
    assert out["inc"] == out["full"]
    assert "incremental_blobs" in stats["inc"] and "incremental_blobs" not in stats["full"]


def test_reach_of_patterns():
    assert history._reach(r"AKIA[A-Z0-9]{16}") == 0  # cannot cross a line
    assert history._reach(r"key[^\n]*=\s{0,4}(?P<secret>[a-z]{10})") == 3 + 1 + 4 + 10
    assert history._reach(r"BEGIN[\s\S]{0,400}END(?<=\s{0,2}END)") == 5 + 400 + 3 + 2 + 3
    assert history._reach(r"a\s+b") == float("inf")
    assert history._reach(r"(?P<q>['\n])x(?P=q)") == 3
