"""Archives, compressed assets and Unity WebGL builds: members reported as
archive!member, nested archives, source maps inside packages, and guards."""
from __future__ import annotations

import ctypes
import ctypes.util
import gzip
import io
import json
import random
import shutil
import subprocess
import tarfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import fake_immutable_publishable, fake_immutable_secret, run_keyscan
from test_bundles import make_project

SECRET = fake_immutable_secret(seed=21)
TEST_SECRET = fake_immutable_secret("test", seed=22)


def scan(*args: str, cwd: Path) -> dict:
    res = run_keyscan("scan", *args, "--format", "json", "--no-redact", cwd=cwd)
    assert "Traceback" not in res.err, res.err
    assert res.code in (0, 1), res.err
    return json.loads(res.out)


def make_tar(path: Path, members: dict[str, bytes], mode: str = "w:gz", links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, mode) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            tf.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)
    return path


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def brotli_compress(data: bytes) -> bytes:
    """Brotli via Debian's libbrotlienc (the decoder under test is separate)."""
    name = ctypes.util.find_library("brotlienc") or "libbrotlienc.so.1"
    lib = ctypes.CDLL(name)
    lib.BrotliEncoderMaxCompressedSize.restype = ctypes.c_size_t
    lib.BrotliEncoderMaxCompressedSize.argtypes = [ctypes.c_size_t]
    size = ctypes.c_size_t(lib.BrotliEncoderMaxCompressedSize(len(data)) or len(data) + 1024)
    out = ctypes.create_string_buffer(size.value)
    lib.BrotliEncoderCompress.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_size_t, ctypes.c_char_p, ctypes.POINTER(ctypes.c_size_t), ctypes.c_char_p]
    assert lib.BrotliEncoderCompress(5, 22, 0, len(data), data, ctypes.byref(size), out) == 1
    return out.raw[: size.value]


