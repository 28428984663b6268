"""Real bundles built by esbuild from tests/fixtures/bundles: findings in the
bundle map back to the original file, line, column and inlined env var."""
from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers import ROOT, fake_immutable_secret, run_keyscan
from keyscan.decode.offsets import LineIndex
from keyscan.models import Fragment
from keyscan.sources import bundles

FIXTURE = ROOT / "tests" / "fixtures" / "bundles"
ESBUILD = ROOT / "tests" / ".node" / "node_modules" / ".bin" / "esbuild"
PUBLIC_VAR = "NEXT_PUBLIC_IMX_API_KEY"
VITE_VAR = "VITE_IMX_SECRET"


def esbuild() -> Path:
    if ESBUILD.exists():
        return ESBUILD
    if os.environ.get("CI"):
        pytest.fail("esbuild is missing: .ci/run installs it (npm install --prefix tests/.node esbuild)")
    pytest.skip("esbuild not installed: npm install --prefix tests/.node esbuild@0.28.2")


@dataclass
class Project:
    root: Path
    secret: str  # written in src/api/client.ts
    public_value: str  # inlined for process.env.NEXT_PUBLIC_IMX_API_KEY
    vite_value: str  # inlined for import.meta.env.VITE_IMX_SECRET

    def where(self, rel: str, needle: str) -> tuple[int, int]:
        """1-based line and column of ``needle`` in a source file."""
        for n, line in enumerate((self.root / rel).read_text().splitlines(), 1):
            if needle in line:
                return n, line.index(needle) + 1
        raise AssertionError(f"{needle} not in {rel}")

    def build(self, *args: str, out: str = "dist/app.js") -> Path:
        cmd = [
            str(esbuild()), "src/index.ts", "--bundle", "--format=esm", f"--outfile={out}",
            f'--define:process.env.{PUBLIC_VAR}="{self.public_value}"',
            f'--define:import.meta.env.{VITE_VAR}="{self.vite_value}"',
            "--log-level=error", *args,
        ]
        subprocess.run(cmd, cwd=self.root, check=True, capture_output=True, timeout=60)
        return self.root / out


def make_project(path: Path, seed: int = 1) -> Project:
    shutil.copytree(FIXTURE, path)
    secret = fake_immutable_secret(seed=seed)
    client = path / "src" / "api" / "client.ts"
    client.write_text(client.read_text().replace("__SECRET_KEY__", secret))
    return Project(path, secret, fake_immutable_secret("test", seed=seed + 1), fake_immutable_secret(seed=seed + 2))


@pytest.fixture
def project(tmp_path) -> Project:
    return make_project(tmp_path / "app")


def scan_json(*args: str, cwd: Path) -> tuple[int, dict, str]:
    res = run_keyscan("scan", *args, "--format", "json", "--no-redact", cwd=cwd)
    assert "Traceback" not in res.err, res.err
    assert res.code in (0, 1), res.err
    return res.code, json.loads(res.out), res.err


def by_secret(report: dict, secret: str, path: str | None = None) -> list[dict]:
    return [f for f in report["findings"] if f["secret"] == secret and (path is None or f["path"] == path)]


def test_external_map_minified_maps_key_to_original_line(project):
    bundle = project.build("--minify", "--sourcemap")
    code, report, _ = scan_json("dist", cwd=project.root)
    assert code == 1
    text = bundle.read_text()
    assert "\n" not in text.split("//# sourceMappingURL")[0].strip(), "esbuild should emit one line"

    [hit] = by_secret(report, project.secret, "dist/app.js")
    assert (hit["line"], hit["column"]) == (1, text.index(project.secret) + 1)
    line, col = project.where("src/api/client.ts", project.secret)
    assert hit["original"] == {"path": "src/api/client.ts", "line": line, "column": col}
    assert hit["severity"] == "critical" and hit["exposure"] == "bundle"
    assert "env_var" not in hit

    # The map's sourcesContent is scanned as the original file.
    [src] = by_secret(report, project.secret, "src/api/client.ts")
    assert (src["line"], src["column"]) == (line, col)
    assert src["exposure"] == "sourcemap" and src["source"]["map"] == "dist/app.js.map"
    assert report["errors"] == []


