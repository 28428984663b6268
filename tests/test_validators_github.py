"""The `github-checksum` validator: GitHub's classic tokens end in the CRC32 of
their 30 random characters, in base62 (0-9A-Za-z), padded to six with `0`.

The tests build tokens from the documented recipe with zlib as the oracle and
check the validator in the other direction (decoding the checksum), so the
two sides do not share code."""
from __future__ import annotations

import json
import random
import string
import zlib

import pytest

from keyscan.engine.validators import VALIDATORS
from tests.helpers import make_repo, run_keyscan

ALPHABET = string.digits + string.ascii_uppercase + string.ascii_lowercase
GO_ALPHABET = string.digits + string.ascii_lowercase + string.ascii_uppercase
PREFIXES = ("ghp", "gho", "ghu", "ghs", "ghr")

check = VALIDATORS["github-checksum"]


def encode(number: int, alphabet: str = ALPHABET) -> str:
    out = ""
    while number:
        number, digit = divmod(number, 62)
        out = alphabet[digit] + out
    return out.rjust(6, "0")


def decode(text: str) -> int:
    value = 0
    for ch in text:
        value = value * 62 + ALPHABET.index(ch)
    return value


def random_body(rnd: random.Random) -> str:
    return "".join(rnd.choice(ALPHABET) for _ in range(30))


def token(prefix: str, body: str) -> str:
    return f"{prefix}_{body}{encode(zlib.crc32(body.encode()))}"


@pytest.mark.parametrize("prefix", PREFIXES)
def test_tokens_built_from_the_documented_recipe_pass(prefix):
    rnd = random.Random(prefix)
    for _ in range(50):
        tok = token(prefix, random_body(rnd))
        assert decode(tok[-6:]) == zlib.crc32(tok[4:-6].encode())
        assert check(tok), tok


def test_every_single_character_change_is_caught():
    rnd = random.Random(7)
    tok = token("ghp", random_body(rnd))
    for i in range(4, len(tok)):
        for repl in (c for c in "0aZ9" if c != tok[i]):
            changed = tok[:i] + repl + tok[i + 1 :]
            assert not check(changed), changed


def test_checksum_is_left_padded_with_zero():
    rnd = random.Random(11)
    body = next(b for b in (random_body(rnd) for _ in range(10000)) if zlib.crc32(b.encode()) < 62**5)
    tok = token("ghs", body)
    assert tok[-6] == "0"
    assert check(tok)
    unpadded = f"ghs_{body}{encode(zlib.crc32(body.encode()))[1:]}"
    assert not check(unpadded)


def test_digit_order_matters():
    """The same CRC written with Go's 0-9a-zA-Z digits is not GitHub's checksum."""
    rnd = random.Random(3)
    for _ in range(20):
        body = random_body(rnd)
        crc = zlib.crc32(body.encode())
        if encode(crc, GO_ALPHABET) != encode(crc):
            assert not check(f"gho_{body}{encode(crc, GO_ALPHABET)}")
            return
    pytest.fail("no body gave different digits in the two alphabets")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "ghp",
        "ghp_",
        "ghp" + "A" * 36,  # no separator
        "ghp_" + "A" * 35,
        "ghp_" + "A" * 37,
        "ghp_" + "Ab3-" * 9,  # not base62
        "ghp_" + "é" * 36,  # not ASCII
    ],
)
def test_malformed_values_are_rejected(value):
    assert not check(value)


def test_scan_reports_only_checksum_valid_tokens(tmp_path):
    rnd = random.Random(2026)
    good = token("ghp", random_body(rnd))
    bad_body = random_body(rnd)
    bad = f"ghp_{bad_body}{encode((zlib.crc32(bad_body.encode()) + 1) % 2**32)}"
    repo = make_repo(tmp_path / "repo")
    repo.commit("config", {"deploy/ci.env": f"GITHUB_TOKEN={good}\nOTHER_TOKEN={bad}\n"})

    result = run_keyscan("scan", str(repo.path), "--format", "json", "--only", "github")

    assert result.code == 1, result.err
    report = json.loads(result.out)
    found = [f for f in report["findings"] if f["rule_id"] == "github.personal-access-token"]
    assert len(found) == 1
    assert found[0]["line"] == 1
    assert found[0]["secret"] != good and found[0]["secret"].startswith("ghp_")
    assert good not in result.out and bad not in result.out
