"""The command line. The only module that knows click, the environment and
exit codes: options -> library call -> reporter -> exit code.

Exit codes: 0 nothing at or above the gate, 1 findings at or above it,
2 usage/config/input error, 3 audit incomplete (keyscan audit/merge),
130 interrupted (143 on SIGTERM).
"""
from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import click

from . import __version__
from .errors import KeyscanError
from .models import SEVERITIES, Report, gate_failures

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_TERMINATED = 0, 1, 2, 130, 143
CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _formats() -> list[str]:
    from .reporters import FORMATS

    return sorted(FORMATS)


def _report_option(ctx: click.Context, param: click.Parameter, values: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """Parse repeated ``--report FORMAT=FILE``."""
    out: list[tuple[str, str]] = []
    for value in values or ():
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise click.BadParameter(f"'{value}' is not FORMAT=FILE (e.g. sarif=keyscan.sarif)", ctx, param)
        if fmt not in _formats():
            raise click.BadParameter(f"unknown format '{fmt}' in '{value}' (one of {', '.join(_formats())})", ctx, param)
        if any(os.path.abspath(path) == os.path.abspath(p) for _, p in out):
            raise click.BadParameter(f"'{path}' is named twice", ctx, param)
        out.append((fmt, path))
    return tuple(out)


def _utc_now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def scan_options(fn: Callable) -> Callable:
    """Options shared by every scanning command. Each can also be set with a
    KEYSCAN_* environment variable; command-line values win over the
    environment, which wins over the config file."""
    options = [
        click.option("--format", "-f", "fmt", type=click.Choice(_formats()), envvar="KEYSCAN_FORMAT", help="Report format (default: text)."),
        click.option("--output", "-o", type=click.Path(dir_okay=False), envvar="KEYSCAN_OUTPUT", help="Write the report to FILE (atomically) instead of stdout."),
        click.option("--fail-on", type=click.Choice(SEVERITIES), envvar="KEYSCAN_FAIL_ON", help="Exit 1 when a finding is at or above this severity (default: low; info never fails it)."),
        click.option("--baseline", type=click.Path(dir_okay=False), envvar="KEYSCAN_BASELINE", help="Report only findings not in this baseline file (default: the configured one, else .keyscan-baseline.json at the project root if it exists)."),
        click.option("--no-baseline", is_flag=True, envvar="KEYSCAN_NO_BASELINE", help="Apply no baseline, not even the configured or default one."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), envvar="KEYSCAN_CONFIG", help="Config file (default: nearest .keyscan.toml or [tool.keyscan] in pyproject.toml)."),
        click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), envvar="KEYSCAN_RULES", help="Extra rule folder or file (repeatable)."),
        click.option("--only", multiple=True, envvar="KEYSCAN_ONLY", help="Run only these rule ids or providers (repeatable), e.g. --only immutable."),
        click.option("--disable", multiple=True, envvar="KEYSCAN_DISABLE", help="Disable these rule ids (repeatable)."),
        click.option("--no-redact", is_flag=True, envvar="KEYSCAN_NO_REDACT", help="Show full secrets in the report. Never use this in CI logs."),
        click.option("--no-inline-ignores", is_flag=True, default=None, envvar="KEYSCAN_NO_INLINE_IGNORES", help="Disregard keyscan:allow and similar comments (strict CI)."),
        click.option("--show-suppressed", is_flag=True, envvar="KEYSCAN_SHOW_SUPPRESSED", help="List suppressed findings in the text report, with their reasons."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", envvar="KEYSCAN_COLOR", help="Colour in the text report (auto: on a terminal, unless NO_COLOR is set)."),
        click.option("--verbose", "-v", is_flag=True, envvar="KEYSCAN_VERBOSE", help="Also list every skipped file and why."),
        click.option("--report", "reports", multiple=True, metavar="FORMAT=FILE", callback=_report_option, envvar="KEYSCAN_REPORT", help="Also write a report in FORMAT to FILE (repeatable), e.g. --report sarif=keyscan.sarif; the main report still goes to stdout or --output."),
        click.option("--timestamps", is_flag=True, envvar="KEYSCAN_TIMESTAMPS", help="Put the scan's start and end times (UTC) in reports that have a place for them (off: reports diff cleanly)."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


@dataclass
class Settings:
    """Command-line options merged with the config file."""

    fmt: str
    output: str | None
    fail_on: str
    baseline: str | None
    redact: bool
    inline_ignores: bool
    show_suppressed: bool
    color: bool
    verbose: bool
    config: Any
    ruleset: Any
    reports: tuple[tuple[str, str], ...] = ()  # --report FORMAT=FILE, besides the main report
    started: str | None = None  # UTC start time, only with --timestamps
    repo_root: str | None = None  # repository of the scanned path (git paths are relative to it)
    default_baseline: str = ".keyscan-baseline.json"  # where `keyscan baseline` writes by default


def resolve(opts: dict[str, Any], start: str) -> Settings:
    from . import config as config_mod
    from .rulefile import load_ruleset

    cfg = config_mod.load_file(opts["config_file"]) if opts.get("config_file") else config_mod.discover(start)
    fmt = opts.get("fmt") or cfg.format or "text"
    if fmt not in _formats():
        raise KeyscanError(f"{cfg.path}: 'format' must be one of {', '.join(_formats())}, not '{fmt}'")
    rule_dirs = [Path(d) for d in (*cfg.rules, *opts.get("rule_dirs", ()))]
    ruleset = load_ruleset(rule_dirs)
    disabled = set(cfg.disable) | set(opts.get("disable", ()))
    unknown = sorted(disabled - set(ruleset.by_id()))
    if unknown:
        where = "--disable" if unknown[0] in opts.get("disable", ()) else f"{cfg.path}: 'disable'"
        raise KeyscanError(f"{where}: unknown rule id '{unknown[0]}' (see 'keyscan rules list')")
    known_ids = set(ruleset.by_id())
    for n, allow in enumerate(cfg.allow, 1):
        bad = sorted(set(allow.rules) - known_ids)
        if bad:
            raise KeyscanError(f"{cfg.path}: [[allow]] #{n}: unknown rule id '{bad[0]}' (see 'keyscan rules list')")
    ruleset = ruleset.without(disabled)
    only = set(cfg.only) | set(opts.get("only", ()))
    if only:
        ruleset = ruleset.only(only)
        if not ruleset.rules:
            raise KeyscanError(f"--only: no rule id or provider matches {', '.join(sorted(only))}")
    output = opts.get("output")
    color_opt = opts.get("color", "auto")
    color = color_opt == "always" or (color_opt == "auto" and not output and sys.stdout.isatty() and "NO_COLOR" not in os.environ)
    no_inline = opts.get("no_inline_ignores")
    inline = (not no_inline) if no_inline is not None else (cfg.inline_ignores if cfg.inline_ignores is not None else True)
    default_baseline = os.path.join(config_mod.project_root(cfg, start), config_mod.BASELINE_NAME)
    baseline = opts.get("baseline") or cfg.baseline
    if opts.get("no_baseline"):
        baseline = None
    elif not baseline and os.path.isfile(default_baseline):
        baseline = default_baseline
    return Settings(
        fmt=fmt,
        output=output,
        fail_on=opts.get("fail_on") or cfg.fail_on or "low",
        baseline=baseline,
        redact=not opts.get("no_redact"),
        inline_ignores=inline,
        show_suppressed=bool(opts.get("show_suppressed")),
        color=color,
        verbose=bool(opts.get("verbose")),
        config=cfg,
        ruleset=ruleset,
        reports=_extra_reports(opts, output),
        started=_utc_now() if opts.get("timestamps") else None,
        repo_root=config_mod.repo_root_of(os.path.abspath(start)),
        default_baseline=default_baseline,
    )


def _extra_reports(opts: dict[str, Any], output: str | None) -> tuple[tuple[str, str], ...]:
    reports = tuple(opts.get("reports") or ())
    for _, path in reports:
        if output and os.path.abspath(path) == os.path.abspath(output):
            raise KeyscanError(f"--report: '{path}' is also the --output file")
        if os.path.exists(path) and not os.path.isfile(path):
            # A report is replaced atomically (renamed into place): never over a device, pipe or folder.
            raise KeyscanError(f"--report: '{path}' exists and is not a regular file (the main report can go to stdout)")
    return reports


def filters_for(settings: Settings, *, baseline: bool = True) -> list:
    """The suppression filters a scan applies, in order: inline allows, the
    config's [[allow]] tables, then the baseline (loaded here, so a missing
    or corrupt baseline stops the command before it scans)."""
    from .filters.config import config_filter
    from .filters.inline import inline_filter

    out = []
    if settings.inline_ignores:
        out.append(inline_filter)
    if settings.config.allow:
        out.append(config_filter(settings.config, settings.repo_root))
    if baseline and settings.baseline:
        from . import baseline as baseline_mod
        from .filters.baseline import baseline_filter

        out.append(baseline_filter(baseline_mod.load(_shown(settings.baseline)), settings.repo_root))
    return out


def _encode(text: str) -> bytes:
    """UTF-8 bytes of a report. File names that are not UTF-8 reach us as
    lone surrogates; they are written as backslash escapes (valid in JSON
    strings too), never as a crash."""
    return text.encode("utf-8", "backslashreplace")


def emit(report: Report, settings: Settings) -> int:
    """Render the report, write it, and return the exit code of the gate."""
    import dataclasses

    from .atomic import write_atomic
    from .reporters import RenderOptions, renderer

    options = RenderOptions(
        redact=settings.redact,
        color=settings.color,
        show_suppressed=settings.show_suppressed,
        verbose=settings.verbose,
        fail_on=settings.fail_on,
        started=settings.started,
        finished=_utc_now() if settings.started else None,
    )
    for fmt, path in settings.reports:
        extra = renderer(fmt)(report, dataclasses.replace(options, color=False))
        write_atomic(path, _encode(extra))
    text = renderer(settings.fmt)(report, options)
    if settings.output:
        write_atomic(settings.output, _encode(text))
    else:
        try:
            sys.stdout.flush()
            sys.stdout.buffer.write(_encode(text))
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    if gate_failures(report.findings, settings.fail_on):
        return EXIT_FINDINGS
    if report.command in ("history", "staged") and not report.findings and any(e.kind == "git" for e in report.errors):
        # A scan that could not read an object from git never looks clean.
        # What the readers of a committed archive could not use (a corrupt
        # member, a cap reached, a bundle's missing map) is listed, as
        # `keyscan scan` lists it, without failing the scan: a committed
        # test fixture (a zip bomb, a tar Python cannot read) would
        # otherwise fail every later audit of the repository.
        return EXIT_ERROR
    if any(e.kind in ("timeout", "limit") for e in report.errors) and not report.findings:
        # Nor does one where a rule gave up on a file (a key placed next to
        # input crafted to slow that rule down would go unseen), or where
        # keys past the limit of one file were not listed (a baseline of
        # the listed ones must not make the rest look clean).
        return EXIT_ERROR
    return EXIT_CLEAN


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, prog_name="keyscan")
def cli() -> None:
    """keyscan finds leaked API keys (Immutable's first) and says what to
    rotate and how.

    \b
    Examples:
      keyscan scan                     scan the working tree
      keyscan scan dist/               scan built output (bundles count as shipped)
      keyscan history                  audit every commit of the repository
      keyscan staged                   pre-commit: scan what is being committed
      keyscan rules list               the rules in force
    """


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--no-gitignore", is_flag=True, default=None, envvar="KEYSCAN_NO_GITIGNORE", help="Also scan files that .gitignore excludes.")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), envvar="KEYSCAN_JOBS", help="Worker processes for large scans (default: the number of cores).")
@scan_options
def scan(paths: tuple[str, ...], no_gitignore: bool | None, jobs: int | None, **opts: Any) -> None:
    """Scan files and folders (default: the current folder).

    Folders are walked honouring .gitignore (a path named on the command
    line is scanned even if ignored); symlinks are not followed; binary files
    are skipped and counted.

    \b
    Examples:
      keyscan scan
      keyscan scan src/ config/.env
      keyscan scan dist/ --format json --output keyscan.json
      keyscan scan . --fail-on high
    """
    from .alloc import tune_for_large_scans
    from .engine import Engine
    from .scan import ScanOptions, scan_paths

    tune_for_large_scans()
    paths = paths or (".",)
    settings = resolve(opts, paths[0])
    gitignore = (not no_gitignore) if no_gitignore is not None else (settings.config.gitignore if settings.config.gitignore is not None else True)
    engine = Engine(settings.ruleset)
    from .parallel import default_jobs

    options = ScanOptions(gitignore=gitignore, exclude=settings.config.is_excluded, filters=filters_for(settings), jobs=jobs or default_jobs())
    report = scan_paths(list(paths), engine, options)
    raise SystemExit(emit(report, settings))


def _progress_printer() -> Callable[[Any], None]:
    """History progress on stderr: one line, rewritten in place."""

    def show(p: Any) -> None:
        mb = p.bytes / 1e6
        if p.phase == "provenance":
            msg = f"keyscan: {p.blobs:,} blobs, {mb:,.1f} MB read; finding the commits that added the keys..."
        elif p.phase == "listing":
            msg = f"keyscan: listing the history: {p.blobs:,} objects so far..."
        else:
            msg = f"keyscan: {p.blobs:,} blobs, {mb:,.1f} MB, {mb / max(p.seconds, 1e-3):,.1f} MB/s"
        sys.stderr.write("\r\033[K" + msg)
        sys.stderr.flush()

    return show


def _warn(report: Report) -> None:
    for text in report.stats.extra.get("warnings") or ():
        _say(f"keyscan: warning: {text}")


def _say(text: str, err: bool = True) -> None:
    """A message from keyscan, with any secret in what it quotes (a path, a
    value, a revision) redacted."""
    from .leakguard import guard

    click.echo(guard(text), err=err)


@cli.command(context_settings=CONTEXT)
@click.argument("repo", required=False)
@click.option("--branch", "branches", multiple=True, metavar="REF", help="Scan only what REF reaches (repeatable). Default: every ref, including tags and remote-tracking refs.")
@click.option("--since", metavar="REV", envvar="KEYSCAN_SINCE", help="Only what the commits in REV..HEAD added (the CI mode for pull requests): a key already there before REV is not reported.")
@click.option("--progress/--no-progress", default=None, envvar="KEYSCAN_PROGRESS", help="Progress on stderr (default: only when stderr is a terminal).")
@click.option("--jobs", "-j", type=click.IntRange(1, 256), envvar="KEYSCAN_JOBS", help="Worker processes for a large history (default: the number of cores).")
@scan_options
def history(repo: str | None, branches: tuple[str, ...], since: str | None, progress: bool | None, jobs: int | None, **opts: Any) -> None:
    """Audit a repository's git history (default: the current repository).

    Every blob reachable from the refs is scanned once, however many commits
    hold it; each key is reported once per path, with the commit that
    introduced it (sha, author, date, subject), whether it is still at HEAD
    or which commit removed it, and which refs hold it (a remote-tracking
    ref means it was pushed). Nothing from the repository runs: no hooks,
    filters, textconv, external diff, pager or fsmonitor.

    Exit 2 when git could not read everything (a missing or corrupt object)
    and nothing else was found.

    \b
    Examples:
      keyscan history
      keyscan history ../someone-elses-repo --format json -o audit.json
      keyscan history --branch main --branch release
      keyscan history --since origin/main          (CI: only what this branch adds)
    """
    from .alloc import tune_for_large_scans
    from .engine import Engine
    from .history import HistoryOptions, scan_history
    from .parallel import default_jobs

    tune_for_large_scans()
    settings = resolve(opts, repo or ".")
    engine = Engine(settings.ruleset)
    show = progress if progress is not None else sys.stderr.isatty()
    options = HistoryOptions(
        branches=branches,
        since=since,
        exclude=settings.config.is_excluded,
        filters=filters_for(settings),
        progress=_progress_printer() if show else None,
        jobs=jobs or default_jobs(),
    )
    try:
        report = scan_history(repo, engine, options)
    finally:
        if show:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()
    _warn(report)
    raise SystemExit(emit(report, settings))


@cli.command(context_settings=CONTEXT)
@click.argument("repo", required=False)
@scan_options
def staged(repo: str | None, **opts: Any) -> None:
    """Scan what `git commit` would record: the pre-commit hook.

    Reads the index (not the working tree) and reports only keys on the
    lines the commit adds, with the staged file's line numbers. Works before
    the first commit and with renames, deletions, binary files and partly
    staged files. Does not walk history, so it stays fast in big
    repositories.

    \b
    Examples:
      keyscan staged
      keyscan staged --format json
      pre-commit: see .pre-commit-hooks.yaml (hook id: keyscan)
    """
    from .engine import Engine
    from .sources.staged import StagedOptions, scan_staged

    settings = resolve(opts, repo or ".")
    options = StagedOptions(exclude=settings.config.is_excluded, filters=filters_for(settings))
    report = scan_staged(repo, Engine(settings.ruleset), options)
    raise SystemExit(emit(report, settings))


# --- keyscan audit and keyscan merge: many repositories (keyscan/audit/) ---

EXIT_INCOMPLETE = 3  # audit/merge: some repository could not be audited, or not read completely


def _shard_option(ctx: click.Context, param: click.Parameter, value: str | None) -> tuple[int, int] | None:
    if value is None:
        return None
    from .audit.shard import parse_spec

    try:
        return parse_spec(value)
    except KeyscanError as exc:
        raise click.BadParameter(str(exc).removeprefix("--shard: "), ctx, param) from None


def _emit_audit(report: Report, settings: Settings) -> int:
    """Write an audit report in every requested format, like emit(): JSON
    keeps the repository apart from the path, the other formats show it as
    the path's first part, and the text report starts with the
    per-repository summary. Exit 3 when the audit is incomplete, else the
    gate's code."""
    import dataclasses

    from .atomic import write_atomic
    from .audit.merge import for_display, incomplete, summary_text
    from .reporters import RenderOptions, renderer

    options = RenderOptions(
        redact=True,
        color=settings.color,
        show_suppressed=settings.show_suppressed,
        verbose=settings.verbose,
        fail_on=settings.fail_on,
        started=settings.started,
        finished=_utc_now() if settings.started else None,
    )
    shown = for_display(report)

    def render(fmt: str, opts: RenderOptions) -> str:
        if fmt == "json":
            return renderer(fmt)(report, opts)
        text = renderer(fmt)(shown, opts)
        return summary_text(report) + text if fmt == "text" else text

    for fmt, path in settings.reports:
        write_atomic(path, _encode(render(fmt, dataclasses.replace(options, color=False))))
    text = render(settings.fmt, options)
    if settings.output:
        write_atomic(settings.output, _encode(text))
    else:
        try:
            sys.stdout.flush()
            sys.stdout.buffer.write(_encode(text))
            sys.stdout.buffer.flush()
        except BrokenPipeError:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
    if incomplete(report):
        return EXIT_INCOMPLETE
    if gate_failures(report.findings, settings.fail_on):
        return EXIT_FINDINGS
    return EXIT_CLEAN


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, metavar="[REPO]...")
@click.option("--repos", "repos_file", type=click.Path(dir_okay=False), envvar="KEYSCAN_AUDIT_REPOS", help="File listing repositories, one per line: local paths, clone URLs (https://, ssh://, git@host:org/repo.git) or file:// URLs; '#' starts a comment.")
@click.option("--cache", "cache_dir", type=click.Path(file_okay=False), envvar="KEYSCAN_AUDIT_CACHE", help="Cache folder for the bare copies and the results (default: ~/.cache/keyscan/audit).")
@click.option("--executor", type=click.Choice(["local", "dask"]), default="local", show_default=True, envvar="KEYSCAN_EXECUTOR", help="local: a process pool on this machine; dask: one task per repository on a dask.distributed cluster (pip install 'keyscan[dask]').")
@click.option("--jobs", "-j", type=click.IntRange(1, 1024), envvar="KEYSCAN_JOBS", help="Repositories audited at once: local worker processes, or the workers of the dask LocalCluster started when no --scheduler is given (default: the number of cores).")
@click.option("--scheduler", metavar="ADDRESS", envvar="KEYSCAN_DASK_SCHEDULER", help="The dask scheduler to run on (e.g. tcp://10.0.0.5:8786), with --executor dask.")
@click.option("--shard", metavar="I/N", callback=_shard_option, envvar="KEYSCAN_SHARD", help="Audit only slice I of N (1-based) of the repositories: one per CI matrix job; keyscan merge combines the reports.")
@click.option("--fetch-timeout", type=click.FloatRange(1), default=900, show_default=True, envvar="KEYSCAN_FETCH_TIMEOUT", help="Seconds one git fetch may take before that repository fails.")
@click.option("--progress/--no-progress", default=None, envvar="KEYSCAN_PROGRESS", help="A line per repository on stderr (default: only when stderr is a terminal).")
@scan_options
def audit(paths: tuple[str, ...], repos_file: str | None, cache_dir: str | None, executor: str, jobs: int | None, scheduler: str | None, shard: tuple[int, int] | None, fetch_timeout: float, progress: bool | None, **opts: Any) -> None:
    """Audit the git history of many repositories into one report.

    Each repository is fetched into the cache folder (bare, nothing checked
    out, hardened git) and audited like `keyscan history`. Results are kept
    per repository, ref tips and rules: a re-audit scans only repositories
    whose refs or rules changed, and only their new commits. Settings come
    from --config (or the .keyscan.toml found from the current folder);
    its exclude and allow patterns match each repository's own paths.

    Exit 0 when nothing is at or above --fail-on, 1 when something is, 3
    when the audit is incomplete (a repository could not be fetched or read,
    or its worker died: see the report's errors; rerun to resume), 2 on bad
    input, 130 when interrupted (finished repositories stay cached).

    \b
    Examples:
      keyscan audit ../api ../web
      keyscan audit --repos repos.txt -f html -o audit.html --jobs 8
      keyscan audit --repos repos.txt --shard 2/8 -f json -o shard-2.json
      keyscan audit --repos repos.txt --executor dask --scheduler tcp://scheduler:8786
    """
    from .audit import AuditOptions, ScanSpec
    from .audit import audit as run_audit
    from .audit import repos as repos_mod
    from .alloc import tune_for_large_scans
    from .audit.cache import default_dir
    from .audit.shard import select
    from .engine import Engine
    from .parallel import default_jobs
    from .reporters.common import printable

    tune_for_large_scans()

    if opts.get("no_redact"):
        raise KeyscanError("--no-redact: audit reports are built from a cache that never holds a secret; use keyscan history --no-redact on one repository")
    if scheduler and executor != "dask":
        raise click.UsageError("--scheduler needs --executor dask")
    listed = [repos_mod.parse(p, "REPO") for p in paths]
    if repos_file:
        listed += repos_mod.read_list(repos_file)
    if not listed:
        raise click.UsageError("no repositories: name them (keyscan audit ../api ../web) or list them in a file (--repos FILE)")
    listed, repeats = repos_mod.unique(listed)
    for r in repeats:
        click.echo(f"keyscan: warning: {printable(r.identity)} is listed more than once; audited once", err=True)
    total = len(listed)
    if shard is not None:
        listed = select(listed, shard)
    settings = resolve(opts, ".")
    cfg = settings.config
    baseline = None
    if settings.baseline:
        from . import baseline as baseline_mod

        baseline = baseline_mod.load(_shown(settings.baseline))
    spec = ScanSpec(
        rule_dirs=tuple(str(Path(d).resolve()) for d in (*cfg.rules, *opts.get("rule_dirs", ()))),
        only=tuple(sorted(set(cfg.only) | set(opts.get("only", ())))),
        disable=tuple(sorted(set(cfg.disable) | set(opts.get("disable", ())))),
        ruleset_digest=settings.ruleset.digest,
        inline=settings.inline_ignores,
        config=cfg,
        baseline=baseline,
    )
    show = progress if progress is not None else sys.stderr.isatty()

    def progress_line(d: Any) -> None:
        click.echo(f"keyscan: [{d.count}/{d.total}] {printable(d.repository)}: {d.status} ({printable(d.why)}; {d.blobs:,} blobs, {d.seconds:.1f} s)", err=True)

    options = AuditOptions(
        cache_dir=cache_dir or default_dir(),
        executor=executor,
        jobs=jobs or default_jobs(),
        scheduler=scheduler,
        fetch_timeout=fetch_timeout,
        on_result=progress_line if show else None,
    )
    result = run_audit(listed, spec, options, Engine(settings.ruleset))
    counts = ", ".join(f"{n} {status}" for status, n in sorted(result.statuses.items()))
    where = f" (shard {shard[0]}/{shard[1]} of {total})" if shard else ""
    click.echo(f"keyscan: audited {len(listed)} repositor{'y' if len(listed) == 1 else 'ies'}{where} in {result.seconds:.1f} s: {counts or 'none'}", err=True)
    _warn(result.report)
    raise SystemExit(_emit_audit(result.report, settings))


