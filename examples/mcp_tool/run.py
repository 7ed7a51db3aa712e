"""An agent that uses a real MCP server's tools: mcp-server-time over stdio.

    pip install 'agentkit[mcp]' mcp-server-time
    python examples/mcp_tool/run.py --model openai/gpt-4.1-mini

`MCPToolset` starts the server (`python -m mcp_server_time --local-timezone UTC`), lists its tools
(`get_current_time`, `convert_time`) and turns each into an agentkit tool whose JSON Schema is the
server's. The connection lives for the `async with` block, so the run happens inside it.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from agentkit import Agent, FunctionModel, RunResult, ScriptedModel
from agentkit.mcp import MCPToolset

Model = str | FunctionModel | ScriptedModel  # a LiteLLM model string, or a scripted model in tests

SERVER = [sys.executable, "-m", "mcp_server_time", "--local-timezone", "UTC"]
GOAL = (
    "A call is set for 15:00 UTC today. What time is that in Tokyo (Asia/Tokyo) and in "
    "New York (America/New_York)? Use the time tools."
)


async def run(model: Model, workspace: Path, *, db: str | Path | None = None) -> RunResult:
    async with MCPToolset(command=SERVER[0], args=SERVER[1:]) as time_tools:
        agent = Agent(model, tools=[time_tools], workspace=workspace,
                      db=db if db is not None else workspace / ".agentkit" / "runs.db")
        return await agent.run(GOAL)


def main(argv: list[str] | None = None) -> RunResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=(
        "a LiteLLM model string, e.g. openai/gpt-4.1-mini, with its API key set (required: the "
        "embedded local/smollm2 cannot do this task; tests/test_examples.py runs it with a "
        "scripted model)"))
    parser.add_argument("--workspace", type=Path, help="a folder (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.model is None:
        parser.error("--model is required: this example needs a capable model (e.g. --model "
                     "openai/gpt-4.1-mini with OPENAI_API_KEY set); the embedded local/smollm2 "
                     "only shows that the pipeline runs")
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="mcp-tool-"))
    workspace.mkdir(parents=True, exist_ok=True)
    result = asyncio.run(run(args.model, workspace))
    print(f"run {result.run_id}: {result.status}")
    print(result.answer)
    return result


if __name__ == "__main__":
    main()
