"""The decomposer: subtasks sized to their token budgets, chained parts, merges, dispatch order."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Plan, PlanStep, Reply, ToolCall
from agentkit.planning.decomposer import StepSplit, SubStep, decompose, estimate_tokens, plan_text
from agentkit.store import Store
from tests.scripts import subtask_title

BIG = PlanStep(
    id="s2", title="Survey the codebase", difficulty="hard", depends_on=["s1"],
    instructions=" ".join(f"Read module {i} and note its public functions." for i in range(8)),
    success_criteria="every module is described",
)
PLAN = Plan(strategy="survey, then report", steps=[
    PlanStep(id="s1", title="List the modules", difficulty="easy"),
    BIG,
    PlanStep(id="s3", title="Write the report", depends_on=["s2"], difficulty="easy"),
])
# Small enough that the hard step (12 steps) cannot fit whole, large enough for its parts.
TIGHT = Budget(subtask_tokens=5_000, min_subtask_tokens=2_000)


def _whole_estimate(step: PlanStep, budget: Budget, plan: Plan) -> tuple[int, int]:
    (whole,) = decompose(Plan(strategy=plan.strategy, steps=[step.model_copy(
        update={"depends_on": []})]), 1, budget=budget.model_copy(update={"max_split_depth": 0}),
        existing=[], plan_context=plan_text(plan), ledger_text="")
    return whole.estimated_tokens, whole.effort.budget_tokens


def test_an_oversized_step_is_split_until_every_estimate_fits() -> None:
    estimate, budget_tokens = _whole_estimate(BIG, TIGHT, PLAN)
    assert estimate > budget_tokens  # the step really is too big as one subtask

    subtasks = decompose(PLAN, 1, budget=TIGHT, existing=[])

    parts = [s for s in subtasks if s.step_id == "s2"]
    assert len(parts) >= 2
    assert all(s.estimated_tokens <= s.effort.budget_tokens for s in subtasks)
    assert [(s.part, s.parts) for s in parts] == [(i, len(parts)) for i in range(1, len(parts) + 1)]
    # Together the parts carry every sentence of the step, in order, and no more.
    assert " ".join(s.instructions for s in parts) == BIG.instructions
    # Parts chain; the step's dependency goes to the first part, its dependent to the last.
    ids = {s.step_id: s.id for s in subtasks if s.completes_step}
    assert parts[0].depends_on == [ids["s1"]]
    assert [p.depends_on for p in parts[1:]] == [[p.id] for p in parts[:-1]]
    assert [s for s in subtasks if s.step_id == "s3"][0].depends_on == [parts[-1].id]
    assert parts[-1].success_criteria == BIG.success_criteria
    # Ids are sequential, so they sort in creation order and dependencies point backwards.
    numbers = [int(s.id[1:]) for s in subtasks]
    assert numbers == list(range(1, len(subtasks) + 1))
    assert all(int(d[1:]) < int(s.id[1:]) for s in subtasks for d in s.depends_on)


def test_the_estimate_counts_context_steps_and_instructions() -> None:
    small = estimate_tokens(title="t", instructions="", success_criteria="", max_steps=3,
                            context_tokens=100)
    assert estimate_tokens(title="t", instructions="", success_criteria="", max_steps=3,
                           context_tokens=1_100) == small + 3 * 1_000  # context, every step
    assert estimate_tokens(title="t", instructions="", success_criteria="", max_steps=6,
                           context_tokens=100) > 2 * small  # history grows with each step
    long = "Read the file and summarize it. " * 20
    assert estimate_tokens(title="t", instructions=long, success_criteria="", max_steps=3,
                           context_tokens=100) > small + 3 * 100
    # A bigger ledger makes every later subtask more expensive.
    big_ledger = "\n".join(f"- [s{i}] done: a long result line number {i}" for i in range(50))
    plain = decompose(PLAN, 1, budget=Budget(), existing=[], ledger_text="")
    heavy = decompose(PLAN, 1, budget=Budget(), existing=[], ledger_text=big_ledger)
    assert all(h.estimated_tokens > p.estimated_tokens for h, p in zip(heavy, plain, strict=True))


def test_the_split_depth_is_limited() -> None:
    shallow = decompose(PLAN, 1, budget=TIGHT.model_copy(update={"max_split_depth": 1}),
                        existing=[])
    assert len([s for s in shallow if s.step_id == "s2"]) == 2
    none = decompose(PLAN, 1, budget=TIGHT.model_copy(update={"max_split_depth": 0}),
                     existing=[])
    (whole,) = [s for s in none if s.step_id == "s2"]
    assert whole.estimated_tokens > whole.effort.budget_tokens and whole.parts == 1


CHAIN = Plan(strategy="tiny chain", steps=[
    PlanStep(id="a", title="Touch a", difficulty="trivial"),
    PlanStep(id="b", title="Touch b", difficulty="trivial", depends_on=["a"]),
    PlanStep(id="c", title="Touch c", difficulty="trivial", depends_on=["b"]),
    PlanStep(id="d", title="Review", difficulty="hard", depends_on=["c"]),
])


def test_very_small_adjacent_subtasks_of_a_chain_are_merged() -> None:
    separate = decompose(CHAIN, 1, budget=Budget(merge_below_tokens=0), existing=[])
    assert [s.step_id for s in separate] == ["a", "b", "c", "d"]
    threshold = max(s.estimated_tokens for s in separate[:3]) + 1
    merged = decompose(CHAIN, 1, budget=Budget(merge_below_tokens=threshold), existing=[])

    first, third, review = merged
    assert first.steps == ["a", "b"] and first.title == "Touch a; then Touch b"
    assert first.effort.max_steps == 6 and first.estimated_tokens <= first.effort.budget_tokens
    # Adding c would push the merged estimate (9 steps) over the budget: c stays on its own.
    assert third.steps == ["c"] and third.depends_on == [first.id]
    assert review.step_id == "d" and review.depends_on == [third.id]  # a different tier


def test_a_step_others_also_depend_on_is_not_merged_into_its_follower() -> None:
    fork = Plan(strategy="fork", steps=[
        *CHAIN.steps[:3],
        PlanStep(id="e", title="Touch e", difficulty="trivial", depends_on=["b"]),
    ])
    merged = decompose(fork, 1, budget=Budget(merge_below_tokens=50_000), existing=[])
    assert [s.steps for s in merged] == [["a", "b"], ["c"], ["e"]]
    assert merged[1].depends_on == merged[2].depends_on == [merged[0].id]


def test_done_parts_of_a_partly_done_step_are_not_redone() -> None:
    first = decompose(PLAN, 1, budget=TIGHT, existing=[])
    parts = [s for s in first if s.step_id == "s2"]
    # s1 and the first part of s2 finished; part 2 failed.
    done = {s.id for s in first if s.step_id == "s1"} | {parts[0].id}
    existing = [s.model_copy(update={"status": "done" if s.id in done else
                                     "failed" if s.id == parts[1].id else "skipped"})
                for s in first]

    again = decompose(PLAN, 2, budget=TIGHT, existing=existing)

    assert {s.step_id for s in again} == {"s2", "s3"}
    assert parts[0].title not in [s.title for s in again]
    assert again[0].depends_on == [parts[0].id]
    assert again[0].effort.model == "strong"  # the step failed once: escalated
    assert int(again[0].id[1:]) > max(int(s.id[1:]) for s in first)


# -- through a run ------------------------------------------------------------------------------

SUBTASK = re.compile(r"Your subtask \((t\d+)\): (.*)")


def _executor_script(request: ModelRequest) -> object:
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return "report written"
    match = SUBTASK.search(request.messages[1]["content"])
    assert match
    return ToolCall(name="finish", arguments={"result": f"did {match.group(2)}"})


async def test_dispatch_respects_the_dependencies_of_split_parts(db: str, workspace: Path) -> None:
    model = FunctionModel(_executor_script)
    agent = Agent(model, db=db, workspace=workspace, budget=TIGHT, max_concurrency=4)
    result = await agent.run("Survey the codebase and report")

    assert result.status == "completed", result.error
    order = [SUBTASK.search(r.messages[1]["content"]).group(1)  # type: ignore[union-attr]
             for r in model.requests if r.role == "executor"]
    subtasks = {s.id: s for s in result.subtasks}
    assert len(subtasks) >= 4 and set(order) == set(subtasks)
    for sid, subtask in subtasks.items():  # every dependency ran before its dependent
        assert all(order.index(dep) < order.index(sid) for dep in subtask.depends_on)
    events = Store(db).get_events(result.run_id)
    planned = {e.data["id"]: e.data for e in events if e.kind == "subtask"}
    assert all(p["estimated_tokens"] <= subtasks[i].effort.budget_tokens
               for i, p in planned.items())
    started = [e.subtask_id for e in events if e.kind == "subtask_started"]
    finished = [e.subtask_id for e in events if e.kind == "subtask_finished"]
    for sid, subtask in subtasks.items():
        assert all(finished.index(dep) < started.index(sid) for dep in subtask.depends_on)


# -- the decomposer model -----------------------------------------------------------------------

LONG = PlanStep(
    id="s2", title="Document every module", depends_on=["s1"],
    instructions=" ".join(f"Read module {i} and write down what it does." for i in range(12)),
    success_criteria="every module is documented",
)
LONG_PLAN = Plan(strategy="list, document, publish", steps=[
    PlanStep(id="s1", title="List the modules", difficulty="easy"),
    LONG,
    PlanStep(id="s3", title="Publish the docs", depends_on=["s2"], difficulty="easy"),
])
SPLIT = StepSplit(steps=[
    SubStep(id="a", title="Read the module index", instructions="Open the index.",
            expected_calls=2),
    SubStep(id="b", title="Document modules 0-5", depends_on=["a"], expected_calls=6),
    SubStep(id="c", title="Document modules 6-11", depends_on=["a"], expected_calls=6),
    SubStep(id="d", title="Join the two halves", depends_on=["b"], expected_calls=1),
])


def _decomposing(split: object) -> FunctionModel:
    """Plans LONG_PLAN, answers the decomposer with `split`, finishes every subtask at once."""

    def reply(request: ModelRequest) -> object:
        if request.role == "decomposer":
            return split(request) if callable(split) else split
        return _executor_script(request) if request.role != "strategist" else LONG_PLAN

    return FunctionModel(reply)


def _subtask_events(db: str, run_id: str, kind: str) -> list[dict[str, object]]:
    return [e.data for e in Store(db).get_events(run_id) if e.kind == kind]


async def test_a_step_over_budget_is_split_into_the_models_sub_steps(
    db: str, workspace: Path
) -> None:
    assert over_budget_with_defaults(LONG)
    model = _decomposing(SPLIT)
    result = await Agent(model, db=db, workspace=workspace).run("Document the modules")

    assert result.status == "completed", result.error
    asked = [r for r in model.requests if r.role == "decomposer"]
    assert len(asked) == 1 and asked[0].output_name == "StepSplit"
    assert "Document every module" in asked[0].messages[1]["content"]
    stored = {s.title: s for s in Store(db).get_subtasks(result.run_id)}
    first, a, b, c, d, last = (stored[t] for t in (
        "List the modules", "Read the module index", "Document modules 0-5",
        "Document modules 6-11", "Join the two halves", "Publish the docs"))
    assert {s.step_id for s in (a, b, c, d)} == {"s2"}
    assert [(s.part, s.parts) for s in (a, b, c, d)] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert a.depends_on == [first.id]
    assert b.depends_on == c.depends_on == [a.id]
    # The last part completes the step: it waits for every part nothing else waits for.
    assert d.depends_on == [b.id, c.id] and last.depends_on == [d.id]
    # Each part's step limit follows its own work (expected calls and the closing turns).
    assert (b.effort.max_steps, d.effort.max_steps) == (8, 8)  # medium's floor of 8
    assert all(s.status == "done" for s in stored.values())
    (split,) = _subtask_events(db, result.run_id, "step_split")
    assert split["source"] == "model" and split["titles"] == [
        "Read the module index", "Document modules 0-5", "Document modules 6-11",
        "Join the two halves"]


@pytest.mark.parametrize("answer", [
    StepSplit(steps=[SubStep(id="a", title="Do it all")]),  # one step: no split
    StepSplit(steps=[]),  # empty
    "this is not JSON",  # invalid (twice: the retry gets the same)
    Reply(text='{"steps": [{"id": "a", "title": "Read', finish_reason="length"),  # cut off
    {"steps": [{"id": "a", "title": "x", "depends_on": ["b"]},  # a dependency on a later one
               {"id": "b", "title": "y"}]},
], ids=["one-step", "empty", "invalid", "truncated", "bad-dependency"])
async def test_an_unusable_answer_falls_back_to_the_mechanical_split(
    db: str, workspace: Path, answer: object
) -> None:
    model = _decomposing(answer)
    result = await Agent(model, db=db, workspace=workspace).run("Document the modules")

    assert result.status == "completed", result.error
    parts = [s for s in result.subtasks if s.step_id == "s2"]
    assert len(parts) >= 2
    assert [s.title for s in parts] == [
        f"Document every module (part {i}/{len(parts)})" for i in range(1, len(parts) + 1)]
    assert " ".join(s.instructions for s in parts) == LONG.instructions
    (split,) = _subtask_events(db, result.run_id, "step_split")
    assert split["source"] == "fallback" and split["titles"] == []
    assert any(r.role == "decomposer" for r in model.requests)


def test_a_step_within_budget_is_not_sent_to_the_model() -> None:
    assert not over_budget_with_defaults(PlanStep(id="s1", title="x", instructions="Do x."))
    # Loading more tool packs raises the budget with the context; it does not split a step.
    plan = Plan(strategy="s", steps=[PlanStep(id="s1", title="Sum", instructions=" ".join(
        f"Add number {i}." for i in range(6)))])
    lean = decompose(plan, 1, budget=Budget(), existing=[], tools_tokens=100)
    heavy = decompose(plan, 1, budget=Budget(), existing=[], tools_tokens=8_000)
    assert len(lean) == len(heavy) == 1
    assert heavy[0].estimated_tokens <= heavy[0].effort.budget_tokens


def over_budget_with_defaults(step: PlanStep) -> bool:
    """Whether the mechanical decomposition splits `step` under the default budget."""
    plan = Plan(strategy="s", steps=[step.model_copy(update={"depends_on": []})])
    return len(decompose(plan, 1, budget=Budget(), existing=[])) > 1


def test_the_default_budget_merges_trivial_one_call_steps_and_no_easy_ones() -> None:
    merged = decompose(CHAIN, 1, budget=Budget(), existing=[])
    assert [s.steps for s in merged] == [["a", "b"], ["c"], ["d"]]
    easy = Plan(strategy="s", steps=[s.model_copy(update={"difficulty": "easy"})
                                     for s in CHAIN.steps[:3]])
    assert len(decompose(easy, 1, budget=Budget(), existing=[])) == 3


async def test_a_sub_step_still_over_budget_gets_a_sub_plan_of_its_own(
    db: str, workspace: Path
) -> None:
    big = " ".join(f"Read module {i} and write down what it does." for i in range(12))
    top = StepSplit(steps=[
        SubStep(id="a", title="Document the modules", instructions=big),  # still too big
        SubStep(id="b", title="Index the docs", depends_on=["a"], expected_calls=2)])
    inner = StepSplit(steps=[
        SubStep(id="x", title="Document modules 0-5", expected_calls=6),
        SubStep(id="y", title="Document modules 6-11", expected_calls=6)])

    def split(request: ModelRequest) -> object:
        return inner if "The step to split (a)" in request.messages[1]["content"] else top

    result = await Agent(_decomposing(split), db=db, workspace=workspace).run("Document")
    assert result.status == "completed", result.error
    parts = {s.title: s for s in result.subtasks if s.step_id == "s2"}
    assert list(parts) == ["Document modules 0-5", "Document modules 6-11", "Index the docs"]
    x, y, b = parts.values()
    assert x.depends_on == [next(s.id for s in result.subtasks if s.step_id == "s1")]
    # The sub-plan's last part completes it; what needed the sub-step needs that part.
    assert y.depends_on == [x.id] and b.depends_on == [y.id]
    assert b.completes_step and (b.part, b.parts) == (3, 3)
    recorded = [(e["depth"], e["sub_step"], e["source"])
                for e in _subtask_events(db, result.run_id, "step_split")]
    assert recorded == [(0, None, "model"), (1, "a", "model")]


async def test_a_revision_keeps_the_model_split_of_a_partly_done_step(
    db: str, workspace: Path
) -> None:
    attempts: list[str] = []

    def reply(request: ModelRequest) -> object:
        if request.role == "decomposer":
            return SPLIT
        if request.role == "strategist":
            return LONG_PLAN
        if request.role == "finalizer":
            return "documented"
        title = subtask_title(request)
        attempts.append(title)
        if title == "Document modules 6-11" and attempts.count(title) == 1:
            return ToolCall(name="fail", arguments={"reason": "module 7 would not open"})
        return ToolCall(name="finish", arguments={"result": f"did {title}"})

    model = FunctionModel(reply)
    result = await Agent(model, db=db, workspace=workspace).run("Document the modules")

    assert result.status == "completed", result.error
    assert sum(r.role == "decomposer" for r in model.requests) == 1  # asked once, parts kept
    for title in ("Read the module index", "Document modules 0-5"):
        assert attempts.count(title) == 1  # done before the revision: not redone
    assert attempts.count("Document modules 6-11") == 2
    retry = [s for s in result.subtasks if s.title == "Document modules 6-11"][-1]
    assert retry.status == "done" and retry.plan_version == 2
    assert retry.depends_on == [next(s.id for s in result.subtasks
                                     if s.title == "Read the module index")]
