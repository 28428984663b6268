"""Inline allows: keyscan:allow, keyscan:allow-next-line, gitleaks:allow,
pragma: allowlist secret; reasons in reports; --no-inline-ignores."""
import json

from helpers import fake_immutable_secret, make_repo, run_keyscan

SECRET = fake_immutable_secret(seed=411)
SECOND = fake_immutable_secret(seed=412)


def scan_json(*args, cwd=None, env=None):
    res = run_keyscan("scan", "-f", "json", *args, cwd=cwd, env=env)
    assert res.code in (0, 1), res.err
    return res, json.loads(res.out)


def suppressions(rep):
    return [(s["path"], s["line"], s["suppression"]["reason"], s["suppression"]["detail"]) for s in rep["suppressed"]]


SAME_LINE = [
    ("a.py", f"KEY = '{SECRET}'  # keyscan:allow revoked in 2025, kept as a fixture", "keyscan:allow: revoked in 2025, kept as a fixture"),
    ("a.ts", f"const k = '{SECRET}'; // keyscan:allow: docs example", "keyscan:allow: docs example"),
    ("a.css", f"/* {SECRET} keyscan:allow - test vector */", "keyscan:allow: test vector"),
    ("a.html", f"<meta k='{SECRET}'> <!-- keyscan:allow shown in the demo -->", "keyscan:allow: shown in the demo"),
    ("a.sql", f"select '{SECRET}'; -- keyscan:allow", "keyscan:allow"),
    ("a.ini", f"key={SECRET} ; KEYSCAN:ALLOW upper case works", "keyscan:allow: upper case works"),
    ("a.go", f'k := "{SECRET}" // gitleaks:allow', "gitleaks:allow"),
    ("a.yaml", f"key: {SECRET}  # pragma: allowlist secret", "pragma: allowlist secret"),
    ("b.yaml", f"key: {SECRET}  # pragma:allowlist secret  (migrated)", "pragma: allowlist secret: (migrated)"),
]


def test_same_line_markers_in_any_comment_syntax(workdir):
    for name, line, _ in SAME_LINE:
        (workdir / name).write_text(f"first line\n{line}\nlast line\n")
    res, rep = scan_json()
    assert res.code == 0 and rep["findings"] == []
    assert sorted(suppressions(rep)) == sorted((name, 2, "inline", detail) for name, _, detail in SAME_LINE)


NEXT_LINE = [
    ("n1.py", "# keyscan:allow-next-line sandbox key for the tutorial", "keyscan:allow-next-line: sandbox key for the tutorial"),
    ("n2.js", "// pragma: allowlist nextline secret", "pragma: allowlist nextline secret"),
    ("n3.c", "    /* keyscan:allow-next-line: reindented comment */", "keyscan:allow-next-line: reindented comment"),
]


def test_next_line_markers(workdir):
    for name, marker, _ in NEXT_LINE:
        (workdir / name).write_text(f"{marker}\nKEY = '{SECRET}'\nOTHER = '{SECOND}'\n")
    res, rep = scan_json()
    assert res.code == 1
    assert sorted((f["path"], f["line"]) for f in rep["findings"]) == sorted((name, 3) for name, _, _ in NEXT_LINE)  # only the next line
    assert sorted(suppressions(rep)) == sorted((name, 2, "inline", detail) for name, _, detail in NEXT_LINE)


NEAR_MISSES = [
    f"# keyscan:allow\nKEY = '{SECRET}'\n",  # same-line marker on the line before
    f"# keyscan:allow-next-line\n\nKEY = '{SECRET}'\n",  # two lines above
    f"KEY = '{SECRET}'  # keyscan:allow-next-line\n",  # next-line marker on the finding's line
    f"KEY = '{SECRET}'  # keyscan:allowed\n",  # not the marker
    f"KEY = '{SECRET}'  # gitleaks:allow-list\n",
    f"KEY = '{SECRET}'  # pragma: allowlist secrets\n",
    f"KEY = '{SECRET}'\n# keyscan:allow-next-line\n",  # marker after the finding
]


