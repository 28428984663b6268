"""Worker processes give the same report as one process."""
from keyscan import parallel
from keyscan.engine import Engine
from keyscan.reporters import RenderOptions, renderer
from keyscan.rulefile import load_ruleset
from keyscan.scan import ScanOptions, scan_paths
from helpers import fake_immutable_publishable, fake_immutable_secret


def test_parallel_report_equals_serial(workdir, monkeypatch):
    for i in range(300):
        d = workdir / f"d{i % 7}"
        d.mkdir(exist_ok=True)
        body = f"line\nk = '{fake_immutable_secret(seed=i)}'\n" if i % 5 == 0 else "plain text\n" * 20
        if i % 11 == 0:
            body += f"pk = '{fake_immutable_publishable(seed=i)}'\n"
        (d / f"f{i}.txt").write_text(body)
    (workdir / "bin.dat").write_bytes(b"\0" * 100)
    monkeypatch.setattr(parallel, "MIN_FILES", 10)
    monkeypatch.setattr(parallel, "BATCH_FILES", 7)
    engine = Engine(load_ruleset())
    serial = scan_paths(["."], engine, ScanOptions(jobs=1))
    par = scan_paths(["."], engine, ScanOptions(jobs=2))
    render = renderer("json")
    assert render(serial, RenderOptions()) == render(par, RenderOptions())
    assert len(serial.findings) == 60 + 28
    assert serial.stats.files_scanned == 300 and serial.stats.skipped == {"binary": 1}
