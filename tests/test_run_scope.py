"""Run-level calibration: a goal one executor can do runs as a plan of one step, decided by a
cheap classifier call and recorded like any plan version."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from agentkit import Agent, Budget, FunctionModel, ModelRequest, Store, ToolCall, load_tools
from agentkit.cli import app
from tests.scripts import HELLO_PLAN, tool_results

GOAL = "Write the text 'hello world' into a file named hello.txt."


def classifier_then_write(one_subtask: bool, reason: str = "one file write"):
    """A model that answers the Scope question, plans HELLO_PLAN if asked, and writes
    hello.txt in any subtask."""

    def script(request: ModelRequest) -> object:
        if request.output_name == "Scope":
            return {"one_subtask": one_subtask, "reason": reason}
        if request.role == "strategist":
            return HELLO_PLAN
        if request.role == "finalizer":
            return "done"
        if not tool_results(request):
            return ToolCall(name="write_file",
                            arguments={"path": "hello.txt", "content": "hello world"})
        return ToolCall(name="finish", arguments={"result": "wrote hello.txt"})

    return script


def _agent(model: FunctionModel, db: str, workspace: Path, **options: object) -> Agent:
    return Agent(model, tools=[load_tools("files")], db=db, workspace=workspace,
                 max_concurrency=1, **options)  # type: ignore[arg-type]


async def test_a_one_subtask_goal_runs_as_a_recorded_plan_of_one_step(
        db: str, workspace: Path) -> None:
    model = FunctionModel(classifier_then_write(True))
    result = await _agent(model, db, workspace, small=True).run(GOAL)

    assert result.status == "completed"
    assert (workspace / "hello.txt").read_text() == "hello world"
    store = Store(db)
    [version] = store.plan_versions(result.run_id)
    assert version.trigger == "initial"
    assert version.reason == "run-level calibration: one subtask (one file write)"
    assert [s.instructions for s in version.plan.steps] == [GOAL]
    assert version.plan.steps[0].difficulty == "easy"
    # The classifier was the only planning call: no multi-step plan was asked for.
    planning = [r.output_name for r in model.requests if r.role == "strategist"]
    assert planning == ["Scope"]
    [subtask] = store.get_subtasks(result.run_id)
    assert subtask.effort.thinking_tools is False
    executor_tools = {n for r in model.requests if r.role == "executor" for n in r.tool_names}
    assert not executor_tools & {"think_parallel", "think_longer"}


async def test_a_goal_of_several_pieces_goes_to_the_strategist_with_the_decision_recorded(
        db: str, workspace: Path) -> None:
    model = FunctionModel(classifier_then_write(False, "a program to write and run"))
    result = await _agent(model, db, workspace, calibrate_run=True).run("Build and run it")

    [version] = Store(db).plan_versions(result.run_id)[:1]
    assert version.reason == "run-level calibration: a plan (a program to write and run)"
    assert [s.id for s in version.plan.steps] == ["s1", "s2"]
    assert [r.output_name for r in model.requests if r.role == "strategist"] == ["Scope", "Plan"]


async def test_a_model_not_known_to_be_small_is_not_asked_unless_told(
        db: str, workspace: Path) -> None:
    model = FunctionModel(classifier_then_write(True))
    result = await _agent(model, db, workspace).run(GOAL)

    assert [r.output_name for r in model.requests if r.role == "strategist"] == ["Plan"]
    assert Store(db).plan_versions(result.run_id)[0].reason == "first plan"

    told = FunctionModel(classifier_then_write(True))
    result = await _agent(told, db, workspace, calibrate_run=True).run(GOAL)
    assert [r.output_name for r in told.requests if r.role == "strategist"] == ["Scope"]
    assert len(Store(db).plan_versions(result.run_id)[0].plan.steps) == 1


async def test_a_failed_one_subtask_run_on_a_small_model_tries_the_step_again_unplanned(
        db: str, workspace: Path) -> None:
    def script(request: ModelRequest) -> object:
        if request.output_name == "Scope":
            return {"one_subtask": True, "reason": "one write"}
        if request.role == "strategist":
            raise AssertionError("a small model's failed one-step plan is not re-planned")
        if "Failed" not in request.messages[1]["content"]:  # 3 errors in a row: it fails
            return ToolCall(name="read_file", arguments={"path": "missing.txt"})
        if not tool_results(request):
            return ToolCall(name="write_file", arguments={"path": "hello.txt",
                                                          "content": "hello world"})
        return ToolCall(name="finish", arguments={"result": "wrote it"})

    model = FunctionModel(script)
    agent = _agent(model, db, workspace, small=True, budget=Budget(max_model_calls=12))
    result = await agent.run(GOAL)

    versions = Store(db).plan_versions(result.run_id)
    assert [v.trigger for v in versions] == ["initial", "failure"]
    assert versions[1].plan.steps[0].instructions == GOAL
    assert (workspace / "hello.txt").read_text() == "hello world"


def test_an_agent_file_marks_its_model_small_from_the_command_line(tmp_path: Path) -> None:
    workspace = tmp_path / "ws"
    workspace.mkdir()
    (tmp_path / "models.py").write_text(
        "from agentkit import FunctionModel, ToolCall\n"
        "def script(request):\n"
        "    if request.output_name == 'Scope':\n"
        "        return {'one_subtask': True, 'reason': 'one write'}\n"
        "    if not [m for m in request.messages if m['role'] == 'tool']:\n"
        "        return ToolCall(name='write_file', arguments={'path': 'a.txt', "
        "'content': 'hi'})\n"
        "    return ToolCall(name='finish', arguments={'result': 'wrote a.txt'})\n"
        "def make():\n"
        "    return FunctionModel(script, name='small-cli')\n"
    )
    (tmp_path / "agent.yaml").write_text(
        "model: models.py:make\nsmall: true\ntools: [files]\n")
    db = str(tmp_path / "runs.db")
    done = CliRunner().invoke(app, [
        "run", "Write hi into a.txt", "--agent", str(tmp_path / "agent.yaml"),
        "--workspace", str(workspace), "--db", db, "--json"])
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert (workspace / "a.txt").read_text() == "hi"
    # No finalizer call on a small model: the answer is the work's result, with its evidence.
    assert result["answer"] == "wrote a.txt\n(tool output: wrote 2 characters to a.txt)"
    store = Store(db)
    assert [c.role for c in store.get_model_calls(result["run_id"])] == [
        "strategist", "executor", "executor"]
    assert store.plan_versions(result["run_id"])[0].reason.startswith(
        "run-level calibration: one subtask")
