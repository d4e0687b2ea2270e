"""The `authlint` command: check, routes, rules, explain.

Exit codes: 0 no finding at or above `--fail-on`; 1 findings; 2 usage, configuration
or internal error. Errors are one line on stderr, never a traceback.
"""

from __future__ import annotations

import dataclasses
import gc
import functools
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable

import click

from authlint import __version__, baseline
from authlint.cache import ResultCache, cache_directory
from authlint.config import (
    Config,
    ConfigError,
    enabled_rules,
    expand_selector,
    file_settings,
    link_settings,
    load_config,
    project_rule_settings,
)
from authlint.discovery import Discovery, SourceFile, resolve_path
from authlint.engine import FileSettings, ignored_codes
from authlint.fix import FixedFile, summary, write_fixed
from authlint.gitdiff import GitDiffError, changed_lines, keep_changed
from authlint.link import link
from authlint.model import FileError, FileResult, ScanResult, Severity
from authlint.reach import with_reachable_facts
from authlint.registry import RegistryError, all_rules
from authlint.reporters import CONSOLE_FORMATS, FORMATS, render, write_atomic
from authlint.reporters.routes import ROUTE_FORMATS, render_routes
from authlint.runner import default_jobs

EXIT_CLEAN, EXIT_FINDINGS, EXIT_ERROR = 0, 1, 2
SEVERITIES = [s.label for s in Severity]


class UsageError(Exception):
    pass


