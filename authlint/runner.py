"""Many files: a process pool over the per-file phase, with deterministic output.

Results come back in input order (files are sorted first) whatever the job count, so
`--jobs 1` and `--jobs 8` print the same report.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from typing import Sequence

from authlint.discovery import SourceFile
from authlint.engine import FileSettings, analyze_path
from authlint.lazy import load_now
from authlint.model import FileResult

# Below this many files per worker, starting processes costs more than it saves.
_MIN_FILES_PER_JOB = 16

_worker_settings: FileSettings | None = None


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def analyze_files(files: Sequence[SourceFile], settings: FileSettings, jobs: int) -> list[FileResult]:
    jobs = min(jobs, max(1, len(files) // _MIN_FILES_PER_JOB))
    if jobs <= 1:
        return [_analyze(file, settings) for file in files]
    load_now("libcst")  # once, before forking, rather than once in every worker
    # Several chunks per worker keep both cores busy when some files are much larger.
    chunksize = max(1, len(files) // (jobs * 8))
    with ProcessPoolExecutor(jobs, mp_context=_context(), initializer=_init_worker, initargs=(settings,)) as pool:
        return list(pool.map(_analyze_in_worker, files, chunksize=chunksize))


def _context() -> multiprocessing.context.BaseContext:
    # fork shares the already imported rules and libcst with the workers for free
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)


def _init_worker(settings: FileSettings) -> None:
    global _worker_settings
    _worker_settings = settings


def _analyze_in_worker(file: SourceFile) -> FileResult:
    assert _worker_settings is not None
    return _analyze(file, _worker_settings)


def _analyze(file: SourceFile, settings: FileSettings) -> FileResult:
    return analyze_path(file.path, file.display, file.relative_to_root, settings)
