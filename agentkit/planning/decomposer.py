"""The decomposer: plan steps → subtasks sized to one bounded inference effort.

A subtask's cost is estimated with tiktoken from the step itself: its text, the turns its work
takes (`PlanStep.expected_calls` and the closing turns; without them an upper bound, its
level's step limit, or a turn per instruction sentence when there are more) and what each turn
adds to the conversation (the tool call and its result, re-read by every later
turn). The context every turn re-reads (plan, ledger, tool schemas) is a fixed cost: a split
cannot shrink it, so it raises the subtask's budget rather than causing a split — whether a
step splits depends on its own work, not on how many tool packs are loaded.

A step estimated over its budget is split. `decompose_with_model` asks the model (role
`decomposer`, structured output `StepSplit`) for coherent sub-steps with instructions, success
criteria and dependencies among them; when that answer is unusable (invalid, empty, a single
step, cut off) the mechanical fallback halves the step's instruction sentences (or, with one
sentence, its turns), recursively up to `Budget.max_split_depth`. A sub-step still over budget
gets a sub-plan of its own (the model is asked again, down to `Budget.max_split_depth` levels),
inlined in its place; every split is recorded (`Split`, the `step_split` event). A part's step
limit follows the work it holds (its expected calls and a closing turn), never below its
level's; a step whose last attempt ran out of turns gets twice as many the next time. Whatever
depended on the step depends on its last part, which waits for every part nothing else needs.

Adjacent subtasks of a chain whose own work (the estimate without the fixed context) is under
`Budget.merge_below_tokens` are merged into one while the whole fits its budget.

Ids are sequential (`t1`, `t2`, …), so they sort in creation order and dependencies always point
to earlier ids: the subtasks form a DAG.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from agentkit.errors import BudgetExceeded, ModelError
from agentkit.models import ModelClient, ModelRequest
from agentkit.planning.calibration import effort_for
from agentkit.planning.ledger import Ledger
from agentkit.schema import (
    Budget,
    Criteria,
    Effort,
    ExpectedCalls,
    Instructions,
    Plan,
    PlanStep,
    StepDeps,
    StepId,
    StepTitle,
    Subtask,
)
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
# The most sub-steps the model may split one step into.
MAX_SUBSTEPS = 8

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+")
# While splitting, a part is estimated with the widest title marker it may get.
_MARKER_WIDTH = " (part 00/00)"
PART_CRITERIA = "this part's instructions are carried out"

SYSTEM = """You are the decomposer of an agent. One step of its plan is too large for one
executor's bounded effort. Split it into 2 to {most} coherent sub-steps as JSON. Each sub-step is a
piece of work that makes sense on its own: an id (like "a", "b"), a title, self-contained
instructions, success_criteria, depends_on (ids of earlier sub-steps whose results it needs) and
expected_calls (about how many tool calls it takes; at most {calls} each). Together the sub-steps
do all of the step's work and nothing else; the last one completes the step."""


def estimate_tokens(
    *, title: str, instructions: str, success_criteria: str, max_steps: int, context_tokens: int,
    tool_io_tokens: int = TOOL_IO_PER_STEP,
) -> int:
    """Tokens one subtask spends over `max_steps` turns (prompt + outputs, every call).

    Turn k re-sends the prompt and the k-1 earlier turns' calls and results:
    total = n·prompt + n·output + io·n(n-1)/2 + answer, for n = `max_steps`.
    """
    own = count_text(f"{title}\n{instructions}\nSuccess criteria: {success_criteria}")
    prompt = PROMPT_OVERHEAD + context_tokens + own
    n = max_steps
    history = (OUTPUT_PER_STEP + tool_io_tokens) * n * (n - 1) // 2
    return n * (prompt + OUTPUT_PER_STEP) + history + ANSWER_TOKENS


def fixed_tokens(turns: int, context_tokens: int) -> int:
    """What `turns` turns spend re-reading the context (system text, plan, ledger, tools)."""
    return turns * (PROMPT_OVERHEAD + context_tokens)


