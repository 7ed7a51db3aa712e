"""The decomposer: plan steps → subtasks with dependencies and token estimates."""

from __future__ import annotations

from agentkit.planning.calibration import effort_for
from agentkit.schema import Budget, Plan, Subtask
from agentkit.tokens import count_text

# What an executor prompt carries besides the instructions (system text, plan, ledger, tools),
# and what each tool round trip adds; refined by issue 4's estimator.
PROMPT_OVERHEAD = 600
TOKENS_PER_STEP = 400


def decompose(
    plan: Plan, version: int, *, budget: Budget, existing: list[Subtask]
) -> list[Subtask]:
    """New subtasks for the steps of `plan` that no finished subtask already covers."""
    done_steps = {s.step_id: s.id for s in existing if s.status == "done"}
    failures: dict[str, int] = {}
    for s in existing:
        if s.status == "failed":
            failures[s.step_id] = failures.get(s.step_id, 0) + 1
    next_number = len(existing) + 1
    step_to_subtask = dict(done_steps)
    created: list[Subtask] = []
    for step in plan.steps:
        if step.id in done_steps:
            continue
        subtask_id = f"t{next_number}"
        next_number += 1
        effort = effort_for(step.difficulty, budget, failures=failures.get(step.id, 0))
        text = f"{step.title}\n{step.instructions}\n{step.success_criteria}"
        created.append(
            Subtask(
                id=subtask_id,
                step_id=step.id,
                plan_version=version,
                title=step.title,
                instructions=step.instructions,
                success_criteria=step.success_criteria,
                depends_on=[step_to_subtask[d] for d in step.depends_on if d in step_to_subtask],
                estimated_tokens=PROMPT_OVERHEAD + count_text(text) + TOKENS_PER_STEP * effort.max_steps,
                effort=effort,
            )
        )
        step_to_subtask[step.id] = subtask_id
    return created
