"""Which files a scan reads: Python sources under the given paths, minus exclusions.

Exclusions are gitignore-style patterns relative to the project root (`exclude`
replaces the defaults, `extend-exclude` adds to them) plus every `.gitignore` met on the
way down. A file named explicitly on the command line is scanned even when excluded,
unless `force-exclude` is set (what pre-commit wants: it passes every changed file).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pathspec

PYTHON_SUFFIXES = (".py", ".pyi")

DEFAULT_EXCLUDE = (
    ".git", ".hg", ".svn", ".bzr", ".venv", "venv", ".env", "env", ".tox", ".nox", ".eggs",
    "*.egg-info", "node_modules", "build", "dist", "__pycache__", "__pypackages__", "_build",
    "buck-out", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".pytype", ".authlint_cache",
    ".ipynb_checkpoints", "site-packages",
)  # fmt: skip


@dataclass(frozen=True)
class SourceFile:
    path: Path  # as found on disk
    display: str  # relative to the working directory when inside it, POSIX
    relative_to_root: str  # relative to the project root, for per-file-ignores


class Discovery:
    def __init__(
        self,
        root: Path,
        exclude: list[str] | None,
        extend_exclude: list[str],
        respect_gitignore: bool = True,
        force_exclude: bool = False,
    ) -> None:
        self.root = root.resolve()
        patterns = list(DEFAULT_EXCLUDE if exclude is None else exclude) + list(extend_exclude)
        self._excluded = pathspec.GitIgnoreSpec.from_lines(patterns)
        self._respect_gitignore = respect_gitignore
        self._force_exclude = force_exclude
        self._gitignores: dict[Path, pathspec.PathSpec | None] = {}
        self._repositories: dict[Path, bool] = {}
        self._cwd = Path.cwd().resolve()

    def files(self, paths: list[Path]) -> list[SourceFile]:
        found: dict[Path, SourceFile] = {}
        for path in paths:
            for file, resolved in self._expand(path):
                found.setdefault(resolved, self._source_file(file, resolved))
        return sorted(found.values(), key=lambda f: f.display)

    def _expand(self, path: Path) -> Iterator[tuple[Path, Path]]:
        """The Python files under `path` (or `path` itself), each with its resolved path."""
        resolved = resolve_path(path)
        if path.is_dir():
            if not self._is_excluded(resolved, is_dir=True):
                yield from self._walk(path, resolved)
        elif not (self._force_exclude and self._is_excluded(resolved, is_dir=False)):
            yield path, resolved

    def _walk(self, top: Path, resolved_top: Path) -> Iterator[tuple[Path, Path]]:
        # os.scandir rather than os.walk: its entries know whether they are links or folders
        # without a system call per file, and a folder's resolved path is its parent's plus
        # its name, so only symbolic links are ever resolved (a warm run is mostly this walk).
        folders = [(top, resolved_top)]
        while folders:
            here, resolved_here = folders.pop()
            try:
                entries = sorted(os.scandir(here), key=lambda entry: entry.name)
            except OSError:  # vanished or unreadable: os.walk skips it too
                continue
            for entry in entries:
                candidate, resolved = here / entry.name, resolved_here / entry.name
                if _is_folder(entry):
                    if not entry.is_symlink() and not self._is_excluded(resolved, is_dir=True):
                        folders.append((candidate, resolved))
                elif entry.name.endswith(PYTHON_SUFFIXES) and not self._is_excluded(resolved, is_dir=False):
                    # A FIFO, a device or a symlink loop is yielded so that reading it reports why it was skipped.
                    if not entry.is_symlink():
                        yield candidate, resolved
                    elif self._stays_inside(target := resolve_path(candidate), resolved_top):
                        yield candidate, target

    def _stays_inside(self, target: Path, resolved_top: Path) -> bool:
        """False for a symlink to somewhere outside the project: like linked directories, not followed."""
        return any(_is_within(target, base) for base in (self.root, resolved_top))

    def _is_excluded(self, resolved: Path, is_dir: bool) -> bool:
        relative = self._relative(resolved, self.root)
        if relative is not None:
            target = relative + ("/" if is_dir else "")
            if self._excluded.match_file(target):
                return True
        elif self._excluded.match_file(resolved.name + ("/" if is_dir else "")):
            return True
        return self._respect_gitignore and self._gitignored(resolved, is_dir)

    def _gitignored(self, resolved: Path, is_dir: bool) -> bool:
        for directory in resolved.parents:
            spec = self._gitignore_spec(directory)
            if spec is not None:
                relative = resolved.relative_to(directory).as_posix() + ("/" if is_dir else "")
                if spec.match_file(relative):
                    return True
            if directory == self.root or self._is_repository(directory):
                break
        return False

    def _is_repository(self, directory: Path) -> bool:
        if directory not in self._repositories:
            self._repositories[directory] = (directory / ".git").exists()
        return self._repositories[directory]

    def _gitignore_spec(self, directory: Path) -> pathspec.PathSpec | None:
        if directory not in self._gitignores:
            self._gitignores[directory] = _read_gitignore(directory / ".gitignore")
        return self._gitignores[directory]

    def _source_file(self, file: Path, resolved: Path) -> SourceFile:
        display = self._relative(resolved, self._cwd)
        if display is None:
            display = file.as_posix() if not file.is_absolute() else resolved.as_posix()
        relative_to_root = self._relative(resolved, self.root) or resolved.name
        return SourceFile(file, printable(display), printable(relative_to_root))

    @staticmethod
    def _relative(path: Path, base: Path) -> str | None:
        try:
            return path.relative_to(base).as_posix()
        except ValueError:
            return None


def printable(name: str) -> str:
    """A file name that any report can encode: bytes that are not UTF-8 are shown as `\\xe9`."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def resolve_path(path: Path) -> Path:
    # Path.resolve raises RuntimeError on a symlink loop; the read reports the loop instead.
    return Path(os.path.realpath(path))


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows a link, as os.walk does; a link loop is no folder
    except OSError:
        return False


def _is_within(path: Path, base: Path) -> bool:
    return path == base or base in path.parents


def _read_gitignore(path: Path) -> pathspec.PathSpec | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    try:
        return pathspec.GitIgnoreSpec.from_lines(lines)
    except Exception:  # a broken .gitignore line should not stop the scan
        return None
