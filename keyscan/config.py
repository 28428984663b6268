"""Project configuration: ``.keyscan.toml`` or ``[tool.keyscan]`` in
``pyproject.toml``, found by walking up from the scanned path to the
repository root (``--config FILE`` names one instead). Validated on load: an
unknown key is an error naming it and the file.

Paths in a config (``rules``, ``baseline``) are relative to the folder the
config sits in; so are the gitignore-style patterns of ``exclude`` and
``[[allow]] paths``. An explicit ``--config`` that lies outside the scanned
repository (a central CI config) matches its patterns against paths relative
to the scanned repository's root instead.
"""
from __future__ import annotations

import functools
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from .errors import KeyscanError
from .models import SEVERITIES

CONFIG_NAME = ".keyscan.toml"
BASELINE_NAME = ".keyscan-baseline.json"

# Origins whose finding paths are relative to the repository root rather
# than to the working directory (git reports repository paths).
REPO_RELATIVE_ORIGINS = frozenset({"history", "staged"})

# key -> (type, description for errors)
_KEYS: dict[str, tuple[Any, str]] = {
    "exclude": (list, "a list of gitignore-style patterns"),
    "rules": (list, "a list of rule folders"),
    "disable": (list, "a list of rule ids"),
    "only": (list, "a list of rule ids or providers"),
    "fail-on": (str, f"one of {', '.join(SEVERITIES)}"),
    "baseline": (str, "a path"),
    "format": (str, "a report format"),
    "inline-ignores": (bool, "true or false"),
    "gitignore": (bool, "true or false"),
    "allow": (list, "a list of [[allow]] tables"),
}

# [[allow]] table keys -> (type, description)
_ALLOW_KEYS: dict[str, tuple[Any, str]] = {
    "reason": (str, "a non-empty string saying why"),
    "fingerprint": (str, "a finding fingerprint such as 'ks1:' + 32 hex digits"),
    "paths": (list, "a list of gitignore-style patterns"),
    "rules": (list, "a list of rule ids"),
}
_FINGERPRINT = re.compile(r"ks1:[0-9a-f]{32}")


class Allow(NamedTuple):
    """One ``[[allow]]`` table: a finding matching every criterion given is
    suppressed with reason ``config``."""

    reason: str
    fingerprint: str | None = None
    paths: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    spec: Any = None  # compiled ``paths``


@dataclass(frozen=True)
class Config:
    path: str | None = None  # the file it came from (with " [tool.keyscan]" for pyproject)
    root: str = "."  # folder relative paths in the config are relative to
    explicit: bool = False  # named with --config rather than discovered
    exclude: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    fail_on: str | None = None
    baseline: str | None = None
    format: str | None = None
    inline_ignores: bool | None = None
    gitignore: bool | None = None
    allow: tuple[Allow, ...] = ()
    _spec: Any = field(default=None, compare=False, repr=False)

    def relative(self, abs_path: str) -> str | None:
        """``abs_path`` relative to the folder the config's patterns are
        anchored on, '/'-separated; None when it lies outside it."""
        try:
            rel = os.path.relpath(abs_path, self.root)
        except ValueError:
            return None
        if rel == ".." or rel.startswith(".." + os.sep):
            if not self.explicit:
                return None
            repo = repo_root_of(os.path.dirname(os.path.abspath(abs_path)))
            if repo is None:
                return None
            rel = os.path.relpath(abs_path, repo)
        return rel.replace(os.sep, "/")

    def is_excluded(self, abs_path: str, is_dir: bool = False) -> bool:
        """Does an ``exclude`` pattern cover this file or folder?"""
        if self._spec is None:
            return False
        rel = self.relative(abs_path)
        if rel is None or rel == ".":
            return False
        return self._spec.match_file(rel + ("/" if is_dir else ""))


@functools.lru_cache(maxsize=1024)
def repo_root_of(start: str) -> str | None:
    """The nearest folder at or above ``start`` that holds ``.git`` (a folder,
    or a file for worktrees and submodules); None outside a repository."""
    cur = Path(start).resolve()
    if not cur.is_dir():
        cur = cur.parent
    while True:
        if (cur / ".git").exists():
            return str(cur)
        if cur.parent == cur:
            return None
        cur = cur.parent


def finding_abs_path(path: str, origin: str, scan_root: str | None) -> str:
    """The absolute path of a finding's file. Worktree paths are relative to
    the working directory; git paths (history, staged) to the repository
    scanned (``scan_root``)."""
    if origin in REPO_RELATIVE_ORIGINS and scan_root and not os.path.isabs(path):
        path = os.path.join(scan_root, path)
    # Resolve symlinked folders (so paths compare with the resolved roots),
    # never the file itself.
    path = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path)), os.path.basename(path))


def _compile_patterns(patterns: tuple[str, ...], where: str, key: str) -> Any:
    import pathspec

    try:
        return pathspec.GitIgnoreSpec.from_lines(patterns)
    except Exception as exc:  # noqa: BLE001 - pathspec raises several types for bad patterns
        raise KeyscanError(f"{where}: '{key}' has an invalid pattern ({type(exc).__name__}: {exc})") from None


def _check_type(where: str, key: str, value: Any, kind: Any, desc: str) -> None:
    ok = isinstance(value, kind)
    if kind is list and ok and key != "allow":
        ok = all(isinstance(v, str) and v for v in value)
    if kind is str and ok:
        ok = bool(value.strip())
    if not ok:
        raise KeyscanError(f"{where}: '{key}' must be {desc}")


