"""The per-file phase: read, gate, parse once, walk once with every rule, report.

Two gates keep libcst away from files no enabled rule or adapter can care about: the
rules' text gates (`Rule.applies_to`: imports, words, patterns) before anything is
parsed, then the rules' code gates (`Rule.applies_to_code`) on CPython's tree, which the
parse needs first anyway (authlint.gate). `FileSettings.gating = False` runs every rule
on every file and keeps every file's facts: the reference the gates are tested against. A rule that
raises is recorded as an internal error for that file (with its code and a short
traceback) and disabled for the rest of the file; the other rules carry on.
"""

from __future__ import annotations

import re
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import libcst

from authlint.fingerprints import statement_digest
from authlint.context import FileContext, PendingFinding
from authlint.facts.auth_checks import AuthCheckCollector
from authlint.facts.data_access import DataAccessCollector
from authlint.facts.file_facts import FactsCollector, import_facts
from authlint.fix import FixSource, fix_round, fix_until_stable
from authlint.frameworks import wants_facts
from authlint.gate import CodeSignals, code_signals
from authlint.model import SUPPRESSED_BY_COMMENT, FileError, FileResult, Finding, Severity, Span
from authlint.parse import Parsed, Screened, SourceError, decode, parse, read_source, screen
from authlint.positions import resolve_spans
from authlint.rule import FileRule
from authlint.suppress import suppression_table
from authlint.walk import Dispatch, walk

_IMPORT = re.compile(
    r"(?:^|;)[ \t]*(?:from[ \t]+([\w.]+)[ \t]+import\b|import[ \t]+([\w. \t,]+))", re.M
)


@dataclass(frozen=True)
class RuleSetting:
    """An enabled file rule with its configured options and severity."""

    rule: type[FileRule]
    options: Any
    severity: Severity


@dataclass(frozen=True)
class FileSettings:
    """What the engine needs to analyse any one file; picklable, sent once to each worker."""

    rules: tuple[RuleSetting, ...]
    # (compiled path matcher, codes) pairs from per-file-ignores
    per_file_ignores: tuple[tuple[Any, frozenset[str]], ...] = field(default=())
    # Whether to keep FileFacts for the link phase (project rules or `authlint routes`).
    collect_facts: bool = False
    # Project rules that need the full facts of files no adapter cares about (a models
    # module that imports only SQLAlchemy); their `requires`/`requires_text` gate those files.
    fact_rules: tuple[type, ...] = ()
    # Apply the fixes of reported findings (`--fix`/`--diff`); FileResult.fixed has the new text.
    fix: bool = False
    # False: no gate at all, every enabled rule runs on every file and (with `collect_facts`)
    # every file's full facts are kept. Slow; the reference that proves the gates conservative.
    gating: bool = True


def imported_modules(text: str) -> frozenset[str]:
    """Top-level modules the text imports anywhere (a cheap, generous reading of it)."""
    modules: set[str] = set()
    for match in _IMPORT.finditer(text):
        if match.group(1):
            modules.add(match.group(1).split(".", 1)[0])
            continue
        for part in match.group(2).split(","):
            words = part.split()
            if words:
                modules.add(words[0].split(".", 1)[0])
    modules.discard("")
    return frozenset(modules)


def ignored_codes(settings: FileSettings, relative_path: str) -> frozenset[str]:
    codes: set[str] = set()
    for matcher, matched_codes in settings.per_file_ignores:
        if matcher.match_file(relative_path):
            codes |= matched_codes
    return frozenset(codes)


def analyze_path(path: Path, display_path: str, config_relative_path: str, settings: FileSettings) -> FileResult:
    try:
        source = decode(read_source(path))
    except SourceError as exc:
        return _failed(display_path, exc.kind, exc.message)
    ignored = ignored_codes(settings, config_relative_path)
    if settings.fix:
        def analyze(text: str, fixing: bool) -> FileResult:
            return analyze_text(text, display_path, settings, ignored, config_relative_path, fixing)

        return fix_until_stable(source.text, source.encoding, analyze)
    return analyze_text(source.text, display_path, settings, ignored, config_relative_path)


