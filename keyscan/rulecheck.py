"""``keyscan rules check``: every rule's examples must be found through the
full engine, its negative examples must not, every example must contain a
keyword, and no regex may take long on input crafted against it."""
from __future__ import annotations

import time
from typing import NamedTuple

from .engine import Engine
from .models import Fragment
from .rulefile import Rule, RuleSet
from .scan import scan_fragment

# Seconds one rule's regex may spend on one adversarial input (~100 KB).
ADVERSARIAL_BOUND = 1.0


class Problem(NamedTuple):
    rule_id: str
    file: str
    message: str


def adversarial_inputs(rule: Rule) -> list[str]:
    """Inputs shaped to make a backtracking regex slow: keyword floods, long
    runs of key-alphabet characters after a keyword, near-misses of the
    examples repeated."""
    out = []
    alphabet_run = "aZ09_-$@.+/=" * 4000
    for kw in rule.keywords[:3]:
        out.append(kw * (60000 // max(1, len(kw))))
        out.append((kw + "A" * 40 + " ") * 1500)
        out.append(kw + alphabet_run)
        out.append((kw + "=" + '"' + "a1" * 30) * 800)
    for ex in rule.examples[:2]:
        near = ex.text.replace(ex.secret, ex.secret[:-1] + "!")
        out.append((near + "\n") * max(1, 60000 // max(1, len(near))))
        out.append(ex.text[:-1] * max(1, 30000 // max(1, len(ex.text))))
    return out


def check_rule(rule: Rule, engine: Engine) -> list[Problem]:
    problems: list[Problem] = []

    def bad(msg: str) -> None:
        problems.append(Problem(rule.id, rule.file, msg))

    for i, ex in enumerate(rule.examples):
        if not any(kw.lower() in ex.text.lower() for kw in rule.keywords):
            bad(f"examples[{i}] contains none of the keywords {list(rule.keywords)}")
        frag = Fragment.from_text(ex.text, ex.path or "example.txt")
        findings, suppressed, errors = scan_fragment(engine, frag)
        mine = [f for f in findings if f.rule_id == rule.id]
        if not any(f.secret == ex.secret for f in mine):
            why = ""
            for s in suppressed:
                if s.finding.rule_id == rule.id and s.finding.secret == ex.secret:
                    why = f" (dropped as placeholder: {s.detail})"
            found = f"; found {len(mine)} other match(es)" if mine else ""
            bad(f"examples[{i}] is not found by the engine{why}{found}")
        elif ex.environment and not any(f.environment == ex.environment for f in mine if f.secret == ex.secret):
            bad(f"examples[{i}] expected environment '{ex.environment}', got '{mine[0].environment}'")
    for i, ex in enumerate(rule.negative_examples):
        frag = Fragment.from_text(ex.text, ex.path or "example.txt")
        findings, _, _ = scan_fragment(engine, frag)
        if any(f.rule_id == rule.id for f in findings):
            bad(f"negative_examples[{i}] is reported, but should not be ({ex.why})")
    for text in adversarial_inputs(rule):
        started = time.perf_counter()
        try:
            for _ in rule.pattern.finditer(text, timeout=ADVERSARIAL_BOUND * 5):
                pass
        except TimeoutError:
            pass
        took = time.perf_counter() - started
        if took > ADVERSARIAL_BOUND:
            bad(f"pattern took {took:.2f}s on {len(text) // 1000} KB of adversarial input (bound {ADVERSARIAL_BOUND}s)")
            break
    return problems


def check(ruleset: RuleSet) -> list[Problem]:
    engine = Engine(ruleset)
    problems = []
    for rule in ruleset.rules:
        problems.extend(check_rule(rule, engine))
    return problems
