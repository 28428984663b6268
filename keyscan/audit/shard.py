"""``--shard I/N``: a stable, balanced slice of the repository list, so the
N jobs of a CI matrix each audit one slice.

Each repository has a home shard, ``sha256(identity) mod N``. Shards are
filled in the order of those hashes; a repository whose home is full goes
to the next shard with room, where "full" is ``count // N`` repositories,
or one more for the first ``count mod N`` shards to reach it. So:

* every repository is in exactly one shard, and shard sizes differ by at
  most one;
* the slices depend only on the set of identities, not on the order of the
  list or on the machine;
* adding or removing a repository moves only the few whose homes were full
  (their shard's cache then misses once); nearly all stay where they were.
"""
from __future__ import annotations

import hashlib
import re
from typing import Sequence, TypeVar

from ..errors import KeyscanError

T = TypeVar("T")
MAX_SHARDS = 10_000
_SPEC = re.compile(r"\s*(\d+)\s*/\s*(\d+)\s*")


def parse_spec(text: str) -> tuple[int, int]:
    """``"I/N"`` (1-based, as GitLab's ``CI_NODE_INDEX/CI_NODE_TOTAL``) ->
    (I, N)."""
    m = _SPEC.fullmatch(text or "")
    if not m:
        raise KeyscanError(f"--shard: '{text}' is not I/N (e.g. 2/8: the second of eight slices)")
    i, n = int(m.group(1)), int(m.group(2))
    if not 1 <= n <= MAX_SHARDS:
        raise KeyscanError(f"--shard: N must be between 1 and {MAX_SHARDS}, not {n}")
    if not 1 <= i <= n:
        raise KeyscanError(f"--shard: I must be between 1 and {n}, not {i} (shards are numbered from 1)")
    return i, n


def _hash(identity: str) -> int:
    return int.from_bytes(hashlib.sha256(identity.encode("utf-8", "surrogateescape")).digest()[:8], "big")


def assign(identities: Sequence[str], n: int) -> dict[str, int]:
    """identity -> shard (0-based)."""
    unique = sorted(set(identities), key=lambda s: (_hash(s), s))
    floor, extra = divmod(len(unique), n)  # `extra` shards hold one more
    load = [0] * n
    full = 0  # shards that hold floor + 1
    out: dict[str, int] = {}
    for ident in unique:
        s = _hash(ident) % n
        while True:
            if load[s] < floor:
                break
            if load[s] == floor and full < extra:
                full += 1
                break
            s = (s + 1) % n
        load[s] += 1
        out[ident] = s
    return out


def select(items: Sequence[T], spec: tuple[int, int], identity=lambda r: r.identity) -> list[T]:
    """The items of shard ``spec`` (I/N, 1-based), in their original order."""
    i, n = spec
    where = assign([identity(r) for r in items], n)
    return [r for r in items if where[identity(r)] == i - 1]
