"""Worker processes give the same report as one process."""
import os

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


def test_findings_that_sort_alike_keep_the_serial_order(workdir, monkeypatch):
    """Two source maps embed the same original file holding a key: both
    findings have the same path, line, column, rule and fingerprint and
    differ only in the map they came through. Their order must be the
    serial scan's, even when the worker with the first map finishes last."""
    import json
    import time

    key = fake_immutable_secret(seed=7)
    content = f"const k = '{key}';\n"
    for folder in ("a", "b"):
        (workdir / folder).mkdir()
        smap = {"version": 3, "sources": ["../src/k.ts"], "sourcesContent": [content], "names": [], "mappings": ""}
        (workdir / folder / "app.js.map").write_text(json.dumps(smap))
    (workdir / "a" / "slow").mkdir()
    for i in range(20):
        (workdir / "a" / "slow" / f"f{i}.txt").write_text("plain text\n" * 2000)
    monkeypatch.setattr(parallel, "MIN_FILES", 2)
    monkeypatch.setattr(parallel, "BATCH_FILES", 1)
    from keyscan import sources

    real = sources.fragments_of

    def first_map_slow(entry, stats, errors):  # inherited by the forked workers
        if entry.display == "a/app.js.map":
            time.sleep(1.0)  # done last of all
        return real(entry, stats, errors)

    monkeypatch.setattr(sources, "fragments_of", first_map_slow)
    engine = Engine(load_ruleset())
    serial = scan_paths(["."], engine, ScanOptions(jobs=1))
    par = scan_paths(["."], engine, ScanOptions(jobs=2))
    maps = [f.source.get("map") for f in serial.findings]
    assert maps == ["a/app.js.map", "b/app.js.map"], [(f.path, f.source) for f in serial.findings]
    assert [f.source.get("map") for f in par.findings] == maps
    render = renderer("json")
    assert render(serial, RenderOptions()) == render(par, RenderOptions())


def test_pool_worker_handler_is_not_woken_by_results():
    """keyscan's pool: the thread that keeps workers alive waits for the
    workers and for changes, not for the result pipe (where it spun while a
    result waited to be read); results still come, a killed worker is still
    replaced, and a closed pool still ends."""
    import multiprocessing
    import signal
    import time

    from keyscan import parallel

    pool = parallel._Pool(2, context=multiprocessing.get_context("fork"))
    try:
        assert pool._outqueue._reader not in pool._get_sentinels()
        assert pool._change_notifier._reader in pool._get_sentinels()
        assert sorted(pool.imap_unordered(abs, range(-300, 0))) == list(range(1, 301))
        pool.close()
        pool.join()
    except BaseException:
        pool.terminate()
        raise
    # A killed worker is replaced. (The pool is not used after that: an
    # idle worker waits for a task holding the task queue's lock, so if the
    # killed one held it, no task would ever be read again; keyscan stops
    # the scan with "a worker process was killed" instead.)
    pool = parallel._Pool(2, context=multiprocessing.get_context("fork"))
    try:
        before = {p.pid for p in pool._pool}
        os.kill(next(iter(before)), signal.SIGKILL)
        deadline = time.monotonic() + 10
        while {p.pid for p in pool._pool} == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert {p.pid for p in pool._pool} != before and len(pool._pool) == 2
    finally:
        parallel.shutdown(pool)  # not terminate(): it takes the lock the killed worker may hold