def analyze_text(
    text: str,
    display_path: str,
    settings: FileSettings,
    ignored: frozenset[str] = frozenset(),
    module_path: str | None = None,
    fixing: bool = False,
) -> FileResult:
    """Analyse one file's text; `module_path` (relative to the project root) names its module.

    With `fixing`, the fixes of the findings are applied to the parsed text and the result
    carries the new text (`FileResult.fixed`); its findings are still those of `text`."""
    modules = imported_modules(text)
    enabled = [s for s in settings.rules if s.rule.code not in ignored]
    facts_path = (module_path or display_path) if settings.collect_facts else None
    if not settings.gating:
        return _on_large_stack(_parse_and_run, text, display_path, enabled, modules, facts_path, fixing)
    lowered = text.lower()
    active = [s for s in enabled if s.rule.applies_to(modules, text, lowered)]
    if not active and not (facts_path and _wants_facts(settings, modules, text, lowered)):
        return _unparsed(text, display_path, facts_path)
    return _on_large_stack(_gate_parse_and_run, text, lowered, display_path, active, modules, facts_path, settings,
                           fixing)  # fmt: skip


def _unparsed(text: str, display_path: str, facts_path: str | None) -> FileResult:
    """The result of a file no rule or adapter can care about: only its imports, for name resolution."""
    result = FileResult(display_path)
    if facts_path is not None:
        result.facts = import_facts(facts_path, text)
        result.facts.path = display_path
    return result


def _wants_facts(settings: FileSettings, modules: frozenset[str], text: str, lowered: str) -> bool:
    if wants_facts(modules, text, lowered):
        return True
    return any(rule.applies_to(modules, text, lowered) for rule in settings.fact_rules)


def _wants_facts_of_code(settings: FileSettings, code: CodeSignals, text: str, lowered: str) -> bool:
    """`_wants_facts` with the modules the import statements really import, and the fact rules' code gates."""
    if wants_facts(code.modules, text, lowered):
        return True
    return any(
        rule.applies_to(code.modules, text, lowered) and rule.applies_to_code(code) for rule in settings.fact_rules
    )


# Deeply nested code that CPython accepts still recurses deeply in libcst's native parser
# and code generator; a thread with a large stack (reserved, not committed, memory)
# keeps that from overflowing the process's 8 MB main stack.
_STACK_SIZE = 512 * 1024 * 1024


def _on_large_stack(function, *args):
    outcome: list = []

    def target() -> None:
        try:
            outcome.append((True, function(*args)))
        except BaseException as exc:  # handed back to the calling thread below
            outcome.append((False, exc))

    previous = threading.stack_size(_STACK_SIZE)
    try:
        thread = threading.Thread(target=target, name="authlint-parse")
    finally:
        threading.stack_size(previous)
    thread.start()
    thread.join()
    ok, value = outcome[0]
    if not ok:
        raise value
    return value


def _gate_parse_and_run(
    text: str, lowered: str, path: str, active: list[RuleSetting], modules: frozenset[str], facts_path: str | None,
    settings: FileSettings, fixing: bool,
) -> FileResult:  # fmt: skip
    """The code gates on CPython's tree, then (if anything is left) libcst on the same screen."""
    try:
        screened = screen(text)
    except SourceError as exc:
        return _failed(path, exc.kind, exc.message)
    if screened.tree is None:  # only libcst may read it: no signals, so no second gate
        return _parse_and_run(text, path, active, modules, facts_path, fixing, screened)
    code = code_signals(screened.tree)
    active = [s for s in active if s.rule.applies_to_code(code)]
    # A file parsed for a rule keeps full facts (they cost nothing more); otherwise only an adapter's
    # or a fact rule's interest is worth the parse.
    if not active and not (facts_path and _wants_facts_of_code(settings, code, text, lowered)):
        return _unparsed(text, path, facts_path)
    return _parse_and_run(text, path, active, modules, facts_path, fixing, screened)


def _parse_and_run(
    text: str, path: str, active: list[RuleSetting], modules: frozenset[str], facts_path: str | None,
    fixing: bool, screened: Screened | None = None,
) -> FileResult:  # fmt: skip
    try:
        parsed = parse(text, screened)
        return _run_rules(parsed, text, path, active, modules, facts_path, fixing)
    except SourceError as exc:
        return _failed(path, exc.kind, exc.message)
    except RecursionError:
        return _failed(path, "parse", "too deeply nested to analyse")


