"""keyscan's cache folder: parsed rules and compiled Hyperscan databases.

Each file is named by a digest of what it was built from (the rule files,
the patterns, keyscan's own translator), so a changed rule or another
keyscan version writes new files and never reads a stale one; the files of
older versions would stay for ever (a day of development left a thousand).
They are pruned here: when a file is written (a cache miss, so something
changed), the files of these kinds that no run used for ``PRUNE_AFTER`` are
removed, once per process, with the temporary files of writes that never
finished. "Used" is read from the modification time, which a load refreshes
when it is more than a day old, so a file in use never looks old, and no
index or lock is needed: a file removed just before another process reads it
only costs that process a rebuild.

The folder is ``$XDG_CACHE_HOME/keyscan`` (``~/.cache/keyscan``);
``KEYSCAN_NO_CACHE=1`` makes the callers neither read nor write it. The
audit command's bare copies live in its own subfolder and are not touched.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

KINDS = ("rules-", "keywords-", "superset-", "head-")
PRUNE_AFTER = 30 * 86400  # seconds unused before a file is removed
REFRESH_AFTER = 86400  # a load refreshes a modification time older than this
TMP_AFTER = 86400  # an unfinished write's temporary file older than this is removed
_pruned = False


def folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "keyscan"


def loaded(path: Path) -> None:
    """``path`` was just read and found valid: mark it used."""
    try:
        if time.time() - os.stat(path).st_mtime > REFRESH_AFTER:
            os.utime(path)
    except OSError:
        pass  # a read-only cache is still a cache


def written(path: Path) -> None:
    """``path`` was just written: prune its folder (once per process)."""
    global _pruned
    if not _pruned:
        _pruned = True
        prune(path.parent)


def prune(where: Path, now: float | None = None) -> int:
    """Remove the cache files in ``where`` unused for PRUNE_AFTER and the
    temporary files older than TMP_AFTER; the number removed."""
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(where))
    except OSError:
        return 0
    for entry in entries:
        name = entry.name
        if name.startswith(KINDS):
            limit = PRUNE_AFTER
        elif name.startswith(".") and name.endswith(".tmp") and name[1:].startswith(KINDS):
            limit = TMP_AFTER
        else:
            continue
        try:
            if entry.is_file(follow_symlinks=False) and now - entry.stat(follow_symlinks=False).st_mtime > limit:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            pass  # gone already, or not ours to remove
    return removed