def test_inlined_env_vars_are_named(project):
    bundle = project.build("--minify", "--sourcemap")
    _, report, _ = scan_json("dist", cwd=project.root)
    text = bundle.read_text()

    [pub] = by_secret(report, project.public_value)
    line, col = project.where("src/config.ts", f"process.env.{PUBLIC_VAR}")
    assert pub["original"] == {"path": "src/config.ts", "line": line, "column": col, "env_var": PUBLIC_VAR}
    assert pub["env_var"] == PUBLIC_VAR
    assert pub["column"] == text.index(project.public_value) + 1
    assert pub["severity"] == "high"  # a test key, shipped
    assert any(f"Remove {PUBLIC_VAR} from the public build environment" in n for n in pub["rotation"]["notes"])

    [vite] = by_secret(report, project.vite_value)
    line, col = project.where("src/vite-config.ts", f"import.meta.env.{VITE_VAR}")
    assert vite["original"] == {"path": "src/vite-config.ts", "line": line, "column": col, "env_var": VITE_VAR}
    assert vite["severity"] == "critical"
    # The variables' values are not in any source file.
    assert by_secret(report, project.vite_value, "src/vite-config.ts") == []


def test_inline_map_sources_are_scanned_and_not_decoded_twice(project):
    bundle = project.build("--minify", "--sourcemap=inline")
    assert "sourceMappingURL=data:application/json;base64," in bundle.read_text()
    code, report, _ = scan_json("dist/app.js", cwd=project.root)
    assert code == 1
    [hit] = by_secret(report, project.secret, "dist/app.js")
    line, col = project.where("src/api/client.ts", project.secret)
    assert hit["original"] == {"path": "src/api/client.ts", "line": line, "column": col}
    [src] = by_secret(report, project.secret, "src/api/client.ts")
    assert src["source"]["map"] == "dist/app.js (inline map)" and src["source"]["bundle"] == "dist/app.js"
    # The inline map's base64 is read by the bundle reader, not again by the decoders.
    assert not [f for f in report["findings"] if "base64" in f["source"].get("decoded", [])]


def test_unminified_bundle_maps_every_line(project):
    bundle = project.build("--sourcemap")
    _, report, _ = scan_json("dist", cwd=project.root)
    lines = bundle.read_text().splitlines()
    [hit] = by_secret(report, project.secret, "dist/app.js")
    n = next(i for i, l in enumerate(lines, 1) if project.secret in l)
    assert (hit["line"], hit["column"]) == (n, lines[n - 1].index(project.secret) + 1)
    line, col = project.where("src/api/client.ts", project.secret)
    assert hit["original"]["line"] == line and hit["original"]["column"] == col
    [pub] = by_secret(report, project.public_value, "dist/app.js")
    assert pub["original"]["env_var"] == PUBLIC_VAR


def test_huge_one_line_bundle_over_several_windows(project):
    """A key past 8 MiB on one minified line, after astral characters (UTF-16
    columns in the map differ from code points): exact columns both ways."""
    filler = "abcdefghij klmnopqrs " * 440_000  # 8.8 MiB
    (project.root / "src" / "filler.ts").write_text(f'export const filler = "\U0001F600{filler}";\n')
    index = project.root / "src" / "index.ts"
    index.write_text('import { filler } from "./filler";\n' + index.read_text().replace("return client", "return filler + client"))
    bundle = project.build("--minify", "--sourcemap", "--charset=utf8")
    text = bundle.read_text(encoding="utf-8")
    assert text.index(project.secret) > 8 * 1024 * 1024
    _, report, _ = scan_json("dist/app.js", cwd=project.root)
    [hit] = by_secret(report, project.secret, "dist/app.js")
    assert (hit["line"], hit["column"]) == (1, text.index(project.secret) + 1)
    line, col = project.where("src/api/client.ts", project.secret)
    assert hit["original"] == {"path": "src/api/client.ts", "line": line, "column": col}