def _run_rules(
    parsed: Parsed,
    text: str,
    path: str,
    active: list[RuleSetting],
    modules: frozenset[str],
    facts_path: str | None,
    fixing: bool = False,
) -> FileResult:
    module = parsed.module
    ctx = FileContext(path, module, modules)
    result = FileResult(path, parsed=True)
    visitors: list[Any] = [ctx.tracker]
    if facts_path is not None:
        collector = FactsCollector(facts_path, module, ctx.resolver.module_scope, parsed.tree, text.splitlines())
        result.facts = collector.collect()
        result.facts.path = path
        result.facts.suppressions = suppression_table(text)
        visitors.append(AuthCheckCollector(ctx, collector.by_node))
        visitors.append(DataAccessCollector(ctx, collector.by_node, parsed.tree))
    visitors += [_RuleGuard(s.rule(ctx, s.options, s.severity), path, result.errors) for s in active]
    walk(module, Dispatch(visitors))
    findings, fixes = _findings(module, text, path, ctx.pending)
    result.findings = [f for f in findings if not f.suppressed_by]
    result.suppressed_findings = [f for f in findings if f.suppressed_by]
    result.suppressed = len(result.suppressed_findings)
    if fixing and fixes:
        _fix(result, module, text, fixes)
    return result


def _fix(result: FileResult, module: libcst.Module, text: str, fixes: list[FixSource]) -> None:
    try:
        result.fixed = fix_round(module, text, fixes)
    except RecursionError:
        result.errors.append(FileError(result.path, "fix", "not fixed: too deeply nested to rewrite"))
    except Exception as exc:  # a fix bug leaves the file as it was, and says so
        result.errors.append(FileError(result.path, "fix", f"not fixed: {type(exc).__name__}: {exc}"))


def _findings(
    module: libcst.Module, text: str, path: str, pending: list[PendingFinding]
) -> tuple[list[Finding], list[FixSource]]:
    """Every finding (those that suppression comments silence marked so), and the fixes of the reported ones."""
    if not pending:
        return [], []
    nodes = [p.node for p in pending] + [p.statement for p in pending if p.statement is not None]
    spans = resolve_spans(module, nodes)
    lines = text.splitlines()
    suppressions = suppression_table(text)
    findings, fixes = [], []
    for p in pending:
        span = spans[id(p.node)]
        statement_span = spans[id(p.statement)] if p.statement is not None else span
        silenced = suppressions.is_suppressed(p.rule.code, (span.line, statement_span.line))
        source_line = lines[span.line - 1] if span.line <= len(lines) else ""
        if p.fix is not None and not silenced:
            fixes.append(p.fix)
        digest = statement_digest(_statement_source(lines, p.statement, statement_span, span))
        findings.append(Finding(p.rule.code, p.rule.name, p.message, p.severity, path, span, statement_span.line,
                                source_line, statement_digest=digest,
                                suppressed_by=SUPPRESSED_BY_COMMENT if silenced else ""))  # fmt: skip
    return sorted(set(findings), key=lambda f: f.sort_key), fixes


def _statement_source(lines: list[str], statement: libcst.CSTNode | None, statement_span: Span, span: Span) -> str:
    """The flagged statement's lines; of a compound one (`def`, `if`...) those up to the flagged node, not its body."""
    simple = statement is None or isinstance(statement, libcst.SimpleStatementLine)
    last_line = statement_span.end_line if simple else span.end_line
    return "\n".join(lines[statement_span.line - 1 : last_line])


def _failed(path: str, kind: str, message: str) -> FileResult:
    return FileResult(path, errors=[FileError(path, kind, message)])


class _RuleGuard:
    """Forwards a rule's hooks, turning an exception into a reported internal error."""

    def __init__(self, rule: FileRule, path: str, errors: list[FileError]) -> None:
        self._rule = rule
        self._path = path
        self._errors = errors
        self._failed = False

    def __getattr__(self, name: str):
        method = getattr(self._rule, name, None)
        if method is None or not name.startswith(("visit_", "leave_")):
            return None

        def guarded(node: libcst.CSTNode) -> None:
            if self._failed:
                return
            try:
                method(node)
            except Exception as exc:  # a rule bug must not take the other rules down
                self._failed = True
                self._errors.append(self._internal_error(exc))

        return guarded

    def _internal_error(self, exc: Exception) -> FileError:
        code = self._rule.code
        detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3))
        message = f"rule {code} ({self._rule.name}) failed: {type(exc).__name__}: {exc}"
        return FileError(self._path, "internal", message, code=code, detail=detail)
