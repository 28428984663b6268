"""Secrets stay secret: no full secret in any report (unless --no-redact),
log line, error message, exception text or temporary file left behind,
whichever road the key takes to the output: the file's content, its name,
a folder's name, a commit subject or branch, a malformed source map, a
config value, a rule file, a command-line argument."""
from __future__ import annotations

import json
import os
import random
import signal
import string
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from hypothesis import assume, given, strategies as st

from helpers import fake_immutable_secret, make_repo, run_keyscan
from keyscan.engine import Engine
from keyscan.models import CommitInfo, Fragment, Report, ScanError
from keyscan.reporters import FORMATS, RenderOptions, renderer
from keyscan.rulefile import load_ruleset
from keyscan.scan import finish, scan_fragment

from .support import fuzz

RULES = load_ruleset()
ENGINE = Engine(RULES)


def mutated(rule, example, rnd: random.Random) -> str:
    """A new key in the shape of ``example``'s: its public prefix kept, every
    other letter and digit drawn at random (same case, same kind)."""
    m = rule.pattern.search(example.text)
    prefix = (m.group("prefix") or "") if m is not None and "prefix" in rule.pattern.groupindex else ""
    secret = example.secret
    if not secret.startswith(prefix):
        prefix = ""
    out = [prefix]
    for c in secret[len(prefix):]:
        if c.isascii() and c.islower():
            c = rnd.choice(string.ascii_lowercase)
        elif c.isascii() and c.isupper():
            c = rnd.choice(string.ascii_uppercase)
        elif c.isdigit():
            c = rnd.choice(string.digits)
        out.append(c)
    return "".join(out)


def _keyed_rules() -> list:
    """Rules whose first example, with its key redrawn, is still found (no
    checksum or format detail that random letters would break): about half
    of them, of every kind (secret, publishable, credential, generic)."""
    keep = []
    for rule in RULES.rules:
        ex = rule.examples[0]
        ok = True
        for seed in range(4):
            key = mutated(rule, ex, random.Random(seed))
            found, _, _ = scan_fragment(ENGINE, Fragment.from_text(ex.text.replace(ex.secret, key), ex.path or "config.txt"))
            ok = ok and any(f.secret == key for f in found)
        if ok:
            keep.append(rule)
    return keep


KEYED = _keyed_rules()
IMMUTABLE = [r for r in RULES.rules if r.id == "immutable.secret-key"]


@st.composite
def keys(draw):
    """(rule, example text holding the key, path, key): Immutable secret
    keys from the test helper, or any keyed rule's example with a new key."""
    seed = draw(st.integers(0, 2**32 - 1))
    if draw(st.booleans()):
        key = fake_immutable_secret(env=draw(st.sampled_from(["", "test"])), seed=seed)
        return IMMUTABLE[0], f"IMX_API_KEY={key}\n", ".env", key
    rule = draw(st.sampled_from(KEYED))
    ex = rule.examples[0]
    key = mutated(rule, ex, random.Random(seed))
    return rule, ex.text.replace(ex.secret, key), ex.path or "config.txt", key


def hostile_report(samples) -> tuple[Report, set[str]]:
    """A report where each key takes every road to the output at once: the
    file's content, its path and folder, a commit subject, an error
    message, a skipped path and a warning."""
    report = Report(command="history")
    wanted = set()
    for i, (rule, text, path, key) in enumerate(samples):
        folder = f"leak-{key}/{i}"
        commit = CommitInfo("0" * 40, "Ada <ada@example.org>", "2026-01-01T00:00:00Z", f"add {key} to the config")
        frag = Fragment.from_text(text, f"{folder}/{path}", origin="history", commit=commit)
        found, suppressed, errors = scan_fragment(ENGINE, frag)
        assume(any(f.secret == key for f in found + [s.finding for s in suppressed]))
        report.findings += found
        report.suppressed += suppressed
        report.errors += errors
        report.errors.append(ScanError(f"{folder}/app.js.map", "sourcemap", f"unsupported source map version '{key}' (only 3 is known); scanned as plain text"))
        report.stats.skip(f"{folder}/{key}.bin", "binary")
        report.stats.extra.setdefault("warnings", []).append(f"{folder} is a shallow clone")
        wanted.add(key)
    return finish(report, []), wanted


@fuzz(60)
@given(st.lists(keys(), min_size=1, max_size=3))
def test_no_report_format_prints_a_full_secret_whatever_road_it_takes(samples):
    """Random keys of about 120 rules (every kind) through every report
    format (text, json, sarif, gitlab, junit, github, html), with
    suppressed findings and skipped files listed: no output holds a full
    key, although each key also sits in a folder name, a commit subject,
    an error message and a skipped file's name. With --no-redact the
    findings' keys are shown in full (so the test can see them at all)."""
    report, wanted = hostile_report(samples)
    for fmt in FORMATS:
        out = renderer(fmt)(report, RenderOptions(redact=True, show_suppressed=True, verbose=True))
        leaked = [k for k in wanted if k in out]
        assert not leaked, (fmt, leaked)
    full = renderer("json")(report, RenderOptions(redact=False))
    assert all(f.secret in full for f in report.findings)


