"""One batch worker: takes tasks from the batch's table in the store, runs (or resumes) each
task's run, runs its check, and records the outcome.

Every step is written before the next begins, so a worker killed at any point leaves the task
where another worker picks it up: a task whose run id is recorded but whose run never started
starts it under that id; a run cut off is resumed from its checkpoint (`Agent.resume`); a run
that ended is only checked. A task therefore ends exactly once, with one run.

`python -m agentkit.batch.worker AGENT_FILE BATCH` serves tasks until none is pending, with the
store of `$AGENTKIT_DB` (the local pool starts these).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from agentkit.agent import Agent
from agentkit.errors import AgentkitError, UserError
from agentkit.schema import RunStatus
from agentkit.store import Store, new_run_id
from agentkit.store.batches import BatchTasks
from agentkit.store.records import BatchTaskRow

__all__ = ["CHECK_TIMEOUT", "MAX_CLAIMS", "run_task", "serve", "worker_name"]

CHECK_TIMEOUT = 600.0  # seconds a check command may take
MAX_CLAIMS = 3  # a task whose workers died this often is given up, not tried forever
_OUTPUT_TAIL = 2000
_RESUMABLE = ("running", "interrupted")


def worker_name(pid: int | None = None) -> str:
    """How a worker is named in the table: host and process id (what to kill to test this)."""
    return f"{socket.gethostname()}:{pid or os.getpid()}"


def run_task(agent: Agent, tasks: BatchTasks, row: BatchTaskRow) -> None:
    """Carry task `row` (claimed by this worker) to its end and record the outcome."""
    if row.claims > MAX_CLAIMS:
        tasks.finish(row.key, outcome=_status(agent.store, row.run_id), passed=False,
                     check_output=None, error=f"its worker died {row.claims - 1} times; "
                     "given up (see the workers' logs)")
        return
    workspace = Path(row.workspace)
    workspace.mkdir(parents=True, exist_ok=True)
    agent.workspace = workspace
    run_id = row.run_id
    if run_id is None:
        run_id = new_run_id()
        tasks.set_run(row.key, run_id)  # before the run exists: a kill now leaves only the id
    error = None
    try:
        status = _status(agent.store, run_id)
        if status is None:
            agent.run_sync(row.goal, run_id=run_id)
        elif status in _RESUMABLE:
            agent.run_sync_resume(run_id)
    except Exception as e:  # the run is recorded as failed; the batch goes on
        error = f"{type(e).__name__}: {e}" if isinstance(e, AgentkitError) else repr(e)
    status = _status(agent.store, run_id)
    passed, output = status == "completed", None
    if passed and row.check_command:
        passed, output = _check(row.check_command, workspace)
    tasks.finish(row.key, outcome=status, passed=passed, check_output=output, error=error)


def _status(store: Store, run_id: str | None) -> RunStatus | None:
    if run_id is None:
        return None
    try:
        return store.get_run(run_id).status
    except UserError:  # no such run yet
        return None


def _check(command: str, workspace: Path) -> tuple[bool, str]:
    """Run the task's check in its workspace: (exit code 0, the tail of its output)."""
    try:
        done = subprocess.run(command, shell=True, cwd=workspace, capture_output=True,
                              text=True, timeout=CHECK_TIMEOUT, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return False, f"check timed out after {CHECK_TIMEOUT:g} s"
    output = (done.stdout + done.stderr)[-_OUTPUT_TAIL:]
    return done.returncode == 0, f"exit {done.returncode}\n{output}"


def serve(db: str | None, agent_file: str, batch: str) -> int:
    """Run pending tasks of `batch` until none is left; returns how many this worker ran."""
    agent = Agent.from_file(agent_file, db=db)
    tasks = BatchTasks(agent.store, batch)
    name, count = worker_name(), 0
    while (row := tasks.claim_next(name)) is not None:
        run_task(agent, tasks, row)
        count += 1
    agent.store.close()
    return count


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        sys.stderr.write("usage: python -m agentkit.batch.worker AGENT_FILE BATCH\n")
        return 2
    try:
        serve(None, *argv)
    except AgentkitError as e:
        sys.stderr.write(f"error: {e}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
