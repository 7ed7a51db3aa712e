"""Calibration: difficulty and history → effort; a failure escalates the model tier in a run."""

from __future__ import annotations

import re
from pathlib import Path

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Plan, PlanStep, ToolCall
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
