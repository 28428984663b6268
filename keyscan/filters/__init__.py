"""Filters decide which findings are kept; each suppression keeps its reason.

A filter is a pure function ``(findings) -> (kept, suppressed)``; the
pipeline applies them in order.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

from ..models import Finding, Suppressed

Filter = Callable[[list[Finding]], tuple[list[Finding], list[Suppressed]]]


def apply(findings: Iterable[Finding], filters: Sequence[Filter]) -> tuple[list[Finding], list[Suppressed]]:
    kept = list(findings)
    suppressed: list[Suppressed] = []
    for f in filters:
        kept, dropped = f(kept)
        suppressed.extend(dropped)
    return kept, suppressed
