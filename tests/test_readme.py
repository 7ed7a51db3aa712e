"""The README's Python snippets run (with a scripted model in place of the real one), and every
`agentkit` command it shows exists."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from agentkit import FunctionModel, ModelRequest, Plan, PlanStep, ToolCall
from agentkit.cli import app

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
SNIPPETS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def _results(request: ModelRequest) -> list[str]:
    return [m["content"] for m in request.messages if m["role"] == "tool"]


def counter(request: ModelRequest) -> object:
    """Reads README.md, counts its words with the snippet's own tool, reports the count."""
    if request.role == "strategist":
        return Plan(strategy="read, then count",
                    steps=[PlanStep(id="s1", title="Count", expected_calls=3)])
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Count: ", 1)[-1]
    results = _results(request)
    if not results:
        return ToolCall(name="read_file", arguments={"path": "README.md"})
    if len(results) == 1:
        return ToolCall(name="word_count", arguments={"text": results[0]})
    return ToolCall(name="finish", arguments={"result": f"{results[1]} words"})


def clock(request: ModelRequest) -> object:
    """Asks the MCP time server for Tokyo's time and reports it."""
    if request.role == "strategist":
        return Plan(strategy="ask the clock", steps=[PlanStep(id="s1", title="Ask")])
    if request.role == "finalizer":
        return request.last_user_text.rsplit("Ask: ", 1)[-1]
    results = _results(request)
    if not results:
        return ToolCall(name="get_current_time", arguments={"timezone": "Asia/Tokyo"})
    return ToolCall(name="finish", arguments={"result": json.loads(results[0])["datetime"]})


def _run(snippet: str, model: FunctionModel, original: str, folder: Path,
         capture: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    assert original in snippet
    monkeypatch.chdir(folder)
    exec(compile(snippet.replace(original, model.model_name), "README.md", "exec"), {})
    return capture.readouterr().out


def test_python_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    # A README that fits one page of tool output (a longer one comes back a page at a time).
    text = README[:8000]
    (tmp_path / "README.md").write_text(text)
    out = _run(SNIPPETS[0], FunctionModel(counter), "local/smollm2", tmp_path, capsys,
               monkeypatch)
    status, answer = out.split(" ", 1)
    assert status == "completed"
    assert answer.startswith(f"{len(text.split())} words")


def test_mcp_example_runs(tmp_path: Path, capfd: pytest.CaptureFixture[str],
                          monkeypatch: pytest.MonkeyPatch) -> None:
    # capfd, not capsys: the MCP server process needs a real stderr file descriptor.
    out = _run(SNIPPETS[1], FunctionModel(clock), "openai/gpt-4.1-mini", tmp_path, capfd,
               monkeypatch)
    assert out.startswith("completed ") and "+09:00" in out


def test_every_command_in_the_readme_exists() -> None:
    commands = set(re.findall(r"(?:^|`)agentkit (\w+)(?: (\w+))?", README, flags=re.M))
    assert {"run", "runs", "plans", "resume", "replay", "fork", "tools"} <= {c for c, _ in commands}
    for command, sub in commands:
        args = [command, sub, "--help"] if command in ("runs", "plans", "tools") else [
            command, "--help"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, (command, sub, result.output)


def test_the_readme_agent_file_is_the_example_one() -> None:
    import yaml

    [block] = re.findall(r"```yaml\n(agentkit_agent: .*?)```", README, flags=re.S)
    shipped = Path(__file__).resolve().parent.parent / "examples" / "agent.yaml"
    assert yaml.safe_load(block) == yaml.safe_load(shipped.read_text())
