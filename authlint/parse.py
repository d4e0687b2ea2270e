"""Bytes -> text -> libcst module, with failures that say what went wrong and where."""

from __future__ import annotations

import ast
import io
import os
import stat
import tokenize
import warnings
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


def read_source(path: str | os.PathLike) -> bytes:
    """The bytes of a regular file; a FIFO, device or socket is refused without blocking on it."""
    try:
        # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise SourceError("read", f"cannot read: {exc.strerror or exc}") from None
    with os.fdopen(descriptor, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not stat.S_ISREG(mode):
            raise SourceError("read", f"not a regular file ({_file_type(mode)})")
        try:
            return handle.read()
        except OSError as exc:
            raise SourceError("read", f"cannot read: {exc.strerror or exc}") from None


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):  # fmt: skip
        if test(mode):
            return name
    return "a special file"


def decode(data: bytes) -> Source:
    """Decode by BOM or PEP 263 coding cookie, defaulting to UTF-8, as Python does."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
    except SyntaxError as exc:
        # tokenize says "invalid or missing encoding declaration" for any undecodable bytes
        reason = _first_line(str(exc))
        if "invalid or missing" in reason:
            reason = "cannot decode: not UTF-8 text and no valid coding declaration (binary file?)"
        raise SourceError("decode", reason) from None
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise SourceError("decode", f"cannot decode as {encoding}: {exc}") from None
    if text.startswith("\ufeff"):
        text = text[1:]
    return Source(text=text, encoding=encoding)


_TOO_DEEP = "too deeply nested to analyse"


@dataclass(frozen=True)
class Parsed:
    module: libcst.Module
    # CPython's tree of the same source, for cheap line numbers; None when only libcst
    # can parse the file (grammar newer than the running Python).
    tree: ast.Module | None


@dataclass(frozen=True)
class Screened:
    """CPython's reading of a source: its tree, or the syntax error it reported (both may be None)."""

    tree: ast.Module | None
    error: SyntaxError | None


def screen(text: str) -> Screened:
    """CPython's parse of `text`, which `parse` needs first; raises SourceError on what libcst must not see.

    Exposed so that the engine's second gate reads the same tree (authlint.gate) before
    deciding whether the libcst parse is worth it.
    """
    if "\x00" in text:
        raise SourceError("parse", "source contains a null byte")
    return Screened(*_screen_with_cpython(text))


def parse(text: str, screened: Screened | None = None) -> Parsed:
    """libcst's parse of `text`; `screened` is `screen(text)` when the caller already has it."""
    screened = screened or screen(text)
    tree, cpython_error = screened.tree, screened.error
    try:
        return Parsed(libcst.parse_module(text), tree)
    except libcst.ParserSyntaxError as exc:
        if cpython_error is not None and cpython_error.lineno:
            # CPython says it better ("Missing parentheses in call to 'print'").
            line, column, reason = cpython_error.lineno, cpython_error.offset or 1, cpython_error.msg
        else:
            line, column, reason = exc.raw_line, exc.raw_column + 1, _first_line(exc.message)
        raise SourceError("parse", f"syntax error at line {line}, column {column}: {reason or 'invalid syntax'}") from None
    except RecursionError:
        raise SourceError("parse", _TOO_DEEP) from None
    except Exception as exc:  # the native parser raises plain exceptions on odd input
        raise SourceError("parse", f"cannot parse: {_first_line(str(exc)) or type(exc).__name__}") from None


def _screen_with_cpython(text: str) -> tuple[ast.Module | None, SyntaxError | None]:
    """Refuse nesting that would crash libcst; return CPython's syntax error, if any.

    libcst's native parser overflows the C stack (a segfault, not an exception) on
    nesting that CPython itself refuses. CPython's parser checks depth safely and costs a
    tenth of libcst's, so it screens first. Ordinary syntax errors are left for libcst to
    confirm: it knows newer grammar than the running Python may.
    """
    try:
        with warnings.catch_warnings():
            # Warnings about the scanned code ("invalid escape sequence") are not authlint's to
            # print, and under -W error they would turn a valid file into a syntax error.
            warnings.simplefilter("ignore")
            return ast.parse(text), None
    except (RecursionError, MemoryError):
        raise SourceError("parse", _TOO_DEEP) from None
    except SyntaxError as exc:
        if "too many nested" in str(exc) or "too complex" in str(exc):
            raise SourceError("parse", f"{_TOO_DEEP}: {exc.msg}") from None
        return None, exc
    except ValueError:
        pass
    return None, None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""
