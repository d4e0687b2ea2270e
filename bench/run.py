"""Time authlint against Bandit, Semgrep CE and Ruff (S rules) and two parse floors.

Installs the competitors into bench/.tools/venv, runs every tool --repeat times over the
full and the small corpus (see build_corpus.py) under /usr/bin/time, and writes
bench/RESULTS.md. Run: python bench/build_corpus.py && python bench/run.py
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

from sections import write_keeping_owned

BENCH = Path(__file__).resolve().parent
# authlint and libcst come from the environment that runs this script (pip install . first).
AUTHLINT_VENV = Path(sys.prefix)
TOOLS_VENV = BENCH / ".tools" / "venv"
OUT = BENCH / ".tools" / "out"  # reports are written here, like every tool's
TOOL_PINS = {"bandit": "1.9.4", "ruff": "0.17.6", "semgrep": "1.182.0"}
PARSED_FLOOR = "floor: libcst.parse_module of the files authlint parses"
TIME_FORMAT = "%e %U %S %M"  # wall, user CPU, system CPU, peak RSS (KiB) as GNU time reports them

AST_FLOOR = r"""
import ast, os, sys
n = 0
for d, ds, fs in os.walk(sys.argv[1]):
    ds[:] = [x for x in ds if x != "__pycache__"]
    for f in fs:
        if f.endswith(".py"):
            p = os.path.join(d, f)
            with open(p, "rb") as h:
                ast.parse(h.read(), p)
            n += 1
print(n, "files parsed")
"""

LIBCST_FLOOR = r"""
import os, sys, multiprocessing, libcst
def parse(p):
    with open(p, "rb") as h:
        try:
            libcst.parse_module(h.read())
            return 0
        except Exception:
            return 1
paths = []
if sys.argv[1].startswith("@"):  # a file listing the paths, one per line
    with open(sys.argv[1][1:], encoding="utf-8") as h:
        paths = h.read().splitlines()
else:
    for d, ds, fs in os.walk(sys.argv[1]):
        ds[:] = [x for x in ds if x != "__pycache__"]
        paths += [os.path.join(d, f) for f in fs if f.endswith(".py")]
with multiprocessing.Pool(int(sys.argv[2])) as pool:
    failed = sum(pool.map(parse, paths, chunksize=8))
print(len(paths), "files,", failed, "failed to parse")
"""

# Not timed: runs authlint in-process (--jobs 1, no time limit, so no worker process) and lists the
# files it parses with libcst; the others pass none of its gates (authlint/gate.py).
PARSED_FILES = r"""
import os, sys, authlint.engine as engine
from authlint.cli import main
parsed = set()
original = engine._run_rules  # runs on what libcst parsed, and only then
engine._run_rules = lambda tree, text, path, *rest: parsed.add(os.path.abspath(path)) or original(tree, text, path, *rest)
try:
    main(["check", sys.argv[1], "--exit-zero", "-q", "--format", "json", "-o", sys.argv[2], "--jobs", "1",
          "--file-timeout", "0", "--no-respect-gitignore", "--exclude", "__pycache__", "--no-cache"],
         standalone_mode=False)
finally:
    with open(sys.argv[3], "w", encoding="utf-8") as h:
        h.write("".join(p + "\n" for p in sorted(parsed)))
    print(len(parsed))
