"""The engine's results for texts it has seen before, in this process.

Built output repeats itself: the same library source sits in the
``sourcesContent`` of many source maps (an ESM and a CommonJS build of one
package, every entry point of a bundle), and vendored trees hold the same
files many times. On the bundles benchmark input, 86 of the 162 MB handed
to the engine are exact repeats of a fragment seen earlier in the same scan
(0.97 of 2.5 s of CPU, one process); on the large tree 121 of 830 MB
(2.0 of 10.4 s).

What the engine finds in a fragment depends only on its bytes and on which
rules apply to its path (a rule's ``paths``/``exclude_paths``), so a result
is reused for the same bytes with the same applicable rules, its matches
re-pointed at the new fragment. Results with errors (a rule's time-out, the
match limit) are not kept: their messages name the fragment. An entry is
found by the bytes' length, first and last 64 bytes (hashing all the bytes
would cost 0.4 ns a byte, 0.35 s on the large tree) and confirmed by
comparing the whole bytes, so a reused result is always the one a scan would
give.

Only worktree, bundle, source-map and archive fragments of at least
``MIN_BYTES`` are looked up: history blobs are unique by construction, and
hashing their 5.6 GB (git's repository) would cost 2 s for nothing. Members
of the archives that git holds are looked up too (their paths hold a
``!``): successive versions of a committed archive share most members. The
kept bytes are bounded per process (``BUDGET``, least recently used out);
results hold no fragment (their matches are stored without it).
"""
from __future__ import annotations

import os
from collections import OrderedDict

from ..models import Fragment

MIN_BYTES = 1024
BUDGET = 32 << 20  # bytes of fragment data kept as keys, per process
ORIGINS = frozenset(("worktree", "bundle", "sourcemap", "archive"))
ENABLED = os.environ.get("KEYSCAN_NO_MEMO") != "1"


class ResultMemo:
    def __init__(self, engine, budget: int = BUDGET) -> None:
        # Rules whose use depends on the path: the key carries which of
        # them apply (one rule of the built-in pack has path conditions).
        self._path_rules = [r for r in engine.rules if r.path_spec is not None or r.exclude_spec is not None]
        self._kept: OrderedDict[tuple, tuple] = OrderedDict()
        self._size = 0
        self.budget = budget
        self.hits = 0

    def key(self, fragment: Fragment) -> tuple | None:
        data = fragment.data
        if len(data) < MIN_BYTES or (fragment.origin not in ORIGINS and "!" not in fragment.path):
            return None
        return (len(data), data[:64], data[-64:], tuple(r.applies_to(fragment.path) for r in self._path_rules))

    def get(self, key: tuple, fragment: Fragment):
        """The result kept for ``fragment`` (whose ``key`` is ``key``),
        re-pointed at it; None if there is none."""
        kept = self._kept.get(key)
        if kept is None or kept[0] != fragment.data:
            return None
        self._kept.move_to_end(key)
        self.hits += 1
        _, matches, placeholders = kept
        return [m._replace(fragment=fragment) for m in matches], [(m._replace(fragment=fragment), why) for m, why in placeholders]

    def put(self, key: tuple, fragment: Fragment, matches, placeholders) -> None:
        """Keep ``fragment``'s result (one entry per key: a fragment alike
        at both ends but different replaces the one kept)."""
        size = key[0]
        if size > self.budget:
            return
        old = self._kept.pop(key, None)
        if old is not None:
            self._size -= size
        self._kept[key] = (fragment.data, tuple(m._replace(fragment=None) for m in matches), tuple((m._replace(fragment=None), why) for m, why in placeholders))
        self._size += size
        while self._size > self.budget:
            gone, _ = self._kept.popitem(last=False)
            self._size -= gone[0]
