"""A run records its agent: the CLI rebuilds it for resume, approve, replay and fork with no
flags (MCP servers restarted), refuses other tools without touching the run, and continues a run
that stopped on its budget when given a larger one."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentkit import Agent, Budget, FunctionModel, ToolCall, UserError, load_tools, tool
from agentkit.store import Store
from tests.scripts import HELLO_GOAL, hello_primes, single_tool_step

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "agent_models.py"


def _write(tmp_path: Path, text: str, name: str = "agent.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), "HOME": str(ROOT),
            "AGENTKIT_ALLOW_MODEL_REQUESTS": "0", "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **extra}


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentkit.cli", *args], cwd=ROOT,
                          capture_output=True, text=True, env=_env(**env))


def _hello_file(tmp_path: Path, workspace: Path, tools: str = "[files, shell]") -> Path:
    return _write(tmp_path, f"""
model: {MODELS}:main
aliases:
  fast: {{model: {MODELS}:fast, reasoning_effort: low}}
  strong: {{model: {MODELS}:main, reasoning_effort: high}}
roles: {{finalizer: {MODELS}:final}}
tools: {tools}
context: {{max_prompt_tokens: 6000}}
max_concurrency: 2
workspace: {workspace}
""")


def _rows(db: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, checkpoints included, for byte-for-byte comparisons."""
    with sqlite3.connect(db) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: sorted(conn.execute(f'SELECT * FROM "{n}"').fetchall(), key=repr)
                for n in names}


def _killed_hello_run(tmp_path: Path, db: str, workspace: Path) -> str:
    path = _hello_file(tmp_path, workspace)
    done = _cli("run", HELLO_GOAL, "--agent", str(path), "--db", db, "--json", AK_CRASH="1")
    assert done.returncode == -9, done.stderr
    [run] = Store(db).list_runs()
    assert run.status == "running"
    return run.id


def test_a_killed_run_refuses_other_tools_then_resumes_with_no_flags_as_its_file_said(
    tmp_path: Path, db: str, workspace: Path
) -> None:
    run_id = _killed_hello_run(tmp_path, db, workspace)
    recorded = Store(db).get_agent(run_id)
    assert recorded is not None
    assert recorded.spec["roles"] == {"finalizer": f"{MODELS}:final"}
    assert sorted(recorded.tools) == sorted([*load_tools("files").names, "run_shell"])
    before = _rows(db)

    refused = _cli("resume", run_id, "--db", db, "--tools", "files")

    assert refused.returncode == 2, refused.stderr
    assert f"run {run_id!r} cannot go on with these tools: missing tool(s) 'run_shell'" in (
        refused.stderr)
    assert "Nothing was changed" in refused.stderr
    assert _rows(db) == before  # byte for byte, checkpoints included

    done = _cli("resume", run_id, "--db", db, "--json")  # later, no flags: the recorded agent

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == (
        "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]")
    store = Store(db)
    calls = [(c.role, c.model) for c in store.get_model_calls(run_id)]
    # roles and tiers came back: easy subtasks on the fast tier, the finalizer on its own model
    assert calls[0] == ("strategist", "scripted/ak-main")
    assert {m for r, m in calls if r == "executor"} == {"scripted/ak-fast"}
    assert calls[-1] == ("finalizer", "scripted/ak-final")
    assert {c.request["reasoning_effort"] for c in store.get_model_calls(run_id)
            if c.role == "executor"} == {"low"}  # the tier's effort, before and after the kill
    settings = store.get_run(run_id).settings
    assert (settings["max_prompt_tokens"], settings["max_concurrency"]) == (6000, 2)
    assert [e.kind for e in store.get_events(run_id)].count("resumed") == 1


@tool(needs_approval=True)
def probe(text: str) -> str:
    """Echo the text."""
    return text


@tool(name="probe", needs_approval=True)
def probe_v2(text: str, loud: bool) -> str:
    """Echo the text, maybe loudly."""
    return text.upper() if loud else text


