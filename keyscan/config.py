"""Project configuration: ``.keyscan.toml`` or ``[tool.keyscan]`` in
``pyproject.toml``, found by walking up from the scanned path to the
repository root. Validated on load: an unknown key is an error naming it and
the file."""
from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import KeyscanError
from .models import SEVERITIES

CONFIG_NAME = ".keyscan.toml"

# key -> (type check, description for errors)
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
}


@dataclass(frozen=True)
class Config:
    path: str | None = None  # the file it came from
    root: str = "."  # folder relative paths in the config are relative to
    exclude: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    disable: tuple[str, ...] = ()
    only: tuple[str, ...] = ()
    fail_on: str | None = None
    baseline: str | None = None
    format: str | None = None
    inline_ignores: bool | None = None
    gitignore: bool | None = None
    _spec: Any = field(default=None, compare=False, repr=False)

    def is_excluded(self, abs_path: str, is_dir: bool = False) -> bool:
        """Does an ``exclude`` pattern cover this file or folder?"""
        if self._spec is None:
            return False
        rel = os.path.relpath(abs_path, self.root)
        if rel.startswith(".."):
            return False
        rel = rel.replace(os.sep, "/") + ("/" if is_dir else "")
        return self._spec.match_file(rel)


def _validate(table: dict, where: str, root: str) -> Config:
    if not isinstance(table, dict):
        raise KeyscanError(f"{where}: keyscan settings must be a table")
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _KEYS:
            near = [k for k in _KEYS if k.replace("-", "_") == key.replace("-", "_")]
            hint = f" (did you mean '{near[0]}'?)" if near else f" (known keys: {', '.join(sorted(_KEYS))})"
            raise KeyscanError(f"{where}: unknown key '{key}'{hint}")
        kind, desc = _KEYS[key]
        if not isinstance(value, kind) or (kind is list and not all(isinstance(v, str) for v in value)):
            raise KeyscanError(f"{where}: '{key}' must be {desc}")
        values[key.replace("-", "_")] = tuple(value) if kind is list else value
    if values.get("fail_on") is not None and values["fail_on"] not in SEVERITIES:
        raise KeyscanError(f"{where}: 'fail-on' must be one of {', '.join(SEVERITIES)}, not '{values['fail_on']}'")
    spec = None
    if values.get("exclude"):
        import pathspec

        spec = pathspec.GitIgnoreSpec.from_lines(values["exclude"])
    if values.get("rules"):
        values["rules"] = tuple(str(Path(root, r)) for r in values["rules"])
    if values.get("baseline"):
        values["baseline"] = str(Path(root, values["baseline"]))
    return Config(path=where, root=root, _spec=spec, **values)


def load_file(path: str) -> Config:
    """Load an explicit config file (``--config``): ``.keyscan.toml`` style,
    or a ``pyproject.toml`` with a ``[tool.keyscan]`` table."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise KeyscanError(f"{path}: config file not found") from None
    except OSError as exc:
        raise KeyscanError(f"{path}: cannot read config file ({exc.strerror})") from None
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise KeyscanError(f"{path}: invalid TOML: {exc}") from None
    root = str(Path(path).resolve().parent)
    if Path(path).name == "pyproject.toml":
        table = doc.get("tool", {}).get("keyscan", {})
        return _validate(table, f"{path} [tool.keyscan]", root)
    return _validate(doc, path, root)


def discover(start: str) -> Config:
    """The nearest config from ``start`` up to its repository root; an empty
    Config when there is none."""
    cur = Path(start).resolve()
    if not cur.is_dir():
        cur = cur.parent
    while True:
        candidate = cur / CONFIG_NAME
        if candidate.is_file():
            return load_file(str(candidate))
        pyproject = cur / "pyproject.toml"
        if pyproject.is_file():
            try:
                doc = tomllib.loads(pyproject.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
                raise KeyscanError(f"{pyproject}: invalid TOML: {exc}") from None
            if "keyscan" in doc.get("tool", {}):
                return _validate(doc["tool"]["keyscan"], f"{pyproject} [tool.keyscan]", str(cur))
        if (cur / ".git").exists() or cur.parent == cur:
            return Config()
        cur = cur.parent
