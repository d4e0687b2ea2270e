"""Where authlint's time goes: py-spy samples of a cold, a warm and a one-file-touched scan.

Runs `authlint check` over the full corpus under `py-spy record --subprocesses` (so the
pool's workers are sampled too; idle waits are not), sorts every sample into the phase
its stack is in, and writes one table per scenario into bench/RESULTS.md (the `profile`
section, which bench/run.py keeps). Nothing here is timed for the results table: py-spy
slows what it samples a little, so these are shares, not benchmarks.
Run: python bench/build_corpus.py && python bench/profile_phases.py
"""
from __future__ import annotations

import argparse
import collections
import datetime
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

from sections import markers, replace_section

BENCH = Path(__file__).resolve().parent
TOOLS_VENV = BENCH / ".tools" / "venv"
OUT = BENCH / ".tools" / "out" / "profile"
PY_SPY = "py-spy==0.4.3"
RATE = 200  # samples per second and process

# A sample belongs to the first phase, from the outermost frame in, whose marker it holds.
# Markers are "function (" names, or fragments of the full paths py-spy gives (--full-filenames).
PHASES: list[tuple[str, tuple[str, ...]]] = [
    ("link phase (routes across files, project rules)", ("/authlint/link.py",)),
    ("cache: hashing files for their keys", ("file_keys (",)),
    ("cache: reading entries (JSON decode)", ("ResultCache.load_scan (", "ResultCache._load (")),
    ("cache: writing entries", ("ResultCache.store_scan (", "ResultCache._store (")),
    ("discovering files (walk, .gitignore)", ("/authlint/discovery.py",)),
    ("writing the report", ("/authlint/reporters/",)),
]
# Within the per-file phase: the libcst parse wherever it is on the stack; otherwise the
# innermost authlint frame decides (a rule reading `node.children` counts as the rule);
# libcst's own node code only when no authlint frame is below the per-file entry.
PARSE = ("per file: libcst parse", ("parse_module (", "/libcst/_parser/"))
PER_FILE: list[tuple[str, tuple[str, ...]]] = [
    ("per file: gate and syntax check (CPython ast)", ("/authlint/gate.py", "/ast.py")),
    ("per file: positions", ("/authlint/positions.py", "/authlint/replay.py")),
    ("per file: suppression comments", ("/authlint/suppress.py", "/tokenize.py")),
    ("per file: file rules", ("/rules/",)),
    ("per file: facts collectors", ("/authlint/facts/",)),
    ("per file: walk and dispatch", ("/authlint/walk.py",)),
]
MACHINERY = ("per file: libcst node machinery", ("/libcst/",))
POOL = ("pool: moving results between processes (pickle)", ("/multiprocessing/connection.py", "/pickle.py"))


def classify(frames: list[str]) -> str | None:
    """The phase of one sample (None: a thread waiting); `frames` run from the outermost call in."""
    if frames and "/threading.py" in frames[-1]:
        return None  # the main thread waiting for the per-file thread it started
    for name, needles in PHASES:
        if _holds(frames, needles):
            return name
    if _holds(frames, POOL[1]):
        return POOL[0]
    if _holds(frames, ("_find_and_load",)):  # also libcst, imported on the first parse
        return "importing authlint, its rules and libcst"
    # The per-file work runs on a thread of its own (a larger stack), so its stacks start there.
    if _holds(frames, ("/authlint/engine.py", "/authlint/parse.py")):
        return _per_file(frames)
    return "other (start-up, command line, pool bookkeeping)"


def _per_file(frames: list[str]) -> str:
    if _holds(frames, PARSE[1]):
        return PARSE[0]
    for frame in reversed(frames):
        for name, needles in PER_FILE:
            if _holds([frame], needles):
                return name
    return MACHINERY[0] if _holds(frames, MACHINERY[1]) else "per file: other"


def _holds(frames: list[str], needles: tuple[str, ...]) -> bool:
    return any(needle in frame for frame in frames for needle in needles)


