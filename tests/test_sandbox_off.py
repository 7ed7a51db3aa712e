"""Without a sandbox the shell and python packs refuse to run, unless the user opted out
(`sandbox="none"`, `agentkit run --sandbox none`), which the run records. No bwrap needed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit import Agent, FunctionModel, ToolCall, UserError, load_tools
from agentkit import sandbox as sandbox_module
from agentkit.cli import _agent_for, app
from agentkit.store import Store
from tests.scripts import single_tool_step

SHELL = ToolCall(name="run_shell", arguments={"command": "echo ran > made.txt; echo ok"})
PYTHON = ToolCall(name="run_python",
                  arguments={"code": "open('made.txt', 'w').write('ran'); print('ok')"})


@pytest.fixture
def no_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)


def _run(db: str, workspace: Path, call: ToolCall, **options: Any) -> tuple[str, dict[str, Any]]:
    agent = Agent(FunctionModel(single_tool_step("Run it", call)), db=db, workspace=workspace,
                  tools=[load_tools("shell"), load_tools("python")], **options)
    result = agent.run_sync("run it")
    (recorded,) = [c for c in Store(db).get_tool_calls(result.run_id) if c.name == call.name]
    return result.run_id, recorded


@pytest.mark.usefixtures("no_bwrap")
@pytest.mark.parametrize("call", [SHELL, PYTHON], ids=["shell", "python"])
def test_without_bwrap_the_packs_refuse_and_say_how_to_install_it(
    db: str, workspace: Path, call: ToolCall
) -> None:
    _, recorded = _run(db, workspace, call)
    assert recorded.status == "error"
    assert "the `bwrap` program is not installed" in recorded.result
    assert "apt-get install bubblewrap" in recorded.result
    assert "--sandbox none" in recorded.result
    assert not (workspace / "made.txt").exists()


@pytest.mark.usefixtures("no_bwrap")
@pytest.mark.parametrize("call", [SHELL, PYTHON], ids=["shell", "python"])
def test_sandbox_none_runs_them_and_is_recorded(db: str, workspace: Path, call: ToolCall) -> None:
    run_id, recorded = _run(db, workspace, call, sandbox="none")
    assert (recorded.status, recorded.result) == ("ok", "exit code 0\nok\n")
    assert (workspace / "made.txt").read_text().strip() == "ran"
    settings = Store(db).get_run(run_id).settings
    assert (settings["sandbox"], settings["sandbox_network"]) == ("none", False)


def test_a_bwrap_that_does_not_work_is_refused_too(
    db: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: "/bin/false")
    _, recorded = _run(db, workspace, SHELL)
    assert recorded.status == "error"
    assert "/bin/false does not work here (exit 1)" in recorded.result
    assert not (workspace / "made.txt").exists()


def test_an_unknown_sandbox_is_a_user_error(db: str, workspace: Path) -> None:
    with pytest.raises(UserError, match="sandbox 'docker' is not one of 'bwrap', 'none'"):
        Agent(FunctionModel(lambda r: "x"), db=db, workspace=workspace, sandbox="docker")  # type: ignore[arg-type]


def test_even_unconfined_the_environment_is_scrubbed(
    db: str, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-shown")
    monkeypatch.setenv("AGENTKIT_TEST_VISIBLE", "passed-through")
    monkeypatch.setenv("AGENTKIT_SANDBOX_ENV", "AGENTKIT_TEST_VISIBLE, OPENAI_API_KEY")
    call = ToolCall(name="run_shell", arguments={"command": "env"})
    _, recorded = _run(db, workspace, call, sandbox="none")
    assert "AGENTKIT_TEST_VISIBLE=passed-through" in recorded.result
    assert "sk-test-never-shown" not in recorded.result
    assert "OPENAI_API_KEY" not in recorded.result


@pytest.mark.usefixtures("no_bwrap")
def test_cli_sandbox_none_warns_records_and_resumes_with_it(db: str, workspace: Path) -> None:
    model = FunctionModel(single_tool_step("Run it", SHELL))
    done = CliRunner().invoke(app, [
        "run", "run it", "--model", model.model_name, "--workspace", str(workspace),
        "--db", db, "--tools", "shell", "--sandbox", "none", "--json",
    ])
    assert done.exit_code == 0, done.output
    assert "warning: --sandbox none: shell and python tools run unconfined" in done.stderr
    (run,) = Store(db).list_runs(1)
    assert Store(db).get_run(run.id).settings["sandbox"] == "none"
    assert (workspace / "made.txt").read_text() == "ran\n"
    agent, _ = _agent_for(run.id, db, ["shell"])  # resume, approve, fork: the run's setting
    assert (agent.sandbox, agent.sandbox_network) == ("none", False)


def test_cli_refuses_an_unknown_sandbox(db: str, workspace: Path) -> None:
    done = CliRunner().invoke(app, [
        "run", "run it", "--workspace", str(workspace), "--db", db, "--sandbox", "docker",
    ])
    assert done.exit_code == 2
    assert "sandbox 'docker' is not one of 'bwrap', 'none'" in done.stderr


def test_unconfined_programs_still_get_the_timeout_and_the_output_cap(workspace: Path) -> None:
    loud = sandbox_module.run(["sh", "-c", "yes | head -c 100000"], workspace=workspace,
                              timeout=20, mode="none", limits=sandbox_module.Limits(
                                  output_bytes=1000))
    assert "[... 99000 bytes of output cut ...]" in loud.stdout
    started = time.monotonic()
    slow = sandbox_module.run(["sh", "-c", "sleep 30"], workspace=workspace, timeout=0.5,
                              mode="none")
    assert slow.timed_out and time.monotonic() - started < 3
