"""Automatic fixes: what a rule may attach to a finding, and applying them to a file.

A rule that can fix a finding attaches a `Fix` when it reports it: node replacements in
the file's libcst tree, plus modules the new code needs imported. The engine keeps the
fixes of reported findings only (suppressed and ignored ones are never fixed) and, when
fixing, applies them here in one libcst transform, which preserves every byte of
formatting and every comment outside the replaced nodes. Fixes whose nodes overlap one
already taken wait for the next round: the file is analysed again after each round, as
Ruff does, until nothing is left to fix or `MAX_ROUNDS` is reached.

A fix may be a zero-argument callable returning a `Fix` (or None): it is only called when
fixing, after the walk, so a rule may decide with what it learnt from the whole file, and
a scan without `--fix` builds nothing.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence, Union

import libcst

from authlint.model import FileError, FileResult
from authlint.walk import walk_nodes

if TYPE_CHECKING:
    from authlint.context import FileContext

# Rounds of fix-then-analyse before giving up on reaching a fixed point.
MAX_ROUNDS = 10


@dataclass(frozen=True)
class Replace:
    """Replace `node` (a node of the analysed tree) by `replacement`."""

    node: libcst.CSTNode
    replacement: libcst.CSTNode


@dataclass(frozen=True)
class Fix:
    """The edits that fix one finding, and the modules (`import name`) the new code uses."""

    edits: tuple[Replace, ...]
    imports: tuple[str, ...] = ()


FixSource = Union[Fix, Callable[[], Union[Fix, None]]]


@dataclass(frozen=True)
class FixedText:
    """What fixing did to one file: plain data, so it crosses process boundaries (and caches)."""

    original: str
    text: str
    encoding: str
    applied: int  # findings fixed

    def diff(self, path: str) -> str:
        lines = difflib.unified_diff(
            self.original.splitlines(keepends=True), self.text.splitlines(keepends=True), path, path
        )
        return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


# Building fixes (for rules) -----------------------------------------------------------


def replace(node: libcst.CSTNode, replacement: libcst.CSTNode | None, imports: Sequence[str] = ()) -> Fix | None:
    """A one-edit fix, or None when there is no replacement (so rules can pass a helper's result on).

    An expression written in parentheses, `(a == b)`, keeps them around a replacement that has none."""
    if replacement is None:
        return None
    if getattr(node, "lpar", None) and not getattr(replacement, "lpar", True):
        replacement = replacement.with_changes(lpar=node.lpar, rpar=node.rpar)  # type: ignore[attr-defined]
    return Fix((Replace(node, replacement),), tuple(imports))


def expression(code: str) -> libcst.BaseExpression:
    return libcst.parse_expression(code)


def module_usable(ctx: FileContext, name: str) -> bool:
    """Whether `name` at the current point of the walk is free or already the module `name`,
    so that code spelling `name.attr` after `import name` means what it says."""
    binding = ctx.resolver.lookup(name)
    return binding is None or (binding.kind == "import" and binding.qualified == name)


def with_keywords(
    call: libcst.Call, add: Sequence[tuple[str, libcst.BaseExpression]] = (), remove: Iterable[str] = ()
) -> libcst.Call | None:
    """`call` with keyword arguments appended after its last argument and others removed,
    laid out like the call's own arguments (one line, or one per line with a trailing comma).
    None when an argument to remove carries a comment, which would be lost or misplaced."""
    args = list(call.args)
    for keyword in remove:
        args = _without(args, keyword)
        if args is None:
            return None
    for keyword, value in add:
        args = _appended(call, args, libcst.Arg(value, keyword=libcst.Name(keyword), equal=libcst.AssignEqual(libcst.SimpleWhitespace(""), libcst.SimpleWhitespace(""))))
    return call.with_changes(args=tuple(args))




def _without(args: list[libcst.Arg], keyword: str) -> list[libcst.Arg] | None:
    index = next(i for i, arg in enumerate(args) if arg.keyword is not None and arg.keyword.value == keyword)
    removed = args.pop(index)
    if _comments(removed):
        return None
    if index == len(args) and args:  # the last one: its neighbour inherits the trailing comma and layout
        args[-1] = args[-1].with_changes(comma=removed.comma, whitespace_after_arg=removed.whitespace_after_arg)
    return args


def _appended(call: libcst.Call, args: list[libcst.Arg], new: libcst.Arg) -> list[libcst.Arg]:
    if not args:
        return [new]
    last = args[-1]
    layout = _argument_layout(call, args)
    if layout is None:  # one line: `f(a, b)` -> `f(a, b, new)`
        separator = libcst.Comma(whitespace_after=libcst.SimpleWhitespace(" "))
        return [*args[:-1], last.with_changes(comma=separator), new.with_changes(comma=last.comma)]
    # One argument per line: the new one goes on its own line; a comment after the old last
    # argument stays on that argument's line.
    after_last = last.comma.whitespace_after if isinstance(last.comma, libcst.Comma) else last.whitespace_after_arg
    first_line = after_last.first_line if isinstance(after_last, libcst.ParenthesizedWhitespace) else None
    separator = libcst.Comma(
        whitespace_after=layout.with_changes(first_line=first_line or libcst.TrailingWhitespace(), empty_lines=())
    )
    closing = _closing_line(after_last)
    if isinstance(last.comma, libcst.Comma):
        new = new.with_changes(comma=libcst.Comma(whitespace_after=closing))
    else:
        new = new.with_changes(whitespace_after_arg=closing)
    return [*args[:-1], last.with_changes(comma=separator, whitespace_after_arg=libcst.SimpleWhitespace("")), new]


def _argument_layout(call: libcst.Call, args: list[libcst.Arg]) -> libcst.ParenthesizedWhitespace | None:
    """The line break and indentation before the call's last argument; None when its arguments share one line."""
    layouts = [arg.comma.whitespace_after for arg in args[:-1] if isinstance(arg.comma, libcst.Comma)]
    for whitespace in [*reversed(layouts), call.whitespace_before_args]:
        if isinstance(whitespace, libcst.ParenthesizedWhitespace):
            return whitespace
    return None


def _closing_line(whitespace: libcst.BaseParenthesizableWhitespace) -> libcst.BaseParenthesizableWhitespace:
    """The line break before `)`, without the comment of the line it ends."""
    if isinstance(whitespace, libcst.ParenthesizedWhitespace):
        return whitespace.with_changes(first_line=libcst.TrailingWhitespace(), empty_lines=())
    return whitespace


# Applying fixes ------------------------------------------------------------------------


def resolve(fix: FixSource | None) -> Fix | None:
    return fix() if callable(fix) else fix


def apply_fixes(module: libcst.Module, fixes: Iterable[Fix]) -> tuple[str, int]:
    """The module's code with every fix that does not overlap an earlier one applied, and how many were."""
    taken: set[int] = set()
    replacements: dict[int, libcst.CSTNode] = {}
    imports: list[str] = []
    applied = 0
    for fix in fixes:
        edited = [set(map(id, walk_nodes([edit.node]))) for edit in fix.edits]
        if any(nodes & taken for nodes in edited) or not all(map(_keeps_comments, fix.edits)):
            continue
        for nodes in edited:
            taken |= nodes
        replacements.update((id(edit.node), edit.replacement) for edit in fix.edits)
        imports += [name for name in fix.imports if name not in imports]
        applied += 1
    if not applied:
        return module.code, 0
    fixed = module.visit(_replacer_type()(replacements))
    return _with_imports(fixed, imports).code, applied


def _keeps_comments(edit: Replace) -> bool:
    """A fix never drops a comment: an edit that would is not made."""
    before = _comments(edit.node)
    after = _comments(edit.replacement)
    return all(before.count(comment) <= after.count(comment) for comment in before)


def _comments(node: libcst.CSTNode) -> list[str]:
    found: list[str] = []

    class Collector(libcst.CSTVisitor):
        def visit_Comment(self, comment: libcst.Comment) -> None:
            found.append(comment.value)

    node.visit(Collector())
    return found


@functools.cache
def _replacer_type() -> type:
    """Defined on first use: subclassing libcst's transformer loads libcst (authlint/lazy.py)."""

    class Replacer(libcst.CSTTransformer):
        def __init__(self, replacements: dict[int, libcst.CSTNode]) -> None:
            super().__init__()
            self._replacements = replacements

        def on_visit(self, node: libcst.CSTNode) -> bool:
            return id(node) not in self._replacements

        def on_leave(self, original_node: libcst.CSTNode, updated_node: libcst.CSTNode):  # type: ignore[override]
            return self._replacements.get(id(original_node), updated_node)

    return Replacer


def _with_imports(module: libcst.Module, names: list[str]) -> libcst.Module:
    """`import name` for each name not imported so at the top level, after the docstring,
    `from __future__` and the module's leading imports."""
    missing = [name for name in names if not _imports_module(module, name)]
    if not missing:
        return module
    body = list(module.body)
    position = _import_position(body)
    statements = [libcst.parse_statement(f"import {name}", module.config_for_parsing) for name in missing]
    if position == 0 and body:  # the file's leading comments stay at its top
        statements[0] = statements[0].with_changes(leading_lines=body[0].leading_lines)
        body[0] = body[0].with_changes(leading_lines=())
    return module.with_changes(body=(*body[:position], *statements, *body[position:]))


def _imports_module(module: libcst.Module, name: str) -> bool:
    for statement in module.body:
        for small in getattr(statement, "body", ()) if isinstance(statement, libcst.SimpleStatementLine) else ():
            if isinstance(small, libcst.Import) and any(
                alias.asname is None and _dotted(alias.name) == name for alias in small.names
            ):
                return True
    return False


def _import_position(body: list[libcst.BaseStatement]) -> int:
    """After the docstring and the imports that open the module."""
    position = 0
    for index, statement in enumerate(body):
        if _is_import(statement):
            position = index + 1
        elif not (index == 0 and _is_docstring(statement)):
            break
        elif index == 0:
            position = 1
    return position


def _is_import(statement: libcst.BaseStatement) -> bool:
    return isinstance(statement, libcst.SimpleStatementLine) and all(
        isinstance(small, (libcst.Import, libcst.ImportFrom)) for small in statement.body
    )


def _is_docstring(statement: libcst.BaseStatement) -> bool:
    return (
        isinstance(statement, libcst.SimpleStatementLine)
        and len(statement.body) == 1
        and isinstance(statement.body[0], libcst.Expr)
        and isinstance(statement.body[0].value, (libcst.SimpleString, libcst.ConcatenatedString))
    )


def _dotted(node: libcst.BaseExpression) -> str:
    if isinstance(node, libcst.Attribute):
        return f"{_dotted(node.value)}.{node.attr.value}"
    return node.value if isinstance(node, libcst.Name) else ""


# Fixing a file until nothing is left to fix ----------------------------------------------


def fix_until_stable(text: str, encoding: str, analyze: Callable[[str, bool], FileResult]) -> FileResult:
    """Analyse and fix `text` in rounds; the result's findings are those left in the fixed text.

    `analyze(text, fixing)` is one engine pass; with `fixing` it sets `result.fixed` to the
    text after that pass's fixes. A round whose output does not parse abandons every fix.
    """
    current, applied = text, 0
    for _ in range(MAX_ROUNDS):
        result = analyze(current, True)
        if current != text and any(error.kind == "parse" for error in result.errors):
            return _abandoned(analyze(text, False), "a fix produced code that does not parse")
        if result.fixed is None:
            break
        current, applied = result.fixed.text, applied + result.fixed.applied
    else:
        result = analyze(current, False)
    result.fixed = FixedText(text, current, encoding, applied) if current != text else None
    return result


def _abandoned(result: FileResult, reason: str) -> FileResult:
    result.errors.append(FileError(result.path, "fix", f"not fixed: {reason}; the file is left unchanged"))
    return result


def fix_round(module: libcst.Module, text: str, fixes: list[FixSource]) -> FixedText | None:
    """One round's fixes applied to the parsed module; None when none applies."""
    resolved = [fix for fix in map(resolve, fixes) if fix is not None]
    if not resolved:
        return None
    code, applied = apply_fixes(module, resolved)
    return FixedText(text, code, "utf-8", applied) if applied and code != text else None


# Writing fixed files (for the CLI) -----------------------------------------------------------


@dataclass(frozen=True)
class FixedFile:
    """A scanned file that fixing changed: where it is, how reports name it, and its new text."""

    path: Path
    display: str
    fixed: FixedText


def write_fixed(
    files: Sequence[FixedFile], write: Callable[[Path, str, str], None]
) -> tuple[list[FixedFile], list[str]]:
    """Write each file's fixed text with `write(path, text, encoding)`: the files written, and
    one message per file that could not be."""
    written, failures = [], []
    for file in files:
        try:
            write(file.path, file.fixed.text, file.fixed.encoding)
        except (OSError, UnicodeEncodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            failures.append(f"cannot write {file.display}: {reason}; the file is left unchanged")
        else:
            written.append(file)
    return written, failures


def summary(files: Sequence[FixedFile], verb: str) -> str:
    """`Fixed 3 findings in 2 files.` (or `Would fix ...`)."""
    findings = sum(file.fixed.applied for file in files)
    return f"{verb} {_count(findings, 'finding')} in {_count(len(files), 'file')}."


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"
