"""The plain data that crosses process boundaries: severities, spans, findings, errors.

Everything here is picklable and free of libcst nodes, so workers can return it and
reporters can consume it without knowing how it was produced.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Severity(enum.IntEnum):
    """How bad a finding is. Ordered, so `--fail-on` is a comparison."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def sarif_level(self) -> str:
        # GitHub code scanning shows "error" as a failing alert and "note" as informational.
        return {1: "note", 2: "warning", 3: "error", 4: "error"}[self.value]

    @property
    def security_severity(self) -> str:
        # GitHub maps these scores to its Low / Medium / High / Critical badges.
        return {1: "3.0", 2: "5.5", 3: "8.0", 4: "9.5"}[self.value]

    @classmethod
    def parse(cls, text: str) -> Severity:
        try:
            return cls[text.strip().upper()]
        except KeyError:
            choices = ", ".join(s.label for s in cls)
            raise ValueError(f"unknown severity {text!r}; expected one of {choices}") from None


class Precision(enum.Enum):
    """How often a finding of the rule is a true positive (SARIF `precision`)."""

    VERY_HIGH = "very-high"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based, end-inclusive-line / end-exclusive-column region in code points."""

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class Finding:
    """One problem in one place.

    `statement_line` is the first line of the statement holding the span: a suppression
    comment there silences findings anywhere in a multi-line statement.
    """

    code: str
    name: str
    message: str
    severity: Severity
    path: str
    span: Span
    statement_line: int
    source_line: str = ""

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.message)


@dataclass(frozen=True)
class FileError:
    """A file authlint could not analyse, or a rule that failed on it."""

    path: str
    kind: str  # "read", "decode", "parse", "internal"
    message: str
    code: str | None = None  # the rule that failed, for kind == "internal"
    detail: str = ""  # a short traceback, for kind == "internal"

    @property
    def is_internal(self) -> bool:
        return self.kind == "internal"


@dataclass
class FileResult:
    """Everything the per-file phase learned about one file."""

    path: str
    findings: list[Finding] = field(default_factory=list)
    errors: list[FileError] = field(default_factory=list)
    parsed: bool = False
    suppressed: int = 0  # findings silenced by suppression comments


@dataclass
class ScanResult:
    """The outcome of one `authlint check`, as reporters see it.

    `rules` are the enabled rule classes (SARIF lists them as `tool.driver.rules`);
    `root` is the absolute directory that finding paths are relative to.
    """

    root: str
    findings: list[Finding]
    errors: list[FileError]
    files_scanned: int
    rules: tuple = ()
    suppressed: int = 0

    @property
    def internal_errors(self) -> list[FileError]:
        return [e for e in self.errors if e.is_internal]

    @property
    def file_warnings(self) -> list[FileError]:
        return [e for e in self.errors if not e.is_internal]
