"""The human formats: `full` (findings with their source line, grouped by file) and `concise`.

Findings are built as `rich.text.Text` from escaped markup, so a message or a source
line holding `[bold]` or `[/]` is printed as written. File warnings are not listed here
(the CLI prints them on stderr) but the summary counts them.
"""

from __future__ import annotations

import io
from collections import Counter
from itertools import groupby

from rich.cells import cell_len
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from authlint.model import Finding, ScanResult, Severity

SEVERITY_STYLES = {
    Severity.CRITICAL: "bold red",
    Severity.HIGH: "red",
    Severity.MEDIUM: "yellow",
    Severity.LOW: "cyan",
}
TAB_SIZE = 4


def render_console(
    result: ScanResult,
    fmt: str,
    *,
    color: bool = False,
    statistics: bool = False,
    width: int | None = None,
    quiet: bool = False,
) -> str:
    """`quiet` prints the findings alone: no summary, no "all checks passed"."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        color_system="standard" if color else None,
        width=width or 100,
        highlight=False,
        soft_wrap=True,
        tab_size=TAB_SIZE,
    )
    findings = sorted(result.findings, key=lambda finding: finding.sort_key)
    if fmt == "full":
        _print_full(console, findings)
    elif fmt == "concise":
        _print_concise(console, findings)
    else:
        raise ValueError(f"not a console format: {fmt!r}")
    if not quiet:
        for line in _full_summary(result, findings) if fmt == "full" else [summary_line(result, findings)]:
            console.print(Text.from_markup(line))
    if statistics and findings:
        console.print()
        console.print(statistics_table(findings))
    if statistics and result.stale_baseline:
        console.print()
        console.print(stale_baseline_table(result.stale_baseline))
    # Table cells are padded to their column width; trailing blanks only get in the way.
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())


def _print_full(console: Console, findings: list[Finding]) -> None:
    for path, in_file in groupby(findings, key=lambda finding: finding.path):
        console.print(Text(path, style="bold underline"))
        for finding in in_file:
            console.print(Text.from_markup(_headline(finding, separator="  ")))
            for line in source_excerpt(finding):
                console.print(line)
        console.print()


def _print_concise(console: Console, findings: list[Finding]) -> None:
    for finding in findings:
        location = escape(f"{finding.path}:{finding.span.line}:{finding.span.column}:")
        style = SEVERITY_STYLES[finding.severity]
        console.print(
            Text.from_markup(
                f"[bold]{location}[/] [bold]{escape(finding.code)}[/] "
                f"[{style}]\\[{finding.severity.label}][/] {escape(finding.message)}"
            )
        )


def _headline(finding: Finding, separator: str) -> str:
    location = escape(f"{finding.path}:{finding.span.line}:{finding.span.column}")
    style = SEVERITY_STYLES[finding.severity]
    return separator.join(
        (
            f"[bold]{location}[/]",
            f"[bold]{escape(finding.code)}[/]",
            f"[{style}]{finding.severity.label}[/]",
            escape(finding.message),
        )
    )


def source_excerpt(finding: Finding) -> list[Text]:
    """The finding's source line with carets under its span, or nothing without a line."""
    line = finding.source_line.rstrip("\r\n")
    if not line.strip():
        return []
    gutter = f"{finding.span.line:>5} | "
    start, end = caret_range(finding, line)
    # Tabs are expanded here, not by rich, so that the carets line up with what is printed.
    before = line[:start].expandtabs(TAB_SIZE)
    marked = line[:end].expandtabs(TAB_SIZE)
    shown = Text.assemble((gutter, "dim"), line.expandtabs(TAB_SIZE))
    carets = Text.assemble((" " * (len(gutter) - 2) + "| ", "dim"), " " * cell_len(before))
    carets.append("^" * max(1, cell_len(marked) - cell_len(before)), style=SEVERITY_STYLES[finding.severity])
    return [shown, carets]


def caret_range(finding: Finding, line: str) -> tuple[int, int]:
    """0-based [start, end) of the span within `line`; a multi-line span runs to the line's end."""
    span = finding.span
    start = min(max(span.column - 1, 0), len(line))
    end = span.end_column - 1 if span.end_line == span.line else len(line.rstrip())
    return start, min(max(end, start), len(line))


def _full_summary(result: ScanResult, findings: list[Finding]) -> list[str]:
    lines = [summary_line(result, findings)]
    by_rule = Counter((finding.code, finding.name) for finding in findings)
    name_width = max((len(name) for _, name in by_rule), default=0)
    for (code, name), count in sorted(by_rule.items()):
        lines.append(f"  {escape(code)}  {escape(name.ljust(name_width))}  {count:>4}")
    return lines


def summary_line(result: ScanResult, findings: list[Finding]) -> str:
    """One line of markup: what was found, in how many files, and what could not be checked."""
    files = _plural(result.files_scanned, "file")
    if findings:
        found = _plural(len(findings), "finding")
        parts = [f"[bold]Found {found}[/] ({_severity_counts(findings)}) in {files}."]
    else:
        parts = [f"[bold green]All checks passed:[/] 0 findings in {files}."]
    if result.suppressed:
        by_baseline = f" ({result.baselined} by the baseline)" if result.baselined else ""
        parts.append(f"{result.suppressed} suppressed{by_baseline}.")
    stale = sum(count for _, count in result.stale_baseline)
    if stale:
        entries = "entry matches" if stale == 1 else "entries match"
        parts.append(f"[yellow]{stale} baseline {entries} nothing[/] (--statistics lists them).")
    unanalysed = len({warning.path for warning in result.file_warnings})
    if unanalysed:
        parts.append(f"[yellow]{_plural(unanalysed, 'file')} could not be analysed.[/]")
    if result.internal_errors:
        parts.append(f"[red]{_plural(len(result.internal_errors), 'internal error')}.[/]")
    return " ".join(parts)


def _severity_counts(findings: list[Finding]) -> str:
    counts = Counter(finding.severity for finding in findings)
    return ", ".join(
        f"[{SEVERITY_STYLES[severity]}]{counts[severity]} {severity.label}[/]"
        for severity in sorted(counts, reverse=True)
    )


def statistics_table(findings: list[Finding]) -> Table:
    """Counts per rule, most frequent first, like `ruff --statistics`."""
    counts = Counter(finding.code for finding in findings)
    names = {finding.code: finding.name for finding in findings}
    # A configured override can change a rule's severity per finding; show the worst.
    worst: dict[str, Severity] = {}
    for finding in findings:
        worst[finding.code] = max(worst.get(finding.code, finding.severity), finding.severity)
    table = Table(box=None, show_edge=False, pad_edge=False)
    table.add_column("Count", justify="right")
    table.add_column("Code")
    table.add_column("Name")
    table.add_column("Severity")
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        severity = worst[code]
        table.add_row(
            str(count),
            Text(code, style="bold"),
            Text(names[code]),
            Text(severity.label, style=SEVERITY_STYLES[severity]),
        )
    return table


def stale_baseline_table(stale: list) -> Table:
    """Baseline entries that matched nothing: fixed, or edited so they are reported again."""
    table = Table(title="Stale baseline entries (--write-baseline prunes them)", title_justify="left",
                  box=None, show_edge=False, pad_edge=False)  # fmt: skip
    table.add_column("Count", justify="right")
    table.add_column("Code")
    table.add_column("Path")
    table.add_column("Finding about")
    for key, count in stale:
        table.add_row(str(count), Text(key.code, style="bold"), Text(key.path), Text(key.subject))
    return table


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"
