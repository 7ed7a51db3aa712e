"""The strategist: writes the plan and revises it when work fails or stalls.

It sees the goal, the current plan, the ledger and the remaining budget — never the raw history.
"""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentkit.models import ModelClient, ModelRequest
from agentkit.planning import similar
from agentkit.planning.ledger import Ledger
from agentkit.schema import MAX_PLAN_STEPS, Plan, PlanStep, Subtask

SYSTEM = """You are the strategist of an agent. Write a short plan for the goal as JSON.
Each step has: id (like "s1"), title, instructions, success_criteria, depends_on (ids of earlier
steps it needs), difficulty (trivial, easy, medium or hard), expected_calls (about how many tool
calls it takes), and optionally check: a shell command whose exit code 0 proves the step done
(e.g. "python -m pytest -q"). Use only the tools listed.
Prefer few steps: one step per distinct piece of work. A plan holds at most 12 steps: when the
goal needs more, write the first ones and set continues to true; you will be asked for the next
steps when these are done."""


class PlanDraft(Plan):
    """A plan as a model writes it: repaired, not refused, where the fix is unambiguous.

    Small models repeat step ids, repeat whole steps and point at steps that do not exist; a
    repeated id gets a suffix, a repeated step is dropped (what depended on it depends on its
    first copy) and a dependency on no earlier step is dropped. Plan files get no such leniency.
    """

    model_config = ConfigDict(extra="forbid", title="Plan")

    @model_validator(mode="after")
    def _check_step_graph(self) -> PlanDraft:
        self.steps = repair_steps(self.steps)
        return self


class RevisionDraft(PlanDraft):
    """A revised plan as a model writes it. It may list again steps that are done (up to twice
    the plan's cap): they are archived, not kept, so they do not count against the cap
    (`carry_over` keeps at most `MAX_PLAN_STEPS` open steps)."""

    model_config = ConfigDict(extra="forbid", title="Plan")

    steps: Annotated[list[PlanStep], Field(min_length=1, max_length=2 * MAX_PLAN_STEPS)]


S = TypeVar("S", bound=BaseModel)

REPEATS = ("Some steps repeat others in nearly the same words: {pairs}. Merge each repeat into "
           "the step it repeats, or make it say what different work it does. Answer again with "
           "the whole {name} as JSON.")


async def ask_for_steps(client: ModelClient, request: ModelRequest, output_type: type[S]) -> S:
    """The strategist's answer of `output_type` (a plan or an extension) without near-duplicate
    steps: the answer goes back to the strategist once with the repeats named; repeats it keeps
    are merged into the step they repeat (`similar.fold`)."""
    answer = await client.structured(request, output_type)
    pairs = similar.near_duplicates(_steps_of(answer))
    if not pairs:
        return answer
    again = ModelRequest(role=request.role, messages=[
        *request.messages, {"role": "assistant", "content": answer.model_dump_json()},
        {"role": "user", "content": REPEATS.format(pairs=similar.describe(pairs),
                                                   name=request.output_name or "answer")}])
    answer = await client.structured(again, output_type)
    pairs = similar.near_duplicates(_steps_of(answer))
    if pairs:
        answer = answer.model_copy(update={"steps": similar.fold(_steps_of(answer), pairs)})
    return answer


def _steps_of(answer: BaseModel) -> list[PlanStep]:
    steps = getattr(answer, "steps", None)
    if not isinstance(steps, list):
        raise TypeError(f"{type(answer).__name__} has no steps to check for repeats")
    return steps


