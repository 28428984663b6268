"""Load, validate and compile rule files (``rules/*.toml``) into a RuleSet.

Rule files are data. Each is validated against the schema below on load; an
unknown key, a missing field or a regex that does not compile is a
RuleFileError naming the file, the rule and the field.

Regexes of the shipped rules are compiled lazily, on the first fragment whose
prefilter selects the rule, so that a pre-commit run that touches three files
does not pay for compiling every rule. ``validate=True`` (user rule folders,
``keyscan rules check``) compiles everything up front.
"""
from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import regex

from . import diskcache
from .errors import RuleFileError

KEY_CLASSES = ("secret", "publishable", "credential", "generic")
ENVIRONMENTS = ("production", "test", "unknown")
ENV_ALIASES = {"live": "production", "prod": "production", "sandbox": "test", "dev": "test"}
SEVERITY_NAMES = ("info", "low", "medium", "high", "critical")

FILE_KEYS = {"format", "provider", "rule"}
RULE_REQUIRED = {"id", "name", "description", "key_class", "keywords", "pattern", "rotation", "examples"}
RULE_OPTIONAL = {
    "provider",
    "references",
    "environment",
    "min_entropy",
    "placeholders",
    "paths",
    "exclude_paths",
    "negative_examples",
    "validator",
    "severity",
    "tags",
}
ROTATION_KEYS = {"url", "steps", "notes"}
EXAMPLE_KEYS = {"text", "secret", "path", "environment"}
NEGATIVE_KEYS = {"text", "why", "path"}
ENV_TABLE_KEYS = {"group", "map", "default"}
SEVERITY_KEYS = {"source", "public"}

# Placeholder shapes that are never real keys, whatever the rule. A rule adds
# its own with ``placeholders``. Tested against the secret's random part.
COMMON_PLACEHOLDERS = (
    r"(?i)^(?:x+|\*+|0+|1234567890.*|abcdef.*|a+|b+)$",
    r"(.)\1{7,}",  # eight or more of one character in a row
    r"(?i)your[_-]?|example|placeholder|replace[_-]?me|changeme|dummy|redacted|insert[_-]?|sample|<[^>]*>|\$\{|\{\{",
    r"(?i)x{6,}",
)


@dataclass(frozen=True)
class Rotation:
    url: str
    steps: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"url": self.url, "steps": list(self.steps), "notes": list(self.notes)}


@dataclass(frozen=True)
class Example:
    text: str
    secret: str
    path: str | None = None
    environment: str | None = None


@dataclass(frozen=True)
class NegativeExample:
    text: str
    why: str
    path: str | None = None


@dataclass(frozen=True, eq=False)
class Rule:
    id: str
    name: str
    provider: str
    description: str
    key_class: str
    keywords: tuple[str, ...]
    pattern_source: str
    rotation: Rotation
    examples: tuple[Example, ...]
    negative_examples: tuple[NegativeExample, ...] = ()
    references: tuple[str, ...] = ()
    # Either a fixed environment, or (group name, {group value: env}, default).
    environment_fixed: str | None = "unknown"
    environment_group: str | None = None
    environment_map: tuple[tuple[str, str], ...] = ()
    min_entropy: float = 0.0
    placeholder_sources: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    exclude_paths: tuple[str, ...] = ()
    validator: str | None = None
    severity_override: tuple[tuple[str, str], ...] = ()
    tags: tuple[str, ...] = ()
    file: str = ""

    @cached_property
    def pattern(self) -> regex.Pattern:
        return regex.compile(self.pattern_source)

    @cached_property
    def placeholders(self) -> tuple[regex.Pattern, ...]:
        return tuple(regex.compile(p) for p in self.placeholder_sources)

    @cached_property
    def path_spec(self):
        if not self.paths:
            return None
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(self.paths)

    @cached_property
    def exclude_spec(self):
        if not self.exclude_paths:
            return None
        import pathspec

        return pathspec.GitIgnoreSpec.from_lines(self.exclude_paths)

    @cached_property
    def _path_matchers(self):
        return (_spec_matcher(self.path_spec), _spec_matcher(self.exclude_spec))

    def applies_to(self, path: str) -> bool:
        if self.path_spec is None and self.exclude_spec is None:
            return True
        inside, excluded = self._path_matchers
        if inside is not None and not inside(path):
            return False
        if excluded is not None and excluded(path):
            return False
        return True

    def environment_of(self, match: regex.Match) -> str:
        if self.environment_group is None:
            return self.environment_fixed or "unknown"
        value = match.group(self.environment_group) or ""
        for key, env in self.environment_map:
            if value == key or value.lower() == key.lower():
                return env
        return self.environment_fixed or "unknown"


