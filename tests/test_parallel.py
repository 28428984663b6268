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


def test_batches_deal_every_file_once_and_the_tail_largest_first(tmp_path, monkeypatch):
    """Full batches in walk order, then the last few batches' files largest
    first, a file over TAIL_BYTES alone: the workers finish together."""
    from keyscan.sources.worktree import FileEntry

    monkeypatch.setattr(parallel, "BATCH_FILES", 10)
    monkeypatch.setattr(parallel, "TAIL_BATCHES", 2)
    monkeypatch.setattr(parallel, "TAIL_FILES", 4)
    monkeypatch.setattr(parallel, "TAIL_BYTES", 1000)
    sizes = {i: (5000 if i in (37, 41) else 10 * i) for i in range(45)}
    entries = []
    for i, n in sizes.items():
        path = tmp_path / f"f{i:02}"
        path.write_bytes(b"x" * n)
        entries.append(FileEntry(str(path), path.name))  # size not looked up, as the walk gives them
    batches = list(parallel._batches(iter(entries)))
    dealt = [e.display for b in batches for e in b]
    assert sorted(dealt) == sorted(e.display for e in entries) and len(dealt) == len(entries)
    # 45 files: 2 batches of 10 go as they are; the held 2 and the last 5 make the tail.
    assert [len(b) for b in batches[:2]] == [10, 10]
    assert [e.display for e in batches[0]] == [f"f{i:02}" for i in range(10)]
    tail = batches[2:]
    tail_sizes = [sizes[int(e.display[1:])] for b in tail for e in b]
    assert tail_sizes == sorted(tail_sizes, reverse=True)
    assert [[e.display for e in b] for b in tail[:2]] == [["f37"], ["f41"]]
    assert all(len(b) <= 4 and (len(b) == 1 or sum(sizes[int(e.display[1:])] for e in b[:-1]) < 1000) for b in tail)


def test_a_few_large_files_still_go_parallel(workdir, monkeypatch):
    """The walk no longer looks up sizes; the decision to start workers
    looks them up for the files it has seen."""
    for i in range(3):
        (workdir / f"big{i}.txt").write_text("plain text line\n" * 40_000)  # 640 KB each
    started = []

    class Recording(parallel._Pool):
        def __init__(self, *args, **kwargs):
            started.append(True)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(parallel, "_Pool", Recording)
    engine = Engine(load_ruleset())
    monkeypatch.setattr(parallel, "MIN_BYTES", 1 << 20)
    report = scan_paths(["."], engine, ScanOptions(jobs=2))
    assert started and report.stats.files_scanned == 3
    started.clear()
    monkeypatch.setattr(parallel, "MIN_BYTES", 8 << 20)
    scan_paths(["."], engine, ScanOptions(jobs=2))
    assert not started
