"""The payload-decoding validators (keyscan/engine/jwt_validators.py): Supabase
legacy JWT roles and Clerk publishable keys, alone and through a real scan."""
from __future__ import annotations

import base64
import json
import random
import string

import pytest

from keyscan.engine.jwt_validators import clerk_frontend_host, jwt_claims
from keyscan.engine.validators import VALIDATORS
from helpers import run_keyscan

B64URL = string.ascii_letters + string.digits + "_-"


def b64url(obj) -> str:
    raw = obj if isinstance(obj, bytes) else json.dumps(obj, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def make_jwt(payload, *, header=None, seed: int = 0) -> str:
    """A made-up HS256-shaped JWT: real header and payload, random signature."""
    rnd = random.Random(seed)
    signature = "".join(rnd.choice(B64URL) for _ in range(43))
    return f"{b64url(header or {'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload)}.{signature}"


def supabase_payload(role: str, **extra) -> dict:
    claims = {"iss": "supabase", "ref": "wkdhqmzrtbplxvncgoja", "role": role, "iat": 1718203311, "exp": 2033779311}
    claims.update(extra)
    return claims


SERVICE = make_jwt(supabase_payload("service_role"), seed=1)
ANON = make_jwt(supabase_payload("anon"), seed=2)


def clerk_key(host: str, mode: str = "test") -> str:
    return f"pk_{mode}_" + base64.b64encode(f"{host}$".encode()).decode().rstrip("=")


# --- Supabase roles -------------------------------------------------------------


def test_service_role_and_anon_are_told_apart():
    assert VALIDATORS["supabase-service-role"](SERVICE)
    assert not VALIDATORS["supabase-anon"](SERVICE)
    assert VALIDATORS["supabase-anon"](ANON)
    assert not VALIDATORS["supabase-service-role"](ANON)


def test_iss_is_optional_but_must_be_supabase_when_present():
    no_iss = make_jwt({"role": "service_role", "iat": 1700000000}, seed=3)
    assert VALIDATORS["supabase-service-role"](no_iss)
    demo = make_jwt({"role": "service_role", "iss": "supabase-demo"}, seed=4)
    assert not VALIDATORS["supabase-service-role"](demo)
    other = make_jwt({"role": "anon", "iss": "https://auth.acme.test"}, seed=5)
    assert not VALIDATORS["supabase-anon"](other)


@pytest.mark.parametrize("role", ["authenticated", "Service_Role", "service_role ", "", None, ["service_role"]])
def test_other_roles_are_neither(role):
    token = make_jwt(supabase_payload("x") | {"role": role}, seed=6)
    assert not VALIDATORS["supabase-service-role"](token)
    assert not VALIDATORS["supabase-anon"](token)


def test_missing_role_is_neither():
    token = make_jwt({"iss": "supabase", "ref": "wkdhqmzrtbplxvncgoja"}, seed=7)
    assert not VALIDATORS["supabase-service-role"](token)
    assert not VALIDATORS["supabase-anon"](token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "not a jwt",
        SERVICE.rsplit(".", 1)[0],  # two parts
        SERVICE.rsplit(".", 1)[0] + ".",  # empty signature
        SERVICE + ".extra",  # four parts
        SERVICE.replace("eyJ", "e!J", 1),  # header not base64url
        b64url(b"no json here") + "." + SERVICE.split(".", 1)[1],  # header not JSON
        b64url({"typ": "JWT"}) + "." + SERVICE.split(".", 1)[1],  # header without alg
        make_jwt(["service_role"], seed=8),  # payload is a list
        make_jwt(b"\xff\xfe\x00 not utf-8", seed=9),  # payload not UTF-8
        "eyJ" + "A" * 5000 + ".eyJ" + "B" * 5000 + ".sig",  # absurdly long
        "\u00e9yJ.\u00e9yJ.\u00e9",  # non-ASCII
    ],
)
def test_malformed_tokens_are_rejected_without_raising(token):
    assert jwt_claims(token) is None or not isinstance(jwt_claims(token).get("role"), str)
    assert not VALIDATORS["supabase-service-role"](token)
    assert not VALIDATORS["supabase-anon"](token)


def test_padded_segments_are_not_jwts():
    header, payload, sig = SERVICE.split(".")
    pad = "=" * (-len(payload) % 4) or "=="
    # JWTs use unpadded base64url (RFC 7515); `=` inside a segment is not that.
    assert not VALIDATORS["supabase-service-role"](f"{header}.{payload}{pad}.{sig}")
    assert VALIDATORS["supabase-service-role"](f"{header}.{payload}.{sig}")


# --- Clerk publishable keys -------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["brave-heron-57.clerk.accounts.dev", "clerk.shopnorth.io", "clerk.a.co", "accounts.quill-metrics.example.org"],
)
def test_clerk_publishable_key_decodes_to_its_host(host):
    for mode in ("test", "live"):
        key = clerk_key(host, mode)
        assert clerk_frontend_host(key) == host
        assert VALIDATORS["clerk-publishable"](key)
        assert not VALIDATORS["not-clerk-publishable"](key)


