"""`agent.stream(goal)`: the run's events as they happen, exactly its event log, the result last."""

from __future__ import annotations

from pathlib import Path

from agentkit import Agent, Budget, FunctionModel, RunEvent, RunResult, Store
from tests.scripts import HELLO_GOAL, hello_agent
from tests.test_approval import deploy, operator


async def _collect(stream: object) -> tuple[list[RunEvent], RunResult]:
    items = [item async for item in stream]  # type: ignore[attr-defined]
    *events, result = items
    assert all(isinstance(e, RunEvent) for e in events)
    assert isinstance(result, RunResult)
    return events, result


def _logged(db: str, run_id: str) -> list[tuple[str, str | None, dict[str, object]]]:
    # A `RunEvent` carries the subtask as its own field, never inside `data` (an approval
    # request's logged data repeats it).
    return [(e.kind, e.subtask_id, {k: v for k, v in e.data.items() if k != "subtask_id"})
            for e in Store(db).get_events(run_id)]


def _streamed(events: list[RunEvent]) -> list[tuple[str, str | None, dict[str, object]]]:
    return [(e.kind, e.subtask_id, e.data) for e in events]


async def test_the_stream_is_the_event_log_then_the_result(db: str, workspace: Path) -> None:
    events, result = await _collect(hello_agent(db, workspace).stream(HELLO_GOAL))
    assert result.status == "completed", result.error
    assert _streamed(events) == _logged(db, result.run_id)
    kinds = [e.kind for e in events]
    assert kinds[0] == "calibrated" and kinds[-1] == "run_finished"
    assert kinds.count("tool_call") == 4 and kinds.count("model_call") == 6
    assert (workspace / "hello.py").exists()


async def test_an_approval_request_and_a_budget_stop_are_streamed(
    db: str, workspace: Path
) -> None:
    agent = Agent(FunctionModel(operator), tools=[deploy], db=db, workspace=workspace)
    events, paused = await _collect(agent.stream("Deploy the site"))
    assert paused.status == "awaiting_approval"
    assert events[-1].kind == "approval_requested"
    assert events[-1].data["name"] == "deploy"
    assert _streamed(events) == _logged(db, paused.run_id)

    tight = hello_agent(db, workspace, budget=Budget(max_model_calls=2))
    events, stopped = await _collect(tight.stream(HELLO_GOAL))
    assert stopped.status == "budget_exhausted"
    assert [e.kind for e in events].count("model_call") == 2
    assert _streamed(events) == _logged(db, stopped.run_id)


async def test_leaving_the_stream_early_stops_a_resumable_run(db: str, workspace: Path) -> None:
    agent = hello_agent(db, workspace)
    stream = agent.stream(HELLO_GOAL)
    async for item in stream:
        if isinstance(item, RunEvent) and item.kind == "tool_call":
            break
    await stream.aclose()  # type: ignore[attr-defined]
    run = Store(db).list_runs(1)[0]
    assert run.status == "interrupted"

    before = len(Store(db).get_events(run.id))
    events, result = await _collect(agent.stream_resume(run.id))
    assert result.status == "completed", result.error
    assert events[0].kind == "resumed"
    assert _streamed(events) == _logged(db, run.id)[before:]
