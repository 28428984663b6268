"""Typed records passed between the stages of a scan.

sources -> Fragment -> engine -> Match -> findings -> Finding -> filters -> reporters
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

# Where bytes came from. A source sets it; findings derive exposure from it.
ORIGINS = ("worktree", "staged", "history", "bundle", "sourcemap", "archive")

SEVERITIES = ("info", "low", "medium", "high", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}


class CommitInfo(NamedTuple):
    sha: str
    author: str  # "Name <email>"
    date: str  # ISO 8601, UTC
    subject: str


@dataclass(frozen=True)
class Fragment:
    """A piece of text to scan and everything needed to locate a match in it.

    ``line`` and ``column`` give the position of ``text[0]`` in the original
    file (1-based line, 0-based column), so a large file read in chunks still
    reports exact positions.

    ``data`` is UTF-8 (or at least ASCII-compatible) bytes: sources convert
    UTF-16 before building a fragment. The engine's prefilter looks at the
    bytes; ``text`` is decoded only when some rule's keyword occurs.
    """

    data: bytes
    path: str
    origin: str = "worktree"
    line: int = 1
    column: int = 0
    commit: CommitInfo | None = None
    # Set by sources that know better than the path does (bundles, archives).
    public: bool | None = None
    # Extra, source-specific facts carried through to the finding
    # (original location through a source map, blob id, decoding chain, ...).
    meta: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @cached_property
    def text(self) -> str:
        return self.data.decode("utf-8", "replace")

    @classmethod
    def from_text(cls, text: str, path: str, **kw: Any) -> "Fragment":
        frag = cls(text.encode("utf-8", "surrogatepass"), path, **kw)
        frag.__dict__["text"] = text
        return frag


class Match(NamedTuple):
    rule: Any  # keyscan.rulefile.Rule
    fragment: Fragment
    start: int  # span of the secret within fragment.text
    end: int
    secret: str
    environment: str
    # Decoders applied to reach the secret, outermost first ("base64", ...).
    decoded: tuple[str, ...] = ()
    # When decoded, the span of the encoded text in fragment.text.
    outer_start: int | None = None
    outer_end: int | None = None
    # The public, non-random start of the secret (``sk_imapik-test-``); kept
    # when the secret is redacted.
    prefix: str = ""


@dataclass(frozen=True)
class Finding:
    rule_id: str
    provider: str
    name: str
    key_class: str
    environment: str
    severity: str
    exposure: str  # "source" | "history" | "public-env" | "bundle" | "sourcemap" | "archive"
    path: str
    line: int
    column: int  # 1-based
    secret: str  # full secret; reporters print ``redacted`` unless told not to
    redacted: str
    fingerprint: str
    source: dict[str, Any]
    line_text: str = ""  # the source line, for inline allows (never reported as is)
    original: dict[str, Any] | None = None
    commit: dict[str, Any] | None = None
    lifecycle: dict[str, Any] | None = None
    env_var: str | None = None
    rotation: dict[str, Any] | None = None
    description: str = ""
    references: tuple[str, ...] = ()
    prev_line_text: str = ""  # the line before, for keyscan:allow-next-line (never reported)
    repository: str | None = None  # `keyscan audit`: the repository it was found in (None elsewhere)

    @property
    def rank(self) -> int:
        return SEVERITY_RANK[self.severity]

    def sort_key(self) -> tuple:
        # The same key at the same place can come by two roads (a bundle and
        # its map's sourcesContent, say): the rest decides, so the order of a
        # report never depends on which worker finished first.
        return (self.repository or "", self.path, self.line, self.column, self.rule_id, self.fingerprint, self.exposure, _canon(self.source), _canon(self.original), _canon(self.commit))


def _canon(value) -> str:
    return "" if value is None else json.dumps(value, sort_keys=True, default=str)


class Suppressed(NamedTuple):
    finding: Finding
    reason: str  # "inline" | "baseline" | "config" | "placeholder"
    detail: str = ""

    def sort_key(self) -> tuple:
        return (self.finding.sort_key(), self.reason, self.detail)


class ScanError(NamedTuple):
    """A problem that did not stop the scan but means it did not read everything."""

    path: str
    kind: str  # "timeout", "read", "decode", "git", "sourcemap", "archive", ...
    message: str
    rule_id: str | None = None
    repository: str | None = None  # `keyscan audit`: the repository concerned (None elsewhere)


@dataclass
class Stats:
    files_scanned: int = 0
    bytes_scanned: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    skipped_paths: list[tuple[str, str]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def skip(self, path: str, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        self.skipped_paths.append((path, reason))

    def merge(self, other: "Stats") -> None:
        self.files_scanned += other.files_scanned
        self.bytes_scanned += other.bytes_scanned
        for reason, count in other.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
        self.skipped_paths.extend(other.skipped_paths)
        for key, value in other.extra.items():
            if isinstance(value, (int, float)) and isinstance(self.extra.get(key), (int, float)):
                self.extra[key] += value
            else:
                self.extra.setdefault(key, value)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "files_scanned": self.files_scanned,
            "bytes_scanned": self.bytes_scanned,
            "skipped": dict(sorted(self.skipped.items())),
        }
        out.update(sorted(self.extra.items()))
        return out


@dataclass
class Report:
    findings: list[Finding] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)
    stats: Stats = field(default_factory=Stats)
    command: str = "scan"

    def sort(self) -> None:
        self.findings.sort(key=Finding.sort_key)
        self.suppressed.sort(key=Suppressed.sort_key)
        self.errors.sort()
        self.stats.skipped_paths.sort()


def gate_failures(findings, fail_on: str) -> list[Finding]:
    """Findings at or above the gate ``fail_on``."""
    gate = SEVERITY_RANK[fail_on]
    return [f for f in findings if SEVERITY_RANK[f.severity] >= gate]
