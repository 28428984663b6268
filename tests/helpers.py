"""Shared test helpers: made-up keys, real temporary git repositories with a
fixed author and dates (so commit ids are stable), and running the CLI."""
from __future__ import annotations

import os
import random
import string
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ALPHABET = string.ascii_letters + string.digits + "_$@-"


def rule_file(rule_id: str, keywords: list[str], pattern: str, example: str, secret: str, *, provider: str = "Made-up", name: str = "", description: str = "A made-up key.") -> str:
    """A rule file holding one made-up ``secret`` rule with what a rule file
    must have (a rotation, one example whose ``secret`` the pattern finds).
    ``pattern`` goes in a TOML literal string: no single quote."""
    import json

    assert "'" not in pattern

    def text(value: str) -> str:  # a TOML basic string (JSON's escapes are TOML's)
        return json.dumps(value, ensure_ascii=False)

    return f"""format = 1
provider = {text(provider)}
[[rule]]
id = {text(rule_id)}
name = {text(name or rule_id)}
description = {text(description)}
key_class = "secret"
keywords = [{", ".join(text(k) for k in keywords)}]
pattern = '{pattern}'
[rule.rotation]
url = "https://example.com"
steps = ["Rotate it."]
[[rule.examples]]
text = {text(example)}
secret = {text(secret)}
"""


def fake_immutable_secret(env: str = "", seed: int | None = None) -> str:
    """A made-up Immutable secret key of the documented shape."""
    rnd = random.Random(seed)
    body = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(20))
    suffix = "".join(rnd.choice("0123456789abcdef") for _ in range(5)) + rnd.choice("123456789abcdef")
    return f"sk_imapik-{env + '-' if env else ''}{body}_{suffix}"


def fake_immutable_publishable(env: str = "", seed: int | None = None) -> str:
    rnd = random.Random(seed)
    body = "".join(rnd.choice(string.ascii_letters + string.digits) for _ in range(20))
    return f"pk_imapik-{env + '-' if env else ''}{body}"


# An empty global config of our own: with /dev/null, a stray `git config
# --global` would rename its lock file over /dev/null.
_EMPTY_GLOBAL = os.path.join(tempfile.mkdtemp(prefix="keyscan-tests-"), "gitconfig")
open(_EMPTY_GLOBAL, "w").close()

GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Dev",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Dev",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": _EMPTY_GLOBAL,
    "GIT_TERMINAL_PROMPT": "0",
}


@dataclass
class Repo:
    """A real git repository in a temporary folder; each commit gets the next
    fixed date, so its id is the same on every run."""

    path: Path
    _tick: int = 0

    def git(self, *args: str, check: bool = True, input: bytes | None = None) -> str:
        env = dict(os.environ, **GIT_ENV)
        date = f"2026-01-{1 + self._tick // 24:02d}T{self._tick % 24:02d}:00:00Z"
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = date
        out = subprocess.run(["git", *args], cwd=self.path, env=env, capture_output=True, input=input, check=False)
        if check and out.returncode != 0:
            raise AssertionError(f"git {' '.join(args)} failed: {out.stderr.decode(errors='replace')}")
        return out.stdout.decode("utf-8", "replace")

    def write(self, rel: str, content: str | bytes) -> Path:
        p = self.path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            p.write_text(content, encoding="utf-8")
        else:
            p.write_bytes(content)
        return p

    def commit(self, message: str, files: dict[str, str | bytes] | None = None, *, author: str | None = None) -> str:
        for rel, content in (files or {}).items():
            self.write(rel, content)
        self.git("add", "-A")
        args = ["commit", "-q", "--allow-empty", "-m", message]
        if author:
            args += ["--author", author]
        self.git(*args)
        self._tick += 1
        return self.git("rev-parse", "HEAD").strip()


def make_repo(path: Path, branch: str = "main") -> Repo:
    path.mkdir(parents=True, exist_ok=True)
    repo = Repo(path)
    repo.git("init", "-q", "-b", branch)
    return repo


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_keyscan(*args: str, cwd: Path | str | None = None, env: dict | None = None, input: bytes | None = None, timeout: float = 120) -> Result:
    """Run the real CLI in a subprocess (``python -m keyscan``)."""
    full_env = dict(os.environ)
    full_env.pop("NO_COLOR", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "keyscan", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        input=input,
        timeout=timeout,
    )
    return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    """A zip archive (deflated) holding ``members``, in memory."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def tgz_bytes(members: dict[str, str | bytes]) -> bytes:
    """A gzipped tarball holding ``members`` as regular files, in memory."""
    import io
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in members.items():
            raw = data.encode() if isinstance(data, str) else data
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            tf.addfile(info, io.BytesIO(raw))
    return buf.getvalue()
