"""The bip39 and jwt-privileged validators, alone and through real scans of
real files and git repositories: seed phrases, EVM keys, privileged JWTs,
connection strings and the generic rule's place behind specific rules."""
from __future__ import annotations

import base64
import hashlib
import json
import random
import string

import pytest

from keyscan.engine import bip39
from keyscan.engine.jwt_privileged import decode, is_privileged, privileged_claims
from keyscan.engine.validators import VALIDATORS
from helpers import make_repo, run_keyscan

B64URL = string.ascii_letters + string.digits + "_-"
# Hardhat/Anvil account #0: derived from the published "test test ... junk"
# phrase; it must never be reported.
HARDHAT_0 = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def fake_phrase(n_bytes: int = 16, seed: int = 0) -> str:
    """A made-up, valid BIP-39 phrase from seeded random entropy."""
    return bip39.from_entropy(random.Random(seed).randbytes(n_bytes))


def fake_evm_key(seed: int = 0) -> str:
    rnd = random.Random(seed)
    return "".join(rnd.choice("0123456789abcdef") for _ in range(64))


def b64url(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj, separators=(",", ":")).encode()).decode().rstrip("=")


def make_jwt(payload: dict, header: dict | None = None, seed: int = 0) -> str:
    rnd = random.Random(seed)
    signature = "".join(rnd.choice(B64URL) for _ in range(43))
    return f"{b64url(header or {'alg': 'HS256', 'typ': 'JWT'})}.{b64url(payload)}.{signature}"


def scan_json(path, *args) -> dict:
    result = run_keyscan("scan", str(path), "--format", "json", "--no-baseline", *args)
    assert result.code in (0, 1), result.err
    return json.loads(result.out)


def rule_ids(report: dict) -> list[str]:
    return sorted(f["rule_id"] for f in report["findings"])


# --- the word list -----------------------------------------------------------


def test_wordlist_is_the_published_english_list():
    data = bip39.WORDLIST_PATH.read_bytes()
    assert hashlib.sha256(data).hexdigest() == bip39.WORDLIST_SHA256
    words = data.decode("ascii").split("\n")[:-1]
    assert len(words) == 2048 == len(set(words))
    assert words == sorted(words)
    assert all(3 <= len(w) <= 8 and w.isalpha() and w.islower() for w in words)
    assert bip39.wordlist()["abandon"] == 0 and bip39.wordlist()["zoo"] == 2047


# --- BIP-39 test vectors (entropy -> phrase, from the BIP's reference vectors) --

VECTORS = [
    ("00" * 16, "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about"),
    ("7f" * 16, "legal winner thank year wave sausage worth useful legal winner thank yellow"),
    ("80" * 16, "letter advice cage absurd amount doctor acoustic avoid letter advice cage above"),
    ("ff" * 16, "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong"),
    ("00" * 32, " ".join(["abandon"] * 23 + ["art"])),
    ("ff" * 32, " ".join(["zoo"] * 23 + ["vote"])),
]


@pytest.mark.parametrize("entropy_hex,phrase", VECTORS)
def test_bip39_reference_vectors(entropy_hex, phrase):
    assert bip39.from_entropy(bytes.fromhex(entropy_hex)) == phrase
    assert bip39.entropy(phrase.split()) == bytes.fromhex(entropy_hex)
    assert VALIDATORS["bip39"](phrase)


@pytest.mark.parametrize("n_bytes", [16, 20, 24, 28, 32])
def test_bip39_round_trip_every_length(n_bytes):
    rnd = random.Random(n_bytes)
    for _ in range(50):
        data = rnd.randbytes(n_bytes)
        phrase = bip39.from_entropy(data)
        assert len(phrase.split()) == n_bytes * 3 // 4
        assert bip39.entropy(phrase.split()) == data


