"""Corpus files: a notebook, a built bundle, lockfiles, checksums and other
data full of random-looking values that are not secrets."""
import json

FILES = {}


def _cell(kind, source, outputs=None, count=None):
    cell = {"cell_type": kind, "metadata": {}, "source": [line + "\n" for line in source.split("\n")]}
    cell["source"][-1] = cell["source"][-1].rstrip("\n")
    if kind == "code":
        cell["execution_count"] = count
        cell["outputs"] = outputs or []
    return cell


_NOTEBOOK = {
    "cells": [
        _cell("markdown", "# Churn analysis (Q3)\nPulls orders from the warehouse and asks the LLM to summarise cohorts."),
        _cell("code", "import os\nimport pandas as pd\nimport sqlalchemy as sa\nimport openai\nfrom huggingface_hub import HfApi", count=1),
        _cell(
            "code",
            'openai.api_key = "«openai.legacy-key»"\nhf = HfApi(token="«huggingface.user-token»")\nengine = sa.create_engine("«connection-string.postgres»")',
            count=2,
        ),
        _cell(
            "code",
            "df = pd.read_sql('select id, customer_id, total from orders limit 5', engine)\ndf",
            outputs=[
                {
                    "output_type": "execute_result",
                    "execution_count": 3,
                    "metadata": {},
                    "data": {
                        "text/plain": [
                            "                                     id                           customer_id  total\n",
                            "0  «~uuid»  «~uuid»  42.10\n",
                            "1  «~uuid»  «~uuid»  17.99",
                        ]
                    },
                }
            ],
            count=3,
        ),
        _cell(
            "code",
            "df.total.hist()",
            outputs=[
                {
                    "output_type": "display_data",
                    "metadata": {},
                    "data": {"image/png": "«~png»", "text/plain": ["<Figure size 640x480 with 1 Axes>"]},
                }
            ],
            count=4,
        ),
        _cell("code", 'WANDB_API_KEY = os.environ.get("WANDB_API_KEY")\nKAGGLE_KEY = os.getenv("KAGGLE_KEY", "")', count=5),
    ],
    "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python", "version": "3.11.7"},
    },
    "nbformat": 4,
    "nbformat_minor": 5,
}
FILES["notebooks/churn-analysis.ipynb"] = json.dumps(_NOTEBOOK, indent=1, ensure_ascii=False) + "\n"

# A production bundle: one long line of minified code. Browser keys are meant
# to be here; one server key was inlined by mistake (NEXT_PUBLIC_ prefix).
FILES["apps/storefront/.next/static/chunks/app/page-4f9a1c2e.js"] = (
    '"use strict";(self.webpackChunk_N_E=self.webpackChunk_N_E||[]).push([[931],{7421:function(e,t,n){n.d(t,{default:function(){return eG}});'
    'var r=n(5893),o=n(7294),i=n(4298),a=n.n(i),O2={};O2.ERC1155TokenReceiver__factory=O2.ERC1155__factory;O2.IERC20Permit__factory=O2.ERC20__factory;'
    'Gr.getPresentItemAmount=Gr.isCriteriaItem=Gr.isErc1155Item=void 0;S2.ERC721TokenReceiver__factory=S2.ERC721__factory=void 0;'
    'var w={token:"«~addr»",tokenContract:"«~addr»",amount:"1000000000000000000"};'
    'let s={apiKey:t.apiKey,accessToken:this.accessToken,tokenSecretKey:e.tokenSecretKey,password:n.password,secret:r.secret||"",clientSecret:o.clientSecret};'
    'const l="«stripe.publishable-key»",c="«supabase.anon-jwt»",u={supabaseUrl:"https://qvhtmzkwpfjrnlbcodse.supabase.co",supabaseKey:c};'
    'var d={NEXT_PUBLIC_POSTHOG_KEY:"«posthog.project-api-key»",NEXT_PUBLIC_MAPBOX_TOKEN:"«mapbox.public-token»",NEXT_PUBLIC_IMMUTABLE_API_KEY:"«immutable.secret-key»",'
    'NEXT_PUBLIC_SENTRY_DSN:"«sentry.dsn»",NEXT_PUBLIC_CLERK_PUBLISHABLE_KEY:"«clerk.publishable-key»"};'
    'function f(e){return e.map(function(e){return e.tokenId+":"+e.tokenAddress})}'
    'var h=function(e){var t=e.password,n=e.confirmPassword;return t===n?null:"Passwords do not match"};'
    'const p={integrity:"sha384-«~b64:64»",crossOrigin:"anonymous"},m="«~hex:64»",g=new RegExp("^[A-Za-z0-9_-]{20,}$");'
    'e.exports={TOKEN_KEY:"auth.token",PASSWORD_KEY:"auth.password",API_KEY_STORAGE:"apiKeyStorage",SECRET_PREFIX:"sec_"};'
    'var y=o.createContext({token:null,setToken:function(){}}),v="data:image/png;base64,«~png»";'
    '}}]);\n'
    '//# sourceMappingURL=page-4f9a1c2e.js.map\n'
)

