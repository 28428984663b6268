"""Reports to and from their JSON form (README "JSON report").

The audit cache and ``keyscan merge`` keep reports as JSON: the cache so
that it never holds a secret (findings are stored redacted, as in a JSON
report), ``merge`` because shard reports are JSON files. Reading one back
gives Findings whose ``secret`` is the redacted text, so every format can be
rendered from it (never with the full secret); a rule's description and
references, which a JSON report leaves out, come back from the rule set.

Input is untrusted (a shard report can be any file): anything that is not a
report of the expected shape is a KeyscanError naming the file and the
place, never a traceback.
"""
from __future__ import annotations

from typing import Any

from ..errors import KeyscanError
from ..models import SEVERITIES, Finding, Report, ScanError, Stats, Suppressed
from ..reporters import RenderOptions
from ..reporters.json_report import report_dict

_STR_FIELDS = ("rule_id", "provider", "name", "key_class", "environment", "severity", "exposure", "path", "secret", "fingerprint")
_OPTIONAL_DICTS = ("original", "commit", "lifecycle", "rotation")


def to_dict(report: Report) -> dict[str, Any]:
    """The JSON report of ``report``, secrets redacted."""
    return report_dict(report, RenderOptions(redact=True))


def _bad(where: str, what: str) -> KeyscanError:
    return KeyscanError(f"{where}: not a keyscan JSON report ({what})")


def _finding(d: Any, where: str, rules: dict) -> Finding:
    if not isinstance(d, dict):
        raise _bad(where, "a finding is not an object")
    for key in _STR_FIELDS:
        if not isinstance(d.get(key), str):
            raise _bad(where, f"a finding has no text '{key}'")
    if d["severity"] not in SEVERITIES:
        raise _bad(where, f"unknown severity '{d['severity'][:20]}'")
    for key in ("line", "column"):
        if not isinstance(d.get(key), int) or isinstance(d.get(key), bool):
            raise _bad(where, f"a finding has no number '{key}'")
    source = d.get("source") or {}
    if not isinstance(source, dict):
        raise _bad(where, "a finding's 'source' is not an object")
    for key in _OPTIONAL_DICTS:
        if d.get(key) is not None and not isinstance(d[key], dict):
            raise _bad(where, f"a finding's '{key}' is not an object")
    repository = d.get("repository")
    if repository is not None and not isinstance(repository, str):
        raise _bad(where, "a finding's 'repository' is not text")
    env_var = d.get("env_var")
    rule = rules.get(d["rule_id"])
    return Finding(
        rule_id=d["rule_id"],
        provider=d["provider"],
        name=d["name"],
        key_class=d["key_class"],
        environment=d["environment"],
        severity=d["severity"],
        exposure=d["exposure"],
        path=d["path"],
        line=d["line"],
        column=d["column"],
        secret=d["secret"],  # already redacted: the full secret is never stored
        redacted=d["secret"],
        fingerprint=d["fingerprint"],
        source=source,
        original=d.get("original"),
        commit=d.get("commit"),
        lifecycle=d.get("lifecycle"),
        env_var=env_var if isinstance(env_var, str) else None,
        rotation=d.get("rotation"),
        description=rule.description if rule is not None else "",
        references=tuple(rule.references) if rule is not None else (),
        repository=repository,
    )


def _error(d: Any, where: str) -> ScanError:
    if not isinstance(d, dict):
        raise _bad(where, "an error is not an object")
    for key in ("path", "kind", "message"):
        if not isinstance(d.get(key), str):
            raise _bad(where, f"an error has no text '{key}'")
    for key in ("rule_id", "repository"):
        if d.get(key) is not None and not isinstance(d[key], str):
            raise _bad(where, f"an error's '{key}' is not text")
    return ScanError(d["path"], d["kind"], d["message"], d.get("rule_id"), d.get("repository"))


def _stats(d: Any, where: str) -> Stats:
    if d is None:
        return Stats()
    if not isinstance(d, dict):
        raise _bad(where, "'stats' is not an object")
    stats = Stats()
    for key, value in d.items():
        if key in ("files_scanned", "bytes_scanned"):
            if not isinstance(value, int) or isinstance(value, bool):
                raise _bad(where, f"'stats.{key}' is not a number")
            setattr(stats, key, value)
        elif key == "skipped":
            if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, int) for k, v in value.items()):
                raise _bad(where, "'stats.skipped' is not an object of counts")
            stats.skipped = dict(value)
        else:
            stats.extra[key] = value
    return stats


def from_dict(doc: Any, where: str, rules: dict | None = None) -> Report:
    """A Report from its JSON form; ``rules`` (id -> Rule) restores each
    rule's description and references."""
    rules = rules or {}
    if not isinstance(doc, dict):
        raise _bad(where, "not a JSON object")
    for key in ("findings", "suppressed", "errors"):
        if not isinstance(doc.get(key, []), list):
            raise _bad(where, f"'{key}' is not a list")
    command = doc.get("command", "scan")
    report = Report(command=command if isinstance(command, str) else "scan")
    report.findings = [_finding(d, where, rules) for d in doc.get("findings", [])]
    for d in doc.get("suppressed", []):
        f = _finding(d, where, rules)
        why = d.get("suppression") or {}
        if not isinstance(why, dict) or not isinstance(why.get("reason", ""), str) or not isinstance(why.get("detail", ""), str):
            raise _bad(where, "a suppressed finding has no 'suppression' reason")
        report.suppressed.append(Suppressed(f, why.get("reason", ""), why.get("detail", "")))
    report.errors = [_error(d, where) for d in doc.get("errors", [])]
    report.stats = _stats(doc.get("stats"), where)
    return report
