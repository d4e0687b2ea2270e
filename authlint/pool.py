"""A supervised process pool: a file that hangs or crashes its worker costs that file only.

Python cannot stop a thread, and libcst's native parser holds the GIL while it works, so
a time limit has to be enforced from outside the process doing the work. Each worker is
a process of its own, fed small batches of items over its own pipe and answering with
one message per item, so the parent always knows which item every worker is on and
since when. A worker past the time limit is killed and replaced, and its item is
reported lost ("timeout"); a worker that dies on its own (a segfault in native code, the
OOM killer) costs the item it was on ("crash"). The rest of its batch goes back to the
queue. Results are stored by input position, so their order never depends on timing.

The limit counts the CPU time the worker spends on the item (read from /proc on Linux),
not the time on the clock: on a machine shared with other work, a file that needs 10 s
of CPU must not be skipped one run and analysed the next. A worker that is stuck without
using CPU (a read that never returns) is stopped by the clock after `_WALL_FACTOR` times
the limit; where /proc is missing, the clock is all there is.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Callable, Generic, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")

# lost(item, kind, message, detail): the result that stands for an item no worker could finish.
Lost = Callable[[Item, str, str, str], Result]

# Enough items per message that pipe traffic is negligible next to a parse, few enough
# that the last batches still spread over the workers and a crash re-queues little.
MAX_BATCH = 32
# A worker idle on the clock for this many times the limit is stuck, CPU or not.
_WALL_FACTOR = 10
_TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class _Worker(Generic[Item]):
    process: multiprocessing.process.BaseProcess
    connection: Connection
    batch: deque[int] = field(default_factory=deque)  # positions sent and not answered; [0] is in progress
    since: float = 0.0  # when the parent last saw this worker start an item (clock)
    since_cpu: float | None = None  # the worker's CPU time then, where it can be read

    def mark_start(self) -> None:
        self.since = time.monotonic()
        self.since_cpu = _cpu_seconds(self.process.pid)

    def elapsed(self) -> tuple[float, float]:
        """Seconds on the current item: (CPU, or the clock where CPU cannot be read; the clock)."""
        wall = time.monotonic() - self.since
        cpu = _cpu_seconds(self.process.pid)
        if cpu is None or self.since_cpu is None:
            return wall, wall
        return cpu - self.since_cpu, wall


def map_supervised(
    function: Callable[[Item], Result],
    items: Sequence[Item],
    lost: Lost,
    *,
    jobs: int,
    timeout: float | None,
) -> list[Result]:
    """`[function(item) for item in items]` in `jobs` worker processes, each item limited to `timeout` seconds.

    An item that exceeds the limit, kills its worker or makes `function` raise gets
    `lost(item, kind, message, detail)` instead, with kind "timeout", "crash" or "internal"
    (whose detail is a short traceback).
    """
    if not items:
        return []
    return _Supervisor(function, items, lost, jobs, timeout).run()


class _Supervisor(Generic[Item, Result]):
    def __init__(
        self, function: Callable[[Item], Result], items: Sequence[Item], lost: Lost, jobs: int, timeout: float | None
    ) -> None:
        self._function = function
        self._items = items
        self._lost = lost
        self._timeout = timeout or None
        self._jobs = max(1, min(jobs, len(items)))
        self._batch_size = max(1, min(MAX_BATCH, len(items) // (self._jobs * 8)))
        self._queue: deque[int] = deque(range(len(items)))
        self._results: list[Result | None] = [None] * len(items)
        self._context = _context()

    def run(self) -> list[Result]:
        workers = [self._start() for _ in range(self._jobs)]
        try:
            workers = [self._feed(worker) for worker in workers]
            while any(worker.batch for worker in workers):
                busy = [worker for worker in workers if worker.batch]
                wait([worker.connection for worker in busy], timeout=self._wait_time(busy))
                for position, worker in enumerate(workers):
                    if worker.batch:
                        workers[position] = worker = self._service(worker)
                    if not worker.batch:
                        workers[position] = self._feed(worker)
        finally:
            for worker in workers:
                _stop(worker)
        return self._results  # type: ignore[return-value]  # every position is filled by now

    def _start(self) -> _Worker[Item]:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_work, args=(theirs, self._function), name="authlint-worker", daemon=True)
        process.start()
        theirs.close()  # the worker's death must read as end-of-file on our side
        return _Worker(process, ours)

    def _feed(self, worker: _Worker[Item]) -> _Worker[Item]:
        """The worker, busy with a new batch; a replacement when it died idle (no item is to blame)."""
        batch = [self._queue.popleft() for _ in range(min(self._batch_size, len(self._queue)))]
        if not batch:
            return worker
        try:
            worker.connection.send([self._items[position] for position in batch])
        except OSError:  # killed between batches (the OOM killer, a signal from outside)
            _stop(worker)
            self._queue.extendleft(reversed(batch))
            return self._feed(self._start())
        worker.batch.extend(batch)
        worker.mark_start()
        return worker

    def _wait_time(self, busy: list[_Worker[Item]]) -> float | None:
        if self._timeout is None:
            return None
        # CPU time advances no faster than the clock, so the smallest budget left is a safe sleep.
        return max(0.0, min(self._budget_left(worker) for worker in busy))

    def _budget_left(self, worker: _Worker[Item]) -> float:
        assert self._timeout is not None
        cpu, wall = worker.elapsed()
        return min(self._timeout - cpu, self._timeout * _WALL_FACTOR - wall)

    def _service(self, worker: _Worker[Item]) -> _Worker[Item]:
        """Take the worker's answers; a worker that died or overran is replaced."""
        try:
            while worker.batch and worker.connection.poll():
                answer = worker.connection.recv()
                self._record(worker.batch.popleft(), answer)
                worker.mark_start()
        except (EOFError, OSError):
            return self._replace(worker, "crash", _death_message(worker.process))
        if worker.batch and self._timeout is not None and self._budget_left(worker) <= 0:
            return self._replace(worker, "timeout", f"took longer than {self._timeout:g} s")
        return worker

    def _record(self, position: int, answer: tuple[bool, object]) -> None:
        ok, value = answer
        if ok:
            self._results[position] = value  # type: ignore[assignment]
        else:
            message, detail = value  # type: ignore[misc]
            self._results[position] = self._lost(self._items[position], "internal", message, detail)

    def _replace(self, worker: _Worker[Item], kind: str, message: str) -> _Worker[Item]:
        _stop(worker)
        position = worker.batch.popleft()
        self._results[position] = self._lost(self._items[position], kind, message, "")
        self._queue.extendleft(reversed(worker.batch))
        return self._start()


