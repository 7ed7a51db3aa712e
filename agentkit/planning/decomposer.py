"""The decomposer: plan steps → subtasks sized to one bounded inference effort.

A subtask's cost is estimated with tiktoken from what its executor will read and write: the
instructions, the context it gets (plan and ledger, sent again at every step, with the tool
schemas), the tool input and output each step adds to the conversation, and its answer. A
subtask estimated over its token budget is split in two — its instruction sentences in halves, or
when there is only one sentence, its steps — recursively up to `Budget.max_split_depth`. The parts
chain; whatever depended on the step depends on its last part. Adjacent subtasks of a chain that
are both very small (`Budget.merge_below_tokens`) are merged into one.

The step limit follows the work: a step with `expected_calls` gets that many turns and a
closing one (`CONTROL_TURNS`), and a budget that fits them (up to the largest subtask budget)
before any split is considered; a split halves the work estimated for each part but never takes
a part's step limit below its level's; a step whose last attempt ran out of turns gets twice as
many the next time.

Ids are sequential (`t1`, `t2`, …), so they sort in creation order and dependencies always point
to earlier ids: the subtasks form a DAG.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, replace

from agentkit.planning.calibration import effort_for
from agentkit.planning.ledger import Ledger
from agentkit.schema import Budget, Effort, Plan, PlanStep, Subtask
from agentkit.tokens import count_text

# The executor's system text and the message framing around the subtask.
PROMPT_OVERHEAD = 120
# What one step adds to the conversation that every later step re-reads: the model's tool call
# (OUTPUT_PER_STEP, also generated) and the tool's result.
OUTPUT_PER_STEP = 60
TOOL_IO_PER_STEP = 300
# The final `finish(result)` call.
ANSWER_TOKENS = 150
# The `finish` tool's schema, when the caller does not count the real tool schemas.
DEFAULT_TOOLS_TOKENS = 80
# Turns a step takes besides its expected tool calls: the closing `finish`, and one spare.
CONTROL_TURNS = 2

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# While splitting, a part is estimated with the widest title marker it may get.
_MARKER_WIDTH = " (part 00/00)"
PART_CRITERIA = "this part's instructions are carried out"


def estimate_tokens(
    *, title: str, instructions: str, success_criteria: str, max_steps: int, context_tokens: int
) -> int:
    """Tokens one subtask spends if it uses all its steps (prompt + outputs, every call).

    Step k re-sends the prompt and the k-1 earlier steps' calls and results:
    total = n·prompt + n·output + io·n(n-1)/2 + answer, for n = `max_steps`.
    """
    own = count_text(f"{title}\n{instructions}\nSuccess criteria: {success_criteria}")
    prompt = PROMPT_OVERHEAD + context_tokens + own
    n = max_steps
    history = (OUTPUT_PER_STEP + TOOL_IO_PER_STEP) * n * (n - 1) // 2
    return n * (prompt + OUTPUT_PER_STEP) + history + ANSWER_TOKENS


def plan_text(plan: Plan) -> str:
    """The plan as the executors see it."""
    return "\n".join([f"Strategy: {plan.strategy}", *(f"{s.id}. {s.title}" for s in plan.steps)])


@dataclass(kw_only=True)
class _Part:
    """A subtask before it has an id; `after` holds indexes of earlier parts or existing ids."""

    step_id: str
    title: str
    instructions: str
    success_criteria: str
    effort: Effort
    after: list[int | str]
    failures: int
    # Turns of work this part is estimated at (its step limit is at least this, and `floor`).
    calls: int = 0
    floor: int = 1
    part: int = 1
    parts: int = 1
    merged_steps: tuple[str, ...] = ()
    estimate: int = 0
    split: bool = False


def decompose(
    plan: Plan,
    version: int,
    *,
    budget: Budget,
    existing: list[Subtask],
    goal: str = "",
    plan_context: str | None = None,
    ledger_text: str | None = None,
    tools_tokens: int = DEFAULT_TOOLS_TOKENS,
) -> list[Subtask]:
    """New subtasks for the steps of `plan` that no finished subtask already covers.

    Args:
        plan: the plan version to carry out.
        version: its number.
        budget: the run's budget (per-subtask bounds, split depth, merge threshold).
        existing: every subtask of the run so far; failures of a step escalate its effort.
        goal: the run's goal, sent in every executor prompt.
        plan_context: the plan as executors see it; default `plan_text(plan)`.
        ledger_text: the ledger as executors see it; default rendered from `existing`.
        tools_tokens: tokens of the tool schemas sent with every executor call.
    """
    if plan_context is None:
        plan_context = plan_text(plan)
    if ledger_text is None:
        ledger_text = Ledger.from_subtasks(existing).render()
    context = count_text(f"{goal}\n{plan_context}\n{ledger_text}") + tools_tokens
    done = _done_steps(existing)
    done_parts = {(s.step_id, s.title, s.instructions): s.id
                  for s in existing if s.status == "done"}
    failures: dict[str, int] = {}
    ran_out: dict[str, int] = {}  # per step: the largest step limit an attempt ran out of
    for s in existing:
        if s.status == "failed":
            for step_id in s.steps:
                failures[step_id] = failures.get(step_id, 0) + 1
                if s.turns >= s.effort.max_steps:
                    ran_out[step_id] = max(ran_out.get(step_id, 0), s.effort.max_steps)

    parts: list[_Part] = []
    last_of: dict[str, int | str] = dict(done)
    for step in plan.steps:
        if step.id in done:
            continue
        after = [last_of[d] for d in step.depends_on if d in last_of]
        pieces = _split_step(step, budget, failures.get(step.id, 0), context,
                             ran_out=ran_out.get(step.id, 0))
        for piece in pieces:
            reused = done_parts.get((step.id, piece.title, piece.instructions))
            if reused is not None:  # this part of a partly done step is finished already
                after = [reused]
                continue
            piece.after = after
            parts.append(piece)
            after = [len(parts) - 1]
        last_of[step.id] = after[0]
    parts = _merge_small(parts, budget, context)
    return _number(parts, version, first=_next_number(existing))


def _done_steps(existing: list[Subtask]) -> dict[str, int | str]:
    """Steps whose last part is done, each with the id of the subtask that finished it."""
    done: dict[str, int | str] = {}
    for s in existing:
        if s.status == "done" and s.completes_step:
            for step_id in s.steps:
                done[step_id] = s.id
    return done


def _next_number(existing: list[Subtask]) -> int:
    numbers = [int(s.id[1:]) for s in existing if re.fullmatch(r"t\d+", s.id)]
    return max([len(existing), *numbers]) + 1


def _split_step(
    step: PlanStep, budget: Budget, failures: int, context: int, *, ran_out: int = 0
) -> list[_Part]:
    level = effort_for(step.difficulty, budget, failures=failures)
    floor = max(level.max_steps, 2 * ran_out)
    calls = level.max_steps if step.expected_calls is None else step.expected_calls + CONTROL_TURNS
    whole = _Part(
        step_id=step.id, title=step.title, instructions=step.instructions,
        success_criteria=step.success_criteria, after=[], failures=failures, calls=calls,
        floor=floor, effort=level.model_copy(update={"max_steps": max(floor, calls)}),
    )
    if step.expected_calls is not None:  # the budget follows the work, up to the largest
        high = max(budget.max_subtask_tokens, budget.subtask_tokens)
        fitted = min(high, max(level.budget_tokens, _estimate(whole, context)))
        whole.effort = whole.effort.model_copy(update={"budget_tokens": fitted})
    pieces = _split(whole, budget, context, depth=0)
    for number, piece in enumerate(pieces, start=1):
        if len(pieces) > 1:
            piece.title = f"{step.title} (part {number}/{len(pieces)})"
        piece.part, piece.parts, piece.split = number, len(pieces), False
        piece.estimate = _estimate(piece, context)
    return pieces


def _estimate(part: _Part, context: int) -> int:
    return estimate_tokens(
        title=part.title + (_MARKER_WIDTH if part.split else ""), instructions=part.instructions,
        success_criteria=part.success_criteria, max_steps=part.calls or part.effort.max_steps,
        context_tokens=context,
    )


def _split(part: _Part, budget: Budget, context: int, *, depth: int) -> list[_Part]:
    if _estimate(part, context) <= part.effort.budget_tokens or depth >= budget.max_split_depth:
        return [part]
    halves = _halve(part)
    if halves is None:
        return [part]
    return [piece for half in halves for piece in _split(half, budget, context, depth=depth + 1)]


def _halve(part: _Part) -> tuple[_Part, _Part] | None:
    """Two parts that together do `part`'s work: halves of its sentences, each estimated at
    about half its turns; one sentence is split by turns only. None when it cannot get smaller.

    A part's step limit stays at least its level's (`floor`): the halves are an estimate, and a
    limit halved blindly would stop sequential work before it is done.
    """
    steps = part.calls or part.effort.max_steps
    if steps < 2:
        return None
    half_steps = math.ceil(steps / 2)
    units = [u for line in part.instructions.splitlines()
             for u in _SENTENCE_END.split(line.strip()) if u]
    if len(units) >= 2:
        middle = math.ceil(len(units) / 2)
        first, second = " ".join(units[:middle]), " ".join(units[middle:])
    else:
        text = part.instructions or part.title
        first = f"{text} Do the first half of this work; say in your result what remains."
        second = f"{text} Finish this work; the ledger shows what the first half did."
    effort = part.effort.model_copy(update={"max_steps": max(part.floor, half_steps)})
    return (
        replace(part, instructions=first, effort=effort, success_criteria=PART_CRITERIA,
                split=True, calls=half_steps),
        replace(part, instructions=second, effort=effort, split=True, calls=half_steps),
    )


def _merge_small(parts: list[_Part], budget: Budget, context: int) -> list[_Part]:
    """Fold a part into the group before it when it depends on that group's last part alone,
    nothing else does, and both are under `Budget.merge_below_tokens`."""
    if budget.merge_below_tokens <= 0:
        return parts
    dependents = Counter(a for p in parts for a in p.after if isinstance(a, int))
    groups: list[_Part] = []
    ends: list[int] = []  # index in `parts` of each group's last part
    group_of: dict[int, int] = {}
    for index, part in enumerate(parts):
        if groups and part.after == [ends[-1]] and dependents[ends[-1]] == 1 and _small_pair(
            groups[-1], part, budget, context
        ):
            groups[-1], ends[-1] = _join(groups[-1], part, context), index
        else:
            groups.append(part)
            ends.append(index)
        group_of[index] = len(groups) - 1
    return [replace(g, after=[group_of[a] if isinstance(a, int) else a for a in g.after])
            for g in groups]


def _small_pair(a: _Part, b: _Part, budget: Budget, context: int) -> bool:
    # Parts of a split step, and steps that already failed, stay on their own. A group already
    # merged was made of small subtasks: it may grow while the whole still fits its budget.
    small = budget.merge_below_tokens
    return (
        a.parts == b.parts == 1 and a.failures == b.failures == 0
        and a.effort.model == b.effort.model
        and (bool(a.merged_steps) or a.estimate < small) and b.estimate < small
        and _join(a, b, context).estimate <= max(a.effort.budget_tokens, b.effort.budget_tokens)
    )


def _join(a: _Part, b: _Part, context: int) -> _Part:
    effort = a.effort.model_copy(update={
        "max_steps": a.effort.max_steps + b.effort.max_steps,
        "budget_tokens": max(a.effort.budget_tokens, b.effort.budget_tokens),
        "thinking_tools": a.effort.thinking_tools or b.effort.thinking_tools,
        "reasoning_effort": a.effort.reasoning_effort or b.effort.reasoning_effort,
    })
    joined = replace(
        a, title=f"{a.title}; then {b.title}",
        instructions="\n".join(x for x in (a.instructions, b.instructions) if x),
        success_criteria="; ".join(x for x in (a.success_criteria, b.success_criteria) if x),
        effort=effort, merged_steps=(*a.merged_steps, b.step_id, *b.merged_steps),
        calls=a.calls + b.calls, floor=max(a.floor, b.floor),
    )
    joined.estimate = _estimate(joined, context)
    return joined


def _number(parts: list[_Part], version: int, *, first: int) -> list[Subtask]:
    ids = [f"t{first + i}" for i in range(len(parts))]
    return [
        Subtask(
            id=ids[i], step_id=p.step_id, plan_version=version, title=p.title,
            instructions=p.instructions, success_criteria=p.success_criteria,
            depends_on=[ids[a] if isinstance(a, int) else a for a in p.after],
            estimated_tokens=p.estimate, effort=p.effort, part=p.part, parts=p.parts,
            merged_steps=list(p.merged_steps),
        )
        for i, p in enumerate(parts)
    ]
