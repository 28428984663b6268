"""Which repositories an audit covers: local paths and clone URLs, one
identity each.

An identity names a repository the same way on every machine and in every
run, so it keys the cache and the shards and names the repository in
reports. It never holds credentials:

* a local path (``../api``, ``/srv/git/api.git``): its real absolute path;
* a ``file://`` URL: ``file://`` + the normalised path;
* a network URL (``https://``, ``ssh://``, ``git://``, ``http://``) or the
  scp form (``git@github.com:org/api.git``): ``host[:port]/path`` without
  the user, password, trailing slash or ``.git``, so
  ``https://github.com/org/api`` and ``git@github.com:org/api.git`` are one
  repository.

A local path is fetched with every ref it has (branches, tags,
remote-tracking refs); a URL is a remote: its branches become
remote-tracking refs in the cache. Either way the copy is bare, and
``keyscan history`` counts every ref of a bare repository as pushed: an
audit treats each repository as a server's copy.
"""
from __future__ import annotations

import hashlib
import os
import re
from typing import Iterable, NamedTuple
from urllib.parse import urlsplit

from ..errors import KeyscanError
from ..git import clean

URL_SCHEMES = ("https", "http", "ssh", "git", "file")
_SCP = re.compile(r"^(?:(?P<user>[^@/\s]+)@)?(?P<host>[A-Za-z0-9.\-\[\]]+):(?P<path>[^\s]*)$")
_SLUG = re.compile(r"[^A-Za-z0-9._-]+")


class Repository(NamedTuple):
    identity: str  # stable name: cache key, shard key, shown in reports
    location: str  # what git fetches from (may hold credentials: never shown)
    kind: str  # "path" (audited as it is) or "url" (a remote)

    @property
    def slug(self) -> str:
        """A folder name for the cache: readable, unique, filesystem-safe."""
        parts = [p for p in re.split(r"[/:]+", self.identity) if p]
        tail = _SLUG.sub("-", "-".join(parts[-2:])).strip("-.")[:60] or "repo"
        return f"{tail}-{hashlib.sha256(self.identity.encode('utf-8', 'surrogateescape')).hexdigest()[:12]}"


def without_credentials(text: str) -> str:
    """``text`` with any ``user:password@`` of a URL in it removed."""
    return re.sub(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/@\s]*@", r"\1", text)


def _trim(path: str) -> str:
    path = path.rstrip("/")
    if path.endswith(".git"):
        path = path[:-4]
    return path.rstrip("/")


def parse(entry: str, where: str = "repository", base: str | None = None) -> Repository:
    """One repository from a command-line argument or a line of ``--repos``;
    a relative path is relative to ``base`` (default: the working folder)."""
    text = entry.strip()
    if not text:
        raise KeyscanError(f"{where}: empty repository")
    if text.startswith("-"):
        raise KeyscanError(f"{where}: '{clean(without_credentials(text))}' is not a repository (starts with '-')")
    if any(c in text for c in "\0\n\r"):
        raise KeyscanError(f"{where}: control characters in a repository name")
    if "::" in text.split("/", 1)[0]:
        raise KeyscanError(f"{where}: '{clean(without_credentials(text))}': git remote helpers (ext::, fd::) are not allowed")
    if "://" in text:
        try:
            url = urlsplit(text)
            port = url.port
        except ValueError as exc:
            raise KeyscanError(f"{where}: '{clean(without_credentials(text))}' is not a valid URL ({exc})") from None
        scheme = url.scheme.lower()
        if scheme not in URL_SCHEMES:
            raise KeyscanError(f"{where}: '{clean(without_credentials(text))}': unsupported scheme '{clean(scheme)}' (one of {', '.join(URL_SCHEMES)})")
        if scheme == "file":
            if url.netloc not in ("", "localhost"):
                raise KeyscanError(f"{where}: '{clean(text)}': a file:// URL names a path on this machine (file:///path)")
            path = os.path.normpath(url.path) if url.path else ""
            if not path or not os.path.isabs(path):
                raise KeyscanError(f"{where}: '{clean(text)}': a file:// URL needs an absolute path (file:///path)")
            return Repository("file://" + _trim(path), text, "url")
        host = (url.hostname or "").lower()
        path = _trim(url.path)
        if not host or not path.strip("/"):
            raise KeyscanError(f"{where}: '{clean(without_credentials(text))}' names no host and repository path")
        name = host + (f":{port}" if port else "") + "/" + path.lstrip("/")
        return Repository(name, text, "url")
    scp = _SCP.match(text)
    if scp and not os.path.exists(text) and "/" not in text.split(":", 1)[0] and len(scp.group("host")) > 1:
        host, path = scp.group("host").lower(), _trim(scp.group("path"))
        if not path.strip("/"):
            raise KeyscanError(f"{where}: '{clean(without_credentials(text))}' names no repository path")
        return Repository(host + "/" + path.lstrip("/"), text, "url")
    path = os.path.expanduser(text)
    if base is not None and not os.path.isabs(path):
        path = os.path.join(base, path)
    real = os.path.realpath(path)
    return Repository(real, real, "path")


def read_list(path: str) -> list[Repository]:
    """The repositories listed in ``path``: one per line; blank lines and
    lines starting with ``#`` are skipped, as is a ``# comment`` after the
    entry. Relative paths are relative to the list's folder."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise KeyscanError(f"{path}: repository list not found") from None
    except IsADirectoryError:
        raise KeyscanError(f"{path}: is a folder, not a repository list") from None
    except OSError as exc:
        raise KeyscanError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise KeyscanError(f"{path}: not UTF-8 text") from None
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        line = re.sub(r"\s+#.*$", "", line).strip()
        if not line or line.startswith("#"):
            continue
        out.append(parse(line, f"{path}:{n}", os.path.dirname(os.path.abspath(path))))
    return out


def unique(repos: Iterable[Repository]) -> tuple[list[Repository], list[Repository]]:
    """(repositories in first-seen order without repeats, the repeats)."""
    seen: set[str] = set()
    keep, repeats = [], []
    for r in repos:
        if r.identity in seen:
            repeats.append(r)
        else:
            seen.add(r.identity)
            keep.append(r)
    return keep, repeats