def test_bip39_rejects_wrong_checksum_unknown_word_and_length():
    words = fake_phrase(seed=7).split()
    assert bip39.is_mnemonic(" ".join(words))
    # Every other last word: exactly 2**(11-4) = 128 of the 2048 words give a valid checksum.
    valid_last = [w for w in bip39.wordlist() if bip39.entropy(words[:-1] + [w]) is not None]
    assert len(valid_last) == 128
    wrong = next(w for w in bip39.wordlist() if w not in valid_last)
    assert not bip39.is_mnemonic(" ".join(words[:-1] + [wrong]))
    assert not bip39.is_mnemonic(" ".join(words[:-1] + ["bitcoins"]))  # not on the list
    assert not bip39.is_mnemonic(" ".join(words + ["zoo"]))  # 13 words
    assert not bip39.is_mnemonic(" ".join(words[:11]))  # 11 words
    assert not bip39.is_mnemonic("")
    assert bip39.is_mnemonic("  ".join(w.upper() for w in words))  # case and spacing do not matter


def test_bip39_random_word_lists_rarely_pass():
    rnd = random.Random(3)
    words = list(bip39.wordlist())
    passed = sum(bip39.is_mnemonic(" ".join(rnd.choice(words) for _ in range(12))) for _ in range(4000))
    assert 150 < passed < 350  # a 4-bit checksum: about 1 in 16


def test_from_entropy_rejects_bad_length():
    with pytest.raises(ValueError):
        bip39.from_entropy(b"\x01" * 15)


# --- jwt-privileged -----------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        {"sub": "svc", "role": "service_role", "iss": "postgrest"},
        {"sub": "ops", "roles": ["user", "admin"]},
        {"sub": "ci", "scope": "read:games admin:org"},
        {"sub": "ci", "scp": ["Games.Read", "Tenant.Admin"]},
        {"https://hasura.io/jwt/claims": {"x-hasura-default-role": "admin", "x-hasura-allowed-roles": ["admin", "user"]}},
        {"realm_access": {"roles": ["offline_access", "realm-admin"]}},
        {"cognito:groups": ["Administrators"]},
        {"https://studio.test/roles": ["superuser"]},
        {"sub": "root-bot", "is_admin": True},
        {"sub": "x", "permissions": {"admin": True, "read": True}},
    ],
)
def test_privileged_payloads(payload):
    token = make_jwt(payload)
    assert is_privileged(token) and VALIDATORS["jwt-privileged"](token)
    assert privileged_claims(decode(token)[1])


@pytest.mark.parametrize(
    "payload,header",
    [
        ({"sub": "player", "role": "authenticated"}, None),
        ({"sub": "player", "scope": "openid profile email"}, None),
        ({"name": "admin", "sub": "x"}, None),  # a name, not a role claim
        ({"sub": "x", "is_admin": False}, None),
        ({"sub": "x", "roles": ["admin"]}, {"alg": "none"}),  # unsigned
        ({"sub": "x", "roles": ["admin"]}, {"typ": "JWT"}),  # no algorithm
        ({"sub": "1234567890", "name": "John Doe", "admin": True, "iat": 1516239022}, None),  # jwt.io sample
        ({"iss": "supabase", "ref": "abc", "role": "service_role"}, None),  # Supabase's own rule
        ({"iss": "supabase-demo", "role": "service_role"}, None),
        ({"role": "service_role", "iat": 1}, None),  # the shape rules/supabase.toml reports
    ],
)
def test_not_privileged_or_exempt(payload, header):
    assert not is_privileged(make_jwt(payload, header))


@pytest.mark.parametrize(
    "token",
    ["", "a.b", "a.b.c.d", "eyJ!!!.eyJ.sig", "eyJhbGciOiJIUzI1NiJ9.W10.c2ln", "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln", "x" * 40000 + ".a.b"],
)
def test_malformed_tokens_are_not_privileged_and_do_not_raise(token):
    assert is_privileged(token) is False


