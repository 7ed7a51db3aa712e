"""The model layer: structured answers validated and retried once; garbage fails clearly."""

from __future__ import annotations

from pathlib import Path

from agentkit import Agent, Budget, FunctionModel, ModelRequest, ScriptedModel, load_tools
from agentkit.store import Store
from tests.scripts import HELLO_PLAN, hello_agent, hello_primes

GOAL = "Create hello.py that prints the first 10 primes, then run it"


async def test_invalid_plan_is_retried_once_with_the_error_shown(db: str, workspace: Path) -> None:
    answers = iter(['{"strategy": "x", "steps": []}', HELLO_PLAN])

    def script(request: ModelRequest) -> object:
        if request.role == "strategist":
            return next(answers)
        return hello_primes(request)

    model = FunctionModel(script)
    agent = hello_agent(db, workspace, model)
    result = await agent.run(GOAL)

    assert result.status == "completed"
    strategist = [r for r in model.requests if r.role == "strategist"]
    assert len(strategist) == 2
    feedback = strategist[1].messages[-1]["content"]
    assert feedback.startswith("That answer is invalid: steps: List should have at least 1 item")
    calls = Store(db).get_model_calls(result.run_id)
    assert [c.role for c in calls[:2]] == ["strategist", "strategist"]


async def test_garbage_twice_fails_the_run_cleanly(db: str, workspace: Path) -> None:
    model = ScriptedModel(["not json at all", '{"strategy": 3}'])
    agent = Agent(model, db=db, workspace=workspace)
    result = await agent.run(GOAL)

    assert result.status == "failed"
    assert result.error is not None
    assert "returned an invalid Plan twice" in result.error
    assert "use a stronger model" in result.error
    store = Store(db)
    assert store.get_run(result.run_id).status == "failed"
    assert len(store.get_model_calls(result.run_id)) == 2
    assert store.plan_versions(result.run_id) == []


async def test_model_call_budget_stops_the_run_with_records_intact(
    db: str, workspace: Path
) -> None:
    agent = hello_agent(db, workspace, budget=Budget(max_model_calls=3))
    result = await agent.run(GOAL)

    assert result.status == "budget_exhausted"
    assert "model_calls budget spent" in (result.error or "")
    assert "Partial results" in (result.answer or "")
    store = Store(db)
    assert len(store.get_model_calls(result.run_id)) == 3
    assert [s.status for s in store.get_subtasks(result.run_id)] == ["done", "pending"]
    assert store.get_events(result.run_id)[-1].kind == "run_finished"


async def test_scripted_model_reports_its_exhaustion(db: str, workspace: Path) -> None:
    agent = Agent(
        ScriptedModel([HELLO_PLAN]), tools=[load_tools("files")], db=db, workspace=workspace
    )
    result = await agent.run(GOAL)
    assert result.status == "failed"
    assert "has no reply left" in (result.subtasks[0].result or "")