def repair_steps(steps: list[PlanStep]) -> list[PlanStep]:
    """`steps` without repeats: a step with the same title and instructions as an earlier one
    (ignoring case, spacing and punctuation) is dropped and dependencies on it go to the first;
    a repeated id gets a suffix; a dependency on no earlier step is dropped."""
    seen: set[str] = set()
    first_of: dict[str, str] = {}  # a step's text → the id of its first copy
    copy_of: dict[str, str] = {}  # a dropped copy's id → the id of the first copy
    kept = []
    for number, step in enumerate(steps, start=1):
        text = _words(f"{step.title} {step.instructions}")
        if text in first_of:
            copy_of.setdefault(step.id, first_of[text])
            continue
        if step.id in seen:
            step.id = f"{step.id}-{number}"[:24]
        deps = [copy_of.get(d, d) for d in step.depends_on]
        step.depends_on = list(dict.fromkeys(d for d in deps if d in seen))
        first_of[text] = step.id
        copy_of.pop(step.id, None)  # from here on, this id names this step
        seen.add(step.id)
        kept.append(step)
    return kept


def _words(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


async def _plan(client: ModelClient, task: str, draft: type[PlanDraft] = PlanDraft) -> Plan:
    """Ask the strategist for a plan: its standing instructions, then `task`. A `PlanDraft`
    comes back as a `Plan`; a `RevisionDraft` as itself, for `carry_over` to window."""
    request = ModelRequest(
        role="strategist",
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": task}],
    )
    answer = await ask_for_steps(client, request, draft)
    return answer if draft is RevisionDraft else Plan.model_validate(answer.model_dump())


def _tools_line(tool_names: list[str]) -> str:
    return "Tools the executors have: " + (", ".join(tool_names) or "none")


async def first_plan(
    client: ModelClient, goal: str, *, tool_names: list[str], budget_note: str
) -> Plan:
    return await _plan(client, f"Goal: {goal}\n{_tools_line(tool_names)}\nBudget: {budget_note}")


def finished_steps(subtasks: list[Subtask]) -> set[str]:
    """Ids of the steps whose last part is done: archived, never planned or run again."""
    return {step for s in subtasks if s.status == "done" and s.completes_step for step in s.steps}


def carry_over(old: Plan, new: Plan, subtasks: list[Subtask], *, extending: bool = False) -> Plan:
    """The plan to store: finished steps archived (left out), failed approaches recorded.

    A step of `new` with a finished step's id is that step listed again, and is left out; when
    `extending`, every step of `new` is new work, and such a step gets a fresh id instead.
    Dependencies on finished steps are met, and dropped.
    """
    finished = finished_steps(subtasks)
    steps = _fresh_ids(new.steps, finished) if extending else [
        s for s in new.steps if s.id not in finished]
    continues = new.continues or len(steps) > MAX_PLAN_STEPS  # the rest comes at `extend`
    placed: set[str] = set()
    kept = []
    for step in steps[:MAX_PLAN_STEPS]:
        kept.append(step.model_copy(update={"depends_on": [
            d for d in step.depends_on if d in placed]}))
        placed.add(step.id)
    tried = list(old.failed_approaches)
    for s in subtasks:
        note = f"tried: {s.title}, failed because {(s.result or 'unknown')[:300]}"
        if s.status == "failed" and note not in tried:
            tried.append(note)
    return Plan.model_validate({
        **new.model_dump(), "steps": [s.model_dump() for s in kept],
        "failed_approaches": tried[-20:], "continues": continues,
    })


def _fresh_ids(steps: list[PlanStep], taken: set[str]) -> list[PlanStep]:
    """`steps` with every id in `taken` renamed (`s1` → `s1.2`), and their dependents too."""
    used, renamed, out = set(taken), dict[str, str](), list[PlanStep]()
    for step in steps:
        new_id = step.id
        suffix = 1
        while new_id in used:
            suffix += 1
            new_id = f"{step.id[:18]}.{suffix}"
        used.add(new_id)
        deps = [renamed.get(d, d) for d in step.depends_on]
        renamed[step.id] = new_id
        out.append(step.model_copy(update={"id": new_id, "depends_on": deps}))
    return out


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
            + "Write the revised plan. Steps that are done are archived: do not list them "
            "again; do not repeat a failed approach."
        ),
        RevisionDraft,
    )
