"""Tools that need approval pause the run; a decision resumes it; a denial reaches the model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentkit import (
    Agent,
    FunctionModel,
    ModelRequest,
    Plan,
    PlanStep,
    ToolCall,
    ToolContext,
    UserError,
    tool,
)
from agentkit.store import Store
from tests.scripts import subtask_title

PLAN = Plan(strategy="deploy", steps=[PlanStep(id="s1", title="Deploy the site")])


@tool(needs_approval=True)
def deploy(target: str, ctx: ToolContext) -> str:
    """Deploy to a target (changes the world: needs a person's approval).

    Args:
        target: where to deploy.
    """
    with open(ctx.resolve("deployments.txt"), "a") as f:
        f.write(target + "\n")
    return f"deployed to {target}"


def operator(request: ModelRequest) -> object:
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Deploy the site: ", 1)[-1]
    results = [m["content"] for m in request.messages if m["role"] == "tool"]
    if not results:
        return ToolCall(name="deploy", arguments={"target": "production"})
    return ToolCall(name="finish", arguments={"result": results[-1]})


def _agent(model: FunctionModel, db: str, workspace: Path) -> Agent:
    return Agent(model, tools=[deploy], db=db, workspace=workspace)


async def test_run_pauses_then_an_approval_runs_the_tool_once(db: str, workspace: Path) -> None:
    model = FunctionModel(operator)
    agent = _agent(model, db, workspace)

    paused = await agent.run("Deploy the site")

    assert paused.status == "awaiting_approval"
    assert [(a["name"], a["arguments"]) for a in paused.approvals] == [
        ("deploy", '{"target": "production"}')]
    assert not (workspace / "deployments.txt").exists()
    calls_before = len(model.requests)

    done = await agent.approve(paused.run_id, True)

    assert done.status == "completed"
    assert done.answer == "deployed to production"
    assert (workspace / "deployments.txt").read_text() == "production\n"
    # The executor's first call was served from the record, not asked again.
    assert [r.role for r in model.requests[calls_before:]] == ["executor", "finalizer"]
    assert done.approvals == []
    statuses = [c.status for c in Store(db).get_tool_calls(done.run_id) if c.name == "deploy"]
    assert statuses == ["ok"]


async def test_a_denial_goes_back_to_the_model(db: str, workspace: Path) -> None:
    agent = _agent(FunctionModel(operator), db, workspace)
    paused = await agent.run("Deploy the site")

    done = await agent.approve(paused.run_id, {paused.approvals[0]["id"]: False})

    assert done.status == "completed"
    assert not (workspace / "deployments.txt").exists()
    call = next(c for c in Store(db).get_tool_calls(done.run_id) if c.name == "deploy")
    assert call.status == "denied" and "The user denied this call of 'deploy'" in call.result
    assert "denied" in (done.answer or "")


async def test_only_a_paused_run_takes_a_decision(db: str, workspace: Path) -> None:
    agent = _agent(FunctionModel(operator), db, workspace)
    paused = await agent.run("Deploy the site")
    with pytest.raises(UserError, match="no pending approval"):
        await agent.approve(paused.run_id, {"nope": True})
    done = await agent.approve(paused.run_id)
    with pytest.raises(UserError, match="is 'completed', not awaiting approval"):
        await agent.approve(done.run_id)


def test_cli_asks_yes_or_no(db: str, workspace: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from agentkit.cli import app

    tools_file = tmp_path / "deploy_tools.py"
    tools_file.write_text(
        "from tests.test_approval import deploy\n"
    )
    model = FunctionModel(operator)
    result = CliRunner().invoke(
        app, ["run", "Deploy the site", "--model", model.model_name, "--tools", str(tools_file),
              "--db", db, "--workspace", str(workspace)], input="y\n",
    )
    assert result.exit_code == 0, result.output
    assert "Allow deploy" in result.output
    assert (workspace / "deployments.txt").read_text() == "production\n"


def two_deploys(request: ModelRequest) -> object:
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return "done"
    if not [m for m in request.messages if m["role"] == "tool"]:
        return [ToolCall(name="deploy", arguments={"target": "staging"}, id="c1"),
                ToolCall(name="deploy", arguments={"target": "production"}, id="c2")]
    return ToolCall(name="finish", arguments={"result": "both answered"})


async def test_each_call_of_a_subtask_gets_its_own_decision(db: str, workspace: Path) -> None:
    agent = _agent(FunctionModel(two_deploys), db, workspace)
    first = await agent.run("Deploy twice")
    assert [a["arguments"] for a in first.approvals] == ['{"target": "staging"}']
    second = await agent.approve(first.run_id, True)
    assert [a["arguments"] for a in second.approvals] == ['{"target": "production"}']

    done = await agent.approve(second.run_id, False)

    # The denial is the production call's: the first decision is not handed to it again.
    assert (workspace / "deployments.txt").read_text() == "staging\n"
    assert [c.status for c in Store(db).get_tool_calls(done.run_id) if c.name == "deploy"] == [
        "ok", "denied"]


async def test_parallel_subtasks_each_get_their_own_decision(db: str, workspace: Path) -> None:
    # Two independent subtasks pause for approval in the same dispatch round; a third needs
    # none and ends meanwhile. Each paused one gets the decision given for its own call.
    plan = Plan(strategy="deploy twice", steps=[
        PlanStep(id="s1", title="Deploy staging", difficulty="easy"),
        PlanStep(id="s2", title="Deploy production", difficulty="easy"),
        PlanStep(id="s3", title="Write notes", difficulty="easy")])

    def reply(request: ModelRequest) -> object:
        if request.role == "strategist":
            return plan
        if request.role == "finalizer":
            return "done"
        title = subtask_title(request)
        results = [m["content"] for m in request.messages if m["role"] == "tool"]
        if results or title == "Write notes":
            return ToolCall(name="finish", arguments={"result": results[-1] if results else "ok"})
        return ToolCall(name="deploy", arguments={"target": title.split()[-1]})

    agent = _agent(FunctionModel(reply), db, workspace)
    paused = await agent.run("Deploy twice")
    assert paused.status == "awaiting_approval"
    by_target = {json.loads(a["arguments"])["target"]: a["id"] for a in paused.approvals}
    assert sorted(by_target) == ["production", "staging"]
    assert [s.status for s in paused.subtasks] == ["running", "running", "done"]

    done = await agent.approve(paused.run_id, {by_target["staging"]: True,
                                               by_target["production"]: False})

    assert done.status == "completed", done.error
    assert (workspace / "deployments.txt").read_text() == "staging\n"
    calls = {json.loads(c.arguments)["target"]: c.status
             for c in Store(db).get_tool_calls(done.run_id) if c.name == "deploy"}
    assert calls == {"staging": "ok", "production": "denied"}
