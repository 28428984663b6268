"""Checks a regex cannot express (checksums, word lists), named from rule files.

Each validator takes the secret and returns True when it is plausible.
Rule files name one with ``validator = "name"``; an unknown name is an error
when the rule file loads.
"""
from __future__ import annotations

from typing import Callable

VALIDATORS: dict[str, Callable[[str], bool]] = {}


def validator(name: str):
    def register(fn: Callable[[str], bool]) -> Callable[[str], bool]:
        VALIDATORS[name] = fn
        return fn

    return register


# GitHub's 2021 token format (ghp_, gho_, ghu_, ghs_, ghr_): a three-letter
# prefix and `_`, then 30 random base62 characters, then a 6-character
# checksum: the CRC32 of those 30 characters, written in base62 with the
# digits 0-9, A-Z, a-z and left-padded with `0`.
# https://github.blog/engineering/platform-security/behind-githubs-new-authentication-token-formats/
_GITHUB_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _github_base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _GITHUB_BASE62[rest] + digits
    return digits.rjust(width, "0")


@validator("github-checksum")
def github_checksum(secret: str) -> bool:
    """True when ``secret`` is ``xxx_`` + 30 base62 + the CRC32 checksum of those 30."""
    import zlib

    _, sep, payload = secret.partition("_")
    if not sep or len(payload) != 36 or not (payload.isascii() and payload.isalnum()):
        return False
    random_part, checksum = payload[:30], payload[30:]
    return _github_base62(zlib.crc32(random_part.encode("ascii")), 6) == checksum


from . import jwt_validators  # noqa: F401  (registers validators)
from . import bip39  # noqa: F401  (registers validators)
from . import jwt_privileged  # noqa: F401  (registers validators)
