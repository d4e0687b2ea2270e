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
from typing import Callable

from robustness import existing_section

BENCH = Path(__file__).resolve().parent
# authlint and libcst come from the environment that runs this script (pip install . first).
AUTHLINT_VENV = Path(sys.prefix)
TOOLS_VENV = BENCH / ".tools" / "venv"
OUT = BENCH / ".tools" / "out"  # reports are written here, like every tool's
TOOL_PINS = {"bandit": "1.9.4", "ruff": "0.17.6", "semgrep": "1.182.0"}
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
for d, ds, fs in os.walk(sys.argv[1]):
    ds[:] = [x for x in ds if x != "__pycache__"]
    paths += [os.path.join(d, f) for f in fs if f.endswith(".py")]
with multiprocessing.Pool(int(sys.argv[2])) as pool:
    failed = sum(pool.map(parse, paths, chunksize=8))
print(len(paths), "files,", failed, "failed to parse")
"""

# Not timed: runs authlint in-process with --jobs 1 and counts the files that pass its import gate
# (files importing nothing any rule cares about are never parsed).
GATE_COUNT = r"""
import sys, authlint.engine as engine
from authlint.cli import main
parsed = []
original = engine._on_large_stack
engine._on_large_stack = lambda fn, text, path, *rest: parsed.append(path) or original(fn, text, path, *rest)
try:
    main(["check", sys.argv[1], "--exit-zero", "-q", "--format", "json", "-o", sys.argv[2], "--jobs", "1",
          "--no-respect-gitignore", "--exclude", "__pycache__", "--no-cache"], standalone_mode=False)
finally:
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


def tools_for(corpus: Path, label: str, jobs: int, venv: Path, unavailable: dict[str, str]) -> list[Tool]:
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


def gate_count(corpus: Path) -> str:
    """How many files of corpus authlint actually parses (the rest fail its import gate)."""
    done = sh([str(AUTHLINT_VENV / "bin" / "python"), "-c", GATE_COUNT, str(corpus), str(OUT / "gate.json")])
    lines = done.stdout.strip().splitlines()
    return lines[-1] if done.returncode == 0 and lines else f"? ({done.stderr.strip()[-200:]})"


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


def table(tools: list[Tool], files: int) -> list[str]:
    rows = ["| tool | files | files scanned (tool's own count) | median wall s | CPU s | peak MB | files/s | × authlint |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    base = statistics.median(r[0] for r in tools[0].runs) if tools[0].runs else None
    for tool in tools:
        if not tool.runs:
            rows.append(f"| {tool.name} | {files} | | {tool.error} | | | | |")
            continue
        wall = statistics.median(r[0] for r in tool.runs)
        cpu = statistics.median(r[1] for r in tool.runs)
        peak = max(r[2] for r in tool.runs) / 1024
        ratio = f"{wall / base:.2f}" if base else "n/a"
        rows.append(f"| {tool.name} | {files} | {tool.scanned} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | {files / wall:.0f} | {ratio} |")
    return rows


def count_files(corpus: Path) -> int:
    return sum(1 for p in corpus.rglob("*.py") if "__pycache__" not in p.parts)


def write_results(path: Path, sections: list[tuple[str, int, list[Tool], str]], info: dict[str, str],
                  vers: dict[str, str], repeat: int) -> None:
    lines = ["# authlint benchmark", "",
             f"Generated by `bench/run.py --repeat {repeat}` on {info['date']}. Every number below comes from that run.",
             "", "## Machine", ""]
    lines += [f"- {k}: {v}" for k, v in info.items()]
    lines += ["", "## Versions", ""] + [f"- {k}: {v}" for k, v in vers.items()]
    for title, files, tools, parsed in sections:
        lines += ["", f"## {title}", ""] + table(tools, files)
        lines += ["", f"authlint parsed {parsed} of these {files} files; the others import nothing any enabled rule",
                  "cares about and are skipped by its import gate before parsing (counted in a separate, untimed run)."]
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
              "", "`--repeat N` sets the number of runs (default 3); `--jobs` the authlint/libcst worker count (default 2)."]
    # bench/robustness.py writes a section of its own into the same file; keep it.
    kept = existing_section(path)
    path.write_text("\n".join(lines) + "\n" + (f"\n{kept}\n" if kept else ""))


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
        files = count_files(corpus)
        print(f"{title}: {files} files in {corpus}")
        tools = tools_for(corpus, label, args.jobs, TOOLS_VENV, unavailable)
        measure(tools, args.repeat)
        parsed = gate_count(corpus)
        print(f"  authlint parses {parsed} of {files} files (the rest fail its import gate)")
        sections.append((f"{title} ({corpus.relative_to(BENCH)}, {files} files)", files, tools, parsed))
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "nproc": str(os.cpu_count()), "python (bench/run.py)": platform.python_version(),
            "platform": platform.platform(), "processor": platform.processor() or platform.machine()}
    write_results(args.results, sections, info, versions(TOOLS_VENV), args.repeat)
    print(f"wrote {args.results}")


if __name__ == "__main__":
    main()
