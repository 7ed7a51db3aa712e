"""The CLI over recorded runs: list and show, as tables and as JSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit import StorageError, Store
from agentkit.cli import app
from tests.scripts import hello_agent


def _run(db: str, workspace: Path) -> str:
    agent = hello_agent(db, workspace)
    return agent.run_sync("Create hello.py that prints the first 10 primes, then run it").run_id


def test_runs_list_and_show_json(db: str, workspace: Path) -> None:
    run_id = _run(db, workspace)
    listed = CliRunner().invoke(app, ["runs", "list", "--db", db, "--json"])
    assert listed.exit_code == 0
    assert [r["id"] for r in json.loads(listed.output)] == [run_id]

    shown = CliRunner().invoke(app, ["runs", "show", run_id, "--db", db, "--json"])
    assert shown.exit_code == 0
    details = json.loads(shown.output)
    assert details["run"]["status"] == "completed"
    assert details["plan_version"] == 1
    assert [s["status"] for s in details["subtasks"]] == ["done", "done"]
    assert [c["name"] for c in details["tool_calls"]] == [
        "write_file",
        "finish",
        "run_shell",
        "finish",
    ]
    assert details["usage"]["model_calls"] == 6


def test_runs_show_table_names_plan_and_answer(db: str, workspace: Path) -> None:
    run_id = _run(db, workspace)
    shown = CliRunner().invoke(
        app, ["runs", "show", run_id[:6], "--db", db], env={"COLUMNS": "120"}
    )
    assert shown.exit_code == 0
    assert "plan v1" in shown.output and "Write hello.py" in shown.output
    assert "[2, 3, 5, 7, 11, 13, 17, 19, 23, 29]" in shown.output


def test_json_output_keeps_the_shape_of_the_stored_rows(db: str, workspace: Path) -> None:
    run_id = _run(db, workspace)
    [row] = json.loads(CliRunner().invoke(app, ["runs", "list", "--db", db, "--json"]).output)
    assert list(row) == ["id", "goal", "status", "model", "created_at"]

    details = json.loads(CliRunner().invoke(app, ["runs", "show", run_id, "--db", db,
                                                  "--json"]).output)
    assert list(details) == ["run", "plan_version", "plan", "archived", "subtasks",
                             "escalations", "tool_calls", "usage", "prompt_cache"]
    assert list(details["run"]) == [
        "id", "goal", "status", "model", "workspace", "settings", "answer", "error",
        "parent_run_id", "created_at", "updated_at",
    ]
    assert details["run"]["settings"]["tools"]  # the settings as JSON, not as a string
    assert list(details["tool_calls"][0]) == ["subtask_id", "name", "arguments", "status",
                                              "result"]

    plan = json.loads(CliRunner().invoke(app, ["plans", "show", run_id, "--db", db,
                                               "--json"]).output)
    assert list(plan) == ["run_id", "version", "plan", "trigger", "reason", "created_at",
                          "archived"]
    assert (plan["version"], plan["trigger"]) == (1, "initial")
    assert [s["id"] for s in plan["plan"]["steps"]] == ["s1", "s2"]


def test_errors_of_any_command_render_without_a_traceback(
    db: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _run(db, workspace)
    for args in (["runs", "show", "nope"], ["plans", "show", "nope"], ["replay", "nope"]):
        mistake = CliRunner().invoke(app, [*args, "--db", db])
        assert mistake.exit_code == 2, (args, mistake.output)  # a UserError: the user can fix it
        assert mistake.output.startswith("error: ") and "'nope'" in mistake.output
        assert "Traceback" not in mistake.output

    def gone(self: Store, limit: int) -> list[object]:
        raise StorageError("the database went away")

    monkeypatch.setattr(Store, "list_runs", gone)
    failure = CliRunner().invoke(app, ["runs", "list", "--db", db])
    assert (failure.exit_code, failure.output) == (1, "error: the database went away\n")


MARKUP = "[bold]x[/bold] and [1, 2]"


def _bracketed(request: Any) -> object:
    """A run whose goal, subtask result and answer all hold text in square brackets."""
    from agentkit import Plan, PlanStep, ToolCall

    if request.role == "strategist":
        return Plan(strategy="say it", steps=[PlanStep(id="s1", title="Say it")])
    if request.role == "finalizer":
        return f"answer: {MARKUP}"
    return ToolCall(name="finish", arguments={"result": f"said {MARKUP}"})


def test_text_in_square_brackets_is_shown_verbatim(db: str, workspace: Path) -> None:
    from io import StringIO

    from rich.console import Console

    from agentkit import Agent, FunctionModel
    from agentkit.cli_view import print_result

    result = Agent(FunctionModel(_bracketed), db=db, workspace=workspace).run_sync(
        f"Print {MARKUP}")
    shown = CliRunner().invoke(app, ["runs", "show", result.run_id, "--db", db],
                               env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    assert f"goal: Print {MARKUP}" in shown.output
    assert f"said {MARKUP}" in shown.output and f"answer: {MARKUP}" in shown.output
    panel = StringIO()
    print_result(Console(file=panel, width=200), result)
    assert f"answer: {MARKUP}" in panel.getvalue()
    listed = CliRunner().invoke(app, ["runs", "list", "--db", db], env={"COLUMNS": "200"})
    assert f"Print {MARKUP}" in listed.output
