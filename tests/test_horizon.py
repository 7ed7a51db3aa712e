"""An unbounded horizon: the rolling plan (archive and `extend`), step limits that follow the
work, and control tools that are not counted as tool calls."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, Store, ToolCall, tool
from agentkit.cli import app
from agentkit.planning import monitor, similar, strategist
from agentkit.planning.decomposer import decompose
from agentkit.planning.horizon import PlanExtension, archived
from agentkit.schema import MAX_PLAN_STEPS, Budget, Subtask
from bench.bench_horizon import long_run

GOAL = "Work through every step"


@tool
def work(n: int) -> str:
    """Do unit `n` of the current step."""
    return f"unit {n} done"


def _calls_made(request: ModelRequest) -> int:
    return sum(1 for m in request.messages if m["role"] == "assistant" and m.get("tool_calls"))


def sequential(plan: Plan, calls: int) -> FunctionModel:
    """A model that plans `plan`, then does each step as `calls` work calls, one per turn."""

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return "done"
        done = _calls_made(request)
        if done < calls:
            return ToolCall(name="work", arguments={"n": done + 1})
        return ToolCall(name="finish", arguments={"result": f"{done} units done"})

    return FunctionModel(reply)


async def test_a_step_of_12_sequential_calls_finishes_in_one_attempt(
    db: str, workspace: Path
) -> None:
    step = PlanStep(id="s1", title="Twelve units", expected_calls=12)
    model = sequential(Plan(strategy="one long step", steps=[step]), 12)
    result = await Agent(model, tools=[work], db=db, workspace=workspace).run(GOAL)

    assert result.status == "completed", result.error
    (only,) = result.subtasks
    assert only.status == "done" and only.attempts == 1 and only.parts == 1
    assert only.effort.max_steps >= 13 and only.turns == 13
    assert only.estimated_tokens <= only.effort.budget_tokens  # sized to fit, not split
    assert result.usage.tool_calls == 12  # the closing `finish` is not counted


async def test_a_step_that_ran_out_of_turns_gets_more_and_finishes(
    db: str, workspace: Path
) -> None:
    # No hint of its size: the first attempt runs out at its level's 8 turns; the next one
    # gets twice as many, and the run completes with default settings.
    step = PlanStep(id="s1", title="Twelve units")
    model = sequential(Plan(strategy="one long step", steps=[step]), 12)
    result = await Agent(model, tools=[work], db=db, workspace=workspace).run(GOAL)

    assert result.status == "completed", result.error
    first, second = result.subtasks
    assert first.status == "failed" and first.turns == first.effort.max_steps == 8
    assert second.status == "done" and second.effort.max_steps == 16 and second.turns == 13


def test_a_split_never_takes_a_part_below_its_level_step_limit() -> None:
    long = " ".join(f"Handle item {i} with care and report it." for i in range(14))
    plan = Plan(strategy="big", steps=[PlanStep(id="s1", title="Big", instructions=long)])
    parts = decompose(plan, 1, budget=Budget(subtask_tokens=10_000, min_subtask_tokens=1_000,
                                             max_subtask_tokens=10_000), existing=[])
    assert len(parts) > 1
    assert all(p.effort.max_steps == 8 for p in parts)  # medium's limit, not 8 / 2**depth


def test_the_monitor_extends_a_continuing_plan_outside_the_revision_cap() -> None:
    done = [Subtask(id="t1", step_id="s1", plan_version=4, title="a", status="done")]
    progress = monitor.Progress(plan_version=4, revisions=3, max_revisions=3, continues=True)
    decision = monitor.decide(done, progress)
    assert (decision.action, decision.trigger) == ("revise", "extend")
    ends = monitor.decide(done, monitor.Progress(plan_version=4, revisions=0, max_revisions=3))
    assert ends.action == "finish"


def test_an_extension_reusing_finished_ids_gets_fresh_ones() -> None:
    old = Plan(strategy="w", steps=[PlanStep(id="s1", title="a")], continues=True)
    done = [Subtask(id="t1", step_id="s1", plan_version=1, title="a", status="done")]
    new = Plan(strategy="w", steps=[PlanStep(id="s1", title="b"),
                                    PlanStep(id="s2", title="c", depends_on=["s1"])])
    plan = strategist.carry_over(old, new, done, extending=True)
    assert [(s.id, s.depends_on) for s in plan.steps] == [("s1.2", []), ("s2", ["s1.2"])]


def windowed(windows: int, per_window: int) -> FunctionModel:
    """Plans `per_window` steps at a time for `windows` windows, reusing ids s1, s2, … each time;
    each step is one work call and `finish`."""
    planned = {"windows": 0}

    def steps_and_more() -> tuple[list[PlanStep], bool]:
        planned["windows"] += 1
        steps = [PlanStep(id=f"s{i}", title=f"Window {planned['windows']} step {i}",
                          depends_on=[f"s{i - 1}"] if i > 1 else [], difficulty="trivial")
                 for i in range(1, per_window + 1)]
        return steps, planned["windows"] < windows

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            steps, more = steps_and_more()
            if request.output_name == "PlanExtension":
                return PlanExtension(steps=steps, continues=more)
            return Plan(strategy="a window at a time", steps=steps, continues=more)
        if request.role == "finalizer":
            return "done"
        if _calls_made(request) == 0:
            return ToolCall(name="work", arguments={"n": 1})
        return ToolCall(name="finish", arguments={"result": "unit done"})

    return FunctionModel(reply)


async def test_a_run_extends_its_plan_past_the_step_cap(db: str, workspace: Path) -> None:
    model = windowed(windows=5, per_window=10)  # 50 steps; 4 extends, over max_revisions=3
    agent = Agent(model, tools=[work], db=db, workspace=workspace,
                  budget=Budget(max_model_calls=400, max_tokens=None, merge_below_tokens=0))
    result = await agent.run(GOAL)

    assert result.status == "completed", result.error
    assert sum(s.status == "done" for s in result.subtasks) == 50
    versions = Store(db).plan_versions(result.run_id)
    assert [v.trigger for v in versions] == ["initial"] + ["extend"] * 4
    assert all(len(v.plan.steps) <= MAX_PLAN_STEPS for v in versions)
    latest = versions[-1]
    assert not latest.plan.continues and latest.plan.steps[0].id == "s1.5"
    gone = archived(result.subtasks, latest.plan, latest.version)
    assert len(gone) == 40 and gone[0].step_id == "s1" and gone[0].result == "unit done"
    assert result.usage.tool_calls == 50  # 50 work calls; the 50 `finish` calls not counted

    shown = CliRunner().invoke(app, ["plans", "show", result.run_id, "--db", db])
    assert shown.exit_code == 0, shown.output
    assert "archived: 40 finished step(s)" in shown.output
    details = CliRunner().invoke(app, ["runs", "show", result.run_id, "--db", db, "--json"])
    assert len(json.loads(details.output)["archived"]) == 40


async def test_an_extension_that_finds_the_goal_met_ends_the_run(
    db: str, workspace: Path
) -> None:
    plan = Plan(strategy="s", steps=[PlanStep(id="s1", title="a", difficulty="trivial")],
                continues=True)

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return PlanExtension(goal_met=True) if request.output_name == "PlanExtension" else plan
        if request.role == "finalizer":
            return "done"
        return ToolCall(name="finish", arguments={"result": "a done"})

    result = await Agent(FunctionModel(reply), db=db, workspace=workspace).run(GOAL)
    assert result.status == "completed", result.error
    versions = Store(db).plan_versions(result.run_id)
    assert [v.trigger for v in versions] == ["initial", "extend"]
    assert versions[-1].reason.endswith("the strategist added no steps: the goal is met")
    assert not versions[-1].plan.continues and len(result.subtasks) == 1


async def test_a_long_run_smoke_completes_with_its_steps_archived(tmp_path: Path) -> None:
    out = await long_run(100, tmp_path, window=3)  # the benchmark's run, at 100 calls

    assert out["status"] == "completed", out["error"]
    assert out["done"] == out["steps"] == 8 and out["extends"] == 2
    assert out["archived"] == 6 and out["largest_plan"] == 3
    assert out["tool_calls"] == 8 * 12 and out["peak_prompt"] <= out["cap"]


def test_a_plan_repeating_a_step_keeps_its_first_copy() -> None:
    # The embedded model writes the same step three times under different ids.
    same = {"title": "Write the report", "instructions": "Write report.md."}
    draft = strategist.PlanDraft.model_validate({"strategy": "s", "steps": [
        {"id": "s1", "title": "Read the data"},
        {"id": "s2", **same, "depends_on": ["s1"]},
        {"id": "s3", "title": "write the  REPORT", "instructions": "Write report.md"},
        {"id": "s4", **same},
        {"id": "s5", "title": "Check it", "depends_on": ["s3", "s4"]},
    ]})
    assert [(s.id, s.depends_on) for s in draft.steps] == [
        ("s1", []), ("s2", ["s1"]), ("s5", ["s2"])]


def test_near_duplicate_steps_are_found_and_different_targets_are_not() -> None:
    steps = [PlanStep(id="s1", title="Write the report", instructions="Write report.md from "
                      "the notes."),
             PlanStep(id="s2", title="Read module 3", instructions="Read module 3 and note it."),
             PlanStep(id="s3", title="Read module 4", instructions="Read module 4 and note it."),
             PlanStep(id="s4", title="Write the final report", instructions="Write report.md "
                      "from the notes.", depends_on=["s2"]),
             PlanStep(id="s5", title="Check it", depends_on=["s4"])]
    pairs = similar.near_duplicates(steps)
    assert pairs == [("s1", "s4")]  # modules 3 and 4 are different work
    assert [(s.id, s.depends_on) for s in similar.fold(steps, pairs)] == [
        ("s1", []), ("s2", []), ("s3", []), ("s5", ["s1"])]


async def test_a_plan_with_near_duplicates_goes_back_to_the_strategist_once(
    db: str, workspace: Path
) -> None:
    repeating = Plan(strategy="s", steps=[
        PlanStep(id="s1", title="Write the report", instructions="Write report.md.",
                 difficulty="easy"),
        PlanStep(id="s2", title="Write the final report", instructions="Write report.md.",
                 difficulty="easy")])
    asked: list[ModelRequest] = []

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            asked.append(request)
            return repeating  # keeps its repeat: it is merged
        if request.role == "finalizer":
            return "done"
        return ToolCall(name="finish", arguments={"result": "written"})

    result = await Agent(FunctionModel(reply), db=db, workspace=workspace).run(GOAL)
    assert result.status == "completed", result.error
    assert len(asked) == 2 and "'s2' repeats 's1'" in asked[1].messages[-1]["content"]
    assert result.plan is not None and [s.id for s in result.plan.steps] == ["s1"]
    assert [s.step_id for s in result.subtasks] == ["s1"]


def test_done_steps_listed_again_do_not_count_against_the_plan_cap() -> None:
    done_ids = [f"d{i}" for i in range(6)]
    listed = [{"id": i, "title": f"Finished step {i}"} for i in done_ids] + [
        {"id": f"n{i}", "title": f"New step {i}"} for i in range(MAX_PLAN_STEPS)]
    draft = strategist.RevisionDraft.model_validate({"strategy": "s", "steps": listed})
    done = [Subtask(id=f"t{n}", step_id=i, plan_version=1, title=i, status="done")
            for n, i in enumerate(done_ids)]
    old = Plan(strategy="s", steps=[PlanStep(id=i, title=f"Finished step {i}")
                                    for i in done_ids])
    plan = strategist.carry_over(old, draft, done)
    assert [s.id for s in plan.steps] == [f"n{i}" for i in range(MAX_PLAN_STEPS)]
    assert not plan.continues
    more = strategist.RevisionDraft.model_validate({"strategy": "s", "steps": listed + [
        {"id": "n99", "title": "One more"}]})
    windowed = strategist.carry_over(old, more, done)  # 13 open steps: 12 now, the rest later
    assert len(windowed.steps) == MAX_PLAN_STEPS and windowed.continues
