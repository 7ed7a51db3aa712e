"""A run as an async stream of its events, the result last: `async for item in agent.stream(goal)`.

The stream carries exactly what the run writes to its event log (`agentkit.events`), in the same
order: plans and revisions, subtasks, model and tool calls, compaction, approval requests, budget
stops, the end of the run. The last item is the `RunResult`. Leaving the loop early stops the run
(it is recorded `interrupted`, and `agentkit resume` continues it).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, cast

from agentkit.events import EventKind, EventListener
from agentkit.schema import RunResult

__all__ = ["RunEvent", "stream_run"]


@dataclass(kw_only=True, frozen=True)
class RunEvent:
    """One event of a run, as written to its log: its kind, data and subtask (if any)."""

    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)
    subtask_id: str | None = None


Work = Callable[[EventListener], Coroutine[Any, Any, RunResult]]


async def stream_run(work: Work) -> AsyncIterator[RunEvent | RunResult]:
    """Start `work(listener)` as a task and yield each event it tells, then its result.

    An error of the run is raised from the iteration after the events before it.
    """
    queue: asyncio.Queue[RunEvent] = asyncio.Queue()
    loop, loop_thread = asyncio.get_running_loop(), threading.get_ident()

    def listen(kind: str, data: dict[str, Any]) -> None:
        rest = {k: v for k, v in data.items() if k != "subtask_id"}
        event = RunEvent(kind=cast(EventKind, kind), data=rest, subtask_id=data.get("subtask_id"))
        if threading.get_ident() == loop_thread:
            queue.put_nowait(event)
        else:  # a tool's thread: hand the event to the loop
            loop.call_soon_threadsafe(queue.put_nowait, event)

    task = asyncio.create_task(work(listen))
    try:
        while not task.done():
            getter = asyncio.ensure_future(queue.get())
            await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter.done():
                yield getter.result()
            else:
                getter.cancel()
        await asyncio.sleep(0)  # let events handed over from threads arrive
        while not queue.empty():
            yield queue.get_nowait()
        yield task.result()
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
