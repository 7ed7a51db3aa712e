"""A batch's outcome: success rate, pass^k over repeated tasks, tokens and cost.

pass^k is the chance that all k tries of a task pass (tau-bench), estimated per task from its n
tries of which c passed as C(c, k) / C(n, k), averaged over the repeated tasks (tried more than
once); k is the fewest tries of any of them, so each counts. Without repeated tasks: no pass^k.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import comb

from agentkit.store import Store
from agentkit.store.records import BatchTaskRow

__all__ = ["BatchSummary", "TaskSummary", "pass_hat_k", "summarize"]


@dataclass(kw_only=True, frozen=True)
class TaskSummary:
    """One task of the batch over its repetitions."""

    task_id: str
    tries: int
    passed: int
    ended: int  # tries that are done (the rest are pending or running)
    tokens: int
    cost_usd: float
    run_ids: list[str]


@dataclass(kw_only=True, frozen=True)
class BatchSummary:
    batch: str
    tasks: list[TaskSummary]
    tries: int
    ended: int
    passed: int
    k: int | None
    pass_k: float | None
    tokens: int
    cost_usd: float
    resumed: int  # tries a second worker took up after the first died

    @property
    def success_rate(self) -> float:
        """Passed tries over ended tries (0 when none ended)."""
        return self.passed / self.ended if self.ended else 0.0


def pass_hat_k(tries: int, passed: int, k: int) -> float:
    """The estimated chance that k tries out of `tries` (of which `passed` passed) all pass."""
    return comb(passed, k) / comb(tries, k)


def summarize(store: Store, batch: str, rows: list[BatchTaskRow]) -> BatchSummary:
    """The summary of `batch` from its task rows and the usage of their runs."""
    grouped: dict[str, list[BatchTaskRow]] = {}
    for row in rows:
        grouped.setdefault(row.task_id, []).append(row)
    tasks = [_task(store, task_id, group) for task_id, group in grouped.items()]
    repeated = [t for t in tasks if t.tries > 1]
    k = min((t.tries for t in repeated), default=1)
    pass_k = None
    if repeated:
        pass_k = sum(pass_hat_k(t.tries, t.passed, k) for t in repeated) / len(repeated)
    return BatchSummary(
        batch=batch, tasks=tasks, tries=len(rows), ended=sum(t.ended for t in tasks),
        passed=sum(t.passed for t in tasks), k=k if k > 1 else None, pass_k=pass_k,
        tokens=sum(t.tokens for t in tasks), cost_usd=sum(t.cost_usd for t in tasks),
        resumed=sum(max(r.claims - 1, 0) for r in rows),
    )


def _task(store: Store, task_id: str, rows: list[BatchTaskRow]) -> TaskSummary:
    run_ids = [r.run_id for r in rows if r.run_id is not None]
    usages = [store.usage(run_id) for run_id in run_ids]
    return TaskSummary(
        task_id=task_id, tries=len(rows), passed=sum(bool(r.passed) for r in rows),
        ended=sum(r.state == "done" for r in rows),
        tokens=sum(u.total_tokens for u in usages), cost_usd=sum(u.cost_usd for u in usages),
        run_ids=run_ids,
    )
