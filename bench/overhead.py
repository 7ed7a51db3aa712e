"""Framework overhead: CPU per executor round trip (one model call + one tool call).

Each framework runs N round trips with a zero-latency fake model of its own kind (the same script:
N calls of a trivial `add` tool, then stop), in a fresh interpreter per configuration, after a
3-step warm-up run there. CPU is `time.process_time()` of the whole run divided by N; peak memory
is the process's peak RSS during the run (reset before each run).

agentkit's step is split into the model client (LiteLLM's own overhead plus the scripted
provider, measured by replaying the run's executor calls through
`agentkit.models.ModelClient.complete` in isolation, same prompts and growing histories), the
tool body, and agentkit's own orchestration (total minus the two). agentkit caps a subtask at 12
steps (calibration), so the 1-subtask runs raise the subtask's step limit in-process for the
run (bench/_frameworks.py `steps_per_subtask`, no source change); the 12-subtask runs need only
ceil(N/12) steps per subtask. Ratio columns are agentkit's CPU ÷ the peer's at the same N: above 1
means agentkit is slower.
"""

from __future__ import annotations

from typing import Any

from bench import _frameworks as fw
from bench._util import median, run_worker

CONFIGS: dict[str, str] = {
    "agentkit": "agentkit as Agent.run (run db + SQLite checkpointer), 1 subtask of N steps",
    "agentkit-memory": "agentkit, in-memory checkpointer (run db still SQLite), 1 subtask",
    "agentkit-12": "agentkit as Agent.run, N steps over 12 chained subtasks",
    "langgraph-sqlite": "LangGraph ReAct + AsyncSqliteSaver",
    "langgraph": "LangGraph ReAct, no checkpointer",
    "pydantic-ai": "pydantic-ai FunctionModel, no persistence",
    "smolagents": "smolagents ToolCallingAgent, no persistence",
}
SIZES: dict[str, dict[str, Any]] = {
    "smoke": {"steps": [5], "repeats": {5: 1}},
    "full": {"steps": [50, 200, 500], "repeats": {50: 3, 200: 2, 500: 1}},
}
# Targets from issue 10 for agentkit's own orchestration.
TARGET_PERSISTED_MS = 3.0
TARGET_MEMORY_MS = 1.0


def _summarize(config: str, n: int, result: dict[str, Any]) -> dict[str, Any]:
    runs = result["runs"]
    per_step = 1000 / n
    row: dict[str, Any] = {
        "config": config, "steps": n, "repeats": len(runs),
        "cpu_ms": median([r["cpu_s"] for r in runs]) * per_step,
        "wall_ms": median([r["wall_s"] for r in runs]) * per_step,
        "tool_ms": median([r["tool_cpu_s"] for r in runs]) * per_step,
        "tool_calls": runs[0]["tool_calls"],
        "peak_rss_mib": median([r["peak_rss_mib"] for r in runs]),
        "rss_growth_mib": median([max(0.0, r["peak_rss_mib"] - r["base_rss_mib"]) for r in runs]),
    }
    if "bytes" in runs[0]:
        row["db_bytes"] = runs[0]["bytes"]
    if config.startswith("agentkit"):
        row["model_calls"] = runs[0]["model_calls"]
        row["recorded_tool_calls"] = runs[0]["recorded_tool_calls"]
    if "replay" in result:
        replay = result["replay"]
        row["model_client_ms"] = replay["cpu_s"] * per_step
        row["fake_model_ms"] = replay["fake_model_cpu_s"] * per_step
    return row


