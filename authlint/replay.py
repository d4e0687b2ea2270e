"""The code-generation state that records positions while libcst writes a module back out.

Kept apart from authlint.positions because subclassing libcst's CodegenState needs libcst
loaded: authlint.positions is imported by every rule (through the fact modules), and a run
the cache answers should never load libcst (see authlint/lazy.py).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

import libcst
from libcst._nodes.internal import CodegenState

_NO_RECORD = contextlib.nullcontext()


class AllFound(Exception):
    pass


@dataclass
class RecordingState(CodegenState):
    targets: set = field(default_factory=set)
    ranges: dict = field(default_factory=dict)
    line: int = 1
    column: int = 0
    open_starts: dict = field(default_factory=dict)
    # Where the last token of code (not whitespace, not a comment) ended: the end of
    # a node whose syntactic end libcst hoists from its last child.
    code_end: tuple = (1, 0)
    # Ranges whose start libcst hoists from their first child: they start at the next
    # token of code.
    awaiting_start: list = field(default_factory=list)

    def add_indent_tokens(self) -> None:
        for token in self.indent_tokens:
            self.column += len(token)

    def add_token(self, value: str) -> None:
        is_code = bool(value) and not value.isspace() and not value.startswith(("#", "\\"))
        if is_code and self.awaiting_start:
            for pending in self.awaiting_start:
                pending[0] = (self.line, self.column)
            self.awaiting_start.clear()
        if "\n" in value or "\r" in value:
            lines = value.replace("\r\n", "\n").replace("\r", "\n").split("\n")
            self.line += len(lines) - 1
            self.column = len(lines[-1])
        else:
            self.column += len(value)
        if is_code:
            self.code_end = (self.line, self.column)

    def pop_trailing_newline(self) -> None:
        pass

    def before_codegen(self, node: libcst.CSTNode) -> None:
        if id(node) in self.targets:
            self.open_starts[id(node)] = (self.line, self.column)

    def after_codegen(self, node: libcst.CSTNode) -> None:
        key = id(node)
        if key not in self.targets:
            return
        start = self.open_starts.pop(key, (self.line, self.column))
        self.ranges.setdefault(key, (start, (self.line, self.column)))
        if len(self.ranges) == len(self.targets) and not self.open_starts:
            raise AllFound

    def record_syntactic_position(self, node, *, start_node=None, end_node=None):  # noqa: ARG002
        if id(node) not in self.targets:
            return _NO_RECORD
        return self._record(node, hoisted_start=start_node is not None, hoisted_end=end_node is not None)

    @contextlib.contextmanager
    def _record(self, node: libcst.CSTNode, hoisted_start: bool, hoisted_end: bool) -> Iterator[None]:
        start = [(self.line, self.column)]
        if hoisted_start:
            self.awaiting_start.append(start)
        yield
        end = self.code_end if hoisted_end else (self.line, self.column)
        self.ranges[id(node)] = (start[0], end)
