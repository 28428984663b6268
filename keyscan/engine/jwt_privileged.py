"""JSON Web Tokens whose claims grant privileged roles.

Most JWTs in a repository are harmless: expired session tokens in test
fixtures, documentation samples, anonymous keys meant for browsers. The ones
worth a finding are bearer tokens that say their holder is an administrator
or a backend service (``"role": "service_role"``, ``"roles": ["admin"]``,
``"scope": "admin:org"``, Hasura's ``x-hasura-default-role: admin``,
``"is_admin": true``). Whoever copies such a token acts with that role until
it expires or its signing key is rotated.

The validator ``jwt-privileged`` decodes the header and payload (never the
signature: it needs no key and checks none) and says yes when a role-like
claim holds a privileged value. It says no to unsigned tokens (``alg: none``),
to the jwt.io documentation sample, and to Supabase-issued tokens, which the
Supabase rules report with their own rotation steps.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import regex

from .validators import validator

# Claim names (compared lower-case, after the last '/', ':' or '.' of a
# namespaced claim such as "https://example.com/roles") that hold roles.
ROLE_CLAIMS = frozenset(
    {
        "role",
        "roles",
        "user_role",
        "user_roles",
        "app_role",
        "groups",
        "group",
        "authorities",
        "permissions",
        "scope",
        "scopes",
        "scp",
        "x-hasura-role",
        "x-hasura-default-role",
        "x-hasura-allowed-roles",
        "account_type",
    }
)
# Claims that make a token privileged when they are true.
FLAG_CLAIMS = frozenset({"admin", "is_admin", "isadmin", "superuser", "is_superuser", "issuperuser", "is_staff", "isstaff", "root"})

_PRIVILEGED_VALUE = regex.compile(
    r"(?i)^(?:service[_-]?role|service[_-]?account|admin|administrator|admins|superadmin|super[_-]?admin|"
    r"superuser|super[_-]?user|root|owner|system|sysadmin|god|\*)$"
)
# A role or scope made of parts ("admin:org", "Task.Admin", "org/admins").
_PARTS = regex.compile(r"[:._/\s-]+")
_PRIVILEGED_PART = frozenset({"admin", "admins", "administrator", "administrators", "superuser", "superadmin", "sysadmin", "root"})

MAX_DEPTH = 4


def _segment_text(segment: str) -> str | None:
    if not segment or len(segment) > 16384:
        return None
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode("utf-8")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def _json(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def decode(token: str) -> tuple[dict, dict] | None:
    """(header, payload) of a compact JWS, or None when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    header, payload = _json(_segment_text(parts[0])), _json(_segment_text(parts[1]))
    if not isinstance(header, dict) or not isinstance(payload, dict):
        return None
    return header, payload


def _claim_name(key: str) -> str:
    """``https://example.com/roles`` -> ``roles``; ``cognito:groups`` -> ``groups``."""
    key = key.lower()
    return regex.split(r"[/:.]", key)[-1]


def _privileged_value(value: Any) -> bool:
    if isinstance(value, str):
        if _PRIVILEGED_VALUE.match(value.strip()):
            return True
        words = [w for w in regex.split(r"[\s,]+", value.strip()) if w]
        if len(words) > 1:
            return any(_privileged_value(w) for w in words)
        return any(part.lower() in _PRIVILEGED_PART for part in _PARTS.split(value) if part)
    if isinstance(value, list):
        return any(_privileged_value(v) for v in value[:200])
    if isinstance(value, dict):  # {"admin": true} style role maps
        return any(_privileged_value(k) for k, v in list(value.items())[:200] if v)
    return False


def privileged_claims(payload: dict, depth: int = 0) -> list[str]:
    """The claims (as ``name=value`` strings) that make ``payload`` privileged."""
    found: list[str] = []
    if depth > MAX_DEPTH:
        return found
    for key, value in list(payload.items())[:500]:
        if not isinstance(key, str):
            continue
        name = _claim_name(key)
        if name in ROLE_CLAIMS and _privileged_value(value):
            found.append(f"{key}={json.dumps(value)[:80]}")
        elif name in FLAG_CLAIMS and value is True:
            found.append(f"{key}=true")
        elif isinstance(value, dict):
            found.extend(privileged_claims(value, depth + 1))
    return found


def _exempt(header: dict, payload: dict, raw_payload: str) -> bool:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        return True  # unsigned: not a credential anything should accept
    iss = payload.get("iss")
    if isinstance(iss, str) and (iss.lower().startswith("supabase") or ".supabase.co/auth" in iss.lower()):
        return True  # Supabase-issued: the Supabase rules report these
    if iss is None and '"role":"service_role"' in raw_payload:
        return True  # the shape rules/supabase.toml reports as a Supabase service_role key
    if payload.get("sub") == "1234567890" and payload.get("name") == "John Doe":
        return True  # the jwt.io documentation sample
    return False


def is_privileged(token: str) -> bool:
    """True when ``token`` is a signed JWT with a privileged role claim that
    no other rule reports."""
    decoded = decode(token)
    if decoded is None:
        return False
    header, payload = decoded
    if _exempt(header, payload, _segment_text(token.split(".")[1]) or ""):
        return False
    return bool(privileged_claims(payload))


@validator("jwt-privileged")
def _jwt_privileged(secret: str) -> bool:
    return is_privileged(secret)
