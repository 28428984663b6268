"""The command line: exit codes, formats, output files, help."""
import json
import os

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, run_keyscan

SECRET = fake_immutable_secret(seed=31)
TEST_SECRET = fake_immutable_secret("test", seed=32)
PUBLISHABLE = fake_immutable_publishable(seed=33)


@pytest.fixture
def tree(workdir):
    (workdir / "clean.txt").write_text("nothing to see\n")
    return workdir


def test_clean_tree_exits_0(tree):
    res = run_keyscan("scan")
    assert res.code == 0, res.err
    assert "0 findings" in res.out


def test_secret_exits_1_and_never_prints_it(tree):
    (tree / "config.py").write_text(f"IMMUTABLE_API_KEY = '{SECRET}'\n")
    res = run_keyscan("scan")
    assert res.code == 1
    assert SECRET not in res.out + res.err
    assert "config.py:1:22  high" in res.out
    assert "Settings -> API Keys -> Rotate Key" in res.out


def test_no_redact_prints_full_secret(tree):
    (tree / "config.py").write_text(f"k = '{SECRET}'\n")
    res = run_keyscan("scan", "--no-redact")
    assert SECRET in res.out


def test_publishable_key_is_info_and_passes_default_gate(tree):
    (tree / "web.ts").write_text(f"const pk = '{PUBLISHABLE}';\n")
    res = run_keyscan("scan")
    assert res.code == 0
    assert "info" in res.out and "Immutable publishable API key" in res.out
    assert run_keyscan("scan", "--fail-on", "info").code == 1


@pytest.mark.parametrize("gate, code", [("critical", 0), ("high", 0), ("medium", 1), ("low", 1)])
def test_fail_on_gate(tree, gate, code):
    (tree / "a.ts").write_text(f"k = '{TEST_SECRET}'\n")  # medium
    assert run_keyscan("scan", "--fail-on", gate).code == code
    assert run_keyscan("scan", env={"KEYSCAN_FAIL_ON": gate}).code == code


def test_unknown_fail_on_is_usage_error(tree):
    res = run_keyscan("scan", "--fail-on", "severe")
    assert res.code == 2
    assert "--fail-on" in res.err and "Traceback" not in res.err


def test_json_report_shape(tree):
    (tree / "dist").mkdir()
    (tree / "dist" / "app.js").write_text(f'fetch(u,{{headers:{{"x-immutable-api-key":"{SECRET}"}}}})')
    res = run_keyscan("scan", "--format", "json", "dist")
    assert res.code == 1
    rep = json.loads(res.out)
    assert set(rep) >= {"findings", "suppressed", "errors", "stats"}
    [f] = rep["findings"]
    for field in ["rule_id", "provider", "key_class", "environment", "severity", "path", "line", "column", "secret", "fingerprint", "source", "rotation"]:
        assert field in f
    assert f["severity"] == "critical" and f["exposure"] == "bundle"
    assert f["secret"].endswith("…") and SECRET not in res.out
    assert f["fingerprint"].startswith("ks1:")
    assert rep["stats"]["files_scanned"] == 1


def test_output_file_is_written_and_stdout_empty(tree):
    (tree / "a.ts").write_text(f"k = '{SECRET}'\n")
    res = run_keyscan("scan", "-f", "json", "-o", "report.json")
    assert res.code == 1 and res.out == ""
    data = json.loads((tree / "report.json").read_text())
    # the report itself is not scanned into the next report
    assert len(data["findings"]) == 1
    assert not [p for p in os.listdir(tree) if p.startswith(".keyscan-")]


def test_output_to_missing_folder_is_one_line_error(tree):
    res = run_keyscan("scan", "-o", "no/such/dir/report.txt")
    assert res.code == 2
    assert len(res.err.strip().splitlines()) == 1 and "no/such/dir" in res.err


def test_help_has_examples_and_python_m_works(tree):
    for cmd in (["--help"], ["scan", "--help"], ["rules", "list", "--help"], ["rules", "check", "--help"]):
        res = run_keyscan(*cmd)
        assert res.code == 0 and "Examples" in res.out, cmd
    assert run_keyscan("--version").out.startswith("keyscan")


def test_unknown_command_and_option_are_exit_2(tree):
    assert run_keyscan("scna").code == 2
    assert run_keyscan("scan", "--frobnicate").code == 2


def test_color_only_when_asked_or_on_terminal(tree):
    (tree / "a.ts").write_text(f"k = '{SECRET}'\n")
    assert "\x1b[" not in run_keyscan("scan").out  # not a terminal
    assert "\x1b[" in run_keyscan("scan", "--color", "always").out


def test_text_report_escapes_control_characters_in_names(tree):
    name = "evil\x1b[31m\x07.txt"
    (tree / name).write_text(f"k = '{SECRET}'\n")
    res = run_keyscan("scan")
    assert "\x1b" not in res.out and "\x07" not in res.out
    assert "evil\\x1b[31m\\x07.txt" in res.out


def test_interrupt_exits_130(tree):
    """Ctrl-C in the middle of scanning a file: exit 130, one line, no traceback."""
    import signal
    import subprocess
    import sys
    import time

    (tree / "a.txt").write_text("text\n")
    code = (
        "import time, keyscan.scan as s, keyscan.cli as c\n"
        "real = s.scan_fragments\n"
        "def slow(*a):\n"
        "    print('scanning', flush=True)\n"
        "    time.sleep(60)\n"
        "    return real(*a)\n"
        "s.scan_fragments = slow\n"
        "c.main(['scan', '-j', '1', '.'])\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout.readline() == b"scanning\n"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip() == b"keyscan: interrupted"


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_non_utf8_file_names_in_reports_written_to_file_and_stdout(workdir, fmt):
    name = os.fsencode(workdir) + b"/bad-\xff\xfe-\xe2\x80\xae.txt"
    with open(name, "wb") as fh:
        fh.write(f"k = '{SECRET}'\n".encode())
    res = run_keyscan("scan", "-f", fmt, "-o", "report.out")
    assert res.code == 1, res.err
    data = (workdir / "report.out").read_bytes().decode("utf-8")
    if fmt == "json":
        import json as _json

        [f] = _json.loads(data)["findings"]
        assert f["path"].startswith("bad-")
    assert "\u202e" not in data or fmt == "json"
    res = run_keyscan("scan", "-f", fmt)
    assert res.code == 1 and "Traceback" not in res.err and "internal error" not in res.err


def test_only_selects_rules_and_an_unknown_name_is_exit_2(tree):
    (tree / "a.ts").write_text(f"k = '{SECRET}'\n")
    assert run_keyscan("scan", "--only", "immutable").code == 1
    assert run_keyscan("scan", "--only", "immutable.publishable-key").code == 0
    res = run_keyscan("scan", "--only", "no-such-provider")
    assert res.code == 2
    assert res.err.strip() == "keyscan: error: --only: no rule id or provider matches no-such-provider"
