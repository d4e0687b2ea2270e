"""The incremental cache: per-file results, and whole scans, kept between runs.

What is kept. Per file, its `FileResult` (findings, errors, facts and suppression table)
under a key of everything that result depends on: the file's bytes, authlint's own code,
the file settings that apply to it (enabled file rules with their options and
severities, the per-file-ignores that match it, whether facts are kept and which project
rules want them) and the two paths the result embeds (display path and path from the
project root, which names its module). Per scan, the finished report (every finding,
project-rule findings included, every file error and route) under a key of all its file
keys plus the link settings and project rules. So a run with nothing changed hashes the
files, reads one entry and reports, never loading libcst (see authlint/lazy.py); a run
with one file changed reads the other files' facts, analyses that one and links again.

Where. `.authlint_cache/` in the project root (the directory of the configuration file,
else the scanned directory), or `cache-dir` in the configuration, or `AUTHLINT_CACHE_DIR`
(which wins, as RUFF_CACHE_DIR does for Ruff). A `.gitignore` of `*` keeps it out of
commits and a `CACHEDIR.TAG` out of backups. Inside, one folder per authlint build holds
`files/` and `scans/`. An entry's file name is derived from what it is about (the file
and settings, or the scan's arguments) and its full key, content included, is stored
inside it: a changed file overwrites its own entry instead of adding one, so the cache
grows with the project, not with its history, and needs no pruning. Builds of authlint
that are no longer used leave their folder behind; deleting the cache is always safe.

Safety. Entries are JSON; the decoder builds only dataclasses and enums defined in a fixed
list of authlint modules (`_MODULES`), by name, with their own constructors: loading an
entry cannot run code, unlike pickle. An entry that is unreadable, truncated, from
another format or build, or for another key is a miss and is rebuilt, never an error.
Writes go to a temporary file in the same folder and are renamed into place, so a reader
sees a whole entry or none, and two concurrent runs at worst both write the same entry.
A cache folder that cannot be written means running without the cache, with one warning.

The build is `__version__`, the Python and libcst versions, and the size and modification
time of every source file of authlint and its rules: an editable install or a checkout
changes code without changing the version, and a stale result from old rule code would
be a silent wrong answer.
"""

from __future__ import annotations

import base64
import dataclasses
import enum
import hashlib
import importlib
import importlib.metadata
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from authlint import __version__, runner
from authlint.discovery import SourceFile
from authlint.engine import FileSettings, ignored_codes
from authlint.model import FileResult, ScanResult
from authlint.parse import SourceError, read_source

CACHE_DIR_NAME = ".authlint_cache"
CACHE_DIR_ENV = "AUTHLINT_CACHE_DIR"
FORMAT = 1

# The modules whose dataclasses and enums an entry may hold: everything a FileResult or
# a report is made of. The decoder imports nothing else and builds nothing else.
_MODULES = (
    "authlint.model",
    "authlint.suppress",
    "authlint.facts.file_facts",
    "authlint.facts.expr",
    "authlint.facts.data_access",
    "authlint.facts.auth_checks",
)
# File errors that say something about the file's content. Others (it could not be read,
# it ran past --file-timeout, its worker crashed) may not happen next time: not kept.
_LASTING_ERRORS = frozenset({"decode", "parse", "internal"})

# What each folder of a build holds.
_KINDS = {"files": FileResult, "scans": ScanResult}

_GITIGNORE = "# Created by authlint: the cache is never committed.\n*\n"
_CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by authlint.\n"
    "# For information about cache directory tags see https://bford.info/cachedir/\n"
)


class CacheError(Exception):
    """An entry that cannot be encoded or decoded; the caller treats it as a miss."""


# The codec -------------------------------------------------------------------------


