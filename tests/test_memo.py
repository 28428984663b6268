"""The engine's results reused for repeated text (keyscan/engine/memo.py):
every report is the one a scan without reuse gives, findings name the file
they are in, and what is kept stays within its budget."""
from __future__ import annotations

import json

import pytest

from helpers import fake_immutable_secret
from keyscan.engine import Engine
from keyscan.engine import memo as kmemo
from keyscan.models import Fragment
from keyscan.reporters import RenderOptions, renderer
from keyscan.rulefile import load_ruleset
from keyscan.scan import ScanOptions, scan_fragment, scan_paths


@pytest.fixture(scope="module")
def ruleset():
    return load_ruleset()


def _report(engine, jobs: int = 1) -> dict:
    report = scan_paths(["."], engine, ScanOptions(gitignore=False, jobs=jobs))
    out = json.loads(renderer("json")(report, RenderOptions(show_suppressed=True)))
    out.pop("stats")
    return out


def _filler(n: int, seed: int) -> str:
    return "".join(f"const v{seed}_{i} = compute({i}, '{seed}');\n" for i in range(n))


def test_repeated_files_report_as_without_reuse(workdir, ruleset, monkeypatch):
    key = fake_immutable_secret(seed=71)
    body = _filler(60, 1) + f"export const SECRET_TOKEN = '{key}';\nconst password = 'changeme_1234_here';\nconst db_password = 'q8Zr2LmX0pWv7NtB4c';\n" + _filler(60, 2)
    # The same text at several paths: one where the generic rule does not
    # apply (a lock file), and a copy that differs only in the middle.
    twin = body.replace("compute(30,", "compute(31,")
    assert len(twin) == len(body) and twin[:64] == body[:64] and twin[-64:] == body[-64:]
    files = {"a/app.js": body, "b/app.js": body, "c/yarn.lock": body, "e/copy.js": body, "z/app.js": twin}
    for path, text in files.items():
        (workdir / path).parent.mkdir(parents=True, exist_ok=True)
        (workdir / path).write_text(text)
    monkeypatch.setattr(kmemo, "ENABLED", False)
    plain = _report(Engine(ruleset))
    monkeypatch.setattr(kmemo, "ENABLED", True)
    engine = Engine(ruleset)
    reused = _report(engine)
    assert reused == plain
    assert engine.memo.hits == 2  # b/app.js and e/copy.js; not the lock file (other rules apply) nor the twin
    paths = sorted(f["path"] for f in reused["findings"])
    assert paths.count("a/app.js") == paths.count("b/app.js") == paths.count("e/copy.js") == 2
    assert sorted(s["path"] for s in reused["suppressed"]).count("b/app.js") == 1
    assert "z/app.js" in paths
    generic_paths = {f["path"] for f in reused["findings"] if f["rule_id"] == "generic.secret-assignment"}
    assert "c/yarn.lock" not in generic_paths and "a/app.js" in generic_paths
    assert _report(Engine(ruleset), jobs=2) == plain


def test_kept_results_hold_no_fragment_and_stay_within_budget(ruleset):
    engine = Engine(ruleset)
    memo = kmemo.ResultMemo(engine, budget=5000)
    key = fake_immutable_secret(seed=72)
    frags = [Fragment.from_text(_filler(40, i) + f"K = '{key}'\n", f"f{i}.js") for i in range(6)]
    for f in frags:
        result = engine.scan(f)
        k = memo.key(f)
        memo.put(k, f, result.matches, result.placeholders)
        assert memo._size == sum(entry[0] for entry in memo._kept) <= 5000
        for _, matches, placeholders in memo._kept.values():
            assert all(m.fragment is None for m in matches) and all(m.fragment is None for m, _ in placeholders)
    assert len(memo._kept) < len(frags)  # the oldest went
    assert memo.get(memo.key(frags[0]), frags[0]) is None
    again = Fragment.from_text(frags[-1].text, "elsewhere/f.js")
    matches, _ = memo.get(memo.key(again), again)
    assert matches and all(m.fragment is again for m in matches)


def test_history_small_and_failed_fragments_are_not_kept(ruleset, monkeypatch):
    engine = Engine(ruleset)
    text = _filler(40, 3)
    assert kmemo.ResultMemo(engine).key(Fragment.from_text(text, "a.js", origin="history")) is None
    assert kmemo.ResultMemo(engine).key(Fragment.from_text("x = 1\n", "a.js")) is None
    frag = Fragment.from_text(text, "a.js")
    real_scan = Engine._scan

    def timing_out(self, fragment):
        result = real_scan(self, fragment)
        return result._replace(errors=[*result.errors, kmemo_error(fragment)])

    def kmemo_error(fragment):
        from keyscan.models import ScanError

        return ScanError(fragment.path, "timeout", "rule x gave up", "x")

    monkeypatch.setattr(Engine, "_scan", timing_out)
    for _ in range(2):
        _, _, errors = scan_fragment(engine, frag)
        assert len(errors) == 1
    assert engine.memo.hits == 0 and not engine.memo._kept


def test_keyscan_no_memo_turns_it_off():
    """The switch the README gives for checking a report without reuse."""
    import os
    import subprocess
    import sys

    probe = "from keyscan.engine import Engine; from keyscan.rulefile import load_ruleset; print(Engine(load_ruleset()).memo is None)"
    for value, off in (("1", "True"), ("0", "False"), (None, "False")):
        env = {k: v for k, v in os.environ.items() if k != "KEYSCAN_NO_MEMO"}
        if value is not None:
            env["KEYSCAN_NO_MEMO"] = value
        out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True).stdout.strip()
        assert out == off, value
