"""Inline suppression comments.

`# authlint: ignore[AL101]` (or `[AL101, AL104]`) silences those codes on its own line,
or on the next line when the comment stands alone on the line above. `# noqa: AL101` is
honoured with explicit codes. A bare `# noqa` or `# authlint: ignore` never silences a
security finding. A suppression on the first line of a statement covers the whole
statement, so multi-line calls can be silenced where they start.
"""

from __future__ import annotations

import io
import re
import tokenize
from dataclasses import dataclass, field

_CODE = r"[A-Z]+[0-9]+"
_AUTHLINT = re.compile(rf"authlint:\s*ignore\[\s*({_CODE}(?:\s*,\s*{_CODE})*)\s*,?\s*\]", re.I)
_NOQA = re.compile(rf"noqa:\s*({_CODE}(?:[\s,]+{_CODE})*)", re.I)
_SPLIT = re.compile(r"[\s,]+")


@dataclass
class Suppression:
    comment_line: int
    codes: frozenset[str]
    used: set[str] = field(default_factory=set)


@dataclass
class SuppressionTable:
    by_line: dict[int, list[Suppression]] = field(default_factory=dict)

    def codes_for(self, line: int) -> list[Suppression]:
        return self.by_line.get(line, [])

    def is_suppressed(self, code: str, lines: tuple[int, ...]) -> bool:
        for line in lines:
            for suppression in self.codes_for(line):
                if code in suppression.codes:
                    suppression.used.add(code)
                    return True
        return False

    def unused(self) -> list[tuple[int, str]]:
        """(line, code) pairs of suppressions that silenced nothing."""
        seen: set[int] = set()
        out = []
        for suppressions in self.by_line.values():
            for suppression in suppressions:
                if id(suppression) in seen:
                    continue
                seen.add(id(suppression))
                out += [(suppression.comment_line, c) for c in sorted(suppression.codes - suppression.used)]
        return sorted(out)


def parse_codes(comment: str) -> frozenset[str]:
    codes: set[str] = set()
    for pattern in (_AUTHLINT, _NOQA):
        for match in pattern.finditer(comment):
            codes.update(code.upper() for code in _SPLIT.split(match.group(1)) if code)
    return frozenset(codes)


def suppression_table(text: str) -> SuppressionTable:
    table = SuppressionTable()
    if "authlint" not in text and "noqa" not in text:
        return table
    for line, own_line, comment in _comments(text):
        codes = parse_codes(comment)
        if not codes:
            continue
        suppression = Suppression(line, codes)
        table.by_line.setdefault(line, []).append(suppression)
        if own_line:
            table.by_line.setdefault(line + 1, []).append(suppression)
    return table


def _comments(text: str):
    """(line, stands alone on its line, comment text) for each comment."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.COMMENT:
                yield token.start[0], not token.line[: token.start[1]].strip(), token.string
    except (tokenize.TokenError, SyntaxError, IndentationError):
        return
