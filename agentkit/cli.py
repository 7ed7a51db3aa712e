"""The `agentkit` command: a thin shell over the public API.

Commands let agentkit's errors propagate; `_Commands.invoke`, the one handler, prints them
without a traceback and exits 2 for a `UserError` (the message says how to fix it), 1 otherwise.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer.core import TyperGroup

from agentkit.errors import AgentkitError, UserError

if TYPE_CHECKING:
    from agentkit.store import PlanVersion, RunRow


class _Commands(TyperGroup):
    """The command group of `agentkit`: every command, subcommands included, runs inside it."""

    def invoke(self, ctx: Any) -> Any:  # a click context (typer vendors click privately)
        try:
            return super().invoke(ctx)
        except AgentkitError as e:
            _fail(e)


app = typer.Typer(
    name="agentkit",
    cls=_Commands,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    help="Long-horizon agents that plan explicitly. Runs are recorded in a database.",
)
runs_app = typer.Typer(no_args_is_help=True, help="Inspect recorded runs.")
app.add_typer(runs_app, name="runs")
tools_app = typer.Typer(no_args_is_help=True, help="Inspect the tools an agent would get.")
app.add_typer(tools_app, name="tools")
plans_app = typer.Typer(no_args_is_help=True, help="Show, compare and export plan versions.")
app.add_typer(plans_app, name="plans")
agents_app = typer.Typer(no_args_is_help=True, help="Check agent files.")
app.add_typer(agents_app, name="agents")

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database file or URL [default: $AGENTKIT_DB or ~/.agentkit/agentkit.db]"
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]
SandboxOption = Annotated[str | None, typer.Option(
    help="How shell and python tools are confined: bwrap (bubblewrap), or none to run them "
    "unconfined (recorded with the run) [default: bwrap, or the agent file's]")]
SandboxNetworkOption = Annotated[bool, typer.Option(
    "--sandbox-network", help="Let sandboxed programs use the network.")]
AgentOption = Annotated[Path | None, typer.Option(
    "--agent", help="An agent file (YAML or JSON); the other flags override its fields.")]
MaxTokens = Annotated[int | None, typer.Option(help="Token budget of the run.")]
MaxCost = Annotated[float | None, typer.Option(help="Cost budget of the run, in USD.")]
MaxModelCalls = Annotated[int | None, typer.Option(help="Model-call budget of the run.")]
MaxToolCalls = Annotated[int | None, typer.Option(help="Tool-call budget of the run.")]
MaxSeconds = Annotated[float | None, typer.Option(help="Time budget of the run, in seconds.")]
DEFAULT_PACKS = ["files", "shell", "python"]
# Exit codes: 0 completed, 1 run error, 2 user error, 3 the run ended without completing the goal
# (failed, or a budget spent) — its records and partial report are in the database.
EXIT_INCOMPLETE = 3


def _console() -> Any:
    from rich.console import Console

    return Console()


def _fail(error: AgentkitError) -> NoReturn:
    """Print `error` on stderr, without a traceback, and exit 2 (user error) or 1."""
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(
        f"[bold red]error:[/] {escape(str(error))}", highlight=False
    )
    raise typer.Exit(2 if isinstance(error, UserError) else 1)


GoalArgument = Annotated[
    str | None,
    typer.Argument(
        help="What the agent should achieve (optional with --plan when the file has a goal)."
    ),
]
PlanOption = Annotated[
    Path | None,
    typer.Option("--plan", help="Run this saved plan file instead of asking for a first plan."),
]
FrozenOption = Annotated[
    bool, typer.Option("--frozen-plan", help="With --plan: never revise the plan.")
]
RunModelOption = Annotated[str | None, typer.Option(
    help="LiteLLM model string, passed through unchanged, or a factory (module:function, "
    "file.py:function) [default: local/smollm2, or the agent file's]")]
WorkspaceOption = Annotated[
    Path | None, typer.Option(help="Folder the tools work in [default: .]")]
RunToolsOption = Annotated[
    list[str] | None,
    typer.Option(
        "--tools",
        help="A built-in pack or installed plugin (see `agentkit tools list`), a .py file or "
        "a folder; repeatable. Default: files, shell, python.",
    ),
]


@app.command()
def run(
    goal: GoalArgument = None,
    plan: PlanOption = None,
    frozen_plan: FrozenOption = False,
    agent_path: AgentOption = None,
    model: RunModelOption = None,
    workspace: WorkspaceOption = None,
    tools: RunToolsOption = None,
    db: DbOption = None,
    max_tokens: MaxTokens = None,
    max_cost_usd: MaxCost = None,
    max_model_calls: MaxModelCalls = None,
    max_tool_calls: MaxToolCalls = None,
    max_seconds: MaxSeconds = None,
    max_prompt_tokens: Annotated[int | None, typer.Option(
        help="A cap on every executor prompt (context.max_prompt_tokens).")] = None,
    max_concurrency: Annotated[int | None, typer.Option(
        help="How many subtasks run at once [default: 4].")] = None,
    sandbox: SandboxOption = None,
    sandbox_network: SandboxNetworkOption = False,
    as_json: JsonOption = False,
) -> None:
    """Run an agent on GOAL and print its answer."""
    from agentkit import Agent
    from agentkit.agent_file import AgentFile, load, override
    from agentkit.cli_view import LiveView
    from agentkit.planning import plan_file
    from agentkit.sandbox import SANDBOX_MODES

    if sandbox is not None and sandbox not in SANDBOX_MODES:
        raise UserError(
            f"sandbox {sandbox!r} is not one of {', '.join(map(repr, SANDBOX_MODES))}; use "
            "'bwrap' (the default) or 'none' to run shell and python tools unconfined"
        )
    saved = None
    if plan is not None:
        saved, saved_goal = plan_file.load(plan)
        goal = goal or saved_goal
    spec = override(
        load(agent_path) if agent_path else AgentFile(), base=Path.cwd(), model=model,
        tools=tools, workspace=workspace, max_tokens=max_tokens, max_cost_usd=max_cost_usd,
        max_model_calls=max_model_calls, max_tool_calls=max_tool_calls, max_seconds=max_seconds,
        max_revisions=0 if frozen_plan else None, max_prompt_tokens=max_prompt_tokens,
        max_concurrency=max_concurrency, sandbox=sandbox, sandbox_network=sandbox_network or None,
    )
    if spec.workspace is None:
        spec = override(spec, base=Path.cwd(), workspace=Path("."))
    agent = Agent.from_spec(spec, db=db)
    if agent.sandbox == "none":
        _warn(SANDBOX_OFF)
    if as_json:
        result = agent.run_sync(goal or "", plan=saved)
    else:
        with LiveView(_console()) as view:
            result = agent.run_sync(goal or "", plan=saved, on_event=view.on_event)
    while result.status == "awaiting_approval" and not as_json:
        result = agent.approve_sync(result.run_id, _ask(result.approvals))
    _show(result, as_json)


SANDBOX_OFF = (
    "--sandbox none: shell and python tools run unconfined, with your files, network and "
    "processes within reach (only their environment is scrubbed); the run records sandbox='none'"
)


def _warn(message: str) -> None:
    from rich.console import Console
    from rich.markup import escape

    Console(stderr=True, soft_wrap=True).print(
        f"[bold yellow]warning:[/] {escape(message)}", highlight=False
    )


def _ask(approvals: list[dict[str, Any]]) -> dict[str, bool]:
    """Ask yes or no for each tool call that waits on approval."""
    return {
        item["id"]: typer.confirm(
            f"Allow {item['name']}({item['arguments']}) in subtask {item['subtask_id']}?"
        )
        for item in approvals
    }


ToolsOption = Annotated[
    list[str] | None,
    typer.Option("--tools", help="The run's tools, as for run [default: files, shell, python]."),
]
ModelOption = Annotated[str | None, typer.Option(help="Model [default: the run's].")]


def _agent_for(
    run_id: str, db: str | None, tools: list[str] | None, model: str | None = None,
    *, verb: str = "resume", **budget: Any,
) -> tuple[Any, RunRow]:
    """The agent a recorded run was made with, rebuilt from its record (models, tools, MCP
    servers, roles, tiers, budgets, context, sandbox, approvals); flags given override it."""
    from agentkit import Agent
    from agentkit.agent_file import AgentFile, override
    from agentkit.store import Store

    store = Store(db)
    run = store.get_run(run_id)
    recorded = store.get_agent(run.id)
    if recorded is None:
        return _legacy_agent_for(run, db, tools, model), run
    spec = AgentFile.model_validate(recorded.spec)
    if spec.tools is None and tools is None:  # given in Python: the packs and files they came from
        from agentkit.agent_build import refs_from_prints

        tools = refs_from_prints(recorded.tools)
    spec = override(spec, base=Path.cwd(), model=model, tools=tools, **budget)
    if verb != "replay":
        _check_rebuildable(run.id, spec, verb)
    agent = Agent.from_spec(spec, db=db)
    if agent.sandbox == "none":
        _warn(SANDBOX_OFF)
    return agent, run


PYTHON_VERBS = {"resume": "run_sync_resume(run_id)", "approve": "approve_sync(run_id, True)",
                "fork": "fork_sync(run_id, version)", "replay": "replay_sync(run_id)"}


def _check_rebuildable(run_id: str, spec: Any, verb: str) -> None:
    """A scripted model given as an object in Python cannot be rebuilt here: say how."""
    from agentkit.agent_file import Tier

    models = [spec.model, *spec.roles.values(),
              *(t.model if isinstance(t, Tier) else t for t in spec.aliases.values())]
    for name in models:
        if name.startswith("scripted/") and not _alive(name):
            raise UserError(
                f"run {run_id!r} used the scripted model {name!r}, built in Python without a "
                f"factory reference; {verb} it from Python: Agent(<that model>, tools=<its "
                f"tools>, db=...).{PYTHON_VERBS[verb].replace('run_id', repr(run_id))}"
            )


def _alive(model: str) -> bool:
    """Whether the scripted model `model` exists in this process (a caller in Python made it)."""
    from agentkit.errors import ModelConfigError
    from agentkit.models.scripted import lookup

    try:
        lookup(model.removeprefix("scripted/"))
    except ModelConfigError:
        return False
    return True


def _legacy_agent_for(run: RunRow, db: str | None, tools: list[str] | None,
                      model: str | None) -> Any:
    """The agent of a run recorded before agentkit recorded agents: its settings, the tools
    given (or the default packs)."""
    from agentkit import Agent, Budget, load_tools

    settings = run.settings
    agent = Agent(
        model or run.model, tools=[load_tools(r) for r in (tools or DEFAULT_PACKS)], db=db,
        workspace=run.workspace,
        budget=Budget.model_validate(settings.get("budget", {})),
        sandbox=settings.get("sandbox", "bwrap"),
        sandbox_network=bool(settings.get("sandbox_network", False)),
    )
    if agent.sandbox == "none":
        _warn(SANDBOX_OFF)
    return agent


def _show(result: Any, as_json: bool) -> None:
    """Print a run's result; exit 3 when it did not complete."""
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
    else:
        from agentkit.cli_view import print_result

        print_result(_console(), result)
    if result.status != "completed":
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command()
def batch(
    tasks_file: Annotated[Path, typer.Argument(
        help="JSON lines, one task each: {\"goal\": ..., \"check\": CMD, \"repeat\": K, "
        "\"id\": NAME} (check, repeat and id optional).")],
    agent_path: Annotated[Path, typer.Option("--agent", help="The agent file every task runs.")],
    workers: Annotated[int, typer.Option(
        help="Worker processes (with --ray local: the local Ray instance's CPUs).")] = 2,
    ray: Annotated[str | None, typer.Option(
        "--ray", help="Run on Ray: 'local' starts a local instance, else a cluster address "
        "(needs the ray extra).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Finish a batch that was cut off: skip finished tasks, resume "
        "interrupted runs.")] = False,
    name: Annotated[str | None, typer.Option(
        "--batch", help="The batch's name in the store (default: the tasks file's name).")] = None,
    workspaces: Annotated[Path | None, typer.Option(
        help="Folder of the tasks' workspaces, one per try (default: ./batches/BATCH).")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run every task of TASKS_FILE with one agent, many at once, all recorded in one store;
    print success rate, pass^k, tokens and cost (exit 3 when a task did not pass)."""
    from agentkit.batch import run_batch
    from agentkit.cli_batch import batch_progress, batch_table

    with batch_progress(_console(), quiet=as_json) as progress:
        summary = run_batch(tasks_file, agent_path, db=db, workers=workers, ray=ray,
                            resume=resume, batch=name, workspaces=workspaces,
                            on_progress=progress)
    if as_json:
        import dataclasses

        typer.echo(json.dumps({**dataclasses.asdict(summary),
                               "success_rate": summary.success_rate}, indent=2))
    else:
        _console().print(batch_table(summary))
    if summary.passed < summary.tries:
        raise typer.Exit(EXIT_INCOMPLETE)


@app.command()
def approve(
    run_id: str,
    deny: Annotated[bool, typer.Option("--deny", help="Deny instead of allowing.")] = False,
    ask: Annotated[bool, typer.Option("--ask", help="Ask for each pending call.")] = False,
    tools: ToolsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Allow (or --deny) the tool calls a paused run waits on, and continue it."""
    agent, run = _agent_for(run_id, db, tools, verb="approve")
    pending = agent.result(run.id).approvals
    result = agent.approve_sync(run.id, _ask(pending) if ask else not deny)
    _show(result, as_json)


@app.command()
def resume(
    run_id: str, model: ModelOption = None, tools: ToolsOption = None, db: DbOption = None,
    max_tokens: MaxTokens = None,
    max_cost_usd: MaxCost = None,
    max_model_calls: MaxModelCalls = None,
    max_tool_calls: MaxToolCalls = None,
    max_seconds: MaxSeconds = None,
    as_json: JsonOption = False,
) -> None:
    """Continue a run whose process died, from its last checkpoint, with the agent it recorded.

    A run that stopped on its budget goes on when a budget flag makes that budget larger.
    Other tools than the run had (missing, changed) are refused with exit 2; nothing changes.
    """
    agent, run = _agent_for(run_id, db, tools, model, max_tokens=max_tokens,
                            max_cost_usd=max_cost_usd, max_model_calls=max_model_calls,
                            max_tool_calls=max_tool_calls, max_seconds=max_seconds)
    result = agent.run_sync_resume(run.id)
    _show(result, as_json)


@app.command()
def fork(
    run_id: str,
    version: Annotated[int, typer.Option(help="The plan version to start from.")],
    model: ModelOption = None, tools: ToolsOption = None, db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Start a new run from a plan version of RUN and the work done up to it."""
    agent, run = _agent_for(run_id, db, tools, model, verb="fork")
    result = agent.fork_sync(run.id, version)
    _show(result, as_json)


@app.command()
def replay(
    run_id: str, tools: ToolsOption = None, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Re-run a recorded run from its record: zero model calls, no tool executed."""
    agent, run = _agent_for(run_id, db, tools, verb="replay")
    result = agent.replay_sync(run.id)
    same = event_log(agent.store, run.id) == event_log(agent.store, result.run_id)
    summary = {
        "original": run.id,
        "replay": result.run_id,
        "status": result.status,
        "model_calls_made": 0,
        "event_log_identical": same,
    }
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
    else:
        verdict = "identical" if same else "DIFFERENT"
        typer.echo(
            f"replayed run {run.id} as {result.run_id}: status {result.status}, "
            f"0 model calls, event log {verdict}"
        )
    if not same:
        raise typer.Exit(1)


def event_log(store: Any, run_id: str) -> list[dict[str, Any]]:
    """A run's events without its own bookkeeping (resumes), for comparing runs."""
    return [
        {"kind": e.kind, "subtask_id": e.subtask_id, "data": e.data}
        for e in store.get_events(run_id)
        if e.kind != "resumed"
    ]


@runs_app.command("list")
def runs_list(db: DbOption = None, limit: int = 20, as_json: JsonOption = False) -> None:
    """List recent runs."""
    from agentkit.store import Store

    rows = Store.for_reading(db).list_runs(limit)
    if as_json:
        fields = ("id", "goal", "status", "model", "created_at")
        typer.echo(json.dumps([{k: getattr(r, k) for k in fields} for r in rows], indent=2))
        return
    from agentkit.cli_view import runs_table

    _console().print(runs_table(rows))


@runs_app.command("show")
def runs_show(run_id: str, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show a run: plan, subtasks, tool calls, usage and answer."""
    from agentkit.cli_view import run_details
    from agentkit.store import Store

    store = Store.for_reading(db)
    details = run_details(store, run_id)
    if as_json:
        typer.echo(json.dumps(details, indent=2, default=str))
        return
    from agentkit.cli_view import print_details

    print_details(_console(), details)


@plans_app.command("show")
def plans_show(
    run_id: str,
    version: Annotated[int | None, typer.Option(help="Plan version [default: latest]")] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show a plan version of a run, with its trigger and reason."""
    from agentkit.cli_view import print_plan
    from agentkit.store import Store
    from agentkit.store.records import to_dict

    store = Store.for_reading(db)
    entry = _plan_version(store, run_id, version)
    gone = _archived(store, entry)
    if as_json:
        typer.echo(json.dumps({**to_dict(entry), "archived": [a.model_dump() for a in gone]},
                              indent=2))
        return
    print_plan(_console(), entry, archived=gone)


@plans_app.command("diff")
def plans_diff(
    run_id: str, a: int, b: int, db: DbOption = None, as_json: JsonOption = False
) -> None:
    """Compare plan versions A and B: steps added, removed, changed, and why B was made."""
    from agentkit.planning import plan_file
    from agentkit.store import Store

    store = Store.for_reading(db)
    old, new = _plan_version(store, run_id, a), _plan_version(store, run_id, b)
    changes = plan_file.diff(old.plan, new.plan)
    data = {**changes.model_dump(), "trigger": new.trigger, "reason": new.reason}
    # A step done by then left the plan as archived, not removed.
    done = {a.step_id for a in _archived(store, new)}
    data["archived"] = [step for step in data["removed"] if step in done]
    data["removed"] = [step for step in data["removed"] if step not in done]
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    console = _console()
    # Plan text is the model's: printed as it is, never read as rich markup.
    console.print(f"v{a} → v{b} ({new.trigger}): {new.reason}", highlight=False, markup=False)
    for key, mark in (("added", "+"), ("removed", "-"), ("changed", "~"), ("archived", "✓")):
        for step in data[key]:
            console.print(f"  {mark} {step}", highlight=False, markup=False)


@plans_app.command("export")
def plans_export(
    run_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="The YAML file to write.")],
    version: Annotated[int | None, typer.Option(help="Plan version [default: latest]")] = None,
    db: DbOption = None,
) -> None:
    """Export a plan version to a YAML file that `agentkit run --plan` runs again."""
    from agentkit.planning import plan_file
    from agentkit.store import Store

    store = Store.for_reading(db)
    entry = _plan_version(store, run_id, version)
    goal = store.get_run(run_id).goal
    plan_file.export(entry.plan, goal, output)
    typer.echo(f"wrote plan v{entry.version} of run {entry.run_id} to {output}")


def _archived(store: Any, entry: PlanVersion) -> list[Any]:
    """The finished steps that plan version `entry` no longer holds (`horizon.archived`)."""
    from agentkit.planning import horizon

    return horizon.archived(store.get_subtasks(entry.run_id), entry.plan, entry.version)


def _plan_version(store: Any, run_id: str, version: int | None) -> PlanVersion:
    run = store.get_run(run_id)
    versions = store.plan_versions(run.id)
    if not versions:
        raise UserError(f"run {run.id!r} has no plan yet")
    if version is None:
        return versions[-1]
    for entry in versions:
        if entry.version == version:
            return entry
    raise UserError(
        f"run {run.id!r} has no plan version {version}; it has versions "
        f"{', '.join(str(v.version) for v in versions)}"
    )


@app.command("report")
def report(
    run_id: str,
    output: Annotated[Path, typer.Option("-o", "--output", help="The HTML file to write.")] = Path(
        "run.html"),
    db: DbOption = None,
) -> None:
    """Write one self-contained HTML report of a run: outcome, plan versions, subtask timeline,
    tool calls, tokens and cost per role, compaction."""
    from agentkit import report as run_report
    from agentkit.store import Store

    written = run_report.write(Store(db), run_id, output)
    typer.echo(f"wrote {written} ({written.stat().st_size} bytes)")


@app.command("export")
def export(
    run_id: Annotated[str | None, typer.Argument(help="The run to export (or --all).")] = None,
    fmt: Annotated[str, typer.Option("--format", help="jsonl: whole trajectories (run, plans, "
                                     "model calls, tool calls); chat: one OpenAI-style "
                                     "fine-tuning example per model call.")] = "jsonl",
    all_runs: Annotated[bool, typer.Option("--all", help="Export every run (see --status, "
                                           "--limit) instead of one.")] = False,
    status: Annotated[list[str] | None, typer.Option(
        help="With --all: only runs with this status; repeatable.")] = None,
    limit: Annotated[int, typer.Option(help="With --all: at most this many runs, newest "
                                       "first.")] = 1000,
    output: Annotated[Path | None, typer.Option("-o", "--output", help="Write to this file "
                                                "[default: standard output].")] = None,
    db: DbOption = None,
) -> None:
    """Export recorded runs as JSON lines for fine-tuning and evaluation (the schema is in the
    docstring of agentkit.export)."""
    from agentkit.export import check_format, lines
    from agentkit.store import Store

    if (run_id is None) == (not all_runs):
        raise UserError("give one run id, or --all (with --status/--limit to filter), e.g. "
                        "agentkit export RUN -o run.jsonl")
    check_format(fmt)
    store = Store(db)
    if run_id is not None:
        ids = [store.get_run(run_id).id]
    else:
        ids = [r.id for r in store.list_runs(limit) if not status or r.status in status]
    found = lines(store, ids, fmt)
    written = (json.dumps(line, ensure_ascii=False) + "\n" for line in found)
    if output is None:
        for text in written:
            sys.stdout.write(text)
        return
    with output.open("w", encoding="utf-8") as out:
        count = sum(out.write(text) > 0 for text in written)
    typer.echo(f"wrote {count} lines from {len(ids)} run(s) to {output}")


@tools_app.command("list")
def tools_list(
    tools: Annotated[
        list[str] | None,
        typer.Option(
            "--tools",
            help=(
                "A built-in pack or installed plugin (listed at the end), a .py file or a folder; "
                "repeatable. Default: files, shell, python."
            ),
        ),
    ] = None,
    agent_path: Annotated[Path | None, typer.Option(
        "--agent", help="The tools of this agent file, its MCP servers' too (started to ask "
        "them); --tools overrides its tools.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List tools with their sources and signatures."""
    import asyncio

    from agentkit import Agent, Toolset, load_tools
    from agentkit.agent_file import load, override
    from agentkit.plugins import builtin_packs, installed_plugins

    if agent_path is not None:
        spec = override(load(agent_path), base=Path.cwd(), tools=tools)
        found = asyncio.run(Agent.from_spec(spec).all_tools())
    else:
        found = Toolset([load_tools(ref) for ref in (tools or DEFAULT_PACKS)])
    rows = [
        {
            "name": t.name,
            "source": t.source,
            "signature": t.signature(),
            "description": t.description.splitlines()[0],
        }
        for t in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    from rich.table import Table
    from rich.text import Text

    table = Table(show_edge=False)
    for column in ("name", "signature", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(*(Text(row[k]) for k in ("name", "signature", "source")))  # `list[str]`
    console = _console()
    console.print(table)
    plugins = ", ".join(installed_plugins()) or "none"
    packs = ", ".join(builtin_packs()) or "none"
    console.print(
        f"{len(rows)} tools; installed plugins: {plugins}; built-in packs: {packs}",
        highlight=False, markup=False,
    )


@agents_app.command("check")
def agents_check(
    file: Annotated[Path, typer.Argument(help="The agent file (YAML or JSON).")],
    as_json: JsonOption = False,
) -> None:
    """Validate an agent file and print the agent it declares (exit 2 when it is invalid).

    Model factories are called and tools loaded; MCP servers are not started.
    """
    import os

    import yaml

    from agentkit.agent_build import parts, variables
    from agentkit.agent_file import load
    from agentkit.errors import AgentFileError
    from agentkit.plugins import load_tools
    from agentkit.tools import Toolset

    spec = load(file)
    parts(spec, tools=False)
    refs = DEFAULT_PACKS if spec.tools is None else spec.tools
    found = Toolset([load_tools(ref) for ref in refs])
    needed = variables(spec)
    unknown = [n for n in spec.needs_approval if n not in found]
    if unknown and not spec.mcp_servers:  # else they may be the servers' (known once started)
        raise AgentFileError(
            f"agent file {str(file)!r}: field 'needs_approval' names "
            f"{', '.join(map(repr, unknown))}, which the agent does not have; its tools: "
            f"{', '.join(found.names) or 'none'}"
        )
    if as_json:
        typer.echo(json.dumps({"agent": spec.record(), "tools": found.names,
                               "environment": needed}, indent=2))
        return
    typer.echo(yaml.safe_dump(spec.record(), sort_keys=False, allow_unicode=True), nl=False)
    unset = [n for n in needed if n not in os.environ]
    typer.echo(
        f"ok: {file} declares an agent with {len(found)} tools "
        f"({', '.join(found.names) or 'none'}) and {len(spec.mcp_servers)} MCP server(s)"
        + (f"; set {', '.join(unset)} before running it" if unset else "")
    )


def main() -> None:
    from agentkit import tracing

    try:
        shutdown = tracing.configure_from_env()  # spans where the OTEL_* variables say
    except UserError as e:
        sys.stderr.write(f"error: {e}\n")
        sys.exit(2)
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)
    finally:
        if shutdown is not None:
            shutdown()  # flush the spans still queued for the exporter


if __name__ == "__main__":
    main()
