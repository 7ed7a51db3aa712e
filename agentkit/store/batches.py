"""The task table of `agentkit batch`: tasks are added once, claimed by one worker at a time,
given their run id before the run starts, and marked done with the run's outcome.

Claims are compare-and-set updates (`state = 'pending'` in the WHERE clause), so workers in many
processes or on many machines share one queue in the database without a coordinator: on
PostgreSQL the second of two racing updates re-reads the row and finds it taken; on SQLite
writers take turns on the file.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from sqlalchemy import ColumnElement, RowMapping, and_, func, insert, select, update

from agentkit.errors import UserError
from agentkit.schema import RunStatus
from agentkit.store.records import BatchTaskRow, NewTask
from agentkit.store.repository import Store
from agentkit.store.tables import batch_tasks

__all__ = ["BatchTasks", "NewTask"]


def _row(row: RowMapping) -> BatchTaskRow:
    passed = row["passed"]
    return BatchTaskRow(**{**dict(row), "passed": None if passed is None else bool(passed)})


class BatchTasks:
    """The tasks of batch `batch` in `store`."""

    def __init__(self, store: Store, batch: str) -> None:
        self.store = store
        self.batch = batch

    def _where(self, key: str) -> ColumnElement[bool]:
        return and_(batch_tasks.c.batch == self.batch, batch_tasks.c.key == key)

    def add(self, tasks: Iterable[NewTask]) -> int:
        """Add the tasks this batch lacks; a known key must keep its goal and check. Returns
        how many were added."""
        known = {row.key: row for row in self.rows()}
        added = 0
        now = time.time()
        with self.store._tx() as conn:
            for task in tasks:
                old = known.get(task.key)
                if old is None:
                    conn.execute(insert(batch_tasks).values(
                        batch=self.batch, state="pending", claims=0, updated_at=now,
                        **vars(task)))
                    added += 1
                elif (old.goal, old.check_command) != (task.goal, task.check_command):
                    raise UserError(
                        f"batch {self.batch!r} already has task {task.key!r} with another goal "
                        f"or check ({old.goal!r}, check {old.check_command!r}); keep the task "
                        "as it was, give it a new id, or start a new batch with --batch NAME"
                    )
        return added

    def rows(self) -> list[BatchTaskRow]:
        """Every task of the batch, in the order of the tasks file."""
        with self.store._tx() as conn:
            found = conn.execute(
                select(batch_tasks).where(batch_tasks.c.batch == self.batch)
                .order_by(batch_tasks.c.position, batch_tasks.c.repetition)
            ).mappings().all()
        return [_row(r) for r in found]

    def get(self, key: str) -> BatchTaskRow:
        with self.store._tx() as conn:
            found = conn.execute(select(batch_tasks).where(self._where(key))).mappings().first()
        if found is None:
            raise UserError(f"batch {self.batch!r} has no task {key!r}")
        return _row(found)

    def counts(self) -> dict[str, int]:
        """How many tasks are pending, claimed and done."""
        with self.store._tx() as conn:
            found = conn.execute(
                select(batch_tasks.c.state, func.count()).where(batch_tasks.c.batch == self.batch)
                .group_by(batch_tasks.c.state)
            ).all()
        return {"pending": 0, "claimed": 0, "done": 0, **{s: n for s, n in found}}

    def claim_next(self, worker: str) -> BatchTaskRow | None:
        """Take the first pending task for `worker`; None when none is left."""
        while True:
            with self.store._tx() as conn:
                key = conn.execute(
                    select(batch_tasks.c.key).where(batch_tasks.c.batch == self.batch,
                                                    batch_tasks.c.state == "pending")
                    .order_by(batch_tasks.c.position, batch_tasks.c.repetition).limit(1)
                ).scalar()
            if key is None:
                return None
            if self._take(key, worker, only_pending=True):
                return self.get(key)

    def claim(self, key: str, worker: str) -> BatchTaskRow | None:
        """Take task `key` for `worker` unless it is done (a scheduler such as Ray retrying a
        task whose worker died hands it over); None when it is done."""
        return self.get(key) if self._take(key, worker, only_pending=False) else None

    def _take(self, key: str, worker: str, *, only_pending: bool) -> bool:
        allowed = ("pending",) if only_pending else ("pending", "claimed")
        with self.store._tx() as conn:
            done = conn.execute(
                update(batch_tasks)
                .where(self._where(key), batch_tasks.c.state.in_(allowed))
                .values(state="claimed", worker=worker, claims=batch_tasks.c.claims + 1,
                        updated_at=time.time()))
        return done.rowcount == 1

    def set_run(self, key: str, run_id: str) -> None:
        """Record the run a task's run will have, before it starts."""
        self._update(key, run_id=run_id)

    def finish(self, key: str, *, outcome: RunStatus | None, passed: bool,
               check_output: str | None, error: str | None) -> None:
        self._update(key, state="done", outcome=outcome, passed=passed,
                     check_output=check_output, error=error)

    def release(self, worker: str | None = None) -> list[str]:
        """Give the tasks `worker` (which died) had claimed back to the queue, or those of every
        worker (None: a batch resumed after its driver stopped); their run ids stay, so the
        next worker resumes those runs. Returns their keys."""
        query = select(batch_tasks.c.key).where(batch_tasks.c.batch == self.batch,
                                                batch_tasks.c.state == "claimed")
        if worker is not None:
            query = query.where(batch_tasks.c.worker == worker)
        with self.store._tx() as conn:
            keys = list(conn.execute(query).scalars())
            conn.execute(
                update(batch_tasks)
                .where(batch_tasks.c.batch == self.batch, batch_tasks.c.key.in_(keys))
                .values(state="pending", updated_at=time.time()))
        return keys

    def _update(self, key: str, **values: object) -> None:
        with self.store._tx() as conn:
            conn.execute(update(batch_tasks).where(self._where(key))
                         .values(updated_at=time.time(), **values))
