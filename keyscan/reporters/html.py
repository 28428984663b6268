"""HTML audit report: one self-contained page for a security lead.

Sections: the verdict and what to rotate first; summary by severity,
provider, source and exposure; a rotation checklist per distinct key (what
to rotate, where it was found, the steps in order); for history scans a
timeline of when each key was introduced and removed; a table of every
finding that can be filtered and sorted; suppressed findings, scan errors
and statistics.

The page is rendered here, in Python, so it reads fine with scripts off; the
one inline script only filters and sorts the table. Nothing is loaded from
the network. A Content Security Policy allows exactly the inline style and
script blocks below (by hash), so even a mistake in escaping could not run
a script. Every untrusted string is cleaned, then HTML-escaped.
"""
from __future__ import annotations

import base64
import hashlib
import html
from datetime import datetime, timezone
from typing import Any, Iterable

from .. import __version__
from ..models import SEVERITIES, SEVERITY_RANK, Finding, Report, gate_failures
from . import RenderOptions
from .common import severity_counts, shown_secret
from .guidance import (
    clean,
    exposure_label,
    http_url,
    rotation,
    severity_rank,
    sorted_findings,
    sorted_suppressed,
    source_kind,
    source_label,
)
from .html_assets import CSS, JS

MAX_PLACES = 25  # places listed in one key's checklist entry (the table lists all)
MAX_TIMELINE_BARS = 300  # rows drawn in the timeline chart (the timeline table lists all)

_REASONS = {
    "inline": "inline allow comment",
    "baseline": "in the baseline",
    "config": "allowed in the config",
    "placeholder": "placeholder, not a real key",
}


def esc(value: object) -> str:
    """Untrusted text for HTML element content or a double-quoted attribute."""
    return html.escape(clean(value), quote=True)


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


CSP = "; ".join(
    [
        "default-src 'none'",
        f"style-src {_csp_hash(CSS)}",
        f"script-src {_csp_hash(JS)}",
        "img-src data:",
        "base-uri 'none'",
        "form-action 'none'",
    ]
)


def _badge(sev: str) -> str:
    return f'<span class="badge sev-{sev}">{sev}</span>'


def _link(url: str | None, text: str | None = None) -> str:
    url = http_url(url)
    if not url:
        return ""
    return f'<a href="{html.escape(url, quote=True)}" rel="noopener noreferrer">{esc(text or url)}</a>'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ---------------------------------------------------------------- key groups


