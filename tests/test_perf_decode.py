"""The Hyperscan gate in front of the base64/hex decoder (decode/encodings.py)
changes which runs are tried, never what decodes."""
import base64
import binascii
import random
import string

import pytest

from keyscan.decode import decoded_variants
from keyscan.decode import encodings as enc
from helpers import ROOT

pytest.importorskip("hyperscan")
CORPUS = ROOT / "tests" / "corpus" / "files"
B64 = string.ascii_letters + string.digits + "+/"


def _runs(text, gated: bool, monkeypatch):
    monkeypatch.setattr(enc, "GATE_MIN_TEXT", 0 if gated else 10**12)
    return [(kind, r.start, r.end, r.text, list(r.offsets)) for kind, r in enc.base64_and_hex(text)]


def _same(text, monkeypatch):
    want = _runs(text, False, monkeypatch)
    assert _runs(text, True, monkeypatch) == want
    return want


def _with_bad_leads(rnd: random.Random, groups: int, bad_at: set[int]) -> str:
    """base64 of printable text, with the lead character of some groups
    replaced by one no printable text starts with."""
    raw = "".join(rnd.choice(string.ascii_letters + " :=_-") for _ in range(groups * 3))
    b64 = base64.b64encode(raw.encode()).decode()
    chars = list(b64)
    for g in bad_at:
        chars[4 * g] = rnd.choice("ABCDEFGHgh0123456789+/")
    return "".join(chars)


def test_runs_at_the_lead_threshold(monkeypatch):
    """Runs with as many bad leads as decode_base64 allows, placed to make
    the longest stretch of good leads as short as possible: the gate must
    still let every one through that decodes."""
    rnd = random.Random(5)
    decoded = 0
    for groups in range(6, 60):
        allowed = int(groups * 0.1 + 1e-9)
        for extra in (0, 1):
            bad = allowed + extra
            spaced = {(i + 1) * (groups + 1) // (bad + 1) - 1 for i in range(bad)}  # evenly: shortest longest stretch
            run = _with_bad_leads(rnd, groups, {g for g in spaced if g < groups})
            found = _same(f"x = '{run}'\n", monkeypatch)
            decoded += bool(found)
    assert decoded > 40


def test_hex_runs_at_the_threshold(monkeypatch):
    rnd = random.Random(6)
    decoded = 0
    for n in range(16, 60):
        raw = bytearray(rnd.choice(b"abcdefghijklmnop=:_") for _ in range(n))
        bad = int(n * 0.1 + 1e-9)
        for i in range(bad):
            raw[(i + 1) * (n + 1) // (bad + 1) - 1] = rnd.choice([0x0A, 0x09, 0x85])
        found = _same(f"h = {binascii.hexlify(bytes(raw)).decode()};\n", monkeypatch)
        decoded += bool(found)
    assert decoded > 30


def test_random_texts(monkeypatch):
    rnd = random.Random(7)
    for _ in range(300):
        parts = []
        for _ in range(rnd.randint(1, 12)):
            kind = rnd.random()
            if kind < 0.3:
                parts.append(base64.b64encode(bytes(rnd.choice(b"abcXYZ 012:=\n") for _ in range(rnd.randint(10, 80)))).decode())
            elif kind < 0.45:
                parts.append(binascii.hexlify(bytes(rnd.randrange(0x20, 0x7F) for _ in range(rnd.randint(8, 40)))).decode())
            elif kind < 0.7:
                parts.append("".join(rnd.choice(B64 + "_-") for _ in range(rnd.randint(5, 60))))
            else:
                parts.append("".join(rnd.choice(" \n\t=;,éü✓\"'") for _ in range(rnd.randint(1, 4))))
        _same("".join(parts), monkeypatch)


def test_real_files(monkeypatch):
    for path in sorted(CORPUS.rglob("*")):
        if path.is_file():
            _same(path.read_text(errors="replace"), monkeypatch)


def test_decoded_variants_unchanged(monkeypatch):
    text = "\n".join(p.read_text(errors="replace") for p in sorted(CORPUS.rglob("*")) if p.is_file())
    monkeypatch.setattr(enc, "GATE_MIN_TEXT", 10**12)
    plain = [(v.text, v.kinds, v.start, v.end) for v in decoded_variants(text)]
    monkeypatch.setattr(enc, "GATE_MIN_TEXT", 0)
    gated = [(v.text, v.kinds, v.start, v.end) for v in decoded_variants(text)]
    assert gated == plain and len(plain) > 10