def work_turns(instructions: str, expected_calls: int | None) -> int:
    """The turns a piece of work takes: its expected calls, else one per instruction sentence,
    and the closing turns."""
    calls = expected_calls if expected_calls is not None else max(1, len(_units(instructions)))
    return calls + CONTROL_TURNS


def plan_text(plan: Plan) -> str:
    """The plan as the executors see it."""
    return "\n".join([f"Strategy: {plan.strategy}", *(f"{s.id}. {s.title}" for s in plan.steps)])


class SubStep(BaseModel):
    """One coherent piece of a step, as the decomposer model writes it."""

    model_config = ConfigDict(extra="forbid")

    id: StepId
    title: StepTitle
    instructions: Instructions = ""
    success_criteria: Criteria = ""
    depends_on: StepDeps = []
    expected_calls: ExpectedCalls | None = None


class StepSplit(BaseModel):
    """The decomposer model's answer: the sub-steps of one step, in order."""

    model_config = ConfigDict(extra="forbid")

    steps: Annotated[list[SubStep], Field(max_length=MAX_SUBSTEPS)] = []

    @model_validator(mode="after")
    def _check_graph(self) -> StepSplit:
        seen: set[str] = set()
        for number, sub in enumerate(self.steps, start=1):
            if sub.id in seen:
                raise ValueError(f"sub-step {number} reuses the id {sub.id!r}; use unique ids")
            later = [d for d in sub.depends_on if d not in seen]
            if later:
                raise ValueError(
                    f"sub-step {number} ({sub.id!r}) depends on {later[0]!r}, which is not an "
                    f"earlier sub-step; earlier: {', '.join(map(repr, seen)) or 'none'}")
            seen.add(sub.id)
        return self


@dataclass(kw_only=True, frozen=True)
class Split:
    """How one over-budget step (or, at `depth` > 0, one of its sub-steps, `sub_step`) was
    split: by the model, or by the fallback (and why)."""

    step_id: str
    source: Literal["model", "fallback"]
    reason: str
    titles: tuple[str, ...] = ()
    depth: int = 0
    sub_step: str | None = None


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
    # The budget of its level for its own work; its fixed context comes on top (`_fitted`).
    level_budget: int = 0
    level_steps: int = 1
    # Indexes of the parts of the same step this one needs (None: the one before it, if any).
    inner: list[int] | None = None


@dataclass(kw_only=True, frozen=True)
class _Sizing:
    """What sizing a step needs besides the step: the budget, the context, the run's history."""

    budget: Budget
    context: int
    failures: Mapping[str, int] = field(default_factory=dict)
    # Per step: the largest step limit an attempt ran out of.
    ran_out: Mapping[str, int] = field(default_factory=dict)


