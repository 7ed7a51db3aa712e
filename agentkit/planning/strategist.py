"""The strategist: writes the plan and revises it when work fails or stalls.

It sees the goal, the current plan, the ledger and the remaining budget — never the raw history.
"""

from __future__ import annotations

from pydantic import ConfigDict, model_validator

from agentkit.models import ModelClient, ModelRequest
from agentkit.planning.ledger import Ledger
from agentkit.schema import Plan, Subtask

SYSTEM = """You are the strategist of an agent. Write a short plan for the goal as JSON.
Each step has: id (like "s1"), title, instructions, success_criteria, depends_on (ids of earlier
steps it needs), difficulty (trivial, easy, medium or hard), and optionally check: a shell
command whose exit code 0 proves the step done (e.g. "python -m pytest -q"). Use only the tools
listed. Prefer few steps: one step per distinct piece of work."""


class PlanDraft(Plan):
    """A plan as a model writes it: repaired, not refused, where the fix is unambiguous.

    Small models repeat step ids and point at steps that do not exist; a repeated id gets a
    suffix and a dependency on no earlier step is dropped. Plan files get no such leniency.
    """

    model_config = ConfigDict(extra="forbid", title="Plan")

    @model_validator(mode="after")
    def _check_step_graph(self) -> PlanDraft:
        seen: set[str] = set()
        for number, step in enumerate(self.steps, start=1):
            if step.id in seen:
                step.id = f"{step.id}-{number}"[:24]
            step.depends_on = [d for d in step.depends_on if d in seen]
            seen.add(step.id)
        return self


async def _plan(client: ModelClient, task: str) -> Plan:
    """Ask the strategist for a plan: its standing instructions, then `task`."""
    request = ModelRequest(
        role="strategist",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": task}],
    )
    draft = await client.structured(request, PlanDraft)
    return Plan.model_validate(draft.model_dump())


def _tools_line(tool_names: list[str]) -> str:
    return "Tools the executors have: " + (", ".join(tool_names) or "none")


async def first_plan(
    client: ModelClient, goal: str, *, tool_names: list[str], budget_note: str
) -> Plan:
    return await _plan(client, f"Goal: {goal}\n{_tools_line(tool_names)}\nBudget: {budget_note}")


def carry_over(old: Plan, new: Plan, subtasks: list[Subtask]) -> Plan:
    """Keep completed steps and record failed approaches, whatever the strategist wrote."""
    done_ids = [s.step_id for s in subtasks if s.status == "done"]
    new_ids = {step.id for step in new.steps}
    kept = [step for step in old.steps if step.id in done_ids and step.id not in new_ids]
    tried = list(old.failed_approaches)
    for s in subtasks:
        note = f"tried: {s.title}, failed because {(s.result or 'unknown')[:300]}"
        if s.status == "failed" and note not in tried:
            tried.append(note)
    steps = [
        step.model_copy(
            update={"depends_on": [d for d in step.depends_on if d in new_ids | set(done_ids)]}
        )
        for step in [*kept, *new.steps]
    ]
    return Plan.model_validate(
        {
            **new.model_dump(),
            "steps": [s.model_dump() for s in steps],
            "failed_approaches": tried[-20:],
        }
    )


async def revise(
    client: ModelClient,
    goal: str,
    *,
    plan: Plan,
    ledger: Ledger,
    reason: str,
    tool_names: list[str],
    budget_note: str,
) -> Plan:
    return await _plan(
        client,
        (
            f"Goal: {goal}\n{_tools_line(tool_names)}\nBudget left: {budget_note}\n\n"
            f"Current plan:\n{plan.model_dump_json(indent=1)}\n\n{ledger.render()}\n\n"
            f"The plan must change because: {reason}\n"
            + "".join(f"Already {a}\n" for a in plan.failed_approaches)
            + "Write the revised plan. Keep the ids of steps that are done; "
            "do not repeat a failed approach."
        ),
    )
