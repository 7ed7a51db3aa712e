"""Agent files: parsed with errors naming the file, the field and the fix; a published schema;
`agentkit agents check`; `Agent.from_file`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import Agent, AgentFileError, ModelRequest
from agentkit import agent_file as af
from agentkit.cli import app
from agentkit.models import ModelClient

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
    assert "declares an agent with 13 tools" in done.output
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


async def test_a_tiers_reasoning_effort_reaches_its_calls(tmp_path: Path) -> None:
    log = tmp_path / "efforts.txt"
    (tmp_path / "factory.py").write_text(f"""
from agentkit import FunctionModel

def answer(request):
    with open({str(log)!r}, "a") as f:
        f.write(f"{{request.reasoning_effort}}\\n")
    return "ok"

def make():
    return FunctionModel(answer)
""")
    path = _write(tmp_path, "model: factory.py:make\n"
                  "aliases: {strong: {model: factory.py:make, reasoning_effort: high}}\n")
    agent = Agent.from_file(path)
    client = ModelClient(default=agent.model, aliases=agent.aliases,
                         efforts=agent.reasoning_efforts)
    messages = [{"role": "user", "content": "hi"}]
    await client.complete(ModelRequest(role="executor", messages=messages, model="strong"))
    await client.complete(ModelRequest(role="executor", messages=messages))
    assert log.read_text().splitlines() == ["high", "None"]


def test_tools_given_in_python_are_rebuilt_from_where_they_came_from() -> None:
    from agentkit import Toolset, load_tools
    from agentkit.agent_build import refs_from_prints, tool_prints

    folder = ROOT / "examples" / "custom_tool" / "my_tools"
    given = Toolset([load_tools("files"), load_tools(folder)])
    refs = refs_from_prints(tool_prints(given))
    assert refs[0] == "files"
    rebuilt = Toolset([load_tools(ref) for ref in refs])
    assert tool_prints(rebuilt) == tool_prints(given)


def test_tools_list_with_an_agent_file_lists_its_mcp_servers_tools(tmp_path: Path) -> None:
    path = _write(tmp_path, f"""
tools: [files]
mcpServers:
  demo: {{command: {sys.executable}, args: [{ROOT / "tests" / "mcp_demo_server.py"}],
          prefix: demo_}}
needs_approval: [demo_add]
""")
    done = CliRunner().invoke(app, ["tools", "list", "--agent", str(path), "--json"])
    assert done.exit_code == 0, done.output
    rows = {row["name"]: row for row in json.loads(done.stdout)}
    assert {"read_file", "demo_add", "demo_notes_lookup"} <= set(rows)
    assert rows["demo_add"]["signature"] == "demo_add(a: integer, b: integer)"
    assert "mcp stdio" in rows["demo_add"]["source"]


def test_a_binary_agent_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    binary = tmp_path / "agent.yaml"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)))
    done = CliRunner().invoke(app, ["agents", "check", str(binary)])
    assert done.exit_code == 2
    assert "is not UTF-8 text (byte 0 is 0x89); an agent file is YAML or JSON" in done.output