def test_deeply_nested_payload_does_not_raise():
    payload: dict = {"roles": ["admin"]}
    for _ in range(200):
        payload = {"a": payload}
    assert is_privileged(make_jwt(payload)) is False  # too deep to look at


# --- through real files and the CLI -------------------------------------------


def test_scan_finds_phrase_and_key_but_not_published_test_values(workdir):
    phrase = fake_phrase(32, seed=11)
    key = fake_evm_key(seed=12)
    (workdir / ".env").write_text(
        f'MNEMONIC="{phrase}"\n'
        f"DEPLOYER_PRIVATE_KEY=0x{key}\n"
        f"LOCAL_PRIVATE_KEY=0x{HARDHAT_0}\n"
        'DEV_MNEMONIC="test test test test test test test test test test test junk"\n'
    )
    (workdir / "hardhat.config.js").write_text(
        f"module.exports = {{ networks: {{ zkevm: {{ url: RPC, accounts: ['0x{HARDHAT_0}', '0x{key}'] }} }} }};\n"
    )
    report = scan_json(workdir)
    assert rule_ids(report) == ["bip39.mnemonic", "evm.hardhat-accounts", "evm.private-key"]
    by_rule = {f["rule_id"]: f for f in report["findings"]}
    assert by_rule["bip39.mnemonic"]["key_class"] == "credential"
    assert by_rule["bip39.mnemonic"]["severity"] == "high"
    assert {f["line"] for f in report["findings"] if f["path"] == ".env"} == {1, 2}
    # Nothing of either secret is printed in full.
    text = run_keyscan("scan", str(workdir), "--no-baseline").out
    assert phrase not in text and key not in text and phrase.split()[3] not in text


def test_checksum_failure_is_not_reported(workdir):
    words = fake_phrase(seed=21).split()
    bad = next(w for w in bip39.wordlist() if bip39.entropy(words[:-1] + [w]) is None)
    (workdir / "wallet.txt").write_text("seed phrase: " + " ".join(words[:-1] + [bad]) + "\n")
    assert scan_json(workdir)["findings"] == []


def test_phrase_in_public_env_var_is_critical(workdir):
    (workdir / ".env.production").write_text(f"NEXT_PUBLIC_WALLET_MNEMONIC={fake_phrase(seed=5)}\n")
    [finding] = scan_json(workdir)["findings"]
    assert finding["rule_id"] == "bip39.mnemonic"
    assert finding["exposure"] == "public-env" and finding["severity"] == "critical"


def test_generic_rule_yields_to_specific_rules(workdir):
    rnd = random.Random(9)
    openai_key = "sk-proj-" + "".join(rnd.choice(B64URL) for _ in range(74)) + "T3BlbkFJ" + "".join(rnd.choice(B64URL) for _ in range(74))
    unknown = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(28))
    (workdir / "settings.py").write_text(f'OPENAI_API_KEY = "{openai_key}"\nBILLING_API_KEY = "{unknown}"\n')
    report = scan_json(workdir)
    assert rule_ids(report) == ["generic.secret-assignment", "openai.project-key"]
    generic = next(f for f in report["findings"] if f["rule_id"] == "generic.secret-assignment")
    assert generic["line"] == 2 and generic["severity"] == "medium"


def test_url_with_token_password_reported_once_by_the_token_rule(workdir):
    rnd = random.Random(4)
    openrouter = "sk-or-v1-" + "".join(rnd.choice("0123456789abcdef") for _ in range(64))
    (workdir / "deploy.sh").write_text(
        f"curl https://bot:{openrouter}@proxy.studio.io/v1/chat\n"
        "pip install --index-url https://ci:Xk3p9QvL2mW8rT5z@pypi.studio.io/simple pkg\n"
    )
    report = scan_json(workdir)
    assert rule_ids(report) == ["connection-string.http-basic-auth", "openrouter.api-key"]
    basic = next(f for f in report["findings"] if f["rule_id"] == "connection-string.http-basic-auth")
    assert basic["line"] == 2


