"""Database size after N tool steps: agentkit's run database (records + LangGraph checkpoints in
one file) vs a raw LangGraph ReAct agent with the same AsyncSqliteSaver, same scripted calls.
Sizes are after a TRUNCATE WAL checkpoint, counting the -wal and -shm files."""

from __future__ import annotations

from typing import Any

from bench._util import run_worker

SIZES = {"smoke": [5], "full": [100, 500, 1000]}
CONFIGS = {"agentkit": "agentkit, 1 subtask of N steps",
           "agentkit-12": "agentkit, N steps over 12 subtasks",
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
        r["ratio"] = r["bytes"] / by[("langgraph-sqlite", r["steps"])]["bytes"]
    mib = 2**20
    table = {
        "title": "SQLite file size after a WAL checkpoint (MiB; KiB per step in brackets)",
        "columns": ["tool steps", *CONFIGS.values(), "agentkit ÷ LangGraph",
                    "agentkit 12 subtasks ÷ LangGraph"],
        "rows": [
            [n, *[f"{by[(c, n)]['bytes'] / mib:.2f} ({by[(c, n)]['bytes'] / n / 1024:.0f})"
                  for c in CONFIGS],
             f"{by[('agentkit', n)]['ratio']:.3f}", f"{by[('agentkit-12', n)]['ratio']:.3f}"]
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
    growth = ", ".join(f"{CONFIGS[c]} {by[(c, hi)] / by[(c, lo)]:.0f}×" for c in CONFIGS)
    return [
        f"From {lo} to {hi} steps ({hi / lo:.0f}× the steps; linear growth would be "
        f"{hi / lo:.0f}×) the files grow: {growth}.",
        "LangGraph's checkpoints store the whole message list at every step. agentkit's "
        "checkpoints hold ids and small values, but its model_calls table stores each call's "
        "full request (every message so far), so one long subtask still grows quadratically; "
        "bounded subtasks keep each request, and so the file, small.",
    ]
