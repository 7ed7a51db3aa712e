"""Plan revision driven by the monitor: failures, loops, budget pressure, the cap, and no churn."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from agentkit import (
    Agent,
    Budget,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    ToolCall,
    load_tools,
)
from agentkit.cli import app
from agentkit.planning import horizon
from agentkit.store import Store
from tests.scripts import hello_agent, subtask_title, tool_results

GOAL = "Produce result.txt"
WRITE = PlanStep(id="s1", title="Write notes.txt", difficulty="trivial")
BROKEN = PlanStep(id="s2", title="Use the broken approach", depends_on=["s1"], difficulty="trivial")
FIXED = PlanStep(id="s3", title="Use the working approach", depends_on=["s1"], difficulty="trivial")


def strategist(*plans: Plan):  # noqa: ANN201
    queue = list(plans)
    return lambda request: queue.pop(0) if len(queue) > 1 else queue[0]


def worker(plans: list[Plan], *, same_args: bool = False) -> FunctionModel:
    next_plan = strategist(*plans)

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return next_plan(request)
        if request.role == "finalizer":
            return "done"
        title, results = subtask_title(request), tool_results(request)
        if title == "Write notes.txt":
            if not results:
                return ToolCall(name="write_file", arguments={"path": "notes.txt", "content": "n"})
            return ToolCall(name="finish", arguments={"result": "notes written"})
        if title == "Use the broken approach":  # never finishes: hits the step limit
            command = "false" if same_args else f"false {len(results)}"
            return ToolCall(name="run_shell", arguments={"command": command})
        if not results:
            return ToolCall(name="write_file", arguments={"path": "result.txt", "content": "ok"})
        return ToolCall(name="finish", arguments={"result": "result.txt written"})

    return FunctionModel(reply)


def _agent(model: FunctionModel, db: str, workspace: Path, **budget: int) -> Agent:
    return Agent(
        model,
        tools=[load_tools("files"), load_tools("shell")],
        db=db,
        workspace=workspace,
        budget=Budget(**{"merge_below_tokens": 0, **budget}),  # each trivial step on its own
    )


async def test_failure_leads_to_a_recorded_revision_that_keeps_done_work(
    db: str, workspace: Path
) -> None:
    first = Plan(strategy="broken", steps=[WRITE, BROKEN])
    # The strategist forgets the finished step s1: the run must carry it over anyway.
    second = Plan(strategy="working", steps=[PlanStep(id="s3", title="Use the working approach",
                                                      expected_calls=2)])  # one subtask
    result = await _agent(worker([first, second]), db, workspace).run(GOAL)

    assert result.status == "completed"
    versions = Store(db).plan_versions(result.run_id)
    assert [(v.version, v.trigger) for v in versions] == [(1, "initial"), (2, "failure")]
    assert (
        "subtask t2 ('Use the broken approach') failed: not finished within the step limit"
        in versions[1].reason
    )
    revised = versions[1].plan
    # The finished step s1 is archived: out of the plan, kept in the record with its result.
    assert [s.id for s in revised.steps] == ["s3"]
    assert [(a.step_id, a.subtask_id, a.result) for a in horizon.archived(
        result.subtasks, revised, 2)] == [("s1", "t1", "notes written")]
    assert revised.failed_approaches == [
        "tried: Use the broken approach, failed because not finished within the step limit of 3"
    ]
    subtasks = {s.id: (s.step_id, s.status) for s in result.subtasks}
    assert subtasks == {"t1": ("s1", "done"), "t2": ("s2", "failed"), "t3": ("s3", "done")}
    assert (workspace / "result.txt").read_text() == "ok"


async def test_a_loop_is_detected_and_leads_to_a_new_plan(db: str, workspace: Path) -> None:
    first = Plan(strategy="broken", steps=[WRITE, BROKEN])
    second = Plan(strategy="working", steps=[WRITE, FIXED])
    model = worker([first, second], same_args=True)
    result = await _agent(model, db, workspace).run(GOAL)

    assert result.status == "completed"
    versions = Store(db).plan_versions(result.run_id)
    assert versions[1].trigger == "loop"
    assert "called run_shell with the same arguments 3 times in a row" in versions[1].reason
    revise_prompt = [r for r in model.requests if r.role == "strategist"][1].last_user_text
    assert "was looping" in revise_prompt and "Use the broken approach" in revise_prompt


async def test_no_revision_when_everything_succeeds(db: str, workspace: Path) -> None:
    agent = hello_agent(db, workspace)
    result = await agent.run("Create hello.py that prints the first 10 primes, then run it")

    assert result.status == "completed"
    store = Store(db)
    assert len(store.plan_versions(result.run_id)) == 1
    decisions = [e.data for e in store.get_events(result.run_id) if e.kind == "monitor"]
    # One dispatch round runs the chain: the second subtask starts once the first is done.
    assert [d["action"] for d in decisions] == ["dispatch", "finish"]
    assert all(d["trigger"] == "" for d in decisions)


async def test_revision_cap_stops_cleanly_with_a_partial_report(db: str, workspace: Path) -> None:
    always_broken = Plan(strategy="broken", steps=[WRITE, BROKEN])
    result = await _agent(worker([always_broken]), db, workspace, max_revisions=1).run(GOAL)

    assert result.status == "failed"
    assert "revision cap of 1 reached" in (result.error or "")
    assert "[s1] Write notes.txt: notes written" in (result.answer or "")
    store = Store(db)
    assert [v.version for v in store.plan_versions(result.run_id)] == [1, 2]
    assert store.get_run(result.run_id).status == "failed"
    assert [s.status for s in store.get_subtasks(result.run_id)] == ["done", "failed", "failed"]


async def test_budget_pressure_shrinks_the_plan(db: str, workspace: Path) -> None:
    big = Plan(
        strategy="everything",
        steps=[WRITE, PlanStep(id="s2", title="Extra polish", difficulty="hard"), FIXED],
    )
    small = Plan(strategy="just the result", steps=[FIXED.model_copy(update={"depends_on": []})])
    model = worker([big, small])
    result = await _agent(model, db, workspace, max_tokens=9000).run(GOAL)

    versions = Store(db).plan_versions(result.run_id)
    assert versions[1].trigger == "budget"
    assert "shrink the plan to what still fits" in versions[1].reason
    assert [s.id for s in versions[1].plan.steps] == ["s3"]
    assert result.status == "completed"


async def test_plans_show_and_diff(db: str, workspace: Path) -> None:
    first = Plan(strategy="broken", steps=[WRITE, BROKEN])
    second = Plan(strategy="working", steps=[WRITE, FIXED])
    run_id = (await _agent(worker([first, second]), db, workspace).run(GOAL)).run_id

    shown = CliRunner().invoke(app, ["plans", "show", run_id, "--version", "1", "--db", db])
    assert shown.exit_code == 0, shown.output
    assert "Use the broken approach" in shown.output and "v1" in shown.output

    diff = CliRunner().invoke(app, ["plans", "diff", run_id, "1", "2", "--db", db, "--json"])
    assert diff.exit_code == 0, diff.output
    import json

    data = json.loads(diff.output)
    assert data["added"] == ["s3"] and data["removed"] == ["s2"] and data["changed"] == []
    assert data["archived"] == ["s1"]  # done under v1, so it left the plan
    assert data["trigger"] == "failure" and "broken approach" in data["reason"]


async def test_an_executor_can_report_failure_and_the_plan_is_revised(
    db: str, workspace: Path
) -> None:
    check = PlanStep(id="s2", title="Check the tests", depends_on=["s1"], difficulty="trivial")
    first = Plan(strategy="check", steps=[WRITE, check])
    second = Plan(strategy="working", steps=[WRITE, FIXED])
    inner = worker([first, second])

    def reply(request: ModelRequest) -> object:
        if request.role == "executor" and subtask_title(request) == "Check the tests":
            return ToolCall(name="fail", arguments={"reason": "tests still red: 2 failed"})
        return inner.fn(request)

    result = await _agent(FunctionModel(reply), db, workspace).run(GOAL)

    assert result.status == "completed"
    failed = next(s for s in result.subtasks if s.step_id == "s2")
    assert failed.status == "failed" and failed.result == "tests still red: 2 failed"
    versions = Store(db).plan_versions(result.run_id)
    assert versions[1].trigger == "failure"
    assert "tests still red: 2 failed" in versions[1].reason


async def test_a_fact_contradicting_an_assumption_revises_the_plan(
    db: str, workspace: Path
) -> None:
    first = Plan(strategy="read the yaml config", assumptions=["config.yaml exists"],
                 steps=[PlanStep(id="s1", title="Read config.yaml", difficulty="trivial")])
    second = Plan(strategy="read the toml config", assumptions=["config.toml exists"],
                  steps=[PlanStep(id="s2", title="Read config.toml", difficulty="trivial")])
    plans = iter([first, second])

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return next(plans)
        if request.role == "finalizer":
            return "read"
        if subtask_title(request) == "Read config.yaml":
            return ToolCall(name="report_contradiction", arguments={
                "assumption": "config.yaml exists", "fact": "only config.toml exists"})
        return ToolCall(name="finish", arguments={"result": "read config.toml"})

    model = FunctionModel(reply)
    result = await _agent(model, db, workspace).run(GOAL)

    assert result.status == "completed"
    versions = Store(db).plan_versions(result.run_id)
    assert versions[1].trigger == "contradiction"
    assert "found 'only config.toml exists', which contradicts the assumption " \
        "'config.yaml exists'" in versions[1].reason
    revise_prompt = [r for r in model.requests if r.role == "strategist"][1].last_user_text
    assert "only config.toml exists" in revise_prompt
    assert [(s.step_id, s.status) for s in result.subtasks] == [("s1", "failed"), ("s2", "done")]