def _spec_matcher(spec):
    """``spec.match_file`` as one regex search when no pattern negates
    (then a path matches the spec exactly when it matches one pattern):
    1 us a path instead of 9 us for the built-in generic rule's eight
    ``exclude_paths``, paid for each fragment the engine or its result memo
    looks at. With a negation, ``match_file`` itself."""
    if spec is None:
        return None
    patterns = [p for p in spec.patterns if p.include is not None]
    if not patterns or any(p.include is not True or p.regex is None for p in patterns):
        return spec.match_file
    import re

    from pathspec.util import NORMALIZE_PATH_SEPS, normalize_file

    combined = re.compile("|".join("(?:" + p.regex.pattern.replace("(?P<ps_d>", "(?:") + ")" for p in patterns))
    if NORMALIZE_PATH_SEPS or any(p.regex.flags != combined.flags for p in patterns):
        return spec.match_file
    match = combined.match

    def matches(path: str) -> bool:
        if path.startswith(("/", "./")):
            path = normalize_file(path)  # what else it does is for Windows separators
        return match(path) is not None

    return matches


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[Rule, ...]
    digest: str  # hash of every rule file's bytes: keys caches of compiled or scanned state
    files: tuple[str, ...] = field(default=())

    def by_id(self) -> dict[str, Rule]:
        return {r.id: r for r in self.rules}

    def without(self, disabled: set[str] | frozenset[str]) -> "RuleSet":
        if not disabled:
            return self
        return RuleSet(tuple(r for r in self.rules if r.id not in disabled), self.digest + "-" + ",".join(sorted(disabled)), self.files)

    def only(self, wanted: set[str] | frozenset[str]) -> "RuleSet":
        """Rules whose id or provider (case-insensitive) is in ``wanted``."""
        lowered = {w.lower() for w in wanted}
        keep = tuple(r for r in self.rules if r.id.lower() in lowered or r.provider.lower() in lowered or r.id.split(".")[0].lower() in lowered)
        return RuleSet(keep, self.digest + "+" + ",".join(sorted(lowered)), self.files)


def builtin_rules_dir() -> Path:
    here = Path(__file__).resolve().parent
    installed = here / "_rules"
    if installed.is_dir():
        return installed
    return here.parent / "rules"