@cli.command("merge", context_settings=CONTEXT)
@click.argument("reports", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--format", "-f", "fmt", type=click.Choice(_formats()), default="text", envvar="KEYSCAN_FORMAT", help="Report format (default: text).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), envvar="KEYSCAN_OUTPUT", help="Write the report to FILE (atomically) instead of stdout.")
@click.option("--fail-on", type=click.Choice(SEVERITIES), default="low", envvar="KEYSCAN_FAIL_ON", help="Exit 1 when a finding is at or above this severity (default: low).")
@click.option("--report", "extra_reports", multiple=True, metavar="FORMAT=FILE", callback=_report_option, envvar="KEYSCAN_REPORT", help="Also write a report in FORMAT to FILE (repeatable).")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), envvar="KEYSCAN_RULES", help="Extra rule folders the audit used (their descriptions go into SARIF and HTML).")
@click.option("--show-suppressed", is_flag=True, envvar="KEYSCAN_SHOW_SUPPRESSED", help="List suppressed findings in the text report.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", envvar="KEYSCAN_COLOR", help="Colour in the text report.")
@click.option("--verbose", "-v", is_flag=True, envvar="KEYSCAN_VERBOSE", help="Also list skipped files.")
@click.option("--timestamps", is_flag=True, envvar="KEYSCAN_TIMESTAMPS", help="Put the merge's time (UTC) in reports that have a place for it.")
def merge(reports: tuple[str, ...], fmt: str, output: str | None, fail_on: str, extra_reports: tuple[tuple[str, str], ...], rule_dirs: tuple[str, ...], show_suppressed: bool, color: str, verbose: bool, timestamps: bool) -> None:
    """Combine JSON audit reports (the shards of a CI matrix) into one
    report, in any format.

    Each REPORT is the output of `keyscan audit --format json`; a repository
    may appear in only one of them. Exit codes as for keyscan audit: 3 when
    any shard was incomplete.

    \b
    Examples:
      keyscan merge shard-*.json -f html -o audit.html
      keyscan merge shard-*.json -f sarif -o audit.sarif --report json=audit.json
    """
    import json

    from .audit.merge import merge_reports
    from .audit.serial import from_dict
    from .config import Config
    from .rulefile import load_ruleset

    ruleset = load_ruleset([Path(d) for d in rule_dirs])
    rules_by_id = ruleset.by_id()
    loaded = []
    for path in reports:
        try:
            with open(path, "rb") as fh:
                data = fh.read()
        except FileNotFoundError:
            raise KeyscanError(f"{path}: no such file") from None
        except OSError as exc:
            raise KeyscanError(f"{path}: cannot read ({exc.strerror})") from None
        try:
            doc = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise KeyscanError(f"{path}: not a JSON report ({type(exc).__name__})") from None
        loaded.append((path, from_dict(doc, path, rules_by_id)))
    report = merge_reports(loaded)
    settings = Settings(
        fmt=fmt,
        output=output,
        fail_on=fail_on,
        baseline=None,
        redact=True,
        inline_ignores=True,
        show_suppressed=show_suppressed,
        color=color == "always" or (color == "auto" and not output and sys.stdout.isatty() and "NO_COLOR" not in os.environ),
        verbose=verbose,
        config=Config(),
        ruleset=ruleset,
        reports=_extra_reports({"reports": extra_reports}, output),
        started=_utc_now() if timestamps else None,
    )
    _warn(report)
    raise SystemExit(_emit_audit(report, settings))