def test_plain_js_source_is_not_a_bundle(tmp_path):
    secret = fake_immutable_secret(seed=9)
    (tmp_path / "server").mkdir()
    (tmp_path / "server" / "index.js").write_text(f'const key = "{secret}";\nmodule.exports = {{ key }};\n')
    _, report, _ = scan_json("server", cwd=tmp_path)
    [hit] = report["findings"]
    assert hit["exposure"] == "source" and hit["severity"] == "high" and "original" not in hit


# --- bad maps: the bundle is still scanned, the problem is in errors ---------


def _rewrite_map(project: Project, change) -> None:
    path = project.root / "dist" / "app.js.map"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda p: (p.root / "dist/app.js.map").write_text("{not json"), "invalid JSON"),
        (lambda p: _rewrite_map(p, lambda d: d.update(mappings="C!D;AAAA")), "bad VLQ"),
        (lambda p: _rewrite_map(p, lambda d: d.update(mappings="AAAA,CAAC;" * 2, sources=[], sourcesContent=[])), "out of range"),
        (lambda p: (p.root / "dist/app.js.map").unlink(), "not found"),
        (lambda p: _rewrite_map(p, lambda d: d.update(version=7)), "version"),
        (lambda p: _rewrite_map(p, lambda d: d.update(sources="src/x.ts")), "'sources' is not a list"),
        (lambda p: (p.root / "dist/app.js.map").write_bytes(b"\xff\xfe{]"), "sourcemap"),
    ],
    ids=["invalid-json", "bad-vlq", "out-of-range", "missing-map", "bad-version", "bad-sources", "not-utf8"],
)
def test_malformed_map_keeps_bundle_finding(project, breakage, message):
    project.build("--minify", "--sourcemap")
    breakage(project)
    code, report, _ = scan_json("dist", cwd=project.root)
    assert code == 1
    [hit] = by_secret(report, project.secret, "dist/app.js")
    assert hit["severity"] == "critical" and "original" not in hit
    errors = [e for e in report["errors"] if e["kind"] == "sourcemap"]
    assert errors and any(message in e["message"] or message == e["kind"] for e in errors), report["errors"]


@pytest.mark.parametrize("url", ["../../outside/app.js.map", "/etc/hostname", "https://cdn.example.com/app.js.map", "file:///etc/hostname"])
def test_map_outside_bundle_folder_is_not_followed(project, url):
    bundle = project.build("--minify", "--sourcemap")
    outside = project.root.parent / "outside"
    outside.mkdir(exist_ok=True)
    shutil.copy(project.root / "dist" / "app.js.map", outside / "app.js.map")
    bundle.write_text(bundle.read_text().replace("sourceMappingURL=app.js.map", f"sourceMappingURL={url}"))
    _, report, _ = scan_json("dist/app.js", cwd=project.root)
    [hit] = by_secret(report, project.secret, "dist/app.js")
    assert "original" not in hit
    assert any("not followed" in e["message"] for e in report["errors"]), report["errors"]


def test_bad_inline_map_is_an_error_not_a_crash(project):
    bundle = project.build("--minify", "--sourcemap=inline")
    text = bundle.read_text()
    broken = base64.b64encode(b'{"version":3,"sources":["a.ts"],"mappings":"%%;AAAA"}').decode()
    bundle.write_text(re.sub(r"base64,[A-Za-z0-9+/=]+", "base64," + broken, text))
    code, report, _ = scan_json("dist/app.js", cwd=project.root)
    assert code == 1
    [hit] = by_secret(report, project.secret, "dist/app.js")
    assert "original" not in hit
    assert any("bad VLQ" in e["message"] for e in report["errors"]), report["errors"]


