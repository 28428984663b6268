"""keyscan's cache folder is pruned: files of older rule sets and keyscan
versions go once unused for a month, files in use stay."""
import os
import subprocess
import sys
import time

from helpers import rule_file
from keyscan import diskcache

DAY = 86400


def _age(path, days):
    t = time.time() - days * DAY
    os.utime(path, (t, t))


def test_prune_removes_only_old_cache_files_and_stale_temporaries(tmp_path):
    old = [tmp_path / "superset-aaaa.hsdb", tmp_path / "head-bbbb.hsdb", tmp_path / "rules-cccc.json", tmp_path / "keywords-dddd.hsdb"]
    recent = [tmp_path / "superset-eeee.hsdb", tmp_path / "rules-ffff.json"]
    others = [tmp_path / "notes.txt", tmp_path / "superset.conf"]
    stale_tmp = tmp_path / ".head-bbbb.hsdb.4242.tmp"
    fresh_tmp = tmp_path / ".rules-ffff.json.4243.tmp"
    (tmp_path / "audit").mkdir()
    audit_file = tmp_path / "audit" / "rules-old.json"
    for p in [*old, *recent, *others, stale_tmp, fresh_tmp, audit_file]:
        p.write_bytes(b"x")
    for p in [*old, *others, audit_file]:
        _age(p, 40)
    _age(stale_tmp, 2)
    for p in recent:
        _age(p, 20)
    assert diskcache.prune(tmp_path) == len(old) + 1
    assert not any(p.exists() for p in [*old, stale_tmp])
    assert all(p.exists() for p in [*recent, *others, fresh_tmp, audit_file])


def test_a_cache_file_in_use_is_kept_and_a_forgotten_one_goes(tmp_path):
    """A run that loads the rules from the cache marks the file used; the
    next cache miss (here, a new rule folder's keyword database) prunes
    what no run has used for a month."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}
    env.pop("KEYSCAN_NO_CACHE", None)
    scan = [sys.executable, "-m", "keyscan", "scan", str(tmp_path / "src"), "-f", "json"]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("nothing here\n")
    assert subprocess.run(scan, env=env, capture_output=True).returncode == 0
    cache = tmp_path / "keyscan"
    in_use = sorted(cache.glob("rules-*.json"))
    assert len(in_use) == 1
    forgotten = cache / "superset-0123456789abcdef01234567.hsdb"
    forgotten.write_bytes(b"an old version's database")
    for p in [*cache.iterdir()]:
        _age(p, 40)
    # A run with the same rules: every file it loads is marked used.
    assert subprocess.run(scan, env=env, capture_output=True).returncode == 0
    assert time.time() - in_use[0].stat().st_mtime < DAY
    # A run with one more rule folder writes a new keyword database: a miss, so the folder is pruned.
    rules = tmp_path / "more-rules"
    rules.mkdir()
    (rules / "mine.toml").write_text(rule_file("mine.token", ["minetok_"], "minetok_(?P<secret>[a-z0-9]{24})", "minetok_4fqz8lr1tk0wm3xp9bn2vc7h", "4fqz8lr1tk0wm3xp9bn2vc7h"))
    res = subprocess.run([*scan, "--rules", str(rules)], env=env, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert in_use[0].exists()
    assert not forgotten.exists()