"""


@dataclass
class Tool:
    name: str
    argv: list[str]
    ok_codes: tuple[int, ...] | None = (0,)  # None: exit code ignored
    report: Path | None = None  # JSON report written by the tool, read back to count scanned files
    runs: list[tuple[float, float, int, str]] = field(default_factory=list)  # (wall s, cpu s, peak KiB, stdout)
    scanned: str = "?"  # files the tool says it scanned on its last run
    error: str = ""
    env: dict[str, str] = field(default_factory=dict)  # added to the environment of every run
    before_each: Callable[[], None] | None = None  # untimed set-up before every timed run
    files: int | None = None  # the files it reads, when not the whole corpus
    lines: int | None = None


def sh(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True)


def install_tools(venv: Path) -> dict[str, str]:
    """Install bandit, semgrep and ruff into venv; return {tool: reason} for the unusable ones."""
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    unavailable = {}
    for tool in ("bandit", "ruff", "semgrep"):
        if not (venv / "bin" / tool).exists():
            done = sh([str(venv / "bin" / "pip"), "install", "-q", f"{tool}=={TOOL_PINS[tool]}"])
            if done.returncode:
                unavailable[tool] = f"pip install failed: {done.stderr.strip().splitlines()[-1:]}"
                continue
        check = sh([str(venv / "bin" / tool), "--version"] + (["--disable-version-check"] if tool == "semgrep" else []))
        if check.returncode:
            unavailable[tool] = f"`{tool} --version` failed: {(check.stderr or check.stdout).strip()[-300:]}"
    return unavailable


def versions(venv: Path) -> dict[str, str]:
    """Version string of every tool, as the tool itself reports it."""
    def first_line(argv: list[str]) -> str:
        done = sh(argv)
        return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "unavailable"
    py = str(AUTHLINT_VENV / "bin" / "python")
    meta = "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))"
    return {
        "authlint": first_line([str(AUTHLINT_VENV / "bin" / "authlint"), "--version"]),
        "bandit": first_line([str(venv / "bin" / "bandit"), "--version"]),
        "semgrep": first_line([str(venv / "bin" / "semgrep"), "--version", "--disable-version-check"]),
        "ruff": first_line([str(venv / "bin" / "ruff"), "--version"]),
        "libcst (floor)": first_line([py, "-c", meta, "libcst"]),
        "python (authlint venv)": first_line([py, "--version"]),
    }


def tools_for(corpus: Path, label: str, jobs: int, venv: Path, unavailable: dict[str, str], parsed: tuple[Path, int]
              ) -> list[Tool]:
    """The command lines to time over one corpus."""
    bin_ = venv / "bin"
    py = str(AUTHLINT_VENV / "bin" / "python")
    # Semgrep refuses a scanning root that is a symbolic link (a CI checkout may link the corpus in).
    corpus = corpus.resolve()
    report = {name: OUT / f"{name}-{label}.json" for name in ("authlint", "bandit", "semgrep")}
    # The corpus sits under bench/.gitignore, so git-aware tools are told not to skip it; semgrep also
    # drops django/test/ through its built-in default .semgrepignore unless told to ignore those files.
    tools = [
        *authlint_tools(corpus, label, jobs, report["authlint"]),
        Tool("bandit", [str(bin_ / "bandit"), "-r", str(corpus), "-q", "-f", "json",
                        "-o", str(report["bandit"])], ok_codes=None, report=report["bandit"]),
        Tool("semgrep CE", [str(bin_ / "semgrep"), "--config", str(BENCH / "semgrep-rules.yml"), str(corpus), "--json",
                            "-o", str(report["semgrep"]), "--metrics=off", "--disable-version-check",
                            "--no-git-ignore", "--x-ignore-semgrepignore-files"],
             ok_codes=(0, 1), report=report["semgrep"]),
        Tool("ruff --select S", [str(bin_ / "ruff"), "check", "--select", "S", "--no-cache", str(corpus),
                                 "--exit-zero", "-q"]),
        Tool("floor: ast.parse (1 proc)", [py, "-c", AST_FLOOR, str(corpus)]),
        Tool(f"floor: libcst.parse_module ({jobs} procs)", [py, "-c", LIBCST_FLOOR, str(corpus), str(jobs)]),
        Tool(f"{PARSED_FLOOR} ({jobs} procs)", [py, "-c", LIBCST_FLOOR, f"@{parsed[0]}", str(jobs)],
             files=parsed[1], lines=count_lines(Path(p) for p in parsed[0].read_text(encoding="utf-8").splitlines())),
    ]
    for tool in tools:
        key = tool.name.split()[0]
        if key in unavailable:
            tool.error = f"not available: {unavailable[key]}"
    return tools


def authlint_tools(corpus: Path, label: str, jobs: int, report: Path) -> list[Tool]:
    """authlint cold (empty cache), warm (nothing changed) and with one file touched, each with its own cache."""
    def argv(target: Path, out: Path) -> list[str]:
        return [str(AUTHLINT_VENV / "bin" / "authlint"), "check", str(target), "--exit-zero", "-q", "--format", "json",
                "-o", str(out), "--jobs", str(jobs), "--no-respect-gitignore", "--exclude", "__pycache__"]

    caches = {kind: OUT / f"cache-{kind}-{label}" for kind in ("cold", "warm", "touched")}
    for cache in caches.values():
        shutil.rmtree(cache, ignore_errors=True)
    # The touched run edits a copy: the pinned corpus is never modified.
    copy = OUT / f"corpus-{label}"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(corpus, copy, ignore=shutil.ignore_patterns("__pycache__"))
    touched = min(p for p in copy.rglob("*.py") if "import" in p.read_text(encoding="utf-8", errors="replace"))
    edits = iter(range(1, 1_000_000))
    warm_report, touched_report = report.with_name(report.stem + "-warm.json"), report.with_name(report.stem + "-touched.json")

    def prime(cache: Path, target: Path, out: Path) -> Callable[[], None]:
        def run() -> None:
            if not cache.exists():  # the first, cold run fills the cache, untimed
                subprocess.run(argv(target, out), env={**os.environ, "AUTHLINT_CACHE_DIR": str(cache)},
                               capture_output=True, check=True)
        return run

    def touch() -> None:
        prime(caches["touched"], copy, touched_report)()
        with touched.open("a", encoding="utf-8") as handle:
            handle.write(f"\n# bench edit {next(edits)}\n")

    return [
        Tool("authlint (cold)", argv(corpus, report), report=report, env={"AUTHLINT_CACHE_DIR": str(caches["cold"])},
             before_each=lambda: shutil.rmtree(caches["cold"], ignore_errors=True)),
        Tool("authlint (warm)", argv(corpus, warm_report), report=warm_report,
             env={"AUTHLINT_CACHE_DIR": str(caches["warm"])}, before_each=prime(caches["warm"], corpus, warm_report)),
        Tool("authlint (one file touched)", argv(copy, touched_report), report=touched_report,
             env={"AUTHLINT_CACHE_DIR": str(caches["touched"])}, before_each=touch),
    ]


def time_once(argv: list[str], ok_codes: tuple[int, ...] | None, env: dict[str, str] | None = None
              ) -> tuple[float, float, int, str]:
    """Run argv under GNU time; return (wall s, user+sys CPU s, peak RSS KiB, stdout)."""
    report = OUT / "time.txt"
    start = time.perf_counter()
    done = subprocess.run(["/usr/bin/time", "-f", TIME_FORMAT, "-o", str(report)] + argv,
                          capture_output=True, text=True, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - start
    if ok_codes is not None and done.returncode not in ok_codes:
        raise RuntimeError(f"exit {done.returncode}: {done.stderr.strip()[-400:]}")
    _, user, system, rss = report.read_text().strip().splitlines()[-1].split()
    return wall, float(user) + float(system), int(rss), done.stdout


def files_scanned(tool: Tool) -> str:
    """How many files the tool itself reports having scanned (from its report or stdout)."""
    try:
        if tool.name.startswith("floor"):
            return tool.runs[-1][3].split()[0]
        if tool.name.startswith("ruff"):
            return str(len(sh(tool.argv + ["--show-files"]).stdout.splitlines()))
        data = json.loads(tool.report.read_text())
        if tool.name.startswith("authlint"):
            return str(data["summary"]["files_scanned"])
        if tool.name.startswith("bandit"):
            return str(len(data["metrics"]) - 1)  # one entry per file plus "_totals"
        return str(len(data["paths"]["scanned"]))
    except (OSError, ValueError, KeyError, IndexError, AttributeError) as exc:
        return f"? ({exc})"


def parsed_files(corpus: Path, label: str) -> tuple[Path, int]:
    """A file listing the files of corpus that authlint parses, and how many there are."""
    listing = OUT / f"parsed-{label}.txt"
    done = sh([str(AUTHLINT_VENV / "bin" / "python"), "-c", PARSED_FILES, str(corpus.resolve()),
               str(OUT / f"parsed-{label}.json"), str(listing)])  # fmt: skip
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines:
        raise SystemExit(f"listing the files authlint parses failed: {done.stderr.strip()[-400:]}")
    return listing, int(lines[-1])


def measure(tools: list[Tool], repeat: int) -> None:
    for tool in tools:
        if tool.error:
            continue
        try:
            for _ in range(repeat):
                if tool.before_each is not None:
                    tool.before_each()
                tool.runs.append(time_once(tool.argv, tool.ok_codes, tool.env))
        except (RuntimeError, subprocess.CalledProcessError) as exc:
            tool.error = f"failed: {exc}"
        if tool.runs:
            tool.scanned = files_scanned(tool)
        median = statistics.median(r[0] for r in tool.runs) if tool.runs else float("nan")
        print(f"  {tool.name:34} {median:8.2f} s  scanned {tool.scanned}  {tool.error}", flush=True)


@dataclass
class Section:
    title: str
    files: int
    lines: int
    tools: list[Tool]
    parsed: int


def table(section: Section) -> list[str]:
    rows = ["| tool | files | lines | files scanned (tool's own count) | median wall s | CPU s | peak MB | files/s "
            "| × authlint cold |", "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    base = wall_of(section.tools, "authlint (cold)")
    for tool in section.tools:
        files, lines = tool.files or section.files, tool.lines or section.lines
        if not tool.runs:
            rows.append(f"| {tool.name} | {files} | {lines:,} | | {tool.error} | | | | |")
            continue
        wall = statistics.median(r[0] for r in tool.runs)
        cpu = statistics.median(r[1] for r in tool.runs)
        ratio = f"{wall / base:.2f}" if base else "n/a"
        rows.append(f"| {tool.name} | {files} | {lines:,} | {tool.scanned} | {wall:.2f} | {cpu:.2f} | {peak_mb(tool):.0f} "
                    f"| {files / wall:.0f} | {ratio} |")
    return rows


def wall_of(tools: list[Tool], prefix: str) -> float | None:
    """The median wall time of the tool whose name starts with prefix, if it ran."""
    runs = next((tool.runs for tool in tools if tool.name.startswith(prefix)), [])
    return statistics.median(r[0] for r in runs) if runs else None


def peak_mb(tool: Tool) -> float:
    return max(r[2] for r in tool.runs) / 1024


def targets(section: Section) -> list[str]:
    """Issue #5's targets, each with this run's value and whether it is met."""
    tools = section.tools
    cold = wall_of(tools, "authlint (cold)")
    authlint_peak = max((peak_mb(t) for t in tools if t.name.startswith("authlint") and t.runs), default=None)

    def ratio(prefix: str, limit: float, what: str) -> tuple[str, float | None, float, str]:
        other = wall_of(tools, prefix)
        return what, (cold / other if cold and other else None), limit, "×"

    rows = [
        ratio("bandit", 0.5, "authlint cold / Bandit (wall)"),
        ratio("semgrep", 1.0, "authlint cold / Semgrep CE (wall)"),
        ratio(PARSED_FLOOR, 1.5, "authlint cold / libcst parse of the files it parses (wall, same jobs)"),
        ("authlint warm, nothing changed (wall)", wall_of(tools, "authlint (warm)"), 0.5, " s"),
        ("authlint, one file touched (wall)", wall_of(tools, "authlint (one file touched)"), 1.0, " s"),
        ("authlint peak memory, largest process", authlint_peak, 400, " MB"),
    ]
    lines = ["| target | at most | this run | met |", "| --- | ---: | ---: | --- |"]
    for what, value, limit, unit in rows:
        shown = "n/a (a run failed)" if value is None else f"{value:.0f}{unit}" if unit == " MB" else f"{value:.2f}{unit}"
        met = "n/a" if value is None else ("yes" if value <= limit else "**no**")
        lines.append(f"| {what} | {limit:g}{unit} | {shown} | {met} |")
    return lines


