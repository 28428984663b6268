"""The stylesheet and script inlined into the HTML report. Kept as constants
so the report is one file with no network access; the page's Content
Security Policy allows exactly these two blocks (by hash) and nothing else."""

CSS = """
:root {
  --fg: #1d2330; --muted: #5d6677; --line: #dde2ea; --bg: #f5f7fa; --card: #fff; --accent: #2f5bd3;
  --critical: #a4001d; --high: #d9431e; --medium: #b97800; --low: #2a6fb0; --info: #6b7380;
  --critical-bg: #fde8eb; --high-bg: #fdeee8; --medium-bg: #fdf4e0; --low-bg: #e6f0fa; --info-bg: #eef0f3;
}
* { box-sizing: border-box; }
html { font-size: 15px; }
body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
  color: var(--fg); background: var(--bg); line-height: 1.45; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.92em; }
a { color: var(--accent); }
.topbar { background: #1d2330; color: #fff; padding: 0.7rem 2rem; display: flex; gap: 1.5rem; align-items: baseline; flex-wrap: wrap; }
.topbar .brand { font-weight: 700; letter-spacing: 0.02em; }
.topbar .meta { color: #b8c0cf; font-size: 0.9rem; }
main { max-width: 1180px; margin: 0 auto; padding: 1.2rem 2rem 3rem; }
section { margin-top: 1.6rem; }
h1 { font-size: 1.7rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.25rem; margin: 0 0 0.7rem; padding-bottom: 0.3rem; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.05rem; margin: 0; }
h4 { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.06em; color: var(--muted); margin: 0.9rem 0 0.3rem; }
.lead { color: var(--muted); margin: 0.2rem 0 0.8rem; }
.verdict { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--info); border-radius: 8px; padding: 1rem 1.3rem; }
.verdict.fail { border-left-color: var(--critical); }
.verdict.pass { border-left-color: #2e8b57; }
.verdict ol { margin: 0.4rem 0 0; padding-left: 1.3rem; }
.warning-banner { background: var(--critical-bg); color: var(--critical); border: 1px solid var(--critical); border-radius: 6px;
  padding: 0.5rem 0.9rem; font-weight: 600; margin-bottom: 1rem; }
.tiles { display: grid; grid-template-columns: repeat(5, minmax(0, 1fr)); gap: 0.7rem; }
.tile { background: var(--card); border: 1px solid var(--line); border-top: 4px solid var(--info); border-radius: 8px; padding: 0.6rem 0.9rem; }
.tile .n { font-size: 1.9rem; font-weight: 700; line-height: 1.1; }
.tile .l { color: var(--muted); font-size: 0.85rem; text-transform: capitalize; }
.tile.zero { opacity: 0.45; }
.tile.sev-critical { border-top-color: var(--critical); } .tile.sev-critical .n { color: var(--critical); }
.tile.sev-high { border-top-color: var(--high); } .tile.sev-high .n { color: var(--high); }
.tile.sev-medium { border-top-color: var(--medium); } .tile.sev-medium .n { color: var(--medium); }
.tile.sev-low { border-top-color: var(--low); } .tile.sev-low .n { color: var(--low); }
.breakdown { display: grid; grid-template-columns: repeat(3, minmax(0, 1fr)); gap: 0.9rem; margin-top: 0.9rem; }
.panel { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 0.9rem; overflow-x: auto; }
.panel h3 { font-size: 0.85rem; text-transform: uppercase; letter-spacing: 0.05em; color: var(--muted); margin-bottom: 0.3rem; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 0.35rem 0.5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 0.8rem; text-transform: uppercase; letter-spacing: 0.04em; color: var(--muted); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.badge { display: inline-block; min-width: 4.6rem; text-align: center; border-radius: 999px; padding: 0.08rem 0.55rem;
  font-size: 0.78rem; font-weight: 700; text-transform: uppercase; letter-spacing: 0.03em; color: #fff; background: var(--info); }
.badge.sev-critical { background: var(--critical); } .badge.sev-high { background: var(--high); }
.badge.sev-medium { background: var(--medium); } .badge.sev-low { background: var(--low); }
.key { background: var(--card); border: 1px solid var(--line); border-left: 6px solid var(--info); border-radius: 8px; padding: 0.9rem 1.2rem; margin-bottom: 0.9rem; }
.key.sev-critical { border-left-color: var(--critical); } .key.sev-high { border-left-color: var(--high); }
.key.sev-medium { border-left-color: var(--medium); } .key.sev-low { border-left-color: var(--low); }
.key > header { display: flex; gap: 0.7rem; align-items: center; flex-wrap: wrap; }
.key .secret { background: var(--bg); border: 1px solid var(--line); border-radius: 4px; padding: 0.05rem 0.4rem; }
.key .facts { color: var(--muted); font-size: 0.9rem; }
.key .cols { display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 3fr); gap: 1.4rem; }
.key ul.places { margin: 0; padding-left: 1.1rem; }
.key ul.places li { margin: 0.15rem 0; overflow-wrap: anywhere; }
.key ol.steps { margin: 0; padding-left: 0; list-style: none; counter-reset: step; }
.key ol.steps li { counter-increment: step; margin: 0.3rem 0; }
.key ol.steps label { display: flex; gap: 0.5rem; align-items: baseline; cursor: pointer; }
.key ol.steps label::before { content: counter(step) "."; font-weight: 700; min-width: 1.3rem; color: var(--muted); }
.key ol.steps input:checked + span { text-decoration: line-through; color: var(--muted); }
.key .notes { margin: 0.6rem 0 0; padding: 0.5rem 0.8rem; background: var(--medium-bg); border-radius: 6px; list-style: none; }
.key .notes li { margin: 0.2rem 0; }
.key .notes li::before { content: "! "; font-weight: 700; color: var(--medium); }
.key .rotate-at { margin: 0.6rem 0 0; }
details.info-keys, details.more { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 0.6rem 1rem; margin-bottom: 0.9rem; }
details summary { cursor: pointer; font-weight: 600; }
.timeline svg { width: 100%; height: auto; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.timeline svg text { font-family: system-ui, "DejaVu Sans", sans-serif; font-size: 12px; fill: var(--fg); }
.timeline svg .axis text { fill: var(--muted); font-size: 11px; }
.timeline svg .grid { stroke: var(--line); }
.timeline svg .bar { fill: var(--info); } .timeline svg .bar.sev-critical { fill: var(--critical); }
.timeline svg .bar.sev-high { fill: var(--high); } .timeline svg .bar.sev-medium { fill: var(--medium); } .timeline svg .bar.sev-low { fill: var(--low); }
.timeline svg .open { stroke-dasharray: 4 3; stroke: var(--muted); fill: none; }
.timeline table { margin-top: 0.8rem; background: var(--card); }
.filters { display: none; gap: 0.6rem; align-items: center; flex-wrap: wrap; margin-bottom: 0.6rem; }
.js .filters { display: flex; }
.filters input, .filters select { font: inherit; padding: 0.3rem 0.5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--card); }
.filters input[type=search] { min-width: 18rem; flex: 1; }
.filters .count { color: var(--muted); font-size: 0.9rem; }
#findings-table { background: var(--card); border: 1px solid var(--line); }
#findings-table td { overflow-wrap: anywhere; }
#findings-table th button { all: unset; cursor: pointer; }
#findings-table th button::after { content: " \\2195"; color: #b0b7c3; }
#findings-table th[aria-sort=ascending] button::after { content: " \\2191"; color: var(--fg); }
#findings-table th[aria-sort=descending] button::after { content: " \\2193"; color: var(--fg); }
#findings-table tbody tr:hover { background: #f0f4fb; }
.sub { color: var(--muted); font-size: 0.85rem; }
.nowrap, th { white-space: nowrap; }
.timeline td.path { overflow-wrap: break-word; }
.empty { color: var(--muted); font-style: italic; padding: 0.6rem; }
footer { color: var(--muted); font-size: 0.85rem; margin-top: 2.5rem; border-top: 1px solid var(--line); padding-top: 0.8rem; }
@media (max-width: 860px) {
  main { padding: 1rem; } .tiles { grid-template-columns: repeat(2, minmax(0, 1fr)); }
  .breakdown, .key .cols { grid-template-columns: minmax(0, 1fr); }
}
@media print {
  body { background: #fff; } .filters { display: none !important; } .topbar { background: #fff; color: #000; }
  .key, .panel, .verdict { break-inside: avoid; }
}
"""

