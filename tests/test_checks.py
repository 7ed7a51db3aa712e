"""Done means verified: a plan step's check command decides whether `finish` is accepted."""

from __future__ import annotations

from pathlib import Path

from agentkit import Agent, FunctionModel, ModelRequest, Plan, PlanStep, Store, ToolCall, load_tools
from tests.scripts import tool_results

CHECK = "grep -q 'hello' hello.txt"
PLAN = Plan(strategy="Write the file.", steps=[
    PlanStep(id="s1", title="Write hello.txt", instructions="Write hello into hello.txt.",
             success_criteria="hello.txt says hello", difficulty="easy", check=CHECK)])


def hasty(request: ModelRequest) -> object:
    """Claims to be done before doing the work; does it once the check says it is not done."""
    if request.role == "strategist":
        return PLAN
    if request.role == "finalizer":
        return "hello.txt says hello"
    results = tool_results(request)
    if not results:
        return ToolCall(name="finish", arguments={"result": "wrote hello.txt"})
    if results[-1].startswith("finish was not accepted"):
        return ToolCall(name="write_file", arguments={"path": "hello.txt", "content": "hello\n"})
    return ToolCall(name="finish", arguments={"result": "wrote hello.txt"})


async def test_a_failing_check_sends_the_result_back_with_the_reason(
    db: str, workspace: Path
) -> None:
    model = FunctionModel(hasty)
    agent = Agent(model, tools=[load_tools("files")], db=db, workspace=workspace)
    result = await agent.run("Write hello into hello.txt")

    assert result.status == "completed", result.error
    assert (workspace / "hello.txt").read_text() == "hello\n"
    calls = Store(db).get_tool_calls(result.run_id)
    assert [(c.name, c.status) for c in calls] == [
        ("finish", "ok"), ("run_check", "error"), ("write_file", "ok"), ("finish", "ok"),
        ("run_check", "ok")]
    assert f"the check {CHECK!r} exited 2:\ngrep: hello.txt: No such file" in calls[1].result
    executor = [r for r in model.requests if r.role == "executor"]
    assert f"finish is accepted only once this check exits 0: {CHECK}" in executor[0].messages[1][
        "content"]
    told = executor[1].messages[-1]
    assert told["role"] == "tool" and told["content"].startswith(
        f"finish was not accepted: the check {CHECK!r} exited 2")
    assert [s.status for s in result.subtasks] == ["done"]


async def test_a_check_that_never_passes_fails_the_subtask(db: str, workspace: Path) -> None:
    def stubborn(request: ModelRequest) -> object:
        if request.role == "strategist":
            return PLAN
        if request.role == "finalizer":
            return "nothing"
        return ToolCall(name="finish", arguments={"result": "wrote hello.txt"})

    agent = Agent(FunctionModel(stubborn), tools=[load_tools("files")], db=db,
                  workspace=workspace)
    result = await agent.run("Write hello into hello.txt")
    assert result.status != "completed"
    first = result.subtasks[0]
    assert first.status == "failed" and "step limit" in (first.result or "")
    checks = [c for c in Store(db).get_tool_calls(result.run_id) if c.name == "run_check"]
    assert checks and all(c.status == "error" for c in checks)


async def test_a_checked_run_replays_without_running_the_check(db: str, workspace: Path) -> None:
    agent = Agent(FunctionModel(hasty), tools=[load_tools("files")], db=db, workspace=workspace)
    original = await agent.run("Write hello into hello.txt")
    (workspace / "hello.txt").unlink()  # a check run again would now fail
    replayed = await agent.replay(original.run_id)
    assert replayed.status == "completed", replayed.error
    store = Store(db)
    assert [(c.name, c.status) for c in store.get_tool_calls(replayed.run_id)] == [
        (c.name, c.status) for c in store.get_tool_calls(original.run_id)]
    assert not (workspace / "hello.txt").exists()
