"""Batches of runs: `agentkit batch TASKS.jsonl --agent FILE` runs many goals with one agent, on
local worker processes or on Ray, all writing to one store; `--resume` finishes a batch that
was cut off without redoing finished tasks.

The tasks file is described in `agentkit.batch.tasks`; the task table (which run carries which
task) in `agentkit.store.batches`; what a worker does with a task in `agentkit.batch.worker`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from agentkit.batch.summary import BatchSummary, TaskSummary, pass_hat_k
from agentkit.batch.tasks import TaskSpec, load_tasks
from agentkit.errors import UserError

__all__ = [
    "BatchSummary",
    "TaskSpec",
    "TaskSummary",
    "load_tasks",
    "pass_hat_k",
    "run_batch",
]

Progress = Callable[[dict[str, int]], None]


def run_batch(
    tasks_file: str | Path, agent_file: str | Path, *, db: str | None = None, workers: int = 2,
    ray: str | None = None, resume: bool = False, batch: str | None = None,
    workspaces: str | Path | None = None, on_progress: Progress | None = None,
) -> BatchSummary:
    """Run every task of `tasks_file` with the agent of `agent_file`; return the summary.

    Args:
        db: the store every worker writes to (a SQLite file or a PostgreSQL URL).
        workers: worker processes (with `ray='local'`: the CPUs of the local Ray instance).
        ray: None for local worker processes, 'local' for a local Ray instance, or the address
            of a Ray cluster.
        resume: go on with batch `batch` as recorded: finished tasks are skipped, runs that were
            cut off are resumed; tasks new in the file are added.
        batch: the batch's name in the store [default: the tasks file's name without suffix].
        workspaces: the folder of the tasks' workspaces, one per try
            [default: ./batches/BATCH]; workers' logs go to its `_logs` folder.
        on_progress: called now and then with the counts of pending, claimed and done tries.
    """
    from agentkit.agent import Agent
    from agentkit.batch.summary import summarize
    from agentkit.batch.tasks import expand
    from agentkit.store.batches import BatchTasks

    if workers < 1:
        raise UserError(f"workers {workers!r} must be at least 1")
    specs = load_tasks(tasks_file)
    agent_path = str(Path(agent_file).resolve())
    store = Agent.from_file(agent_path, db=db).store  # a bad agent file fails here, once
    name = batch or Path(tasks_file).stem
    folder = Path(workspaces or Path("batches") / name).resolve()
    tasks = BatchTasks(store, name)
    if tasks.rows() and not resume:
        counts = tasks.counts()
        raise UserError(
            f"batch {name!r} is already in {store.url!r} ({counts['done']} of "
            f"{sum(counts.values())} tries done); pass --resume to finish it, or --batch NAME "
            "to start another"
        )
    tasks.release()  # claims of workers that stopped with the last driver
    tasks.add(expand(specs, folder))
    if ray is None:
        from agentkit.batch.local import run_local

        run_local(tasks, db=store.url, agent_file=agent_path, workers=workers,
                  logs=folder / "_logs", on_progress=on_progress)
    else:
        from agentkit.batch._ray import run_on_ray

        run_on_ray(tasks, address=ray, workers=workers, db=store.url, agent_file=agent_path,
                   on_progress=on_progress)
    return summarize(store, name, tasks.rows())