FILES["apps/storefront/package-lock.json"] = """\
{
  "name": "storefront",
  "version": "0.1.0",
  "lockfileVersion": 3,
  "requires": true,
  "packages": {
    "": {
      "name": "storefront",
      "version": "0.1.0",
      "dependencies": { "next": "15.0.3", "react": "19.0.0", "stripe": "17.3.1" }
    },
    "node_modules/@next/env": {
      "version": "15.0.3",
      "resolved": "https://registry.npmjs.org/@next/env/-/env-15.0.3.tgz",
      "integrity": "sha512-«~b64:86»=="
    },
    "node_modules/js-tokens": {
      "version": "4.0.0",
      "resolved": "https://registry.npmjs.org/js-tokens/-/js-tokens-4.0.0.tgz",
      "integrity": "sha512-«~b64:86»=="
    },
    "node_modules/secret-stream": {
      "version": "1.2.1",
      "resolved": "https://registry.npmjs.org/secret-stream/-/secret-stream-1.2.1.tgz",
      "integrity": "sha1-«~b64:27»="
    },
    "node_modules/token-types": {
      "version": "6.0.0",
      "resolved": "https://registry.npmjs.org/token-types/-/token-types-6.0.0.tgz",
      "integrity": "sha512-«~b64:86»=="
    },
    "node_modules/stripe": {
      "version": "17.3.1",
      "resolved": "https://registry.npmjs.org/stripe/-/stripe-17.3.1.tgz",
      "integrity": "sha512-«~b64:86»==",
      "dependencies": { "qs": "^6.11.0" }
    }
  }
}
"""

FILES["apps/storefront/yarn.lock"] = """\
# THIS IS AN AUTOGENERATED FILE. DO NOT EDIT THIS FILE DIRECTLY.
# yarn lockfile v1


"@babel/code-frame@^7.0.0":
  version "7.24.7"
  resolved "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.24.7.tgz#«~sha1»"
  integrity sha512-«~b64:86»==
  dependencies:
    "@babel/highlight" "^7.24.7"

js-tokens@^4.0.0:
  version "4.0.0"
  resolved "https://registry.yarnpkg.com/js-tokens/-/js-tokens-4.0.0.tgz#«~sha1»"
  integrity sha512-«~b64:86»==

password-prompt@^1.1.3:
  version "1.1.3"
  resolved "https://registry.yarnpkg.com/password-prompt/-/password-prompt-1.1.3.tgz#«~sha1»"
  integrity sha512-«~b64:86»==
"""

FILES["apps/storefront/pnpm-lock.yaml"] = """\
lockfileVersion: '9.0'

settings:
  autoInstallPeers: true
  excludeLinksFromLockfile: false

packages:

  '@auth/core@0.37.2':
    resolution: {integrity: sha512-«~b64:86»==}

  jsonwebtoken@9.0.2:
    resolution: {integrity: sha512-«~b64:86»==}
    engines: {node: '>=12', npm: '>=6'}

  secure-password@4.0.0:
    resolution: {integrity: sha512-«~b64:86»==}
"""

FILES["services/payments/go.sum"] = """\
github.com/adyen/adyen-go-api-library/v9 v9.3.0 h1:«~b64:43»=
github.com/adyen/adyen-go-api-library/v9 v9.3.0/go.mod h1:«~b64:43»=
github.com/golang-jwt/jwt/v5 v5.2.1 h1:«~b64:43»=
github.com/golang-jwt/jwt/v5 v5.2.1/go.mod h1:«~b64:43»=
golang.org/x/crypto v0.28.0 h1:«~b64:43»=
golang.org/x/crypto v0.28.0/go.mod h1:«~b64:43»=
golang.org/x/oauth2 v0.23.0 h1:«~b64:43»=
"""

FILES["services/ruby/Gemfile.lock"] = """\
GIT
  remote: https://github.com/harbor-lights/omniauth-immutable.git
  revision: «~sha1»
  specs:
    omniauth-immutable (0.3.0)

GEM
  remote: https://rubygems.org/
  specs:
    bcrypt (3.1.20)
    jwt (2.9.3)
      base64
    omniauth-oauth2 (1.8.0)
      oauth2 (>= 1.4, < 3)

CHECKSUMS
  bcrypt (3.1.20) sha256=«~hex:64»
  jwt (2.9.3) sha256=«~hex:64»

BUNDLED WITH
   2.5.22
"""