def run(size: str = "full") -> dict[str, Any]:
    spec = SIZES[size]
    measured: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for config in CONFIGS:  # one interpreter per configuration, all sizes in it
        if config in ("pydantic-ai", "smolagents") and not fw.peer_available(config):
            notes.append(f"{config} is not installed: skipped (pip install -e '.[bench]').")
            continue
        task = {"task": "overhead", "framework": config, "sizes": spec["steps"],
                "repeats": {str(n): r for n, r in spec["repeats"].items()},
                "replay": config in ("agentkit", "agentkit-12"), "warmup": size != "smoke"}
        try:
            measured[config] = run_worker(task, timeout=900)
        except RuntimeError as e:  # one broken configuration must not hide the others
            notes.append(f"{config} failed: {str(e).strip().splitlines()[-1]}")
    rows: list[dict[str, Any]] = []
    for n in spec["steps"]:
        for config, by_size in measured.items():
            row = _summarize(config, n, by_size[str(n)])
            if config == "agentkit-memory" and "agentkit" in measured:
                # The same model calls as the agentkit row: measured once, there.
                replay = measured["agentkit"][str(n)]["replay"]
                row["model_client_ms"] = replay["cpu_s"] * 1000 / n
                row["fake_model_ms"] = replay["fake_model_cpu_s"] * 1000 / n
            if "model_client_ms" in row:
                row["litellm_ms"] = row["model_client_ms"] - row["fake_model_ms"]
                row["orchestration_ms"] = row["cpu_ms"] - row["model_client_ms"] - row["tool_ms"]
            rows.append(row)
    _add_ratios(rows)
    return {
        "name": "overhead",
        "title": "Framework overhead per executor round trip (model call + tool call)",
        "rows": rows,
        "tables": [_table(rows)],
        "targets": _targets(rows),
        "notes": notes + _notes(rows),
    }


def _add_ratios(rows: list[dict[str, Any]]) -> None:
    by = {(r["config"], r["steps"]): r for r in rows}
    for r in rows:
        ak = by.get(("agentkit", r["steps"]))
        chunked = by.get(("agentkit-12", r["steps"]))
        if r["config"].startswith("agentkit"):
            continue
        if ak:
            r["agentkit_ratio"] = ak["cpu_ms"] / r["cpu_ms"]
            r["agentkit_orchestration_ratio"] = ak["orchestration_ms"] / r["cpu_ms"]
        if chunked:
            r["agentkit_12_ratio"] = chunked["cpu_ms"] / r["cpu_ms"]


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _table(rows: list[dict[str, Any]]) -> dict[str, Any]:
    columns = ["steps", "configuration", "CPU ms/step", "model client", "of it LiteLLM",
               "of it fake model", "orchestration", "tool", "wall ms/step", "peak RSS MiB",
               "RSS growth MiB", "agentkit ÷ this", "agentkit 12 subtasks ÷ this",
               "agentkit orchestration ÷ this"]
    body = [
        [r["steps"], CONFIGS[r["config"]], _fmt(r["cpu_ms"]), _fmt(r.get("model_client_ms")),
         _fmt(r.get("litellm_ms")), _fmt(r.get("fake_model_ms")), _fmt(r.get("orchestration_ms")),
         _fmt(r["tool_ms"], 3), _fmt(r["wall_ms"]), _fmt(r["peak_rss_mib"], 0),
         _fmt(r["rss_growth_mib"], 1), _fmt(r.get("agentkit_ratio")),
         _fmt(r.get("agentkit_12_ratio")), _fmt(r.get("agentkit_orchestration_ratio"))]
        for r in rows
    ]
    return {"title": "CPU time per round trip (median of repeats; ms)", "columns": columns,
            "rows": body}