def _expect(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise RuleFileError(where, message)


def _str(value: Any, where: str, name: str, *, allow_empty: bool = False) -> str:
    _expect(isinstance(value, str), where, f"'{name}' must be a string")
    _expect(allow_empty or bool(value.strip()), where, f"'{name}' must not be empty")
    return value


def _str_list(value: Any, where: str, name: str, *, allow_empty: bool = True) -> tuple[str, ...]:
    _expect(isinstance(value, list) and all(isinstance(v, str) for v in value), where, f"'{name}' must be a list of strings")
    _expect(allow_empty or bool(value), where, f"'{name}' must not be empty")
    return tuple(value)


def _unknown(table: dict, allowed: set[str], where: str, what: str) -> None:
    extra = sorted(set(table) - allowed)
    _expect(not extra, where, f"unknown key '{extra[0]}' in {what}" if extra else "")


def _env_name(value: Any, where: str, name: str) -> str:
    _expect(isinstance(value, str), where, f"'{name}' must be a string")
    env = ENV_ALIASES.get(value, value)
    _expect(env in ENVIRONMENTS, where, f"'{name}' must be one of production, test, unknown (or live, sandbox), not '{value}'")
    return env


def _compile(source: str, where: str, name: str) -> regex.Pattern:
    try:
        return regex.compile(source)
    except (regex.error, TypeError, ValueError, OverflowError) as exc:
        raise RuleFileError(where, f"'{name}' is not a valid regex: {exc}") from None


def parse_rule(table: Any, *, file: str, default_provider: str | None, index: int, validate: bool) -> Rule:
    where = f"{file}: rule #{index + 1}"
    _expect(isinstance(table, dict), where, "each [[rule]] must be a table")
    if isinstance(table.get("id"), str):
        where = f"{file}: rule '{table['id']}'"
    missing = sorted(RULE_REQUIRED - set(table))
    _expect(not missing, where, f"missing field '{missing[0]}'" if missing else "")
    _unknown(table, RULE_REQUIRED | RULE_OPTIONAL, where, "rule")

    rule_id = _str(table["id"], where, "id")
    _expect(bool(regex.fullmatch(r"[a-z0-9][a-z0-9_.-]*", rule_id)), where, "'id' must be lowercase letters, digits, '.', '_' or '-'")
    provider = table.get("provider", default_provider)
    _expect(isinstance(provider, str) and bool(provider), where, "missing field 'provider' (in the rule or at the top of the file)")

    key_class = _str(table["key_class"], where, "key_class")
    _expect(key_class in KEY_CLASSES, where, f"'key_class' must be one of {', '.join(KEY_CLASSES)}, not '{key_class}'")

    keywords = _str_list(table["keywords"], where, "keywords", allow_empty=False)
    _expect(all(len(k) >= 2 for k in keywords), where, "'keywords' must each be at least 2 characters")

    pattern_source = _str(table["pattern"], where, "pattern")
    if validate:
        compiled = _compile(pattern_source, where, "pattern")
        _expect("secret" in compiled.groupindex, where, "'pattern' must have a named group 'secret'")
    else:
        compiled = None

    env_fixed: str | None = "unknown"
    env_group: str | None = None
    env_map: tuple[tuple[str, str], ...] = ()
    env = table.get("environment", "unknown")
    if isinstance(env, dict):
        _unknown(env, ENV_TABLE_KEYS, where, "environment")
        env_group = _str(env.get("group"), where, "environment.group")
        mapping = env.get("map", {})
        _expect(isinstance(mapping, dict), where, "'environment.map' must be a table")
        env_map = tuple((str(k), _env_name(v, where, f"environment.map.{k}")) for k, v in mapping.items())
        env_fixed = _env_name(env.get("default", "unknown"), where, "environment.default")
        if compiled is not None:
            _expect(env_group in compiled.groupindex, where, f"'environment.group' names '{env_group}', which the pattern lacks")
    else:
        env_fixed = _env_name(env, where, "environment")

    rot = table["rotation"]
    _expect(isinstance(rot, dict), where, "'rotation' must be a table")
    _unknown(rot, ROTATION_KEYS, where, "rotation")
    rot_url = _str(rot.get("url"), where, "rotation.url")
    _expect(rot_url.startswith("https://"), where, "'rotation.url' must be an https URL")
    rotation = Rotation(
        url=rot_url,
        steps=_str_list(rot.get("steps"), where, "rotation.steps", allow_empty=False),
        notes=_str_list(rot.get("notes", []), where, "rotation.notes"),
    )

    references = _str_list(table.get("references", []), where, "references")
    _expect(all(r.startswith("https://") for r in references), where, "'references' must be https URLs")

    min_entropy = table.get("min_entropy", 0.0)
    _expect(isinstance(min_entropy, (int, float)) and 0 <= min_entropy <= 8, where, "'min_entropy' must be a number from 0 to 8")

    placeholders = _str_list(table.get("placeholders", []), where, "placeholders")
    if validate:
        for i, p in enumerate(placeholders):
            _compile(p, where, f"placeholders[{i}]")

    paths = _str_list(table.get("paths", []), where, "paths")
    exclude_paths = _str_list(table.get("exclude_paths", []), where, "exclude_paths")

    validator = table.get("validator")
    if validator is not None:
        from .engine.validators import VALIDATORS

        _expect(isinstance(validator, str) and validator in VALIDATORS, where, f"'validator' names unknown validator '{validator}' (known: {', '.join(sorted(VALIDATORS))})")

    severity: tuple[tuple[str, str], ...] = ()
    if "severity" in table:
        sev = table["severity"]
        _expect(isinstance(sev, dict), where, "'severity' must be a table with 'source' and/or 'public'")
        _unknown(sev, SEVERITY_KEYS, where, "severity")
        for k, v in sev.items():
            _expect(v in SEVERITY_NAMES, where, f"'severity.{k}' must be one of {', '.join(SEVERITY_NAMES)}")
        severity = tuple(sorted(sev.items()))

    examples = []
    ex_list = table["examples"]
    _expect(isinstance(ex_list, list) and ex_list, where, "'examples' must be a non-empty list of tables")
    for i, ex in enumerate(ex_list):
        ew = f"{where}: examples[{i}]"
        _expect(isinstance(ex, dict), ew, "must be a table")
        _unknown(ex, EXAMPLE_KEYS, ew, "example")
        examples.append(
            Example(
                text=_str(ex.get("text"), ew, "text"),
                secret=_str(ex.get("secret"), ew, "secret"),
                path=_str(ex["path"], ew, "path") if "path" in ex else None,
                environment=_env_name(ex["environment"], ew, "environment") if "environment" in ex else None,
            )
        )
    negatives = []
    neg_list = table.get("negative_examples", [])
    _expect(isinstance(neg_list, list), where, "'negative_examples' must be a list of tables")
    for i, ex in enumerate(neg_list):
        ew = f"{where}: negative_examples[{i}]"
        _expect(isinstance(ex, dict), ew, "must be a table")
        _unknown(ex, NEGATIVE_KEYS, ew, "negative example")
        negatives.append(
            NegativeExample(
                text=_str(ex.get("text"), ew, "text"),
                why=_str(ex.get("why"), ew, "why"),
                path=_str(ex["path"], ew, "path") if "path" in ex else None,
            )
        )

    rule = Rule(
        id=rule_id,
        name=_str(table["name"], where, "name"),
        provider=provider,
        description=_str(table["description"], where, "description"),
        key_class=key_class,
        keywords=keywords,
        pattern_source=pattern_source,
        rotation=rotation,
        examples=tuple(examples),
        negative_examples=tuple(negatives),
        references=references,
        environment_fixed=env_fixed,
        environment_group=env_group,
        environment_map=env_map,
        min_entropy=float(min_entropy),
        placeholder_sources=placeholders,
        paths=paths,
        exclude_paths=exclude_paths,
        validator=validator,
        severity_override=severity,
        tags=_str_list(table.get("tags", []), where, "tags"),
        file=file,
    )
    if compiled is not None:
        object.__setattr__(rule, "pattern", compiled)  # keep the validated compile
    return rule


def _toml_doc(data: bytes, file: str) -> dict:
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RuleFileError(file, "not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise RuleFileError(file, f"invalid TOML: {exc}") from None


def _rules_from_doc(doc: dict, file: str, *, validate: bool) -> list[Rule]:
    _unknown(doc, FILE_KEYS, file, "the file's top level")
    _expect(doc.get("format") == 1, file, "'format = 1' must be set at the top of the file")
    default_provider = doc.get("provider")
    _expect(default_provider is None or isinstance(default_provider, str), file, "'provider' must be a string")
    tables = doc.get("rule", [])
    _expect(isinstance(tables, list), file, "'rule' must be an array of tables ([[rule]])")
    return [parse_rule(t, file=file, default_provider=default_provider, index=i, validate=validate) for i, t in enumerate(tables)]


def parse_rule_file(data: bytes, file: str, *, validate: bool) -> list[Rule]:
    return _rules_from_doc(_toml_doc(data, file), file, validate=validate)


def _cached_docs(files: list[tuple[Path, bytes]]) -> list[dict]:
    """The parsed TOML of the built-in rule files, from a JSON cache keyed by
    their bytes: parsing ~100 TOML files costs ~0.3 s, more than a
    pre-commit run may spend; reading the cache costs a few ms. Any problem
    with the cache (missing, unwritable, stale, corrupt) falls back to
    parsing. JSON, not pickle: a cache file can never run code."""
    from . import __version__

    key = hashlib.sha256(__version__.encode())
    for path, data in files:
        key.update(path.name.encode() + b"\0" + hashlib.sha256(data).digest())
    cache = diskcache.folder() / f"rules-{key.hexdigest()[:24]}.json"
    if os.environ.get("KEYSCAN_NO_CACHE") is None:
        try:
            docs = json.loads(cache.read_bytes())
            if isinstance(docs, list) and len(docs) == len(files) and all(isinstance(d, dict) for d in docs):
                diskcache.loaded(cache)
                return docs
        except (OSError, ValueError):
            pass
    docs = [_toml_doc(data, str(path)) for path, data in files]
    if os.environ.get("KEYSCAN_NO_CACHE") is None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(docs), encoding="utf-8")
            os.replace(tmp, cache)
            diskcache.written(cache)
        except (OSError, TypeError, ValueError):
            pass
    return docs


def rule_files(directory: Path) -> list[Path]:
    if not directory.exists():
        raise RuleFileError(str(directory), "rule folder does not exist")
    if directory.is_file():
        return [directory]
    return sorted(p for p in directory.iterdir() if p.suffix == ".toml" and p.is_file())


_LOADED: dict[tuple, tuple[tuple[tuple[str, int, int], ...], "RuleSet"]] = {}


def load_ruleset(extra_dirs: list[Path] | tuple[Path, ...] = (), *, builtin: bool = True, validate: bool = False) -> RuleSet:
    """Load the built-in rules plus every ``*.toml`` in ``extra_dirs``, once
    per process while the files are unchanged (the CLI and the report guard
    both need them)."""
    key = (tuple(str(d) for d in extra_dirs), builtin, validate)
    stamp = _stamp(extra_dirs, builtin)
    hit = _LOADED.get(key)
    if hit is not None and hit[0] == stamp:
        return hit[1]
    ruleset = _load_ruleset(extra_dirs, builtin=builtin, validate=validate)
    _LOADED[key] = (stamp, ruleset)
    return ruleset


def _stamp(extra_dirs, builtin: bool) -> tuple[tuple[str, int, int], ...]:
    paths = (rule_files(builtin_rules_dir()) if builtin else []) + [p for d in extra_dirs for p in rule_files(Path(d))]
    out = []
    for p in paths:
        try:
            st = p.stat()
            out.append((str(p), st.st_mtime_ns, st.st_size))
        except OSError:
            out.append((str(p), -1, -1))
    return tuple(out)


def _load_ruleset(extra_dirs: list[Path] | tuple[Path, ...] = (), *, builtin: bool = True, validate: bool = False) -> RuleSet:
    """Load the built-in rules plus every ``*.toml`` in ``extra_dirs``.

    Built-in rules are trusted (the test suite checks them) and compiled
    lazily unless ``validate``; user rule folders are always validated fully.
    """
    sources: list[tuple[Path, bool]] = []
    if builtin:
        sources += [(p, validate) for p in rule_files(builtin_rules_dir())]
    for d in extra_dirs:
        sources += [(p, True) for p in rule_files(Path(d))]
    digest = hashlib.sha256()
    contents: list[tuple[Path, bytes]] = []
    for path, _ in sources:
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise RuleFileError(str(path), f"cannot read: {exc.strerror}") from None
        digest.update(path.name.encode() + b"\0" + data + b"\0")
        contents.append((path, data))
    # Trusted built-in files (not validated now) come from the parse cache.
    trusted = [c for c, (_, full) in zip(contents, sources) if not full]
    docs = iter(_cached_docs(trusted)) if trusted else iter(())
    rules: list[Rule] = []
    seen: dict[str, str] = {}
    for (path, data), (_, full) in zip(contents, sources):
        doc = _toml_doc(data, str(path)) if full else next(docs)
        for rule in _rules_from_doc(doc, str(path), validate=full):
            if rule.id in seen:
                raise RuleFileError(str(path), f"rule id '{rule.id}' is already defined in {seen[rule.id]}")
            seen[rule.id] = str(path)
            rules.append(rule)
    return RuleSet(tuple(rules), digest.hexdigest()[:16], tuple(str(p) for p, _ in sources))
