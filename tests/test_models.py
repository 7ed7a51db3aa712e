"""The model layer: structured answers validated and retried once; garbage fails clearly."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelConfigError,
    ModelRequest,
    Plan,
    PlanStep,
    ScriptedModel,
    ToolCall,
    load_tools,
)
from agentkit.models import ModelClient, check_model
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


# --- scripted models belong to the agent that holds them ----------------------------------------


def _answering_as(label: str) -> FunctionModel:
    """A model that plans one step, finishes it with `label` and answers with `label`."""
    plan = Plan(strategy="Say who answers.", steps=[PlanStep(
        id="s1", title="Say who you are", instructions="Say who you are.",
        success_criteria="a name was said", difficulty="easy")])

    def script(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return f"answer from {label}"
        return ToolCall(name="finish", arguments={"result": f"I am {label}"})

    return FunctionModel(script)


async def test_two_agents_in_one_process_each_use_their_own_model(
    db: str, workspace: Path
) -> None:
    # Only the agents hold their models: the registry LiteLLM looks them up in is weak.
    first = Agent(_answering_as("A"), db=db, workspace=workspace)
    second = Agent(_answering_as("B"), db=db, workspace=workspace)
    gc.collect()
    a, b = await asyncio.gather(first.run("Who are you?"), second.run("Who are you?"))

    assert (a.status, a.answer, a.subtasks[0].result) == ("completed", "answer from A", "I am A")
    assert (b.status, b.answer, b.subtasks[0].result) == ("completed", "answer from B", "I am B")
    store = Store(db)
    assert {c.model for c in store.get_model_calls(a.run_id)} == {first.model}
    assert {c.model for c in store.get_model_calls(b.run_id)} == {second.model}
    assert first.model != second.model


def test_a_second_live_model_under_a_taken_name_is_refused(workspace: Path) -> None:
    first = FunctionModel(lambda request: "one", name="shared-name")
    with pytest.raises(ModelConfigError) as refused:
        ScriptedModel(["two"], name="shared-name")
    assert str(refused.value) == (
        "a scripted model named 'shared-name' already exists in this process (FunctionModel); "
        "give this one another name (name=...) or none for a fresh one, or drop the first "
        "(every agent and variable holding it) before reusing its name"
    )
    agent = Agent(first, workspace=workspace)
    del first
    gc.collect()
    with pytest.raises(ModelConfigError, match="'shared-name' already exists"):
        FunctionModel(lambda request: "two", name="shared-name")  # the agent still holds it
    assert agent.model == "scripted/shared-name"


async def test_a_dropped_model_frees_its_name() -> None:
    first = FunctionModel(lambda request: "one", name="reused-name")
    request = ModelRequest(role="executor", messages=[{"role": "user", "content": "hi"}])
    assert (await ModelClient(default=first.model_name).complete(request)).text == "one"
    del first
    gc.collect()
    with pytest.raises(ModelConfigError, match="no scripted model named 'reused-name'"):
        check_model("scripted/reused-name")

    second = ScriptedModel(["two"], name="reused-name")
    assert (await ModelClient(default=second.model_name).complete(request)).text == "two"
    assert second.requests == [request]
