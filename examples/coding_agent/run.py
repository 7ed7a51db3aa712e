"""A coding agent: make the failing tests of a small repository pass.

    python examples/coding_agent/run.py --model anthropic/claude-sonnet-4-5

The repository in `repo/` (two modules, two test files, two bugs) is copied into a fresh
workspace; the agent gets the `files` and `shell` tool packs and the goal below. It plans, runs
the tests with `run_shell`, reads and edits the code with the file tools, and the monitor revises
the plan when a subtask ends with the tests still red. Every step is recorded in the run database
(`agentkit runs show RUN_ID --db WORKSPACE/.agentkit/runs.db`).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from agentkit import Agent, Budget, FunctionModel, RunResult, ScriptedModel, load_tools

Model = str | FunctionModel | ScriptedModel  # a LiteLLM model string, or a scripted model in tests

REPO = Path(__file__).resolve().parent / "repo"
GOAL = (
    "Make the failing tests in this repository pass without changing the tests. "
    "Run them with `python -m pytest -q`; fix the code under test with edit_file."
)


def prepare_workspace(workspace: Path) -> Path:
    """Copy the example repository into `workspace`, which must not exist or be empty."""
    if workspace.exists() and any(workspace.iterdir()):
        raise SystemExit(f"workspace {str(workspace)!r} is not empty; pick a new folder")
    shutil.copytree(REPO, workspace, dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    return workspace


def build_agent(model: Model, workspace: Path, *, db: str | Path | None = None) -> Agent:
    """The agent: the model, the `files` and `shell` packs, the run recorded in the workspace."""
    return Agent(
        model,
        tools=[load_tools("files"), load_tools("shell")],
        workspace=workspace,
        db=db if db is not None else workspace / ".agentkit" / "runs.db",
        budget=Budget(max_model_calls=80, max_revisions=3),
    )


def main(argv: list[str] | None = None, *, model: Model | None = None) -> RunResult:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", help=(
        "a LiteLLM model string, e.g. openai/gpt-4.1-mini, with its API key set (required: the "
        "embedded local/smollm2 cannot do this task; tests/test_examples.py runs it with a "
        "scripted model)"))
    parser.add_argument("--workspace", type=Path, help="a new folder (default: a temp folder)")
    args = parser.parse_args(argv)
    if args.model is None and model is None:
        parser.error("--model is required: this example needs a capable model (e.g. --model "
                     "openai/gpt-4.1-mini with OPENAI_API_KEY set); the embedded local/smollm2 "
                     "only shows that the pipeline runs")
    workspace = prepare_workspace(args.workspace or Path(tempfile.mkdtemp(prefix="coding-")))
    agent = build_agent(model or args.model, workspace)
    result = agent.run_sync(GOAL)
    print(f"workspace: {workspace}")
    print(f"run {result.run_id}: {result.status} after {result.plan_version} plan version(s), "
          f"{result.usage.model_calls} model calls, {result.usage.total_tokens} tokens")
    print(result.answer)
    return result


if __name__ == "__main__":
    main()
