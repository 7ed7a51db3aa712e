"""Event-driven dispatch: which subtask of a round may start now.

A dispatch round (the graph's `dispatch` node) starts one LangGraph task per pending subtask of
the plan, in subtask order, and each task first waits at the round's `Gate`. The gate lets a
subtask start as soon as its dependencies are done and a concurrency slot is free, whatever
else is still running — there is no superstep barrier between a subtask and the work it waits
for. The gate is plain asyncio and decides only from the order in which subtasks end, so a
replay (whose recorded calls end in the original's order) starts them in the original's order.

Rules of a round:

- when more subtasks may start than slots are free, the one with the longest chain of
  subtasks waiting on it goes first (then the queue's order): latencies are unknown, so the
  number of steps left behind a subtask is the critical-path estimate;
- a subtask that was already running when the run was cut off (a resumed round) starts at once;
- a failed subtask, a contradiction or a budget stop *closes* the round: nothing new starts,
  what runs finishes, and the monitor decides (revise or stop) once the round is over;
- a subtask paused for approval holds its slot no longer; its dependents cannot start in this
  round, and once nothing runs that could make a waiting subtask ready, the waiters are let go
  (they run in a later round).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from agentkit.schema import Subtask

__all__ = ["Gate"]

@dataclass(kw_only=True)
class Gate:
    """The start conditions of one dispatch round (see the module docstring).

    Args:
        depends: each queued subtask's dependencies.
        statuses: every subtask's status at the start of the round (kept up to date).
        slots: how many subtasks may run at once.
        resumed: queued subtasks already started in an earlier life of this round.
    """

    depends: Mapping[str, tuple[str, ...]]
    statuses: dict[str, str]
    slots: int
    resumed: frozenset[str] = frozenset()
    # Each queued subtask's place in the start order when several compete for a slot.
    rank: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    closed: str | None = None
    running: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    @classmethod
    def for_round(cls, queue: Iterable[Subtask], every: Iterable[Subtask], *, slots: int) -> Gate:
        """The gate of a round that runs `queue`, given `every` subtask of the run now."""
        if slots < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {slots!r}")
        queued = list(queue)
        depends = {s.id: tuple(s.depends_on) for s in queued}
        chain = _chains(depends)
        gate = cls(depends=depends, statuses={s.id: s.status for s in every}, slots=slots,
                   resumed=frozenset(s.id for s in queued if s.status == "running"),
                   rank={sid: (-chain[sid], i) for i, sid in enumerate(depends)})
        gate.waiting = {s.id for s in queued if s.id not in gate.resumed}
        gate.running = set(gate.resumed)  # they hold their slots from the start
        failed = [s for s in queued if s.status == "failed" or s.contradiction]
        if failed:  # an earlier life of this round already ended it
            gate.closed = f"subtask {failed[0].id} failed"
        return gate

    async def enter(self, subtask_id: str) -> bool:
        """Wait until `subtask_id` may start (True), or will not start in this round (False)."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._decision(subtask_id) is not None)
            go = bool(self._decision(subtask_id))
            if subtask_id in self.waiting and go:
                self.running.add(subtask_id)
            self.waiting.discard(subtask_id)
            self._changed.notify_all()  # a waiter fewer can make the rest stuck
            return go

    async def leave(self, subtask_id: str, status: str | None, *, closes: str | None) -> None:
        """`subtask_id` stopped running with `status` (None: paused, unfinished); `closes`
        says why nothing new may start in this round, if it ends the round."""
        async with self._changed:
            self.running.discard(subtask_id)
            if status is not None:
                self.statuses[subtask_id] = status
            if closes is not None and self.closed is None:
                self.closed = closes
            self._changed.notify_all()

    def _decision(self, subtask_id: str) -> bool | None:
        if subtask_id in self.resumed:
            return subtask_id in self.running
        if self.closed is not None:
            return False
        if self._startable(subtask_id):
            free = self.slots - len(self.running)
            first = sorted((w for w in self.waiting if self._startable(w)),
                           key=self.rank.__getitem__)[:max(free, 0)]
            return subtask_id in first or None
        if not self.running and not any(self._startable(w) for w in self.waiting):
            return False  # nothing that runs or can start will ever make it ready
        return None

    def _startable(self, subtask_id: str) -> bool:
        return all(self.statuses.get(d) == "done" for d in self.depends[subtask_id])


def _chains(depends: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Each subtask's longest chain of queued subtasks that wait on it, itself included."""
    waiting_on: dict[str, list[str]] = {sid: [] for sid in depends}
    for sid, deps in depends.items():
        for d in deps:
            if d in waiting_on:
                waiting_on[d].append(sid)
    found: dict[str, int] = {}

    def length(sid: str) -> int:
        if sid not in found:
            found[sid] = 1 + max((length(w) for w in waiting_on[sid]), default=0)
        return found[sid]

    return {sid: length(sid) for sid in depends}