class KeyGroup:
    """All findings of one secret (same rule and secret: same fingerprint)."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = sorted_findings(findings)
        self.worst = max(self.findings, key=severity_rank)
        self.anchor = ""

    @property
    def severity(self) -> str:
        return self.worst.severity

    @property
    def actionable(self) -> bool:
        return self.worst.key_class != "publishable" and self.severity != "info"

    def sort_key(self) -> tuple:
        f = self.worst
        return (-severity_rank(f), f.provider, f.name, f.path, f.line, f.fingerprint)

    def notes(self) -> list[str]:
        out: list[str] = []
        for f in [self.worst] + self.findings:
            for note in rotation(f)[1]:
                if note not in out:
                    out.append(note)
        return out


def key_groups(findings: Iterable[Finding]) -> list[KeyGroup]:
    by_fp: dict[str, list[Finding]] = {}
    for f in findings:
        by_fp.setdefault(f.fingerprint, []).append(f)
    groups = sorted((KeyGroup(g) for g in by_fp.values()), key=KeyGroup.sort_key)
    for i, g in enumerate(groups, 1):
        g.anchor = f"key-{i}"
    return groups


# ---------------------------------------------------------------- sections


def _found_in(f: Finding) -> str:
    """Where a finding was read, plus its exposure when that says more
    (a shipped bundle, a public build variable)."""
    label = source_label(f)
    if f.exposure not in ("source", "history"):
        label += f", {exposure_label(f)}"
    return label


def _place(f: Finding) -> str:
    out = f'<code>{esc(f.path)}:{f.line}:{f.column}</code> <span class="sub">{esc(_found_in(f))}</span>'
    if f.original and f.original.get("path"):
        out += f'<br><span class="sub">original source</span> <code>{esc(f.original["path"])}:{esc(f.original.get("line", "?"))}</code>'
    if f.env_var:
        out += f'<br><span class="sub">through the variable</span> <code>{esc(f.env_var)}</code>'
    if f.commit and f.commit.get("sha"):
        c = f.commit
        out += (
            f'<br><span class="sub">introduced in</span> <code>{esc(str(c["sha"])[:12])}</code> '
            f'<span class="sub">{esc(_day(c.get("date")))} by {esc(c.get("author", "?"))}: “{esc(c.get("subject", ""))}”</span>'
        )
    life = f.lifecycle or {}
    if life:
        if life.get("present_at_head"):
            out += '<br><span class="sub">still present at HEAD</span>'
        elif life.get("removed"):
            sha, date = _commit_ref(life.get("removed"), life.get("removed_date"))
            out += f'<br><span class="sub">removed in</span> <code>{esc(sha[:12])}</code> <span class="sub">{esc(_day(date))}</span>'
        if life.get("pushed") is False:
            out += '<br><span class="sub">only on local branches (not pushed)</span>'
    return out


def _key_card(g: KeyGroup, options: RenderOptions) -> str:
    f = g.worst
    steps, _, url = rotation(f)
    notes = g.notes()
    places = "".join(f"<li>{_place(x)}</li>" for x in g.findings[:MAX_PLACES])
    if len(g.findings) > MAX_PLACES:
        places += f'<li class="sub">… and {len(g.findings) - MAX_PLACES} more places: filter the table below by this key.</li>'
    step_items = "".join(f'<li><label><input type="checkbox"><span>{html.escape(s)}</span></label></li>' for s in steps)
    if not step_items:
        step_items = "<li><label><input type=\"checkbox\"><span>Revoke or rotate the key with its provider.</span></label></li>"
    out = [
        f'<article class="key sev-{g.severity}" id="{g.anchor}">',
        "<header>",
        _badge(g.severity),
        f"<h3>{esc(f.name)}</h3>",
        f'<code class="secret">{esc(shown_secret(f, options.redact))}</code>',
        f'<span class="facts">{esc(f.provider)} · {esc(f.environment)} · {esc(f.key_class)} key · {_plural(len(g.findings), "place")}</span>',
        "</header>",
        '<div class="cols">',
        f'<div><h4>Where it was found</h4><ul class="places">{places}</ul></div>',
        f'<div><h4>What to do, in this order</h4><ol class="steps">{step_items}</ol>',
    ]
    if notes:
        out.append('<ul class="notes">' + "".join(f"<li>{html.escape(n)}</li>" for n in notes) + "</ul>")
    if url:
        out.append(f'<p class="rotate-at">Rotate at: {_link(url)}</p>')
    out.append("</div></div></article>")
    return "\n".join(out)


def _verdict(report: Report, groups: list[KeyGroup], options: RenderOptions) -> str:
    failing = gate_failures(report.findings, options.fail_on)
    to_rotate = [g for g in groups if g.actionable]
    n = len(report.findings)
    if to_rotate:
        head = f"{_plural(len(to_rotate), 'key')} to rotate"
    elif n:
        head = "No secret keys found"
    else:
        head = "No leaked keys found"
    cls = "fail" if failing else "pass"
    lines = [f'<section class="verdict {cls}" id="verdict">', f"<h1>{head}</h1>"]
    text = f"{_plural(n, 'finding')}, {len(failing)} at or above <code>--fail-on {esc(options.fail_on)}</code>"
    if report.suppressed:
        text += f"; {len(report.suppressed)} suppressed"
    if report.errors:
        text += f'; <a href="#errors">{_plural(len(report.errors), "scan error")}</a>: keyscan did not read everything'
    lines.append(f'<p class="lead">{text}.</p>')
    if to_rotate:
        lines.append("<p>Start with these, most urgent first:</p><ol>")
        for g in to_rotate[:5]:
            f = g.worst
            where = f"{esc(f.path)}:{f.line}" + (f" and {_plural(len(g.findings) - 1, 'other place')}" if len(g.findings) > 1 else "")
            lines.append(f'<li>{_badge(g.severity)} <a href="#{g.anchor}">{esc(f.name)}</a> <code>{esc(shown_secret(f, options.redact))}</code> <span class="sub">{esc(exposure_label(f))}: {where}</span></li>')
        lines.append("</ol>")
        if len(to_rotate) > 5:
            lines.append(f'<p class="sub">… and {len(to_rotate) - 5} more in the <a href="#rotate">rotation checklist</a>.</p>')
    lines.append("</section>")
    return "\n".join(lines)


def _count_table(title: str, label: str, rows: list[tuple[str, list[Finding]]]) -> str:
    body = "".join(
        f"<tr><td>{esc(name)}</td><td class=\"num\">{len(fs)}</td><td>{_badge(max(fs, key=severity_rank).severity)}</td></tr>" for name, fs in rows
    )
    if not body:
        body = '<tr><td colspan="3" class="empty">none</td></tr>'
    return f'<div class="panel"><h3>{title}</h3><table><thead><tr><th>{label}</th><th class="num">Findings</th><th>Worst</th></tr></thead><tbody>{body}</tbody></table></div>'


def _grouped(findings: list[Finding], key) -> list[tuple[str, list[Finding]]]:
    out: dict[str, list[Finding]] = {}
    for f in findings:
        out.setdefault(key(f), []).append(f)
    return sorted(out.items(), key=lambda kv: (-max(severity_rank(f) for f in kv[1]), -len(kv[1]), kv[0]))


def _summary(report: Report) -> str:
    counts = severity_counts(report.findings)
    tiles = "".join(
        f'<div class="tile sev-{sev}{" zero" if not n else ""}"><div class="n">{n}</div><div class="l">{sev}</div></div>' for sev, n in counts.items()
    )
    fs = report.findings
    return "\n".join(
        [
            '<section id="summary"><h2>Summary</h2>',
            f'<div class="tiles">{tiles}</div>',
            '<div class="breakdown">',
            _count_table("By provider", "Provider", _grouped(fs, lambda f: clean(f.provider))),
            _count_table("By source", "Found in", _grouped(fs, source_label)),
            _count_table("By exposure", "Exposure", _grouped(fs, exposure_label)),
            "</div></section>",
        ]
    )


def _rotate_section(groups: list[KeyGroup], options: RenderOptions) -> str:
    if not groups:
        return ""
    act = [g for g in groups if g.actionable]
    info = [g for g in groups if not g.actionable]
    out = ['<section id="rotate"><h2>Rotation checklist</h2>']
    if act:
        out.append(
            '<p class="lead">One entry per distinct key, most urgent first. A key found in several places is rotated once; '
            "then remove it from every place listed. Tick steps as you go (ticks are not saved).</p>"
        )
        out += [_key_card(g, options) for g in act]
    if info:
        out.append(f'<details class="info-keys"><summary>{_plural(len(info), "publishable key")}: information, nothing to rotate</summary>')
        out += [_key_card(g, options) for g in info]
        out.append("</details>")
    out.append("</section>")
    return "\n".join(out)


# ---------------------------------------------------------------- timeline


def _parse_date(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if d.tzinfo is None:
        d = d.replace(tzinfo=timezone.utc)
    return d.astimezone(timezone.utc)


def _day(value: object) -> str:
    d = _parse_date(value)
    return d.strftime("%Y-%m-%d") if d else (clean(value) if value else "")


def _commit_ref(value: object, date: object = None) -> tuple[str, object]:
    """(sha, date) of a lifecycle commit given as a sha or a commit dict."""
    if isinstance(value, dict):
        return clean(value.get("sha") or ""), value.get("date") or date
    return clean(value or ""), date


def _truncate(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _timeline_rows(findings: list[Finding]) -> list[tuple]:
    rows = []
    for f in findings:
        if not (f.commit or f.lifecycle):
            continue
        life = f.lifecycle or {}
        commit = f.commit or {}
        intro_sha, intro_date = _commit_ref(life.get("introduced") or commit.get("sha"), commit.get("date"))
        if isinstance(life.get("introduced"), str) and commit.get("sha") and life["introduced"] != commit["sha"]:
            intro_date = life.get("introduced_date")
        removed_sha, removed_date = _commit_ref(life.get("removed"), life.get("removed_date"))
        rows.append((f, intro_sha, _parse_date(intro_date), removed_sha, _parse_date(removed_date), bool(life.get("present_at_head"))))
    rows.sort(key=lambda r: (r[2] or datetime.max.replace(tzinfo=timezone.utc), r[0].sort_key()))
    return rows


def _timeline_svg(rows: list[tuple], options: RenderOptions) -> str:
    rows = rows[:MAX_TIMELINE_BARS]
    dates = [d for r in rows for d in (r[2], r[4]) if d]
    if not dates:
        return ""
    lo, hi = min(dates), max(dates)
    span = (hi - lo).total_seconds() or 86400.0
    left, right, head, top, row_h = 340, 850, 930, 40, 28
    height = top + row_h * len(rows) + 10
    fmt = "%Y-%m-%d" if span >= 5 * 86400 else "%m-%d %H:%M"

    def x(d: datetime) -> float:
        return round(left + (right - left) * (d - lo).total_seconds() / span, 1)

    svg = [
        f'<svg viewBox="0 0 960 {height}" role="img" aria-label="Timeline: when each key was introduced and removed" xmlns="http://www.w3.org/2000/svg">',
        '<g class="axis">',
    ]
    for i in range(5):
        tx = left + (right - left) * i / 4
        d = datetime.fromtimestamp(lo.timestamp() + span * i / 4, tz=timezone.utc)
        svg.append(f'<line class="grid" x1="{tx:.1f}" y1="{top - 10}" x2="{tx:.1f}" y2="{height - 6}"></line>')
        svg.append(f'<text x="{tx:.1f}" y="22" text-anchor="middle">{d.strftime(fmt)}</text>')
    svg.append(f'<line class="grid" x1="{head}" y1="{top - 10}" x2="{head}" y2="{height - 6}"></line>')
    svg.append(f'<text x="{head}" y="22" text-anchor="end">HEAD</text>')
    svg.append("</g>")
    for i, (f, intro_sha, intro, removed_sha, removed, at_head) in enumerate(rows):
        y = top + row_h * i
        label = _truncate(f"{clean(shown_secret(f, options.redact))} {clean(f.path)}", 46)
        svg.append(f'<g><title>{esc(f.name)} in {esc(f.path)}</title><text x="8" y="{y + 15}">{html.escape(label)}</text>')
        if intro:
            x0 = x(intro)
            cls = f"bar sev-{f.severity}"
            if removed:
                svg.append(f'<rect class="{cls}" x="{x0}" y="{y + 4}" width="{max(round(x(removed) - x0, 1), 4)}" height="14" rx="3"></rect>')
            elif at_head:
                svg.append(f'<rect class="{cls}" x="{x0}" y="{y + 4}" width="{round(head - x0, 1)}" height="14" rx="3"></rect>')
            else:
                # Removed, but the history did not say when: a dot and a dashed tail.
                svg.append(f'<circle class="{cls}" cx="{x0}" cy="{y + 11}" r="6"></circle>')
                svg.append(f'<rect class="open" x="{x0}" y="{y + 4}" width="{max(round(right - x0, 1), 4)}" height="14" rx="3"></rect>')
        svg.append("</g>")
    svg.append("</svg>")
    return "\n".join(svg)


def _timeline(findings: list[Finding], options: RenderOptions) -> str:
    rows = _timeline_rows(findings)
    if not rows:
        return ""
    out = [
        '<section id="timeline" class="timeline"><h2>Timeline</h2>',
        '<p class="lead">When each key entered the history and when it left the code. A bar that reaches HEAD is still in the code; '
        "a dot with a dashed outline was removed later, by the commit named in the table. A removed key stays in the history, "
        "in clones and in forks, so it must be rotated all the same.</p>",
        _timeline_svg(rows, options),
    ]
    body = []
    for f, intro_sha, intro, removed_sha, removed, at_head in rows:
        c = f.commit or {}
        introduced = f'<code>{esc(intro_sha[:8])}</code> <span class="nowrap">{esc(intro.strftime("%Y-%m-%d %H:%M") if intro else "")}</span>'
        if c.get("author") or c.get("subject"):
            introduced += f'<br><span class="sub">{esc(c.get("author", ""))}: “{esc(c.get("subject", ""))}”</span>'
        if at_head:
            gone = "<strong>still at HEAD</strong>"
        elif removed_sha:
            gone = f'<code>{esc(removed_sha[:8])}</code> <span class="nowrap">{esc(removed.strftime("%Y-%m-%d %H:%M") if removed else "")}</span>'
        else:
            gone = '<span class="sub">unknown</span>'
        pushed = (f.lifecycle or {}).get("pushed")
        pushed_txt = "yes" if pushed else ("no, local only" if pushed is False else "unknown")
        body.append(
            f'<tr><td>{_badge(f.severity)}</td><td class="nowrap"><code>{esc(shown_secret(f, options.redact))}</code><br><span class="sub">{esc(f.provider)}</span></td>'
            f'<td class="path"><code>{esc(f.path)}</code></td><td>{introduced}</td><td>{gone}</td><td>{pushed_txt}</td></tr>'
        )
    out.append(
        "<table><thead><tr><th>Severity</th><th>Key</th><th>Path</th><th>Introduced</th><th>Removed</th><th>Pushed</th></tr></thead><tbody>"
        + "".join(body)
        + "</tbody></table></section>"
    )
    return "\n".join(p for p in out if p)


# ---------------------------------------------------------------- findings table


def _options(name: str, label: str, values: list[tuple[str, str]]) -> str:
    opts = "".join(f'<option value="{esc(v)}">{esc(t)}</option>' for v, t in values)
    return f'<select data-filter="{name}" aria-label="{label}"><option value="">{label}: all</option>{opts}</select>'


def _findings_table(findings: list[Finding], groups: list[KeyGroup], options: RenderOptions) -> str:
    anchor = {f.fingerprint: g.anchor for g in groups for f in g.findings}
    ordered = sorted(findings, key=lambda f: (-severity_rank(f), f.sort_key()))
    rows = []
    for i, f in enumerate(ordered):
        c = f.commit or {}
        commit = ""
        if c.get("sha"):
            commit = f'<code>{esc(str(c["sha"])[:8])}</code><br><span class="sub">{esc(_day(c.get("date")))}</span>'
        loc = f"<code>{esc(f.path)}:{f.line}:{f.column}</code>"
        sub = f'<br><span class="sub">{esc(exposure_label(f))}</span>' if f.exposure not in ("source", "history") else ""
        if f.original and f.original.get("path"):
            loc += f'<br><span class="sub">from</span> <code>{esc(f.original["path"])}:{esc(f.original.get("line", "?"))}</code>'
        attrs = {
            "data-severity": f.severity,
            "data-provider": clean(f.provider),
            "data-source": source_kind(f),
            "data-sort-order": str(i),
            "data-sort-severity": str(SEVERITY_RANK[f.severity]),
            "data-sort-key": f"{clean(f.provider)} {clean(f.name)}",
            "data-sort-location": f"{clean(f.path)} {f.line:09d}",
            "data-sort-source": source_label(f),
            "data-sort-commit": clean(c.get("date") or ""),
        }
        attr_text = " ".join(f'{k}="{esc(v)}"' for k, v in attrs.items())
        rows.append(
            f"<tr {attr_text}><td>{_badge(f.severity)}</td>"
            f"<td>{esc(f.name)}<br><code>{esc(shown_secret(f, options.redact))}</code> <span class=\"sub\">{esc(f.environment)}</span></td>"
            f"<td>{loc}</td><td>{esc(source_label(f))}{sub}</td>"
            f'<td class="nowrap">{commit}</td><td><a href="#{anchor[f.fingerprint]}">checklist</a></td></tr>'
        )
    sevs = [(s, s) for s in reversed(SEVERITIES) if any(f.severity == s for f in findings)]
    providers = sorted({clean(f.provider) for f in findings})
    sources = sorted({(source_kind(f), source_label(f)) for f in findings}, key=lambda kv: kv[1])
    filters = (
        '<div class="filters">'
        '<input type="search" id="filter-text" placeholder="Filter by path, key, commit…" aria-label="Filter findings">'
        + _options("severity", "Severity", sevs)
        + _options("provider", "Provider", [(p, p) for p in providers])
        + _options("source", "Source", [(clean(k), v) for k, v in sources])
        + f'<span class="count" id="filter-count">{len(findings)} of {len(findings)} shown</span></div>'
    )
    head = (
        '<thead><tr><th data-sort="severity" aria-sort="descending"><button type="button">Severity</button></th>'
        '<th data-sort="key"><button type="button">Key</button></th>'
        '<th data-sort="location"><button type="button">Location</button></th>'
        '<th data-sort="source"><button type="button">Found in</button></th>'
        '<th data-sort="commit"><button type="button">Commit</button></th>'
        "<th>Guidance</th></tr></thead>"
    )
    return "\n".join(
        [
            '<section id="findings"><h2>All findings</h2>',
            filters,
            f'<table id="findings-table">{head}<tbody>',
            "\n".join(rows),
            "</tbody></table>",
            '<p class="empty" id="filter-empty" hidden>No finding matches the filters.</p>',
            "</section>",
        ]
    )


# ---------------------------------------------------------------- the rest


def _suppressed(report: Report, options: RenderOptions) -> str:
    items = sorted_suppressed(report)
    if not items:
        return ""
    rows = "".join(
        f"<tr><td>{_badge(s.finding.severity)}</td><td>{esc(s.finding.name)}<br><code>{esc(shown_secret(s.finding, options.redact))}</code></td>"
        f"<td><code>{esc(s.finding.path)}:{s.finding.line}:{s.finding.column}</code></td>"
        f"<td>{esc(_REASONS.get(s.reason, s.reason))}</td><td>{esc(s.detail)}</td></tr>"
        for s in items
    )
    return (
        f'<section id="suppressed"><details class="more"><summary>{_plural(len(items), "suppressed finding")}</summary>'
        "<table><thead><tr><th>Severity</th><th>Key</th><th>Location</th><th>Why</th><th>Detail</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></details></section>"
    )


def _errors(report: Report) -> str:
    if not report.errors:
        return ""
    rows = "".join(f"<tr><td><code>{esc(e.path)}</code></td><td>{esc(e.kind)}</td><td>{esc(e.message)}</td></tr>" for e in sorted(report.errors))
    return (
        '<section id="errors"><h2>Scan errors</h2><p class="lead">keyscan could not read these completely; a key in them may have been missed.</p>'
        f"<table><thead><tr><th>Path</th><th>Kind</th><th>Message</th></tr></thead><tbody>{rows}</tbody></table></section>"
    )


def _stats(report: Report) -> str:
    st = report.stats
    parts = [f"{st.files_scanned} files", f"{st.bytes_scanned / 1e6:.1f} MB scanned"]
    skipped = sum(st.skipped.values())
    if skipped:
        parts.append(f"{skipped} skipped (" + ", ".join(f"{esc(k)}: {v}" for k, v in sorted(st.skipped.items())) + ")")
    return f'<p class="sub">{"; ".join(parts)}.</p>'


def render(report: Report, options: RenderOptions) -> str:
    findings = sorted_findings(report.findings)
    groups = key_groups(findings)
    title = f"keyscan audit report: {_plural(len(findings), 'finding')}"
    meta = [f"keyscan {esc(report.command)}", f"keyscan {__version__}", "secrets redacted" if options.redact else "FULL SECRETS SHOWN"]
    if options.started:
        meta.append(f"generated {esc(options.started)} UTC")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        f'<div class="topbar"><span class="brand">keyscan audit report</span><span class="meta">{" · ".join(meta)}</span></div>',
        "<main>",
    ]
    if not options.redact:
        parts.append('<div class="warning-banner">This report shows full secrets (--no-redact). Do not share or upload it.</div>')
    parts += [
        _verdict(report, groups, options),
        _summary(report),
        _rotate_section(groups, options),
        _timeline(findings, options),
        _findings_table(findings, groups, options) if findings else "",
        _suppressed(report, options),
        _errors(report),
        f"<footer>{_stats(report)}<p>Generated by keyscan {__version__}. Everything on this page comes from the scanned files and history, shown as text; nothing is loaded from the network.</p></footer>",
        "</main>",
        f"<script>{JS}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"
