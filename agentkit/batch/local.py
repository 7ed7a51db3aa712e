"""The local worker pool: N worker processes (`python -m agentkit.batch.worker`) sharing the
batch's table in one store. A worker that dies (killed, out of memory) gives its task back to
the queue and a new worker takes its place; the task's run is resumed, not started again."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from agentkit.errors import RunError
from agentkit.store import DB_ENV
from agentkit.store.batches import BatchTasks

__all__ = ["WorkerDeath", "run_local"]

POLL_SECONDS = 0.25


@dataclass(kw_only=True, frozen=True)
class WorkerDeath:
    """A worker that exited with an error, and the tasks it gave back."""

    worker: str
    returncode: int
    released: list[str]
    log: str


@dataclass(kw_only=True)
class _Worker:
    name: str
    process: subprocess.Popen[bytes]
    log: Path
    handle: IO[bytes]


def run_local(
    tasks: BatchTasks, *, db: str, agent_file: str, workers: int, logs: Path,
    on_progress: Callable[[dict[str, int]], None] | None = None,
) -> list[WorkerDeath]:
    """Serve every pending task of `tasks` with `workers` processes; return the deaths seen.

    Raises:
        RunError: a worker failed outside any task (it could not start; its log says why).
    """
    from agentkit.batch.worker import worker_name

    logs.mkdir(parents=True, exist_ok=True)
    live: list[_Worker] = []
    deaths: list[WorkerDeath] = []
    started = 0

    def start() -> None:
        nonlocal started
        started += 1
        log = logs / f"worker-{started}.log"
        handle = log.open("wb")
        process = subprocess.Popen(  # the URL in the environment: a password stays out of ps
            [sys.executable, "-m", "agentkit.batch.worker", agent_file, tasks.batch],
            env={**os.environ, DB_ENV: db}, stdin=subprocess.DEVNULL, stdout=handle,
            stderr=subprocess.STDOUT)
        live.append(_Worker(name=worker_name(process.pid), process=process, log=log,
                            handle=handle))

    try:
        while True:
            for worker in [w for w in live if w.process.poll() is not None]:
                live.remove(worker)
                worker.handle.close()
                if worker.process.returncode != 0:
                    deaths.append(_death(tasks, worker))
            counts = tasks.counts()
            if on_progress is not None:
                on_progress(counts)
            if not live and counts["pending"] == 0:
                return deaths
            while len(live) < min(workers, counts["pending"] + len(live)):
                start()
            time.sleep(POLL_SECONDS)
    finally:
        for worker in live:  # interrupted (Ctrl-C): the tasks stay claimed, --resume frees them
            worker.process.kill()
            worker.process.wait()
            worker.handle.close()


def _death(tasks: BatchTasks, worker: _Worker) -> WorkerDeath:
    released = tasks.release(worker.name)
    if not released and worker.process.returncode > 0:  # an error exit, not a signal
        tail = worker.log.read_text(errors="replace")[-1500:]
        raise RunError(f"batch worker {worker.name} exited with {worker.process.returncode} "
                       f"before taking a task; its log {str(worker.log)!r} ends:\n{tail}")
    return WorkerDeath(worker=worker.name, returncode=worker.process.returncode,
                       released=released, log=str(worker.log))
