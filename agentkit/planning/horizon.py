"""The rolling plan: finished steps are archived, and the strategist extends the plan.

A plan holds at most `MAX_PLAN_STEPS` open steps, so a long goal is planned a window at a time:
the strategist sets `Plan.continues` when the goal needs more steps than it wrote; when every step
of the window is done, the monitor asks for an extension (a revision with the trigger `extend`,
which does not count against `Budget.max_revisions`). Steps that are done leave the plan — they
are archived: their subtasks and results stay in the record, and `archived` lists them.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentkit.models import ModelClient, ModelRequest
from agentkit.planning import strategist
from agentkit.planning.ledger import Ledger
from agentkit.schema import MAX_PLAN_STEPS, Plan, PlanStep, Subtask

EXTEND = """Every step of the plan above is done, and the plan said the goal needs more.
Write the next steps (at most {max_steps}), with ids no earlier step used. Set continues to true
if still more steps will be needed after these, false if these finish the goal. If the goal is
already met, set goal_met to true and write no steps."""


class PlanExtension(BaseModel):
    """The strategist's next window of a plan whose steps are all done."""

    model_config = ConfigDict(extra="forbid")

    goal_met: bool = False
    strategy: Annotated[str, Field(max_length=600)] = ""
    steps: Annotated[list[PlanStep], Field(max_length=MAX_PLAN_STEPS)] = []
    continues: bool = False

    @model_validator(mode="after")
    def _check_step_graph(self) -> PlanExtension:
        self.steps = strategist.repair_steps(self.steps)
        return self


class ArchivedStep(BaseModel):
    """A finished step that left the plan, with the subtask that finished it and its result."""

    step_id: str
    title: str
    subtask_id: str
    plan_version: int
    result: str


async def extend(
    client: ModelClient, goal: str, *, plan: Plan, ledger: Ledger, tool_names: list[str],
    budget_note: str,
) -> PlanExtension:
    """Ask the strategist for the steps after `plan`, whose steps are all done."""
    task = (
        f"Goal: {goal}\nTools the executors have: {', '.join(tool_names) or 'none'}\n"
        f"Budget left: {budget_note}\n\nPlan so far:\n{plan.render()}\n\n{ledger.render()}\n\n"
        + EXTEND.format(max_steps=MAX_PLAN_STEPS)
    )
    request = ModelRequest(
        role="strategist",
        messages=[{"role": "system", "content": strategist.SYSTEM},
                  {"role": "user", "content": task}],
    )
    return await strategist.ask_for_steps(client, request, PlanExtension)


def extended(old: Plan, extension: PlanExtension, subtasks: list[Subtask]) -> Plan:
    """The next plan version: the extension's steps (finished ids renamed), the old plan's notes.

    When the goal is met (or no step came back) the plan keeps its last window, with nothing
    more to follow: its steps are done, so the run finishes.
    """
    if extension.goal_met or not extension.steps:
        return old.model_copy(update={"continues": False})
    new = Plan(
        strategy=extension.strategy or old.strategy, steps=extension.steps,
        assumptions=old.assumptions, risks=old.risks, failed_approaches=old.failed_approaches,
        continues=extension.continues,
    )
    return strategist.carry_over(old, new, subtasks, extending=True)


def archived(subtasks: list[Subtask], plan: Plan, version: int) -> list[ArchivedStep]:
    """The steps archived by plan `version` (`plan`): finished under an earlier version and not
    in this one, oldest first."""
    current = {step.id for step in plan.steps}
    found: dict[str, ArchivedStep] = {}
    for s in subtasks:
        if s.status != "done" or not s.completes_step or s.plan_version >= version:
            continue
        for step_id in s.steps:
            if step_id not in current and step_id not in found:
                found[step_id] = ArchivedStep(
                    step_id=step_id, title=s.title, subtask_id=s.id,
                    plan_version=s.plan_version, result=s.result or "",
                )
    return list(found.values())