def _fail(message: str) -> None:
    click.echo(f"authlint: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def _guarded(command: Callable[..., Any]) -> Callable[..., Any]:
    """Turn every failure into one line on stderr and exit code 2."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except (ConfigError, UsageError, RegistryError, baseline.BaselineError, GitDiffError) as exc:
            _fail(str(exc))
        except KeyboardInterrupt:
            click.echo("authlint: interrupted", err=True)
            sys.exit(130)
        except OSError as exc:
            _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))
        except Exception as exc:  # the last line of defence: a user never sees a traceback
            if os.environ.get("AUTHLINT_DEBUG"):
                raise
            _fail(f"internal error: {type(exc).__name__}: {exc} (set AUTHLINT_DEBUG=1 for the traceback)")

    return wrapper


def _use_color(choice: str, stream: Any) -> bool:
    if choice != "auto":
        return choice == "always"
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return bool(getattr(stream, "isatty", lambda: False)())


def _codes_option(name: str, help_text: str) -> Callable[..., Any]:
    return click.option(name, metavar="CODES", multiple=True, help=help_text)


_GC_FIRST_GENERATION = 100_000


def _split_codes(values: tuple[str, ...]) -> list[str]:
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="authlint")
def main() -> None:
    """authlint: find broken authentication and authorization in Python APIs."""
    # A scan allocates millions of small, long-lived, acyclic objects (facts, from workers or
    # the cache); at the default thresholds the cyclic collector re-walks them all again and
    # again: a quarter of a one-file-changed run on 1,700 files. mypy raises them too.
    gc.set_threshold(_GC_FIRST_GENERATION, 50, 100)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_codes_option("--select", "Rules to enable (codes, prefixes like AL1, or ALL); replaces the configured set.")
@_codes_option("--ignore", "Rules to disable, in addition to the configured ones.")
@_codes_option("--extend-select", "Rules to enable in addition to the selected ones.")
@click.option("--exclude", metavar="PATTERNS", multiple=True, help="Gitignore-style patterns; replaces the defaults.")
@click.option("--extend-exclude", metavar="PATTERNS", multiple=True, help="Patterns to exclude in addition.")
@click.option("--force-exclude", is_flag=True, default=None, help="Apply exclusions to files named explicitly too.")
@click.option("--respect-gitignore/--no-respect-gitignore", default=None, help="Skip files that .gitignore ignores.")
@click.option("--format", "--output-format", "output_format", type=click.Choice(FORMATS), default="full",
              show_default=True, help="Report format.")  # fmt: skip
@click.option("-o", "--output", "--output-file", "output", type=click.Path(path_type=Path),
              help="Write the report to this file (atomically) instead of stdout.")  # fmt: skip
@click.option("--sarif-output", type=click.Path(path_type=Path), help="Also write a SARIF report to this file.")
@click.option("--sarif-category", metavar="NAME", help="SARIF runs[0].automationDetails.id.")
@click.option("--sarif-include-suppressed", is_flag=True,
              help="Keep suppressed and baselined findings in SARIF, marked with `suppressions`.")  # fmt: skip
@click.option("--baseline", "baseline_file", type=click.Path(path_type=Path),
              help="Hide the findings this baseline file records; report only new ones.")  # fmt: skip
@click.option("--write-baseline", type=click.Path(path_type=Path),
              help="Record today's findings in this baseline file and exit.")  # fmt: skip
@click.option("--fail-on", type=click.Choice(SEVERITIES), help="Lowest severity that fails the run [default: low].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--diff-base", metavar="REF", help="Report only findings on lines changed since the merge base with REF.")
@click.option("--statistics", is_flag=True, help="Show counts per rule and stale baseline entries.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Use this configuration file.")
@click.option("--fix", is_flag=True, help="Fix what can be fixed safely (in place), then report what remains.")
@click.option("--diff", is_flag=True, help="Print the changes --fix would make as a unified diff; write nothing.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: CPU count].")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache (.authlint_cache/).")
@click.option("--file-timeout", type=click.FloatRange(min=0), metavar="SECONDS",
              help="Skip a file that takes longer to analyse, reporting it [default: 30; 0: no limit].")  # fmt: skip
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, no warnings.")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colored console output (NO_COLOR and FORCE_COLOR are honoured in auto).")  # fmt: skip
@_guarded
def check(paths: tuple[Path, ...], **options: Any) -> None:
    """Scan PATHS (default: the current directory) and report findings."""
    paths = paths or (Path("."),)
    for path in paths:
        if not path.exists():
            raise UsageError(f"path {str(path)!r} does not exist")
    fixing = options["fix"] or options["diff"]
    if fixing and options["write_baseline"] is not None:
        raise UsageError("--write-baseline records findings as they are; run it without --fix and --diff")
    config = _effective_config(paths[0], options)
    # Everything that can refuse the run is read before --fix writes a file.
    changes = changed_lines(paths[0], options["diff_base"]) if options["diff_base"] else None
    baseline_file = options["baseline_file"] or config.baseline
    recorded = baseline.load(baseline_file) if baseline_file is not None and options["write_baseline"] is None else None
    cache = _open_cache(config, paths[0], options["no_cache"], options["quiet"])
    result = scan(list(paths), config, options["jobs"] or default_jobs(), fix=fixing, cache=cache)
    if options["write_baseline"] is not None:
        sys.exit(_write_baseline(options["write_baseline"], result, config))
    if options["diff"]:
        sys.exit(_print_diff(result, options["quiet"]))
    failed_writes = _write_fixes(result, options["quiet"]) if fixing else []
    if recorded is not None:
        result = baseline.apply(result, recorded, config.root)
    if changes is not None:
        if fixing:  # the findings' lines are those of the fixed files, which now differ from the merge base more
            changes = changed_lines(paths[0], options["diff_base"])
        suppressed = keep_changed(result.suppressed_findings, changes)
        result = dataclasses.replace(result, findings=keep_changed(result.findings, changes),
                                     suppressed_findings=suppressed, suppressed=len(suppressed))  # fmt: skip
    _report(result, options)
    sys.exit(EXIT_ERROR if failed_writes else _exit_code(result, config.fail_on, options["exit_zero"]))


def _print_diff(result: ScanResult, quiet: bool) -> int:
    """Like Ruff's `--diff`: exit 1 when there is something to fix."""
    _print_errors(result.errors, quiet=quiet)
    click.echo("".join(file.fixed.diff(file.display) for file in result.fixed), nl=False)
    if not quiet and result.fixed:
        click.echo(summary(result.fixed, "Would fix"), err=True)
    if result.internal_errors:
        return EXIT_ERROR
    return EXIT_FINDINGS if result.fixed else EXIT_CLEAN


def _write_fixes(result: ScanResult, quiet: bool) -> list[str]:
    written, failures = write_fixed(result.fixed, write_atomic)
    for failure in failures:
        click.echo(f"authlint: error: {failure}", err=True)
    if written and not quiet:
        click.echo(summary(written, "Fixed"), err=True)
    return failures


def _effective_config(first_path: Path, options: dict[str, Any]) -> Config:
    """The configuration file's settings with the command line's on top."""
    config = load_config(options["config_file"], first_path)
    for flag in ("select", "ignore", "extend_select"):
        for selector in _split_codes(options[flag]):
            expand_selector(selector, f"--{flag.replace('_', '-')}")
    if options["select"]:
        config.select = _split_codes(options["select"])
    config.ignore += _split_codes(options["ignore"])
    config.extend_select += _split_codes(options["extend_select"])
    if options["exclude"]:
        config.exclude = _split_codes(options["exclude"])
    config.extend_exclude += _split_codes(options["extend_exclude"])
    if options["fail_on"]:
        config.fail_on = Severity.parse(options["fail_on"])
    for key in ("force_exclude", "respect_gitignore", "file_timeout"):
        if options[key] is not None:
            setattr(config, key, options[key])
    return config


def scan(
    paths: list[Path], config: Config, jobs: int, want_routes: bool = False, fix: bool = False, gating: bool = True,
    cache: ResultCache | None = None,
) -> ScanResult:  # fmt: skip
    """Both phases: every file (in parallel), then the link phase and the project rules; cached when asked.

    With `fix`, findings are those left after fixing, and `fixed` says what fixing changed.
    `gating=False` parses every file and runs every rule on it (see FileSettings.gating).
    """
    cache = cache or ResultCache(None)
    discovery = Discovery(config.root, config.exclude, config.extend_exclude, config.respect_gitignore,
                          config.force_exclude)  # fmt: skip
    files = discovery.files(paths)
    settings = file_settings(config, collect_facts=True if want_routes else None)
    settings = dataclasses.replace(settings, fix=fix, gating=gating)
    context_files = _context_files(discovery, paths, files, config) if settings.collect_facts else []
    facts_only = dataclasses.replace(settings, rules=(), fix=False)
    keys, context_keys = cache.file_keys(files, settings), cache.file_keys(context_files, facts_only)
    arguments = (str(Path.cwd()), [str(path) for path in paths], str(config.path), want_routes)
    link_inputs = (link_settings(config), project_rule_settings(config))
    scan_key = cache.scan_key(arguments, [*keys, *context_keys], link_inputs)
    cached = cache.load_scan(scan_key)
    if cached is not None:
        return dataclasses.replace(cached, root=str(Path.cwd()), rules=enabled_rules(config))
    analyze = functools.partial(cache.analyze, timeout=config.file_timeout)
    results = analyze(files, settings, jobs, keys)
    context = analyze(context_files, facts_only, jobs, context_keys) if context_files else []
    if settings.collect_facts and settings.gating:
        everything = with_reachable_facts([*files, *context_files], [*results, *context], settings, jobs, analyze)
        results, context = everything[: len(files)], everything[len(files) :]
    result, read_outside = _linked(files, results, context, settings, link_inputs, config)
    if not read_outside:
        cache.store_scan(scan_key, result)
    return result


def _linked(
    files: list[SourceFile], results: list[FileResult], context: list[FileResult], settings: FileSettings,
    link_inputs: tuple[Any, Any], config: Config,
) -> tuple[ScanResult, bool]:  # fmt: skip
    """The scan's result: the per-file results of `files`, plus what linking them with `context` finds
    in them; and whether linking read files other than the scanned sources (Project.read_outside)."""
    # The resolved path: replacing a symbolic link would leave the file it points to unfixed.
    fixed = [FixedFile(resolve_path(file.path), file.display, r.fixed) for file, r in zip(files, results) if r.fixed]
    findings = [f for r in results for f in r.findings]
    errors = [e for r in results for e in r.errors]
    suppressed = [f for r in results for f in r.suppressed_findings]
    routes, read_outside = [], False
    if settings.collect_facts:
        facts = [r.facts for r in (*results, *context) if r.facts]
        relative = {file.display: file.relative_to_root for file in files}
        ignored = {r.path: ignored_codes(settings, relative.get(r.path, r.path)) for r in results if r.facts}
        linked = link(facts, *link_inputs, ignored)
        wanted = {file.display for file in files}
        findings += [f for f in linked.findings if f.path in wanted]
        errors += linked.errors
        suppressed += [f for f in linked.suppressed_findings if f.path in wanted]
        routes = [r for r in linked.routes if r.location.path in wanted] if context else linked.routes
        read_outside = bool(linked.read_outside)
    findings.sort(key=lambda f: f.sort_key)
    result = ScanResult(str(Path.cwd()), findings, errors, len(files), enabled_rules(config), len(suppressed), routes,
                        tuple(file.display for file in files), suppressed, fixed=fixed,
                        files_parsed=sum(r.parsed for r in results))  # fmt: skip
    return result, read_outside


def _context_files(discovery: Discovery, paths: list[Path], files: list[SourceFile], config: Config) -> list[SourceFile]:
    """The rest of the project when only some of its files are named (pre-commit).

    Whether a route is protected is decided where it is mounted, often in a file the
    commit did not touch; linking only the named files would report protected routes as
    open. The other files are read for facts only (no file rule runs on them, and their
    facts come from the cache when it has them) and nothing is reported about them.
    """
    if not any(path.is_file() for path in paths):
        return []
    named = {resolve_path(file.path) for file in files}
    return [file for file in discovery.files([config.root]) if resolve_path(file.path) not in named]


def _open_cache(config: Config, first_path: Path, disabled: bool, quiet: bool) -> ResultCache:
    """The cache of the project: beside its configuration file, else in the scanned folder."""
    root = config.path.resolve().parent if config.path else first_path.resolve()
    root = root if root.is_dir() else root.parent
    warn = (lambda message: None) if quiet else (lambda message: click.echo(f"authlint: warning: {message}", err=True))
    return ResultCache(cache_directory(config.cache_dir, root, disabled), warn)


def _write_baseline(path: Path, result: ScanResult, config: Config) -> int:
    """Record `result`'s findings at `path`; the exit code (2 when a rule failed, its findings unrecorded)."""
    _print_errors(result.errors, quiet=False)
    counts, pruned = baseline.rewrite(result, baseline.read_previous(path), config.root)
    baseline.write(path, counts)
    entries = sum(counts.values())
    click.echo(f"authlint: recorded {entries} finding{'s' * (entries != 1)} in {path} "
               f"({pruned} stale entr{'ies' if pruned != 1 else 'y'} pruned)")  # fmt: skip
    return EXIT_ERROR if result.internal_errors else EXIT_CLEAN


def _report(result: ScanResult, options: dict[str, Any]) -> None:
    fmt = options["output_format"]
    _print_errors(result.errors, quiet=options["quiet"])
    to_file = options["output"] is not None
    color = not to_file and fmt in CONSOLE_FORMATS and _use_color(options["color"], sys.stdout)
    width = None if to_file else shutil.get_terminal_size((100, 24)).columns
    include_suppressed = options["sarif_include_suppressed"]
    text = render(fmt, result, color=color, statistics=options["statistics"], width=width,
                  category=options["sarif_category"], quiet=options["quiet"],
                  include_suppressed=include_suppressed)  # fmt: skip
    if to_file:
        _write_report(options["output"], text)
    else:
        click.echo(text, nl=False, color=color)
    if options["sarif_output"] is not None:
        sarif = render("sarif", result, category=options["sarif_category"], include_suppressed=include_suppressed)
        _write_report(options["sarif_output"], sarif)


def _write_report(path: Path, text: str) -> None:
    try:
        write_atomic(path, text)
    except OSError as exc:  # name the report, not write_atomic's temporary file
        raise UsageError(f"cannot write {str(path)!r}: {exc.strerror or exc}") from None


def _print_errors(errors: list[FileError], quiet: bool) -> None:
    for error in errors:
        if error.is_internal:
            click.echo(f"authlint: internal error: {error.path}: {error.message}", err=True)
            click.echo(error.detail.rstrip(), err=True)
        elif not quiet:
            consequence = "" if error.kind == "fix" else "; file skipped"
            click.echo(f"authlint: warning: {error.path}: {error.message}{consequence}", err=True)


def _exit_code(result: ScanResult, fail_on: Severity, exit_zero: bool) -> int:
    if result.internal_errors:
        return EXIT_ERROR
    if exit_zero:
        return EXIT_CLEAN
    return EXIT_FINDINGS if any(f.severity >= fail_on for f in result.findings) else EXIT_CLEAN


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--format", "output_format", type=click.Choice(ROUTE_FORMATS), default="table", show_default=True,
              help="Inventory format.")  # fmt: skip
