"""Rendering for the CLI with rich: the live view of a run, tables, run details."""

from __future__ import annotations

from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from agentkit.context import cache_share
from agentkit.planning import calibration, horizon
from agentkit.planning.horizon import ArchivedStep
from agentkit.schema import Effort, Plan, RunResult
from agentkit.store import PlanVersion, RunRow, Store
from agentkit.store.records import to_dict

_STYLE = {"done": "green", "failed": "red", "running": "yellow", "pending": "dim", "skipped": "dim"}


class LiveView:
    """A live table of plan steps and subtasks with their status, tokens and tool calls."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.rows: dict[str, dict[str, Any]] = {}
        self.plan_line = "planning…"
        self.tokens = 0
        self._live = Live(self._render(), console=console, refresh_per_second=8, transient=False)

    def __enter__(self) -> LiveView:
        self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._live.__exit__(*exc)  # type: ignore[arg-type]

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        sid = data.get("subtask_id")
        if kind == "plan":
            self.plan_line = (
                f"plan v{data['version']} ({data['trigger']}): {len(data['steps'])} steps"
            )
        elif kind == "subtask":
            self.rows[data["id"]] = {
                "title": data["title"],
                "status": "pending",
                "tokens": 0,
                "tools": 0,
                "step": data["step"],
            }
        elif kind == "subtask_started" and sid in self.rows:
            self.rows[sid]["status"] = "running"
        elif kind == "subtask_finished" and sid in self.rows:
            self.rows[sid]["status"] = data["status"]
        elif kind == "model_call":
            self.tokens += data.get("tokens") or 0
            if sid in self.rows:
                self.rows[sid]["tokens"] += data.get("tokens") or 0
        elif kind == "tool_call" and sid in self.rows:
            self.rows[sid]["tools"] += 1
        self._live.update(self._render())

    def _render(self) -> Group:
        table = Table(show_edge=False, expand=False)
        for column in ("subtask", "step", "title", "status", "tokens", "tools"):
            table.add_column(column)
        for sid, row in self.rows.items():
            style = _STYLE.get(row["status"], "")
            table.add_row(
                Text(sid),
                Text(row["step"]),
                Text(row["title"][:50]),
                Text(row["status"], style=style),
                str(row["tokens"]),
                str(row["tools"]),
            )
        return Group(Text(f"{self.plan_line} · {self.tokens} tokens", style="bold"), table)


def print_result(console: Console, result: RunResult) -> None:
    style = "green" if result.status == "completed" else "red"
    console.print(
        Panel(
            Text(result.answer or "(no answer)"),  # the model's text, never read as markup
            title=f"[{style}]{escape(result.status)}[/]",
            subtitle=Text(f"run {result.run_id}"),
        )
    )
    u = result.usage
    console.print(
        f"{u.model_calls} model calls · {u.tool_calls} tool calls · {u.total_tokens} tokens "
        f"· ${u.cost_usd:.4f} · details: agentkit runs show {result.run_id}",
        highlight=False,
    )


def runs_table(rows: list[RunRow]) -> Table:
    import datetime as dt

    table = Table(show_edge=False)
    for column in ("run", "status", "model", "created", "goal"):
        table.add_column(column)
    for r in rows:
        created = dt.datetime.fromtimestamp(r.created_at).strftime("%Y-%m-%d %H:%M")
        table.add_row(
            Text(r.id),
            Text(r.status, style=_STYLE.get(r.status, "")),
            Text(r.model),
            created,
            Text(r.goal[:60]),
        )
    return table


def run_details(store: Store, run_id: str) -> dict[str, Any]:
    run = store.get_run(run_id)
    rid = run.id
    found = store.get_plan(rid)
    subtasks = store.get_subtasks(rid)
    return {
        "run": to_dict(run),
        "plan_version": found.version if found else 0,
        "plan": found.plan.model_dump() if found else None,
        "archived": [] if found is None else [
            a.model_dump() for a in horizon.archived(subtasks, found.plan, found.version)],
        "subtasks": [s.model_dump() for s in subtasks],
        "escalations": [e.model_dump() for e in calibration.escalations(subtasks)],
        "tool_calls": [
            {k: getattr(c, k) for k in ("subtask_id", "name", "arguments", "status", "result")}
            for c in store.get_tool_calls(rid)
        ],
        "usage": store.usage(rid).model_dump(),
        "prompt_cache": cache_share(store, rid).as_dict(),
    }


def print_details(console: Console, d: dict[str, Any]) -> None:
    run = d["run"]
    console.print(f"[bold]run {escape(run['id'])}[/] · {escape(run['status'])} · "
                  f"{escape(run['model'])}", highlight=False)
    console.print(Text(f"goal: {run['goal']}"), highlight=False)
    if d["plan"]:
        console.print(f"\n[bold]plan v{d['plan_version']}[/]")
        _print_plan_text(console, Plan.model_validate(d["plan"]).render())
        _print_archived(console, [ArchivedStep.model_validate(a) for a in d["archived"]])
    table = Table(title="subtasks", show_edge=False)
    for column in ("id", "step", "status", "effort", "result"):
        table.add_column(column)
    raised = {e["subtask_id"]: e["after"] for e in d["escalations"]}
    for s in d["subtasks"]:
        effort = calibration.describe(Effort.model_validate(s["effort"]))
        if s["id"] in raised:
            effort += f" ↑ after {raised[s['id']]} failed"
        table.add_row(
            Text(s["id"]),
            Text(s["step_id"]),
            Text(s["status"], style=_STYLE.get(s["status"], "")),
            Text(effort),
            Text((s["result"] or "")[:70]),
        )
    console.print(table)
    tools = Table(title="tool calls", show_edge=False)
    for column in ("subtask", "tool", "status", "arguments"):
        tools.add_column(column)
    for c in d["tool_calls"]:
        tools.add_row(Text(c["subtask_id"] or ""), Text(c["name"]), Text(c["status"]),
                      Text(c["arguments"][:60]))
    console.print(tools)
    u = d["usage"]
    console.print(
        f"usage: {u['model_calls']} model calls, {u['tool_calls']} tool calls, "
        f"{u['prompt_tokens']}+{u['completion_tokens']} tokens, ${u['cost_usd']:.4f}"
    )
    if (cache := d.get("prompt_cache")) is not None:
        console.print(_cache_line(cache), highlight=False)
    if run["error"]:
        console.print(f"[red]error:[/] {escape(run['error'])}", highlight=False)
    console.print(Panel(Text(run["answer"] or "(no answer)"), title="answer"))


def print_plan(
    console: Console, entry: PlanVersion, *, archived: list[ArchivedStep] | None = None
) -> None:
    plan = entry.plan
    console.print(
        f"[bold]plan v{entry.version}[/] ({escape(entry.trigger)}): {escape(entry.reason)}",
        highlight=False,
    )
    _print_plan_text(console, plan.render(details=True))
    _print_archived(console, archived or [])


def _print_archived(console: Console, archived: list[ArchivedStep], shown: int = 10) -> None:
    """Finished steps that left the plan: a count, then the latest `shown` of them."""
    if not archived:
        return
    console.print(f"  archived: {len(archived)} finished step(s)", highlight=False)
    if len(archived) > shown:
        console.print(f"    … {len(archived) - shown} earlier", highlight=False)
    for a in archived[-shown:]:
        console.print(f"    ✓ {a.step_id}. {a.title} ({a.subtask_id}): {a.result[:60]}",
                      highlight=False, markup=False)


def _print_plan_text(console: Console, text: str) -> None:
    for line in text.splitlines():
        console.print(f"  {line}", highlight=False, markup=False)


def _cache_line(cache: dict[str, Any]) -> str:
    return (
        f"prompt cache: {cache['cache_share']:.1%} of {cache['prompt_tokens']} prompt tokens "
        f"repeat the previous call's prefix · compaction: {cache['compaction_calls']} "
        f"summarizer calls, {cache['compaction_tokens']} tokens, "
        f"{cache['compaction_share']:.1%} of all tokens"
    )