def test_near_misses_do_not_suppress(workdir):
    for n, text in enumerate(NEAR_MISSES):
        (workdir / f"miss{n}.py").write_text(text)
    res, rep = scan_json()
    assert res.code == 1 and rep["suppressed"] == []
    assert sorted(f["path"] for f in rep["findings"]) == sorted(f"miss{n}.py" for n in range(len(NEAR_MISSES)))


def test_allow_covers_every_finding_on_its_line_and_reason_never_leaks_a_secret(workdir):
    (workdir / "pair.py").write_text(f"A, B = '{SECRET}', '{SECOND}'  # keyscan:allow pair {SECOND} from the docs\n")
    res, rep = scan_json()
    assert res.code == 0
    assert len(rep["suppressed"]) == 3  # the key quoted in the reason is a finding too
    assert SECOND not in res.out and SECRET not in res.out
    assert rep["suppressed"][0]["suppression"]["detail"].startswith("keyscan:allow: pair sk_imapik-")


def test_text_report_shows_reason_with_show_suppressed(workdir):
    (workdir / "a.py").write_text(f"KEY = '{SECRET}'  # keyscan:allow fixture for the billing tests\n")
    res = run_keyscan("scan")
    assert res.code == 0 and "1 suppressed" in res.out and "fixture for the billing" not in res.out
    res = run_keyscan("scan", "--show-suppressed")
    assert "a.py:1:8" in res.out and "[inline: keyscan:allow: fixture for the billing tests]" in res.out
    assert SECRET not in res.out


def test_no_inline_ignores_disregards_every_marker(workdir):
    (workdir / "a.py").write_text(
        f"A = '{SECRET}'  # keyscan:allow\n"
        "# keyscan:allow-next-line\n"
        f"B = '{SECOND}'\n"
        f"C = '{fake_immutable_secret(seed=413)}'  # gitleaks:allow\n"
        f"D = '{fake_immutable_secret(seed=414)}'  # pragma: allowlist secret\n"
    )
    res, rep = scan_json()
    assert res.code == 0 and len(rep["suppressed"]) == 4
    for args, env in [(["--no-inline-ignores"], None), ([], {"KEYSCAN_NO_INLINE_IGNORES": "true"})]:
        res, rep = scan_json(*args, env=env)
        assert res.code == 1 and [f["line"] for f in rep["findings"]] == [1, 3, 4, 5] and rep["suppressed"] == []


def test_allow_survives_moving_the_code_in_a_git_repo(workdir):
    repo = make_repo(workdir / "r")
    repo.commit("add key", {"app/settings.py": f"# keyscan:allow-next-line demo key\nKEY = '{SECRET}'\n"})
    res, rep = scan_json(cwd=repo.path)
    assert res.code == 0 and suppressions(rep) == [("app/settings.py", 2, "inline", "keyscan:allow-next-line: demo key")]
    # Moved down, reindented, and the file renamed: the allow moves with the line.
    repo.git("mv", "app/settings.py", "app/config.py")
    repo.commit("move", {"app/config.py": "import os\n\n\nclass C:\n    # keyscan:allow-next-line demo key\n    KEY = '%s'\n" % SECRET})
    res, rep = scan_json(cwd=repo.path)
    assert res.code == 0 and suppressions(rep) == [("app/config.py", 6, "inline", "keyscan:allow-next-line: demo key")]


def test_windows_line_endings_and_a_key_on_the_first_line(workdir):
    (workdir / "w.env").write_bytes(f"KEY={SECRET} # keyscan:allow crlf file\r\n# keyscan:allow-next-line\r\nK2={SECOND}\r\n".encode())
    res, rep = scan_json()
    assert res.code == 0
    assert [(s[1], s[3]) for s in suppressions(rep)] == [(1, "keyscan:allow: crlf file"), (3, "keyscan:allow-next-line")]
