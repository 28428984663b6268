"""No report format ever contains a full secret unless --no-redact."""
import string

from hypothesis import given, settings, strategies as st

from keyscan.engine import Engine
from keyscan.models import Fragment, Report
from keyscan.reporters import FORMATS, RenderOptions, renderer
from keyscan.rulefile import load_ruleset
from keyscan.scan import finish, scan_fragment

ENGINE = Engine(load_ruleset())
BODY = st.text(alphabet=string.ascii_letters + string.digits + "_$@-", min_size=20, max_size=20)
HEX = st.text(alphabet="0123456789abcdef", min_size=6, max_size=6)


def report_for(text: str, path: str) -> Report:
    report = Report()
    findings, suppressed, errors = scan_fragment(ENGINE, Fragment.from_text(text, path))
    report.findings, report.suppressed, report.errors = findings, suppressed, errors
    return finish(report, [])


@settings(max_examples=150, deadline=None)
@given(body=BODY, suffix=HEX, env=st.sampled_from(["", "test-", "sandbox-"]), kind=st.sampled_from(["sk", "pk"]),
       path=st.sampled_from([".env", "dist/a.js", "src/x.ts", ".env.local"]), var=st.sampled_from(["IMX_KEY", "NEXT_PUBLIC_K"]))
def test_no_format_contains_the_full_secret(body, suffix, env, kind, path, var):
    secret = f"sk_imapik-{env}{body}_{suffix}" if kind == "sk" else f"pk_imapik-{env}{body}"
    report = report_for(f"{var}={secret}\n# again: {secret}\n", path)
    entries = [f.secret for f in report.findings] + [s.finding.secret for s in report.suppressed]
    for fmt in FORMATS:
        out = renderer(fmt)(report, RenderOptions(redact=True, show_suppressed=True, verbose=True))
        for s in entries:
            assert s not in out, fmt
    if report.findings:
        for fmt in ("text", "json"):
            full = renderer(fmt)(report, RenderOptions(redact=False, show_suppressed=True))
            assert report.findings[0].secret in full, fmt