def tally(raw: Path) -> collections.Counter[str]:
    counts: collections.Counter[str] = collections.Counter()
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, number = line.rpartition(" ")
        phase = classify(stack.split(";")) if stack and number.isdigit() else None
        if phase is not None:
            counts[phase] += int(number)
    return counts


def record(name: str, argv: list[str], env: dict[str, str]) -> collections.Counter[str]:
    raw = OUT / f"{name}.txt"
    py_spy = TOOLS_VENV / "bin" / "py-spy"
    command = [str(py_spy), "record", "--subprocesses", "--full-filenames", "--format", "raw", "--rate", str(RATE), "--output", str(raw),
               "--", *argv]  # fmt: skip
    subprocess.run(command, env={**os.environ, **env}, check=True, capture_output=True)
    return tally(raw)


def scenarios(corpus: Path, jobs: int) -> dict[str, Callable[[], collections.Counter[str]]]:
    def argv(target: Path) -> list[str]:
        return [str(Path(sys.prefix) / "bin" / "authlint"), "check", str(target), "--exit-zero", "-q", "--format",
                "json", "-o", str(OUT / "report.json"), "--jobs", str(jobs), "--no-respect-gitignore",
                "--exclude", "__pycache__"]  # fmt: skip

    def cold() -> collections.Counter[str]:
        return record("cold", [*argv(corpus), "--no-cache"], {})

    def warm() -> collections.Counter[str]:
        cache = {"AUTHLINT_CACHE_DIR": str(OUT / "cache-warm")}
        subprocess.run(argv(corpus), env={**os.environ, **cache}, check=True, capture_output=True)
        return record("warm", argv(corpus), cache)

    def touched() -> collections.Counter[str]:
        copy, cache = OUT / "corpus", {"AUTHLINT_CACHE_DIR": str(OUT / "cache-touched")}
        shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns("__pycache__"))
        subprocess.run(argv(copy), env={**os.environ, **cache}, check=True, capture_output=True)
        first = min(p for p in copy.rglob("*.py") if "import" in p.read_text(encoding="utf-8", errors="replace"))
        with first.open("a", encoding="utf-8") as handle:
            handle.write("\n# profile edit\n")
        return record("touched", argv(copy), cache)

    return {"cold": cold, "warm (nothing changed)": warm, "one file touched": touched}


def section(results: dict[str, collections.Counter[str]], corpus: Path, jobs: int) -> str:
    start, end = markers("profile")
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [start, "## Profile: where the time goes", "",
             f"Generated by `bench/profile_phases.py` on {now:%Y-%m-%d %H:%M UTC}: `py-spy record --subprocesses --rate {RATE}`",
             f"over `authlint check {corpus.name} --jobs {jobs}`, parent and workers together, idle waits excluded.",
             "Each sample is put in the first phase its stack is in; CPU s is samples / rate, summed over processes."]
    for scenario, counts in results.items():
        total = sum(counts.values()) or 1
        lines += ["", f"### {scenario}", "", "| phase | samples | share | ≈ CPU s |", "| --- | ---: | ---: | ---: |"]
        for phase, count in counts.most_common():
            lines.append(f"| {phase} | {count} | {count / total:.0%} | {count / RATE:.1f} |")
    return "\n".join([*lines, "", end])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=BENCH / ".corpus")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    if not (TOOLS_VENV / "bin" / "py-spy").exists():
        if not (TOOLS_VENV / "bin" / "python").exists():
            subprocess.run([sys.executable, "-m", "venv", str(TOOLS_VENV)], check=True)
        subprocess.run([str(TOOLS_VENV / "bin" / "pip"), "install", "-q", PY_SPY], check=True)
    shutil.rmtree(OUT, ignore_errors=True)
    OUT.mkdir(parents=True)
    corpus = args.corpus.resolve()
    results = {}
    for name, run in scenarios(corpus, args.jobs).items():
        print(f"profiling: {name}", flush=True)
        results[name] = run()
    text = section(results, corpus, args.jobs)
    print(text)
    current = args.results.read_text(encoding="utf-8") if args.results.exists() else ""
    args.results.write_text(replace_section(current, "profile", text), encoding="utf-8")
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
