"""The baseline file format, in process: round trips, stable bytes, and
untrusted input that only ever fails with a one-line KeyscanError."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from keyscan import baseline as bl
from keyscan.errors import KeyscanError

HEX = "0123456789abcdef"
entries = st.builds(
    bl.Entry,
    rule_id=st.text(alphabet="abcdefghijklmnopqrstuvwxyz.-", min_size=1, max_size=30),
    hash=st.text(alphabet=HEX, min_size=64, max_size=64),
    path=st.none() | st.text(min_size=1, max_size=40).filter(lambda p: "\x00" not in p),
)


@settings(max_examples=200, deadline=None)
@given(salt=st.text(alphabet=HEX, min_size=32, max_size=32), items=st.lists(entries, max_size=20))
def test_round_trip_is_exact_and_bytes_do_not_depend_on_order(tmp_path_factory, salt, items):
    file = str(tmp_path_factory.getbasetemp() / "b.json")
    base = bl.new(file, salt).with_entries(items)
    data = bl.dumps(base)
    back = bl.parse(data, file)
    assert back.salt == salt and back.entries == frozenset(items)
    assert bl.dumps(back.with_entries(reversed(list(back.entries)))) == data
    n = len(set(items))
    assert data.count(b"\n") == (7 + n if n else 6)  # one line per entry
    assert sum(1 for line in data.splitlines() if line.startswith(b'    {"rule_id": ')) == n


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300) | st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=20), lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4)).map(lambda v: json.dumps(v).encode()))
def test_arbitrary_input_is_a_one_line_error_or_a_valid_baseline(data):
    try:
        base = bl.parse(data, "b.json")
    except KeyscanError as exc:
        msg = str(exc)
        assert msg.startswith("b.json: ") and "\n" not in msg
    else:
        assert bl.parse(bl.dumps(base), "b.json").entries == base.entries


def test_hash_is_keyed_by_the_salt_and_never_the_plain_secret():
    secret = "sk_imapik-Zq8Rw2Lm5Tx9Vb3Nc7Pa_4d1e9c"  # made up
    a, b = bl.new("a.json", "00" * 16), bl.new("b.json", "11" * 16)
    assert a.secret_hash(secret) != b.secret_hash(secret)
    assert a.secret_hash(secret) == bl.new("c.json", "00" * 16).secret_hash(secret)
    assert secret not in bl.dumps(a.with_entries([bl.Entry("immutable.secret-key", a.secret_hash(secret), "x.py")])).decode()