JS = """
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var table = document.getElementById("findings-table");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var rows = Array.prototype.slice.call(tbody.rows);
  var haystack = new Map(rows.map(function (row) { return [row, row.textContent.toLowerCase()]; }));
  var text = document.getElementById("filter-text");
  var selects = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var count = document.getElementById("filter-count");
  var empty = document.getElementById("filter-empty");

  function apply() {
    var needle = text.value.trim().toLowerCase();
    var shown = 0;
    rows.forEach(function (row) {
      var ok = selects.every(function (sel) {
        return !sel.value || row.getAttribute("data-" + sel.getAttribute("data-filter")) === sel.value;
      });
      if (ok && needle) { ok = haystack.get(row).indexOf(needle) !== -1; }
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + rows.length + " shown";
    empty.hidden = shown !== 0;
  }

  function value(row, key) {
    return row.getAttribute("data-sort-" + key) || "";
  }

  function compare(a, b, key) {
    var x = value(a, key), y = value(b, key);
    var nx = Number(x), ny = Number(y);
    if (x !== "" && y !== "" && !isNaN(nx) && !isNaN(ny)) { return nx - ny; }
    return x < y ? -1 : (x > y ? 1 : 0);
  }

  var headers = Array.prototype.slice.call(table.querySelectorAll("th[data-sort]"));
  headers.forEach(function (th) {
    th.querySelector("button").addEventListener("click", function () {
      var key = th.getAttribute("data-sort");
      var ascending = th.getAttribute("aria-sort") !== "ascending";
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      rows.sort(function (a, b) {
        var c = compare(a, b, key);
        if (!ascending) { c = -c; }
        return c || compare(a, b, "order");
      });
      rows.forEach(function (row) { tbody.appendChild(row); });
    });
  });

  text.addEventListener("input", apply);
  selects.forEach(function (sel) { sel.addEventListener("change", apply); });
  apply();
})();
"""