def _unknown(where: str, key: str, known: dict) -> KeyscanError:
    import difflib

    near = [k for k in known if k.replace("-", "_") == key.replace("-", "_").lower()]
    near = near or difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    hint = f" (did you mean '{near[0]}'?)" if near else f" (known keys: {', '.join(sorted(known))})"
    return KeyscanError(f"{where}: unknown key '{key}'{hint}")


def _allow(table: Any, where: str, n: int) -> Allow:
    at = f"{where}: [[allow]] #{n}"
    if not isinstance(table, dict):
        raise KeyscanError(f"{at} must be a table with a 'reason'")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _ALLOW_KEYS:
            raise _unknown(at, key, _ALLOW_KEYS)
        kind, desc = _ALLOW_KEYS[key]
        _check_type(at, key, value, kind, desc)
        values[key] = tuple(value) if kind is list else value.strip()
    if "reason" not in values:
        raise KeyscanError(f"{at} needs a 'reason'")
    if not ({"fingerprint", "paths", "rules"} & set(values)):
        raise KeyscanError(f"{at} needs at least one of 'fingerprint', 'paths', 'rules'")
    fp = values.get("fingerprint")
    if fp is not None and not _FINGERPRINT.fullmatch(fp):
        raise KeyscanError(f"{at}: 'fingerprint' must look like 'ks1:' + 32 hex digits (copy it from a JSON report)")
    spec = _compile_patterns(values["paths"], at, "paths") if values.get("paths") else None
    return Allow(values["reason"], fp, values.get("paths", ()), values.get("rules", ()), spec)


def _validate(table: Any, where: str, root: str, explicit: bool = False) -> Config:
    if not isinstance(table, dict):
        raise KeyscanError(f"{where}: keyscan settings must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            raise _unknown(where, key, _KEYS)
        kind, desc = _KEYS[key]
        _check_type(where, key, value, kind, desc)
        values[key.replace("-", "_")] = tuple(value) if kind is list else value
    if values.get("fail_on") is not None and values["fail_on"] not in SEVERITIES:
        raise KeyscanError(f"{where}: 'fail-on' must be one of {', '.join(SEVERITIES)}, not '{values['fail_on']}'")
    spec = _compile_patterns(values["exclude"], where, "exclude") if values.get("exclude") else None
    if values.get("allow"):
        values["allow"] = tuple(_allow(t, where, i) for i, t in enumerate(values["allow"], 1))
    if values.get("rules"):
        values["rules"] = tuple(str(Path(root, r)) for r in values["rules"])
    if values.get("baseline"):
        values["baseline"] = str(Path(root, values["baseline"]))
    return Config(path=where, root=root, explicit=explicit, _spec=spec, **values)


def _read_toml(path: Path) -> dict:
    name = _shown(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise KeyscanError(f"{name}: config file not found") from None
    except IsADirectoryError:
        raise KeyscanError(f"{name}: is a folder, not a config file") from None
    except OSError as exc:
        raise KeyscanError(f"{name}: cannot read config file ({exc.strerror})") from None
    try:
        return tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise KeyscanError(f"{name}: invalid TOML: not UTF-8") from None
    except tomllib.TOMLDecodeError as exc:
        raise KeyscanError(f"{name}: invalid TOML: {exc}") from None


def _tool_table(doc: dict, path: Path) -> Any:
    """``[tool.keyscan]`` of a pyproject document, or None."""
    tool = doc.get("tool", {})
    if not isinstance(tool, dict):
        raise KeyscanError(f"{_shown(path)}: 'tool' must be a table")
    return tool.get("keyscan")


def load_file(path: str) -> Config:
    """Load an explicit config file (``--config``): ``.keyscan.toml`` style,
    or a ``pyproject.toml`` with a ``[tool.keyscan]`` table."""
    p = Path(path)
    doc = _read_toml(p)
    root = str(p.resolve().parent)
    if p.name == "pyproject.toml":
        table = _tool_table(doc, p)
        if table is None:
            raise KeyscanError(f"{path}: no [tool.keyscan] table")
        return _validate(table, f"{path} [tool.keyscan]", root, explicit=True)
    return _validate(doc, path, root, explicit=True)


def _shown(path: Path) -> str:
    """A discovered file's name for messages: relative when under the working directory."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return str(path)
    return str(path) if rel.startswith("..") else rel


def discover(start: str) -> Config:
    """The nearest config from ``start`` up to its repository root; an empty
    Config when there is none. In one folder ``.keyscan.toml`` wins over
    ``pyproject.toml``."""
    cur = Path(start).resolve()
    if not cur.is_dir():
        cur = cur.parent
    while True:
        candidate = cur / CONFIG_NAME
        if candidate.is_file():
            return _validate(_read_toml(candidate), _shown(candidate), str(cur))
        pyproject = cur / "pyproject.toml"
        if pyproject.is_file():
            table = _tool_table(_read_toml(pyproject), pyproject)
            if table is not None:
                return _validate(table, f"{_shown(pyproject)} [tool.keyscan]", str(cur))
        if (cur / ".git").exists() or cur.parent == cur:
            return Config()
        cur = cur.parent


def project_root(cfg: Config, start: str) -> str:
    """Where the default baseline lives: the discovered config's folder, else
    the repository root, else the working directory."""
    if cfg.path and not cfg.explicit:
        return cfg.root
    return repo_root_of(os.path.abspath(start)) or os.getcwd()
