import hashlib
import hmac
import secrets

# Known-answer tests for our HMAC wrapper (RFC 4231 test case 2 style, our own vectors).
KAT_KEY = b"Jefe"
KAT_EXPECTED = "d94277204b0e9e2fd198a43c6414f86b8becfac87124f7088c8dcc97a4a1c35d"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def new_api_token() -> str:
    return "hl_" + secrets.token_urlsafe(32)


def token_fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()[:16]


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(digest, signature)


password_reset_token_ttl = 3600
api_key_prefix_length = 8
secret_key_path = "/run/secrets/signing.key"
token_url = "https://auth.harborlights.gg/oauth/token"