@click.option("-o", "--output", "output", type=click.Path(path_type=Path),
              help="Write the inventory to this file (atomically) instead of stdout.")  # fmt: skip
@click.option("--exclude", metavar="PATTERNS", multiple=True, help="Gitignore-style patterns; replaces the defaults.")
@click.option("--extend-exclude", metavar="PATTERNS", multiple=True, help="Patterns to exclude in addition.")
@click.option("--config", "config_file", type=click.Path(path_type=Path), help="Use this configuration file.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Worker processes [default: CPU count].")
@click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
              help="Colored table (NO_COLOR and FORCE_COLOR are honoured in auto).")  # fmt: skip
@click.option("--no-cache", is_flag=True, help="Neither read nor write the cache (.authlint_cache/).")
@_guarded
def routes(paths: tuple[Path, ...], **options: Any) -> None:
    """List every route of PATHS with its authentication: the API inventory."""
    paths = paths or (Path("."),)
    for path in paths:
        if not path.exists():
            raise UsageError(f"path {str(path)!r} does not exist")
    defaults = {key: () for key in ("select", "ignore", "extend_select")}
    defaults.update(fail_on=None, force_exclude=None, respect_gitignore=None, file_timeout=None)
    config = _effective_config(paths[0], {**defaults, **options})
    cache = _open_cache(config, paths[0], options["no_cache"], quiet=False)
    result = scan(list(paths), config, options["jobs"] or default_jobs(), want_routes=True, cache=cache)
    _print_errors([e for e in result.errors if not e.is_internal], quiet=False)
    to_file = options["output"] is not None
    fmt = options["output_format"]
    color = not to_file and fmt == "table" and _use_color(options["color"], sys.stdout)
    width = None if to_file else shutil.get_terminal_size((160, 24)).columns
    text = render_routes(result.routes, fmt, color=color, width=width)
    if to_file:
        _write_report(options["output"], text)
    else:
        click.echo(text, nl=False, color=color)
    if result.internal_errors:
        _print_errors(result.internal_errors, quiet=False)
        sys.exit(EXIT_ERROR)


