"""The matching engine: prefilter, each selected rule's regex, then the
validator, placeholder and entropy tests. Pure computation: no I/O."""
from __future__ import annotations

import bisect
import itertools
import os
import time
from typing import NamedTuple

from ..models import Fragment, Match, ScanError
from ..rulefile import Rule, RuleSet
from .placeholder import placeholder_reason, random_part
from .prefilter import make_prefilter
from .validators import VALIDATORS

# Seconds a single rule may spend on one fragment, plus this much per MB.
TIMEOUT_BASE = 2.0
TIMEOUT_PER_MB = 1.0
# Texts this long get anchored matching (anchor.py) once stage 2 is built.
ANCHOR_MIN_TEXT = 512
# A fragment this long loads a cached stage 2 before its rules run, instead
# of after 0.05 s of regex work (the report guard's 700 KB report of the
# large tree: 0.36 -> 0.09 s, all of it in one fragment).
LOAD_STAGE2_TEXT = 64 * 1024
# Matches (findings and placeholders) one fragment may yield. A file of
# nothing but keys costs about 10 KB of memory per finding, and its report
# more: past this the rest is not listed, and the report says so.
MAX_MATCHES = 1_000
# Decoded variants are handed to the prefilter in groups of at most this many
# (or this many characters): see Engine._scan_variants. KEYSCAN_DECODE=reference
# (decode/reference.py) asks about each variant alone, as before.
BATCH_VARIANTS = 1 if os.environ.get("KEYSCAN_DECODE") == "reference" else 256
BATCH_CHARS = 1 << 20


class _Full(Exception):
    pass


class EngineResult(NamedTuple):
    matches: list[Match]
    placeholders: list[tuple[Match, str]]  # dropped as placeholders, with why
    errors: list[ScanError]


