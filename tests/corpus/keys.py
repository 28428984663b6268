"""Made-up keys of each rule's documented shape, for the labelled corpus.

Every value here comes from a seeded random generator: none is a real key.
``KEYS[rule_id](g, variant)`` returns ``(text, secret)``: the text written
into a corpus file and the part of it a scanner should report (usually the
same string; a connection string is reported up to its host, a base64
wrapper is reported as the key it hides).

The shapes follow each vendor's documented format (see the comment at the
top of the matching ``rules/<provider>.toml``); the structure inside (JWT
claims, base64 of a JSON header, ASN.1 headers of PEM bodies, checksums) is
built the way the vendor builds it, so the keys are real-shaped, not just
strings that happen to fit a regex.
"""
from __future__ import annotations

import base64
import hashlib
import json
import random
import string
import zlib
from pathlib import Path
from typing import Callable

CLASSES = {
    "h": "0123456789abcdef",
    "H": "0123456789ABCDEF",
    "A": string.ascii_letters + string.digits,
    "a": string.ascii_lowercase + string.digits,
    "l": string.ascii_lowercase,
    "L": string.ascii_letters,
    "U": string.ascii_uppercase + string.digits,
    "C": string.ascii_uppercase,
    "Z": string.ascii_uppercase + "234567",  # RFC 4648 base32 (AWS access key ids)
    "d": string.digits,
    "b": string.ascii_letters + string.digits + "+/",
    "w": string.ascii_letters + string.digits + "_-",
    "z": string.ascii_lowercase + "234567",
    "B": "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz",
    "p": string.ascii_letters + string.digits + "!@%^*-_+=.~",
    "j": string.ascii_lowercase + string.digits + "!@#$%^&*(-_=+)",  # Django's get_random_secret_key()
}

BIP39_WORDS = (Path(__file__).resolve().parents[2] / "keyscan" / "data" / "bip39-english.txt").read_text().split()
GH_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
WORDS = ("amber", "harbor", "quiet", "orbit", "maple", "ember", "cobalt", "lumen", "fable", "prism", "tundra", "willow", "saffron", "granite")


