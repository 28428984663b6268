"""The rule pack's precision and recall on the labelled corpus (tests/corpus).

CI fails when overall recall drops below 0.98 or precision below 0.95, and
says which rules miss or over-report. benchmarks/quality.py prints the full
per-rule table (and the peers' scores with --peers).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

import quality  # noqa: E402

MIN_RECALL = 0.98
MIN_PRECISION = 0.95


@pytest.fixture(scope="module")
def corpus_score():
    labels = quality.load_labels()
    found, classes = quality.keyscan_corpus(quality.CORPUS / "files")
    found, _ = quality.dedupe(found)
    found, _ = quality.drop_tolerated(found, quality.load_tolerated())
    return labels, found, classes, quality.score_exact(labels, found)


def test_corpus_matches_its_generator():
    """The committed corpus is exactly what generate.py writes (labels in sync with files)."""
    proc = subprocess.run([sys.executable, str(quality.CORPUS / "generate.py"), "--check"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_rule_has_a_labelled_secret(corpus_score):
    labels, _, classes, _ = corpus_score
    missing = sorted(set(classes) - {lb.rule for lb in labels})
    assert not missing, f"rules with no labelled secret in tests/corpus (add one to a template, then run generate.py): {missing}"


def test_overall_precision_and_recall(corpus_score):
    labels, found, _, score = corpus_score
    o = score.overall
    missing = sorted({lb.rule for lb in score.misses})
    noisy = sorted({f.rule for f in score.false_positives})
    detail = "\n".join(
        [f"missed {lb.rule} at {lb.path}:{lb.line}" for lb in score.misses]
        + [f"false positive {f.rule} at {f.path}:{f.line}" for f in score.false_positives]
    )
    assert o.recall >= MIN_RECALL, f"recall {o.recall:.3f} < {MIN_RECALL}; rules that miss: {missing}\n{detail}"
    assert o.precision >= MIN_PRECISION, f"precision {o.precision:.3f} < {MIN_PRECISION}; rules that over-report: {noisy}\n{detail}"
    assert o.tp + o.fn == len(labels)


def test_publishable_keys_never_fail_the_gate(corpus_score):
    """Keys vendors ship to browsers are found, as info."""
    _, found, classes, _ = corpus_score
    publishable = [f for f in found if classes[f.rule] == "publishable"]
    assert len({f.rule for f in publishable}) >= 15


def test_exact_scoring_counts_wrong_line_rule_or_secret_as_both_errors():
    labels = [quality.Label("a/.env", 3, 3, "x.key", "k1"), quality.Label("a/.env", 4, 4, "y.key", "k2")]
    found = [
        quality.Found("a/.env", 3, 3, "x.key", "k1"),  # right
        quality.Found("a/.env", 5, 5, "y.key", "k2"),  # wrong line
        quality.Found("b.py", 1, 1, "generic", "zz"),  # unlabelled
    ]
    score = quality.score_exact(labels, found)
    assert (score.overall.tp, score.overall.fp, score.overall.fn) == (1, 2, 1)
    assert score.per_rule["y.key"].fp == 1 and score.per_rule["y.key"].fn == 1
    assert score.per_rule["generic"].fp == 1


def test_cover_scoring_for_peers():
    labels = [
        quality.Label("k.json", 4, 4, "gcp.service-account-key", "0123abcd" * 5),
        quality.Label("k.json", 2, 30, "private-key.rsa", "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----"),
        quality.Label(".env", 1, 1, "stripe.secret-key", "sk_live_51AbCdEfGhIjKlMnOpQrStUv"),
        quality.Label(".env", 2, 2, "stripe.publishable-key", "pk_live_51AbCdEfGhIjKlMnOpQrStUv"),
    ]
    found = [
        quality.Found("k.json", 5, 5, "private-key", "MIIEvQIBADANBgkq"),  # inside the labelled block
        quality.Found(".env", 1, 1, "stripe-access-token", "sk_live_51AbCdEfGhIj"),  # overlapping secret
        quality.Found(".env", 2, 2, "generic-api-key", "pk_live_51AbCdEfGhIjKl"),  # publishable: not counted
        quality.Found(".env", 1, 1, "generic-api-key", "something-else-entirely"),  # no overlap: FP
    ]
    score = quality.score_cover(labels, found, {"stripe.publishable-key"})
    assert (score.overall.tp, score.overall.fp, score.overall.fn) == (2, 1, 1)
    assert [lb.rule for lb in score.misses] == ["gcp.service-account-key"]


def test_script_prints_overall_line():
    proc = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "quality.py"), "--quiet"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "keyscan overall:" in proc.stdout and "recall" in proc.stdout
