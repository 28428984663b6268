"""The audit cache folder.

::

    CACHE/
      git/<slug>.git            bare copy of each repository (fetched by the workers)
      git/<slug>.git.lock       held while a worker fetches or scans that copy
      results/<digest>/<slug>.json
                                the repository's last complete result for one scan
                                digest (keyscan version, rules, suppression settings)

A result file is JSON (``format`` 1): the repository's identity, the digest,
every ref tip and HEAD it was audited at, and its report in the JSON report
shape with secrets redacted; it never holds a secret. Files are written
atomically (``keyscan.atomic.write_atomic``) as each repository finishes, so
an interrupted audit loses at most the repositories in progress, and the next
run picks up from there. A result file that does not parse is ignored (the
repository is audited again). Deleting any part of the folder is safe: it is
rebuilt on the next run.

The workers use ``git/``; the process that runs the audit reads and writes
``results/`` and hands each worker its repository's previous result, so on
a cluster only the copies need a disk on the workers (a shared one saves
fetching a repository again when it lands on another node).
"""
from __future__ import annotations

import json
import os

from ..atomic import write_atomic
from .repos import Repository

FORMAT = 1


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "keyscan", "audit")


class Layout:
    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(os.path.expanduser(root))

    def git_dir(self, repo: Repository) -> str:
        return os.path.join(self.root, "git", repo.slug + ".git")

    def result_path(self, repo: Repository, digest: str) -> str:
        return os.path.join(self.root, "results", digest, repo.slug + ".json")

    def load(self, repo: Repository, digest: str) -> dict | None:
        """The previous result of ``repo`` for ``digest``, or None."""
        try:
            with open(self.result_path(repo, digest), "rb") as fh:
                doc = json.loads(fh.read().decode("utf-8"))
        except (OSError, ValueError):
            return None
        if not valid_entry(doc, repo, digest):
            return None
        return doc

    def save(self, repo: Repository, digest: str, entry: dict) -> None:
        path = self.result_path(repo, digest)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write_atomic(path, json.dumps(entry, ensure_ascii=False).encode("utf-8", "backslashreplace"))


def valid_entry(doc: object, repo: Repository, digest: str) -> bool:
    return (
        isinstance(doc, dict)
        and doc.get("format") == FORMAT
        and doc.get("repository") == repo.identity
        and doc.get("digest") == digest
        and isinstance(doc.get("tips"), dict)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in doc["tips"].items())
        and isinstance(doc.get("report"), dict)
    )


def entry(repo: Repository, digest: str, tips: dict[str, str], report_doc: dict) -> dict:
    return {"format": FORMAT, "repository": repo.identity, "digest": digest, "tips": tips, "report": report_doc}
