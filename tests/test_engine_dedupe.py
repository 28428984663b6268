"""A key found as is and again through a decoder is reported once."""
from keyscan.engine import Engine
from keyscan.models import Fragment
from keyscan.rulefile import load_ruleset
from keyscan.scan import scan_fragment
from helpers import fake_immutable_secret

ENGINE = Engine(load_ruleset())


def test_plain_key_inside_a_percent_encoded_url_is_reported_once():
    key = fake_immutable_secret(seed=41)
    url = f"https://api.example.com/v1/mint?redirect=%2Fhome%3Fa%3D1&key={key}&x=%20y"
    findings, _, _ = scan_fragment(ENGINE, Fragment.from_text(url + "\n", "a.txt"))
    assert [(f.secret, f.source.get("decoded")) for f in findings] == [(key, None)]


def test_percent_encoded_key_is_still_found_through_the_decoder():
    key = "sk_imapik-$Qx7vR2mLk9Tz4Wb8Nc@_5e0a9f"
    encoded = key.replace("$", "%24").replace("@", "%40")
    findings, _, _ = scan_fragment(ENGINE, Fragment.from_text(f"https://x.test/?k={encoded}\n", "a.txt"))
    assert [(f.secret, f.source.get("decoded")) for f in findings] == [(key, ["percent"])]


def test_a_lone_match_is_kept_as_the_full_comparison_keeps_it():
    """_prefer_specific returns a list of fewer than two matches as it is;
    the full comparison (reached with a duplicate added) keeps the same."""
    from keyscan.engine.matcher import _prefer_specific

    texts = [
        f"IMX_KEY = '{fake_immutable_secret(seed=43)}'\n",  # specific
        "password = 'Xr4vB8nT2mQ9kL1pZ'\n",  # generic alone
        f"https://x.test/?k={fake_immutable_secret(seed=44).replace('_', '%5F')}\n",  # decoded only
    ]
    seen = 0
    for text in texts:
        matches = ENGINE.scan(Fragment.from_text(text, "a.txt")).matches
        for m in matches:
            assert _prefer_specific([m]) == [m] == _prefer_specific([m, m])
            seen += 1
    assert _prefer_specific([]) == []
    assert seen >= 3
