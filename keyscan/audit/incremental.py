"""Re-auditing a repository whose refs moved: scan only the new commits, and
give the report a full audit would give.

The cached result is the repository's report at its old ref tips. The new
commits are the range ``NEW_TIPS ^OLD_TIPS``; ``keyscan history``'s range
scan (``HistoryOptions.since``) reads only the blobs that range brought in
and finds their keys with full provenance. To exclude every old tip at once
with that one-revision option, the old tips become the parents of a
throw-away commit (empty tree, fixed author and date, unreachable from any
ref: it is never reported) that is passed as ``since``.

The old report plus the range's findings is what a full audit would give
when the new commits did not touch what the old report knows. That is
checked first, with git's own listings (no blob content is read except the
old blobs that new commits put at new paths); when a check fails the
repository is audited in full instead, which is always right:

1. no ref was rewound or deleted past its commits (every old tip is still
   reachable from a new one), so nothing the old report holds went away;
2. no ref points straight at a blob (``git tag name <blob>``), new or old;
3. no new commit adds, changes or deletes a file at a path where the old
   report has a key (its lifecycle, introducing commit or removal could
   change);
4. no new commit puts an old blob that holds a key at a new path (a rename,
   copy or revert of such a file: the range scan reads only new blobs);
5. HEAD's version of every such path is unchanged (so "still at HEAD" is).

What does change for old findings without new content is which refs hold
them (a new branch, a merge): ``refs`` and ``pushed`` are recomputed with
one walk of the commit graph (``keyscan.git.refs_containing``), and the
rotation notes that follow from the lifecycle are rebuilt.

The counts in ``stats`` add up to a full audit's: git's ``rev-list
--objects NEW ^OLD`` lists an old blob again when it comes back from deeper
than the old tips' trees (a revert), so the blobs the range scan read that
the old tips already reach (one listing of their blobs, no content) are
read once more to take their share back out.

Known gap (asked of ``keyscan.history`` as a hook): a key added in parallel
on two old branches is followed through its first commit only; a new ref
that holds only the other branch is not added to ``refs``.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Callable, NamedTuple

from ..errors import KeyscanError
from ..git import NULL_SHA, BlobList, Git, ObjectReadError, display, list_blobs, log_changes, read_blobs, refs_containing
from ..history import HistoryOptions, lifecycle_notes, scan_history, with_lifecycle
from ..models import Finding, Report, Stats
from ..scan import scan_fragment
from ..sources.history import history_fragments

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
_AUTHOR = {
    "GIT_AUTHOR_NAME": "keyscan",
    "GIT_AUTHOR_EMAIL": "keyscan@invalid",
    "GIT_AUTHOR_DATE": "1970-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "keyscan",
    "GIT_COMMITTER_EMAIL": "keyscan@invalid",
    "GIT_COMMITTER_DATE": "1970-01-01T00:00:00Z",
}


class Outcome(NamedTuple):
    report: Report | None  # None: audit in full
    why: str  # why not incremental, or what was done
    blobs: int  # blobs read by the range scan (and the checks)


def _types(git: Git, shas: set[str]) -> dict[str, str]:
    if not shas:
        return {}
    out = git.run("cat-file", "--batch-check=%(objectname) %(objecttype)", input="".join(f"{s}\n" for s in sorted(shas)).encode())
    types = {}
    for line in out.decode("ascii", "replace").splitlines():
        parts = line.split()
        if len(parts) == 2:
            types[parts[0]] = parts[1]
    return types


def exclude_commit(git: Git, parents: list[str]) -> str:
    """A commit whose parents are ``parents`` (empty tree, fixed identity
    and dates, so the same parents give the same id); unreachable from any
    ref, only ever used to exclude its ancestors."""
    maker = Git(git.cwd)
    maker.env = {**git.env, **_AUTHOR}
    tree = maker.run("hash-object", "-w", "-t", "tree", "--stdin", input=b"").decode().strip()
    args: list[str] = ["commit-tree", tree]
    for p in sorted(set(parents)):
        args += ["-p", p]
    return maker.run(*args, input=b"keyscan: commits already audited\n").decode().strip()


def _all_reachable(git: Git, old: list[str], new: list[str]) -> bool:
    if not old:
        return True
    if not new:
        return False
    code, out, _ = git.status("rev-list", "-n", "1", "--stdin", input="".join([*(f"{c}\n" for c in old), *(f"^{c}\n" for c in new)]).encode())
    return code == 0 and not out.strip()


def _is_ancestor(git: Git, a: str, b: str) -> bool:
    code, _, _ = git.status("merge-base", "--is-ancestor", a, b)
    return code == 0


def _changed_paths(git: Git, a: str, b: str) -> set[str] | None:
    code, out, _ = git.status("diff-tree", "-r", "-z", "--name-only", "--no-renames", "--no-ext-diff", "--no-textconv", a, b, "--")
    if code != 0:
        return None
    return {display(p) for p in out.split(b"\0") if p}


def _listing(git: Git, revs: list[str], keep) -> list[tuple[str, bytes]] | None:
    """(blob id, path) of every blob ``revs`` reach (``keyscan.git.list_blobs``)."""
    blobs = list_blobs(git, revs, keep)
    out = []
    i = 0
    while blobs.wait(i):
        out.append((blobs.sha(i), blobs.path(i)))
        i += 1
    return None if blobs.error else out


def _uncount(git: Git, items: list[tuple[str, bytes]], stats: Stats) -> None:
    """Take out of ``stats`` what reading ``items`` added to it (the same
    reading the range scan did: ``history_fragments`` over each blob)."""
    part = Stats()
    count = 0
    for blob in read_blobs(git, BlobList.of(items)):
        if blob.error:
            continue
        count += 1
        try:
            for _ in history_fragments(blob, display(blob.path), part):
                pass
        except ObjectReadError:
            pass
    stats.files_scanned -= part.files_scanned
    stats.bytes_scanned -= part.bytes_scanned
    for reason, n in part.skipped.items():
        left = stats.skipped.get(reason, 0) - n
        if left > 0:
            stats.skipped[reason] = left
        else:
            stats.skipped.pop(reason, None)
    for entry in part.skipped_paths:
        if entry in stats.skipped_paths:
            stats.skipped_paths.remove(entry)
    if isinstance(stats.extra.get("blobs"), int):
        stats.extra["blobs"] -= count


def _holds_keys(git: Git, engine, items: list[tuple[str, bytes]]) -> bool:
    scratch = Stats()
    for blob in read_blobs(git, BlobList.of(items)):
        if blob.error:
            return True  # cannot tell: audit in full
        try:
            for fragment in history_fragments(blob, display(blob.path), scratch):
                found, suppressed, _ = scan_fragment(engine, fragment)
                if found or suppressed:
                    return True
        except ObjectReadError:
            return True
    return False


def _relifecycle(f: Finding, lifecycle: dict) -> Finding:
    """``f`` with a new lifecycle; the rotation notes the old one implied
    are replaced by the new one's."""
    if f.lifecycle == lifecycle:
        return f
    rotation = dict(f.rotation or {})
    if f.lifecycle:
        old_notes = set(lifecycle_notes(f.lifecycle))
        rotation["notes"] = [n for n in rotation.get("notes", []) if n not in old_notes]
    return with_lifecycle(replace(f, rotation=rotation), lifecycle)


