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
