"""Small-model mode: the same executor loop with a compact prompt and a worked example, only the
tools a subtask needs, `finish` once work is done, a repeated success as the end, and the
answer taken from the results; plus the grammar and tool changes a small model needs."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest

from agentkit import Agent, FunctionModel, ModelRequest, Store, ToolCall, ToolContext, load_tools
from agentkit.execution import small
from agentkit.models import local
from tests.scripts import tool_results

GOAL = "Read the file poem.txt and report its first line."


def reader(request: ModelRequest) -> object:
    """Answers the Scope question, reads poem.txt, then repeats the read (never finishes)."""
    if request.output_name == "Scope":
        return {"one_subtask": True, "reason": "one read"}
    if request.role == "strategist":
        return {"strategy": "read it", "steps": [{"id": "s1", "title": "Read poem.txt",
                                                  "instructions": GOAL, "difficulty": "easy"}]}
    if request.role == "finalizer":
        return "the finalizer's answer"
    return ToolCall(name="read_file", arguments={"path": "poem.txt"})


def _agent(model: FunctionModel, db: str, workspace: Path, **options: object) -> Agent:
    (workspace / "poem.txt").write_text("roses are red\nviolets are blue\n")
    return Agent(model, db=db, workspace=workspace, max_concurrency=1,  # type: ignore[arg-type]
                 tools=[load_tools(p) for p in ("files", "shell", "python")], **options)


async def test_a_small_model_gets_a_compact_prompt_few_tools_and_finish_after_work(
        db: str, workspace: Path) -> None:
    model = FunctionModel(reader)
    result = await _agent(model, db, workspace, small=True).run(GOAL)

    executor = [r for r in model.requests if r.role == "executor"]
    first, second = executor[0], executor[1]
    system = first.messages[0]["content"]
    assert system.startswith(small.SYSTEM) and "Example task:" in system
    assert '"tool": "read_file"' in system  # the example of the best-matching tool
    assert "Plan:" not in first.messages[1]["content"]
    assert first.tool_names[0] == "read_file" and "finish" not in first.tool_names
    assert len(first.tool_names) == small.KEEP_TOOLS
    assert second.tool_names[-1] == "finish"
    assert not {"fail", "recall", "think_parallel"} & set(first.tool_names + second.tool_names)
    # The read repeated word for word ended the subtask, done, with the file as its result.
    assert result.status == "completed" and len(executor) == 2
    [read] = [c for c in Store(db).get_tool_calls(result.run_id) if c.name == "read_file"]
    assert read.status == "ok"
    assert "roses are red" in result.answer
    assert not [r for r in model.requests if r.role == "finalizer"]


async def test_a_model_not_known_to_be_small_gets_none_of_it(db: str, workspace: Path) -> None:
    def script(request: ModelRequest) -> object:
        if request.role == "executor" and tool_results(request):
            return ToolCall(name="finish", arguments={"result": "read it"})
        return reader(request)

    model = FunctionModel(script)
    result = await _agent(model, db, workspace).run(GOAL)

    first = next(r for r in model.requests if r.role == "executor")
    assert "Plan:" in first.messages[1]["content"] and "Example task:" not in str(first.messages)
    assert {"finish", "fail", "run_shell", "make_dir"} <= set(first.tool_names)
    assert result.answer == "the finalizer's answer"


async def test_finish_keeps_the_output_of_the_work_as_evidence(db: str, workspace: Path) -> None:
    def script(request: ModelRequest) -> object:
        if request.role == "executor" and tool_results(request):
            return ToolCall(name="finish", arguments={"result": "I read the poem"})
        return reader(request)

    result = await _agent(FunctionModel(script), db, workspace, small=True).run(GOAL)

    assert result.answer == (
        "I read the poem\n(tool output: roses are red\nviolets are blue)")


async def test_a_failed_command_is_not_work_done(db: str, workspace: Path) -> None:
    def script(request: ModelRequest) -> object:
        if request.output_name == "Scope":
            return {"one_subtask": True, "reason": "one command"}
        results = tool_results(request)
        if not results:
            return ToolCall(name="run_shell", arguments={"command": "exit 3"})
        if "finish" not in request.tool_names:
            return ToolCall(name="run_shell", arguments={"command": "echo fixed"})
        return ToolCall(name="finish", arguments={"result": "fixed"})

    model = FunctionModel(script)
    result = await _agent(model, db, workspace, small=True, sandbox="none").run(
        "Run a shell command that prints fixed.")

    offered = [r.tool_names for r in model.requests if r.role == "executor"]
    assert "finish" not in offered[0] and "finish" not in offered[1]
    assert "finish" in offered[2]
    assert result.status == "completed" and "fixed" in result.answer


def test_tools_are_chosen_by_the_words_of_the_task() -> None:
    tools = load_tools("files")
    tools.add(load_tools("shell"))
    tools.add(load_tools("python"))
    picked = {
        text: small.select_tools(tools, text).names[0] for text in (
            "Create a folder named data.", "Rename the file old.txt to new.txt.",
            "Run the Python expression 2 + 2.", "Append the line 'x' to the file a.txt.")}
    assert picked == {"Create a folder named data.": "make_dir",
                      "Rename the file old.txt to new.txt.": "move_file",
                      "Run the Python expression 2 + 2.": "run_python",
                      "Append the line 'x' to the file a.txt.": "append_file"}
    few = load_tools("python")
    assert small.select_tools(few, "anything").names == ["run_python"]  # short lists stay whole


def test_the_local_grammar_keeps_paths_relative() -> None:
    schema = local.tool_call_schema(load_tools("files").specs())
    good = {"tool": "read_file", "arguments": {"path": "poem.txt"}}
    jsonschema.validate(good, schema)
    for path in ("/Users/you/Desktop/hello.txt", "~/x", "../x"):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"tool": "read_file", "arguments": {"path": path}}, schema)
    with pytest.raises(jsonschema.ValidationError):  # the name is one of the offered tools
        jsonschema.validate({"tool": "rm_rf", "arguments": {}}, schema)


def test_run_python_prints_the_value_of_a_last_expression(workspace: Path) -> None:
    import asyncio

    tool = load_tools("python").get("run_python")
    assert tool is not None
    ctx = ToolContext(workspace=workspace, sandbox="none")
    for code, shown in (("17 * 23", "391"), ("len('abc')  # a comment", "3"),
                        ("print('hi')", "hi"), ("x = 2\nx * 3", "")):
        result = asyncio.run(tool.run({"code": code}, ctx))
        assert result.content == f"exit code 0\n{shown}{chr(10) if shown else ''}", code
