"""Full facts for the files that the parsed files import, however little their text says.

The gates decide per file, but the link phase follows names across files: a handler's
`store.order_of(user, order_id)` is checked for object-level authorization in `store.py`,
which imports nothing any rule or adapter asks for. Such a file kept only its imports in
the gated per-file phase; here every file reachable through the imports of a file with
full facts (transitively) is parsed for its facts as well, so that the Route table and the
project rules see what they would see with gating off. No file rule runs on them again:
their gates already said no finding can come from them.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Sequence

from authlint.discovery import SourceFile
from authlint.engine import FileSettings
from authlint.facts.file_facts import FileFacts
from authlint.model import FileResult
from authlint.project import Project


Analyze = Callable[[Sequence[SourceFile], FileSettings, int], list[FileResult]]


def with_reachable_facts(
    files: Sequence[SourceFile], results: list[FileResult], settings: FileSettings, jobs: int, analyze: Analyze
) -> list[FileResult]:
    """`results` (one per file), with full facts for the unparsed files that parsed files import.

    `analyze` runs the per-file phase: the pool, or the cache in front of it.
    """
    wanted = unparsed_imported(results)
    if not wanted:
        return results
    facts_only = dataclasses.replace(settings, rules=(), gating=False, fix=False)
    completed = analyze([files[i] for i in wanted], facts_only, jobs)
    results = list(results)
    for index, result in zip(wanted, completed):
        results[index] = result  # the gated result held no finding, only the file's imports
    return results


def unparsed_imported(results: Sequence[FileResult]) -> list[int]:
    """Indices of the results with import-only facts that a result with full facts reaches by imports."""
    facts = [r.facts for r in results]
    project = Project(f for f in facts if f is not None)
    index_of = {id(f): i for i, f in enumerate(facts) if f is not None}
    queue = [f for r, f in zip(results, facts) if f is not None and r.parsed]
    seen = {id(f) for f in queue}
    while queue:
        for reached in _imported_files(project, queue.pop()):
            if id(reached) not in seen:
                seen.add(id(reached))
                queue.append(reached)
    return sorted(index_of[key] for key in seen if not results[index_of[key]].parsed)


def _imported_files(project: Project, file: FileFacts) -> list[FileFacts]:
    """The project files an import of `file` may load: the module and every package on its way."""
    found = []
    for target in file.imports.values():
        parts = project.absolute(file, target).split(".")
        for cut in range(len(parts), 0, -1):
            module = project.module(".".join(parts[:cut]))
            if module is not None:
                found.append(module)
    return found