KEY = fake_immutable_secret(seed=801)


def _no_key(*texts: str) -> None:
    for text in texts:
        assert KEY not in text, text[max(0, text.find(KEY) - 200): text.find(KEY) + 100]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_key_in_a_file_or_folder_name_is_redacted_everywhere(workdir, fmt):
    """A file named after the key (holding it too), a folder named after
    it, and an unreadable binary file named after it: the report (every
    format, with -v), stdout and stderr never show the full key; the
    finding is still reported, its path redacted."""
    folder = workdir / f"cfg-{KEY}"
    folder.mkdir()
    (folder / f"{KEY}.env").write_text(f"IMX_API_KEY={KEY}\n")
    (workdir / f"{KEY}.bin").write_bytes(b"\0\1\2" * 10)
    res = run_keyscan("scan", "-v", "--show-suppressed", "-f", fmt, cwd=workdir)
    assert res.code == 1, res.err
    _no_key(res.out, res.err)
    res = run_keyscan("scan", "-v", "-f", fmt, "-o", "report.out", "--report", f"json=extra-{fmt}.json", cwd=workdir)
    _no_key((workdir / "report.out").read_text(encoding="utf-8"), (workdir / f"extra-{fmt}.json").read_text(encoding="utf-8"), res.out, res.err)


def test_keys_in_malformed_source_maps_and_map_urls_are_redacted(workdir):
    """A source map whose 'version' is a key, a bundle whose
    sourceMappingURL carries a key in its query string, and a map whose
    'sources' entry is a key: the errors that quote them are redacted."""
    (workdir / "a.js.map").write_text(json.dumps({"version": KEY, "mappings": ""}))
    (workdir / "b.js").write_text(f"var a=1;\n//# sourceMappingURL=https://cdn.example.com/b.js.map?token={KEY}\n")
    (workdir / "c.js.map").write_text(json.dumps({"version": 3, "sources": [f"src/{KEY}.ts"], "sourcesContent": [f"K='{KEY}'"], "mappings": "AAAA;;;;%%"}))
    for fmt in sorted(FORMATS):
        res = run_keyscan("scan", "-f", fmt, "-v", cwd=workdir)
        assert res.code == 1 and "Traceback" not in res.err, res.err
        _no_key(res.out, res.err)


def test_keys_in_commit_subjects_and_branch_names_are_redacted(tmp_path):
    """A commit whose subject holds a key and a branch named after one: the
    history report (every format) shows the commit and the refs with the
    key redacted."""
    repo = make_repo(tmp_path / "r")
    repo.commit(f"add {KEY} for now", {"a.py": f"K = '{KEY}'\n"})
    repo.git("branch", f"keep-{KEY}")
    for fmt in sorted(FORMATS):
        res = run_keyscan("history", str(repo.path), "-f", fmt)
        assert res.code == 1, res.err
        _no_key(res.out, res.err)


def _rule_file(**overrides: str) -> str:
    fields = {
        "id": '"mine.token"',
        "name": '"Mine"',
        "description": '"Mine."',
        "key_class": '"secret"',
        "keywords": '["mine_"]',
        "pattern": "'(?P<secret>mine_[a-z]{8})'",
    }
    fields.update(overrides)
    body = "\n".join(f"{k} = {v}" for k, v in fields.items())
    return f'format = 1\nprovider = "Mine"\n[[rule]]\n{body}\n[rule.rotation]\nurl = "https://example.com"\nsteps = ["x"]\n[[rule.examples]]\ntext = "mine_abcdefgh"\nsecret = "mine_abcdefgh"\n'


@pytest.mark.parametrize(
    "case",
    ["config fail-on", "config format", "config baseline", "rule key_class", "rule environment", "rule id", "rule toml", "--report", "--only", "--since", "--branch", "path"],
)
def test_keys_in_config_values_rule_files_and_arguments_are_redacted(tmp_path, case):
    """A key pasted where keyscan expects something else (a config value, a
    rule file field, a broken rule file, a command-line value, a path):
    the one-line error names the place, exit 2, and the key in it is
    redacted."""
    repo = make_repo(tmp_path / "r")
    repo.commit("init", {"a.txt": "hello\n"})
    args = ["scan", "."]
    if case.startswith("config "):
        key = case.split()[1]
        (repo.path / ".keyscan.toml").write_text(f'{key} = "{KEY}"\n' if key != "baseline" else f'baseline = "{KEY}.json"\n')
        if key == "baseline":
            args = ["baseline", "update"]
    elif case.startswith("rule "):
        rules = tmp_path / "rules"
        rules.mkdir()
        field = case.split()[1]
        text = _rule_file(**{field: f'"{KEY}"'}) if field != "toml" else _rule_file() + f"\n{KEY} = \n"
        (rules / "mine.toml").write_text(text)
        args = ["scan", ".", "--rules", str(rules)]
    elif case in ("--since", "--branch"):
        args = ["history", ".", case, KEY]
    elif case == "path":
        args = ["scan", f"missing-{KEY}"]
    else:
        args = ["scan", ".", case, KEY]
    res = run_keyscan(*args, cwd=repo.path)
    assert res.code == 2, (res.code, res.out, res.err)
    assert res.err.strip() and "Traceback" not in res.err
    _no_key(res.out, res.err)