def _sizing(
    plan: Plan, budget: Budget, existing: list[Subtask], *, goal: str, plan_context: str | None,
    ledger_text: str | None, tools_tokens: int,
) -> _Sizing:
    if plan_context is None:
        plan_context = plan_text(plan)
    if ledger_text is None:
        ledger_text = Ledger.from_subtasks(existing).render()
    failures: dict[str, int] = {}
    ran_out: dict[str, int] = {}
    for s in existing:
        if s.status == "failed":
            for step_id in s.steps:
                failures[step_id] = failures.get(step_id, 0) + 1
                if s.turns >= s.effort.max_steps:
                    ran_out[step_id] = max(ran_out.get(step_id, 0), s.effort.max_steps)
    context = count_text(f"{goal}\n{plan_context}\n{ledger_text}") + tools_tokens
    return _Sizing(budget=budget, context=context, failures=failures, ran_out=ran_out)


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
    splits: Mapping[str, list[SubStep]] | None = None,
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
        splits: sub-steps (the decomposer model's) for steps over budget, by step id; any other
            step over budget is split mechanically.
    """
    sizing = _sizing(plan, budget, existing, goal=goal, plan_context=plan_context,
                     ledger_text=ledger_text, tools_tokens=tools_tokens)
    done = _done_steps(existing)
    done_parts = {(s.step_id, s.title, s.instructions): s.id
                  for s in existing if s.status == "done"}
    parts: list[_Part] = []
    last_of: dict[str, int | str] = dict(done)
    for step in plan.steps:
        if step.id in done:
            continue
        outer = [last_of[d] for d in step.depends_on if d in last_of]
        pieces = _pieces(step, sizing, (splits or {}).get(step.id))
        refs: list[int | str] = []  # each piece's index in `parts`, or the done subtask's id
        for number, piece in enumerate(pieces):
            inner = piece.inner if piece.inner is not None else [number - 1] * (number > 0)
            reused = done_parts.get((step.id, piece.title, piece.instructions))
            if reused is not None:  # this part of a partly done step is finished already
                refs.append(reused)
                continue
            piece.after = [refs[i] for i in inner] if inner else list(outer)
            parts.append(piece)
            refs.append(len(parts) - 1)
        last_of[step.id] = refs[-1]
    parts = _merge_small(parts, budget, sizing.context)
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


def _whole(step: PlanStep, sizing: _Sizing) -> _Part:
    """`step` as one part: its level's effort, its step limit and budget sized to its work."""
    failures = sizing.failures.get(step.id, 0)
    level = effort_for(step.difficulty, sizing.budget, failures=failures)
    floor = max(level.max_steps, 2 * sizing.ran_out.get(step.id, 0))
    whole = _Part(
        step_id=step.id, title=step.title, instructions=step.instructions,
        success_criteria=step.success_criteria, after=[], failures=failures, floor=floor,
        calls=_turns(step.instructions, step.expected_calls, level.max_steps), effort=level,
        level_budget=level.budget_tokens, level_steps=level.max_steps,
    )
    return _fitted(whole, sizing, sized=step.expected_calls is not None)


def _turns(instructions: str, expected_calls: int | None, floor: int) -> int:
    """The turns a subtask is estimated at: a planner's `expected_calls` (and the closing
    turns) as given; otherwise an upper bound, its level's step limit, raised when its
    instructions hold more sentences than that."""
    turns = work_turns(instructions, expected_calls)
    return turns if expected_calls is not None else max(floor, turns)


def _fitted(part: _Part, sizing: _Sizing, *, sized: bool) -> _Part:
    """`part` with a step limit for its turns and a budget for its work plus its fixed context
    (a planner's sized step: its whole estimate), up to the largest subtask budget."""
    part.effort = part.effort.model_copy(update={
        "max_steps": max(part.floor, part.calls),
        "budget_tokens": _budget_for(part, sizing.budget, sizing.context, sized=sized)})
    return part


def _budget_for(part: _Part, budget: Budget, context: int, *, sized: bool) -> int:
    high = max(budget.max_subtask_tokens, budget.subtask_tokens)
    wanted = part.level_budget + fixed_tokens(part.calls, context)
    if sized:
        wanted = max(wanted, _estimate(part, context))
    return min(high, max(part.level_budget, wanted))


def over_budget(step: PlanStep, sizing: _Sizing) -> bool:
    """Whether `step` as one subtask is estimated over its budget (and may be split)."""
    whole = _whole(step, sizing)
    return (sizing.budget.max_split_depth > 0
            and _estimate(whole, sizing.context) > whole.effort.budget_tokens)


def _pieces(step: PlanStep, sizing: _Sizing, subs: list[SubStep] | None) -> list[_Part]:
    whole = _whole(step, sizing)
    pieces = _model_pieces(whole, subs, sizing) if subs else _split(whole, sizing, depth=0)
    for number, piece in enumerate(pieces, start=1):
        if len(pieces) > 1 and not subs:
            piece.title = f"{step.title} (part {number}/{len(pieces)})"
        piece.part, piece.parts, piece.split = number, len(pieces), False
        piece.estimate = _estimate(piece, sizing.context)
    return pieces


def _model_pieces(whole: _Part, subs: list[SubStep], sizing: _Sizing) -> list[_Part]:
    """The model's sub-steps as parts: each sized to its own work, its dependencies kept, and
    the last depending on every part nothing else depends on (so it completes the step)."""
    index = {sub.id: i for i, sub in enumerate(subs)}
    needed = {index[d] for sub in subs for d in sub.depends_on}
    pieces = []
    for i, sub in enumerate(subs):
        inner = [index[d] for d in sub.depends_on]
        if i == len(subs) - 1:
            inner = sorted({*inner, *(j for j in range(i) if j not in needed)})
        piece = replace(
            whole, title=sub.title, instructions=sub.instructions, inner=inner,
            success_criteria=sub.success_criteria or PART_CRITERIA,
            calls=_turns(sub.instructions, sub.expected_calls, whole.level_steps),
        )
        pieces.append(_fitted(piece, sizing, sized=sub.expected_calls is not None))
    return pieces


def _estimate(part: _Part, context: int) -> int:
    return estimate_tokens(
        title=part.title + (_MARKER_WIDTH if part.split else ""), instructions=part.instructions,
        success_criteria=part.success_criteria, max_steps=part.calls or part.effort.max_steps,
        context_tokens=context,
    )


def _split(part: _Part, sizing: _Sizing, *, depth: int) -> list[_Part]:
    budget = sizing.budget
    if _estimate(part, sizing.context) <= part.effort.budget_tokens or (
            depth >= budget.max_split_depth):
        return [part]
    halves = _halve(part)
    if halves is None:
        return [part]
    return [piece for half in halves for piece in _split(half, sizing, depth=depth + 1)]


def _units(instructions: str) -> list[str]:
    return [u for line in instructions.splitlines() for u in _SENTENCE_END.split(line.strip())
            if u]


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
    units = _units(part.instructions)
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
    nothing else does, and both do work under `Budget.merge_below_tokens`."""
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


def work_tokens(subtask: Subtask) -> int:
    """A subtask's own work at its step limit: what it spends using every turn, without the
    context those turns re-read. Merging compares this with `Budget.merge_below_tokens`."""
    n = subtask.effort.max_steps
    return estimate_tokens(
        title=subtask.title, instructions=subtask.instructions,
        success_criteria=subtask.success_criteria, max_steps=n, context_tokens=0,
    ) - fixed_tokens(n, 0)


def _work(part: _Part) -> int:
    n = part.effort.max_steps
    return _estimate(replace(part, calls=n, split=False), 0) - fixed_tokens(n, 0)


def _small_pair(a: _Part, b: _Part, budget: Budget, context: int) -> bool:
    # Parts of a split step, and steps that already failed, stay on their own. A group already
    # merged was made of small subtasks: it may grow while the whole still fits its budget.
    small = budget.merge_below_tokens
    joined = _join(a, b, context)
    return (
        a.parts == b.parts == 1 and a.failures == b.failures == 0
        and a.effort.model == b.effort.model
        and (bool(a.merged_steps) or _work(a) < small) and _work(b) < small
        and joined.estimate <= joined.effort.budget_tokens
    )


def _join(a: _Part, b: _Part, context: int) -> _Part:
    joined = replace(
        a, title=f"{a.title}; then {b.title}",
        instructions="\n".join(x for x in (a.instructions, b.instructions) if x),
        success_criteria="; ".join(x for x in (a.success_criteria, b.success_criteria) if x),
        merged_steps=(*a.merged_steps, b.step_id, *b.merged_steps),
        calls=a.calls + b.calls, floor=max(a.floor, b.floor),
        level_budget=max(a.level_budget, b.level_budget),
    )
    joined.estimate = _estimate(joined, context)
    larger = max(a.effort.budget_tokens, b.effort.budget_tokens)
    joined.effort = a.effort.model_copy(update={
        "max_steps": a.effort.max_steps + b.effort.max_steps,
        "budget_tokens": max(larger, joined.level_budget + fixed_tokens(joined.calls, context)),
        "thinking_tools": a.effort.thinking_tools or b.effort.thinking_tools,
        "reasoning_effort": a.effort.reasoning_effort or b.effort.reasoning_effort,
    })
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


# -- the model's split --------------------------------------------------------------------------


async def decompose_with_model(
    client: ModelClient,
    plan: Plan,
    version: int,
    *,
    budget: Budget,
    existing: list[Subtask],
    goal: str = "",
    tool_names: list[str] | None = None,
    tools_tokens: int = DEFAULT_TOOLS_TOKENS,
) -> tuple[list[Subtask], list[Split]]:
    """`decompose`, with every open step over budget split by the model (role `decomposer`)
    into coherent sub-steps; a step whose answer is unusable is split mechanically.

    Returns the new subtasks and, per step over budget, how it was split.
    """
    sizing = _sizing(plan, budget, existing, goal=goal, plan_context=None, ledger_text=None,
                     tools_tokens=tools_tokens)
    refiner = _Refiner(client=client, sizing=sizing, goal=goal, plan=plan,
                       tool_names=tool_names or [])
    done = _done_steps(existing)
    splits: dict[str, list[SubStep]] = {}
    for step in plan.steps:
        if step.id in done:
            continue
        # A step partly done keeps the parts it had (even if it now fits whole, escalated):
        # the done ones are not redone.
        subs = earlier_split(step.id, existing)
        if subs is None and over_budget(step, sizing):
            subs = await refiner.refine(step, step, depth=0)
        if subs is not None:
            splits[step.id] = subs
    created = decompose(plan, version, budget=budget, existing=existing, goal=goal,
                        tools_tokens=tools_tokens, splits=splits)
    return created, refiner.made


def earlier_split(step_id: str, existing: list[Subtask]) -> list[SubStep] | None:
    """The parts an earlier decomposition split `step_id` into, as sub-steps, when one of them
    is done (the latest subtask of each part; dependencies on other steps left to the plan)."""
    parts = [s for s in existing if s.step_id == step_id and s.parts > 1]
    if not any(s.status == "done" for s in parts):
        return None
    count = max(parts, key=lambda s: int(s.id[1:]) if s.id[1:].isdigit() else 0).parts
    latest = {s.part: s for s in parts if s.parts == count}  # in creation order: latest wins
    if sorted(latest) != list(range(1, count + 1)):
        return None
    ids = {s.id: f"p{s.part}" for s in parts if s.parts == count}
    return [SubStep.model_construct(
        id=f"p{n}", title=s.title, instructions=s.instructions,
        success_criteria=s.success_criteria, expected_calls=max(1, s.effort.max_steps
                                                                 - CONTROL_TURNS),
        depends_on=[ids[d] for d in s.depends_on if d in ids and ids[d] != f"p{n}"],
    ) for n, s in sorted(latest.items())]


@dataclass(kw_only=True)
class _Refiner:
    """Asks the model for sub-steps, and again for a sub-step still over budget (a sub-plan of
    its own), down to `Budget.max_split_depth` levels; `made` records every split."""

    client: ModelClient
    sizing: _Sizing
    goal: str
    plan: Plan
    tool_names: list[str]
    made: list[Split] = field(default_factory=list)

    async def refine(self, step: PlanStep, piece: PlanStep, *, depth: int) -> list[SubStep] | None:
        """The sub-steps of `piece` (`step` itself, or one of its sub-steps at `depth` > 0),
        flattened: a sub-step refined further is replaced by its own sub-steps."""
        subs, reason = await _ask(self.client, piece, self.sizing, goal=self.goal,
                                  plan=self.plan, tool_names=self.tool_names)
        sub_step = piece.id if depth else None
        if subs is None:
            self.made.append(Split(step_id=step.id, source="fallback", reason=reason,
                                   depth=depth, sub_step=sub_step))
            return None
        self.made.append(Split(step_id=step.id, source="model", reason=reason, depth=depth,
                               sub_step=sub_step, titles=tuple(s.title for s in subs)))
        if depth + 1 >= self.sizing.budget.max_split_depth:
            return subs
        flat: list[SubStep] = []
        renamed: dict[str, str] = {}  # a refined sub-step → its last own sub-step
        for sub in subs:
            sub = sub.model_copy(update={"depends_on": [renamed.get(d, d)
                                                        for d in sub.depends_on]})
            as_step = PlanStep(id=sub.id, title=sub.title, instructions=sub.instructions,
                               success_criteria=sub.success_criteria,
                               difficulty=step.difficulty, expected_calls=sub.expected_calls)
            children = (await self.refine(step, as_step, depth=depth + 1)
                        if over_budget(as_step, self.sizing) else None)
            if children is None:
                flat.append(sub)
                continue
            inlined = _inline(sub, children)
            renamed[sub.id] = inlined[-1].id
            flat += inlined
        return flat


def _inline(parent: SubStep, children: list[SubStep]) -> list[SubStep]:
    """`children` in place of `parent`: ids prefixed with its id, the first ones after what
    it needed, the last one after every child nothing else needs (so it completes `parent`)."""
    ids = {c.id: f"{parent.id}.{c.id}" for c in children}
    needed = {d for c in children for d in c.depends_on}
    out = []
    for number, child in enumerate(children):
        deps = [ids[d] for d in child.depends_on] or list(parent.depends_on)
        if number == len(children) - 1:
            deps += [ids[c.id] for c in children[:-1] if c.id not in needed
                     and ids[c.id] not in deps]
        out.append(child.model_copy(update={"id": ids[child.id], "depends_on": deps}))
    return out


def _fitting_calls(step: PlanStep, sizing: _Sizing) -> int:
    """The most tool calls one part of `step` can make within its level's budget."""
    whole = _whole(step, sizing)
    calls = 1
    while calls < 200:
        probe = replace(whole, calls=work_turns("", calls + 1))
        if _estimate(probe, sizing.context) > whole.effort.budget_tokens:
            break
        calls += 1
    return calls


async def _ask(
    client: ModelClient, step: PlanStep, sizing: _Sizing, *, goal: str, plan: Plan,
    tool_names: list[str],
) -> tuple[list[SubStep] | None, str]:
    """The model's sub-steps of `step`, or None and why they cannot be used."""
    calls = _fitting_calls(step, sizing)
    task = (
        f"Goal of the run: {goal}\n{plan_text(plan)}\n"
        f"Tools the executors have: {', '.join(tool_names) or 'none'}\n\n"
        f"The step to split ({step.id}): {step.title}\nInstructions: {step.instructions}\n"
        f"Success criteria: {step.success_criteria or 'none given'}\n"
        f"Expected tool calls: {step.expected_calls or 'not given'}"
    )
    request = ModelRequest(role="decomposer", messages=[
        {"role": "system", "content": SYSTEM.format(most=MAX_SUBSTEPS, calls=calls)},
        {"role": "user", "content": task}])
    try:
        answer = await client.structured(request, StepSplit)
    except BudgetExceeded as e:  # the monitor stops the run; the fallback costs nothing
        return None, f"no model call: {e}"
    except ModelError as e:  # invalid twice, cut off, or failed
        return None, f"the decomposer's answer is unusable: {e}"
    if len(answer.steps) < 2:
        return None, (f"the decomposer returned {len(answer.steps)} sub-step(s); a split "
                      "needs at least 2")
    return answer.steps, f"split into {len(answer.steps)} sub-steps by the decomposer model"