class Gen:
    """Random strings of given shapes, from one seeded generator."""

    def __init__(self, seed: int) -> None:
        self.rnd = random.Random(seed)

    def s(self, cls: str, n: int) -> str:
        return "".join(self.rnd.choice(CLASSES[cls]) for _ in range(n))

    def fmt(self, spec: str) -> str:
        """``"sk_live_{A:24}"``: each ``{c:n}`` or ``{c:n-m}`` becomes n (to m) random characters of class c;
        ``{uuid}`` a random UUID v4."""
        out, i = [], 0
        while i < len(spec):
            if spec[i] == "{":
                j = spec.index("}", i)
                tok = spec[i + 1:j]
                if tok == "uuid":
                    out.append(self.uuid())
                else:
                    cls, _, size = tok.partition(":")
                    lo, _, hi = size.partition("-")
                    n = self.rnd.randint(int(lo), int(hi)) if hi else int(lo)
                    out.append(self.s(cls, n))
                i = j + 1
            else:
                out.append(spec[i])
                i += 1
        return "".join(out)

    def uuid(self) -> str:
        h = self.s("h", 32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{self.rnd.choice('89ab')}{h[17:20]}-{h[20:]}"

    def bytes(self, n: int) -> bytes:
        return bytes(self.rnd.getrandbits(8) for _ in range(n))

    def word(self) -> str:
        return self.rnd.choice(WORDS)

    def int(self, lo: int, hi: int) -> int:
        return self.rnd.randint(lo, hi)


def b64u(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return base64.b64encode(data).decode()


def compact(obj) -> str:
    return json.dumps(obj, separators=(",", ":"))


def jwt(g: Gen, payload: dict, alg: str = "HS256", kid: str | None = None) -> str:
    header = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    sig = g.s("w", 342 if alg.startswith("RS") else 43)
    return f"{b64u(compact(header))}.{b64u(compact(payload))}.{sig}"


def github_token(g: Gen, prefix: str) -> str:
    """2021 GitHub format: 30 base62 characters and their CRC32 in base62."""
    body = g.s("A", 30)
    crc = zlib.crc32(body.encode())
    digits = ""
    while crc:
        crc, rest = divmod(crc, 62)
        digits = GH_BASE62[rest] + digits
    return prefix + body + digits.rjust(6, "0")


def mnemonic(g: Gen, words: int = 12) -> str:
    ent_bits = words * 11 * 32 // 33
    entropy = g.bytes(ent_bits // 8)
    checksum = hashlib.sha256(entropy).digest()[0] >> (8 - ent_bits // 32)
    value = (int.from_bytes(entropy, "big") << (ent_bits // 32)) | checksum
    idx = [(value >> (11 * (words - 1 - i))) & 0x7FF for i in range(words)]
    return " ".join(BIP39_WORDS[i] for i in idx)


# DER prefixes of real key structures (lengths as in 2048-bit RSA, P-256,
# Ed25519 keys); the rest of each body is random.
DER = {
    "RSA": (bytes.fromhex("308204a40201000282010100"), 1180),
    "DSA": (bytes.fromhex("308201bb02010002818100"), 430),
    "PKCS8-RSA": (bytes.fromhex("308204bd020100300d06092a864886f70d0101010500048204a7"), 1190),
    "PKCS8-ED": (bytes.fromhex("302e020100300506032b657004220420"), 32),
    "ENC": (bytes.fromhex("3082051c304e06092a864886f70d01050d3041302906092a864886f70d01050c301c0408"), 1290),
}


def pem_body(g: Gen, kind: str) -> str:
    if kind == "EC":
        der = bytes.fromhex("3077020101" "0420") + g.bytes(32) + bytes.fromhex("a00a06082a8648ce3d030107a144034200") + b"\x04" + g.bytes(64)
    else:
        head, n = DER[kind]
        der = head + g.bytes(n)
    return b64(der)


def wrap(text: str, width: int = 64) -> list[str]:
    return [text[i:i + width] for i in range(0, len(text), width)]


def pem(g: Gen, label: str, kind: str, sep: str = "\n", indent: str = "", headers: tuple[str, ...] = ()) -> str:
    lines = [f"-----BEGIN {label}-----", *headers, *wrap(pem_body(g, kind)), f"-----END {label}-----"]
    return sep.join((indent + line if i else line) for i, line in enumerate(lines))


def openssh_key(g: Gen) -> str:
    pub = b"\x00\x00\x00\x0bssh-ed25519\x00\x00\x00\x20" + g.bytes(32)
    check = g.bytes(4)
    priv = check + check + pub + b"\x00\x00\x00\x40" + g.bytes(64) + b"\x00\x00\x00\x10deploy@ci-runner" + b"\x01\x02\x03\x04\x05"
    blob = (
        b"openssh-key-v1\x00" + b"\x00\x00\x00\x04none" * 2 + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x01"
        + len(pub).to_bytes(4, "big") + pub + len(priv).to_bytes(4, "big") + priv
    )
    lines = ["-----BEGIN OPENSSH PRIVATE KEY-----", *wrap(b64(blob), 70), "-----END OPENSSH PRIVATE KEY-----"]
    return "\n".join(lines)


def pgp_key(g: Gen) -> str:
    body = b64(b"\x95\x05\x98\x04" + g.bytes(900))
    lines = ["-----BEGIN PGP PRIVATE KEY BLOCK-----", "", *wrap(body), "=" + g.s("b", 4), "-----END PGP PRIVATE KEY BLOCK-----"]
    return "\n".join(lines)


def gcp_service_account(g: Gen, project: str) -> tuple[str, str]:
    key_id = g.s("h", 40)
    key = "\\n".join(["-----BEGIN PRIVATE KEY-----", *wrap(pem_body(g, "PKCS8-RSA")), "-----END PRIVATE KEY-----"]) + "\\n"
    doc = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": key_id,
        "private_key": "__KEY__",
        "client_email": f"deployer@{project}.iam.gserviceaccount.com",
        "client_id": g.s("d", 21),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": f"https://www.googleapis.com/robot/v1/metadata/x509/deployer%40{project}.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com",
    }
    text = json.dumps(doc, indent=2).replace("__KEY__", key)
    return text, key_id


def sentry_org_token(g: Gen) -> str:
    org = g.word() + "-" + g.word()
    payload = f'{{"iat": {g.int(1700000000, 1760000000)}.{g.s("d", 6)}, "url": "https://sentry.io", "region_url": "https://us.sentry.io", "org": "{org}"}}'
    return f"sntrys_{b64(payload)}_{g.s('b', 43)}"


def clerk_pk(g: Gen, env: str) -> str:
    host = f"{g.word()}-{g.word()}-{g.int(10, 99)}.clerk.accounts.dev" if env == "test" else f"clerk.{g.word()}{g.word()}.com"
    return f"pk_{env}_" + b64(host + "$").rstrip("=")


def mapbox(g: Gen, prefix: str) -> str:
    return prefix + b64u(compact({"u": g.word() + g.word(), "a": g.s("a", 25)})) + "." + g.s("w", 22)


def discord_token(g: Gen) -> str:
    uid = str(g.int(10**17, 1_400_000_000_000_000_000))
    return b64u(uid) + "." + g.s("w", 6) + "." + g.s("w", 38)


def op_token(g: Gen) -> str:
    doc = {
        "signInAddress": f"{g.word()}.1password.com",
        "userAuth": {"method": "SRPg-4096", "alg": "PBES2g-HS256", "iterations": 650000, "salt": g.s("w", 22)},
        "email": f"{g.s('l', 13)}@1passwordserviceaccounts.com",
        "srpX": g.s("h", 64),
        "muk": {"alg": "A256GCM", "ext": True, "k": g.s("w", 43), "key_ops": ["encrypt", "decrypt"], "kty": "oct", "kid": "mp"},
        "secretKey": f"A3-{g.s('U', 6)}-{g.s('U', 6)}-{g.s('U', 5)}-{g.s('U', 5)}-{g.s('U', 5)}-{g.s('U', 5)}",
        "throttleSecret": {"seed": g.s("h", 64), "uuid": g.s("U", 26)},
        "deviceUuid": g.s("a", 26),
    }
    return "ops_" + b64u(compact(doc))


def jfrog_reference(g: Gen) -> str:
    while True:
        tok = b64(f"reftkn:01:{g.int(1_800_000_000, 2_000_000_000)}:{g.s('A', 27)}")
        if tok.isalnum():
            return tok


def bedrock_key(g: Gen) -> str:
    secret = b64(g.bytes(32))
    return "ABSK" + b64(f"BedrockAPIKey-{g.s('a', 4)}-at-{g.s('d', 12)}:{secret}")


def grafana_cloud(g: Gen) -> str:
    return "glc_" + b64(compact({"o": str(g.int(100000, 999999)), "n": f"{g.word()}-ci", "k": g.s("A", 24), "m": {"r": "prod-eu-west-2"}}))


def grafana_legacy(g: Gen) -> str:
    return b64(compact({"k": g.s("A", 32), "n": g.word(), "id": g.int(1, 9)}))


def intercom(g: Gen) -> str:
    u = g.uuid().replace("-", "_")
    return b64(f"tok:{u}:1:0")


def snyk_token(g: Gen, kind: str) -> str:
    payload = compact({"e": g.int(1770000000, 1800000000), "h": "snyk.io", "j": g.s("w", 22), "s": g.s("w", 22), "tid": g.s("w", 22)})
    return f"snyk_{kind}at.{g.s('h', 8)}.{b64u(payload)}.{g.s('w', 43)}"


def github_stateless(g: Gen) -> str:
    app = g.int(100000, 2000000)
    payload = {"iss": "github", "aid": app, "iid": g.int(10_000_000, 90_000_000), "exp": g.int(1770000000, 1800000000), "rid": g.s("h", 12)}
    return f"ghs_{app}_{jwt(g, payload, 'RS256')}"


def supabase_jwt(g: Gen, role: str) -> str:
    now = g.int(1690000000, 1740000000)
    return jwt(g, {"iss": "supabase", "ref": g.s("l", 20), "role": role, "iat": now, "exp": now + 315360000})


def azure_ident(g: Gen, sig: str, total: int, pad: str) -> str:
    """Azure "identifiable" keys: random base64, a 4-character signature near the end, padding."""
    pre = total - len(sig) - 6 - len(pad)
    if pad == "==":
        return g.s("b", pre) + sig + g.s("b", 5) + g.rnd.choice("AQgw") + pad
    return g.s("b", pre) + sig + g.rnd.choice("ABCDEFGHIJKLMNOP") + g.s("b", 5) + pad


def adyen(g: Gen) -> str:
    return "AQE" + g.s("b", 83) + "=-" + g.s("b", 43) + "=-" + g.s("A", 3) + "&" + g.s("A", 2) + "%" + g.s("A", 6)


KeyFn = Callable[[Gen, str], tuple[str, str]]


def same(fn: Callable[[Gen, str], str]) -> KeyFn:
    return lambda g, v: (lambda k: (k, k))(fn(g, v))


def spec(*forms: str, **variants: str) -> KeyFn:
    """A key from a ``Gen.fmt`` spec; named variants pick another spec."""

    def make(g: Gen, v: str) -> tuple[str, str]:
        k = g.fmt(variants[v] if v else forms[0])
        return k, k

    return make


def url_cred(scheme: str, user: str, host: str, tail: str, pw: str = "{A:20}") -> KeyFn:
    """``scheme://user:password@host`` + tail; the finding is the URL up to the host."""

    def make(g: Gen, v: str) -> tuple[str, str]:
        head = f"{scheme}://{user}:{g.fmt(pw)}@{host}"
        return head + tail, head

    return make


def b64wrap(fn: KeyFn, before: str = "", after: str = "") -> KeyFn:
    """The key base64-encoded (a Kubernetes Secret, a docker auth): found by decoding."""

    def make(g: Gen, v: str) -> tuple[str, str]:
        _, secret = fn(g, v)
        return b64(before + secret + after), secret

    return make


KEYS: dict[str, KeyFn] = {
    "adyen.api-key": same(lambda g, v: adyen(g)),
    "adyen.client-key": spec("live_{U:32}", test="test_{U:32}"),
    "airtable.personal-access-token": spec("pat{A:14}.{h:64}"),
    "alchemy.api-key-url": lambda g, v: (lambda k: (f"https://{v or 'eth-mainnet'}.g.alchemy.com/v2/{k}", k))(g.fmt("{w:32}")),
    "alchemy.access-token": spec("alcht_{A:30}"),
    "algolia.admin-key": spec("{h:32}"),
    "algolia.search-key": spec("{h:32}"),
    "alibaba.access-key-id": spec("LTAI5t{A:18}"),
    "alibaba.access-key-secret": spec("{A:30}"),
    "anthropic.api-key": spec("sk-ant-api03-{w:93}AA"),
    "anthropic.admin-key": spec("sk-ant-admin01-{w:93}AA"),
    "atlassian.api-token": spec("ATATT3xFfGF0{w:171}={H:8}"),
    "atlassian.legacy-api-token": spec("{A:24}"),
    "aws.access-key-id": spec("AKIA{Z:16}", sts="ASIA{Z:16}"),
    "aws.access-key-with-secret": spec("{b:40}"),
    "aws.secret-access-key": spec("{b:40}"),
    "aws.session-token": spec("IQoJb3JpZ2luX2Vj{b:340}", legacy="FwoGZXIvYXdz{b:300}"),
    "aws.bedrock-api-key": same(lambda g, v: bedrock_key(g)),
    "azure.storage-account-key": same(lambda g, v: azure_ident(g, "+ASt", 88, "==") if v == "ident" else g.fmt("{b:86}==")),
    "azure.cosmos-db-key": same(lambda g, v: azure_ident(g, "ACDb", 88, "==") if v == "ident" else g.fmt("{b:86}==")),
    "azure.storage-sas-token": spec("{b:43}=", url="{A:30}%2B{A:8}%2F{A:3}%3D"),
    "azure.entra-client-secret": spec("{w:3}8Q~{w:34}"),
    "azure.service-bus-key": same(lambda g, v: azure_ident(g, "+ASb", 44, "=") if v == "ident" else g.fmt("{b:43}=")),
    "azure.iot-hub-key": same(lambda g, v: azure_ident(g, "AIoT", 44, "=") if v == "ident" else g.fmt("{b:43}=")),
    "azure.devops-pat": same(lambda g, v: g.fmt("{A:52}JQQJ99{A:1}B{A:16}AZDO{A:4}") if v == "ident" else g.fmt("{z:52}")),
    "azure.functions-key": spec("{w:44}AzFu{w:5}w=="),
    "azure.container-registry-password": spec("{b:42}+ACRB{b:5}"),
    "azure.redis-cache-key": same(lambda g, v: azure_ident(g, "AzCa", 44, "=") if v == "ident" else g.fmt("{b:43}=")),
    "bip39.mnemonic": same(lambda g, v: mnemonic(g, int(v or 12))),
    "bitbucket.app-password": spec("ATBB{A:32}"),
    "bitbucket.access-token": spec("ATCTT3xFfGN0{w:171}={H:8}"),
    "brevo.api-key": spec("xkeysib-{h:64}-{A:16}"),
    "brevo.smtp-key": spec("xsmtpsib-{h:64}-{A:16}"),
    "buildkite.api-access-token": spec("bkua_{h:40}"),
    "buildkite.agent-token": spec("bkct_{A:3}.{A:64}", agent="bkar_{A:52}"),
    "circleci.personal-api-token": spec("CCIPAT_{B:22}_{h:40}"),
    "circleci.project-api-token": spec("CCIPRJ_{B:22}_{h:40}"),
    "circleci.legacy-api-token": spec("{h:40}"),
    "clerk.secret-key": spec("sk_live_{A:42}", test="sk_test_{A:42}"),
    "clerk.publishable-key": same(lambda g, v: clerk_pk(g, v or "live")),
    "clerk.webhook-secret": spec("whsec_{b:32}"),
    "cloudflare.api-token": spec("cfut_{A:40}{h:8}", account="cfat_{A:40}{h:8}"),
    "cloudflare.global-api-key": spec("{h:37}", new="cfk_{A:40}{h:8}"),
    "cloudflare.legacy-api-token": spec("{w:40}"),
    "cloudflare.origin-ca-key": spec("v1.0-{h:24}-{h:146}"),
    "cohere.api-key": spec("{A:40}"),
    "coinbase-commerce.api-key": same(lambda g, v: g.uuid()),
    "coinbase-commerce.webhook-secret": same(lambda g, v: g.uuid()),
    "connection-string.postgres": url_cred("postgresql", "app_rw", "orders-db.cluster-c8x2k.eu-west-1.rds.amazonaws.com", ":5432/orders?sslmode=require"),
    "connection-string.mysql": url_cred("mysql", "shop", "mysql-primary.internal", ":3306/shop", "{A:18}"),
    "connection-string.mongodb": url_cred("mongodb+srv", "ingest", "cluster0.k2m9q.mongodb.net", "/events?retryWrites=true&w=majority"),
    "connection-string.redis": url_cred("rediss", "default", "redis-17402.c250.eu-central-1-1.ec2.redns.redis-cloud.com", ":17402"),
    "connection-string.amqp": url_cred("amqps", "worker", "b-7d1e.mq.eu-west-1.amazonaws.com", ":5671/%2F"),
    "connection-string.sqlserver": spec("{A:14}!{A:4}%{A:3}"),
    "connection-string.http-basic-auth": url_cred("https", "ci-deploy", "nexus.buildfarm.internal", "/repository/pypi-private/simple/", "{A:24}"),
    "contentful.personal-access-token": spec("CFPAT-{w:43}"),
    "contentful.preview-token": spec("{w:43}"),
    "contentful.delivery-token": spec("{w:43}"),
    "databricks.personal-access-token": spec("dapi{h:32}", suffix="dapi{h:32}-2"),
    "datadog.api-key": spec("{h:32}"),
    "datadog.app-key": spec("{h:40}"),
    "deepseek.api-key": spec("sk-{h:32}"),
    "digitalocean.personal-access-token": spec("dop_v1_{h:64}"),
    "digitalocean.oauth-token": spec("doo_v1_{h:64}"),
    "digitalocean.refresh-token": spec("dor_v1_{h:64}"),
    "discord.bot-token": same(lambda g, v: discord_token(g)),
    "discord.webhook-url": spec("https://discord.com/api/webhooks/{d:19}/{w:68}"),
    "docker.hub-access-token": lambda g, v: (lambda k: (b64("harborci:" + k), k) if v == "auth" else (k, k))(
        g.fmt("dckr_oat_{w:32}" if v == "oat" else "dckr_pat_{w:27}")),
    "doppler.token": spec("dp.st.prd.{A:43}", personal="dp.pt.{A:43}"),
    "elevenlabs.api-key": spec("sk_{h:48}"),
    "etherscan.api-key": spec("{U:34}"),
    "evm.private-key": lambda g, v: (lambda k: (k if v == "bare" else "0x" + k, k))(g.s("h", 64)),
    "evm.hardhat-accounts": lambda g, v: (lambda k: ("0x" + k, k))(g.s("h", 64)),
    "firebase.web-api-key": spec("AIzaSy{w:33}"),
    "firebase.fcm-server-key": spec("AAAA{w:7}:APA91b{w:134}"),
    "fireworks.api-key": spec("fw_{A:24}"),
    "flyio.macaroon-token": spec("fm2_lJPE{b:400}"),
    "flyio.legacy-token": spec("fo1_{w:43}"),
    "gcp.service-account-key": lambda g, v: gcp_service_account(g, v or "harbor-prod-4821"),
    "gcp.api-key": spec("AIzaSy{w:33}"),
    "gcp.oauth-client-secret": spec("GOCSPX-{w:28}"),
    "gcp.maps-browser-key": spec("AIzaSy{w:33}"),
    "generic.secret-assignment": spec(
        "{A:32}", b64="{b:43}=", hex="{h:64}", hex128="{h:128}", mixed="{A:12}-{A:10}.{A:8}",
        django="{j:50}", pinata="{h:20}",
    ),
    "github.personal-access-token": lambda g, v: (lambda k: (b64("ada-harbor:" + k), k) if v == "docker" else (k, k))(github_token(g, "ghp_")),
    "github.oauth-access-token": same(lambda g, v: github_token(g, "gho_")),
    "github.app-user-token": same(lambda g, v: github_token(g, "ghu_")),
    "github.app-installation-token": same(lambda g, v: github_token(g, "ghs_")),
    "github.app-installation-token-stateless": same(lambda g, v: github_stateless(g)),
    "github.app-refresh-token": spec("ghr_{A:76}"),
    "github.fine-grained-pat": spec("github_pat_{A:22}_{A:59}"),
    "github.legacy-token": spec("{h:40}"),
    "github.oauth-client-secret": spec("{h:40}"),
    "gitlab.personal-access-token": spec("glpat-{w:20}", routable="glpat-{w:27}.01.{a:9}"),
    "gitlab.deploy-token": spec("gldt-{w:20}"),
    "gitlab.runner-authentication-token": spec("glrt-t1_{w:27}.01.{a:9}", old="glrt-{w:20}"),
    "gitlab.runner-registration-token": spec("GR1348941{w:20}"),
    "gitlab.pipeline-trigger-token": spec("glptt-{h:40}"),
    "gitlab.ci-job-token": spec("glcbt-{a:2}_{w:20}"),
    "gitlab.feed-token": spec("glft-{w:20}"),
    "gitlab.incoming-mail-token": spec("glimt-{a:25}"),
    "gitlab.oauth-application-secret": spec("gloas-{h:64}"),
    "gitlab.scim-token": spec("glsoat-{w:20}"),
    "gitlab.agent-token": spec("glagent-{w:50}"),
    "gitlab.feature-flags-client-token": spec("glffct-{w:20}"),
    "grafana.service-account-token": spec("glsa_{A:32}_{h:8}"),
    "grafana.cloud-access-policy-token": same(lambda g, v: grafana_cloud(g)),
    "grafana.api-key": same(lambda g, v: grafana_legacy(g)),
    "groq.api-key": spec("gsk_{A:52}"),
    "heroku.api-key": spec("HRKU-AA{w:58}"),
    "heroku.legacy-api-key": same(lambda g, v: g.uuid()),
    "honeycomb.ingest-key": spec("hcaik_01{a:56}"),
    "honeycomb.api-key": spec("{A:22}"),
    "huggingface.user-token": spec("hf_{L:34}"),
    "huggingface.org-token": spec("api_org_{L:34}"),
    "ibm.cloud-api-key": spec("{w:44}"),
    "immutable.secret-key": spec("sk_imapik-{A:20}_{h:6}", test="sk_imapik-test-{A:20}_{h:6}"),
    "immutable.publishable-key": spec("pk_imapik-{A:20}", test="pk_imapik-test-{A:20}"),
    "infura.api-key-url": lambda g, v: (lambda k: (f"https://{v or 'mainnet'}.infura.io/v3/{k}", k))(g.fmt("{h:32}")),
    "infura.api-key-secret": spec("{h:32}"),
    "intercom.access-token": same(lambda g, v: intercom(g)),
    "jenkins.api-token": spec("11{h:32}"),
    "jfrog.api-key": spec("AKCp{A:69}"),
    "jfrog.reference-token": same(lambda g, v: jfrog_reference(g)),
    "jwt.privileged": same(lambda g, v: jwt(g, {
        "sub": "svc-" + g.word(),
        "https://hasura.io/jwt/claims": {"x-hasura-default-role": "admin", "x-hasura-allowed-roles": ["admin", "user"]},
        "iat": g.int(1700000000, 1760000000),
    }) if v != "roles" else jwt(g, {"iss": "https://auth." + g.word() + ".io", "sub": "ops-bot", "roles": ["admin", "deploy"], "exp": 1893456000}, "RS256", "k1")),
    "langsmith.api-key": spec("lsv2_pt_{h:32}_{h:10}", sk="lsv2_sk_{h:32}_{h:10}"),
    "launchdarkly.access-token": same(lambda g, v: "api-" + g.uuid()),
    "launchdarkly.sdk-key": same(lambda g, v: "sdk-" + g.uuid()),
    "launchdarkly.mobile-key": same(lambda g, v: "mob-" + g.uuid()),
    "launchdarkly.client-side-id": spec("{h:24}"),
    "linear.api-key": spec("lin_api_{A:40}"),
    "linode.api-token": spec("{h:64}"),
    "mailchimp.api-key": spec("{h:32}-us21"),
    "mailchimp.transactional-api-key": spec("md-{w:22}"),
    "mailgun.api-key-legacy": spec("key-{h:32}"),
    "mailgun.api-key": spec("{h:32}-{h:8}-{h:8}"),
    "mailgun.webhook-signing-key": spec("{h:32}"),
    "mailgun.public-validation-key": spec("pubkey-{h:32}"),
    "mapbox.secret-token": same(lambda g, v: mapbox(g, "sk.")),
    "mapbox.public-token": same(lambda g, v: mapbox(g, "pk.")),
    "mapbox.temporary-token": same(lambda g, v: mapbox(g, "tk.")),
    "microsoft-teams.incoming-webhook": same(lambda g, v: f"https://{g.word()}corp.webhook.office.com/webhookb2/{g.uuid()}@{g.uuid()}/IncomingWebhook/{g.s('h', 32)}/{g.uuid()}/V2{g.s('w', 45)}"),
    "microsoft-teams.workflow-webhook": spec("https://default{h:32}.0e.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/{h:32}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={w:43}"),
    "mistral.api-key": spec("{A:32}"),
    "moralis.api-key": same(lambda g, v: jwt(g, {"nonce": g.uuid(), "orgId": str(g.int(100000, 400000)), "userId": str(g.int(100000, 900000)), "typeId": g.uuid(), "typ": "JWT", "iat": 1735000000, "exp": 4890760000})),
    "netlify.access-token": spec("nfp_{A:36}"),
    "netlify.legacy-token": spec("{w:43}"),
    "newrelic.user-api-key": spec("NRAK-{U:27}"),
    "newrelic.insert-key": spec("NRII-{w:32}"),
    "newrelic.browser-key": spec("NRJS-{h:19}"),
    "newrelic.license-key": spec("eu01xx{h:30}NRAL", hex="{h:40}"),
    "notion.integration-token": spec("ntn_{d:11}{A:35}", legacy="secret_{A:43}"),
    "npm.access-token": spec("npm_{A:36}"),
    "nuget.api-key": spec("oy2{z:43}"),
    "okta.api-token": spec("00{w:40}"),
    "onepassword.service-account-token": same(lambda g, v: op_token(g)),
    "openai.project-key": spec("sk-proj-{w:74}T3BlbkFJ{w:74}"),
    "openai.service-account-key": spec("sk-svcacct-{w:74}T3BlbkFJ{w:74}"),
    "openai.admin-key": spec("sk-admin-{w:58}T3BlbkFJ{w:58}"),
    "openai.legacy-key": spec("sk-{A:20}T3BlbkFJ{A:20}"),
    "openrouter.api-key": spec("sk-or-v1-{h:64}"),
    "paddle.api-key": spec("pdl_live_apikey_01{a:24}_{A:22}_{A:3}", sandbox="pdl_sdbx_apikey_01{a:24}_{A:22}_{A:3}"),
    "paddle.client-side-token": spec("live_{h:27}", test="test_{h:27}"),
    "paypal.braintree-access-token": spec("access_token$production${a:16}${h:32}", sandbox="access_token$sandbox${a:16}${h:32}"),
    "paypal.client-secret": spec("E{w:79}"),
    "paypal.braintree-private-key": spec("{h:32}"),
    "perplexity.api-key": spec("pplx-{A:48}"),
    "pinata.jwt": same(lambda g, v: jwt(g, {
        "userInformation": {"id": g.uuid(), "email": f"ops@{g.word()}.studio", "email_verified": True, "status": "ACTIVE"},
        "authenticationType": "scopedKey", "scopedKeyKey": g.s("h", 20), "scopedKeySecret": g.s("h", 64), "exp": 1790000000, "iat": 1758000000,
    })),
    "pinata.api-secret": spec("{h:64}"),
    "pinecone.api-key": spec("pcsk_{A:5}_{A:64}"),
    "pinecone.legacy-key": same(lambda g, v: g.uuid()),
    "plaid.access-token": same(lambda g, v: f"access-{v or 'production'}-{g.uuid()}"),
    "plaid.secret": spec("{h:30}"),
    "posthog.personal-api-key": spec("phx_{A:47}"),
    "posthog.project-api-key": spec("phc_{A:43}"),
    "postmark.server-token": same(lambda g, v: g.uuid()),
    "postmark.account-token": same(lambda g, v: g.uuid()),
    "private-key.rsa": same(lambda g, v: pem(g, "RSA PRIVATE KEY", "RSA", indent=v)),
    "private-key.ec": same(lambda g, v: pem(g, "EC PRIVATE KEY", "EC", indent=v)),
    "private-key.dsa": same(lambda g, v: pem(g, "DSA PRIVATE KEY", "DSA")),
    "private-key.openssh": same(lambda g, v: openssh_key(g)),
    "private-key.pkcs8": same(lambda g, v: pem(g, "PRIVATE KEY", "PKCS8-ED" if v == "ed25519" else "PKCS8-RSA", sep="\\n" if v == "escaped" else "\n")),
    "private-key.pgp": same(lambda g, v: pgp_key(g)),
    "private-key.encrypted": same(lambda g, v: pem(g, "ENCRYPTED PRIVATE KEY", "ENC") if v != "legacy" else pem(
        g, "RSA PRIVATE KEY", "RSA", headers=("Proc-Type: 4,ENCRYPTED", f"DEK-Info: AES-256-CBC,{g.s('H', 32)}", ""))),
    "pulumi.access-token": spec("pul-{h:40}"),
    "pypi.api-token": spec("pypi-AgEIcHlwaS5vcmc{w:160}", test="pypi-AgENdGVzdC5weXBpLm9yZw{w:160}"),
    "quicknode.endpoint-token": lambda g, v: (lambda k: (f"https://{g.word()}-{g.word()}-{g.word()}.{v or 'matic'}.quiknode.pro/{k}/", k))(g.fmt("{h:40}")),
    "railway.api-token": same(lambda g, v: g.uuid()),
    "razorpay.key-id": spec("rzp_live_{A:14}", test="rzp_test_{A:14}"),
    "razorpay.key-secret": spec("{A:24}"),
    "render.api-key": spec("rnd_{A:32}"),
    "replicate.api-token": spec("r8_{A:37}"),
    "resend.api-key": spec("re_{A:8}_{A:24}"),
    "rubygems.api-key": spec("rubygems_{h:48}"),
    "segment.write-key": spec("{A:32}"),
    "sendgrid.api-key": spec("SG.{w:22}.{w:43}"),
    "sentry.org-auth-token": same(lambda g, v: sentry_org_token(g)),
    "sentry.user-auth-token": spec("sntryu_{h:64}"),
    "sentry.dsn": spec("https://{h:32}@o45{d:14}.ingest.us.sentry.io/45{d:14}", old="https://{h:32}@o{d:6}.ingest.sentry.io/{d:7}"),
    "shopify.access-token": spec("shpat_{h:32}"),
    "shopify.custom-app-token": spec("shpca_{h:32}"),
    "shopify.private-app-password": spec("shppa_{h:32}"),
    "shopify.shared-secret": spec("shpss_{h:32}"),
    "slack.bot-token": spec("xoxb-{d:12}-{d:13}-{A:24}"),
    "slack.user-token": spec("xoxp-{d:12}-{d:12}-{d:13}-{a:32}"),
    "slack.app-level-token": spec("xapp-1-A{U:10}-{d:13}-{h:64}"),
    "slack.rotating-access-token": spec("xoxe.xoxb-1-{A:140}"),
    "slack.refresh-token": spec("xoxe-1-{A:140}"),
    "slack.legacy-token": spec("xoxs-{d:11}-{d:11}-{d:13}-{h:64}"),
    "slack.incoming-webhook": spec("https://hooks.slack.com/services/T{U:10}/B{U:10}/{A:24}"),
    "slack.workflow-webhook": spec("https://hooks.slack.com/triggers/T{U:10}/{d:16}/{h:32}"),
    "slack.signing-secret": spec("{h:32}"),
    "snyk.access-token": same(lambda g, v: snyk_token(g, "s" if v == "service" else "u")),
    "snyk.api-token": same(lambda g, v: g.uuid()),
    "sonar.token": spec("sqp_{h:40}", user="squ_{h:40}"),
    "square.access-token": spec("EAAA{w:60}"),
    "square.legacy-access-token": spec("sq0atp-{w:22}"),
    "square.application-secret": spec("sq0csp-{w:43}"),
    "square.application-id": spec("sq0idp-{w:22}"),
    "stripe.secret-key": spec("sk_live_51{A:97}", test="sk_test_51{A:97}", old="sk_live_{A:24}"),
    "stripe.restricted-key": spec("rk_live_51{A:97}", test="rk_test_51{A:97}"),
    "stripe.publishable-key": spec("pk_live_51{A:97}", test="pk_test_51{A:97}"),
    "stripe.webhook-secret": spec("whsec_{A:32}", hex="whsec_{h:64}"),
    "supabase.secret-key": spec("sb_secret_{w:22}_{w:8}"),
    "supabase.publishable-key": spec("sb_publishable_{w:22}_{w:8}"),
    "supabase.service-role-jwt": same(lambda g, v: supabase_jwt(g, "service_role")),
    "supabase.anon-jwt": same(lambda g, v: supabase_jwt(g, "anon")),
    "supabase.personal-access-token": spec("sbp_{h:40}"),
    "telegram.bot-token": spec("{d:10}:AA{w:33}"),
    "tencent.secret-id": spec("AKID{A:32}"),
    "tencent.secret-key": spec("{A:32}"),
    "tenderly.access-key": spec("{A:32}"),
    "terraform.api-token": spec("{A:14}.atlasv1.{w:67}"),
    "thirdweb.secret-key": spec("{w:86}"),
    "thirdweb.client-id": spec("{h:32}"),
    "together.api-key": spec("tgp_v1_{w:43}"),
    "together.legacy-key": spec("{h:64}"),
    "travis.api-token": spec("{w:22}"),
    "twilio.auth-token": spec("{h:32}"),
    "twilio.api-key-secret": spec("{A:32}"),
    "vault.service-token": spec("hvs.CAESI{w:86}", recovery="hvr.CAESI{w:86}"),
    "vault.batch-token": spec("hvb.AAAAAQ{w:120}"),
    "vault.legacy-token": spec("s.{A:24}"),
    "vercel.token": spec("vcp_{A:56}"),
    "vercel.legacy-token": spec("{A:24}"),
    "walletconnect.project-id": spec("{h:32}"),
    "xai.api-key": spec("xai-{A:80}"),
    "zendesk.api-token": spec("{A:40}"),
}
