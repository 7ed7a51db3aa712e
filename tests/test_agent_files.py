"""Agent files: parsed with errors naming the file, the field and the fix; a published schema;
`agentkit run --agent`, `agentkit agents check`, and runs that record their agent so the CLI
rebuilds it (resume refuses other tools, and goes on past a spent budget when given more)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from agentkit import Agent, AgentFileError, FunctionModel, load_tools
from agentkit import agent_file as af
from agentkit.cli import app
from agentkit.store import Store
from tests.scripts import HELLO_GOAL, hello_primes

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "tests" / "agent_models.py"


def _write(tmp_path: Path, text: str, name: str = "agent.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


# --- parsing and the schema -----------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("model: x\ntols: [files]\n", r"field 'tols': unknown field; remove it or fix its spelling"),
    ("budget: {max_tokens: lots}\n", r"field 'budget.max_tokens': Input should be a valid int"),
    ("budget: {max_token: 5}\n", r"field 'budget.max_token': unknown field"),
    ("roles: {planner: x}\n",
     r"field 'roles', key 'planner': 'planner' is not allowed; input should be 'strategist'"),
    ("aliases: {fast: 3}\n", r"field 'aliases.fast': a tier is a model string or \{model: "),
    ("aliases: {fast: {model: x, effort: high}}\n", r"field 'aliases.fast.effort': unknown"),
    ("mcpServers: {gh: {args: [x]}}\n",
     r"field 'mcpServers.gh': an MCP server needs 'command' \(stdio\) or 'url'"),
    ("mcpServers: {gh: {url: ftp://x}}\n",
     r"field 'mcpServers.gh.url': 'ftp://x' is not an http\(s\) URL"),
    ("mcpServers: {gh: {command: npx, headers: {a: b}}}\n",
     r"field 'mcpServers.gh.headers': unknown field"),
    ("sandbox: {mode: docker}\n", r"field 'sandbox.mode': 'docker' is not allowed; input should"),
    ("model: [a\n", r"is not valid YAML or JSON at line 2, column 1"),
    ("- model\n", r"must be a mapping of fields such as 'model' and 'tools'; found list"),
])
def test_bad_agent_files_name_the_file_the_field_and_the_fix(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(AgentFileError, match=expected) as info:
        af.load(path)
    assert f"agent file {str(path)!r}" in str(info.value)


def test_json_agent_files_load_and_relative_paths_are_the_files_own(tmp_path: Path) -> None:
    (tmp_path / "mine.py").write_text("")
    path = _write(tmp_path, json.dumps({
        "model": "mine.py:make", "tools": ["files", "mine.py"], "workspace": "ws",
        "mcpServers": {"s": {"command": "python", "cwd": "srv"}},
    }), "agent.json")
    spec = af.load(path)
    assert spec.model == f"{tmp_path / 'mine.py'}:make"
    assert spec.tools == ["files", str(tmp_path / "mine.py")]
    assert spec.workspace == str(tmp_path / "ws")
    server = spec.mcp_servers["s"]
    assert isinstance(server, af.StdioServer) and server.cwd == str(tmp_path / "srv")


def test_the_committed_schema_is_the_generated_one() -> None:
    assert json.loads((ROOT / "docs" / "agent.schema.json").read_text()) == af.schema()


def test_the_example_agent_file_passes_agents_check() -> None:
    done = CliRunner().invoke(app, ["agents", "check", str(ROOT / "examples" / "agent.yaml")])
    assert done.exit_code == 0, done.output
    assert "declares an agent with 9 tools" in done.output
    assert "3 MCP server(s)" in done.output


def test_agents_check_exits_2_on_a_bad_file_or_reference(tmp_path: Path) -> None:
    bad = _write(tmp_path, "tools: [files, no_such_pack]\n")
    done = CliRunner().invoke(app, ["agents", "check", str(bad)])
    assert done.exit_code == 2
    assert "tools 'no_such_pack' is neither a built-in pack" in done.output
    factory = _write(tmp_path, f"model: {MODELS}:nope\n", "f.yaml")
    done = CliRunner().invoke(app, ["agents", "check", str(factory)])
    assert done.exit_code == 2
    assert "has no function 'nope'" in done.output


def test_agent_from_file_builds_tiers_roles_budget_and_approvals(tmp_path: Path) -> None:
    path = _write(tmp_path, f"""
