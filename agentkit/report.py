"""`agentkit report RUN -o run.html`: one self-contained HTML file of what a run did.

It holds the goal and outcome; each plan version with its trigger, reason and what changed; the
subtasks on a timeline with their status; each subtask's tool calls with arguments and results
(long ones folded); tokens and cost per role, over time as a chart; and every compaction with
what it kept. Everything comes from the run's records; nothing is fetched when it is viewed.
"""

from __future__ import annotations

from collections import defaultdict
from html import escape
from pathlib import Path

from agentkit.charts import Bar, cumulative, timeline
from agentkit.planning.horizon import archived
from agentkit.planning.plan_file import diff
from agentkit.schema import Subtask
from agentkit.store import ModelCallRow, PlanVersion, Store, ToolCallRow

FOLD_AT = 600  # characters: a longer argument or result is folded behind its first lines

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#212121}
h1{font-size:20px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #eee;padding:4px 6px;
text-align:left;vertical-align:top}pre{white-space:pre-wrap;word-break:break-word;margin:0;
font-size:12px;background:#fafafa;padding:4px}.status{font-weight:600}.s-done,.s-completed{color:
#2e7d32}.s-failed,.s-error,.s-invalid,.s-timeout{color:#c62828}.muted{color:#757575}
svg text{font-size:11px}.label{fill:#333}.axis{fill:#757575}
"""

SCRIPT = """
document.querySelectorAll("button[data-open]").forEach(function (button) {
  button.addEventListener("click", function () {
    var open = button.dataset.open === "yes";
    document.querySelectorAll("details").forEach(function (d) { d.open = open; });
  });
});
document.documentElement.dataset.ready = "yes";
"""


def render(store: Store, run_id: str) -> str:
    """The report of `run_id` as one HTML document."""
    run = store.get_run(run_id)
    calls, tools = store.get_model_calls(run.id), store.get_tool_calls(run.id)
    subtasks = store.get_subtasks(run.id)
    # The clock starts at the first model call (not at process start-up) and ends at the last
    # record, so the charts show the work.
    start = min((_began(c) for c in calls), default=run.created_at)
    end = max([start, *(c.created_at for c in calls), *(t.created_at for t in tools)])
    sections = [
        _outcome(store, run_id),
        _plans(store.plan_versions(run.id), subtasks),
        _timeline(subtasks, calls, tools, start, end - start),
        _subtasks(subtasks, tools),
        _usage(calls, start, end - start),
        _compaction(store, run.id),
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>agentkit run {escape(run.id)}</title><style>{STYLE}</style></head><body>"
        + "".join(sections)
        + f"<script>{SCRIPT}</script></body></html>"
    )


def write(store: Store, run_id: str, path: str | Path) -> Path:
    """Write the report of `run_id` to `path`; returns the path."""
    target = Path(path)
    target.write_text(render(store, run_id), encoding="utf-8")
    return target


def _outcome(store: Store, run_id: str) -> str:
    run, usage = store.get_run(run_id), store.usage(run_id)
    rows = [("status", f'<span class="status s-{escape(run.status)}">{escape(run.status)}</span>'),
            ("model", escape(run.model)), ("answer", _text(run.answer or "(none)")),
            ("tokens", f"{usage.prompt_tokens} prompt + {usage.completion_tokens} completion"),
            ("cost", f"${usage.cost_usd:.4f}"),
            ("calls", f"{usage.model_calls} model calls, {usage.tool_calls} tool calls")]
    if run.error:
        rows.insert(3, ("error", _text(run.error)))
    if run.parent_run_id:
        rows.append(("parent run", escape(run.parent_run_id)))
    table = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return (f'<section id="outcome"><h1>Run {escape(run.id)}</h1>'
            f'<p class="goal"><b>Goal:</b> {escape(run.goal)}</p><table>{table}</table>'
            '<p><button data-open="yes">expand all</button> '
            '<button data-open="no">collapse all</button></p></section>')


def _plans(versions: list[PlanVersion], subtasks: list[Subtask]) -> str:
    parts = ['<section id="plans"><h2>Plan versions</h2>']
    previous = None
    for version in versions:
        change = ""
        if previous is not None:
            found = diff(previous.plan, version.plan)
            # A step done by then left the plan as archived (`horizon.archived`), not removed.
            done = {a.step_id for a in archived(subtasks, version.plan, version.version)}
            gone = [s for s in found.removed if s in done]
            removed = [s for s in found.removed if s not in done]
            change = (f"<p class='muted'>added {', '.join(found.added) or 'none'}; removed "
                      f"{', '.join(removed) or 'none'}; changed "
                      f"{', '.join(found.changed) or 'none'}"
                      + (f"; archived (done) {', '.join(gone)}" if gone else "") + "</p>")
        steps = "".join(
            f"<li><b>{escape(s.id)}</b> {escape(s.title)} <span class='muted'>"
            f"({escape(s.difficulty)}{_after(s.depends_on)})</span></li>"
            for s in version.plan.steps)
        parts.append(
            f'<div class="plan-version" data-version="{version.version}"><h3>v{version.version}'
            f" · {escape(version.trigger)}</h3><p>{escape(version.reason)}</p>{change}"
            f"<p><i>{escape(version.plan.strategy)}</i></p><ol>{steps}</ol></div>")
        previous = version
    return "".join(parts) + "</section>"


def _timeline(subtasks: list[Subtask], calls: list[ModelCallRow], tools: list[ToolCallRow],
              start: float, total: float) -> str:
    spans: dict[str, list[float]] = defaultdict(list)
    for call in calls:
        if call.subtask_id:
            spans[call.subtask_id] += [_began(call) - start, call.created_at - start]
    for tool in tools:
        if tool.subtask_id:
            spans[tool.subtask_id].append(tool.created_at - start)
    bars = [Bar(label=f"{s.id} {s.title}", status=s.status, start=min(spans[s.id]),
                end=max(spans[s.id])) for s in subtasks if spans.get(s.id)]
    return ('<section id="timeline"><h2>Subtasks over time</h2>'
            f"{timeline(bars, total)}</section>")


def _subtasks(subtasks: list[Subtask], tools: list[ToolCallRow]) -> str:
    by_subtask: dict[str | None, list[ToolCallRow]] = defaultdict(list)
    for tool in tools:
        by_subtask[tool.subtask_id].append(tool)
    parts = ['<section id="subtasks"><h2>Subtasks and tool calls</h2>']
    for s in subtasks:
        rows = "".join(
            f'<tr class="tool-call"><td>{escape(t.name)}</td><td class="status s-'
            f'{escape(t.status)}">{escape(t.status)}</td><td>{_text(t.arguments)}</td>'
            f"<td>{_text(t.result)}</td></tr>" for t in by_subtask.get(s.id, []))
        parts.append(
            f'<details class="subtask" data-id="{escape(s.id)}" open><summary><b>{escape(s.id)}'
            f"</b> {escape(s.title)} · <span class='status s-{escape(s.status)}'>"
            f"{escape(s.status)}</span> · plan v{s.plan_version} · "
            f"{escape(s.effort.model or 'default model')}"
            f"</summary><p>{_text(s.result or '')}</p>{_tool_table(rows)}</details>")
    return "".join(parts) + "</section>"


def _tool_table(rows: str) -> str:
    if not rows:
        return "<p class='muted'>No tool calls.</p>"
    return ("<table><tr><th>tool</th><th>status</th><th>arguments</th><th>result</th></tr>"
            f"{rows}</table>")


def _usage(calls: list[ModelCallRow], start: float, total: float) -> str:
    series: dict[str, list[tuple[float, int]]] = defaultdict(list)
    cost: dict[str, float] = defaultdict(float)
    for call in calls:
        series[call.role].append((call.created_at - start,
                                  call.prompt_tokens + call.completion_tokens))
        cost[call.role] += call.cost_usd
    rows = "".join(
        f"<tr><td>{escape(role)}</td><td>{len(points)}</td>"
        f"<td>{sum(t for _, t in points)}</td><td>${cost[role]:.4f}</td></tr>"
        for role, points in sorted(series.items()))
    return ('<section id="usage"><h2>Tokens and cost per role</h2>'
            f"{cumulative(dict(series), total)}<table><tr><th>role</th><th>calls</th>"
            f"<th>tokens</th><th>cost</th></tr>{rows}</table></section>")


def _compaction(store: Store, run_id: str) -> str:
    events = [e for e in store.get_events(run_id) if e.kind == "context_compacted"]
    rows = "".join(
        f'<tr class="compaction"><td>{escape(e.subtask_id or "")}</td>'
        f"<td>{escape(', '.join(e.data.get('tiers', [])))}</td>"
        f"<td>{e.data.get('tokens_before')} → {e.data.get('tokens_after')}</td>"
        f"<td>{e.data.get('threshold')}</td></tr>" for e in events)
    kept = "".join(
        f"<details><summary>summary of messages {s.first_message}–{s.last_message} "
        f"({escape(s.subtask_id or '')}, level {s.level})</summary>{_text(s.text)}</details>"
        for s in store.get_summaries(run_id))
    if not events:
        return ('<section id="compaction"><h2>Compaction</h2><p>None: every prompt fit.</p>'
                "</section>")
    return ('<section id="compaction"><h2>Compaction</h2><table><tr><th>subtask</th>'
            "<th>tiers</th><th>prompt tokens</th><th>threshold</th></tr>"
            f"{rows}</table>{kept}</section>")


def _text(value: str) -> str:
    """`value` escaped; folded behind its start when long."""
    if len(value) <= FOLD_AT:
        return f"<pre>{escape(value)}</pre>"
    return (f"<details class='folded'><summary><code>{escape(value[:160])}…</code> "
            f"({len(value)} characters)</summary><pre>{escape(value)}</pre></details>")


def _after(depends_on: list[str]) -> str:
    return f", after {escape(', '.join(depends_on))}" if depends_on else ""


def _began(call: ModelCallRow) -> float:
    return call.created_at - call.latency_ms / 1000