def _work(connection: Connection, function: Callable[[Item], Result]) -> None:
    """A worker's life: answer every item of every batch, in order, until the pipe closes."""
    # Ctrl-C reaches the whole process group; the parent alone decides what it ends.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            batch = connection.recv()
        except EOFError:
            return
        for item in batch:
            try:
                connection.send((True, function(item)))
            except Exception as exc:  # reported for this item; the worker stays useful
                detail = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-3))
                connection.send((False, (f"{type(exc).__name__}: {exc}", detail)))


def _stop(worker: _Worker[Item]) -> None:
    worker.connection.close()
    if worker.process.is_alive():
        worker.process.kill()
    worker.process.join()


def _death_message(process: multiprocessing.process.BaseProcess) -> str:
    process.join(timeout=5)
    code = process.exitcode
    if code is not None and code < 0:
        try:
            how = signal.Signals(-code).name
        except ValueError:
            how = f"signal {-code}"
    else:
        how = f"exit code {code}"
    return f"the worker process analysing it died ({how})"


def _cpu_seconds(pid: int | None) -> float | None:
    """User + system CPU seconds of a running process (all its threads), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            # the command name (field 2) may hold spaces; the fields after it are plain numbers
            fields = handle.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS_PER_SECOND
    except (OSError, IndexError, ValueError):
        return None


def _context() -> multiprocessing.context.BaseContext:
    # fork shares the already imported rules and libcst with the workers for free
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    return multiprocessing.get_context(method)