def test_padding_is_accepted():
    key = "pk_test_" + base64.b64encode(b"clerk.shopnorth.io$").decode()
    assert key.endswith("=")
    assert VALIDATORS["clerk-publishable"](key)


@pytest.mark.parametrize(
    "key",
    [
        "pk_test_wzFZi0pK8o4S8gXs9wTiBfPB",  # Stripe-shaped, random base62
        "pk_live_51d9JRv5MVgfId9D6tz3K2dW0kvl5qW5ONoLs4a78KeYr0HigtYSPG17WEKkg4pfrHTvKaGamdJFJYwUAgeds048jhUz1gLWeNk",
        "pk_test_" + base64.b64encode(b"clerk.shopnorth.io").decode().rstrip("="),  # no `$`
        "pk_test_" + base64.b64encode(b"not a host$").decode().rstrip("="),
        "pk_test_" + base64.b64encode(b"localhost$").decode().rstrip("="),  # no dot
        "pk_test_" + base64.b64encode(b"\xff\xfe.io$").decode().rstrip("="),
        "sk_test_" + base64.b64encode(b"clerk.shopnorth.io$").decode().rstrip("="),  # wrong prefix
        "pk_test_",
        "pk_test_!!!!",
    ],
)
def test_non_clerk_keys_are_not_clerk(key):
    assert not VALIDATORS["clerk-publishable"](key)
    if key.startswith("pk_"):
        assert VALIDATORS["not-clerk-publishable"](key)


# --- Through a real scan ---------------------------------------------------------------


def scan_json(tmp_path, files: dict[str, str]) -> list[dict]:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    res = run_keyscan("scan", "--format", "json", "--no-redact", str(tmp_path))
    assert res.code in (0, 1), res.err
    return json.loads(res.out)["findings"]


def test_scan_classes_supabase_keys_by_role(tmp_path):
    demo = make_jwt({"role": "service_role", "iss": "supabase-demo"}, seed=10)
    findings = scan_json(
        tmp_path,
        {
            ".env": f"SUPABASE_SERVICE_ROLE_KEY={SERVICE}\nNEXT_PUBLIC_SUPABASE_ANON_KEY={ANON}\n",
            "docker/.env.example": f"SERVICE_ROLE_KEY={demo}\n",
        },
    )
    by_secret = {}
    for f in findings:
        by_secret.setdefault(f["secret"], []).append(f)
    service = [f for f in by_secret.get(SERVICE, []) if f["rule_id"].startswith("supabase.")]
    anon = [f for f in by_secret.get(ANON, []) if f["rule_id"].startswith("supabase.")]
    assert [(f["rule_id"], f["key_class"], f["severity"]) for f in service] == [("supabase.service-role-jwt", "secret", "high")]
    assert [(f["rule_id"], f["key_class"], f["severity"]) for f in anon] == [("supabase.anon-jwt", "publishable", "info")]
    assert not [f for f in by_secret.get(demo, []) if f["rule_id"].startswith("supabase.")]


def test_scan_reports_stripe_and_clerk_keys_once_each(tmp_path):
    rnd = random.Random(11)

    def base62(n: int) -> str:
        return "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(n))

    clerk_sk = "sk_live_" + base62(42)
    stripe_sk = "sk_live_51" + base62(97)
    stripe_pk = "pk_test_" + base62(24)
    clerk_pk = clerk_key("brave-heron-57.clerk.accounts.dev")
    stripe_wh = "whsec_" + base62(32)
    clerk_wh = "whsec_" + base62(32)
    findings = scan_json(
        tmp_path,
        {
            ".env": (
                f"CLERK_SECRET_KEY={clerk_sk}\nSTRIPE_SECRET_KEY={stripe_sk}\n"
                f"NEXT_PUBLIC_STRIPE_KEY={stripe_pk}\nNEXT_PUBLIC_CLERK_PUBLISHABLE_KEY={clerk_pk}\n"
                f"STRIPE_WEBHOOK_SECRET={stripe_wh}\nCLERK_WEBHOOK_SIGNING_SECRET={clerk_wh}\n"
            )
        },
    )
    got = sorted((f["secret"], f["rule_id"]) for f in findings if f["rule_id"].split(".")[0] in ("stripe", "clerk"))
    assert got == sorted(
        [
            (clerk_sk, "clerk.secret-key"),
            (stripe_sk, "stripe.secret-key"),
            (stripe_pk, "stripe.publishable-key"),
            (clerk_pk, "clerk.publishable-key"),
            (stripe_wh, "stripe.webhook-secret"),
            (clerk_wh, "clerk.webhook-secret"),
        ]
    )