def test_privileged_jwt_reported_once_supabase_key_left_to_its_rule(workdir):
    admin = make_jwt({"sub": "ops-bot", "roles": ["admin"], "iss": "https://auth.studio.test"}, seed=1)
    user = make_jwt({"sub": "player-1", "role": "authenticated"}, seed=2)
    supabase = make_jwt({"iss": "supabase", "ref": "qwertyuiopasdfghjklz", "role": "service_role", "iat": 1718203311, "exp": 2033779311}, seed=3)
    (workdir / "tokens.env").write_text(f"ADMIN_TOKEN={admin}\nUSER={user}\nSUPABASE_SERVICE_ROLE_KEY={supabase}\n")
    report = scan_json(workdir)
    found = {(f["rule_id"], f["line"]) for f in report["findings"]}
    assert ("jwt.privileged", 1) in found
    assert not any(rule == "jwt.privileged" and line != 1 for rule, line in found)
    assert ("supabase.service-role-key", 3) in found or any(r.startswith("supabase.") and line == 3 for r, line in found)


def test_pem_key_in_json_and_history(tmp_path):
    rnd = random.Random(8)
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "".join(rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(600))
    lines = "\n".join(body[i:i + 64] for i in range(0, len(body), 64))
    # json.dumps writes the newlines as \n escapes, as in a real service-account file.
    account = {"type": "service_account", "private_key": f"-----BEGIN PRIVATE KEY-----\n{lines}\n-----END PRIVATE KEY-----\n"}
    repo = make_repo(tmp_path / "repo")
    repo.commit("add service account", {"sa.json": json.dumps(account, indent=2)})
    repo.commit("remove it", {"sa.json": "{}"})
    result = run_keyscan("history", str(repo.path), "--format", "json", "--no-baseline")
    assert result.code == 1, result.err
    [finding] = json.loads(result.out)["findings"]
    assert finding["rule_id"] == "private-key.pkcs8"
    assert finding["secret"].startswith("-----BEGIN PRIVATE KEY-----") and body[40:80] not in finding["secret"]
    assert finding["lifecycle"]["present_at_head"] is False


def test_encrypted_key_has_lower_severity(workdir):
    rnd = random.Random(2)
    body = "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI" + "".join(rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(400))
    pem = "-----BEGIN ENCRYPTED PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END ENCRYPTED PRIVATE KEY-----\n"
    (workdir / "server.key").write_text(pem)
    [finding] = scan_json(workdir)["findings"]
    assert finding["rule_id"] == "private-key.encrypted" and finding["severity"] == "medium"


def test_service_account_key_file_is_reported_once(workdir):
    """A Google Cloud key file's PEM is left to the GCP rule, which reports the
    key by its private_key_id; a bare PKCS#8 key next to other fields is ours."""
    rnd = random.Random(6)
    body = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" + "".join(rnd.choice(string.ascii_letters + string.digits + "+/") for _ in range(500))
    pem = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(body[i:i + 64] for i in range(0, len(body), 64)) + "\n-----END PRIVATE KEY-----\n"
    key_id = "".join(rnd.choice("0123456789abcdef") for _ in range(40))
    google_order = {"type": "service_account", "project_id": "arcade-prod", "private_key_id": key_id, "private_key": pem}
    (workdir / "sa.json").write_text(json.dumps(google_order, indent=2))
    (workdir / "sa-sorted.json").write_text(json.dumps(google_order, indent=2, sort_keys=True))
    (workdir / "admin.json").write_text(json.dumps({"projectId": "arcade-prod", "privateKey": pem}, indent=2))
    report = scan_json(workdir)
    by_path = {}
    for f in report["findings"]:
        by_path.setdefault(f["path"], []).append(f["rule_id"])
    assert by_path["admin.json"] == ["private-key.pkcs8"]
    for path in ("sa.json", "sa-sorted.json"):
        assert len(by_path[path]) == 1 and by_path[path] != ["private-key.pkcs8"], by_path
