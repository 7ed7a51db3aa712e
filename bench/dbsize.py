"""Database size after N tool steps: agentkit's run database (records + LangGraph checkpoints)
vs a raw LangGraph ReAct agent with the same AsyncSqliteSaver. Sizes are after a TRUNCATE WAL
checkpoint, counting the -wal and -shm files."""

from __future__ import annotations

from typing import Any

from bench._util import run_worker

SIZES = {"smoke": [5], "full": [100, 500, 1000]}
CONFIGS = {"agentkit": "agentkit (run db + checkpoints, one file)",
           "langgraph-sqlite": "LangGraph ReAct + AsyncSqliteSaver"}


def run(size: str = "full") -> dict[str, Any]:
    rows = []
    for n in SIZES[size]:
        for config in CONFIGS:
            task = {"task": "overhead", "framework": config, "n": n, "repeats": 1,
                    "warmup": False, "replay": False}
            r = run_worker(task, timeout=900)["runs"][0]
            rows.append({"config": config, "steps": n, "bytes": r["bytes"],
                         "bytes_before_checkpoint": r["bytes_before_checkpoint"],
                         "tool_calls": r["tool_calls"], "cpu_s": r["cpu_s"]})
    by = {(r["config"], r["steps"]): r for r in rows}
    for r in rows:
        peer = by[("langgraph-sqlite", r["steps"])]
        r["ratio"] = by[("agentkit", r["steps"])]["bytes"] / peer["bytes"]
    table = {
        "title": "SQLite file size after a WAL checkpoint",
        "columns": ["tool steps", "agentkit MiB", "LangGraph ReAct MiB", "agentkit ÷ LangGraph",
                    "agentkit KiB/step", "LangGraph KiB/step"],
        "rows": [
            [n, f"{by[('agentkit', n)]['bytes'] / 2**20:.2f}",
             f"{by[('langgraph-sqlite', n)]['bytes'] / 2**20:.2f}",
             f"{by[('agentkit', n)]['ratio']:.3f}",
             f"{by[('agentkit', n)]['bytes'] / n / 1024:.1f}",
             f"{by[('langgraph-sqlite', n)]['bytes'] / n / 1024:.1f}"]
            for n in SIZES[size]
        ],
    }
    return {"name": "dbsize", "title": "Database size after N tool steps", "rows": rows,
            "tables": [table], "targets": [], "notes": _notes(rows, SIZES[size])}


def _notes(rows: list[dict[str, Any]], sizes: list[int]) -> list[str]:
    if len(sizes) < 2:
        return []
    by = {(r["config"], r["steps"]): r["bytes"] for r in rows}
    lo, hi = sizes[0], sizes[-1]
    growth = {c: by[(c, hi)] / by[(c, lo)] for c in CONFIGS}
    return [
        f"From {lo} to {hi} steps ({hi / lo:.0f}× the steps) agentkit's file grows "
        f"{growth['agentkit']:.0f}× and LangGraph's {growth['langgraph-sqlite']:.0f}×: "
        "linear growth would be "
        f"{hi / lo:.0f}×. LangGraph's checkpoints store the whole message list at every step; "
        "agentkit's checkpoints hold ids, but its model_calls table stores each call's full "
        "request (all messages so far), so one long subtask still grows quadratically.",
    ]