def test_exception_text_never_reaches_the_user(workdir, monkeypatch, capsys):
    """An unexpected exception whose message holds a key: keyscan prints
    only the exception's type (one line, exit 2), never its text."""
    from keyscan import cli
    from keyscan.engine import matcher

    def boom(self, fragment):
        raise ValueError(f"cannot handle {KEY}")

    (workdir / "a.txt").write_text("x\n")
    monkeypatch.setattr(matcher.Engine, "scan", boom)
    with pytest.raises(SystemExit) as exc:
        cli.main(["scan", "--jobs", "1", "."])
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and err.strip() == "keyscan: internal error (ValueError); rerun with KEYSCAN_DEBUG=1 for details"
    _no_key(out, err)


def test_a_shallow_clone_warning_redacts_a_key_in_the_repository_path(tmp_path):
    """Warnings on stderr (here: the shallow-clone warning, which names the
    repository) redact a key in what they quote."""
    repo = make_repo(tmp_path / "r")
    for i in range(3):
        repo.commit(f"c{i}", {"a.txt": f"{i}\n"})
    clone = tmp_path / f"clone-{KEY}"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{repo.path}", str(clone)], check=True, capture_output=True)
    res = run_keyscan("history", str(clone))
    assert "shallow clone" in res.err
    _no_key(res.out, res.err)


def _files_holding(root: Path, needle: bytes) -> list[str]:
    out = []
    for dirpath, _, files in os.walk(root):
        for name in files:
            p = os.path.join(dirpath, name)
            try:
                with open(p, "rb") as fh:
                    if needle in fh.read():
                        out.append(p)
            except OSError:
                pass
    return out


def test_no_temporary_file_is_left_behind_or_holds_a_key(tmp_path):
    """Scans that spool archive members to disk (a 20 MB member), read git
    history, write reports and a baseline, all with TMPDIR pointing to an
    empty folder: afterwards that folder is empty, and the only files
    holding the full key are the scanned inputs (reports and the baseline
    hold none)."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {"TMPDIR": str(tmp)}
    repo = make_repo(tmp_path / "r")
    big = tmp_path / "member.txt"
    big.write_bytes(b"x = 1\n" * (20 << 20 // 6) + f"K = '{KEY}'\n".encode())
    with tarfile.open(repo.path / "pkg.tgz", "w:gz") as tf:
        tf.add(big, arcname="package/dist/big.txt")
    big.unlink()
    repo.commit("key", {"a.py": f"K = '{KEY}'\n"})
    runs = [
        run_keyscan("scan", ".", "-o", "scan.json", "-f", "json", cwd=repo.path, env=env),
        run_keyscan("history", ".", "-f", "sarif", "-o", "history.sarif", cwd=repo.path, env=env),
        run_keyscan("baseline", "create", ".", cwd=repo.path, env=env),
        run_keyscan("staged", ".", cwd=repo.path, env=env),
    ]
    assert [r.code for r in runs] == [1, 1, 0, 0], [r.err for r in runs]
    assert os.listdir(tmp) == []
    holding = sorted(os.path.relpath(p, repo.path) for p in _files_holding(repo.path, KEY.encode()) if "/.git/" not in p)
    assert holding == ["a.py"], holding  # pkg.tgz holds it compressed


def test_a_killed_scan_leaves_no_temporary_file(tmp_path):
    """SIGKILL (which no program can catch) while an archive member is being
    spooled to disk: spooled members are unnamed temporary files (unlinked
    as soon as they are made), so nothing is left in TMPDIR."""
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    src = tmp_path / "src"
    src.mkdir()
    with tarfile.open(src / "pkg.tar", "w") as tf:
        for i in range(3):
            p = tmp_path / f"m{i}.txt"
            p.write_bytes((f"K = '{KEY}'\n".encode() + b"y = 2\n" * (6 << 20)))
            tf.add(p, arcname=f"package/m{i}.txt")
            p.unlink()
    proc = subprocess.Popen([sys.executable, "-m", "keyscan", "scan", "--jobs", "1", str(src)], env=dict(os.environ, TMPDIR=str(tmp)), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    assert os.listdir(tmp) == []