@cli.group(context_settings=CONTEXT)
def rules() -> None:
    """List and check rules."""


@rules.command("list", context_settings=CONTEXT)
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), help="Extra rule folder or file (repeatable).")
@click.option("--format", "-f", "fmt", type=click.Choice(["text", "json"]), default="text")
def rules_list(rule_dirs: tuple[str, ...], fmt: str) -> None:
    """List the rules in force: id, provider, key class, name.

    \b
    Examples:
      keyscan rules list
      keyscan rules list --rules ./my-rules --format json
    """
    import json

    from .rulefile import load_ruleset

    ruleset = load_ruleset([Path(d) for d in rule_dirs])
    if fmt == "json":
        rows = [
            {"id": r.id, "provider": r.provider, "name": r.name, "key_class": r.key_class, "keywords": list(r.keywords), "file": os.path.basename(r.file)}
            for r in ruleset.rules
        ]
        click.echo(json.dumps({"rules": rows}, indent=2))
        return
    width = max((len(r.id) for r in ruleset.rules), default=10)
    for r in ruleset.rules:
        click.echo(f"{r.id:<{width}}  {r.key_class:<11}  {r.provider}: {r.name}")
    click.echo(f"{len(ruleset.rules)} rules from {len(ruleset.files)} files")


@rules.command("check", context_settings=CONTEXT)
@click.argument("folders", nargs=-1, type=click.Path())
def rules_check(folders: tuple[str, ...]) -> None:
    """Validate rule files and run every example through the engine.

    With no FOLDERS, checks the built-in rules. Exit 1 when a check fails,
    2 when a rule file does not load.

    \b
    Examples:
      keyscan rules check
      keyscan rules check ./my-rules
    """
    from .rulecheck import check
    from .rulefile import load_ruleset

    if folders:
        ruleset = load_ruleset([Path(f) for f in folders], builtin=False, validate=True)
    else:
        ruleset = load_ruleset(validate=True)
    problems = check(ruleset)
    for p in problems:
        click.echo(f"{p.file}: rule '{p.rule_id}': {p.message}", err=True)
    n = len(ruleset.rules)
    if problems:
        click.echo(f"{len(problems)} problem(s) in {n} rules", err=True)
        raise SystemExit(EXIT_FINDINGS)
    click.echo(f"{n} rules OK")


