"""What compaction took out of a subtask's messages reaches the next subtask."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall
from tests import crash_points as cp

pytestmark = pytest.mark.both_stores

PLAN = Plan(strategy="read, then report", steps=[
    PlanStep(id="s1", title="Read the records", difficulty="hard"),
    PlanStep(id="s2", title="Report key_2", depends_on=["s1"], difficulty="trivial"),
])


def script(request: ModelRequest) -> object:
    if request.role == "strategist":
        return PLAN
    if request.role == "executor" and "Your subtask (t2)" in request.messages[1]["content"]:
        return ToolCall(name="finish", arguments={"result": "reported"})
    return cp.audit(request)


async def test_facts_from_compacted_history_reach_the_next_subtask(
    db: str, workspace: Path
) -> None:
    model = FunctionModel(script)
    result = await Agent(model, tools=[cp.read_record], db=db, workspace=workspace,
                         max_prompt_tokens=2000).run("audit and report")

    assert result.status == "completed"
    assert "summarizer" in [r.role for r in model.requests]  # t1's history was compacted
    second = next(r for r in model.requests
                  if r.role == "executor" and "Your subtask (t2)" in r.messages[1]["content"])
    pinned = second.messages[1]["content"]
    assert "Facts learned (latest values):\n- key_1 = value-1\n- key_2 = value-2" in pinned
    assert "Notes from earlier work that bear on this:" in pinned


async def test_a_run_that_searched_its_memory_replays_exactly(db: str, workspace: Path) -> None:
    from agentkit.store import Store

    agent = Agent(FunctionModel(script), tools=[cp.read_record], db=db, workspace=workspace,
                  max_prompt_tokens=2000)
    original = (await agent.run("audit and report")).run_id
    store = Store(db)
    for _ in range(2):  # the database's memory now holds the original's and a replay's
        replayed = (await agent.replay(original)).run_id
        assert [(c.role, c.request) for c in store.get_model_calls(replayed)] == [
            (c.role, c.request) for c in store.get_model_calls(original)]
        assert [(e.kind, e.data) for e in store.get_events(replayed)] == [
            (e.kind, e.data) for e in store.get_events(original)]