@main.command()
@click.option("--format", "output_format", type=click.Choice(["table", "json", "markdown"]), default="table",
              show_default=True)  # fmt: skip
@_guarded
def rules(output_format: str) -> None:
    """List every rule: code, name, severity, OWASP, CWE and whether --fix can fix it."""
    if output_format == "json":
        click.echo(json.dumps([_rule_record(rule) for rule in all_rules()], indent=2))
        return
    if output_format == "markdown":
        click.echo(rules_markdown(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title="authlint rules")
    for column in ("Code", "Name", "Severity", "OWASP", "CWE", "Fix", "Summary"):
        # Codes and names stay whole (people copy them); the summary takes the squeeze.
        table.add_column(column, overflow="fold", no_wrap=column in ("Code", "Name", "Fix"))
    for rule in all_rules():
        table.add_row(rule.code, rule.name, rule.severity.label, ", ".join(rule.owasp),
                      ", ".join(rule.cwe_labels()), _fix_label(rule), rule.summary())  # fmt: skip
    Console(highlight=False).print(table)


def rules_markdown() -> str:
    """The rules table of the README (a test keeps the two identical)."""
    lines = ["| Code | Name | Severity | OWASP | CWE | Fix | What it finds |", "|---|---|---|---|---|---|---|"]
    for rule in all_rules():
        cwe = ", ".join(rule.cwe_labels())
        lines.append(f"| {rule.code} | `{rule.name}` | {rule.severity.label} | {', '.join(rule.owasp)} | {cwe} "
                     f"| {_fix_label(rule)} | {rule.summary()} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def _fix_label(rule: Any) -> str:
    return "yes" if rule.fixable else ""


def _rule_record(rule: Any) -> dict[str, Any]:
    return {
        "code": rule.code,
        "name": rule.name,
        "severity": rule.severity.label,
        "precision": rule.precision.value,
        "owasp": list(rule.owasp),
        "cwe": rule.cwe_labels(),
        "summary": rule.summary(),
        "fixable": rule.fixable,
        "options": {key: _default(field) for key, field in rule.option_fields().items()},
    }


def _default(field: dataclasses.Field) -> Any:
    return field.default if field.default_factory is dataclasses.MISSING else field.default_factory()


@main.command()
@click.argument("code")
@_guarded
def explain(code: str) -> None:
    """Show the documentation of the rule CODE (a code like AL101 or a name like jwt-alg-none)."""
    from rich.console import Console
    from rich.markdown import Markdown

    wanted = code.strip()
    for rule in all_rules():
        if wanted.upper() == rule.code or wanted == rule.name:
            header = f"# {rule.code} {rule.name}\n\nSeverity: **{rule.severity.label}** · Precision: " \
                     f"{rule.precision.value} · OWASP {', '.join(rule.owasp)} · " \
                     f"{', '.join(rule.cwe_labels())}\n\n"  # fmt: skip
            Console(highlight=False).print(Markdown(header + rule.docs()))
            return
    expand_selector(wanted, "explain")  # raises with a "did you mean"
    raise UsageError(f"{code!r} names several rules; give one code")