def baseline_options(fn: Callable) -> Callable:
    """Options of the `keyscan baseline` commands: the scan's settings (the
    same as `keyscan scan`) and the baseline file."""
    options = [
        click.option("--baseline", type=click.Path(dir_okay=False), envvar="KEYSCAN_BASELINE", help="Baseline file (default: the configured one, else .keyscan-baseline.json at the project root)."),
        click.option("--config", "config_file", type=click.Path(dir_okay=False), envvar="KEYSCAN_CONFIG", help="Config file (default: nearest .keyscan.toml or [tool.keyscan] in pyproject.toml)."),
        click.option("--rules", "rule_dirs", multiple=True, type=click.Path(), envvar="KEYSCAN_RULES", help="Extra rule folder or file (repeatable)."),
        click.option("--only", multiple=True, envvar="KEYSCAN_ONLY", help="Run only these rule ids or providers (repeatable)."),
        click.option("--disable", multiple=True, envvar="KEYSCAN_DISABLE", help="Disable these rule ids (repeatable)."),
        click.option("--no-inline-ignores", is_flag=True, default=None, envvar="KEYSCAN_NO_INLINE_IGNORES", help="Disregard keyscan:allow and similar comments (their findings go into the baseline)."),
        click.option("--no-gitignore", is_flag=True, default=None, envvar="KEYSCAN_NO_GITIGNORE", help="Also scan files that .gitignore excludes."),
        click.option("--history", "history_mode", is_flag=True, envvar="KEYSCAN_BASELINE_HISTORY", help="Scan like `keyscan history [REPO]` (every commit) instead of `keyscan scan PATHS`."),
        click.option("--jobs", "-j", type=click.IntRange(1, 256), envvar="KEYSCAN_JOBS", help="Worker processes for a large scan (default: the number of cores)."),
    ]
    for opt in reversed(options):
        fn = opt(fn)
    return fn


