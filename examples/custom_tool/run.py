"""An agent with your own tools: an installed plugin and a folder of tool modules.

    pip install -e examples/custom_tool/pkg
    python examples/custom_tool/run.py --model openai/gpt-4.1-mini

`pkg/` is a tiny package that declares an entry point in the group `agentkit.tools`; once it is
installed, `load_tools("textstats")` finds it by name. `my_tools/` is a plain folder: every `*.py`
file in it (not starting with `_`) is imported and its top-level `@tool` functions are taken.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from agentkit import Agent, FunctionModel, RunResult, ScriptedModel, Toolset, UserError, load_tools

Model = str | FunctionModel | ScriptedModel  # a LiteLLM model string, or a scripted model in tests

HERE = Path(__file__).resolve().parent
GOAL = (
    "How many words are in README.md, how long is 41 km in miles, and how many days are there "
    "from 2025-03-01 to 2025-12-25? Use the tools."
)


def my_tools() -> list[Toolset]:
    """The plugin (by its entry-point name) and the folder (by its path)."""
    try:
        plugin = load_tools("textstats")
    except UserError as e:
        raise UserError(f"{e}\nInstall the example plugin first: "
                        "pip install -e examples/custom_tool/pkg") from e
    return [plugin, load_tools(HERE / "my_tools")]


def build_agent(model: Model, workspace: Path, *, db: str | Path | None = None) -> Agent:
    return Agent(model, tools=my_tools(), workspace=workspace,
                 db=db if db is not None else workspace / ".agentkit" / "runs.db")


def main(argv: list[str] | None = None, *, model: Model | None = None) -> RunResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=(
        "a LiteLLM model string, e.g. openai/gpt-4.1-mini, with its API key set (required: the "
        "embedded local/smollm2 cannot do this task; tests/test_examples.py runs it with a "
        "scripted model)"))
    parser.add_argument("--workspace", type=Path, help="a folder (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.model is None and model is None:
        parser.error("--model is required: this example needs a capable model (e.g. --model "
                     "openai/gpt-4.1-mini with OPENAI_API_KEY set); the embedded local/smollm2 "
                     "only shows that the pipeline runs")
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="custom-tool-"))
    workspace.mkdir(parents=True, exist_ok=True)
    shutil.copy(HERE / "README.md", workspace / "README.md")  # something to count
    result = build_agent(model or args.model, workspace).run_sync(GOAL)
    print(f"run {result.run_id}: {result.status}")
    print(result.answer)
    return result


if __name__ == "__main__":
    main()
