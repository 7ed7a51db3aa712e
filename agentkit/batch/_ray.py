"""Batches on Ray: one Ray task per batch task, on a cluster (`--ray ADDRESS`) or on a local
instance Ray starts (`--ray local`). The one home of the `ray` import (the `ray` extra).

Ray retries a task whose worker process died (`max_retries`); the retry takes the batch task
over (`BatchTasks.claim`) and resumes its run. Every node needs agentkit, the agent file's
tools and models, and a way to the store (PostgreSQL for a cluster of machines).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from typing import Any

from agentkit.errors import UserError
from agentkit.store.batches import BatchTasks

__all__ = ["run_on_ray"]

MAX_RETRIES = 3  # as `worker.MAX_CLAIMS`: a task whose worker died this often is given up
_agents: dict[tuple[str, str], Any] = {}  # one Agent per store and agent file, per Ray worker


def _run_key(db: str, agent_file: str, batch: str, key: str) -> str:
    """In a Ray worker: carry task `key` to its end (taking it over from a dead worker)."""
    from agentkit.agent import Agent
    from agentkit.batch.worker import run_task, worker_name

    agent = _agents.get((db, agent_file))
    if agent is None:
        agent = _agents[(db, agent_file)] = Agent.from_file(agent_file, db=db)
    tasks = BatchTasks(agent.store, batch)
    row = tasks.claim(key, worker_name())
    if row is not None:
        run_task(agent, tasks, row)
    return key


def _ray() -> Any:
    try:
        import ray
    except ImportError as e:
        raise UserError("--ray needs Ray: pip install 'agentkit[ray]' (or pip install ray), "
                        "or leave --ray out to run the batch with local worker processes") from e
    return ray


def run_on_ray(
    tasks: BatchTasks, *, address: str, workers: int, db: str, agent_file: str,
    on_progress: Callable[[dict[str, int]], None] | None = None,
) -> None:
    """Run every task of `tasks` that is not done as Ray tasks; `address` 'local' starts a
    local Ray instance with `workers` CPUs, anything else is `ray.init(address=...)`."""
    # Ray prints what its workers report (a worker that died, its logs) on standard output;
    # there it would mix with the batch's own output (its --json summary).
    with contextlib.redirect_stdout(sys.stderr):
        _run(_ray(), tasks, address=address, workers=workers, db=db, agent_file=agent_file,
             on_progress=on_progress)


def _run(
    ray: Any, tasks: BatchTasks, *, address: str, workers: int, db: str, agent_file: str,
    on_progress: Callable[[dict[str, int]], None] | None,
) -> None:
    if address == "local":
        env = {"PYTHONPATH": os.environ.get("PYTHONPATH", "")}
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False,
                 runtime_env={"env_vars": env})
    else:
        ray.init(address=address, log_to_driver=False)
    try:
        remote = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(_run_key)
        refs = {remote.remote(db, agent_file, tasks.batch, row.key): row.key
                for row in tasks.rows() if row.state != "done"}
        pending = list(refs)
        while pending:
            ready, pending = ray.wait(pending, num_returns=len(pending), timeout=0.5)
            for ref in ready:
                try:
                    ray.get(ref)
                except ray.exceptions.RayError as e:  # its workers kept dying: given up
                    tasks.finish(refs[ref], outcome=None, passed=False, check_output=None,
                                 error=f"Ray gave the task up: {type(e).__name__}: {e}"[:2000])
            if on_progress is not None:
                on_progress(tasks.counts())
    finally:
        ray.shutdown()