def _targets(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for config, target, what in (
        ("agentkit", TARGET_PERSISTED_MS, "orchestration, everything persisted"),
        ("agentkit-12", TARGET_PERSISTED_MS,
         "orchestration, everything persisted, 12 subtasks"),
        ("agentkit-memory", TARGET_MEMORY_MS,
         "orchestration without the checkpointer (run records still in SQLite)"),
    ):
        for r in (r for r in rows if r["config"] == config and "orchestration_ms" in r):
            out.append({
                "what": f"agentkit {what}, {r['steps']} steps",
                "target": f"≤ {target:g} ms/step",
                "measured": f"{r['orchestration_ms']:.2f} ms/step",
                "met": r["orchestration_ms"] <= target,
            })
    for config in ("agentkit", "agentkit-12"):
        ak = [r for r in rows if r["config"] == config and "orchestration_ms" in r]
        if len(ak) >= 2:
            growth = ak[-1]["orchestration_ms"] / max(ak[0]["orchestration_ms"], 1e-9)
            out.append({
                "what": f"{CONFIGS[config]}: orchestration flat from {ak[0]['steps']} to "
                        f"{ak[-1]['steps']} steps",
                "target": "≤ 1.25× growth", "measured": f"{growth:.2f}×", "met": growth <= 1.25,
            })
    return out


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    out = []
    for config in ("agentkit", "agentkit-12"):
        ak = [r for r in rows if r["config"] == config and "orchestration_ms" in r]
        if len(ak) < 2:
            continue
        first, last = ak[0], ak[-1]
        share = last["model_client_ms"] / last["cpu_ms"]
        out.append(
            f"{CONFIGS[config]}: CPU per step {first['cpu_ms']:.1f} ms at {first['steps']} steps, "
            f"{last['cpu_ms']:.1f} ms at {last['steps']}; agentkit's own orchestration "
            f"{first['orchestration_ms']:.1f} → {last['orchestration_ms']:.1f} ms; the model "
            f"client is {share:.0%} of the step at {last['steps']} steps "
            f"({last['model_client_ms']:.1f} ms: LiteLLM {last['litellm_ms']:.1f}, scripted "
            f"provider {last['fake_model_ms']:.1f})."
        )
    if out:
        out.append(
            "Where the model client's time goes (cProfile, 500 steps): LiteLLM still walks the "
            "history on every call (_remove_thought_signatures_from_messages, "
            "_process_assistant_message_tool_calls, the response metadata); its logging copy of "
            "the history is off (agentkit sets MAX_BASE64_LENGTH_FOR_LOGGING=0, as it registers "
            "no LiteLLM logging callback). The scripted provider's token count uses a per-message "
            "cache (agentkit/tokens.py), so only new messages are encoded."
        )
        out.append(
            "Where agentkit's own orchestration goes: each round trip commits three SQLite "
            "transactions (the model call row with its event, the tool_started event, the tool "
            "call row with its event); requests are stored as deltas of the previous call; "
            "events are numbered in memory; the context manager's counts are cached per "
            "message. The SQLite checkpointer itself costs little (compare the in-memory rows): "
            "the executor loop runs inside one graph node, and graph state holds ids."
        )
        out.append(
            "Orchestration is total CPU minus the replayed model client: a difference of two "
            "measurements that carries the noise of both (a few ms per step on this shared "
            "machine; the SQLite and in-memory checkpointer rows, which differ only by the "
            "checkpointer, show the spread). Repeated suite runs differed by up to 2× in the "
            "1-subtask orchestration figure at 500 steps; the totals and the 12-subtask rows "
            "were steadier."
        )
    for config in ("agentkit", "agentkit-12"):
        ak = [r for r in rows if r["config"] == config and "orchestration_ms" in r]
        peer = {r["steps"]: r for r in rows if r["config"] == "langgraph-sqlite"}
        if ak and ak[-1]["steps"] in peer:
            r = ak[-1]
            out.append(
                f"At {r['steps']} steps, {CONFIGS[config]} takes {r['cpu_ms']:.1f} ms of CPU "
                f"per step vs {peer[r['steps']]['cpu_ms']:.1f} ms for LangGraph ReAct with the "
                f"same checkpointer ({r['cpu_ms'] / peer[r['steps']]['cpu_ms']:.2f}×); without "
                f"the model client, agentkit's orchestration is {r['orchestration_ms']:.1f} ms. "
                "The LangGraph peer's fake chat model has no provider layer, so its total has "
                "no equivalent of LiteLLM's cost."
            )
    return out
