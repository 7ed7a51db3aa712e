"""The dispatch gate: who may start now, in which order, and when a round lets its waiters go."""

from __future__ import annotations

import asyncio

from agentkit.execution.dispatch import Gate
from agentkit.schema import Subtask


def _subtask(sid: str, *deps: str, status: str = "pending") -> Subtask:
    return Subtask(id=sid, step_id=sid, plan_version=1, title=sid, depends_on=list(deps),
                   status=status)  # type: ignore[arg-type]


async def test_a_closed_round_starts_nothing_new_but_lets_running_work_finish() -> None:
    queue = [_subtask("t1"), _subtask("t2"), _subtask("t3", "t1")]
    gate = Gate.for_round(queue, queue, slots=1)
    assert await gate.enter("t1")
    second = asyncio.ensure_future(gate.enter("t2"))  # waits for the one slot
    await asyncio.sleep(0)
    assert not second.done()

    await gate.leave("t1", "failed", closes="subtask t1 ended failed")

    assert await second is False
    assert await gate.enter("t3") is False


async def test_the_longest_chain_waiting_on_a_subtask_starts_first() -> None:
    # t1 and t2 are both ready; t2 has two subtasks waiting on it, so it takes the free slot.
    queue = [_subtask("t1"), _subtask("t2"), _subtask("t3", "t2"), _subtask("t4", "t3"),
             _subtask("t0", status="running")]
    gate = Gate.for_round(queue, queue, slots=2)
    first = asyncio.ensure_future(gate.enter("t1"))
    second = asyncio.ensure_future(gate.enter("t2"))
    assert await gate.enter("t0")  # running when the run was cut off: it starts at once
    assert await second is True
    await asyncio.sleep(0)
    assert not first.done()
    await gate.leave("t0", "done", closes=None)
    assert await first is True


async def test_waiters_are_let_go_when_nothing_can_make_them_ready() -> None:
    # t2 waits on t1, which paused for approval: once nothing runs, t2 does not start this round.
    queue = [_subtask("t1"), _subtask("t2", "t1")]
    gate = Gate.for_round(queue, queue, slots=4)
    assert await gate.enter("t1")
    waiting = asyncio.ensure_future(gate.enter("t2"))
    await asyncio.sleep(0)
    assert not waiting.done()
    await gate.leave("t1", None, closes=None)  # paused: still unfinished
    assert await waiting is False
