"""Redaction: what of a secret may be shown."""
from __future__ import annotations

ELLIPSIS = "…"


def redact(secret: str, prefix: str = "") -> str:
    """Keep the public prefix and at most 4 characters of the random part.

    Short secrets keep less: never more than a quarter of the random part.
    """
    if prefix and secret.startswith(prefix):
        rest = secret[len(prefix):]
    else:
        prefix, rest = "", secret
    keep = min(4, len(rest) // 4)
    return prefix + rest[:keep] + ELLIPSIS