def _refresh_refs(git: Git, items: list[Finding], old_tips: dict[str, str], new_tips: dict[str, str]) -> dict[str, Finding]:
    """fingerprint+path -> the finding with ``refs``/``pushed`` as the new
    refs give them."""
    intros = sorted({f.lifecycle["introduced"] for f in items if f.lifecycle and f.lifecycle.get("introduced")})
    holding = refs_containing(git, intros) if intros else {}
    still: dict[str, bool] = {}

    def kept(ref: str) -> bool:
        if ref not in still:
            old, new = old_tips.get(ref), new_tips.get(ref)
            still[ref] = bool(new) and (old == new or (old is not None and _is_ancestor(git, old, new)))
        return still[ref]

    out = {}
    for f in items:
        life = f.lifecycle
        if not life or not life.get("introduced"):
            continue
        names = set(holding.get(life["introduced"], ())) | {r for r in life.get("refs", ()) if kept(r)}
        # keyscan.history's rule: a remote-tracking ref, or any ref of a bare
        # repository (the cache copy is bare), means it was pushed.
        new_life = dict(life, refs=sorted(names), pushed=bool(names))
        out[_ident(f)] = _relifecycle(f, new_life)
    return out


def _ident(f: Finding) -> tuple[str, str, str]:
    return (f.rule_id, f.fingerprint, f.path)