model: {MODELS}:main
aliases: {{fast: {MODELS}:fast, strong: {{model: {MODELS}:main, reasoning_effort: high}}}}
roles: {{finalizer: fast}}
tools: [files]
budget: {{max_tokens: 1234, max_cost_usd: 0.5}}
context: {{max_prompt_tokens: 3000}}
max_concurrency: 2
needs_approval: [write_file]
""")
    agent = Agent.from_file(path, db=str(tmp_path / "runs.db"))
    assert agent.model == "scripted/ak-main"
    assert agent.aliases == {"fast": "scripted/ak-fast", "strong": "scripted/ak-main"}
    assert agent.roles == {"finalizer": "scripted/ak-fast"}
    assert agent.reasoning_efforts == {"strong": "high"}
    assert (agent.budget.max_tokens, agent.budget.max_cost_usd) == (1234, 0.5)
    assert (agent.max_prompt_tokens, agent.max_concurrency) == (3000, 2)
    assert agent.needs_approval == ["write_file"]


# --- from the command line: run, resume, refuse --------------------------------------------


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
  fast: {MODELS}:fast
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


def test_cli_resume_with_no_flags_rebuilds_the_agent_of_the_file(
    tmp_path: Path, db: str, workspace: Path
) -> None:
    run_id = _killed_hello_run(tmp_path, db, workspace)
    recorded = Store(db).get_agent(run_id)
    assert recorded is not None
    assert recorded.spec["roles"] == {"finalizer": f"{MODELS}:final"}
    assert sorted(recorded.tools) == sorted([*load_tools("files").names, "run_shell"])

    done = _cli("resume", run_id, "--db", db, "--json")  # from another folder's point of view

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["answer"] == (
        "hello.py prints [2, 3, 5, 7, 11, 13, 17, 19, 23, 29]")
    store = Store(db)
    calls = [(c.role, c.model) for c in store.get_model_calls(run_id)]
    # roles and tiers came back: easy subtasks on the fast tier, the finalizer on its own model
    assert calls[0] == ("strategist", "scripted/ak-main")
    assert {m for r, m in calls if r == "executor"} == {"scripted/ak-fast"}
    assert calls[-1] == ("finalizer", "scripted/ak-final")
    settings = store.get_run(run_id).settings
    assert (settings["max_prompt_tokens"], settings["max_concurrency"]) == (6000, 2)
    assert [e.kind for e in store.get_events(run_id)].count("resumed") == 1


def test_resume_with_a_tool_missing_refuses_and_changes_nothing(
    tmp_path: Path, db: str, workspace: Path
) -> None:
    run_id = _killed_hello_run(tmp_path, db, workspace)
    before = _rows(db)

    refused = _cli("resume", run_id, "--db", db, "--tools", "files")

    assert refused.returncode == 2, refused.stderr
    assert f"run {run_id!r} cannot go on with these tools: missing tool(s) 'run_shell'" in (
        refused.stderr)
    assert "Nothing was changed" in refused.stderr
    assert _rows(db) == before  # byte for byte, checkpoints included

    done = _cli("resume", run_id, "--db", db, "--json")  # later, with the right tools
    assert done.returncode == 0, done.stderr
    assert Store(db).get_run(run_id).status == "completed"


def test_resume_refuses_a_tool_whose_schema_changed(db: str, workspace: Path) -> None:
    from agentkit import tool

    @tool
    def probe(text: str) -> str:
        """Echo."""
        return text

    @tool(name="probe")
    def probe_v2(text: str, loud: bool) -> str:
        """Echo, maybe loudly."""
        return text

    store = Store(db)
    agent = Agent(FunctionModel(hello_primes), tools=[probe], db=db, workspace=workspace)
    run_id = store.create_run(goal="g", model="m", workspace=str(workspace), settings={})
    agent._record_agent(run_id, agent.tools)
    other = Agent(FunctionModel(hello_primes), tools=[probe_v2], db=db, workspace=workspace)
    with pytest.raises(Exception, match=r"tool\(s\) whose schema changed 'probe'"):
        other.run_sync_resume(run_id)
    assert store.get_run(run_id).status == "running"


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
                  db=db, workspace=workspace)
    store = agent.store
    run_id = store.create_run(goal="g", model=agent.model, workspace=str(workspace),
                              settings={})
    agent._record_agent(run_id, agent.tools)

    done = CliRunner().invoke(app, ["resume", run_id, "--db", db])

    assert done.exit_code == 2
    lines = done.output.strip().splitlines()
    assert len(lines) == 1, done.output
    assert "used the scripted model 'scripted/py-only', built in Python without a factory" in (
        lines[0])
    assert f".run_sync_resume({run_id!r})" in lines[0]


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
