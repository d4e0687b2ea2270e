"""Many files: a supervised process pool over the per-file phase, with deterministic output.

Results come back in input order (files are sorted first) whatever the job count, so
`--jobs 1` and `--jobs 8` print the same report. A file that takes longer than the time
limit, or that kills the process analysing it, is reported as not analysed (FileError
kind "timeout" or "crash") and the scan goes on; see authlint/pool.py.
"""

from __future__ import annotations

import functools
import os
from typing import Sequence

from authlint.discovery import SourceFile
from authlint.engine import FileSettings, analyze_path
from authlint.lazy import load_now
from authlint.model import FileError, FileResult
from authlint.pool import map_supervised

# Below this many files per worker, starting processes costs more than it saves.
_MIN_FILES_PER_JOB = 16
# libcst analyses well over 100 KB of dense code per second; a scan with less source than
# this per second of limit cannot reach the limit, and a worker would cost more than it.
_IN_PROCESS_BYTES_PER_SECOND = 4096

DEFAULT_FILE_TIMEOUT = 30.0


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def analyze_files(
    files: Sequence[SourceFile], settings: FileSettings, jobs: int, timeout: float | None = DEFAULT_FILE_TIMEOUT
) -> list[FileResult]:
    """Every file's result, in the order given; `timeout` (seconds, None or 0: none) limits each file."""
    jobs = min(jobs, max(1, len(files) // _MIN_FILES_PER_JOB))
    if jobs <= 1 and (not timeout or _holds_less_than(files, timeout * _IN_PROCESS_BYTES_PER_SECOND)):
        return [_analyze(file, settings) for file in files]
    load_now("libcst")  # once, before forking, rather than once in every worker
    analyze = functools.partial(_analyze, settings=settings)
    return map_supervised(analyze, files, _not_analysed, jobs=jobs, timeout=timeout)


def _holds_less_than(files: Sequence[SourceFile], limit: float) -> bool:
    total = 0
    for file in files:
        try:
            total += file.path.stat().st_size
        except OSError:  # reported when the file is read
            continue
        if total > limit:
            return False
    return True


def _analyze(file: SourceFile, settings: FileSettings) -> FileResult:
    return analyze_path(file.path, file.display, file.relative_to_root, settings)


def _not_analysed(file: SourceFile, kind: str, message: str, detail: str) -> FileResult:
    return FileResult(file.display, errors=[FileError(file.display, kind, message, detail=detail)])
