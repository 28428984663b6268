"""Is a matched secret a placeholder rather than a real key?"""
from __future__ import annotations

import regex

from ..rulefile import COMMON_PLACEHOLDERS, Rule
from .entropy import shannon

_COMMON = tuple(regex.compile(p) for p in COMMON_PLACEHOLDERS)


def random_part(rule: Rule, match: regex.Match) -> str:
    """The part of the secret that should look random: the ``body`` group,
    else the secret without its ``prefix`` group, else the whole secret."""
    groups = rule.pattern.groupindex
    if "body" in groups and match.group("body") is not None:
        return match.group("body")
    secret = match.group("secret")
    if "prefix" in groups and match.group("prefix"):
        return secret[len(match.group("prefix")):] if secret.startswith(match.group("prefix")) else secret
    return secret


def placeholder_reason(rule: Rule, secret: str, body: str) -> str | None:
    """A short reason if ``secret`` is a placeholder, else None."""
    for pat in rule.placeholders:
        if pat.search(secret):
            return f"matches the rule's placeholder pattern {pat.pattern!r}"
    for pat in _COMMON:
        if pat.search(body):
            return "looks like a placeholder"
    if rule.min_entropy and shannon(body) < rule.min_entropy:
        return f"entropy below {rule.min_entropy:g} bits per character"
    return None
