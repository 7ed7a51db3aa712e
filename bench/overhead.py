"""Framework overhead: CPU per executor round trip (one model call + one tool call).

Each framework runs N round trips with a zero-latency fake model of its own kind, in a fresh
interpreter per configuration (after a 3-step warm-up run in the same interpreter). agentkit's
step time is split into the model client (LiteLLM's own overhead plus the scripted provider),
measured by replaying the same N+2 calls through `agentkit.models._litellm.acompletion` in
isolation, the tool body, and agentkit's own orchestration (the rest).
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
    "full": {"steps": [50, 200, 500], "repeats": {50: 3, 200: 3, 500: 1}},
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
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    for n in spec["steps"]:
        client: dict[str, float] = {}
        for config in CONFIGS:
            if config in ("pydantic-ai", "smolagents") and not fw.peer_available(config):
                if n == spec["steps"][0]:
                    notes.append(f"{config} is not installed: skipped "
                                 "(pip install -e '.[bench]' adds it).")
                continue
            task = {"task": "overhead", "framework": config, "n": n,
                    "repeats": spec["repeats"][n], "replay": config in ("agentkit", "agentkit-12"),
                    "warmup": size != "smoke"}
            row = _summarize(config, n, run_worker(task, timeout=900))
            if config == "agentkit":
                client = {"model_client_ms": row["model_client_ms"],
                          "fake_model_ms": row["fake_model_ms"]}
            elif config == "agentkit-memory":
                row.update(client)  # the same calls: measured once, in the agentkit worker
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
        for r in (r for r in rows if r["config"] == config):
            out.append({
                "what": f"agentkit {what}, {r['steps']} steps",
                "target": f"≤ {target:g} ms/step",
                "measured": f"{r['orchestration_ms']:.2f} ms/step",
                "met": r["orchestration_ms"] <= target,
            })
    return out


def _notes(rows: list[dict[str, Any]]) -> list[str]:
    ak = [r for r in rows if r["config"] == "agentkit"]
    if len(ak) < 2:
        return []
    first, last = ak[0], ak[-1]
    share = last["model_client_ms"] / last["cpu_ms"]
    return [
        f"agentkit's CPU per step grows with run length: {first['cpu_ms']:.1f} ms at "
        f"{first['steps']} steps, {last['cpu_ms']:.1f} ms at {last['steps']}; its own "
        f"orchestration goes {first['orchestration_ms']:.1f} → {last['orchestration_ms']:.1f} ms.",
        f"The model client is {share:.0%} of agentkit's step at {last['steps']} steps "
        f"({last['model_client_ms']:.1f} ms: LiteLLM {last['litellm_ms']:.1f} ms, scripted "
        f"provider {last['fake_model_ms']:.1f} ms, mostly tiktoken counting the whole prompt).",
    ]
