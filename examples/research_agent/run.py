"""A research agent: answer questions from a folder of documents, with citations.

    python examples/research_agent/run.py --model openai/gpt-4.1-mini

The corpus in `corpus/` (a dozen notes on the water system of Larkspur Bay, a fictional city) is
copied into a fresh workspace. The agent gets the `search` pack (`search_docs`, BM25 over the
workspace's markdown) and the `files` pack. It plans one step per question, searches and reads the
documents, records each fact with its source in `notes/`, and writes `report.md`, where every
fact ends with its citation `(corpus/FILE.md:LINE)`.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from agentkit import Agent, Budget, FunctionModel, RunResult, ScriptedModel, load_tools

Model = str | FunctionModel | ScriptedModel  # a LiteLLM model string, or a scripted model in tests

CORPUS = Path(__file__).resolve().parent / "corpus"
QUESTIONS = [
    "Where does the city's water come from, and what share does each source supply?",
    "How much water does the treatment plant treat per day?",
    "How much water is lost to leaks, and what does the leak programme do?",
    "How did the 2019 drought affect the water supply?",
]
GOAL = (
    "Research the water system of Larkspur Bay from the documents in corpus/ and write report.md "
    "answering the questions below. Plan one step per question: search the corpus with "
    "search_docs, read the relevant documents, and record each fact with its source in "
    "notes/ as '- fact (corpus/FILE.md:LINE)'. Then write report.md with one section per "
    "question; every fact ends with its citation (file:line).\n"
    + "\n".join(f"{number}. {question}" for number, question in enumerate(QUESTIONS, start=1))
)


def prepare_workspace(workspace: Path) -> Path:
    """Copy the corpus into `workspace/corpus`; the workspace must not exist or be empty."""
    if workspace.exists() and any(workspace.iterdir()):
        raise SystemExit(f"workspace {str(workspace)!r} is not empty; pick a new folder")
    shutil.copytree(CORPUS, workspace / "corpus")
    return workspace


def build_agent(model: Model, workspace: Path, *, db: str | Path | None = None) -> Agent:
    """The agent: the model, the `search` and `files` packs, the run recorded in the workspace."""
    return Agent(
        model,
        tools=[load_tools("search"), load_tools("files")],
        workspace=workspace,
        db=db if db is not None else workspace / ".agentkit" / "runs.db",
        budget=Budget(max_model_calls=80),
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
    workspace = prepare_workspace(args.workspace or Path(tempfile.mkdtemp(prefix="research-")))
    result = build_agent(model or args.model, workspace).run_sync(GOAL)
    print(f"workspace: {workspace}")
    print(f"run {result.run_id}: {result.status}, {result.usage.model_calls} model calls, "
          f"{result.usage.total_tokens} tokens")
    print(result.answer)
    if (workspace / "report.md").is_file():
        print(f"report: {workspace / 'report.md'}")
    return result


if __name__ == "__main__":
    main()