def _shown(path: str) -> str:
    """``path`` as the user would type it: relative when under the working directory."""
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _entries(n: int) -> str:
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _baseline_paths(paths: tuple[str, ...], history_mode: bool) -> tuple[str, ...]:
    if history_mode and len(paths) > 1:
        raise click.UsageError("with --history, give at most one REPO")
    return paths or (".",)


def _baseline_scan(paths: tuple[str, ...], settings: Settings, no_gitignore: bool | None, history_mode: bool, jobs: int | None = None) -> Report:
    """The same scan as `keyscan scan PATHS` (or `keyscan history REPO`),
    without applying the baseline, with as many workers."""
    from .engine import Engine
    from .parallel import default_jobs
    from .scan import ScanOptions, scan_paths

    cfg = settings.config
    engine = Engine(settings.ruleset)
    jobs = jobs or default_jobs()
    if history_mode:
        from .history import HistoryOptions, scan_history

        report = scan_history(paths[0], engine, HistoryOptions(exclude=cfg.is_excluded, filters=filters_for(settings, baseline=False), jobs=jobs))
    else:
        gitignore = (not no_gitignore) if no_gitignore is not None else (cfg.gitignore if cfg.gitignore is not None else True)
        options = ScanOptions(gitignore=gitignore, exclude=cfg.is_excluded, filters=filters_for(settings, baseline=False), jobs=jobs)
        report = scan_paths(list(paths), engine, options)
    if report.errors:
        command = "history" if history_mode else "scan"
        click.echo(f"keyscan: warning: {len(report.errors)} error(s): the scan did not read everything (keyscan {command} lists them)", err=True)
    return report


