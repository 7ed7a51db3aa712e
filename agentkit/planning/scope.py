"""Run-level calibration: does the goal need a plan at all?

Before the strategist writes a multi-step plan, one cheap classifier call (role `strategist`,
a `Scope` answer of a few tokens) asks whether one executor can do the whole goal. If so the run
gets a plan of one step — the goal itself, difficulty `easy`, so calibration gives it no
thinking tools and the decomposer no reason to split it — recorded like any plan version, with
the classifier's reason. Otherwise the strategist plans as usual.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from agentkit.errors import StructuredOutputError
from agentkit.models import ModelClient, ModelRequest
from agentkit.schema import Plan, PlanStep

SYSTEM = """Decide if one worker with tools can do the goal in a few tool calls, without a plan.
Answer JSON: {"one_subtask": true or false, "reason": "..."}.
true: one action or a short sequence on one thing (write a file, read a file and report a line,
run one command). false: several distinct pieces of work (build and test a program, research
and write a report)."""
# Every part of the single-step plan: the goal, cut to the step's bounds.
STRATEGY_PREFIX = "One executor carries out the whole goal"
STRATEGY = STRATEGY_PREFIX + ": {reason}"
SUCCESS = "the goal is achieved"
ONE_STEP_CALLS = 3


class Scope(BaseModel):
    """The classifier's answer: can one executor do the goal, and why."""

    model_config = ConfigDict(extra="forbid", title="Scope")

    one_subtask: bool
    reason: Annotated[str, Field(max_length=160)] = ""


async def decide(client: ModelClient, goal: str, *, tool_names: list[str]) -> Scope:
    """Ask the classifier whether one executor can do `goal` with `tool_names`."""
    request = ModelRequest(
        role="strategist",
        messages=[{"role": "system", "content": SYSTEM},
                  {"role": "user", "content": f"Goal: {goal}\nTools: {', '.join(tool_names)}"}],
    )
    return await client.structured(request, Scope)


async def calibrate(
    client: ModelClient, goal: str, *, tool_names: list[str], enabled: bool | None
) -> Scope | None:
    """The run-level decision, or None when it is not asked: `enabled` None asks only when the
    strategist's model is small (`ModelClient.is_small`). A classifier that cannot answer
    validly (twice) leaves the decision to the strategist: None."""
    if not (client.is_small("strategist") if enabled is None else enabled):
        return None
    try:
        return await decide(client, goal, tool_names=tool_names)
    except StructuredOutputError:
        return None


def recorded_reason(found: Scope) -> str:
    """The decision as a plan version's reason."""
    kind = "one subtask" if found.one_subtask else "a plan"
    return f"run-level calibration: {kind} ({found.reason.strip() or 'no reason given'})"


def one_step_plan(goal: str, reason: str) -> Plan:
    """The plan of a goal that runs as one subtask: one easy step, the goal itself."""
    why = reason.strip() or "the goal is one piece of work"
    return Plan(
        strategy=STRATEGY.format(reason=why)[:600],
        steps=[PlanStep(id="s1", title=_title(goal), instructions=goal[:600],
                        success_criteria=SUCCESS, difficulty="easy",
                        expected_calls=ONE_STEP_CALLS)],
    )


def is_one_step(plan: Plan) -> bool:
    """Whether `plan` is the plan of a goal that run-level calibration sent to one subtask."""
    return len(plan.steps) == 1 and plan.strategy.startswith(STRATEGY_PREFIX)


def retried(plan: Plan, *, small: bool) -> Plan | None:
    """The revision of a failed one-subtask plan when the strategist is small: the same step
    again (its failure is in the ledger the executor reads), not a plan a small model writes
    — slow, and in the measurements never better. None: let the strategist revise."""
    return plan.model_copy(deep=True) if small and is_one_step(plan) else None


def _title(goal: str) -> str:
    line = " ".join(goal.split())
    return line if len(line) <= 100 else line[:97] + "..."
