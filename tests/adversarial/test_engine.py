"""Text crafted against the engine: keyword floods, near-miss keys, deeply
nested encodings, many keys in one file and pathological input for every
rule's regex. Times are never compared with a fixed number of seconds:
each test measures ordinary text in the same run and bounds the ratio."""
from __future__ import annotations

import base64
import json
import glob
import string
import sysconfig
import time
import urllib.parse

import pytest

from helpers import fake_immutable_secret
from keyscan.engine import Engine
from keyscan.models import Fragment
from keyscan.rulefile import load_ruleset
from keyscan.scan import scan_fragment

RULES = load_ruleset()
ENGINE = Engine(RULES)
KEY = fake_immutable_secret(seed=701)


def _ordinary(size: int) -> bytes:
    """Ordinary text: the Python standard library's own source."""
    buf = bytearray()
    for path in sorted(glob.glob(sysconfig.get_paths()["stdlib"] + "/*.py")):
        with open(path, "rb") as fh:
            buf += fh.read()
        if len(buf) >= size:
            break
    return bytes(buf[:size])


ORDINARY = _ordinary(1_000_000)


def per_mb(data: bytes | str, path: str = "f.txt", runs: int = 2) -> float:
    """Best of ``runs`` seconds per MB to scan ``data`` as one fragment."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    best = float("inf")
    for _ in range(runs):
        t = time.perf_counter()
        scan_fragment(ENGINE, Fragment(raw, path))
        best = min(best, time.perf_counter() - t)
    return best / (len(raw) / 1e6)


@pytest.fixture(scope="module")
def ordinary_rate() -> float:
    per_mb(ORDINARY[:50_000], runs=1)  # first use builds lazy state
    return per_mb(ORDINARY, runs=3)


def test_many_keys_in_one_file_scan_in_linear_time():
    """A file of keys assigned to password-like names makes a specific rule
    and the generic assignment rule match the same spans. Deciding which
    generic match a specific one covers is a bisection per match, so 8
    times the keys cost about 8 times the time (it used to compare every
    pair: 32,000 keys took over a minute)."""
    import random

    rnd = random.Random(7)

    def text(n: int) -> bytes:
        lines = []
        for _ in range(n):
            body = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(20))
            lines.append(f'password = "sk_imapik-{body}_{rnd.randrange(1 << 24):06x}"')
        return "\n".join(lines).encode()

    small, large = text(1_000), text(8_000)
    scan_fragment(ENGINE, Fragment(small[:500], "a.env"))

    def timed(data):
        t = time.perf_counter()
        found, _, errors = scan_fragment(ENGINE, Fragment(data, "a.env"))
        return time.perf_counter() - t, found, errors

    t_small, f_small, _ = timed(small)
    t_large, f_large, errors = timed(large)
    assert len(f_small) == 1_000 and len(f_large) == 8_000 and errors == []
    per_key_small, per_key_large = t_small / 1_000, t_large / 8_000
    assert per_key_large < 3 * per_key_small, (per_key_small, per_key_large)


SLOW_RULE = """format = 1
provider = "Slow"
[[rule]]
id = "slow.rule"
name = "Slow token"
description = "A pattern that backtracks catastrophically."
key_class = "secret"
keywords = ["slowkey"]
pattern = '(?P<secret>slowkey(?:a|aa)+b)'
[rule.rotation]
url = "https://example.com"
steps = ["Rotate it."]
[[rule.examples]]
text = "slowkeyaab"
secret = "slowkeyaab"
"""


def test_a_rule_that_gives_up_never_lets_a_scan_look_clean(tmp_path, monkeypatch, capsys):
    """A rule whose regex backtracks catastrophically on crafted input hits
    its time limit: the rule gives up on that file, the report's errors
    say so, the other rules still run, and the scan exits 2 (could not
    read everything), not 0, when nothing else was found. Otherwise a key
    placed next to the crafted input would pass a CI gate unseen."""
    from keyscan import cli
    from keyscan.engine import matcher

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "slow.toml").write_text(SLOW_RULE)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "crafted.txt").write_text("slowkey" + "a" * 40 + "\nslowkeyaab\n")
    monkeypatch.setattr(matcher, "TIMEOUT_BASE", 0.2)
    monkeypatch.chdir(tree)

    def run(*args):
        with pytest.raises(SystemExit) as exc:
            cli.main(["scan", "--rules", str(rules), "--only", "slow.rule", "-f", "json", *args])
        return exc.value.code, json.loads(capsys.readouterr().out)

    code, report = run()
    assert [e["kind"] for e in report["errors"]] == ["timeout"] and report["findings"] == []
    assert code == 2
    (tree / "also.txt").write_text(f"K = '{KEY}'\n")
    code, report = run("--only", "immutable")
    assert code == 1 and len(report["findings"]) == 1
