"""The baseline file: the findings a project already knows about.

A versioned JSON object, written so that it never churns::

    {
      "version": 1,
      "tool": "keyscan",
      "salt": "<32 random hex digits>",
      "entries": [
        {"rule_id": "immutable.secret-key", "hash": "<HMAC-SHA256(salt, secret)>", "path": "src/app.py"},
        ...
      ]
    }

An entry is the rule id, a salted hash of the secret and (by default) the
file's path relative to the baseline's root: the repository holding the
baseline file. No line numbers, no timestamps, no plaintext; entries are
sorted, unique and one per line, so merging two branches' baselines rarely
conflicts. The salt stays the same for the life of the file, so an entry's
hash never changes.

Why the path by default: a known key showing up in a new file is a new
exposure (a test key copied into a shipped bundle goes from "medium in
source" to "high in a bundle") and deserves a look. The price is that
renaming a file makes its known keys show up once more; ``baseline update``
takes them in. ``--no-paths`` writes path-less entries that match the key
anywhere.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import secrets
from typing import Iterable, NamedTuple

from .atomic import write_atomic
from .config import finding_abs_path, repo_root_of
from .errors import KeyscanError
from .models import Finding

VERSION = 1
TOOL = "keyscan"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SALT = re.compile(r"(?:[0-9a-f]{2}){16,64}")
_ENTRY_KEYS = {"rule_id", "hash", "path"}
_TOP_KEYS = {"version", "tool", "salt", "entries"}


class Entry(NamedTuple):
    rule_id: str
    hash: str
    path: str | None = None

    def sort_key(self) -> tuple[str, str, str]:
        return (self.rule_id, self.path or "", self.hash)

    def as_dict(self) -> dict[str, str]:
        out = {"rule_id": self.rule_id, "hash": self.hash}
        if self.path is not None:
            out["path"] = self.path
        return out


class Baseline(NamedTuple):
    file: str  # where it was read from or will be written to
    salt: str
    entries: frozenset[Entry]
    root: str  # the folder entry paths are relative to

    def secret_hash(self, secret: str) -> str:
        return hmac.new(bytes.fromhex(self.salt), secret.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()

    def with_entries(self, entries: Iterable[Entry]) -> "Baseline":
        return self._replace(entries=frozenset(entries))


def root_for(file: str) -> str:
    """Entry paths are relative to the repository that holds the baseline
    file (or, outside a repository, to the file's folder)."""
    folder = os.path.dirname(os.path.realpath(file))
    return repo_root_of(folder) or folder


def new(file: str, salt: str | None = None) -> Baseline:
    return Baseline(file, salt or secrets.token_hex(16), frozenset(), root_for(file))


class Keyer:
    """Turns findings into baseline entries, caching the HMAC per secret."""

    def __init__(self, baseline: Baseline, scan_root: str | None) -> None:
        self.baseline = baseline
        self.scan_root = scan_root
        self._hashes: dict[str, str] = {}

    def hash(self, secret: str) -> str:
        h = self._hashes.get(secret)
        if h is None:
            h = self._hashes[secret] = self.baseline.secret_hash(secret)
        return h

    def path(self, finding: Finding) -> str:
        origin = finding.source.get("kind", "worktree") if finding.source else "worktree"
        abs_path = finding_abs_path(finding.path, origin, self.scan_root)
        try:
            rel = os.path.relpath(abs_path, self.baseline.root)
        except ValueError:  # another drive
            rel = abs_path
        return rel.replace(os.sep, "/")

    def entry(self, finding: Finding, with_path: bool = True) -> Entry:
        return Entry(finding.rule_id, self.hash(finding.secret), self.path(finding) if with_path else None)

    def known(self, finding: Finding) -> bool:
        """Is the finding's secret in the baseline, at its path or path-less?"""
        entries = self.baseline.entries
        h = self.hash(finding.secret)
        return Entry(finding.rule_id, h, None) in entries or Entry(finding.rule_id, h, self.path(finding)) in entries


def _fail(file: str, message: str) -> KeyscanError:
    return KeyscanError(f"{file}: {message}")


def _foreign_hint(doc: object) -> str:
    if isinstance(doc, list):
        return " (a JSON list: a gitleaks report or baseline?)"
    if isinstance(doc, dict) and ("plugins_used" in doc or "results" in doc):
        return " (looks like a detect-secrets baseline)"
    if isinstance(doc, dict) and "findings" in doc:
        return " (looks like a keyscan report, not a baseline: make one with 'keyscan baseline create')"
    return ""


def parse(data: bytes, file: str) -> Baseline:
    """Validate a baseline file's bytes. Anything unexpected is an error
    naming the file: a baseline is never silently treated as empty."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise _fail(file, "corrupt baseline (not UTF-8)") from None
    except json.JSONDecodeError as exc:
        raise _fail(file, f"corrupt baseline (invalid JSON at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(doc, dict) or doc.get("tool") != TOOL:
        raise _fail(file, f"not a keyscan baseline{_foreign_hint(doc)}")
    version = doc.get("version")
    if version != VERSION:
        if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
            raise _fail(file, f"baseline format version {version} is newer than this keyscan understands ({VERSION}); upgrade keyscan")
        raise _fail(file, f"unsupported baseline format version {version!r} (expected {VERSION})")
    extra = sorted(set(doc) - _TOP_KEYS)
    if extra:
        raise _fail(file, f"corrupt baseline (unknown key '{extra[0]}')")
    salt = doc.get("salt")
    if not isinstance(salt, str) or not _SALT.fullmatch(salt):
        raise _fail(file, "corrupt baseline ('salt' must be 32 to 128 lowercase hex digits)")
    raw = doc.get("entries")
    if not isinstance(raw, list):
        raise _fail(file, "corrupt baseline ('entries' must be a list)")
    entries = set()
    for n, item in enumerate(raw, 1):
        if not isinstance(item, dict):
            raise _fail(file, f"corrupt baseline (entry {n} is not an object)")
        extra = sorted(set(item) - _ENTRY_KEYS)
        if extra:
            raise _fail(file, f"corrupt baseline (entry {n} has unknown key '{extra[0]}')")
        rule_id, h, path = item.get("rule_id"), item.get("hash"), item.get("path")
        if not isinstance(rule_id, str) or not rule_id:
            raise _fail(file, f"corrupt baseline (entry {n} needs a 'rule_id')")
        if not isinstance(h, str) or not _HEX64.fullmatch(h):
            raise _fail(file, f"corrupt baseline (entry {n}: 'hash' must be 64 lowercase hex digits)")
        if path is not None and (not isinstance(path, str) or not path):
            raise _fail(file, f"corrupt baseline (entry {n}: 'path' must be a non-empty string)")
        entries.add(Entry(rule_id, h, path))
    return Baseline(file, salt, frozenset(entries), root_for(file))


def load(file: str) -> Baseline:
    try:
        with open(file, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise _fail(file, f"baseline file not found (create it with: keyscan baseline create --baseline {file})") from None
    except IsADirectoryError:
        raise _fail(file, "baseline is a folder, not a file") from None
    except OSError as exc:
        raise _fail(file, f"cannot read baseline ({exc.strerror})") from None
    return parse(data, file)


def dumps(baseline: Baseline) -> bytes:
    """The file's bytes: stable key order, entries sorted, one per line."""
    lines = ["{", f'  "version": {VERSION},', f'  "tool": "{TOOL}",', f'  "salt": {json.dumps(baseline.salt)},']
    entries = sorted(baseline.entries, key=Entry.sort_key)
    if entries:
        lines.append('  "entries": [')
        body = [f"    {json.dumps(e.as_dict(), ensure_ascii=True)}" for e in entries]
        lines.append(",\n".join(body))
        lines.append("  ]")
    else:
        lines.append('  "entries": []')
    lines.append("}")
    return ("\n".join(lines) + "\n").encode("ascii")


def save(baseline: Baseline) -> None:
    write_atomic(baseline.file, dumps(baseline))