def encode(value: Any) -> Any:
    """`value` as JSON-ready data, with tags for what JSON lacks: tuples, sets, bytes, dataclasses, enums."""
    kind = type(value)
    if value is None or kind in (str, int, float, bool):
        return value
    if kind is list:
        return [encode(item) for item in value]
    if kind is tuple:
        return {"$t": [encode(item) for item in value]}
    if kind is dict:
        if all(type(key) is str and not key.startswith("$") for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {"$m": [[encode(key), encode(item)] for key, item in value.items()]}
    if kind in (frozenset, set):
        return {"$fs" if kind is frozenset else "$s": [encode(item) for item in value]}
    if kind is bytes:
        return {"$b": base64.b64encode(value).decode("ascii")}
    if isinstance(value, enum.Enum):
        return {_tag(kind): encode(value.value)}
    return {_tag(kind): [encode(getattr(value, f.name)) for f in _fields(kind)]}


def loads(text: str | bytes) -> Any:
    """The inverse of `encode` (after `json.dumps`); raises CacheError for anything it does not know.

    Tagged objects are rebuilt by the JSON parser's object hook, innermost first, so no
    Python code walks the lists, strings and numbers in between.
    """
    return json.loads(text, object_hook=_untag)


def _untag(data: dict) -> Any:
    if len(data) != 1:
        return data
    tag, value = next(iter(data.items()))
    if not tag.startswith("$"):
        return data
    if tag == "$t":
        return tuple(value)
    if tag == "$m":
        return {key: item for key, item in value}
    if tag == "$fs":
        return frozenset(value)
    if tag == "$s":
        return set(value)
    if tag == "$b":
        return base64.b64decode(value, validate=True)
    cls, fields = _allowed(tag)
    if fields is None:
        return cls(value)
    if type(value) is not list or len(value) != len(fields):
        raise CacheError(f"{tag}: expected {len(fields)} fields")
    return _build(cls, fields, value)


_fields_by_class: dict[type, tuple[dataclasses.Field, ...]] = {}
_allowed_by_tag: dict[str, tuple[type, tuple[dataclasses.Field, ...] | None]] = {}
_MODULE_BY_SHORT_NAME = {module.rsplit(".", 1)[-1]: module for module in _MODULES}


def _fields(cls: type) -> tuple[dataclasses.Field, ...]:
    fields = _fields_by_class.get(cls)
    if fields is None:
        fields = _fields_by_class[cls] = dataclasses.fields(cls)
    return fields


def _tag(cls: type) -> str:
    """`$expr:Call`: "$", the module's last name, the class; short, for entries are mostly tags."""
    if cls.__module__ not in _MODULES or not (dataclasses.is_dataclass(cls) or issubclass(cls, enum.Enum)):
        raise CacheError(f"{cls.__module__}.{cls.__qualname__} is not allowed in the cache")
    return f"${cls.__module__.rsplit('.', 1)[-1]}:{cls.__qualname__}"


def _allowed(tag: str) -> tuple[type, tuple[dataclasses.Field, ...] | None]:
    """The class a tag names, and its fields (None for an enum); only those `_tag` can produce."""
    known = _allowed_by_tag.get(tag)
    if known is not None:
        return known
    short, _, name = tag[1:].partition(":")
    module_name = _MODULE_BY_SHORT_NAME.get(short)
    cls = getattr(importlib.import_module(module_name), name, None) if module_name else None
    if not isinstance(cls, type) or cls.__module__ != module_name:
        raise CacheError(f"{tag!r} is not an authlint type")
    if dataclasses.is_dataclass(cls):
        known = (cls, _fields(cls))
    elif issubclass(cls, enum.Enum):
        known = (cls, None)
    else:
        raise CacheError(f"{tag!r} is neither a dataclass nor an enum")
    _allowed_by_tag[tag] = known
    return known


def _build(cls: type, fields: tuple[dataclasses.Field, ...], values: list[Any]) -> Any:
    if all(f.init for f in fields):
        return cls(*values)
    instance = cls(**{f.name: v for f, v in zip(fields, values) if f.init})
    for f, v in zip(fields, values):
        if not f.init:
            object.__setattr__(instance, f.name, v)
    return instance


# Keys -------------------------------------------------------------------------------


def fingerprint(value: Any) -> Any:
    """A JSON-ready description of settings that is the same in every process: classes and
    functions by name (a repr with an address would make every key new), dataclasses by their fields."""
    if isinstance(value, type) or (callable(value) and hasattr(value, "__qualname__")):
        return f"{value.__module__}.{value.__qualname__}"
    if isinstance(value, enum.Enum):
        return [type(value).__name__, value.value]
    if dataclasses.is_dataclass(value):
        return [type(value).__name__, {f.name: fingerprint(getattr(value, f.name)) for f in dataclasses.fields(value)}]
    if isinstance(value, (list, tuple)):
        return [fingerprint(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted(fingerprint(item) for item in value)
    if isinstance(value, dict):
        return sorted([str(key), fingerprint(item)] for key, item in value.items())
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def digest(*parts: Any) -> str:
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.blake2b(text.encode("utf-8"), digest_size=20).hexdigest()


def build_id() -> str:
    """This build of authlint: its version and the state of its own source files (see the module docs)."""
    from authlint.registry import rules_package

    roots = {Path(__file__).resolve().parent, *(Path(p).resolve() for p in rules_package().__path__)}
    state = []
    for root in sorted(roots):
        for path in sorted(root.rglob("*.py")):
            stat = path.stat()
            state.append((path.relative_to(root).as_posix(), stat.st_size, stat.st_mtime_ns))
    # CPython decides what is screened out or gated, libcst what is parsed: either upgraded, results change.
    runtime = (sys.implementation.cache_tag, sys.version, importlib.metadata.version("libcst"))
    return f"{__version__}-{digest(FORMAT, state, runtime)[:16]}"


def _settings_fingerprint(settings: FileSettings) -> str:
    # per-file-ignores are compiled matchers; what they mean for a file is in its own key.
    fields = {f.name: getattr(settings, f.name) for f in dataclasses.fields(settings) if f.name != "per_file_ignores"}
    return digest(fingerprint(fields))


@dataclasses.dataclass(frozen=True)
class FileKey:
    slot: str  # names the entry: the file and the settings, not its content
    full: str  # everything the result depends on, content included


# The store --------------------------------------------------------------------------


class ResultCache:
    """Per-file results and whole scans under one cache folder; `directory=None` caches nothing."""

    def __init__(self, directory: Path | None, warn: Callable[[str], None] = lambda message: None) -> None:
        self.directory = directory
        self._warn = warn
        self._writable = directory is not None
        self._build = build_id() if directory is not None else ""
        self._unsettled = False  # a file changed while analysed: this scan's whole result is not kept

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    # Per file

    def file_keys(self, files: Sequence[SourceFile], settings: FileSettings) -> list[FileKey | None]:
        """One key per file; None for a file that cannot be read now (it is analysed, and fails, as usual)."""
        if not self.enabled:
            return [None] * len(files)
        settings_id = _settings_fingerprint(settings)
        return [self._file_key(file, settings, settings_id) for file in files]

    @staticmethod
    def _file_key(file: SourceFile, settings: FileSettings, settings_id: str) -> FileKey | None:
        try:
            content = hashlib.blake2b(read_source(file.path), digest_size=20).hexdigest()
        except SourceError:  # a FIFO, a device, no permission: analysed, and reported, without a key
            return None
        ignored = sorted(ignored_codes(settings, file.relative_to_root))
        slot = digest("file", settings_id, file.display, file.relative_to_root, ignored)
        return FileKey(slot, digest(slot, content))

    def analyze(
        self, files: Sequence[SourceFile], settings: FileSettings, jobs: int,
        keys: Sequence[FileKey | None] | None = None, timeout: float | None = runner.DEFAULT_FILE_TIMEOUT,
    ) -> list[FileResult]:  # fmt: skip
        """Every file's result: from the cache where the key matches, else analysed (in the pool) and kept."""
        keys = self.file_keys(files, settings) if keys is None else keys
        results: list[FileResult | None] = [self._load("files", key) for key in keys]
        missing = [index for index, result in enumerate(results) if result is None]
        fresh = runner.analyze_files([files[index] for index in missing], settings, jobs, timeout) if missing else []
        # A file saved again while it was analysed (an editor, a formatter) may have been read
        # with other bytes than its key hashed: such a result is used, never kept.
        settled = self._unchanged(files, settings, keys, missing) if self.enabled else set()
        self._unsettled |= any(keys[index] is not None and index not in settled for index in missing)
        for index, result in zip(missing, fresh):
            results[index] = result
            if keys[index] is not None and index in settled and is_lasting(result):
                self._store("files", keys[index], result)
        return results  # type: ignore[return-value]

    def _unchanged(
        self, files: Sequence[SourceFile], settings: FileSettings, keys: Sequence[FileKey | None], indices: list[int]
    ) -> set[int]:
        settings_id = _settings_fingerprint(settings)
        return {i for i in indices if self._file_key(files[i], settings, settings_id) == keys[i]}

    # Per scan

    def scan_key(self, arguments: Any, keys: Iterable[FileKey | None], settings: Any) -> FileKey | None:
        """The key of a whole scan: `arguments` name it, `settings` and every file key decide it."""
        keys = list(keys)
        if not self.enabled or any(key is None for key in keys):
            return None
        slot = digest("scan", fingerprint(arguments))
        return FileKey(slot, digest(slot, fingerprint(settings), [key.full for key in keys]))  # type: ignore[union-attr]

    def load_scan(self, key: FileKey | None) -> ScanResult | None:
        return self._load("scans", key)

    def store_scan(self, key: FileKey | None, result: ScanResult) -> None:
        if key is not None and not self._unsettled and all(error.kind in _LASTING_ERRORS for error in result.errors):
            self._store("scans", key, dataclasses.replace(result, root="", rules=()))

    # Storage

    def _entry(self, kind: str, key: FileKey) -> Path:
        assert self.directory is not None
        return self.directory / self._build / kind / f"{key.slot}.json"

    def _load(self, kind: str, key: FileKey | None) -> Any:
        if key is None or not self.enabled:
            return None
        try:
            data = loads(self._entry(kind, key).read_bytes())
            if type(data) is not dict or data.get("format") != FORMAT or data.get("key") != key.full:
                return None
            value = data["value"]
            return value if type(value) is _KINDS[kind] else None
        except Exception:  # missing, unreadable, truncated, foreign: a miss, rebuilt below
            return None

    def _store(self, kind: str, key: FileKey, value: Any) -> None:
        if not self._writable:
            return
        try:
            text = json.dumps({"format": FORMAT, "key": key.full, "value": encode(value)}, separators=(",", ":"))
        except (CacheError, ValueError, RecursionError):
            return  # not representable: simply not cached
        path = self._entry(kind, key)
        try:
            self._prepare(path.parent)
            _write_atomic(path, text)
        except OSError as exc:
            self._writable = False
            self._warn(f"cannot write the cache in {self.directory}: {exc.strerror or exc}; continuing without it")

    def _prepare(self, folder: Path) -> None:
        if folder.is_dir():
            return
        assert self.directory is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        for name, text in ((".gitignore", _GITIGNORE), ("CACHEDIR.TAG", _CACHEDIR_TAG)):
            if not (self.directory / name).exists():
                _write_atomic(self.directory / name, text)
        folder.mkdir(parents=True, exist_ok=True)


def is_lasting(result: FileResult) -> bool:
    """Whether the result says something about the file's content alone (no transient error)."""
    return all(error.kind in _LASTING_ERRORS for error in result.errors)


def _write_atomic(path: Path, text: str) -> None:
    # Unlike reporters.write_atomic, no fsync: a thousand fsyncs would slow a cold run
    # down, and an entry a crash leaves empty or half-written is only a miss.
    handle = tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, prefix=".tmp-", suffix=".json",
                                         delete=False)  # fmt: skip
    try:
        with handle:
            handle.write(text)
        os.replace(handle.name, path)
    except BaseException:
        try:
            os.unlink(handle.name)
        except OSError:
            pass
        raise


def cache_directory(configured: Path | None, project_root: Path, disabled: bool) -> Path | None:
    """Where the cache lives: None when disabled, else AUTHLINT_CACHE_DIR, `cache-dir`, or `.authlint_cache/`."""
    if disabled:
        return None
    from_env = os.environ.get(CACHE_DIR_ENV)
    if from_env:
        return Path(from_env)
    return configured if configured is not None else project_root / CACHE_DIR_NAME
