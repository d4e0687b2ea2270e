"""The plain data that crosses process boundaries: severities, spans, findings, errors.

Everything here is picklable and free of libcst nodes, so workers can return it and
reporters can consume it without knowing how it was produced.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any


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


# Finding.suppressed_by: an inline `# authlint: ignore[...]` / `# noqa: AL...`, or the baseline file.
SUPPRESSED_BY_COMMENT = "comment"
SUPPRESSED_BY_BASELINE = "baseline"


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
class Location:
    """A place in a file, for what a finding relates to (`relatedLocations` in SARIF)."""

    path: str
    line: int
    message: str = ""


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
    # Other places that explain the finding: where authentication could have been declared.
    related: tuple[Location, ...] = ()
    # What identifies the finding whatever line it is on (baselines key on these): a digest of
    # the flagged statement's source, and for a finding about a route its `Route.label`.
    statement_digest: str = ""
    route: str = ""
    # Why it is not reported: "" (it is), SUPPRESSED_BY_COMMENT or SUPPRESSED_BY_BASELINE.
    suppressed_by: str = ""

    @property
    def sort_key(self) -> tuple:
        return (self.path, self.span.line, self.span.column, self.code, self.message)


# The path of an error of the link phase: a project rule (its `code`) or a framework adapter (no code).
PROJECT = "<project>"


@dataclass(frozen=True)
class FileError:
    """A file authlint could not analyse, or a rule that failed on it (`PROJECT`: in the link phase)."""

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
    suppressed_findings: list[Finding] = field(default_factory=list)  # those findings, for SARIF
    # What the link phase needs of this file (authlint.facts.file_facts.FileFacts), plain data.
    facts: Any = None
    # What `--fix` made of the file (authlint.fix.FixedText), plain data; None when unchanged.
    fixed: Any = None


@dataclass
class ScanResult:
    """The outcome of one `authlint check`, as reporters see it.

    `rules` are the enabled rule classes (SARIF lists them as `tool.driver.rules`);
    `root` is the absolute directory that finding paths are relative to. `suppressed`
    counts the findings silenced by comments or the baseline; `suppressed_findings` are
    those findings (each with its `suppressed_by`) and `stale_baseline` the baseline
    entries that matched nothing, as (`authlint.baseline.Key`, count) pairs.
    """

    root: str
    findings: list[Finding]
    errors: list[FileError]
    files_scanned: int
    rules: tuple = ()
    suppressed: int = 0
    routes: list = field(default_factory=list)  # the Route table, when the link phase ran
    files: tuple[str, ...] = ()  # the paths of the files scanned
    suppressed_findings: list[Finding] = field(default_factory=list)
    stale_baseline: list = field(default_factory=list)
    fixed: list = field(default_factory=list)  # authlint.fix.FixedFile of each file `--fix` would change
    files_parsed: int = 0  # how many of the files passed the gates and were parsed with libcst

    @property
    def baselined(self) -> int:
        return sum(1 for f in self.suppressed_findings if f.suppressed_by == SUPPRESSED_BY_BASELINE)

    @property
    def internal_errors(self) -> list[FileError]:
        return [e for e in self.errors if e.is_internal]

    @property
    def file_warnings(self) -> list[FileError]:
        return [e for e in self.errors if not e.is_internal]


@dataclass(frozen=True)
class AuthEvidence:
    """One reason to believe a route checks who is calling, and where that reason lives.

    `level` is where it applies from: "handler", "class", "router", "include", "app",
    "blueprint", "middleware" or "settings". `kind` is "authentication" (who you are),
    "authorization" (a role, scope or permission is required, which implies
    authentication) or "public" (the code says anyone may call, e.g. DRF `AllowAny`).
    """

    mechanism: str
    level: str
    location: Location
    kind: str = "authentication"
    requirements: tuple[str, ...] = ()  # roles, scopes or permissions named

    @property
    def authenticates(self) -> bool:
        return self.kind in ("authentication", "authorization")


@dataclass(frozen=True)
class Route:
    """One endpoint of the API, with everything the link phase learned about it."""

    framework: str
    methods: tuple[str, ...]
    path: str
    handler: str  # module-qualified name of the handler: "app.routes.users.read_user"
    location: Location  # the handler's `def` (or the class of a class-based view)
    column: int = 1
    source_line: str = ""
    path_params: tuple[str, ...] = ()
    auth: tuple[AuthEvidence, ...] = ()
    public: bool = False  # matched `public-routes`
    # Where authentication could have been declared for this route (router, include, app).
    levels: tuple[Location, ...] = ()

    @property
    def authenticated(self) -> bool:
        return any(e.authenticates for e in self.effective_auth)

    @property
    def effective_auth(self) -> tuple[AuthEvidence, ...]:
        """Evidence that applies: an explicit "public" at the handler or class overrides outer levels."""
        inner = [e for e in self.auth if e.level in ("handler", "class")]
        if any(e.kind == "public" for e in inner) and not any(e.authenticates for e in inner):
            return tuple(inner)
        return self.auth

    @property
    def requirements(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r for e in self.effective_auth for r in e.requirements))

    @property
    def label(self) -> str:
        return f"{'|'.join(self.methods)} {self.path}"