def by_path(report: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for f in report["findings"]:
        out.setdefault(f["path"], []).append(f)
    return out


def test_npm_pack_output_maps_to_original(tmp_path):
    """A real `npm pack` of an esbuild-built package: the bundle member maps
    back to the packaged source, and everything counts as shipped."""
    project = make_project(tmp_path / "app", seed=31)
    project.build("--minify", "--sourcemap")
    (project.root / "package.json").write_text(json.dumps({"name": "demo-game-sdk", "version": "1.2.3", "files": ["dist", "src"]}))
    subprocess.run(["npm", "pack", "--silent", "--ignore-scripts"], cwd=project.root, check=True, capture_output=True, timeout=120)
    shutil.move(str(project.root / "demo-game-sdk-1.2.3.tgz"), tmp_path / "pkg.tgz")
    report = scan("pkg.tgz", cwd=tmp_path)
    paths = by_path(report)
    [hit] = [f for f in paths["pkg.tgz!package/dist/app.js"] if f["secret"] == project.secret]
    line, col = project.where("src/api/client.ts", project.secret)
    assert hit["original"] == {"path": "pkg.tgz!package/src/api/client.ts", "line": line, "column": col}
    assert hit["exposure"] == "archive" and hit["severity"] == "critical"
    [pub] = [f for f in paths["pkg.tgz!package/dist/app.js"] if f["secret"] == project.public_value]
    assert pub["original"]["env_var"] == "NEXT_PUBLIC_IMX_API_KEY"
    # The packaged source itself, and the same file through the map.
    kinds = sorted(f["exposure"] for f in paths["pkg.tgz!package/src/api/client.ts"])
    assert kinds == ["archive", "sourcemap"]
    assert report["errors"] == []
    assert report["stats"]["archive_members"] >= 6


@pytest.mark.parametrize("suffix", [".zip", ".whl", ".jar"])
def test_zip_family(tmp_path, suffix):
    (tmp_path / f"lib{suffix}").write_bytes(zip_bytes({"lib/config.py": f'KEY = "{SECRET}"\n'.encode(), "lib/logo.png": b"\x89PNG\0\0"}))
    report = scan(f"lib{suffix}", cwd=tmp_path)
    [f] = report["findings"]
    assert (f["path"], f["line"], f["column"]) == (f"lib{suffix}!lib/config.py", 1, 8)
    assert f["exposure"] == "archive" and f["severity"] == "critical"


def test_nested_archives_and_depth_cap(tmp_path):
    inner = tmp_path / "inner.tgz"
    make_tar(inner, {"package/index.js": f'module.exports="{SECRET}";\n'.encode()})
    level = zip_bytes({"vendor/inner.tgz": inner.read_bytes()})
    (tmp_path / "outer.zip").write_bytes(level)
    report = scan("outer.zip", cwd=tmp_path)
    assert [f["path"] for f in report["findings"]] == ["outer.zip!vendor/inner.tgz!package/index.js"]

    for i in range(4):  # now five levels deep
        level = zip_bytes({f"l{i}.zip": level})
    (tmp_path / "deep.zip").write_bytes(level)
    report = scan("deep.zip", cwd=tmp_path)
    assert report["findings"] == []
    assert any("nested more than 3 deep" in e["message"] for e in report["errors"])


def test_compressed_assets_gz_and_br(tmp_path):
    dist = tmp_path / "dist"
    dist.mkdir()
    code = f'const k="{SECRET}";console.log(k);\n'.encode()
    (dist / "app.js.gz").write_bytes(gzip.compress(code))
    (dist / "app.js.br").write_bytes(brotli_compress(code))
    (dist / "broken.js.br").write_bytes(b"\x1b\x03\x00garbage" * 3)
    report = scan("dist", cwd=tmp_path)
    paths = by_path(report)
    assert set(paths) == {"dist/app.js.br!app.js", "dist/app.js.gz!app.js"}
    for fs in paths.values():
        [f] = fs
        assert (f["line"], f["column"], f["exposure"]) == (1, 10, "bundle")
    assert any(e["path"] == "dist/broken.js.br" and "brotli" in e["message"] for e in report["errors"])


def test_decompression_bombs_stop_with_a_note(tmp_path):
    zeros = b"\0" * (24 * 1024 * 1024)
    (tmp_path / "bomb.zip").write_bytes(zip_bytes({"a.txt": SECRET.encode(), "zeros.bin": zeros, "z.txt": TEST_SECRET.encode()}))
    make_tar(tmp_path / "bomb.tgz", {"a.txt": SECRET.encode(), "zeros.bin": zeros, "z.txt": TEST_SECRET.encode()})
    (tmp_path / "bomb.txt.gz").write_bytes(gzip.compress(zeros))
    report = scan("bomb.zip", "bomb.tgz", "bomb.txt.gz", cwd=tmp_path)
    paths = by_path(report)
    assert "bomb.zip!a.txt" in paths and "bomb.zip!z.txt" in paths  # the zip skips just the bomb member
    assert "bomb.tgz!a.txt" in paths  # a tar stops at it
    notes = {e["path"]: e["message"] for e in report["errors"]}
    assert "zip bomb" in notes["bomb.zip!zeros.bin"]
    assert "decompression bomb" in notes["bomb.tgz"] and "decompression bomb" in notes["bomb.txt.gz"]


def test_unsafe_names_links_and_encrypted_members(tmp_path):
    make_tar(tmp_path / "evil.tar", {"../escape.txt": SECRET.encode(), "/abs/key.txt": TEST_SECRET.encode(), "ok.txt": b"hello"}, mode="w", links={"link.txt": "/etc/passwd"})
    data = bytearray(zip_bytes({"locked.txt": SECRET.encode(), "open.txt": TEST_SECRET.encode()}, zipfile.ZIP_STORED))
    # Mark the first member encrypted (general purpose flag bit 0) in its
    # local header and in the central directory.
    data[6] |= 1
    central = data.find(b"PK\x01\x02")
    data[central + 8] |= 1
    (tmp_path / "locked.zip").write_bytes(bytes(data))
    zdata = io.BytesIO()
    with zipfile.ZipFile(zdata, "w") as zf:
        info = zipfile.ZipInfo("sym")
        info.external_attr = (0o120777 << 16)
        zf.writestr(info, "/etc/passwd")
    (tmp_path / "sym.zip").write_bytes(zdata.getvalue())
    res = run_keyscan("scan", "evil.tar", "locked.zip", "sym.zip", "--format", "json", "--no-redact", "-v", cwd=tmp_path)
    report = json.loads(res.out)
    paths = by_path(report)
    assert {"evil.tar!../escape.txt", "evil.tar!/abs/key.txt", "locked.zip!open.txt"} == set(paths)
    notes = {e["path"]: e["message"] for e in report["errors"]}
    assert "'..'" in notes["evil.tar!../escape.txt"] and "absolute" in notes["evil.tar!/abs/key.txt"]
    assert "encrypted" in notes["locked.zip!locked.txt"]
    assert report["stats"]["skipped"].get("link member in archive") == 2


@pytest.mark.parametrize(
    "name, data",
    [
        ("truncated.tgz", None),
        ("garbage.zip", b"PK\x03\x04 this is not really a zip"),
        ("garbage.tar.gz", b"\x1f\x8b\x08\x00garbage"),
        ("empty.tgz", b""),
        ("notgzip.js.gz", b"plain text, not gzip"),
    ],
)
def test_corrupt_archives_are_errors(tmp_path, name, data):
    if data is None:
        noise = random.Random(1).randbytes(200_000)  # does not compress: the cut lands in b.txt
        good = make_tar(tmp_path / "good.tgz", {"a.txt": SECRET.encode(), "b.txt": noise})
        data = good.read_bytes()[:-2000]
    (tmp_path / name).write_bytes(data)
    res = run_keyscan("scan", name, "--format", "json", cwd=tmp_path)
    assert res.code in (0, 1) and "Traceback" not in res.err, res.err
    report = json.loads(res.out)
    assert [e for e in report["errors"] if e["kind"] == "archive" and e["path"].startswith(name)], report
    if name == "truncated.tgz":
        assert [f["path"] for f in report["findings"]] == ["truncated.tgz!a.txt"]


def unity_data(files: dict[str, bytes]) -> bytes:
    """A UnityWebData1.0 pack: magic, header size, (offset, size, name) entries, data."""
    magic = b"UnityWebData1.0\0"
    header_len = len(magic) + 4 + sum(12 + len(n.encode()) for n in files)
    entries, blobs, offset = b"", b"", header_len
    for name, data in files.items():
        entries += offset.to_bytes(4, "little") + len(data).to_bytes(4, "little") + len(name.encode()).to_bytes(4, "little") + name.encode()
        blobs += data
        offset += len(data)
    return magic + header_len.to_bytes(4, "little") + entries + blobs


def test_unity_webgl_build_folder(tmp_path):
    build = tmp_path / "WebGL" / "Build"
    build.mkdir(parents=True)
    binary = b"\x00\x01\x02UnityFS\x00\x05" + SECRET.encode() + b"\x00\xff\xfe" + bytes(range(256))
    offset_in_binary = binary.index(SECRET.encode())
    (build / "game.data").write_bytes(unity_data({"boot.config": f"gfx-enable-jobs=1\nimx-key={TEST_SECRET}\n".encode(), "data.unity3d": binary}))
    wasm = b"\0asm\x01\0\0\0" + b"\x0b\x90\x01" + SECRET.encode() + b"\0" * 50
    (build / "game.wasm.br").write_bytes(brotli_compress(wasm))
    publishable = fake_immutable_publishable(seed=5)
    (build / "game.framework.js.gz").write_bytes(gzip.compress(f'var Module={{pk:"{publishable}"}};'.encode()))
    (build / "game.loader.js").write_text("function createUnityInstance(){}\n")
    report = scan("WebGL", cwd=tmp_path)
    paths = by_path(report)
    data_hit = paths["WebGL/Build/game.data!data.unity3d"][0]
    assert (data_hit["line"], data_hit["column"]) == (1, offset_in_binary + 1)
    assert data_hit["exposure"] == "bundle" and data_hit["severity"] == "critical"
    boot = paths["WebGL/Build/game.data!boot.config"][0]
    assert (boot["line"], boot["severity"]) == (2, "high")
    wasm_hit = paths["WebGL/Build/game.wasm.br!game.wasm"][0]
    assert wasm_hit["column"] == wasm.index(SECRET.encode()) + 1 and wasm_hit["severity"] == "critical"
    assert paths["WebGL/Build/game.framework.js.gz!game.framework.js"][0]["severity"] == "info"
    assert report["errors"] == []


def test_ordinary_data_file_is_not_a_game_build(tmp_path):
    (tmp_path / "fixtures").mkdir()
    (tmp_path / "fixtures" / "sample.data").write_text(f"key={SECRET}\n")
    [f] = scan("fixtures", cwd=tmp_path)["findings"]
    assert f["exposure"] == "source" and f["severity"] == "high"


SUFFIXES = [".js", ".map", ".tgz", ".tar", ".zip", ".gz", ".br", ".bz2", ".xz", ".unityweb", ".data", ".wasm", ".js.gz"]
PREFIXES = [b"", b"\x1f\x8b\x08\x00", b"PK\x03\x04", b"UnityWebData1.0\0", b"BZh9", b"\xfd7zXZ\0", b'{"version":3,"mappings":"', b"//# sourceMappingURL=data:application/json;base64,"]


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(SUFFIXES), st.sampled_from(PREFIXES), st.binary(max_size=400))
def test_garbage_never_crashes(suffix, prefix, body):
    """Any bytes under any archive or bundle name: fragments or notes, no exception."""
    from keyscan.models import Stats
    from keyscan.sources.archives import Ctx, scan_stream

    data = prefix + body
    errors: list = []
    for frag in scan_stream(io.BytesIO(data), len(data), "x" + suffix, Ctx(Stats(), errors, origin="archive")):
        assert isinstance(frag.data, bytes)
        if callable(frag.meta.get("original_of")) and frag.text:
            frag.meta["original_of"](len(frag.text) // 2)
    for e in errors:
        assert "\n" not in e.message


@pytest.mark.parametrize(
    "data, reason",
    [
        (b"", "empty file"),
        (b"\x1f\x8b\x08\x00" + b"\x00" * 40, "zlib error"),  # gzip magic, broken stream
        (b"x" * 1024, "invalid header"),  # no compression matched: plain tar's own complaint
    ],
)
def test_a_tar_that_cannot_be_opened_says_why(tmp_path, data, reason):
    """tarfile's "r:*" error is a list of what each compression method said;
    the note gives the one that recognised the data, not the list's title."""
    (tmp_path / "x.tar").write_bytes(data)
    report = json.loads(run_keyscan("scan", "x.tar", "--format", "json", cwd=tmp_path).out)
    (note,) = [e["message"] for e in report["errors"]]
    assert note.startswith(f"cannot open as a tar archive ({reason}") and "could not be opened successfully" not in note
