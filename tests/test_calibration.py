"""Calibration: difficulty and history → effort; a failure escalates the model tier in a run."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall
from agentkit.cli import app
from agentkit.models import takes_reasoning_effort
from agentkit.planning.calibration import effort_for
from agentkit.store import Store


def test_trivial_work_stays_cheap_and_hard_work_gets_more() -> None:
    budget = Budget()
    trivial, hard = effort_for("trivial", budget), effort_for("hard", budget)
    assert (trivial.model, trivial.reasoning_effort) == ("fast", None)
    assert not trivial.thinking_tools
    assert (hard.model, hard.reasoning_effort, hard.thinking_tools) == ("strong", "high", True)
    assert trivial.max_steps < effort_for("medium", budget).max_steps < hard.max_steps
    assert trivial.budget_tokens < hard.budget_tokens
    assert effort_for("medium", budget).model is None  # the agent's default model


def test_each_failure_escalates_one_rung_and_to_the_strong_tier() -> None:
    budget = Budget()
    once, twice = (effort_for("trivial", budget, failures=n) for n in (1, 2))
    assert once.model == twice.model == "strong"
    assert effort_for("trivial", budget).max_steps < once.max_steps < twice.max_steps
    assert once.max_steps == effort_for("easy", budget).max_steps
    assert effort_for("hard", budget, failures=5).max_steps == effort_for("hard", budget).max_steps


def test_subtask_budgets_stay_within_the_bounds() -> None:
    budget = Budget(subtask_tokens=40_000, min_subtask_tokens=30_000, max_subtask_tokens=60_000)
    assert effort_for("trivial", budget).budget_tokens == 30_000  # 0.5 × 40k, raised to the min
    assert effort_for("hard", budget).budget_tokens == 60_000  # 2 × 40k, capped at the max
    assert effort_for("medium", budget).budget_tokens == 40_000


SUBTASK = re.compile(r"Your subtask \((t\d+)\): (.*)")
PLAN = Plan(strategy="one easy step", steps=[
    PlanStep(id="s1", title="Rename the variable", difficulty="easy")])


async def test_a_failed_step_is_retried_on_the_strong_tier(db: str, workspace: Path) -> None:
    def main(request: ModelRequest) -> object:
        assert request.role != "executor", "executors run on their tier's model"
        return PLAN if request.role == "strategist" else "renamed"

    def weak(request: ModelRequest) -> object:
        return ""  # never calls a tool: after one nudge the attempt fails

    def capable(request: ModelRequest) -> object:
        return ToolCall(name="finish", arguments={"result": "renamed it"})

    fast, strong = FunctionModel(weak), FunctionModel(capable)
    agent = Agent(FunctionModel(main), db=db, workspace=workspace,
                  aliases={"fast": fast, "strong": strong})
    result = await agent.run("Rename the variable")

    assert result.status == "completed", result.error
    first, retry = result.subtasks
    assert (first.step_id, first.status, first.effort.model) == ("s1", "failed", "fast")
    assert (retry.step_id, retry.status, retry.effort.model) == ("s1", "done", "strong")
    assert retry.effort.max_steps > first.effort.max_steps

    def ran(model: FunctionModel) -> set[str]:
        return {SUBTASK.search(r.messages[1]["content"]).group(1)  # type: ignore[union-attr]
                for r in model.requests}

    assert ran(fast) == {first.id} and ran(strong) == {retry.id}
    assert len(fast.requests) == 2 < first.effort.max_steps  # the reply, the nudged reply
    assert first.result is not None and "without calling a tool" in first.result
    calls = Store(db).get_model_calls(result.run_id)
    assert {c.model for c in calls if c.subtask_id == retry.id} == {strong.model_name}

    # The escalation shows in `agentkit runs show`, as a table and as JSON.
    shown = CliRunner().invoke(app, ["runs", "show", result.run_id, "--db", db],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"↑ after {first.id} failed" in shown.output
    assert "fast · low · 5 steps" in shown.output  # one rung up, on the strong tier:
    assert f"strong · medium · 8 steps · thinking ↑ after {first.id} failed" in shown.output
    details = json.loads(CliRunner().invoke(
        app, ["runs", "show", result.run_id, "--db", db, "--json"]).output)
    (raised,) = details["escalations"]
    assert (raised["subtask_id"], raised["after"]) == (retry.id, first.id)
    assert (raised["before"]["model"], raised["effort"]["model"]) == ("fast", "strong")


MEDIUM = Plan(strategy="one medium step", steps=[
    PlanStep(id="s1", title="Weigh the options", difficulty="medium")])


async def test_a_medium_subtask_gets_its_reasoning_effort_without_aliases(
    db: str, workspace: Path
) -> None:
    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return MEDIUM
        if request.role == "finalizer":
            return "weighed"
        return ToolCall(name="finish", arguments={"result": "weighed them"})

    model = FunctionModel(reply)
    result = await Agent(model, db=db, workspace=workspace).run("Weigh the options")
    assert result.status == "completed", result.error
    efforts = {r.role: r.reasoning_effort for r in model.requests}
    assert efforts == {"strategist": None, "executor": "medium", "finalizer": None}
    calls = Store(db).get_model_calls(result.run_id)
    assert {c.request["reasoning_effort"] for c in calls if c.role == "executor"} == {"medium"}


async def test_thinking_tools_run_at_the_subtasks_tier(db: str, workspace: Path) -> None:
    hard = Plan(strategy="one hard step", steps=[
        PlanStep(id="s1", title="Solve the puzzle", difficulty="hard")])

    def main(request: ModelRequest) -> object:
        assert request.role in ("strategist", "finalizer"), "the subtask runs on its tier"
        return hard if request.role == "strategist" else "solved"

    def strong_reply(request: ModelRequest) -> object:
        if request.role == "thinker":
            return "Answer: 42"
        if not any(m["role"] == "tool" for m in request.messages):
            return ToolCall(name="think_parallel", arguments={"question": "6 x 7?", "n": 3})
        return ToolCall(name="finish", arguments={"result": "42"})

    strong = FunctionModel(strong_reply)
    agent = Agent(FunctionModel(main), db=db, workspace=workspace, aliases={"strong": strong})
    result = await agent.run("Solve the puzzle")

    assert result.status == "completed", result.error
    thinker = [r for r in strong.requests if r.role == "thinker"]
    assert len(thinker) == 3 and {r.reasoning_effort for r in thinker} == {"high"}
    assert {r.reasoning_effort for r in strong.requests if r.role == "executor"} == {"high"}


def test_reasoning_effort_is_sent_only_to_models_that_take_it() -> None:
    assert takes_reasoning_effort("openai/o3-mini")  # LiteLLM: supports reasoning
    assert not takes_reasoning_effort("openai/gpt-4.1-mini")
    assert not takes_reasoning_effort("local/smollm2")
    assert takes_reasoning_effort("scripted/any")  # test doubles see every control
