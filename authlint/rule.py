"""What a rule is: metadata, documentation, options, and the visitor hooks it implements.

A rule is one class in one module of `rules/`. Its metadata lives on the class, its
documentation in its docstring under fixed headings, and its options in a nested
`Options` dataclass that `[tool.authlint.rules.<CODE>]` fills in.
"""

from __future__ import annotations

import dataclasses
import inspect
import re
from typing import TYPE_CHECKING, Any, ClassVar

import libcst

from authlint.model import Precision, Severity

if TYPE_CHECKING:
    from authlint.context import FileContext
    from authlint.fix import FixSource
    from authlint.gate import CodeSignals
    from authlint.model import Location, Route
    from authlint.project import Project

DOC_HEADINGS = (
    "## What it does",
    "## Why is this bad?",
    "## Example",
    "## Use instead",
    "## References",
)
CODE_PATTERN = re.compile(r"^AL[1-9][0-9]{2}$")
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclasses.dataclass(frozen=True)
class NoOptions:
    pass


class Rule:
    """Metadata shared by every kind of rule."""

    code: ClassVar[str]
    name: ClassVar[str]
    severity: ClassVar[Severity]
    precision: ClassVar[Precision]
    owasp: ClassVar[tuple[str, ...]]
    cwe: ClassVar[tuple[int, ...]]
    # Top-level modules a file must import for the rule to apply (None: every file).
    requires: ClassVar[frozenset[str] | None] = None
    # A pattern the file's text must match for the rule to apply (None: every file). Like
    # `requires`, a cheap necessary condition checked before parsing: a rule about
    # `DEBUG = True` sets `re.compile(r"\bDEBUG\b")`, so files without it are never parsed.
    # With `words_in_code` it is matched against the code's names and literals instead
    # (`applies_to_code`), never against the whole text.
    requires_text: ClassVar[re.Pattern[str] | None] = None
    # Lowercase substrings one of which the lowercased text must contain: a prefilter in front
    # of `requires_text` (substring search runs at memory speed; a regex alternation of
    # words, once per rule per file, cost more than parsing the files that pass it).
    requires_words: ClassVar[tuple[str, ...] | None] = None
    # Whether the rule attaches fixes to (some of) its findings; its docs then say which under `## Fix`.
    fixable: ClassVar[bool] = False

    @classmethod
    def applies_to(cls, modules: frozenset[str], text: str, lowered: str | None = None) -> bool:
        """Whether a file importing `modules` with this text can matter to the rule."""
        if cls.requires is not None and not cls.requires & modules:
            return False
        if cls.requires_words is not None:
            lowered = text.lower() if lowered is None else lowered
            if not any(word in lowered for word in cls.requires_words):
                return False
        # With `words_in_code`, `applies_to_code` searches the pattern in the code's names and
        # literals, a fraction of the text; searching the whole text first (the credential
        # patterns are large) cost more than the CPython parse it could save.
        if cls.requires_text is None or cls.words_in_code:
            return True
        return cls.requires_text.search(text) is not None

    # The second gate, on the CPython tree of a file that passed `applies_to` (see authlint.gate).
    # Node kinds one of which must occur (None: any file): `frozenset({"Eq", "NotEq"})` for a
    # rule about `==` comparisons.
    requires_nodes: ClassVar[frozenset[str] | None] = None
    # Whether `requires_words`/`requires_text` must also match a name or a string literal of
    # the code, so that comments and docstrings no longer open the gate. Only for rules whose
    # vocabulary is names (credential terms, API names), never syntax (`DEBUG = True`).
    words_in_code: ClassVar[bool] = False

    @classmethod
    def applies_to_code(cls, code: CodeSignals) -> bool:
        """Whether a file whose code has these signals can matter to the rule (it passed `applies_to`).

        The default checks `requires` against the modules the import statements really import
        (not a docstring's `import jwt`), then `requires_nodes` and `words_in_code`. A rule may
        override it with a sharper condition that every one of its findings needs.
        """
        if cls.requires is not None and not cls.requires & code.modules:
            return False
        if cls.requires_nodes is not None and not code.has_any(cls.requires_nodes):
            return False
        return not cls.words_in_code or code.mentions(cls.requires_words, cls.requires_text)

    Options: ClassVar[type] = NoOptions

    @classmethod
    def docs(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        """The first line of the docstring: what the rule reports, in one sentence."""
        return cls.docs().split("\n", 1)[0].strip()

    @classmethod
    def doc_section(cls, heading: str) -> str:
        """The text under `## heading` in the docstring."""
        match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", cls.docs(), re.M | re.S)
        return match.group(1).strip() if match else ""

    @classmethod
    def cwe_labels(cls) -> list[str]:
        return [f"CWE-{number}" for number in cls.cwe]

    @classmethod
    def option_fields(cls) -> dict[str, dataclasses.Field]:
        """Options by their config spelling (kebab-case)."""
        return {f.name.replace("_", "-"): f for f in dataclasses.fields(cls.Options)}

    @classmethod
    def default_options(cls) -> Any:
        return cls.Options()


class FileRule(Rule):
    """A rule that looks at one file at a time.

    Subclasses implement libcst-style hooks (`visit_Call`, `leave_FunctionDef`, ...) that
    the engine calls during the single batched walk of each file. They read facts through
    `self.ctx` and report with `self.report(node, message)`; they never walk the tree
    themselves beyond a node's own children.
    """

    def __init__(self, ctx: FileContext, options: Any, severity: Severity) -> None:
        self.ctx = ctx
        self.options = options
        self.effective_severity = severity

    def report(
        self, node: libcst.CSTNode, message: str, severity: Severity | None = None, fix: FixSource | None = None
    ) -> None:
        """Report a finding at `node`; `fix` (a `Fix`, or a callable making one) is applied under `--fix`."""
        self.ctx.report(self, node, message, severity or self.effective_severity, fix)


class ProjectRule(Rule):
    """A rule over the whole project, run after the link phase.

    Subclasses implement `check()`, reading `self.project` (every file's facts, names
    resolved across modules) and `self.routes` (the Route table with each route's auth
    evidence), and report with `self.report_route(route, message)`. They never parse.

    Files the framework adapters care about always get full facts. A project rule that
    needs others (models modules) says which with `requires`/`requires_words`/`requires_text`,
    the same cheap pre-parse gates file rules use; without them it reads adapter files only.
    """

    def __init__(self, project: Project, routes: list[Route], options: Any, severity: Severity) -> None:
        self.project = project
        self.routes = routes
        self.options = options
        self.effective_severity = severity
        # (path, line, column, source line, message, severity, related, route label or "")
        self.reported: list[tuple[str, int, int, str, str, Severity, tuple[Location, ...], str]] = []

    def check(self) -> None:
        raise NotImplementedError

    def report_at(
        self, path: str, line: int, column: int, source_line: str, message: str,
        severity: Severity | None = None, related: tuple[Location, ...] = (), route: str = "",
    ) -> None:  # fmt: skip
        severity = severity or self.effective_severity
        self.reported.append((path, line, column, source_line, message, severity, related, route))

    def report_route(self, route: Route, message: str, severity: Severity | None = None) -> None:
        """A finding at the route's handler `def` (or class), related to the levels auth could come from."""
        where = route.location
        self.report_at(where.path, where.line, route.column, route.source_line, message, severity, route.levels,
                       route.label)  # fmt: skip