FILES["services/api/poetry.lock"] = """\
# This file is automatically @generated by Poetry 1.8.3 and should not be changed by hand.

[[package]]
name = "cryptography"
version = "43.0.3"
description = "cryptography is a package which provides cryptographic recipes and primitives to Python developers."
optional = false
python-versions = ">=3.7"
files = [
    {file = "cryptography-43.0.3-cp37-abi3-macosx_10_9_universal2.whl", hash = "sha256:«~hex:64»"},
    {file = "cryptography-43.0.3-cp37-abi3-manylinux_2_28_x86_64.whl", hash = "sha256:«~hex:64»"},
]

[[package]]
name = "pyjwt"
version = "2.9.0"
description = "JSON Web Token implementation in Python"
optional = false
python-versions = ">=3.8"
files = [
    {file = "PyJWT-2.9.0-py3-none-any.whl", hash = "sha256:«~hex:64»"},
]

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "«~hex:64»"
"""

FILES["Cargo.lock"] = """\
# This file is automatically @generated by Cargo.
version = 3

[[package]]
name = "secrecy"
version = "0.8.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "«~hex:64»"

[[package]]
name = "jsonwebtoken"
version = "9.3.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "«~hex:64»"
"""

FILES["releases/SHA256SUMS"] = """\
«~sha256»  harbor-cli-2.14.0-darwin-arm64.tar.gz
«~sha256»  harbor-cli-2.14.0-linux-amd64.tar.gz
«~sha256»  harbor-cli-2.14.0-windows-amd64.zip
"""

FILES["releases/checksums.txt"] = """\
md5: «~hex:32»
sha1: «~sha1»
sha256: «~sha256»
sha512: «~hex:128»
blake2b: «~hex:128»
"""

FILES["CHANGELOG.md"] = """\
# Changelog

## 2.14.0 (2025-11-02)

* Rotate API tokens from the dashboard ([«~shortsha»](https://github.com/harbor-lights/app/commit/«~sha1»))
* Fix password reset for SSO users ([#1841](https://github.com/harbor-lights/app/pull/1841))
* Bump `secret-stream` to 1.2.1 (merge «~sha1»)

## 2.13.2 (2025-10-11)

* `access_token` is no longer logged at debug level («~shortsha»)
* Pin actions/checkout to «~sha1»
"""

FILES[".git-blame-ignore-revs"] = """\
# Prettier 3 reformat
«~sha1»
# ruff format
«~sha1»
«~sha1»
"""

FILES["data/users.csv"] = """\
id,external_id,email,api_key_id,created_at,password_hash
«~uuid»,cus_«~alnum:14»,ada@example.org,key_«~alnum:24»,2025-01-03T10:11:12Z,$argon2id$v=19$m=65536,t=3,p=4$«~b64:22»$«~b64:43»
«~uuid»,cus_«~alnum:14»,grace@example.org,key_«~alnum:24»,2025-02-14T08:00:00Z,$2b$12$«~bcrypt»
«~uuid»,cus_«~alnum:14»,alan@example.org,key_«~alnum:24»,2025-03-30T16:45:01Z,pbkdf2_sha256$870000$«~alnum:22»$«~b64:43»=
"""

FILES["data/fixtures/sessions.json"] = """\
[
  {"session_id": "«~uuid»", "user_id": "«~uuid»", "token_hash": "«~hex:64»", "expires_at": "2025-12-01T00:00:00Z"},
  {"session_id": "«~uuid»", "user_id": "«~uuid»", "token_hash": "«~hex:64»", "expires_at": "2025-12-02T00:00:00Z"},
  {"session_id": "«~uuid»", "user_id": "«~uuid»", "csrf_token": "«~alnum:43»", "nonce": "«~hex:32»"}
]
"""

FILES["apps/storefront/public/styles.css"] = """\
:root { --brand: #0b6e4f; --accent: #f2a541; }
.logo { background-image: url("data:image/png;base64,«~png»"); width: 48px; height: 48px; }
.spinner { background: url("data:image/svg+xml;base64,«~b64:300»") no-repeat center; }
@font-face { font-family: "Harbor"; src: url("data:font/woff2;base64,«~b64:400»") format("woff2"); }
"""

FILES["apps/storefront/public/icon.svg"] = """\
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 64 64">
  <image width="64" height="64" xlink:href="data:image/png;base64,«~png»"/>
  <path id="token-outline" d="M32 4 L60 32 L32 60 L4 32 Z" fill="none" stroke="#0b6e4f"/>
</svg>
"""

FILES["services/api/app/crypto_utils.py"] = """\
import hashlib
import hmac
import secrets

# Known-answer tests for our HMAC wrapper (RFC 4231 test case 2 style, our own vectors).
KAT_KEY = b"Jefe"
KAT_EXPECTED = "«~hex:64»"
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
"""

