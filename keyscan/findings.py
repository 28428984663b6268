"""Match -> Finding: location, exposure, severity, fingerprint, redaction and
rotation guidance. Line and column are computed here, once, from offsets."""
from __future__ import annotations

import hashlib
import posixpath
import re
from typing import Iterable

from .decode.offsets import LineIndex
from .models import Finding, Fragment, Match
from .redact import redact

PUBLIC_ENV_PREFIXES = ("NEXT_PUBLIC_", "VITE_", "REACT_APP_", "EXPO_PUBLIC_", "NUXT_PUBLIC_", "GATSBY_", "PUBLIC_")
BUILD_DIRS = frozenset({"dist", "build", "out", ".next", "public", "static"})
BUNDLE_SUFFIXES = (".js", ".mjs", ".cjs", ".map")
PUBLIC_ORIGINS = {"bundle": "bundle", "sourcemap": "sourcemap", "archive": "archive"}

# severity[key_class][environment][public?]
_SECRET = {"production": ("high", "critical"), "test": ("medium", "high"), "unknown": ("high", "critical")}
SEVERITY_TABLE = {
    "secret": _SECRET,
    "credential": _SECRET,
    "generic": {"production": ("medium", "high"), "test": ("low", "medium"), "unknown": ("medium", "high")},
    "publishable": {"production": ("info", "info"), "test": ("info", "info"), "unknown": ("info", "info")},
}

_ENV_ASSIGN = re.compile(r"^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*[=:]")


def severity(key_class: str, environment: str, public: bool, override: Iterable[tuple[str, str]] = ()) -> str:
    table = dict(override)
    if table:
        key = "public" if public else "source"
        if key in table:
            return table[key]
    return SEVERITY_TABLE[key_class][environment][1 if public else 0]


def fingerprint(rule_id: str, secret: str) -> str:
    """Stable identity of a finding: the rule and the secret, never the line."""
    digest = hashlib.sha256(b"keyscan-fingerprint-v1\0" + rule_id.encode() + b"\0" + secret.encode("utf-8", "surrogatepass"))
    return "ks1:" + digest.hexdigest()[:32]


def is_env_file(path: str) -> bool:
    name = posixpath.basename(path)
    return name.startswith(".env") or name.endswith(".env")


def env_var_of(line: str) -> str | None:
    m = _ENV_ASSIGN.match(line)
    return m.group(1) if m else None


def is_public_env_var(name: str | None) -> bool:
    return bool(name) and name.upper().startswith(PUBLIC_ENV_PREFIXES)


def is_build_output(path: str) -> bool:
    parts = path.replace("\\", "/").split("/")
    return path.endswith(BUNDLE_SUFFIXES) and any(p in BUILD_DIRS for p in parts[:-1])


def exposure_of(fragment: Fragment, line_text: str) -> tuple[str, str | None]:
    """(exposure, public env var name). Exposure is one of source, history,
    public-env, bundle, sourcemap, archive; the last four count as shipped."""
    if fragment.origin in PUBLIC_ORIGINS:
        return PUBLIC_ORIGINS[fragment.origin], fragment.meta.get("env_var")
    if fragment.public:
        return "bundle", fragment.meta.get("env_var")
    if is_env_file(fragment.path):
        var = env_var_of(line_text)
        if is_public_env_var(var):
            return "public-env", var
    if is_build_output(fragment.path):
        return ("sourcemap" if fragment.path.endswith(".map") else "bundle"), None
    if fragment.origin == "history":
        return "history", None
    return "source", None


PUBLIC_EXPOSURES = frozenset({"public-env", "bundle", "sourcemap", "archive"})


def rotation_of(match: Match, exposure: str, env_var: str | None) -> dict:
    rot = match.rule.rotation.as_dict()
    notes = list(rot["notes"])
    if exposure in PUBLIC_EXPOSURES and match.rule.key_class in ("secret", "credential", "generic"):
        notes.insert(0, "This key was shipped to the public (browser bundle, source map, package or public env var): treat it as already stolen and rotate now.")
    if env_var:
        prefix = next((p for p in PUBLIC_ENV_PREFIXES if env_var.upper().startswith(p)), None)
        inlined = f"bundlers inline {prefix}* variables into client code" if prefix else "bundlers inline it into client code"
        notes.append(f"Remove {env_var} from the public build environment ({inlined}); read the key on the server instead.")
    rot["notes"] = notes
    return rot


def to_findings(fragment: Fragment, matches: Iterable[Match]) -> list[Finding]:
    matches = list(matches)
    if not matches:
        return []
    index = LineIndex(fragment.text)
    out = []
    for m in matches:
        line0, col0 = index.position(m.start)
        line_text = index.around(m.start)
        exposure, env_var = exposure_of(fragment, index.line_text(line0, 512))
        public = exposure in PUBLIC_EXPOSURES
        rule = m.rule
        source = {"kind": fragment.origin}
        if m.decoded:
            source["decoded"] = list(m.decoded)
        for key in ("blob", "member", "bundle", "map"):
            if key in fragment.meta:
                source[key] = fragment.meta[key]
        original = fragment.meta.get("original_of")(m.start) if callable(fragment.meta.get("original_of")) else fragment.meta.get("original")
        if original and original.get("env_var"):
            env_var = env_var or original["env_var"]
        commit = fragment.commit._asdict() if fragment.commit else None
        out.append(
            Finding(
                rule_id=rule.id,
                provider=rule.provider,
                name=rule.name,
                key_class=rule.key_class,
                environment=m.environment,
                severity=severity(rule.key_class, m.environment, public, rule.severity_override),
                exposure=exposure,
                path=fragment.path,
                line=fragment.line + line0,
                column=(fragment.column if line0 == 0 else 0) + col0 + 1,
                secret=m.secret,
                redacted=redact(m.secret, m.prefix),
                fingerprint=fingerprint(rule.id, m.secret),
                source=source,
                line_text=line_text,
                original=original,
                commit=commit,
                env_var=env_var,
                rotation=rotation_of(m, exposure, env_var),
                description=rule.description,
                references=rule.references,
                prev_line_text=index.line_text(line0 - 1) if line0 > 0 else "",
            )
        )
    return out
