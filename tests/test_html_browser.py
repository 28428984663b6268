"""The HTML audit report in a real browser: headless Chromium (Debian's
``chromium``) driven over the DevTools protocol on a pipe, no extra Python
packages. The page must show the findings and the rotation guidance, filter
and sort the table, log nothing to the console, load nothing from the
network, and run no script that came from a scanned repository.

In CI (CI=true) a missing Chromium is a failure, not a skip: ``.ci/run``
installs it.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from helpers import fake_immutable_publishable, fake_immutable_secret, make_repo, run_keyscan

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    """A headless Chromium on ``--remote-debugging-pipe``: requests and
    events are NUL-terminated JSON on file descriptors 3 (to the browser) and
    4 (from it)."""

    def __init__(self, binary: str, timeout: float = 30.0) -> None:
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="keyscan-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire() -> None:  # in the child: put the pipe ends on fds 3 and 4
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [
                binary,
                "--headless",
                "--no-sandbox",  # CI runs as root
                "--disable-gpu",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-extensions",
                "--disable-background-networking",
                "--remote-debugging-pipe",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            pass_fds=(3, 4),
            preexec_fn=wire,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", session=True)

    def _recv(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buf += chunk
        msg, _, self._buf = self._buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method: str, params: dict | None = None, session: bool = False) -> dict:
        self._next_id += 1
        msg: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = self.session
        os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._recv(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, event: str) -> dict:
        deadline = time.monotonic() + self.timeout
        for i, e in enumerate(self.events):
            if e["method"] == event:
                return self.events.pop(i)
        while True:
            msg = self._recv(deadline)
            if "method" in msg:
                if msg["method"] == event:
                    return msg
                self.events.append(msg)

    def open(self, path: Path, width: int = 1280, height: int = 900) -> None:
        self.call("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session=True)
        self.events.clear()
        self.call("Page.navigate", {"url": path.resolve().as_uri()}, session=True)
        self.wait_for("Page.loadEventFired")

    def js(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, session=True)
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, CSP violations
        and network requests other than the page itself."""
        self.js("0")  # flush pending events
        out = []
        for e in self.events:
            method, p = e["method"], e.get("params", {})
            if method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: {[a.get('value', a.get('description')) for a in p.get('args', [])]}")
            elif method == "Runtime.exceptionThrown":
                out.append(f"exception: {p['exceptionDetails'].get('exception', {}).get('description') or p['exceptionDetails'].get('text')}")
            elif method == "Log.entryAdded" and p["entry"]["level"] in ("error", "warning"):
                out.append(f"log {p['entry']['level']}: {p['entry'].get('text')}")
            elif method == "Network.requestWillBeSent" and not p["request"]["url"].startswith("file:"):
                out.append(f"network request: {p['request']['url']}")
        return out

    def screenshot(self, path: Path) -> None:
        height = int(self.js("document.documentElement.scrollHeight"))
        self.call("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": min(height, 6000), "deviceScaleFactor": 1, "mobile": False}, session=True)
        data = self.call("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        shutil.rmtree(self.profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser():
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("chromium is not installed: .ci/run must install Debian's chromium package for the HTML report test")
        pytest.skip("chromium is not installed (apt-get install chromium); CI installs it and fails without it")
    b = Browser(binary)
    try:
        yield b
    finally:
        b.close()


# Markup that would set window.__ks_pwned if it ever ran as HTML.
HOSTILE_NAMES = [
    "<img src=x onerror=window.__ks_pwned=1>.env",
    "<svg onload=window.__ks_pwned=2>.env",
    "\"'><iframe srcdoc=x onload=window.__ks_pwned=3>.env",
    "\x1b[31mred\x1b[0m\x07\x01.env",
]


@pytest.fixture(scope="module")
def audit_repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("html")
    repo = make_repo(root / "repo")
    files = {
        ".env": f"IMX_SECRET_KEY={fake_immutable_secret(seed=71)}\n",
        ".env.production": f"NEXT_PUBLIC_IMX_KEY={fake_immutable_secret('test', seed=72)}\n",
        "dist/assets/index.js": f'var k="{fake_immutable_secret(seed=71)}";\n',
        "src/client.ts": f"export const pk = '{fake_immutable_publishable(seed=73)}';\n",
    }
    for i, name in enumerate(HOSTILE_NAMES):
        files[name] = f"KEY={fake_immutable_secret(seed=80 + i)}\n"
    repo.commit("add config", files)
    return repo.path


@pytest.fixture(scope="module")
def audit_page(audit_repo, tmp_path_factory) -> Path:
    """The HTML report of ``keyscan scan`` on the audit repository."""
    out = tmp_path_factory.mktemp("page") / "report.html"
    res = run_keyscan("scan", ".", "--format", "html", "--output", str(out), cwd=audit_repo)
    assert res.code == 1, res.err
    assert res.err == ""
    return out


def test_html_report_in_chromium(browser, audit_page, tmp_path):
    browser.open(audit_page)
    assert browser.problems() == []
    text = browser.js("document.body.textContent")
    # The findings and the guidance are on the page.
    assert "Immutable secret API key" in text
    assert "Settings -> API Keys -> Rotate Key" in text
    assert "Rotation checklist" in text and "What to do, in this order" in text
    assert "treat it as already stolen" in text  # the shipped-bundle note
    assert fake_immutable_secret(seed=71) not in browser.js("document.documentElement.outerHTML")  # redacted
    rows = browser.js("document.querySelectorAll('#findings-table tbody tr').length")
    assert rows == 4 + len(HOSTILE_NAMES)
    # The same key in .env and in the bundle is one checklist entry, critical first.
    first = browser.js("document.querySelector('#rotate article.key').textContent")
    assert "sev-critical" in browser.js("document.querySelector('#rotate article.key').className")
    assert "dist/assets/index.js" in first and ".env:1:" in first
    # Hostile file names are shown as text, and nothing from them ran.
    assert browser.js("window.__ks_pwned === undefined")
    assert browser.js("document.querySelectorAll('img, svg:not(.timeline svg), iframe').length") == 0
    assert "<img src=x onerror=window.__ks_pwned=1>.env" in text
    assert "\\x1b[31mred" in text and "\x1b" not in text


def test_html_filter_and_sort(browser, audit_page, tmp_path):
    browser.open(audit_page)
    visible = "Array.from(document.querySelectorAll('#findings-table tbody tr')).filter(r => !r.hidden)"
    total = browser.js(f"{visible}.length")
    # Filter by severity.
    browser.js("{ const s = document.querySelector('select[data-filter=severity]'); s.value = 'info'; s.dispatchEvent(new Event('change')) }")
    assert browser.js(f"{visible}.map(r => r.dataset.severity)") == ["info"]
    assert browser.js("document.getElementById('filter-count').textContent") == f"1 of {total} shown"
    browser.js("{ const s = document.querySelector('select[data-filter=severity]'); s.value = ''; s.dispatchEvent(new Event('change')) }")
    # Free-text filter.
    browser.js("{ const t = document.getElementById('filter-text'); t.value = 'index.js'; t.dispatchEvent(new Event('input')) }")
    assert browser.js(f"{visible}.length") == 1
    browser.js("{ const t = document.getElementById('filter-text'); t.value = 'no-such-thing'; t.dispatchEvent(new Event('input')) }")
    assert browser.js(f"{visible}.length") == 0
    assert browser.js("document.getElementById('filter-empty').hidden") is False
    browser.js("{ const t = document.getElementById('filter-text'); t.value = ''; t.dispatchEvent(new Event('input')) }")
    assert browser.js(f"{visible}.length") == total
    # Sort by location, both ways.
    browser.js("document.querySelector('th[data-sort=location] button').click()")
    paths = browser.js("Array.from(document.querySelectorAll('#findings-table tbody tr')).map(r => r.dataset.sortLocation)")
    assert paths == sorted(paths)
    browser.js("document.querySelector('th[data-sort=location] button').click()")
    paths = browser.js("Array.from(document.querySelectorAll('#findings-table tbody tr')).map(r => r.dataset.sortLocation)")
    assert paths == sorted(paths, reverse=True)
    # Severity sort: most severe first by default, least severe after a click.
    browser.js("document.querySelector('th[data-sort=severity] button').click()")
    ranks = browser.js("Array.from(document.querySelectorAll('#findings-table tbody tr')).map(r => Number(r.dataset.sortSeverity))")
    assert ranks == sorted(ranks)
    assert browser.problems() == []


def test_html_screenshot(browser, audit_page, tmp_path):
    """Renders a screenshot (kept when HTML_REPORT_SCREENSHOT names a file) and
    checks it is a real, non-trivial PNG."""
    browser.open(audit_page)
    shot = Path(os.environ.get("HTML_REPORT_SCREENSHOT") or tmp_path / "report.png")
    browser.screenshot(shot)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


def test_html_history_report_with_hostile_commits(browser, tmp_path):
    """The hand-built history report (test_reporters.sample_report): its
    commit subject closes a script element and opens another, its author
    and path carry markup and terminal escapes."""
    from keyscan.reporters import RenderOptions, renderer
    from test_reporters import SHA_A, SHA_B, sample_report

    page = tmp_path / "history.html"
    page.write_text(renderer("html")(sample_report(), RenderOptions()), encoding="utf-8")
    browser.open(page)
    assert browser.problems() == []
    assert browser.js("window.__ks_pwned === undefined")
    assert browser.js("document.scripts.length") == 1
    text = browser.js("document.body.textContent")
    assert "fix</script><script>window.__ks_pwned=1</script>" in text  # shown, as text
    # The timeline: a bar from introduction to removal, one running to HEAD.
    assert browser.js("document.querySelectorAll('#timeline svg rect.bar').length") == 2
    timeline = browser.js("document.getElementById('timeline').textContent")
    assert SHA_A[:8] in timeline and SHA_B[:8] in timeline and "still at HEAD" in timeline
    assert "add staging config" in timeline
    # Suppressed findings and the scan error are reported.
    assert "2 suppressed findings" in text and "dist/huge.min.js" in text
    # Every finding links to a checklist that exists.
    missing = browser.js(
        "Array.from(document.querySelectorAll('#findings-table a[href^=\"#\"]')).filter(a => !document.getElementById(a.getAttribute('href').slice(1))).length"
    )
    assert missing == 0
