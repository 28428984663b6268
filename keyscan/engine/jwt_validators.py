"""Validators that decode a key's own payload to tell what kind of key it is.

* ``supabase-service-role`` / ``supabase-anon``: a Supabase legacy API key is
  a JWT (HS256) whose payload names its Postgres role. The same shape is a
  secret (``"role":"service_role"``, bypasses Row Level Security) or a
  publishable key (``"role":"anon"``), so a regex cannot tell them apart;
  decoding the payload can. Where the payload has ``iss`` it must be
  ``supabase`` (self-hosting's published demo keys say ``supabase-demo``).
* ``clerk-publishable`` / ``not-clerk-publishable``: a Clerk publishable key
  is ``pk_test_``/``pk_live_`` plus the standard base64 of its Frontend API
  host followed by ``$``; a Stripe publishable key with the same prefix is
  random base62. Decoding the body tells which vendor a ``pk_`` key is.

Each validator takes the matched secret and returns True when it is that kind
of key. They never raise: malformed input is simply "not this kind".
"""
from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from .validators import validator

_B64URL = re.compile(r"[A-Za-z0-9_-]+")
_B64STD = re.compile(r"[A-Za-z0-9+/]+={0,2}")
# A DNS host name followed by Clerk's `$` end marker.
_CLERK_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\$", re.IGNORECASE)
_CLERK_PREFIX = re.compile(r"pk_(?:test|live)_")

# JWT parts are at most a few KB; anything longer is not a key.
_MAX_PART = 4096


def _b64url_json(part: str) -> Any:
    """The JSON value base64url-encoded in ``part``, or None."""
    if not part or len(part) > _MAX_PART or not _B64URL.fullmatch(part):
        return None
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def jwt_claims(token: str) -> dict[str, Any] | None:
    """The payload of a three-part JWT whose header names an algorithm, or
    None when ``token`` is not one. The signature is not checked."""
    parts = token.split(".")
    if len(parts) != 3 or not parts[2]:
        return None
    header = _b64url_json(parts[0])
    if not isinstance(header, dict) or not isinstance(header.get("alg"), str):
        return None
    claims = _b64url_json(parts[1])
    return claims if isinstance(claims, dict) else None


def _supabase_role(token: str, role: str) -> bool:
    claims = jwt_claims(token)
    if claims is None or claims.get("role") != role:
        return False
    return "iss" not in claims or claims["iss"] == "supabase"


@validator("supabase-service-role")
def supabase_service_role(secret: str) -> bool:
    """A Supabase legacy ``service_role`` key (secret)."""
    return _supabase_role(secret, "service_role")


@validator("supabase-anon")
def supabase_anon(secret: str) -> bool:
    """A Supabase legacy ``anon`` key (publishable)."""
    return _supabase_role(secret, "anon")


def clerk_frontend_host(secret: str) -> str | None:
    """The Frontend API host a Clerk publishable key encodes, or None."""
    m = _CLERK_PREFIX.match(secret)
    if not m:
        return None
    body = secret[m.end():]
    if not body or len(body) > 512 or not _B64STD.fullmatch(body):
        return None
    body = body.rstrip("=")
    try:
        text = base64.b64decode(body + "=" * (-len(body) % 4), validate=True).decode("ascii")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None
    if not _CLERK_HOST.fullmatch(text):
        return None
    return text[:-1]


@validator("clerk-publishable")
def clerk_publishable(secret: str) -> bool:
    """``pk_test_``/``pk_live_`` + base64 of a host name and ``$``."""
    return clerk_frontend_host(secret) is not None


@validator("not-clerk-publishable")
def not_clerk_publishable(secret: str) -> bool:
    """The complement, for Stripe's ``pk_`` keys."""
    return clerk_frontend_host(secret) is None