FILES["services/api/app/models.py"] = """\
from django.db import models


class ApiKey(models.Model):
    id = models.UUIDField(primary_key=True, default="«~uuid»")
    prefix = models.CharField(max_length=8)
    secret_hash = models.CharField(max_length=64)
    token_type = models.CharField(max_length=16, default="bearer")
    last_used_ip = models.GenericIPAddressField(null=True)

    class Meta:
        db_table = "api_keys"


DEFAULT_TOKEN = None
API_KEY_HEADER = "X-Api-Key"
PASSWORD_FIELD = "password"
SECRET_SETTING = "ORDERS_SIGNING_SECRET"
ACCESS_KEY_PATTERN = r"^hl_[A-Za-z0-9_-]{43}$"
"""

FILES["apps/storefront/src/lib/auth.ts"] = """\
import { cookies } from "next/headers";

const TOKEN_COOKIE = "__Host-session";
export const API_KEY_HEADER = "x-api-key";

export async function getToken(): Promise<string | undefined> {
  return (await cookies()).get(TOKEN_COOKIE)?.value;
}

export function authHeaders(token: string) {
  return { Authorization: `Bearer ${token}`, "x-api-key": process.env.INTERNAL_API_KEY ?? "" };
}

export const passwordSchema = { minLength: 12, requireDigit: true };
const secretKey = process.env.SESSION_SECRET!;
const accessToken = await exchangeCodeForToken(code, verifier);
const refreshToken = session?.refreshToken ?? null;
const apiKey = config.get<string>("services.orders.apiKey");
export { secretKey, accessToken, refreshToken, apiKey };
"""

FILES["services/worker/src/queue.go"] = """\
package worker

import (
	"os"

	"github.com/google/uuid"
)

const (
	defaultQueue   = "orders"
	tokenHeader    = "X-Worker-Token"
	traceParentHex = "«~hex:32»"
)

type Config struct {
	Token    string `json:"token"`
	Password string `json:"password" yaml:"password"`
	APIKey   string `env:"API_KEY,required"`
}

func load() Config {
	return Config{Token: os.Getenv("WORKER_TOKEN"), Password: os.Getenv("QUEUE_PASSWORD"), APIKey: os.Getenv("API_KEY")}
}

var runID = uuid.MustParse("«~uuid»")
"""

FILES["services/ruby/db/seeds.rb"] = """\
# Development seeds. Passwords are generated, never fixed.
admin = User.find_or_create_by!(email: "admin@harborlights.test") do |u|
  u.password = SecureRandom.base64(24)
  u.api_token = SecureRandom.hex(32)
end

Order.create!(user: admin, external_ref: "«~uuid»", checksum: "«~sha256»")
ApiClient.create!(name: "storybook", secret_digest: Digest::SHA256.hexdigest("«~uuid»"))
"""

FILES["apps/storefront/src/types/api.d.ts"] = """\
export interface CreateSessionRequest {
  ClientRequestToken: NonEmptyMaxLength64String;
  AccessToken: SensitiveString256;
  RefreshToken?: SensitiveString256;
  ApiKey: ApiKeyValue32Chars;
}
export declare const SECRET_NAME: "orders/signing-secret";
"""

FILES["services/ruby/log/development.log"] = """\
Started POST "/orders" for 127.0.0.1 at 2025-11-02 10:14:03 +0000
Processing by OrdersController#create as HTML
  Parameters: {"authenticity_token"=>"«~b64:86»==", "order"=>{"sku"=>"HL-GEN-001", "quantity"=>"1"}, "commit"=>"Buy"}
  User Load (0.4ms)  SELECT "users".* FROM "users" WHERE "users"."id" = $1 LIMIT $2  [["id", 42], ["LIMIT", 1]]
Completed 302 Found in 38ms (ActiveRecord: 4.1ms | Allocations: 9120)
"""

FILES["services/api/tests/test_auth.py"] = """\
import pytest

from app.auth import hash_password, verify_password

TEST_PASSWORD = "Sup3r-P@ssw0rd!2024"
WRONG_PASSWORD = "not-the-password"


@pytest.mark.parametrize("token_type", ["bearer", "mac"])
def test_round_trip(token_type):
    hashed = hash_password(TEST_PASSWORD)
    assert verify_password(TEST_PASSWORD, hashed)
    assert not verify_password(WRONG_PASSWORD, hashed)
"""

FILES["services/worker/build/semconv.js"] = """\
"use strict";
Object.defineProperty(exports, "__esModule", { value: true });
exports.ATTR_SECRET_STORE_KIND = exports.ATTR_K8S_VOLUME_TYPE_VALUE_PERSISTENT_VOLUME_CLAIM = exports.ATTR_TOKEN_USAGE_INPUT = void 0;
exports.ATTR_TOKEN_USAGE_INPUT = "gen_ai.usage.input_tokens";
"""
