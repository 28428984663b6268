"""Report and baseline writes: whole or not at all, never over a device."""
import os
import stat
import threading

import pytest

from keyscan.atomic import write_atomic
from keyscan.errors import KeyscanError


def test_replaces_file_keeping_mode(tmp_path):
    p = tmp_path / "r.json"
    p.write_text("old")
    p.chmod(0o640)
    write_atomic(str(p), b"new")
    assert p.read_bytes() == b"new"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert os.listdir(tmp_path) == ["r.json"]


def test_device_is_written_in_place_not_replaced():
    before = os.stat(os.devnull)
    write_atomic(os.devnull, b"report")
    after = os.stat(os.devnull)
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_fifo_with_reader_gets_the_data(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = []
    t = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()))
    t.start()
    import time

    for _ in range(100):  # wait for the reader to open its end
        try:
            write_atomic(str(fifo), b"hello")
            break
        except KeyscanError:
            time.sleep(0.02)
    t.join(5)
    assert got == [b"hello"] and stat.S_ISFIFO(os.stat(fifo).st_mode)


def test_fifo_without_reader_is_a_clear_error(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(KeyscanError, match="cannot write"):
        write_atomic(str(fifo), b"x")


def test_failed_write_leaves_old_file_and_no_temp(tmp_path, monkeypatch):
    p = tmp_path / "b.json"
    p.write_text("old")

    def boom(*a):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", boom)
    with pytest.raises(KeyscanError, match="No space left"):
        write_atomic(str(p), b"new")
    assert p.read_text() == "old" and os.listdir(tmp_path) == ["b.json"]
