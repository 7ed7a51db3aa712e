"""The `agentkit` command: a thin shell over the public API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from agentkit.errors import AgentkitError, UserError

app = typer.Typer(
    name="agentkit", no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
    help="Long-horizon agents that plan explicitly. Runs are recorded in a database.",
)
runs_app = typer.Typer(no_args_is_help=True, help="Inspect recorded runs.")
app.add_typer(runs_app, name="runs")

DbOption = Annotated[
    str | None,
    typer.Option("--db", help="Database file or URL [default: $AGENTKIT_DB or ~/.agentkit/agentkit.db]"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
DEFAULT_PACKS = ["files", "shell", "python"]
# Exit codes: 0 completed, 1 run error, 2 user error, 3 the run ended without completing the goal
# (failed, or a budget spent) — its records and partial report are in the database.
EXIT_INCOMPLETE = 3


def _console() -> Any:
    from rich.console import Console

    return Console()


def _fail(error: Exception) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[bold red]error:[/] {error}", highlight=False, markup=True)
    raise typer.Exit(2 if isinstance(error, UserError) else 1)


@app.command()
def run(
    goal: Annotated[str, typer.Argument(help="What the agent should achieve.")],
    model: Annotated[str, typer.Option(help="LiteLLM model string, passed through unchanged.")] = "local/smollm2",
    workspace: Annotated[Path, typer.Option(help="Folder the tools work in.")] = Path("."),
    tools: Annotated[list[str] | None, typer.Option("--tools", help="Built-in pack (files, shell, python), .py file or folder; repeatable. Default: files, shell, python.")] = None,
    db: DbOption = None,
    max_tokens: Annotated[int | None, typer.Option(help="Token budget of the run.")] = None,
    max_model_calls: Annotated[int | None, typer.Option(help="Model-call budget of the run.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Run an agent on GOAL and print its answer."""
    from agentkit import Agent, Budget, load_tools
    from agentkit.cli_view import LiveView

    try:
        budget = Budget()
        if max_tokens is not None:
            budget.max_tokens = max_tokens
        if max_model_calls is not None:
            budget.max_model_calls = max_model_calls
        toolsets = [load_tools(ref) for ref in (tools or DEFAULT_PACKS)]
        agent = Agent(model, tools=toolsets, db=db, workspace=workspace, budget=budget)
        if as_json:
            result = agent.run_sync(goal)
        else:
            with LiveView(_console()) as view:
                result = agent.run_sync(goal, on_event=view.on_event)
    except AgentkitError as e:
        _fail(e)
        return
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from agentkit.cli_view import print_result

        print_result(_console(), result)
    if result.status != "completed":
        raise typer.Exit(EXIT_INCOMPLETE)


@runs_app.command("list")
def runs_list(db: DbOption = None, limit: int = 20, as_json: JsonOption = False) -> None:
    """List recent runs."""
    from agentkit.store import Store

    try:
        rows = Store(db).list_runs(limit)
    except AgentkitError as e:
        _fail(e)
        return
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from agentkit.cli_view import runs_table

    _console().print(runs_table(rows))


@runs_app.command("show")
def runs_show(run_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show a run: plan, subtasks, tool calls, usage and answer."""
    from agentkit.cli_view import run_details
    from agentkit.store import Store

    try:
        store = Store(db)
        details = run_details(store, run_id)
    except AgentkitError as e:
        _fail(e)
        return
    if as_json:
        typer.echo(json.dumps(details, indent=2, default=str))
        return
    from agentkit.cli_view import print_details

    print_details(_console(), details)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
