"""Bytes -> text -> libcst module, with failures that say what went wrong and where."""

from __future__ import annotations

import io
import tokenize
from dataclasses import dataclass

import libcst


class SourceError(Exception):
    """A file that cannot be analysed. `kind` is "read", "decode" or "parse"."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True)
class Source:
    text: str
    encoding: str


def decode(data: bytes) -> Source:
    """Decode by BOM or PEP 263 coding cookie, defaulting to UTF-8, as Python does."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        raise SourceError("decode", _first_line(str(exc))) from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError("decode", f"cannot decode as {encoding}: {exc}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(text=text, encoding=encoding)


def parse(text: str) -> libcst.Module:
    if "\x00" in text:
        raise SourceError("parse", "source contains a null byte")
    try:
        return libcst.parse_module(text)
    except libcst.ParserSyntaxError as exc:
        reason = _first_line(exc.message) or "invalid syntax"
        raise SourceError(
            "parse", f"syntax error at line {exc.raw_line}, column {exc.raw_column + 1}: {reason}"
        ) from None
    except RecursionError:
        raise SourceError("parse", "too deeply nested for the parser") from None
    except Exception as exc:  # the native parser raises plain exceptions on odd input
        raise SourceError("parse", f"cannot parse: {_first_line(str(exc)) or type(exc).__name__}") from None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