@cli.group("baseline", context_settings=CONTEXT)
def baseline_group() -> None:
    """Record the findings a project already knows about, so scans report
    only new ones.

    \b
    An entry is the rule id, an HMAC-SHA256 of the secret under the file's
    random salt, and the file's path: no line numbers, no timestamps, no
    secret. Moving a known key to another line keeps it known; a different
    key is new. Scans use the baseline named by --baseline, the configured
    one, or .keyscan-baseline.json at the project root.

    \b
    Examples:
      keyscan baseline create          record today's findings
      keyscan scan                     then report only new ones
      keyscan baseline update          accept the new findings too
      keyscan baseline prune           forget entries that match nothing
    """


@baseline_group.command("create", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--force", is_flag=True, help="Replace an existing baseline (its salt is kept, so unchanged entries stay byte-identical).")
@click.option("--no-paths", is_flag=True, envvar="KEYSCAN_BASELINE_NO_PATHS", help="Leave paths out: an entry then matches its key in any file, even a new one.")
@baseline_options
def baseline_create(paths: tuple[str, ...], force: bool, no_paths: bool, no_gitignore: bool | None, history_mode: bool, **opts: Any) -> None:
    """Record the current findings in a new baseline file.

    The scan is the one `keyscan scan PATHS` runs. Findings already
    suppressed (inline allows, [[allow]] in the config, placeholders) are
    not recorded.

    \b
    Examples:
      keyscan baseline create
      keyscan baseline create --baseline ci/keyscan-baseline.json
    """
    from . import baseline as bl

    paths = _baseline_paths(paths, history_mode)
    settings = resolve(opts, paths[0])
    target = _shown(settings.baseline or settings.default_baseline)
    salt = None
    if os.path.lexists(target):
        if not force:
            raise KeyscanError(f"{target}: baseline already exists ('keyscan baseline update' adds new findings; --force replaces it)")
        try:
            salt = bl.load(target).salt
        except KeyscanError:
            salt = None
    report = _baseline_scan(paths, settings, no_gitignore, history_mode, opts.get("jobs"))
    base = bl.new(target, salt)
    keyer = bl.Keyer(base, settings.repo_root)
    base = base.with_entries(keyer.entry(f, not no_paths) for f in report.findings)
    bl.save(base)
    n = len(report.findings)
    used = {os.path.realpath(p) for p in (settings.default_baseline, settings.config.baseline) if p}
    how = "scans now report only new findings" if os.path.realpath(target) in used else f"scans report only new findings with --baseline {target}"
    click.echo(f"{target}: {_entries(len(base.entries))} for {n} finding{'' if n == 1 else 's'}. Commit it; {how}.")


@baseline_group.command("update", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--no-paths", is_flag=True, envvar="KEYSCAN_BASELINE_NO_PATHS", help="Add path-less entries (default: like the file's existing entries).")
@baseline_options
def baseline_update(paths: tuple[str, ...], no_paths: bool, no_gitignore: bool | None, history_mode: bool, **opts: Any) -> None:
    """Add the current findings that the baseline does not know yet.

    Existing entries are kept as they are (`keyscan baseline prune` removes
    stale ones); the file is not rewritten when nothing is new.

    \b
    Examples:
      keyscan baseline update
      keyscan baseline update src/
    """
    from . import baseline as bl

    paths = _baseline_paths(paths, history_mode)
    settings = resolve(opts, paths[0])
    target = _shown(settings.baseline or settings.default_baseline)
    base = bl.load(target)
    report = _baseline_scan(paths, settings, no_gitignore, history_mode, opts.get("jobs"))
    keyer = bl.Keyer(base, settings.repo_root)
    with_paths = not no_paths and not (base.entries and all(e.path is None for e in base.entries))
    added = {keyer.entry(f, with_paths) for f in report.findings if not keyer.known(f)}
    if not added:
        click.echo(f"{target}: nothing new ({_entries(len(base.entries))}); file unchanged.")
        return
    base = base.with_entries(base.entries | added)
    bl.save(base)
    click.echo(f"{target}: added {_entries(len(added))} ({len(base.entries)} in all).")


@baseline_group.command("prune", context_settings=CONTEXT)
@click.argument("paths", nargs=-1, type=click.Path())
@baseline_options
def baseline_prune(paths: tuple[str, ...], no_gitignore: bool | None, history_mode: bool, **opts: Any) -> None:
    """Remove entries that no longer match any finding, and list them (rule
    and hash prefix, and the path; never a secret).

    Only entries of rules that ran, for files under PATHS (default: the
    current folder), can be removed; a path-less entry only when PATHS cover
    the baseline's whole repository. Nothing is removed when the scan could
    not read everything.

    \b
    Examples:
      keyscan baseline prune
    """
    from . import baseline as bl

    paths = _baseline_paths(paths, history_mode)
    settings = resolve(opts, paths[0])
    target = _shown(settings.baseline or settings.default_baseline)
    base = bl.load(target)
    report = _baseline_scan(paths, settings, no_gitignore, history_mode, opts.get("jobs"))
    if report.errors:
        raise KeyscanError(f"{target}: not pruning: the scan could not read everything ({len(report.errors)} errors; keyscan scan lists them)")
    keyer = bl.Keyer(base, settings.repo_root)
    seen_at = {keyer.entry(f) for f in report.findings}
    seen_any = {(e.rule_id, e.hash) for e in seen_at}
    scanned = [os.path.realpath(p) for p in paths]
    if history_mode:  # history covers the whole repository
        scanned = [settings.repo_root or os.path.realpath(paths[0])]

    def under(path: str) -> bool:
        return any(path == s or path.startswith(s.rstrip(os.sep) + os.sep) for s in scanned)

    ran = {r.id for r in settings.ruleset.rules}
    stale = []
    for e in sorted(base.entries, key=bl.Entry.sort_key):
        if e.rule_id not in ran:
            continue
        if e.path is None:
            if under(base.root) and (e.rule_id, e.hash) not in seen_any:
                stale.append(e)
        elif under(os.path.normpath(os.path.join(base.root, e.path))) and e not in seen_at:
            stale.append(e)
    if not stale:
        click.echo(f"{target}: every entry still matches ({_entries(len(base.entries))}); file unchanged.")
        return
    for e in stale:
        _say(f"removed  {e.rule_id}  {e.hash[:12]}" + (f"  {e.path}" if e.path else ""), err=False)
    base = base.with_entries(base.entries - set(stale))
    bl.save(base)
    click.echo(f"{target}: removed {_entries(len(stale))}, {len(base.entries)} left.")


def _on_sigterm(signum: int, frame: Any) -> None:
    raise _Terminated()


class _Terminated(BaseException):
    pass


def main(argv: list[str] | None = None) -> None:
    """Entry point: the one error boundary that maps exceptions to exit codes."""
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        pass
    try:
        code = cli.main(args=argv, prog_name="keyscan", standalone_mode=False)
    except SystemExit as exc:
        code = exc.code
    except click.exceptions.Abort:
        click.echo("keyscan: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except click.ClickException as exc:
        import io

        shown = io.StringIO()
        exc.show(file=shown)
        _say(shown.getvalue().rstrip("\n"))
        code = EXIT_ERROR
    except KeyscanError as exc:
        _say(f"keyscan: error: {exc}")
        code = EXIT_ERROR
    except KeyboardInterrupt:
        click.echo("keyscan: interrupted", err=True)
        code = EXIT_INTERRUPTED
    except _Terminated:
        click.echo("keyscan: terminated", err=True)
        code = EXIT_TERMINATED
    except OSError as exc:
        where = f"{exc.filename}: " if exc.filename else ""
        _say(f"keyscan: error: {where}{exc.strerror or type(exc).__name__}")
        code = EXIT_ERROR
    except Exception as exc:  # noqa: BLE001 - the boundary: never a traceback, never a secret
        if os.environ.get("KEYSCAN_DEBUG"):
            raise
        click.echo(f"keyscan: internal error ({type(exc).__name__}); rerun with KEYSCAN_DEBUG=1 for details", err=True)
        code = EXIT_ERROR
    if code is None:
        code = EXIT_CLEAN
    sys.exit(code if isinstance(code, int) else EXIT_ERROR)