class Engine:
    def __init__(self, ruleset: RuleSet, *, prefilter: str | None = None, decode: bool = True) -> None:
        self.ruleset = ruleset
        self.rules: tuple[Rule, ...] = ruleset.rules
        self.prefilter = make_prefilter([r.keywords for r in self.rules], prefilter, [r.pattern_source for r in self.rules])
        self.decode = decode
        # Regex time is reported to the prefilter until its second stage is
        # built (see prefilter.PatternStage).
        self._timing = getattr(self.prefilter, "patterns", None) is not None
        self._anchors = None  # anchored matching, once stage 2 is built (anchor.py)
        from .memo import ENABLED, ResultMemo

        # Results of fragments seen before in this process (memo.py); a
        # forked worker starts from a copy of its parent's.
        self.memo = ResultMemo(self) if ENABLED else None

    def candidates(self, data: bytes, path: str) -> list[Rule]:
        """Rules whose keywords occur in ``data`` and that apply to ``path``."""
        return [self.rules[i] for i in sorted(self.prefilter.candidates(data)) if self.rules[i].applies_to(path)]

    def selected(self, data: bytes, text_of, path: str) -> list[Rule]:
        """``candidates`` without the rules that cannot match here."""
        return [self.rules[i] for i in sorted(self.prefilter.select(data, text_of)) if self.rules[i].applies_to(path)]

    def warm(self) -> None:
        """Get ready for a large scan (called before workers fork)."""
        self.prefilter.warm()
        self._timing = False
        stage = getattr(self.prefilter, "patterns", None)
        if stage is not None and stage.ready:
            from .anchor import Anchors

            if self._anchors is None:
                self._anchors = Anchors()
            self._anchors.preload(self.rules)

    def scan(self, fragment: Fragment) -> EngineResult:
        memo = self.memo
        key = memo.key(fragment) if memo is not None else None
        if key is not None:
            kept = memo.get(key, fragment)
            if kept is not None:
                return EngineResult(*kept, [])
        result = self._scan(fragment)
        if key is not None and not result.errors:
            memo.put(key, fragment, result.matches, result.placeholders)
        return result

    def _scan(self, fragment: Fragment) -> EngineResult:
        matches: list[Match] = []
        placeholders: list[tuple[Match, str]] = []
        errors: list[ScanError] = []
        if self._timing and len(fragment.data) >= LOAD_STAGE2_TEXT:
            self._timing = not self.prefilter.patterns.load_cached()
        rules = self.selected(fragment.data, lambda: fragment.text, fragment.path)
        try:
            if rules:
                self._run(rules, fragment, fragment.text, (), None, matches, placeholders, errors)
            if self.decode:
                from ..decode import decoded_variants

                batch: list = []
                size = 0
                for variant in decoded_variants(fragment.text, shadow=self._shadow_of(fragment)):
                    batch.append(variant)
                    size += len(variant.text)
                    if size >= BATCH_CHARS or len(batch) >= BATCH_VARIANTS:
                        self._scan_variants(batch, fragment, matches, placeholders, errors)
                        batch, size = [], 0
                if batch:
                    self._scan_variants(batch, fragment, matches, placeholders, errors)
        except _Full:
            where = "this file" if "report_limit" not in fragment.meta and fragment.line == 1 else "an 8 MiB part of this file"
            errors.append(ScanError(fragment.path, "limit", f"more than {MAX_MATCHES} keys in {where}: the rest were not listed"))
        return EngineResult(_prefer_specific(matches), placeholders, errors)

    def _shadow_of(self, fragment: Fragment) -> bytes | None:
        """``fragment.text.encode("ascii", "replace")`` when it is at hand:
        an ASCII fragment's own bytes, or the shadow the prefilter just made
        of this text; else None."""
        return fragment.data if fragment.data.isascii() else self._prefilter_shadow(fragment.text)

    def _prefilter_shadow(self, text: str) -> bytes | None:
        """The shadow the prefilter made of ``text`` (this very object) for
        its last selection, if it did. It makes one only for a non-ASCII
        text without İ, ſ or K."""
        last = getattr(self.prefilter, "last_shadow", None)
        return last[1] if last is not None and last[0] is text else None

    def _scan_variants(self, variants, fragment, matches, placeholders, errors) -> None:
        """Run the rules each decoded variant selects, in order. The
        prefilter is asked about the variants joined by newlines first: a
        variant is a substring of the joined text, and both prefilter stages
        only look for keywords and anchor-free patterns, so what a variant
        selects the joined text selects too. Only a group that selects
        something is split in halves, down to single variants, which are
        asked exactly as before (the same rules run on the same text)."""
        for variant, vrules in self._variant_rules(variants, fragment.path):
            self._run(vrules, fragment, variant.text, variant.kinds, (variant.start, variant.end), matches, placeholders, errors)

    def _variant_rules(self, variants, path):
        if len(variants) == 1:
            variant = variants[0]
            vrules = self.selected(variant.text.encode("utf-8", "replace"), lambda: variant.text, path)
            if vrules:
                yield variant, vrules
            return
        joined = "\n".join(v.text for v in variants)
        if not self.selected(joined.encode("utf-8", "replace"), lambda: joined, path):
            return
        half = len(variants) // 2
        yield from self._variant_rules(variants[:half], path)
        yield from self._variant_rules(variants[half:], path)

    def _run(self, rules, fragment, text, kinds, outer, matches, placeholders, errors) -> None:
        timeout = TIMEOUT_BASE + TIMEOUT_PER_MB * len(text) / 1e6
        if self._timing:
            began = time.perf_counter()
            try:
                self._run_rules(rules, fragment, text, kinds, outer, matches, placeholders, errors, timeout)
            finally:
                self.prefilter.spent(time.perf_counter() - began)
                self._timing = not self.prefilter.patterns.ready
        else:
            self._run_rules(rules, fragment, text, kinds, outer, matches, placeholders, errors, timeout)

    def _view(self, text: str):
        """The anchor.TextView of ``text`` when it gets anchored matching
        (long enough, stage 2 built), else None. The shadow of a non-ASCII
        text is the prefilter's when it just made it for this text."""
        if len(text) < ANCHOR_MIN_TEXT:
            return None
        from .anchor import Anchors, TextView

        if self._anchors is None:
            stage = getattr(self.prefilter, "patterns", None)
            if stage is None or not stage.ready:
                return None
            self._anchors = Anchors()
        if text.isascii():  # O(1); its shadow is a plain copy
            return TextView(text, folds=False)
        shadow = self._prefilter_shadow(text)
        return TextView(text) if shadow is None else TextView(text, shadow, folds=False)

    def _run_rules(self, rules, fragment, text, kinds, outer, matches, placeholders, errors, timeout) -> None:
        view = self._view(text)
        for rule in rules:
            try:
                found = rule.pattern.finditer(text, timeout=timeout) if view is None else self._anchors.finditer(rule, text, timeout, view)
                for m in found:
                    secret = m.group("secret")
                    if not secret:
                        continue
                    if rule.validator and not VALIDATORS[rule.validator](secret):
                        continue
                    prefix = (m.group("prefix") or "") if "prefix" in rule.pattern.groupindex else ""
                    if outer is None:
                        start, end = m.span("secret")
                        match = Match(rule, fragment, start, end, secret, rule.environment_of(m), prefix=prefix)
                    else:
                        start, end = outer
                        match = Match(rule, fragment, start, end, secret, rule.environment_of(m), kinds, start, end, prefix)
                    if len(matches) + len(placeholders) >= MAX_MATCHES:
                        raise _Full
                    why = placeholder_reason(rule, secret, random_part(rule, m))
                    if why:
                        placeholders.append((match, why))
                    else:
                        matches.append(match)
            except TimeoutError:
                errors.append(
                    ScanError(fragment.path, "timeout", f"rule {rule.id} gave up after {timeout:.1f}s on this file; the rest of the scan went on", rule.id)
                )


def _prefer_specific(matches: list[Match]) -> list[Match]:
    """Drop a generic-rule match whose span overlaps a specific rule's match,
    a decoded match of a secret also matched as is inside the decoded run,
    and exact duplicates (same rule, same span)."""
    if len(matches) < 2:  # nothing to compare (most fragments: none at all)
        return matches
    seen: set[tuple] = set()
    # Specific spans by start, with the furthest end among each prefix: a
    # generic match overlaps one when a span starting before its end ends
    # after its start. A bisection per match keeps a file with many keys
    # linear (a scan of every pair took minutes on 32,000 keys).
    specific = sorted((m.start, m.end) for m in matches if m.rule.key_class != "generic")
    starts = [s for s, _ in specific]
    reach = list(itertools.accumulate((e for _, e in specific), max))
    # Where a secret was found as is, the same secret found again by decoding
    # the run around it (a URL whose other parts are %-encoded) is the same
    # finding: keep the direct one, which points at the exact characters.
    direct: dict[tuple[str, str], list[int]] = {}
    for m in matches:
        if not m.decoded:
            direct.setdefault((m.rule.id, m.secret), []).append(m.start)
    out = []
    for m in matches:
        key = (m.rule.id, m.start, m.end, m.secret)
        if key in seen:
            continue
        seen.add(key)
        if m.decoded and any(m.start <= s < m.end for s in direct.get((m.rule.id, m.secret), ())):
            continue
        if m.rule.key_class == "generic":
            i = bisect.bisect_left(starts, m.end)
            if i and reach[i - 1] > m.start:
                continue
        out.append(m)
    return out