def rescan(
    git_dir: str,
    engine,
    options: HistoryOptions,
    old: Report,
    old_tips: dict[str, str],
    new_tips: dict[str, str],
    keep: Callable[[bytes], bool] | None = None,
) -> Outcome:
    """The report at ``new_tips`` from ``old`` (the report at ``old_tips``)
    and a scan of the new commits, or Outcome(None, why) when only a full
    audit gives the right answer."""
    git = Git(git_dir)
    old_head, new_head = old_tips.get("HEAD"), new_tips.get("HEAD")
    old_refs = {k: v for k, v in old_tips.items() if k != "HEAD"}
    new_refs = {k: v for k, v in new_tips.items() if k != "HEAD"}
    try:
        types = _types(git, set(old_tips.values()) | set(new_tips.values()))
        missing = sorted(s for s in set(old_tips.values()) | set(new_tips.values()) if s not in types)
        if missing:
            return Outcome(None, f"object {missing[0][:12]} of the previous audit is gone from the copy", 0)
        if any(types[s] != "commit" for s in (*old_tips.values(), *new_tips.values())):
            return Outcome(None, "a ref points at something other than a commit", 0)
        old_commits = sorted(set(old_tips.values()))
        new_commits = sorted(set(new_tips.values()))
        if not old_commits:
            return Outcome(None, "the previous audit saw no commits", 0)
        if not _all_reachable(git, old_commits, new_commits):
            return Outcome(None, "a ref was rewound or deleted", 0)

        items = [*old.findings, *(s.finding for s in old.suppressed)]
        key_paths = {f.path for f in items}
        fresh = [c for c in new_commits if c not in set(old_commits)]
        blobs_read = 0
        relisted: list[tuple[str, bytes]] = []
        base = exclude_commit(git, old_commits) if fresh else None
        revs = [*fresh, "^" + base] if base else []
        if revs:
            placed: list[tuple[str, bytes]] = []
            for commit in log_changes(git, revs):
                for ch in commit.changes:
                    if display(ch.path) in key_paths:
                        return Outcome(None, f"new commits change {display(ch.path)}, which held a key", 0)
                    if ch.new != NULL_SHA and (keep is None or keep(ch.path)):
                        placed.append((ch.new, ch.path))
            listed = _listing(git, revs, keep)
            if listed is None:
                return Outcome(None, "listing the new commits' blobs failed", 0)
            new_blobs = {sha for sha, _ in listed}
            reused = list(dict.fromkeys((sha, path) for sha, path in placed if sha not in new_blobs))
            if reused:
                blobs_read += len(reused)
                if _holds_keys(git, engine, reused):
                    return Outcome(None, "new commits put an old file that holds a key at a new path", blobs_read)
            # git lists an old blob again when it comes back deeper than the
            # old tips' trees (a revert, an old version restored): the range
            # scan reads it again, which must not count twice in the stats.
            if listed:
                old_listing = _listing(git, old_commits, None)
                if old_listing is None:
                    return Outcome(None, "listing the audited blobs failed", 0)
                old_blobs = {sha for sha, _ in old_listing}
                relisted = [(sha, path) for sha, path in listed if sha in old_blobs]
        if old_head != new_head:
            if not old_head or not new_head:
                return Outcome(None, "HEAD appeared or went away", blobs_read)
            changed = _changed_paths(git, old_head, new_head)
            if changed is None or changed & key_paths:
                return Outcome(None, "HEAD's version of a file that held a key changed", blobs_read)

        merged = Report(command=old.command)
        merged.stats = _copy_stats(old.stats)
        if revs:
            new = scan_history(git_dir, engine, replace(options, branches=tuple(fresh), since=base))
            blobs_read += int(new.stats.extra.get("blobs", 0) or 0)
            if relisted:
                _uncount(git, relisted, new.stats)
        else:
            new = Report(command=old.command)
        refreshed = _refresh_refs(git, items, old_refs, new_refs) if old_refs != new_refs else {}
        merged.findings = [refreshed.get(_ident(f), f) for f in old.findings] + new.findings
        merged.suppressed = [s._replace(finding=refreshed.get(_ident(s.finding), s.finding)) for s in old.suppressed] + new.suppressed
        merged.errors = list(old.errors) + [e for e in new.errors if e not in old.errors]
        _add_stats(merged.stats, new.stats)
        merged.sort()
        what = f"{len(fresh)} new tip(s)" if fresh else "refs moved, no new commits"
        return Outcome(merged, what, blobs_read)
    except KeyscanError as exc:  # GitError included: the full audit will say what is wrong
        return Outcome(None, f"the incremental scan failed ({exc})", 0)


def _copy_stats(s: Stats) -> Stats:
    out = Stats(s.files_scanned, s.bytes_scanned, dict(s.skipped), list(s.skipped_paths), {})
    for k, v in s.extra.items():
        out.extra[k] = list(v) if isinstance(v, list) else v
    return out


def _add_stats(into: Stats, new: Stats) -> None:
    """Counts add up (the range scan read only blobs the old audit had not);
    warnings are kept once each; flags keep the old value unless set now."""
    into.files_scanned += new.files_scanned
    into.bytes_scanned += new.bytes_scanned
    for reason, n in new.skipped.items():
        into.skipped[reason] = into.skipped.get(reason, 0) + n
    into.skipped_paths.extend(new.skipped_paths)
    for key, value in new.extra.items():
        have = into.extra.get(key)
        if isinstance(value, bool) or isinstance(have, bool):
            into.extra[key] = bool(have) or bool(value)
        elif isinstance(value, (int, float)) and isinstance(have, (int, float)):
            into.extra[key] = have + value
        elif isinstance(value, list):
            merged = list(have) if isinstance(have, list) else []
            merged.extend(v for v in value if v not in merged)
            into.extra[key] = merged
        elif have is None:
            into.extra[key] = value