def test_approve_refuses_a_tool_whose_schema_changed(db: str, workspace: Path) -> None:
    script = single_tool_step("Probe", ToolCall(name="probe", arguments={"text": "hi"}))
    paused = Agent(FunctionModel(script), tools=[probe], db=db, workspace=workspace).run_sync("p")
    assert paused.status == "awaiting_approval"
    before = _rows(db)

    other = Agent(FunctionModel(script), tools=[probe_v2], db=db, workspace=workspace)
    with pytest.raises(UserError, match=r"tool\(s\) whose schema changed 'probe'"):
        other.approve_sync(paused.run_id, True)

    assert _rows(db) == before
    same = Agent(FunctionModel(script), tools=[probe], db=db, workspace=workspace)
    assert same.approve_sync(paused.run_id, True).status == "completed"


def test_a_budget_exhausted_run_goes_on_with_a_larger_budget(
    tmp_path: Path, db: str, workspace: Path
) -> None:
    path = _hello_file(tmp_path, workspace)
    first = _cli("run", HELLO_GOAL, "--agent", str(path), "--db", db, "--json",
                 "--max-model-calls", "3")
    assert first.returncode == 3, first.stderr
    stopped = json.loads(first.stdout)
    assert stopped["status"] == "budget_exhausted"
    run_id = stopped["run_id"]

    same = _cli("resume", run_id, "--db", db)
    assert same.returncode == 2
    assert "resume it with a larger one, e.g. agentkit resume" in same.stderr

    done = _cli("resume", run_id, "--db", db, "--json", "--max-model-calls", "50")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["status"] == "completed"
    assert result["answer"] == "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]"
    store = Store(db)
    recorded = store.get_agent(run_id)
    assert recorded is not None and recorded.spec["budget"]["max_model_calls"] == 50
    writes = [c for c in store.get_tool_calls(run_id) if c.name == "write_file"]
    assert len(writes) == 1  # the work done before the stop was not redone


def test_a_run_of_a_python_built_scripted_model_says_how_to_resume_it_from_python(
    db: str, workspace: Path
) -> None:
    agent = Agent(FunctionModel(hello_primes, name="py-only"), tools=[load_tools("files")],
                  db=db, workspace=workspace, budget=Budget(max_model_calls=2))
    stopped = agent.run_sync(HELLO_GOAL)
    assert stopped.status == "budget_exhausted"

    done = _cli("resume", stopped.run_id, "--db", db, "--max-model-calls", "50")

    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "used the scripted model 'scripted/py-only', built in Python without a factory" in (
        lines[0])
    assert f".run_sync_resume({stopped.run_id!r})" in lines[0]


def test_a_killed_run_with_an_mcp_server_resumes_from_its_record_alone(
    tmp_path: Path, db: str, workspace: Path
) -> None:
    """The run's MCP server (stdio, with a side effect) comes from its agent file; after a
    SIGKILL, `agentkit resume RUN` with no flags restarts it, and the server's own ledger shows
    every mutating call exactly once."""
    ledger = tmp_path / "ledger.txt"
    path = _write(tmp_path, f"""
model: {MODELS}:ledger
tools: []
mcpServers:
  ledger:
    command: {sys.executable}
    args: [{ROOT / "tests" / "mcp_ledger_server.py"}]
    env: {{LEDGER_FILE: "${{LEDGER_FILE}}"}}
    prefix: ledger_
workspace: {workspace}
""")
    killed = _cli("run", "Record one and two", "--agent", str(path), "--db", db, "--json",
                  AK_CRASH="1", LEDGER_FILE=str(ledger))
    assert killed.returncode == -9, killed.stderr
    assert ledger.read_text() == "one\ntwo\n"  # both written; the second's answer never came
    [run] = Store(db).list_runs()
    assert run.status == "running"
    recorded = Store(db).get_agent(run.id)
    assert recorded is not None
    # the secret's name is recorded, never its value
    assert recorded.spec["mcpServers"]["ledger"]["env"] == {"LEDGER_FILE": "${LEDGER_FILE}"}
    assert str(ledger) not in json.dumps(recorded.spec)

    done = _cli("resume", run.id, "--db", db, "--json", LEDGER_FILE=str(ledger))

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == "recorded one and two"
    assert ledger.read_text() == "one\ntwo\n"  # nothing repeated, nothing lost
    appends = [c for c in Store(db).get_tool_calls(run.id) if c.name == "ledger_append_entry"]
    assert [(json.loads(c.arguments)["text"], c.status) for c in appends] == [
        ("one", "ok"), ("two", "ok")]