def count_lines(paths: Iterable[Path]) -> int:
    return sum(path.read_bytes().count(b"\n") for path in paths)


def corpus_files(corpus: Path) -> list[Path]:
    return [p for p in corpus.rglob("*.py") if "__pycache__" not in p.parts]


def write_results(path: Path, sections: list[Section], info: dict[str, str], vers: dict[str, str], repeat: int) -> None:
    lines = ["# authlint benchmark", "",
             f"Generated by `bench/run.py --repeat {repeat}` on {info['date']}. Every number below comes from that run.",
             "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "## Versions", ""] + [f"- {k}: {v}" for k, v in vers.items()]
    lines += ["", "## Targets (full corpus)", "", *targets(sections[0]), "",
              "Where a target is not met, the analysis and profile sections below say what is in the way."]
    for section in sections:
        lines += ["", f"## {section.title}", ""] + table(section)
        lines += ["", f"authlint parsed {section.parsed} of these {section.files} files with libcst; the others pass",
                  "none of its gates (no module, name or keyword any enabled rule or framework adapter needs in",
                  "their text, then in their CPython tree). The files are listed in a separate, untimed run; that",
                  "list is the input of the last floor row."]
    lines += ["", "## Notes", "",
              f"- Median of {repeat} run(s) per tool. CPU s is user+sys of the whole process tree and peak MB is the",
              "  largest maximum RSS of any single process in the tree, both as GNU `/usr/bin/time -f '%e %U %S %M'` reports them",
              "  (so for multi-process tools peak MB is per process, not the sum). Wall s is measured around the subprocess.",
              "- authlint runs with `--jobs 2`; the libcst floor uses a 2-process pool. Bandit, Ruff and Semgrep use their defaults.",
              "- Ruff runs only its `S` (flake8-bandit) rules; Semgrep runs the 11 local patterns in `bench/semgrep-rules.yml`",
              "  (not the registry rules), so neither does the same work as authlint or Bandit: this compares throughput only.",
              "- authlint (cold) starts from an empty cache every run (writing it is part of the cost); (warm) runs again",
              "  with nothing changed; (one file touched) appends a comment line to one file of a copy of the corpus before",
              "  each run. Each has its own cache folder in `bench/.tools/out/`, filled by one untimed run first.",
              "- The corpus lives under `bench/.gitignore`, so authlint runs with `--no-respect-gitignore --exclude __pycache__`",
              "  (its defaults would also skip dirs named build/dist/env...) and semgrep with `--no-git-ignore",
              "  --x-ignore-semgrepignore-files` (its built-in default ignore list drops `django/test/`). \"files scanned\" is each",
              "  tool's own count (its JSON report, `ruff --show-files`, or the floor script's output), to show nothing was skipped.",
              "- ruff prints its findings to a pipe (it has no report file in this command); the others write JSON files.",
              "- Reports are written to files in `bench/.tools/out/`, not `/dev/null`: authlint's `-o` replaces its target",
              "  atomically (temp file + rename), which would replace the `/dev/null` device node when run as root.",
              "", "## How to reproduce", "", "```", "python bench/build_corpus.py && python bench/run.py", "```",
              "", "`--repeat N` sets the number of runs (default 3); `--jobs` the authlint/libcst worker count (default 2).",
              "`python bench/profile_phases.py` and `python bench/robustness.py` rewrite their own sections below."]
    # bench/robustness.py and bench/profile.py write sections of their own into the same file.
    write_keeping_owned(path, "\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--corpus", type=Path, default=BENCH / ".corpus")
    parser.add_argument("--small", type=Path, default=BENCH / ".corpus-small")
    parser.add_argument("--results", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()

    OUT.mkdir(parents=True, exist_ok=True)
    unavailable = install_tools(TOOLS_VENV)
    for tool, reason in unavailable.items():
        print(f"{tool}: not available: {reason}")
    sections = []
    for title, label, corpus in (("Full corpus", "full", args.corpus), ("Small corpus", "small", args.small)):
        paths = corpus_files(corpus)
        files, lines = len(paths), count_lines(paths)
        print(f"{title}: {files} files, {lines:,} lines in {corpus}")
        parsed = parsed_files(corpus, label)
        print(f"  authlint parses {parsed[1]} of {files} files with libcst (the rest pass none of its gates)")
        tools = tools_for(corpus, label, args.jobs, TOOLS_VENV, unavailable, parsed)
        measure(tools, args.repeat)
        title = f"{title} ({corpus.relative_to(BENCH)}, {files} files, {lines:,} lines)"
        sections.append(Section(title, files, lines, tools, parsed[1]))
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(os.cpu_count()), "python (bench/run.py)": platform.python_version(),
            "platform": platform.platform(), "processor": platform.processor() or platform.machine()}
    write_results(args.results, sections, info, versions(TOOLS_VENV), args.repeat)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