def test_oversized_map_is_scanned_as_text(project, monkeypatch, workdir):
    """A map past the parse cap (huge sourcesContent) is scanned as text,
    windows and all, and noted; the bundle is still scanned."""
    from keyscan.engine import Engine
    from keyscan.rulefile import load_ruleset
    from keyscan.scan import scan_paths
    from keyscan.sources import bundles, sourcemap

    project.build("--minify", "--sourcemap")
    _rewrite_map(project, lambda d: d["sourcesContent"].append("// padding\n" * 200_000))
    monkeypatch.setattr(sourcemap, "MAX_MAP_BYTES", 1024 * 1024)
    monkeypatch.setattr(bundles, "MAX_MAP_BYTES", 1024 * 1024)
    report = scan_paths([str(project.root / "dist")], Engine(load_ruleset()))
    paths = sorted(f.path for f in report.findings if f.secret == project.secret)
    assert paths == ["app/dist/app.js", "app/dist/app.js.map"]
    assert any("larger than 1 MiB" in e.message for e in report.errors)


# --- fast paths against the straightforward ones ---------------------------


comment_parts = st.lists(
    st.sampled_from([
        b"//# sourceMappingURL=", b"//@ sourceMappingURL=", b"/*# sourceMappingURL=", b"sourceMappingURL=",
        b"// #sourceMappingURL=", b"//#\tsourceMappingURL=", b"app.js.map", b"x", b"*/", b" ", b"\n", b"\r\n",
        b"'", b"data:application/json;base64,eyJ9", b"//", b"#",
    ]),
    max_size=30,
)


@settings(max_examples=400, deadline=None)
@given(comment_parts)
def test_last_comment_is_the_last_match_of_the_pattern(parts):
    piece = b"".join(parts)
    want = None
    for want in bundles._COMMENT.finditer(piece):
        pass
    got = bundles._last_comment(piece)
    assert (got.span(), got.group(1)) == (want.span(), want.group(1)) if want else got is None


@settings(max_examples=300, deadline=None)
@given(comment_parts, st.integers(0, 3))
def test_find_map_comment_reads_the_last_comment(parts, tail_kb):
    data = b"x" * (tail_kb * 30_000) + b"".join(parts)
    want = None
    for want in bundles._COMMENT.finditer(data):
        pass
    got = bundles.find_map_comment(io.BytesIO(data), len(data))
    if want is None:
        assert got is None
    else:
        assert got is not None and got[1] == want.start(1)


class _Where:
    """A stand-in map that records the generated place it is asked about."""

    def original(self, line0, col16, generated_text):
        return {"line": line0, "column": col16}


@settings(max_examples=300, deadline=None)
@given(
    st.text(alphabet="ab\n\u00e9\U0001f600", max_size=60),
    st.lists(st.integers(0, 60), max_size=8),
    st.integers(1, 3),
    st.integers(0, 5),
    st.integers(0, 2),
)
def test_original_of_positions_match_a_line_index(text, offsets, line, column, carry16):
    """Offsets asked in any order get the generated line and UTF-16 column
    that a full line index of the fragment gives."""
    frag = Fragment(text.encode("utf-8", "surrogatepass"), "dist/app.js", "bundle", line=line, column=column)
    bundles.attach_original(frag, _Where(), carry16)
    index = LineIndex(frag.text)
    for offset in offsets:
        offset = min(offset, len(frag.text))
        line0, col0 = index.position(offset)
        start = offset - col0
        col16 = col0 + sum(1 for ch in frag.text[start:offset] if ord(ch) > 0xFFFF)
        want = {"line": line - 1 + line0, "column": (column + carry16 if line0 == 0 else 0) + col16}
        assert frag.meta["original_of"](offset) == want
