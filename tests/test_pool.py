"""The supervised pool: a file that hangs, kills its worker or raises costs that file only.

The pool tests give workers functions that misbehave on one chosen item (sleep past the
limit, SIGKILL themselves, raise); the CLI tests do the same through the real engine:
a generated file too big to finish within a tiny `--file-timeout`, and a worker that
kills itself on one file name (a monkeypatch, so only a test can ask for it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import authlint.runner
from authlint.cli import main
from authlint.pool import _stop, _Supervisor, map_supervised

VULNERABLE = 'import jwt\n\n\ndef issue(claims):\n    return jwt.encode(claims, None, algorithm="none")\n'
PARENT = os.getpid()


def lost(item: int, kind: str, message: str, detail: str) -> tuple[str, int, str, str]:
    return ("lost", item, kind, message)


def square(item: int) -> int:
    return item * item


def square_but_spin_on_3(item: int) -> int:
    while item == 3:
        pass
    return item * item


def square_but_block_on_4(item: int) -> int:
    if item == 4:
        time.sleep(600)  # stuck without using CPU, like a read that never returns
    return item * item


def square_but_die_on_7(item: int) -> int:
    if item == 7:
        os.kill(os.getpid(), signal.SIGKILL)
    return item * item


def square_but_raise_on_5(item: int) -> int:
    if item == 5:
        raise ValueError("five is not allowed")
    return item * item


@pytest.mark.parametrize("jobs", [1, 2, 3])
def test_results_keep_the_input_order_for_any_job_count(jobs: int) -> None:
    assert map_supervised(square, list(range(200)), lost, jobs=jobs, timeout=None) == [i * i for i in range(200)]


def test_no_items_starts_no_worker() -> None:
    assert map_supervised(square, [], lost, jobs=2, timeout=1) == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_an_item_past_the_cpu_limit_is_lost_as_timeout_and_the_rest_finish(jobs: int) -> None:
    results = map_supervised(square_but_spin_on_3, list(range(40)), lost, jobs=jobs, timeout=0.5)
    assert results[3] == ("lost", 3, "timeout", "took longer than 0.5 s")
    assert results[:3] + results[4:] == [i * i for i in range(40) if i != 3]


def test_an_item_stuck_without_using_cpu_is_stopped_by_the_clock() -> None:
    results = map_supervised(square_but_block_on_4, list(range(10)), lost, jobs=1, timeout=0.1)
    assert results[4] == ("lost", 4, "timeout", "took longer than 0.1 s")
    assert results[:4] + results[5:] == [i * i for i in range(10) if i != 4]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_worker_that_dies_costs_only_its_item(jobs: int) -> None:
    results = map_supervised(square_but_die_on_7, list(range(40)), lost, jobs=jobs, timeout=None)
    assert results[7] == ("lost", 7, "crash", "the worker process analysing it died (SIGKILL)")
    assert results[:7] + results[8:] == [i * i for i in range(40) if i != 7]


def test_a_worker_killed_while_idle_is_replaced_and_loses_nothing() -> None:
    supervisor = _Supervisor(square, list(range(40)), lost, jobs=1, timeout=None)
    idle = supervisor._start()
    os.kill(idle.process.pid, signal.SIGKILL)
    idle.process.join()
    replacement = supervisor._feed(idle)  # the send fails on the dead worker's pipe
    try:
        assert replacement is not idle and replacement.process.is_alive()
        assert sorted([*replacement.batch, *supervisor._queue]) == list(range(40))
        position = replacement.batch[0]
        assert replacement.connection.recv() == (True, position * position)
    finally:
        _stop(replacement)


def test_an_exception_is_lost_as_internal_with_a_traceback() -> None:
    details: list[str] = []

    def keep_detail(item: int, kind: str, message: str, detail: str) -> tuple[str, int, str, str]:
        details.append(detail)
        return ("lost", item, kind, message)

    results = map_supervised(square_but_raise_on_5, list(range(10)), keep_detail, jobs=1, timeout=None)
    assert results[5] == ("lost", 5, "internal", "ValueError: five is not allowed")
    assert results[:5] + results[6:] == [i * i for i in range(10) if i != 5]
    assert len(details) == 1 and "square_but_raise_on_5" in details[0]


# Through the CLI ---------------------------------------------------------------------


def dense_source(target_bytes: int) -> str:
    """Valid Python that imports jwt (so it is parsed) and is all tokens: seconds of libcst work per MB."""
    lines = ["import jwt\n"]
    size, index = len(lines[0]), 0
    while size < target_bytes:
        line = f"value_{index} = [({index} + a) * b - c for a, b, c in zip(range(3), range(4), range(5))]\n"
        lines.append(line)
        size += len(line)
        index += 1
    return "".join(lines)


def run_check(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("FORCE_COLOR", "AUTHLINT_DEBUG")}
    return subprocess.run([sys.executable, "-m", "authlint", "check", *args], cwd=cwd, env={**env, "NO_COLOR": "1"},
                          capture_output=True, text=True, encoding="utf-8", timeout=300)  # fmt: skip


@pytest.fixture(scope="module")
def slow_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slow")
    for index in range(3):
        (root / f"app_{index}.py").write_text(VULNERABLE, encoding="utf-8")
    # ~1.5 MB of dense code takes libcst many seconds; the limit below is half a second.
    (root / "generated.py").write_text(dense_source(1_500_000), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def slow_runs(slow_project: Path) -> dict[int, subprocess.CompletedProcess[str]]:
    runs = {}
    for jobs in (1, 2):
        runs[jobs] = run_check(".", "--select", "AL101", "--file-timeout", "0.5", "--jobs", str(jobs),
                               "--format", "json", "-o", f"jobs{jobs}.json", cwd=slow_project)  # fmt: skip
    return runs


def test_file_over_the_time_limit_is_reported_and_the_rest_scanned(slow_project: Path, slow_runs) -> None:
    proc = slow_runs[1]
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr == "authlint: warning: generated.py: took longer than 0.5 s; file skipped\n"
    document = json.loads((slow_project / "jobs1.json").read_text(encoding="utf-8"))
    assert document["errors"] == [
        {"path": "generated.py", "kind": "timeout", "message": "took longer than 0.5 s", "code": None}
    ]
    assert {(f["path"], f["line"]) for f in document["findings"]} == {(f"app_{i}.py", 5) for i in range(3)}
    assert document["summary"]["files_scanned"] == 4


def test_jobs_1_and_2_give_the_same_report_with_a_timeout(slow_project: Path, slow_runs) -> None:
    assert (slow_project / "jobs1.json").read_bytes() == (slow_project / "jobs2.json").read_bytes()
    assert slow_runs[1].stderr == slow_runs[2].stderr


def test_file_timeout_0_disables_the_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    monkeypatch.setattr(authlint.runner, "map_supervised", lambda *args, **kwargs: calls.append(kwargs) or [])
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", ".", "--file-timeout", "0", "--jobs", "1"])
    assert result.exit_code == 1, result.output
    assert calls == []  # analysed in-process: nothing to supervise


def test_negative_file_timeout_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", ".", "--file-timeout", "-1"])
    assert result.exit_code == 2
    assert "--file-timeout" in result.stderr


def kill_worker_on_boom(path, display, relative, settings):
    if Path(display).name == "boom.py" and os.getpid() != PARENT:
        os.kill(os.getpid(), signal.SIGKILL)
    return REAL_ANALYZE_PATH(path, display, relative, settings)


REAL_ANALYZE_PATH = authlint.runner.analyze_path


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_worker_crash_costs_one_file_and_never_the_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: str
) -> None:
    monkeypatch.chdir(tmp_path)
    # Forked workers inherit the patch; the parent never runs it (see the pid check).
    monkeypatch.setattr(authlint.runner, "analyze_path", kill_worker_on_boom)
    # Supervise even this small scan under --jobs 1 (it would otherwise run in-process).
    monkeypatch.setattr(authlint.runner, "_IN_PROCESS_BYTES_PER_SECOND", 0)
    for index in range(40):
        (tmp_path / f"app_{index:02}.py").write_text(VULNERABLE, encoding="utf-8")
    (tmp_path / "boom.py").write_text(VULNERABLE, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", ".", "--select", "AL101", "--jobs", jobs, "--format", "json",
                                       "-o", "out.json"])  # fmt: skip
    assert result.exit_code == 1, result.output
    document = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert document["errors"] == [
        {"path": "boom.py", "kind": "crash", "message": "the worker process analysing it died (SIGKILL)", "code": None}
    ]
    assert {(f["path"], f["line"]) for f in document["findings"]} == {(f"app_{i:02}.py", 5) for i in range(40)}
    assert document["summary"]["files_scanned"] == 41


@pytest.mark.parametrize("value", ['"30"', "-1", "true", "inf", "[30]"])
def test_file_timeout_in_config_must_be_a_number_of_seconds(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text(f"[tool.authlint]\nfile-timeout = {value}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "."])
    assert result.exit_code == 2
    assert result.stderr == (
        f"authlint: error: pyproject.toml [tool.authlint]: 'file-timeout' must be a number of seconds (0 for no limit),"
        f" like 30; got {CONFIG_VALUES[value]!r}\n"
    )


CONFIG_VALUES = {'"30"': "30", "-1": -1, "true": True, "inf": float("inf"), "[30]": [30]}


def test_file_timeout_from_config_reaches_the_runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    limits = []
    real = authlint.runner.analyze_files

    def spy(files, settings, jobs, timeout=authlint.runner.DEFAULT_FILE_TIMEOUT):
        limits.append(timeout)
        return real(files, settings, jobs, timeout)

    monkeypatch.setattr("authlint.runner.analyze_files", spy)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "pyproject.toml").write_text("[tool.authlint]\nfile-timeout = 2.5\n", encoding="utf-8")
    (tmp_path / "app.py").write_text(VULNERABLE, encoding="utf-8")
    assert CliRunner().invoke(main, ["check", ".", "--no-cache"]).exit_code == 1
    assert CliRunner().invoke(main, ["check", ".", "--no-cache", "--file-timeout", "7"]).exit_code == 1
    assert limits == [2.5, 7.0]