def test_approve_and_replay_from_the_cli_rebuild_the_recorded_agent(
    tmp_path: Path, db: str, workspace: Path
) -> None:
    path = _hello_file(tmp_path, workspace)
    path.write_text(path.read_text() + "needs_approval: [run_shell]\n")
    paused = _cli("run", HELLO_GOAL, "--agent", str(path), "--db", db, "--json")
    assert paused.returncode == 3, paused.stderr
    waiting = json.loads(paused.stdout)
    assert waiting["status"] == "awaiting_approval"
    assert [a["name"] for a in waiting["approvals"]] == ["run_shell"]

    approved = _cli("approve", waiting["run_id"], "--db", db, "--json")  # no --tools, no model

    assert approved.returncode == 0, approved.stderr
    assert json.loads(approved.stdout)["answer"] == (
        "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]")

    plain = _hello_file(tmp_path, workspace)
    first = _cli("run", HELLO_GOAL, "--agent", str(plain), "--db", db, "--json")
    assert first.returncode == 0, first.stderr
    first_id = json.loads(first.stdout)["run_id"]
    replayed = _cli("replay", first_id, "--db", db, "--json")
    assert replayed.returncode == 0, replayed.stderr
    assert json.loads(replayed.stdout)["event_log_identical"] is True
    forked = _cli("fork", first_id, "--version", "1", "--db", db, "--json")
    assert forked.returncode == 0, forked.stderr
    fork_id = json.loads(forked.stdout)["run_id"]
    # the work up to plan version 1 is carried over; the finalizer is still on its own model
    assert [(c.role, c.model) for c in Store(db).get_model_calls(fork_id)] == [
        ("finalizer", "scripted/ak-final")]


@pytest.fixture
def auth_url(tmp_path: Path) -> Iterator[str]:
    """tests/mcp_auth_server.py on a free port, wanting the bearer token 's3cret'."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    with (tmp_path / "auth-server.log").open("w") as log:
        server = ROOT / "tests" / "mcp_auth_server.py"
        process = subprocess.Popen([sys.executable, str(server), str(port), "s3cret"],
                                   stdout=log, stderr=log)
        try:
            for _ in range(600):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    assert process.poll() is None, "the auth MCP server exited"
                    time.sleep(0.05)
            yield f"http://127.0.0.1:{port}/mcp"
        finally:
            process.terminate()
            process.wait(10)


def test_an_http_mcp_server_gets_the_headers_of_the_agent_file(
    tmp_path: Path, db: str, workspace: Path, auth_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "adder.py").write_text(
        "from agentkit import FunctionModel, ToolCall\n"
        "from tests.scripts import single_tool_step\n"
        "def make():\n"
        "    return FunctionModel(single_tool_step(\n"
        "        'Add', ToolCall(name='add', arguments={'a': 2, 'b': 3})))\n")
    path = _write(tmp_path, f"""
model: adder.py:make
tools: []
mcpServers:
  adder: {{url: "{auth_url}", headers: {{Authorization: "Bearer ${{ADDER_TOKEN}}"}}}}
workspace: {workspace}
""")
    monkeypatch.setenv("ADDER_TOKEN", "wrong")
    with pytest.raises(UserError, match="cannot connect to mcp http"):
        Agent.from_file(path, db=db).run_sync("add 2 and 3")

    monkeypatch.setenv("ADDER_TOKEN", "s3cret")
    result = Agent.from_file(path, db=db).run_sync("add 2 and 3")

    assert (result.status, result.answer) == ("completed", "5")
    recorded = Store(db).get_agent(result.run_id)
    assert recorded is not None
    assert recorded.spec["mcpServers"]["adder"]["headers"] == {
        "Authorization": "Bearer ${ADDER_TOKEN}"}
